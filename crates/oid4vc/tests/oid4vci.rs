//! OpenID4VCI 1.0 messages: spec-shaped JSON round trips, offer URIs, and refusals — of
//! messages and of proofs of possession.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::jws::{Header, sign_compact_json};
use schooltas_did::{Algorithm, Signer, SigningKey, base64url};
use schooltas_oid4vc::Error;
use schooltas_oid4vc::oid4vci::AuthorizedCredential;
use schooltas_oid4vc::oid4vci::proof::{ProofPolicy, sign_proof, verify_proof};
use schooltas_oid4vc::oid4vci::{
    CredentialOffer, CredentialOfferUri, CredentialRequest, CredentialResponse, ErrorCode, ErrorResponse, Oid4vciError,
    TokenRequest, TokenResponse,
};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://credential-issuer.example.com";

fn code(error: &Error) -> ErrorCode {
    match error {
        Error::Oid4vci(inner) => inner.error_code(),
        other => panic!("not an OpenID4VCI error: {other}"),
    }
}

#[test]
fn a_spec_shaped_offer_parses_and_round_trips() {
    // The shape of OpenID4VCI 1.0 §4.1.1's pre-authorized example (re-typed).
    let json = json!({
        "credential_issuer": ISSUER,
        "credential_configuration_ids": ["UniversityDegreeCredential"],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
            "pre-authorized_code": "oaKazRN8I0IbtZ0C7JuMn5",
            "tx_code": {"length": 4, "input_mode": "numeric", "description": "Please provide the one-time code."}
        }}
    });
    let offer = CredentialOffer::from_json(&json.to_string()).unwrap();
    let grant = offer.pre_authorized_grant().unwrap();
    assert_eq!(grant.pre_authorized_code, "oaKazRN8I0IbtZ0C7JuMn5");
    assert_eq!(grant.tx_code.as_ref().unwrap().length, Some(4));
    assert!(!format!("{offer:?}").contains("oaKazRN8I0IbtZ0C7JuMn5"), "the code is a secret");
    let back: Value = serde_json::from_str(&offer.to_json()).unwrap();
    assert_eq!(back, json);
    let CredentialOfferUri::ByValue(parsed) = CredentialOfferUri::parse(&offer.to_uri().unwrap()).unwrap() else {
        panic!()
    };
    assert_eq!(parsed, offer);
}

#[test]
fn offer_uris_by_reference_and_refusals() {
    let uri = CredentialOffer::reference_uri(
        "https://server.example.com/credential-offer/GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM",
    )
    .unwrap();
    assert!(matches!(CredentialOfferUri::parse(&uri).unwrap(), CredentialOfferUri::ByReference(location)
        if location.ends_with("Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM")));
    let offer = json!({"credential_issuer": ISSUER, "credential_configuration_ids": ["a"]}).to_string();
    let value = format!("credential_offer={}", offer.replace('"', "%22"));
    for (bad, says) in [
        (format!("openid-credential-offer://?{value}&credential_offer_uri=https://a.example/o"), "both"),
        ("openid-credential-offer://?foo=bar".to_owned(), "neither"),
        (format!("mailto:?{value}"), "not an openid-credential-offer"),
        ("openid-credential-offer://?credential_offer_uri=http://a.example/o".to_owned(), "https"),
        ("openid-credential-offer://?credential_offer=%7Bnot%20json".to_owned(), "JSON"),
        (format!("openid-credential-offer://?{value}&{value}"), "more than once"),
    ] {
        let error = CredentialOfferUri::parse(&bad).unwrap_err();
        assert!(error.to_string().contains(says), "{bad}: {error}");
    }
    for (offer, says) in [
        (json!({"credential_issuer": "http://insecure.example", "credential_configuration_ids": ["a"]}), "https"),
        (json!({"credential_issuer": ISSUER, "credential_configuration_ids": []}), "empty"),
        (json!({"credential_issuer": ISSUER, "credential_configuration_ids": ["a", "a"]}), "repeated"),
    ] {
        let error = CredentialOffer::from_json(&offer.to_string()).unwrap_err();
        assert!(error.to_string().contains(says), "{error}");
    }
    assert!(
        CredentialOfferUri::parse(&format!("openid-credential-offer://?credential_offer={}", "a".repeat(70_000)))
            .is_err()
    );
}

