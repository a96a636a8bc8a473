//! OpenID4VCI pre-authorized code flow, offer to stored credential, against a wallet-side
//! client written from the spec's messages; and every endpoint's refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{ClaimsSource, Error, Issuer, OfferPolicy};
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{
    CredentialIssuerMetadata, CredentialOfferUri, CredentialRequest, CredentialResponse, ErrorCode, NonceResponse,
    Oid4vciError, TokenRequest, TokenResponse,
};
use schooltas_school::catalog::Catalog;
use schooltas_status_list::{InMemoryStatusLists, StatusListCache};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;
const ISSUER_URL: &str = "https://delinde.example";

fn issuer() -> Issuer<SqliteStore> {
    common::school(SqliteStore::in_memory().unwrap()).with_max_batch(4)
}

/// The school's administration: the claims of pupil-17.
fn administration() -> impl ClaimsSource {
    |subject: &str, config_id: &str| -> Result<Map<String, Value>, Error> {
        assert_eq!(subject, "pupil-17");
        let claims = match config_id {
            "pupil_enrolment" => json!({"school_name": "Basisschool De Linde", "school_brin": "12AB",
                "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
                "family_name": "de Vries", "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false}),
            "school_advice" => json!({"school_name": "Basisschool De Linde", "school_brin": "12AB",
                "advice": ["havo"], "advice_date": "2027-01-31", "adjusted_after_final_test": false}),
            _ => json!({"unexpected": true}),
        };
        Ok(claims.as_object().cloned().unwrap())
    }
}

fn offered(issuer: &Issuer<SqliteStore>, ids: &[&str]) -> (String, String) {
    let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    let (offer, secrets) = issuer.offer(&OfferPolicy::default(), "pupil-17", &ids, NOW).unwrap();
    (offer.to_uri().unwrap(), secrets.pin.as_ref().unwrap().to_string())
}

/// The wallet's side, step by step, through JSON and form bodies only.
fn wallet_receives(
    issuer: &Issuer<SqliteStore>,
    offer_uri: &str,
    pin: &str,
    copies: usize,
) -> Vec<(SigningKey, String)> {
    let CredentialOfferUri::ByValue(offer) = CredentialOfferUri::parse(offer_uri).unwrap() else { panic!() };
    let metadata = CredentialIssuerMetadata::from_json(&issuer.metadata().to_json()).unwrap();
    metadata.check_issuer(&offer.credential_issuer).unwrap();
    let config_id = &offer.credential_configuration_ids[0];
    assert!(metadata.credential_configurations_supported.contains_key(config_id));
    let grant = offer.pre_authorized_grant().unwrap();
    assert_eq!(grant.tx_code.as_ref().unwrap().length, Some(6));

    let token_body = TokenRequest { pre_authorized_code: grant.pre_authorized_code.clone(), tx_code: Some(pin.into()) };
    let token = issuer.token_endpoint(&OfferPolicy::default(), &token_body.to_form(), NOW + 5).unwrap();
    let token = TokenResponse::from_json(&token.to_json()).unwrap();
    let nonce: NonceResponse = serde_json::from_str(
        &serde_json::to_string(&issuer.nonce_endpoint(&OfferPolicy::default(), NOW + 6).unwrap()).unwrap(),
    )
    .unwrap();

    let keys: Vec<SigningKey> = (0..copies).map(|_| SigningKey::generate(Algorithm::EdDsa).unwrap()).collect();
    let proofs = keys
        .iter()
        .map(|key| sign_proof(key, &offer.credential_issuer, Some(&nonce.c_nonce), NOW + 7, None).unwrap())
        .collect();
    let request = CredentialRequest::new(config_id.clone(), proofs);
    let response =
        issuer.credential_endpoint(&token.access_token, &request.to_json(), &administration(), NOW + 8).unwrap();
    let response = CredentialResponse::from_json(&response.to_json()).unwrap();
    keys.into_iter().zip(response.credentials.into_iter().map(|c| c.credential)).collect()
}

/// The wallet checks each credential before storing it: issuer signature through the
/// school's DID document, bound to the key it proved, a known type, status VALID.
fn wallet_checks(issuer: &Issuer<SqliteStore>, key: &SigningKey, credential: &str) -> Value {
    // As issued: the issuer-signed JWT with every disclosure, no key binding.
    let verified = common::verify_via_did_document(issuer, credential, NOW + 10);
    assert_eq!(verified.holder_key(), Some(key.verifying_key()));
    let vct = schooltas_sd_jwt::Vct::new(verified.vct().unwrap()).unwrap();
    assert!(Catalog::standard().by_vct(&vct).is_some());
    let lists = InMemoryStatusLists::new();
    for (uri, token) in issuer.status_list_tokens(NOW + 10).unwrap() {
        lists.publish(uri, token);
    }
    if let Some(reference) = verified.status_reference().unwrap() {
        StatusListCache::new(lists)
            .check(&reference, issuer.profile().keys().signer().verifying_key(), NOW + 10)
            .unwrap();
    }
    Value::Object(verified.claims().clone())
}

#[test]
fn offer_to_stored_batch() {
    let issuer = issuer();
    let (uri, pin) = offered(&issuer, &["pupil_enrolment"]);
    let received = wallet_receives(&issuer, &uri, &pin, 3);
    assert_eq!(received.len(), 3);
    let mut stored = Vec::new();
    for (key, credential) in &received {
        let claims = wallet_checks(&issuer, key, credential);
        assert_eq!(claims["given_name"], "Sanne");
        stored.push(credential.clone());
    }
    let held = issuer.credentials_of("pupil-17").unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].copies, 3);
}

