//! The whole pre-authorized code flow over loopback HTTP with a real client: offer by
//! reference → metadata → token with the PIN → nonce → a batch of credentials, each verified
//! with the SD-JWT verifier against the DID document and status list the server publishes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{NOW, Running};
use schooltas_did::{Algorithm, DidDocument, DidUrl, Signer, SigningKey, VerificationRelationship};
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{
    AuthorizationServerMetadata, CredentialIssuerMetadata, CredentialOffer, CredentialOfferUri, CredentialRequest,
    CredentialResponse, TokenRequest, TokenResponse,
};
use schooltas_sd_jwt::{UnverifiedSdJwt, VerifyOptions};
use schooltas_server::{STATUS_LIST_JWT, ServiceConfig};
use schooltas_status_list::{InMemoryStatusLists, StatusListCache};

const ISSUER_URL: &str = "https://delinde.example";
const FORM: &str = "application/x-www-form-urlencoded";

/// A wallet's side of the flow, through HTTP only; returns the keys and the credentials.
fn receive(
    server: &Running,
    offer_uri: &str,
    pin: &str,
    copies: usize,
) -> (CredentialIssuerMetadata, Vec<(SigningKey, String)>) {
    let CredentialOfferUri::ByReference(location) = CredentialOfferUri::parse(offer_uri).unwrap() else {
        panic!("the service publishes offers by reference")
    };
    let fetched = server.get_url(&location);
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.header("content-type"), Some("application/json"));
    let offer = CredentialOffer::from_json(&fetched.body).unwrap();

    // OpenID4VCI 1.0 §12.2.2: the well-known segment goes between the host and the path.
    let metadata = server.get_url(&well_known(&offer.credential_issuer, "openid-credential-issuer"));
    assert_eq!(metadata.status, 200);
    let metadata = CredentialIssuerMetadata::from_json(&metadata.body).unwrap();
    metadata.check_issuer(&offer.credential_issuer).unwrap();
    let authorization = server.get_url(&well_known(&offer.credential_issuer, "oauth-authorization-server"));
    let authorization: AuthorizationServerMetadata = serde_json::from_str(&authorization.body).unwrap();
    assert_eq!(authorization.issuer, offer.credential_issuer);

    let grant = offer.pre_authorized_grant().unwrap();
    let form = TokenRequest { pre_authorized_code: grant.pre_authorized_code.clone(), tx_code: Some(pin.into()) };
    let token = server.post(&path_of(server, &authorization.token_endpoint), FORM, &form.to_form(), None);
    assert_eq!(token.status, 200, "{}", token.body);
    assert_eq!(token.header("cache-control"), Some("no-store"));
    assert_eq!(token.header("pragma"), Some("no-cache"), "RFC 6749 §5.1");
    let token = TokenResponse::from_json(&token.body).unwrap();

    let nonce_endpoint = metadata.nonce_endpoint.clone().unwrap();
    let nonce = server.post(&path_of(server, &nonce_endpoint), FORM, "", None);
    assert_eq!(nonce.status, 200);
    assert_eq!(nonce.header("cache-control"), Some("no-store"));
    let c_nonce = nonce.json()["c_nonce"].as_str().unwrap().to_owned();

    let keys: Vec<SigningKey> = (0..copies).map(|_| SigningKey::generate(Algorithm::EdDsa).unwrap()).collect();
    let proofs =
        keys.iter().map(|key| sign_proof(key, &offer.credential_issuer, Some(&c_nonce), NOW, None).unwrap()).collect();
    let request = CredentialRequest::new(offer.credential_configuration_ids[0].clone(), proofs);
    let answer = server.post(
        &path_of(server, &metadata.credential_endpoint),
        "application/json",
        &request.to_json(),
        Some(&token.access_token),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let response = CredentialResponse::from_json(&answer.body).unwrap();
    (metadata, keys.into_iter().zip(response.credentials.into_iter().map(|c| c.credential)).collect())
}

/// `https://host/path` → `https://host/.well-known/<name>/path`.
fn well_known(issuer: &str, name: &str) -> String {
    let rest = issuer.strip_prefix("https://").unwrap();
    let (host, path) = rest.split_once('/').map_or((rest, String::new()), |(host, path)| (host, format!("/{path}")));
    format!("https://{host}/.well-known/{name}{path}")
}

fn path_of(server: &Running, https_url: &str) -> String {
    let local = server.url(https_url);
    let (_, path) = local.strip_prefix("http://").unwrap().split_once('/').unwrap();
    format!("/{path}")
}