#[test]
fn token_messages_round_trip_and_hide_secrets() {
    let request = TokenRequest { pre_authorized_code: "SplxlOBeZQQYbYS6WxSbIA".into(), tx_code: Some("493536".into()) };
    let body = request.to_form();
    assert_eq!(
        body,
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&tx_code=493536"
    );
    assert_eq!(TokenRequest::from_form(&body).unwrap(), request);
    let debug = format!("{request:?}");
    assert!(!debug.contains("493536") && !debug.contains("SplxlOBeZQQYbYS6WxSbIA"), "{debug}");
    let error = TokenRequest::from_form("grant_type=password&username=x").unwrap_err();
    assert_eq!(code(&error), ErrorCode::UnsupportedGrantType);
    let error = TokenRequest::from_form("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code")
        .unwrap_err();
    assert_eq!(code(&error), ErrorCode::InvalidRequest);

    let response =
        json!({"access_token": "eyJhbGciOiJSUzI1NiIsInR5cCI6Ikp..sHQ", "token_type": "bearer", "expires_in": 86400});
    let parsed = TokenResponse::from_json(&response.to_string()).unwrap();
    assert_eq!(parsed.expires_in, Some(86400));
    assert!(!format!("{parsed:?}").contains("sHQ"));
    // RFC 9449 §5: a DPoP-bound token; other token types are refused.
    assert!(TokenResponse::from_json(&json!({"access_token": "x", "token_type": "DPoP"}).to_string()).is_ok());
    let error = TokenResponse::from_json(&json!({"access_token": "x", "token_type": "mac"}).to_string()).unwrap_err();
    assert!(error.to_string().contains("not a Bearer or DPoP token"), "{error}");
}

#[test]
fn a_token_response_carries_authorization_details_with_credential_identifiers() {
    // OpenID4VCI 1.0 §6.2, the spec's example shape.
    let response = json!({"access_token": "x", "token_type": "Bearer", "authorization_details": [{
        "type": "openid_credential", "credential_configuration_id": "UniversityDegreeCredential",
        "credential_identifiers": ["CivilEngineeringDegree-2023", "ElectricalEngineeringDegree-2023"]}]});
    let parsed = TokenResponse::from_json(&response.to_string()).unwrap();
    let details = parsed.authorization_details.as_deref().unwrap();
    assert_eq!(
        details,
        [AuthorizedCredential::new(
            "UniversityDegreeCredential",
            vec!["CivilEngineeringDegree-2023".into(), "ElectricalEngineeringDegree-2023".into()]
        )]
    );
    assert_eq!(serde_json::from_str::<Value>(&parsed.to_json()).unwrap(), response);
    for (what, details) in [
        (
            "empty identifiers",
            json!([{"type": "openid_credential", "credential_configuration_id": "a",
            "credential_identifiers": []}]),
        ),
        (
            "another type",
            json!([{"type": "payment", "credential_configuration_id": "a",
            "credential_identifiers": ["i"]}]),
        ),
        ("no configuration id", json!([{"type": "openid_credential", "credential_identifiers": ["i"]}])),
        (
            "an empty identifier",
            json!([{"type": "openid_credential", "credential_configuration_id": "a",
            "credential_identifiers": [""]}]),
        ),
        ("an empty list", json!([])),
    ] {
        let response = json!({"access_token": "x", "token_type": "Bearer", "authorization_details": details});
        let error = TokenResponse::from_json(&response.to_string()).unwrap_err();
        assert!(
            matches!(&error, Error::Oid4vci(Oid4vciError::Invalid { message: "token response", .. })),
            "{what}: {error}"
        );
    }
}