#[test]
fn metadata_lists_every_catalog_type_with_display() {
    let metadata = issuer().metadata();
    assert_eq!(metadata.credential_endpoint, "https://delinde.example/credential");
    assert_eq!(metadata.nonce_endpoint.as_deref(), Some("https://delinde.example/nonce"));
    assert_eq!(metadata.batch_credential_issuance.unwrap().batch_size, 4);
    let enrolment = &metadata.credential_configurations_supported["pupil_enrolment"];
    assert_eq!(enrolment.format, "dc+sd-jwt");
    assert_eq!(enrolment.credential_signing_alg_values_supported, ["EdDSA"]);
    assert_eq!(enrolment.credential_metadata.as_ref().unwrap()["display"][0]["locale"], "nl-NL");
    assert_eq!(metadata.credential_configurations_supported.len(), Catalog::standard().iter().count());
    // HAIP 1.0 §4.1: a scope for every configuration.
    for (id, configuration) in &metadata.credential_configurations_supported {
        assert_eq!(configuration.scope.as_deref(), Some(id.as_str()));
    }
    let error = metadata.check_issuer("https://other.example").unwrap_err();
    assert!(
        matches!(
            &error,
            schooltas_oid4vc::Error::Oid4vci(Oid4vciError::Invalid { message: "issuer metadata", reason })
                if reason.contains("credential_issuer")
        ),
        "{error}"
    );
}

fn token(issuer: &Issuer<SqliteStore>, ids: &[&str]) -> (String, String) {
    let (uri, pin) = offered(issuer, ids);
    let CredentialOfferUri::ByValue(offer) = CredentialOfferUri::parse(&uri).unwrap() else { panic!() };
    let code = offer.pre_authorized_grant().unwrap().pre_authorized_code.clone();
    let body = TokenRequest { pre_authorized_code: code, tx_code: Some(pin) }.to_form();
    let token = issuer.token_endpoint(&OfferPolicy::default(), &body, NOW).unwrap();
    let nonce = issuer.nonce_endpoint(&OfferPolicy::default(), NOW).unwrap().c_nonce;
    (token.access_token, nonce)
}

fn request(issuer: &Issuer<SqliteStore>, access_token: &str, body: &str) -> ErrorCode {
    issuer.credential_endpoint(access_token, body, &administration(), NOW + 1).unwrap_err().error
}

