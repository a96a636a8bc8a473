//! Wallet attestation at the PAR endpoint (HAIP 1.0 §4.3, §4.4.1) and the token response's
//! `authorization_details` with credential identifiers (OpenID4VCI 1.0 §6.2, §8.2): the round
//! trips and each refusal with its error code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use schooltas_did::{Algorithm, Signer as _, SigningKey};
use schooltas_issuer::oid4vci::ClientAuthHeaders;
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{AuthorizationPolicy, ClaimsSource, Error, Issuer, OfferPolicy, WalletAttestationRequirement};
use schooltas_oid4vc::client_attestation::{
    ClientAttestationClaims, sign_client_attestation, sign_client_attestation_pop,
};
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{
    AuthorizationCodeTokenRequest, AuthorizationResponse, AuthorizedCredential, CredentialRequest, ErrorCode, Proofs,
    PushedAuthorizationRequest, pkce_challenge,
};
use schooltas_x509::{CertificateAuthority, Profile, Subject, TrustAnchors, Validity};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

const NOW: i64 = 1_800_000_000;
const AS: &str = "https://delinde.example";
const WALLET: &str = "https://wallet.example/schooltas";
const OTHER_WALLET: &str = "https://wallet.example/other-app";
const REDIRECT: &str = "nl.schooltas.wallet:/authorized";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PARENT: &str = "pupil-0417/parent";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("schooltas-issuer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pending authorizations in the file, read by another connection.
fn pending_rows(path: &Path) -> i64 {
    let raw = rusqlite::Connection::open(path).unwrap();
    raw.query_row("SELECT count(*) FROM pending_authorization", [], |row| row.get(0)).unwrap()
}

struct Provider {
    root: CertificateAuthority<SigningKey>,
    key: SigningKey,
    chain: Vec<Vec<u8>>,
}

fn provider() -> Provider {
    let root = CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Wallet BV", "Wallet BV Root").unwrap(),
        Validity::days_from(NOW - 86_400, 3650).unwrap(),
        Some(0),
        Profile::Haip,
    )
    .unwrap();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let chain = root
        .issue_wallet_provider_certificate(
            key.verifying_key(),
            "https://wallet.example",
            &Subject::new("Wallet BV", "Wallet BV attestations").unwrap(),
            Validity::days_from(NOW - 86_400, 365).unwrap(),
        )
        .unwrap()
        .chain()
        .certificates()
        .to_vec();
    Provider { root, key, chain }
}

/// One wallet installation: its attestation (for `client_id`) and instance key.
struct Installation {
    attestation: String,
    instance: SigningKey,
}

impl Provider {
    fn anchors(&self) -> TrustAnchors {
        TrustAnchors::from_der(vec![self.root.certificate_der().to_vec()]).unwrap()
    }

    fn install(&self, client_id: &str) -> Installation {
        let instance = SigningKey::generate(Algorithm::Es256).unwrap();
        let claims = ClientAttestationClaims::new(
            "https://wallet.example",
            client_id,
            NOW + 86_400,
            instance.verifying_key().clone(),
        );
        Installation { attestation: sign_client_attestation(&self.key, self.chain.clone(), &claims).unwrap(), instance }
    }
}

impl Installation {
    /// A fresh PoP (its own `jti`) for one request.
    fn pop(&self, jti: &str) -> String {
        sign_client_attestation_pop(&self.instance, AS, jti, NOW, None).unwrap()
    }
}

fn headers<'a>(attestation: &'a str, pop: &'a str) -> Option<ClientAuthHeaders<'a>> {
    Some(ClientAuthHeaders { attestation: Some(attestation), pop: Some(pop) })
}

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

fn attesting_issuer(store: SqliteStore, provider: &Provider) -> Issuer<SqliteStore> {
    common::school(store)
        .with_authorization_code_flow(AuthorizationPolicy::default())
        .with_wallet_attestation(WalletAttestationRequirement::new(provider.anchors()))
}

fn plain_issuer() -> Issuer<SqliteStore> {
    common::school(SqliteStore::in_memory().unwrap()).with_authorization_code_flow(AuthorizationPolicy::default())
}