#[test]
fn credential_requests_and_responses() {
    let request = CredentialRequest::from_json(
        &json!({"credential_configuration_id": "pupil_enrolment", "proofs": {"jwt": ["a.b.c", "d.e.f"]}}).to_string(),
        4,
    )
    .unwrap();
    assert_eq!(request.proofs.unwrap().jwt.len(), 2);
    for (body, says) in [
        (json!({"credential_configuration_id": "a", "credential_identifier": "b", "proofs": {"jwt": ["x"]}}), "both"),
        (json!({"proofs": {"jwt": ["x"]}}), "neither"),
        (json!({"credential_configuration_id": "a", "proofs": {"jwt": []}}), "empty"),
        (json!({"credential_configuration_id": "a"}), "missing"),
        (json!({"credential_configuration_id": "a", "proof": {"proof_type": "jwt", "jwt": "x"}}), "pre-1.0"),
        (json!({"credential_configuration_id": "a", "proofs": {"jwt": ["1", "2", "3", "4", "5"]}}), "at most 4"),
    ] {
        let error = CredentialRequest::from_json(&body.to_string(), 4).unwrap_err();
        assert_eq!(code(&error), ErrorCode::InvalidCredentialRequest);
        assert!(error.to_string().contains(says), "{error}");
    }
    let response = json!({"credentials": [{"credential": "LUpixVCWJk0eOt4CXQe1NXK....WZwmhmn9OQp6YxX0a2L"}], "notification_id": "3fwe98js"});
    let parsed = CredentialResponse::from_json(&response.to_string()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&parsed.to_json()).unwrap(), response);
    assert!(CredentialResponse::from_json("{}").is_err());
}

#[test]
fn error_responses() {
    let parsed = ErrorResponse::from_json(r#"{"error":"invalid_nonce","error_description":"stale"}"#).unwrap();
    assert_eq!(parsed.error, ErrorCode::InvalidNonce);
    assert_eq!(parsed.error.http_status(), 400);
    assert_eq!(ErrorCode::InvalidToken.http_status(), 401);
    let unknown = ErrorResponse::from_json(r#"{"error":"slow_down"}"#).unwrap();
    assert_eq!(unknown.error, ErrorCode::Other("slow_down".into()));
    assert_eq!(serde_json::from_str::<Value>(&parsed.to_json()).unwrap()["error"], "invalid_nonce");
}

// ---- proofs ---------------------------------------------------------------------------------

fn policy() -> ProofPolicy {
    ProofPolicy::new(ISSUER)
}

#[test]
fn proofs_verify_for_both_algorithms_and_with_a_did_key_kid() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let holder = SigningKey::generate(alg).unwrap();
        let jwt = sign_proof(&holder, ISSUER, Some("n-1"), NOW, Some("wallet-app")).unwrap();
        let proof = verify_proof(&jwt, &policy(), NOW + 10).unwrap();
        assert_eq!(&proof.holder_key, holder.verifying_key());
        assert_eq!(proof.client_id.as_deref(), Some("wallet-app"));
    }
    let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let did = schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(holder.verifying_key().clone()));
    let header = Header::new().with_typ("openid4vci-proof+jwt").with_kid(format!("{did}#{}", did.method_specific_id()));
    let jwt = sign_compact_json(&header, &json!({"aud": ISSUER, "iat": NOW, "nonce": "n"}), &holder).unwrap();
    assert_eq!(&verify_proof(&jwt, &policy(), NOW).unwrap().holder_key, holder.verifying_key());
}

fn proof_with(header: Header, claims: Value, key: &SigningKey) -> String {
    sign_compact_json(&header, &claims, key).unwrap()
}