#[test]
fn the_token_endpoint_refuses_wrong_pins_reuse_and_other_grants() {
    let issuer = issuer();
    let (uri, pin) = offered(&issuer, &["pupil_enrolment"]);
    let CredentialOfferUri::ByValue(offer) = CredentialOfferUri::parse(&uri).unwrap() else { panic!() };
    let code = offer.pre_authorized_grant().unwrap().pre_authorized_code.clone();
    let policy = OfferPolicy::default();
    let wrong = if pin == "123456" { "654321" } else { "123456" };
    let attempt = |tx_code: Option<&str>| {
        let body = TokenRequest { pre_authorized_code: code.clone(), tx_code: tx_code.map(str::to_owned) }.to_form();
        issuer.token_endpoint(&policy, &body, NOW)
    };
    assert_eq!(attempt(Some(wrong)).unwrap_err().error, ErrorCode::InvalidGrant);
    assert_eq!(attempt(None).unwrap_err().error, ErrorCode::InvalidRequest);
    attempt(Some(&pin)).unwrap();
    let reused = attempt(Some(&pin)).unwrap_err();
    assert_eq!(reused.error, ErrorCode::InvalidGrant);
    assert!(reused.to_string().contains("already used"));
    let other = issuer.token_endpoint(&policy, "grant_type=authorization_code&code=x", NOW).unwrap_err();
    assert_eq!(other.error, ErrorCode::UnsupportedGrantType);
    let repeated = format!("{}&tx_code=1", TokenRequest { pre_authorized_code: code, tx_code: Some(pin) }.to_form());
    assert_eq!(issuer.token_endpoint(&policy, &repeated, NOW).unwrap_err().error, ErrorCode::InvalidRequest);
}

#[test]
fn the_credential_endpoint_refuses_bad_tokens_requests_proofs_and_nonces() {
    let issuer = issuer();
    let (access_token, nonce) = token(&issuer, &["pupil_enrolment"]);
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let proof = |aud: &str, nonce: Option<&str>, iat: i64| sign_proof(&key, aud, nonce, iat, None).unwrap();
    let body = |config: &str, proofs: Vec<String>| CredentialRequest::new(config, proofs).to_json();

    assert_eq!(request(&issuer, "not-a-token", &body("pupil_enrolment", vec![])), ErrorCode::InvalidToken);
    assert_eq!(request(&issuer, &access_token, &body("pupil_enrolment", vec![])), ErrorCode::InvalidCredentialRequest);
    let good = proof(ISSUER_URL, Some(&nonce), NOW);
    assert_eq!(
        request(&issuer, &access_token, &body("school_advice", vec![good.clone()])),
        ErrorCode::UnknownCredentialConfiguration,
        "not offered with this token"
    );
    let by_identifier = json!({"credential_identifier": "x", "proofs": {"jwt": [good.clone()]}}).to_string();
    assert_eq!(request(&issuer, &access_token, &by_identifier), ErrorCode::UnknownCredentialIdentifier);
    let singular =
        json!({"credential_configuration_id": "pupil_enrolment", "proof": {"proof_type": "jwt", "jwt": good}});
    assert_eq!(request(&issuer, &access_token, &singular.to_string()), ErrorCode::InvalidCredentialRequest);
    let other_audience = proof("https://elsewhere.example", Some(&nonce), NOW);
    assert_eq!(
        request(&issuer, &access_token, &body("pupil_enrolment", vec![other_audience])),
        ErrorCode::InvalidProof
    );
    let stale = proof(ISSUER_URL, Some(&nonce), NOW - 3600);
    assert_eq!(request(&issuer, &access_token, &body("pupil_enrolment", vec![stale])), ErrorCode::InvalidProof);
    let no_nonce = proof(ISSUER_URL, None, NOW);
    assert_eq!(request(&issuer, &access_token, &body("pupil_enrolment", vec![no_nonce])), ErrorCode::InvalidProof);
    let made_up = proof(ISSUER_URL, Some("made-up"), NOW);
    assert_eq!(request(&issuer, &access_token, &body("pupil_enrolment", vec![made_up])), ErrorCode::InvalidNonce);
    let twice = vec![good.clone(), good.clone()];
    assert_eq!(request(&issuer, &access_token, &body("pupil_enrolment", twice)), ErrorCode::InvalidProof);
    let five: Vec<String> = (0..5).map(|_| good.clone()).collect();
    assert_eq!(request(&issuer, &access_token, &body("pupil_enrolment", five)), ErrorCode::InvalidCredentialRequest);
    // The good request works once; the token is then used up (and so is the nonce).
    issuer
        .credential_endpoint(&access_token, &body("pupil_enrolment", vec![good.clone()]), &administration(), NOW + 1)
        .unwrap();
    assert_eq!(request(&issuer, &access_token, &body("pupil_enrolment", vec![good])), ErrorCode::InvalidToken);
}

