//! DPoP-bound access tokens (RFC 9449, HAIP 1.0) at the token and credential endpoints: the
//! round trip, and each refusal with its error code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use schooltas_did::{Algorithm, SigningKey};
use schooltas_issuer::oid4vci::{DpopContext, TokenScheme};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{ClaimsSource, DpopRequirement, Error, Issuer, OfferPolicy};
use schooltas_oid4vc::dpop::sign_dpop_proof;
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{CredentialOfferUri, CredentialRequest, ErrorCode, TokenRequest};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;
const TOKEN_URL: &str = "https://delinde.example/oid4vci/token";
const CREDENTIAL_URL: &str = "https://delinde.example/oid4vci/credential";

fn administration() -> impl ClaimsSource {
    |_: &str, _: &str| -> Result<Map<String, Value>, Error> {
        Ok(json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
            "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
            "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
        .as_object()
        .cloned()
        .unwrap())
    }
}

fn issuer(requirement: DpopRequirement) -> Issuer<SqliteStore> {
    common::school(SqliteStore::in_memory().unwrap()).with_dpop(requirement)
}

/// A token request body for a fresh offer.
fn token_body(issuer: &Issuer<SqliteStore>) -> String {
    let (offer, secrets) =
        issuer.offer(&OfferPolicy::default(), "pupil-17", &["pupil_enrolment".to_owned()], NOW).unwrap();
    let CredentialOfferUri::ByValue(offer) = CredentialOfferUri::parse(&offer.to_uri().unwrap()).unwrap() else {
        panic!()
    };
    let grant = offer.pre_authorized_grant().unwrap();
    TokenRequest {
        pre_authorized_code: grant.pre_authorized_code.clone(),
        tx_code: Some(secrets.pin.as_ref().unwrap().to_string()),
    }
    .to_form()
}

fn at<'a>(proof: Option<&'a str>, url: &'static str) -> Option<DpopContext<'a>> {
    Some(DpopContext { proof, url })
}

fn credential_body(issuer: &Issuer<SqliteStore>) -> String {
    let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let nonce = issuer.nonce_endpoint(&OfferPolicy::default(), NOW).unwrap().c_nonce;
    let proof = sign_proof(&holder, "https://delinde.example", Some(&nonce), NOW, None).unwrap();
    CredentialRequest::new("pupil_enrolment".to_owned(), vec![proof]).to_json()
}

#[test]
fn a_dpop_bound_token_fetches_credentials_only_with_its_key() {
    let issuer = issuer(DpopRequirement::haip());
    let metadata = issuer.authorization_server_metadata();
    assert!(!metadata.dpop_signing_alg_values_supported.is_empty());
    let policy = OfferPolicy::default();
    let dpop_key = SigningKey::generate(Algorithm::Es256).unwrap();

    // First try without the nonce: use_dpop_nonce, and the code is not spent.
    let body = token_body(&issuer);
    let bare = sign_dpop_proof(&dpop_key, "POST", TOKEN_URL, None, None, NOW).unwrap();
    let refused = issuer.token_endpoint_with_dpop(&policy, &body, at(Some(&bare), TOKEN_URL), NOW).unwrap_err();
    assert_eq!(refused.error, ErrorCode::UseDpopNonce);
    let nonce = issuer.dpop_nonce(NOW).unwrap();
    let proof = sign_dpop_proof(&dpop_key, "POST", TOKEN_URL, None, Some(&nonce), NOW).unwrap();
    let token = issuer.token_endpoint_with_dpop(&policy, &body, at(Some(&proof), TOKEN_URL), NOW).unwrap();
    assert_eq!(token.token_type, "DPoP");

    // The stolen token without the key: as Bearer, with no proof, with another key's proof.
    let access = token.access_token.as_str();
    let cred = credential_body(&issuer);
    let as_bearer = issuer
        .credential_endpoint_with_dpop(access, TokenScheme::Bearer, None, &cred, &administration(), NOW)
        .unwrap_err();
    assert_eq!(as_bearer.error, ErrorCode::InvalidToken);
    let no_proof = issuer
        .credential_endpoint_with_dpop(
            access,
            TokenScheme::Dpop,
            at(None, CREDENTIAL_URL),
            &cred,
            &administration(),
            NOW,
        )
        .unwrap_err();
    assert_eq!(no_proof.error, ErrorCode::InvalidDpopProof);
    let thief = SigningKey::generate(Algorithm::Es256).unwrap();
    let thiefs = sign_dpop_proof(&thief, "POST", CREDENTIAL_URL, Some(access), Some(&nonce), NOW).unwrap();
    let other_key = issuer
        .credential_endpoint_with_dpop(
            access,
            TokenScheme::Dpop,
            at(Some(&thiefs), CREDENTIAL_URL),
            &cred,
            &administration(),
            NOW,
        )
        .unwrap_err();
    assert_eq!(other_key.error, ErrorCode::InvalidToken);
    // The token endpoint's proof replayed at the credential endpoint: wrong htu and no ath.
    let replayed = issuer
        .credential_endpoint_with_dpop(
            access,
            TokenScheme::Dpop,
            at(Some(&proof), CREDENTIAL_URL),
            &cred,
            &administration(),
            NOW,
        )
        .unwrap_err();
    assert_eq!(replayed.error, ErrorCode::InvalidDpopProof);

    // With its key: a proof is used once, even when its request failed for another reason.
    let dpop = |proof: &str, body: &str| {
        issuer.credential_endpoint_with_dpop(
            access,
            TokenScheme::Dpop,
            Some(DpopContext { proof: Some(proof), url: CREDENTIAL_URL }),
            body,
            &administration(),
            NOW,
        )
    };
    let first = sign_dpop_proof(&dpop_key, "POST", CREDENTIAL_URL, Some(access), Some(&nonce), NOW).unwrap();
    assert_eq!(dpop(&first, "{}").unwrap_err().error, ErrorCode::InvalidCredentialRequest);
    assert_eq!(dpop(&first, &cred).unwrap_err().error, ErrorCode::InvalidDpopProof, "the proof was used");
    let good = sign_dpop_proof(&dpop_key, "POST", CREDENTIAL_URL, Some(access), Some(&nonce), NOW).unwrap();
    assert_eq!(dpop(&good, &cred).unwrap().credentials.len(), 1);
    // The token is spent now (its one configuration fetched).
    let next = sign_dpop_proof(&dpop_key, "POST", CREDENTIAL_URL, Some(access), Some(&nonce), NOW).unwrap();
    assert_eq!(dpop(&next, &credential_body(&issuer)).unwrap_err().error, ErrorCode::InvalidToken);
}