#[test]
fn proofs_are_refused_for_each_rule() {
    let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let jwk = Value::Object(holder.verifying_key().to_jwk());
    let good_header = || Header::new().with_typ("openid4vci-proof+jwt").with_member("jwk", jwk.clone());
    let good_claims = || json!({"aud": ISSUER, "iat": NOW, "nonce": "n-1"});
    let refused = |jwt: String, expected: ErrorCode, says: &str| {
        let error = verify_proof(&jwt, &policy(), NOW).unwrap_err();
        assert_eq!(code(&error), expected, "{error}");
        assert!(error.to_string().contains(says), "{error} should say {says}");
    };
    refused(proof_with(good_header().with_typ("JWT"), good_claims(), &holder), ErrorCode::InvalidProof, "typ");
    refused(
        proof_with(Header::new().with_typ("openid4vci-proof+jwt"), good_claims(), &holder),
        ErrorCode::InvalidProof,
        "no key",
    );
    refused(
        proof_with(good_header().with_kid("did:key:z6Mk"), good_claims(), &holder),
        ErrorCode::InvalidProof,
        "both",
    );
    let mut private = holder.verifying_key().to_jwk();
    private.insert("d".into(), json!("AAAA"));
    let private_header = Header::new().with_typ("openid4vci-proof+jwt").with_member("jwk", Value::Object(private));
    refused(proof_with(private_header, good_claims(), &holder), ErrorCode::InvalidProof, "private");
    let mut claims = good_claims();
    claims["aud"] = json!("https://evil.example");
    refused(proof_with(good_header(), claims, &holder), ErrorCode::InvalidProof, "aud");
    let mut claims = good_claims();
    claims["aud"] = json!(["https://evil.example", ISSUER]);
    verify_proof(&proof_with(good_header(), claims, &holder), &policy(), NOW).unwrap();
    let mut claims = good_claims();
    claims["iat"] = json!(NOW - 301);
    refused(proof_with(good_header(), claims, &holder), ErrorCode::InvalidProof, "old");
    let mut claims = good_claims();
    claims["iat"] = json!(NOW + 61);
    refused(proof_with(good_header(), claims, &holder), ErrorCode::InvalidProof, "future");
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove("nonce");
    refused(proof_with(good_header(), claims, &holder), ErrorCode::InvalidProof, "no nonce");
    // Signed by another key than the one in the header.
    let other = SigningKey::generate(Algorithm::EdDsa).unwrap();
    refused(proof_with(good_header(), good_claims(), &other), ErrorCode::InvalidProof, "signature");
    // Tampered payload.
    let jwt = proof_with(good_header(), good_claims(), &holder);
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let forged = base64url::encode(json!({"aud": ISSUER, "iat": NOW, "nonce": "n-2"}).to_string());
    parts[1] = &forged;
    refused(parts.join("."), ErrorCode::InvalidProof, "signature");
    // alg none.
    let header = base64url::encode(json!({"alg": "none", "typ": "openid4vci-proof+jwt", "jwk": jwk}).to_string());
    refused(format!("{header}.{}.", jwt.split('.').nth(1).unwrap()), ErrorCode::InvalidProof, "none");
    assert!(matches!(verify_proof("x", &policy(), NOW).unwrap_err(), Error::Oid4vci(Oid4vciError::InvalidProof(_))));
}

#[test]
fn an_openid4vci_message_naming_a_member_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let strict = |result: Result<CredentialOffer, Error>| match result {
        Err(Error::Did(schooltas_did::Error::Json(e))) => e,
        other => panic!("expected a strict JSON refusal, got {other:?}"),
    };
    let offer = format!(
        r#"{{"credential_issuer":"{ISSUER}","credential_issuer":"https://evil.example","credential_configuration_ids":["x"]}}"#
    );
    assert!(
        matches!(strict(CredentialOffer::from_json(&offer)), J::DuplicateMember { name } if name == "credential_issuer")
    );
    let offer = format!(
        r#"{{"credential_issuer":"{ISSUER}","credential_configuration_ids":["x"],"grants":{{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{{"pre-authorized_code":"a","tx_code":{{"length":18446744073709551616}}}}}}}}"#
    );
    assert!(matches!(strict(CredentialOffer::from_json(&offer)), J::IntegerOutOfRange));
    let err = TokenResponse::from_json(r#"{"access_token":"a","access_token":"b","token_type":"Bearer"}"#).unwrap_err();
    assert!(matches!(err, Error::Did(schooltas_did::Error::Json(J::DuplicateMember { .. }))), "{err}");
}