#[test]
fn records_that_make_no_valid_credential_are_denied() {
    let issuer = issuer();
    let (access_token, nonce) = token(&issuer, &["achievement"]);
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let body =
        CredentialRequest::new("achievement", vec![sign_proof(&key, ISSUER_URL, Some(&nonce), NOW, None).unwrap()]);
    let error = issuer.credential_endpoint(&access_token, &body.to_json(), &administration(), NOW).unwrap_err();
    assert_eq!(error.error, ErrorCode::CredentialRequestDenied);
    assert!(!error.to_string().contains("true"), "no claim values in the answer: {error}");
}

/// The EU profile (HAIP 1.0): an issuer named by its `https` identifier asks for ES256 holder
/// keys in its metadata and refuses a proof by any other key, with `invalid_proof`.
#[test]
fn an_eu_profile_issuer_takes_es256_holder_keys_only() {
    let mut issuer = issuer();
    let profile = issuer.profile_mut();
    assert!(matches!(
        profile.clone().with_https_identity(),
        Err(Error::InvalidProfile { reason }) if reason.contains("ES256")
    ));
    profile.rotate_key("key-p256", SigningKey::generate(Algorithm::Es256).unwrap()).unwrap();
    *profile = profile.clone().with_https_identity().unwrap();
    assert!(matches!(
        profile.rotate_key("key-ed", SigningKey::generate(Algorithm::EdDsa).unwrap()),
        Err(Error::InvalidProfile { reason }) if reason.contains("P-256")
    ));
    let metadata = issuer.metadata();
    let jwt = &metadata.credential_configurations_supported["pupil_enrolment"].proof_types_supported["jwt"];
    assert_eq!(jwt.proof_signing_alg_values_supported, ["ES256"]);

    let (access_token, nonce) = token(&issuer, &["pupil_enrolment"]);
    let proof = |key: &SigningKey| sign_proof(key, ISSUER_URL, Some(&nonce), NOW, None).unwrap();
    let ed25519 = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let body = CredentialRequest::new("pupil_enrolment".to_owned(), vec![proof(&ed25519)]).to_json();
    let refused = issuer.credential_endpoint(&access_token, &body, &administration(), NOW + 1).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidProof);
    assert!(refused.error_description.as_deref().unwrap_or_default().contains("ES256"));

    let p256 = SigningKey::generate(Algorithm::Es256).unwrap();
    let body = CredentialRequest::new("pupil_enrolment".to_owned(), vec![proof(&p256)]).to_json();
    let issued = issuer.credential_endpoint(&access_token, &body, &administration(), NOW + 1).unwrap();
    let credential = &CredentialResponse::from_json(&issued.to_json()).unwrap().credentials[0].credential;
    let header = schooltas_sd_jwt::UnverifiedSdJwt::parse(credential).unwrap().issuer_header().clone();
    assert_eq!(header.kid(), Some("key-p256"), "the bare key id of the JWT VC Issuer Metadata");
    let payload = schooltas_sd_jwt::UnverifiedSdJwt::parse(credential)
        .unwrap()
        .verify(
            issuer.profile().keys().signer().verifying_key(),
            &schooltas_sd_jwt::VerifyOptions::sd_jwt_vc_as_issued(),
            NOW + 2,
        )
        .unwrap();
    assert_eq!(payload.issuer(), Some(ISSUER_URL));
    assert_eq!(payload.holder_key(), Some(p256.verifying_key()));
}