fn par_request(client_id: &str) -> PushedAuthorizationRequest {
    PushedAuthorizationRequest::new(client_id, REDIRECT, pkce_challenge(VERIFIER))
        .with_scope("pupil_enrolment")
        .with_state("state-1")
}

/// The browser's visit and the portal's yes after a push: the code.
fn approve(issuer: &Issuer<SqliteStore>, client_id: &str, request_uri: &str) -> String {
    let start = issuer.authorization_endpoint(client_id, request_uri, NOW + 5).unwrap();
    let location = issuer.complete_authorization(&start.handle, PARENT, None, NOW + 10).unwrap();
    match AuthorizationResponse::from_redirect_url(location.as_str()).unwrap() {
        AuthorizationResponse::Code { code, .. } => code,
        other => panic!("not a code: {other:?}"),
    }
}

fn token_form(code: &str, client_id: &str) -> String {
    AuthorizationCodeTokenRequest {
        code: Zeroizing::new(code.to_owned()),
        redirect_uri: REDIRECT.into(),
        code_verifier: Zeroizing::new(VERIFIER.into()),
        client_id: client_id.into(),
    }
    .to_form()
}

/// A credential request with one proof, by configuration id or by credential identifier.
fn credential_body(issuer: &Issuer<SqliteStore>, config_id: Option<&str>, identifier: Option<&str>) -> String {
    let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let nonce = issuer.nonce_endpoint(&OfferPolicy::default(), NOW).unwrap().c_nonce;
    let proof = sign_proof(&holder, AS, Some(&nonce), NOW, None).unwrap();
    CredentialRequest {
        credential_configuration_id: config_id.map(str::to_owned),
        credential_identifier: identifier.map(str::to_owned),
        proofs: Some(Proofs { jwt: vec![proof], attestation: Vec::new() }),
    }
    .to_json()
}

#[test]
fn par_without_an_attestation_where_one_is_required_is_invalid_client_and_stores_nothing() {
    let dir = TempDir::new("par-no-attestation");
    let path = dir.0.join("issuer.db");
    let provider = provider();
    let issuer = attesting_issuer(SqliteStore::open(&path).unwrap(), &provider);
    let wallet = provider.install(WALLET);
    let form = par_request(WALLET).to_form();
    let pop = wallet.pop("p-1");
    for refused in [
        issuer.par_endpoint(&form, None, NOW).unwrap_err(),
        issuer.par_endpoint_with(&form, None, None, NOW).unwrap_err(),
        issuer
            .par_endpoint_with(
                &form,
                None,
                Some(ClientAuthHeaders { attestation: Some(&wallet.attestation), pop: None }),
                NOW,
            )
            .unwrap_err(),
        issuer
            .par_endpoint_with(&form, None, Some(ClientAuthHeaders { attestation: None, pop: Some(&pop) }), NOW)
            .unwrap_err(),
    ] {
        assert_eq!(refused.error, ErrorCode::InvalidClient);
        let description = refused.error_description.unwrap_or_default();
        assert!(description.contains("OAuth-Client-Attestation and OAuth-Client-Attestation-PoP"), "{description}");
    }
    assert_eq!(pending_rows(&path), 0);
    // A refused attestation is checked before the request is even read.
    let garbage = issuer.par_endpoint_with("not a form", None, None, NOW).unwrap_err();
    assert_eq!(garbage.error, ErrorCode::InvalidClient);
    // With the pair, the same request is taken.
    issuer.par_endpoint_with(&form, None, headers(&wallet.attestation, &pop), NOW).unwrap();
    assert_eq!(pending_rows(&path), 1);
}

#[test]
fn par_with_a_client_id_other_than_the_attestations_sub_is_invalid_client() {
    let dir = TempDir::new("par-client-id");
    let path = dir.0.join("issuer.db");
    let provider = provider();
    let issuer = attesting_issuer(SqliteStore::open(&path).unwrap(), &provider);
    let wallet = provider.install(WALLET);
    let refused = issuer
        .par_endpoint_with(
            &par_request(OTHER_WALLET).to_form(),
            None,
            headers(&wallet.attestation, &wallet.pop("a")),
            NOW,
        )
        .unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidClient);
    assert!(refused.error_description.unwrap_or_default().contains("client_id is not the attestation's sub"));
    assert_eq!(pending_rows(&path), 0);
}