#[test]
fn a_wallet_receives_a_verified_batch_over_http() {
    let service = common::service(common::school(ISSUER_URL, "did:web:delinde.example"), ServiceConfig::default());
    let offer = service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let server = Running::start(service.clone(), ISSUER_URL);
    let pin = offer.pin.as_ref().unwrap().to_string();
    let (_, received) = receive(&server, &offer.uri, &pin, 3);
    assert_eq!(received.len(), 3);

    // The school's DID document, as a did:web resolver would fetch it.
    let did = server.get("/.well-known/did.json");
    assert_eq!(did.status, 200);
    assert_eq!(did.header("content-type"), Some(schooltas_server::DID_DOCUMENT));
    let document = DidDocument::from_json(did.body.as_bytes()).unwrap();

    for (key, credential) in &received {
        let verified = UnverifiedSdJwt::parse(credential)
            .unwrap()
            .verify_with(
                |header, _| {
                    let kid = DidUrl::parse(header.kid().unwrap_or_default())?;
                    Ok(document.verifying_key(&kid, VerificationRelationship::AssertionMethod, Algorithm::EdDsa)?)
                },
                &VerifyOptions::sd_jwt_vc_as_issued(),
                NOW,
            )
            .unwrap();
        assert_eq!(verified.holder_key(), Some(key.verifying_key()));
        assert_eq!(verified.claims()["given_name"], common::GIVEN_NAME);
        let reference = verified.status_reference().unwrap().expect("enrolments carry a status entry");
        let published = server.get_url(reference.uri().as_str());
        assert_eq!(published.status, 200);
        assert_eq!(published.header("content-type"), Some(STATUS_LIST_JWT));
        let lists = InMemoryStatusLists::new();
        lists.publish(reference.uri().clone(), published.body.clone());
        let school_key = service.with_issuer(|issuer| issuer.profile().keys().signer().verifying_key().clone());
        StatusListCache::new(lists).check(&reference, &school_key, NOW).unwrap();
    }
    assert_eq!(service.with_issuer(|issuer| issuer.credentials_of("pupil-17").unwrap())[0].copies, 3);

    // Redeemed: the offer is no longer served.
    let CredentialOfferUri::ByReference(location) = CredentialOfferUri::parse(&offer.uri).unwrap() else { panic!() };
    assert_eq!(server.get_url(&location).status, 404);
}

#[test]
fn an_issuer_with_a_path_is_served_at_the_inserted_well_known_paths() {
    const URL: &str = "https://scholen.example/12AB00";
    let service = common::service(common::school(URL, "did:web:scholen.example:12AB00"), ServiceConfig::default());
    let offer = service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let server = Running::start(service, URL);

    let metadata = server.get("/.well-known/openid-credential-issuer/12AB00");
    assert_eq!(metadata.status, 200);
    let metadata = CredentialIssuerMetadata::from_json(&metadata.body).unwrap();
    assert_eq!(metadata.credential_issuer, URL);
    assert_eq!(metadata.credential_endpoint, "https://scholen.example/12AB00/credential");
    let authorization = server.get("/.well-known/oauth-authorization-server/12AB00");
    assert_eq!(authorization.status, 200);
    assert_eq!(authorization.json()["token_endpoint"], "https://scholen.example/12AB00/token");
    // Appended (pre-1.0 drafts) and root locations are not this issuer's.
    assert_eq!(server.get("/12AB00/.well-known/openid-credential-issuer").status, 404);
    assert_eq!(server.get("/.well-known/openid-credential-issuer").status, 404);
    assert_eq!(server.get("/.well-known/did.json").status, 404);
    let did = server.get("/12AB00/did.json");
    assert_eq!(did.status, 200);
    assert_eq!(did.json()["id"], "did:web:scholen.example:12AB00");

    let pin = offer.pin.as_ref().unwrap().to_string();
    let (_, received) = receive(&server, &offer.uri, &pin, 2);
    assert_eq!(received.len(), 2);
}

#[test]
fn a_key_rotation_is_published_in_the_did_document_at_once() {
    let service = common::service(common::school(ISSUER_URL, "did:web:delinde.example"), ServiceConfig::default());
    let server = Running::start(service.clone(), ISSUER_URL);
    let before = server.get("/.well-known/did.json").json();
    assert_eq!(before["verificationMethod"].as_array().unwrap().len(), 1);
    service
        .with_issuer_mut(|issuer| issuer.profile_mut().rotate_key("key-2", SigningKey::from_ed25519_seed(&[2; 32])))
        .unwrap();
    let after = server.get("/.well-known/did.json").json();
    let ids: Vec<&str> =
        after["verificationMethod"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "the retired key stays, so credentials signed before still verify: {ids:?}");
    assert!(ids.contains(&"did:web:delinde.example#key-2"), "{ids:?}");
}

#[test]
fn a_list_opened_by_a_later_credential_is_served_at_once() {
    let service = common::service(common::school(ISSUER_URL, "did:web:delinde.example"), ServiceConfig::default());
    let server = Running::start(service.clone(), ISSUER_URL);
    let status_uri = |credential: &str| {
        let payload = credential.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&schooltas_did::base64url::decode(payload).unwrap()).unwrap();
        claims["status"]["status_list"]["uri"].as_str().unwrap().to_owned()
    };
    // The enrolment's list is fetched (and its token cached) before the advice opens another.
    let offer = service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let (_, enrolment) = receive(&server, &offer.uri, offer.pin.as_ref().unwrap(), 1);
    assert_eq!(server.get_url(&status_uri(&enrolment[0].1)).status, 200);
    let offer = service.publish_offer("pupil-17", &["school_advice".to_owned()]).unwrap();
    let (_, advice) = receive(&server, &offer.uri, offer.pin.as_ref().unwrap(), 1);
    let advice_list = status_uri(&advice[0].1);
    assert_ne!(advice_list, status_uri(&enrolment[0].1), "each purpose has its own list");
    let published = server.get_url(&advice_list);
    assert_eq!(published.status, 200, "the new list is served although the cached tokens predate it");
    assert_eq!(published.header("content-type"), Some(STATUS_LIST_JWT));
    // A list that does not exist stays 404, however often it is asked for.
    for _ in 0..3 {
        assert_eq!(server.get("/status/advice/999").status, 404);
    }
}