/// Key attestations (OpenID4VCI 1.0 Appendix D, HAIP 1.0 §4.5.1): an issuer that requires
/// them says so in its metadata, takes a `jwt` proof carrying an attestation by a trusted
/// wallet provider with its c_nonce, or the `attestation` proof type for a batch, and refuses
/// every other combination with `invalid_proof` naming why.
#[test]
fn key_attestations_are_required_checked_and_bound_to_every_key() {
    use schooltas_did::jws::Header;
    use schooltas_issuer::oid4vci::KeyAttestationRequirement;
    use schooltas_oid4vc::oid4vci::key_attestation::KeyAttestation;
    use schooltas_oid4vc::oid4vci::proof::sign_proof_with_key_attestation;

    let provider = SigningKey::generate(Algorithm::Es256).unwrap();
    let provider_key = provider.verifying_key().clone();
    let requirement = KeyAttestationRequirement::new(move |header| match header.kid() {
        Some("wallet-provider-1") => Ok(provider_key.clone()),
        _ => Err("unknown wallet provider".into()),
    })
    .key_storage(["iso_18045_high", "iso_18045_moderate"]);
    let issuer = issuer().with_key_attestations(requirement);
    let metadata = issuer.metadata();
    let types = &metadata.credential_configurations_supported["pupil_enrolment"].proof_types_supported;
    assert_eq!(
        types["jwt"].key_attestations_required.as_ref().unwrap().key_storage,
        ["iso_18045_high", "iso_18045_moderate"]
    );
    assert!(types.contains_key("attestation"));

    let refused = |access_token: &str, body: String| {
        issuer.credential_endpoint(access_token, &body, &administration(), NOW + 1).unwrap_err()
    };
    let attest = |keys: Vec<schooltas_did::VerifyingKey>, nonce: &str, level: &str, by: &SigningKey, kid: &str| {
        KeyAttestation::new(keys, NOW)
            .expires_at(NOW + 86_400)
            .key_storage([level])
            .nonce(nonce)
            .sign(by, Header::new().with_kid(kid))
            .unwrap()
    };

    // A jwt proof with an attestation of its key: issued.
    let (access_token, nonce) = token(&issuer, &["pupil_enrolment"]);
    let holder = SigningKey::generate(Algorithm::Es256).unwrap();
    let ka = attest(vec![holder.verifying_key().clone()], &nonce, "iso_18045_high", &provider, "wallet-provider-1");
    let proof = sign_proof_with_key_attestation(&holder, ISSUER_URL, Some(&nonce), NOW, &ka).unwrap();
    let body = CredentialRequest::new("pupil_enrolment".to_owned(), vec![proof]).to_json();
    issuer.credential_endpoint(&access_token, &body, &administration(), NOW + 1).unwrap();

    // Refusals, each before anything is issued.
    let (access_token, nonce) = token(&issuer, &["pupil_enrolment"]);
    let holder = SigningKey::generate(Algorithm::Es256).unwrap();
    let cases: Vec<(String, &str)> = vec![
        // No attestation at all.
        (sign_proof(&holder, ISSUER_URL, Some(&nonce), NOW, None).unwrap(), "requires a key attestation"),
        // An attestation by an unknown provider, or forged with another key under its kid.
        (
            sign_proof_with_key_attestation(
                &holder,
                ISSUER_URL,
                Some(&nonce),
                NOW,
                &attest(vec![holder.verifying_key().clone()], &nonce, "iso_18045_high", &provider, "other"),
            )
            .unwrap(),
            "not a trusted wallet provider",
        ),
        (
            sign_proof_with_key_attestation(
                &holder,
                ISSUER_URL,
                Some(&nonce),
                NOW,
                &attest(vec![holder.verifying_key().clone()], &nonce, "iso_18045_high", &holder, "wallet-provider-1"),
            )
            .unwrap(),
            "signature",
        ),
        // A level the issuer does not accept, a stale nonce.
        (
            sign_proof_with_key_attestation(
                &holder,
                ISSUER_URL,
                Some(&nonce),
                NOW,
                &attest(
                    vec![holder.verifying_key().clone()],
                    &nonce,
                    "iso_18045_basic",
                    &provider,
                    "wallet-provider-1",
                ),
            )
            .unwrap(),
            "key storage is not of a level",
        ),
        (
            sign_proof_with_key_attestation(
                &holder,
                ISSUER_URL,
                Some(&nonce),
                NOW,
                &attest(
                    vec![holder.verifying_key().clone()],
                    "an-old-nonce-0123",
                    "iso_18045_high",
                    &provider,
                    "wallet-provider-1",
                ),
            )
            .unwrap(),
            "nonce is not this issuer's c_nonce",
        ),
        // The proof's key is not the attested one (a software key riding on a real attestation).
        (
            sign_proof_with_key_attestation(
                &holder,
                ISSUER_URL,
                Some(&nonce),
                NOW,
                &attest(
                    vec![SigningKey::generate(Algorithm::Es256).unwrap().verifying_key().clone()],
                    &nonce,
                    "iso_18045_high",
                    &provider,
                    "wallet-provider-1",
                ),
            )
            .unwrap(),
            "does not attest",
        ),
    ];
    for (proof, why) in cases {
        let error = refused(&access_token, CredentialRequest::new("pupil_enrolment".to_owned(), vec![proof]).to_json());
        assert_eq!(error.error, ErrorCode::InvalidProof, "{why}: {error:?}");
        assert!(error.error_description.as_deref().unwrap_or_default().contains(why), "{why}: {error:?}");
    }

    // The attestation proof type: one attestation, a credential per attested key.
    let keys: Vec<SigningKey> = (0..3).map(|_| SigningKey::generate(Algorithm::Es256).unwrap()).collect();
    let ka = attest(
        keys.iter().map(|k| k.verifying_key().clone()).collect(),
        &nonce,
        "iso_18045_moderate",
        &provider,
        "wallet-provider-1",
    );
    let body = serde_json::json!({"credential_configuration_id": "pupil_enrolment", "proofs": {"attestation": [ka]}})
        .to_string();
    let issued = issuer.credential_endpoint(&access_token, &body, &administration(), NOW + 1).unwrap();
    assert_eq!(issued.credentials.len(), 3);
    // Both proof types at once, or two attestations, are malformed requests.
    let (access_token, nonce) = token(&issuer, &["pupil_enrolment"]);
    let ka = attest(vec![keys[0].verifying_key().clone()], &nonce, "iso_18045_high", &provider, "wallet-provider-1");
    let both = serde_json::json!({"credential_configuration_id": "pupil_enrolment",
        "proofs": {"attestation": [ka.clone()], "jwt": [sign_proof(&keys[0], ISSUER_URL, Some(&nonce), NOW, None).unwrap()]}});
    assert_eq!(refused(&access_token, both.to_string()).error, ErrorCode::InvalidCredentialRequest);
    let two = serde_json::json!({"credential_configuration_id": "pupil_enrolment", "proofs": {"attestation": [ka.clone(), ka]}});
    assert_eq!(refused(&access_token, two.to_string()).error, ErrorCode::InvalidCredentialRequest);
}

/// An issuer that requires no key attestations refuses the attestation proof type (it has no
/// wallet provider to trust) and ignores a key_attestation header on a jwt proof.
#[test]
fn an_issuer_without_key_attestation_policy_refuses_the_attestation_proof_type() {
    let issuer = issuer();
    let (access_token, nonce) = token(&issuer, &["pupil_enrolment"]);
    let provider = SigningKey::generate(Algorithm::Es256).unwrap();
    let holder = SigningKey::generate(Algorithm::Es256).unwrap();
    let ka = schooltas_oid4vc::oid4vci::key_attestation::KeyAttestation::new(vec![holder.verifying_key().clone()], NOW)
        .expires_at(NOW + 60)
        .nonce(nonce.clone())
        .sign(&provider, schooltas_did::jws::Header::new().with_kid("p"))
        .unwrap();
    let body = serde_json::json!({"credential_configuration_id": "pupil_enrolment", "proofs": {"attestation": [ka]}})
        .to_string();
    let error = issuer.credential_endpoint(&access_token, &body, &administration(), NOW + 1).unwrap_err();
    assert_eq!(error.error, ErrorCode::InvalidProof);
    assert!(error.error_description.unwrap().contains("does not take the attestation proof type"));
}