#[test]
fn a_replayed_pop_at_par_is_invalid_client() {
    let provider = provider();
    let issuer = attesting_issuer(SqliteStore::in_memory().unwrap(), &provider);
    let wallet = provider.install(WALLET);
    let pop = wallet.pop("once");
    let form = par_request(WALLET).to_form();
    issuer.par_endpoint_with(&form, None, headers(&wallet.attestation, &pop), NOW).unwrap();
    let replayed = issuer.par_endpoint_with(&form, None, headers(&wallet.attestation, &pop), NOW + 1).unwrap_err();
    assert_eq!(replayed.error, ErrorCode::InvalidClient);
}

#[test]
fn the_whole_flow_authenticates_the_wallet_at_par_and_again_at_the_token_endpoint() {
    let provider = provider();
    let issuer = attesting_issuer(SqliteStore::in_memory().unwrap(), &provider);
    let policy = OfferPolicy::default();
    let wallet = provider.install(WALLET);
    let pushed = issuer
        .par_endpoint_with(&par_request(WALLET).to_form(), None, headers(&wallet.attestation, &wallet.pop("par")), NOW)
        .unwrap();
    let code = approve(&issuer, WALLET, &pushed.request_uri);
    let form = token_form(&code, WALLET);
    // The token request is authenticated too: without the pair it is refused, and the code is
    // not spent by the refusal.
    let refused = issuer.token_endpoint_with(&policy, &form, None, None, NOW + 11).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidClient);
    let token = issuer
        .token_endpoint_with(&policy, &form, None, headers(&wallet.attestation, &wallet.pop("token")), NOW + 11)
        .unwrap();
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.authorization_details, None, "a scope request gets no authorization_details");
    let response = issuer
        .credential_endpoint(
            &token.access_token,
            &credential_body(&issuer, Some("pupil_enrolment"), None),
            &administration(),
            NOW + 12,
        )
        .unwrap();
    assert_eq!(response.credentials.len(), 1);
}

#[test]
fn a_code_redeemed_by_another_attested_client_is_refused() {
    let provider = provider();
    let issuer = attesting_issuer(SqliteStore::in_memory().unwrap(), &provider);
    let policy = OfferPolicy::default();
    let wallet = provider.install(WALLET);
    let other = provider.install(OTHER_WALLET);
    let pushed = issuer
        .par_endpoint_with(&par_request(WALLET).to_form(), None, headers(&wallet.attestation, &wallet.pop("par")), NOW)
        .unwrap();
    let code = approve(&issuer, WALLET, &pushed.request_uri);
    // The other app, attested as itself, names itself: the code is not its own.
    let refused = issuer
        .token_endpoint_with(
            &policy,
            &token_form(&code, OTHER_WALLET),
            None,
            headers(&other.attestation, &other.pop("t-1")),
            NOW + 11,
        )
        .unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidGrant);
    assert!(refused.error_description.unwrap_or_default().contains("issued to another client_id"));
    // The other app naming the code's client: its attestation's sub is not that client.
    let refused = issuer
        .token_endpoint_with(
            &policy,
            &token_form(&code, WALLET),
            None,
            headers(&other.attestation, &other.pop("t-2")),
            NOW + 11,
        )
        .unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidClient);
    // The code is still the wallet's.
    assert!(
        issuer
            .token_endpoint_with(
                &policy,
                &token_form(&code, WALLET),
                None,
                headers(&wallet.attestation, &wallet.pop("t-3")),
                NOW + 11
            )
            .is_ok()
    );
}

