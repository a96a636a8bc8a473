//! The administration endpoints over HTTP: the token, offers in bulk that a wallet then
//! redeems on the public service, status changes and the listing of what was issued.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{NOW, Running};
use schooltas_did::{Algorithm, SigningKey};
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{CredentialOffer, CredentialOfferUri, CredentialRequest, TokenRequest};
use schooltas_server::{AdminToken, ServiceConfig};
use serde_json::{Value, json};

const ISSUER_URL: &str = "https://delinde.example";
const TOKEN: &str = "test-admin-token-0123456789abcdef0123";
const JSON: &str = "application/json";

fn servers() -> (Running, Running) {
    let service = common::service(common::school(ISSUER_URL, "did:web:delinde.example"), ServiceConfig::default());
    let admin = Running::start_admin(service.clone(), AdminToken::new(TOKEN).unwrap(), ISSUER_URL);
    (Running::start(service, ISSUER_URL), admin)
}

/// A wallet redeems `offer_uri` with `pin` on the public service; returns the status.
fn redeem(public: &Running, offer_uri: &str, pin: &str) -> u16 {
    let CredentialOfferUri::ByReference(location) = CredentialOfferUri::parse(offer_uri).unwrap() else { panic!() };
    let offer = CredentialOffer::from_json(&public.get_url(&location).body).unwrap();
    let code = offer.pre_authorized_grant().unwrap().pre_authorized_code.clone();
    let form = TokenRequest { pre_authorized_code: code, tx_code: Some(pin.to_owned()) }.to_form();
    let token = public.post("/token", "application/x-www-form-urlencoded", &form, None).json();
    let nonce = public.post("/nonce", "application/x-www-form-urlencoded", "", None).json();
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let proof = sign_proof(&key, ISSUER_URL, nonce["c_nonce"].as_str(), NOW, None).unwrap();
    let body = CredentialRequest::new(offer.credential_configuration_ids[0].clone(), vec![proof]).to_json();
    public.post("/credential", JSON, &body, token["access_token"].as_str()).status
}

#[test]
fn offers_made_in_bulk_are_redeemed_listed_and_revoked() {
    let (public, admin) = servers();
    let batch = json!([
        {"subject_ref": "pupil-17", "credential_configuration_ids": ["pupil_enrolment"]},
        {"subject_ref": "pupil-17", "credential_configuration_ids": ["school_advice"]},
    ]);
    let made = admin.post("/admin/offers", JSON, &batch.to_string(), Some(TOKEN));
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.header("cache-control"), Some("no-store"));
    let offers = made.json();
    let offers = offers.as_array().unwrap();
    assert_eq!(offers.len(), 2);
    for offer in offers {
        let uri = offer["credential_offer_uri"].as_str().unwrap();
        assert!(
            uri.starts_with(
                "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fdelinde.example%2Foffers%2F"
            )
        );
        assert_eq!(redeem(&public, uri, offer["tx_code"].as_str().unwrap()), 200);
    }

    let listed = admin.get_with_token("/admin/subjects/pupil-17/credentials", TOKEN);
    assert_eq!(listed.status, 200);
    let rows = listed.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|row| row["copies"] == 1 && row.get("given_name").is_none()));
    let enrolment = rows.iter().find(|row| row["credential_configuration_id"] == "pupil_enrolment").unwrap();
    let id = enrolment["id"].as_str().unwrap();

    let revoke = json!({"action": "revoke"}).to_string();
    let path = format!("/admin/credentials/{id}/status");
    assert_eq!(admin.post(&path, JSON, &revoke, Some(TOKEN)).status, 204);
    let again = admin.post(&path, JSON, &json!({"action": "reinstate"}).to_string(), Some(TOKEN));
    assert_eq!((again.status, again.error().as_str()), (409, "conflict"), "a revoked credential stays revoked");
    let unknown = admin.post("/admin/credentials/nope/status", JSON, &revoke, Some(TOKEN));
    assert_eq!((unknown.status, unknown.error().as_str()), (404, "not_found"));
    let bad_action = admin.post(&path, JSON, &json!({"action": "delete"}).to_string(), Some(TOKEN));
    assert_eq!((bad_action.status, bad_action.error().as_str()), (400, "invalid_request"));
    let advice = rows.iter().find(|row| row["credential_configuration_id"] == "school_advice").unwrap();
    let no_status = admin.post(
        &format!("/admin/credentials/{}/status", advice["id"].as_str().unwrap()),
        JSON,
        &revoke,
        Some(TOKEN),
    );
    assert_eq!(no_status.status, 204, "school advice has a status list of its own: {}", no_status.body);
}

#[test]
fn the_administration_needs_its_token() {
    let (_public, admin) = servers();
    let batch = json!([{"subject_ref": "pupil-17", "credential_configuration_ids": ["pupil_enrolment"]}]).to_string();
    for token in [None, Some("test-admin-token-0123456789abcdef0124"), Some("")] {
        let answer = admin.post("/admin/offers", JSON, &batch, token);
        assert_eq!((answer.status, answer.error().as_str()), (401, "invalid_token"), "{token:?}");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer realm=\"schooltas-admin\""));
    }
    assert_eq!(admin.get("/admin/subjects/pupil-17/credentials").status, 401);
}

#[test]
fn malformed_administration_requests_are_refused() {
    let (_public, admin) = servers();
    let unknown_type = json!([{"subject_ref": "p", "credential_configuration_ids": ["diploma"]}]).to_string();
    let answer = admin.post("/admin/offers", JSON, &unknown_type, Some(TOKEN));
    assert_eq!((answer.status, answer.error().as_str()), (400, "invalid_request"));
    for body in [
        "[]",
        "{}",
        "[{\"subject_ref\":\"p\"}]",
        "[{\"subject_ref\":\"p\",\"subject_ref\":\"q\",\"credential_configuration_ids\":[]}]",
    ] {
        let answer = admin.post("/admin/offers", JSON, body, Some(TOKEN));
        assert_eq!((answer.status, answer.error().as_str()), (400, "invalid_request"), "{body}");
    }
    let as_form = admin.post("/admin/offers", "application/x-www-form-urlencoded", "[]", Some(TOKEN));
    assert_eq!((as_form.status, as_form.error().as_str()), (400, "invalid_request"));
    let too_many: Vec<Value> = (0..=schooltas_server::admin::MAX_OFFERS_PER_REQUEST)
        .map(|_| json!({"subject_ref": "p", "credential_configuration_ids": ["pupil_enrolment"]}))
        .collect();
    let big = admin.post("/admin/offers", JSON, &Value::Array(too_many).to_string(), Some(TOKEN));
    assert_eq!((big.status, big.error().as_str()), (400, "invalid_request"));
    assert_eq!(admin.get("/admin/nowhere").status, 404);
}

#[test]
fn the_administration_answers_no_cors_request() {
    let (_public, admin) = servers();
    let preflight = admin
        .agent()
        .options(format!("http://{}/admin/offers", admin.address))
        .header("Origin", "https://wallet.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type")
        .call()
        .unwrap();
    let preflight = common::Answer::from(preflight);
    assert_eq!(preflight.header("access-control-allow-origin"), None);
}