#[test]
fn an_issuer_that_requires_dpop_refuses_a_token_request_without_a_proof_and_keeps_the_code() {
    let issuer = issuer(DpopRequirement::haip());
    let policy = OfferPolicy::default();
    let body = token_body(&issuer);
    let refused = issuer.token_endpoint_with_dpop(&policy, &body, at(None, TOKEN_URL), NOW).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidDpopProof);
    assert_eq!(issuer.token_endpoint(&policy, &body, NOW).unwrap_err().error, ErrorCode::InvalidDpopProof);
    // A proof for another URL: refused, and still the code is not spent.
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let nonce = issuer.dpop_nonce(NOW).unwrap();
    let elsewhere = sign_dpop_proof(&key, "POST", CREDENTIAL_URL, None, Some(&nonce), NOW).unwrap();
    let refused = issuer.token_endpoint_with_dpop(&policy, &body, at(Some(&elsewhere), TOKEN_URL), NOW).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidDpopProof);
    let proof = sign_dpop_proof(&key, "POST", TOKEN_URL, None, Some(&nonce), NOW).unwrap();
    assert_eq!(
        issuer.token_endpoint_with_dpop(&policy, &body, at(Some(&proof), TOKEN_URL), NOW).unwrap().token_type,
        "DPoP"
    );
}

#[test]
fn with_optional_dpop_a_bearer_token_still_works_but_not_presented_as_dpop() {
    let issuer = issuer(DpopRequirement::optional());
    let policy = OfferPolicy::default();
    assert!(issuer.dpop_nonce(NOW).is_none());
    let token = issuer.token_endpoint_with_dpop(&policy, &token_body(&issuer), at(None, TOKEN_URL), NOW).unwrap();
    assert_eq!(token.token_type, "Bearer");
    let access = token.access_token.as_str();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let proof = sign_dpop_proof(&key, "POST", CREDENTIAL_URL, Some(access), None, NOW).unwrap();
    let as_dpop = issuer
        .credential_endpoint_with_dpop(
            access,
            TokenScheme::Dpop,
            at(Some(&proof), CREDENTIAL_URL),
            &credential_body(&issuer),
            &administration(),
            NOW,
        )
        .unwrap_err();
    assert_eq!(as_dpop.error, ErrorCode::InvalidToken);
    let issued = issuer
        .credential_endpoint_with_dpop(
            access,
            TokenScheme::Bearer,
            None,
            &credential_body(&issuer),
            &administration(),
            NOW,
        )
        .unwrap();
    assert_eq!(issued.credentials.len(), 1);

    // An issuer without DPoP advertises none.
    assert!(
        common::school(SqliteStore::in_memory().unwrap())
            .authorization_server_metadata()
            .dpop_signing_alg_values_supported
            .is_empty()
    );
}