#[test]
fn authorization_details_come_back_with_identifiers_and_the_credential_is_asked_for_by_identifier() {
    let issuer = plain_issuer();
    let policy = OfferPolicy::default();
    let request = PushedAuthorizationRequest::new(WALLET, REDIRECT, pkce_challenge(VERIFIER))
        .with_configuration("pupil_enrolment")
        .with_state("s");
    let pushed = issuer.par_endpoint(&request.to_form(), None, NOW).unwrap();
    let code = approve(&issuer, WALLET, &pushed.request_uri);
    let token = issuer.token_endpoint(&policy, &token_form(&code, WALLET), NOW + 11).unwrap();
    assert_eq!(
        token.authorization_details,
        Some(vec![AuthorizedCredential::new("pupil_enrolment", vec!["pupil_enrolment".into()])])
    );
    let json: Value = serde_json::from_str(&token.to_json()).unwrap();
    assert_eq!(
        json["authorization_details"],
        json!([{"type": "openid_credential", "credential_configuration_id": "pupil_enrolment",
            "credential_identifiers": ["pupil_enrolment"]}])
    );
    let access = &token.access_token;
    // An identifier the token response did not give.
    let unknown = issuer
        .credential_endpoint(
            access,
            &credential_body(&issuer, None, Some("school_advice")),
            &administration(),
            NOW + 12,
        )
        .unwrap_err();
    assert_eq!(unknown.error, ErrorCode::UnknownCredentialIdentifier);
    // §8.2: with identifiers, the configuration id is not the way to ask.
    let by_config = issuer
        .credential_endpoint(
            access,
            &credential_body(&issuer, Some("pupil_enrolment"), None),
            &administration(),
            NOW + 12,
        )
        .unwrap_err();
    assert_eq!(by_config.error, ErrorCode::InvalidCredentialRequest);
    // Neither refusal spent the token.
    let response = issuer
        .credential_endpoint(
            access,
            &credential_body(&issuer, None, Some("pupil_enrolment")),
            &administration(),
            NOW + 12,
        )
        .unwrap();
    assert_eq!(response.credentials.len(), 1);
}

#[test]
fn a_scope_only_grant_given_a_credential_identifier_is_unknown_credential_identifier() {
    let issuer = plain_issuer();
    let policy = OfferPolicy::default();
    let pushed = issuer.par_endpoint(&par_request(WALLET).to_form(), None, NOW).unwrap();
    let code = approve(&issuer, WALLET, &pushed.request_uri);
    let token = issuer.token_endpoint(&policy, &token_form(&code, WALLET), NOW + 11).unwrap();
    assert_eq!(token.authorization_details, None);
    let refused = issuer
        .credential_endpoint(
            &token.access_token,
            &credential_body(&issuer, None, Some("pupil_enrolment")),
            &administration(),
            NOW + 12,
        )
        .unwrap_err();
    assert_eq!(refused.error, ErrorCode::UnknownCredentialIdentifier);
    // The scope grant keeps working by configuration id.
    let response = issuer
        .credential_endpoint(
            &token.access_token,
            &credential_body(&issuer, Some("pupil_enrolment"), None),
            &administration(),
            NOW + 12,
        )
        .unwrap();
    assert_eq!(response.credentials.len(), 1);
}

#[test]
fn a_pre_authorized_token_has_no_credential_identifiers() {
    let issuer = plain_issuer();
    let policy = OfferPolicy::default();
    let (_, secrets) = issuer.offer(&policy, "pupil-17", &["pupil_enrolment".to_owned()], NOW).unwrap();
    let body = schooltas_oid4vc::oid4vci::TokenRequest {
        pre_authorized_code: secrets.code.to_string(),
        tx_code: secrets.pin.as_ref().map(|pin| pin.to_string()),
    }
    .to_form();
    let token = issuer.token_endpoint(&policy, &body, NOW).unwrap();
    assert_eq!(token.authorization_details, None);
    let refused = issuer
        .credential_endpoint(
            &token.access_token,
            &credential_body(&issuer, None, Some("pupil_enrolment")),
            &administration(),
            NOW + 1,
        )
        .unwrap_err();
    assert_eq!(refused.error, ErrorCode::UnknownCredentialIdentifier);
}
