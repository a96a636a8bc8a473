//! OpenID4VP 1.0 Appendix A (the W3C Digital Credentials API): the request shapes of the
//! three protocols, each Appendix A rule refused by its reason, and `dc_api.jwt` responses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use schooltas_did::jws::Header;
use schooltas_did::{Did, DidUrl, PublicKey, Signer, SigningKey, VerifyingKey, did_key};
use schooltas_jwe::{ContentEncryption, EncryptionKey};
use schooltas_oid4vc::Error;
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, ClientId, CredentialQuery, DcApiProtocol, DcApiRequest,
    DcApiSignature, DcqlQuery, Oid4vpError, Origin, decrypt_dc_api_response, random_nonce,
};
use serde_json::{Value, json};

const VCT: &str = "https://schooltas.nl/credentials/enrolment/v1";
const NOW: i64 = 1_800_000_000;
const ORIGIN: &str = "https://verifier.example";

struct Party {
    key: SigningKey,
    did: Did,
    kid: DidUrl,
}

fn party(seed: u8) -> Party {
    let key = SigningKey::from_ed25519_seed(&[seed; 32]);
    let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    let kid = did.with_fragment(did.method_specific_id()).unwrap();
    Party { key, did, kid }
}

fn origin(text: &str) -> Origin {
    Origin::parse(text).unwrap()
}

fn dcql() -> DcqlQuery {
    DcqlQuery::builder()
        .credential(CredentialQuery::sd_jwt_vc("enrolment", [VCT]).claim(schooltas_sd_jwt::ClaimPath::claim("group")))
        .build()
        .unwrap()
}

/// A DC API request from `verifier`, expecting [`ORIGIN`].
fn request(verifier: &Party) -> AuthorizationRequest {
    AuthorizationRequest::new(&verifier.did, "https://verifier.example/response", random_nonce(), dcql())
        .with_state("s-1")
        .for_dc_api(&[origin(ORIGIN)])
}

fn oid4vp(error: Error) -> Oid4vpError {
    match error {
        Error::Oid4vp(error) => error,
        other => panic!("expected an OpenID4VP error, got {other:?}"),
    }
}

fn key_of(party: &Party) -> impl FnMut(&Header, &ClientId) -> schooltas_oid4vc::Result<VerifyingKey> + '_ {
    move |_, client| match client {
        ClientId::Did(did) if did == &party.did => Ok(party.key.verifying_key().clone()),
        _ => Err(Oid4vpError::InvalidClientId { reason: "not trusted" }.into()),
    }
}

fn unsigned_json(data: Value) -> String {
    json!({"protocol": "openid4vp-v1-unsigned", "data": data}).to_string()
}

fn unsigned_data(verifier: &Party) -> Value {
    DcApiRequest::unsigned(&request(verifier)).unwrap().to_json()["data"].clone()
}

#[test]
fn an_unsigned_request_round_trips_and_is_read_with_the_origin_as_client() {
    let verifier = party(1);
    let built = request(&verifier);
    assert_eq!(built.response_mode, "dc_api");
    assert!(built.response_uri.is_empty() && built.state.is_none());
    let unsigned = DcApiRequest::unsigned(&built).unwrap();
    assert_eq!(unsigned.protocol(), DcApiProtocol::Unsigned);
    let json = unsigned.to_json();
    assert_eq!(json["protocol"], "openid4vp-v1-unsigned");
    for absent in ["client_id", "expected_origins", "response_uri", "state"] {
        assert!(json["data"].get(absent).is_none(), "{absent}");
    }
    let parsed = DcApiRequest::from_json(&json.to_string()).unwrap();
    assert_eq!(parsed, unsigned);
    let read = parsed.read_unsigned(&origin(ORIGIN)).unwrap();
    assert_eq!(read.client_id, "origin:https://verifier.example");
    assert_eq!(read.nonce, built.nonce);
    assert_eq!(read.dcql_query, built.dcql_query);
    // An unsigned request is not verified as a signed one, and the other way round.
    assert!(matches!(
        oid4vp(parsed.verify_signed(&origin(ORIGIN), key_of(&verifier), NOW, 60).unwrap_err()),
        Oid4vpError::InvalidDcApiRequest { .. }
    ));
}

#[test]
fn an_unsigned_request_ignores_client_id_and_expected_origins() {
    let verifier = party(2);
    let mut data = unsigned_data(&verifier);
    data["client_id"] = json!("decentralized_identifier:did:web:bank.example");
    data["expected_origins"] = json!(["https://bank.example"]);
    data["state"] = json!("ignored-state");
    let read = DcApiRequest::from_json(&unsigned_json(data)).unwrap().read_unsigned(&origin(ORIGIN)).unwrap();
    assert_eq!(read.client_id, "origin:https://verifier.example");
    assert!(read.expected_origins().unwrap().is_empty());
    assert!(read.state.is_none());
}

#[test]
fn each_appendix_a_rule_on_the_parameters_is_refused_by_its_reason() {
    let verifier = party(3);
    let read = |data: Value| {
        DcApiRequest::from_json(&unsigned_json(data)).and_then(|request| request.read_unsigned(&origin(ORIGIN)))
    };
    let with = |name: &str, value: Value| {
        let mut data = unsigned_data(&verifier);
        data[name] = value;
        read(data).unwrap_err()
    };
    let without = |name: &str| {
        let mut data = unsigned_data(&verifier);
        data.as_object_mut().unwrap().remove(name);
        read(data).unwrap_err()
    };
    assert!(matches!(
        with("response_uri", json!("https://verifier.example/response")),
        Oid4vpError::DcApiParameterNotAllowed { name: "response_uri" }
    ));
    assert!(matches!(
        with("redirect_uri", json!("https://verifier.example/cb")),
        Oid4vpError::DcApiParameterNotAllowed { name: "redirect_uri" }
    ));
    assert!(matches!(
        with("response_mode", json!("direct_post")),
        Oid4vpError::NotDcApiResponseMode { found } if found == "direct_post"
    ));
    assert!(matches!(without("response_mode"), Oid4vpError::MissingParameter { name: "response_mode" }));
    assert!(matches!(without("nonce"), Oid4vpError::MissingParameter { name: "nonce" }));
    assert!(matches!(with("nonce", json!("short")), Oid4vpError::InvalidNonce { .. }));
    assert!(matches!(with("response_type", json!("code")), Oid4vpError::UnsupportedResponseType { .. }));
    assert!(matches!(without("dcql_query"), Oid4vpError::MissingParameter { name: "dcql_query" }));
    // dc_api.jwt without a key to encrypt to: no plaintext fallback.
    assert!(matches!(with("response_mode", json!("dc_api.jwt")), Oid4vpError::NoUsableEncryptionKey));
}

#[test]
fn the_request_object_shape_is_strict() {
    let verifier = party(4);
    let data = unsigned_data(&verifier);
    let refused = |text: String| DcApiRequest::from_json(&text).unwrap_err();
    assert!(matches!(
        refused(json!({"protocol": "openid4vp-v2-unsigned", "data": data}).to_string()),
        Oid4vpError::UnsupportedDcApiProtocol { found } if found == "openid4vp-v2-unsigned"
    ));
    assert!(matches!(
        refused(json!({"protocol": "openid4vp-v1-unsigned", "data": data, "extra": 1}).to_string()),
        Oid4vpError::InvalidDcApiRequest { .. }
    ));
    assert!(matches!(
        refused(json!({"protocol": "openid4vp-v1-unsigned"}).to_string()),
        Oid4vpError::InvalidDcApiRequest { .. }
    ));
    assert!(matches!(
        refused(json!({"protocol": "openid4vp-v1-unsigned", "data": {"request": "a.b.c"}}).to_string()),
        Oid4vpError::InvalidDcApiRequest { .. }
    ));
    assert!(matches!(
        refused(json!({"protocol": "openid4vp-v1-signed", "data": {"request": "a.b.c", "nonce": "x"}}).to_string()),
        Oid4vpError::InvalidDcApiRequest { .. }
    ));
    assert!(matches!(
        refused(json!({"protocol": "openid4vp-v1-signed", "data": {"request": "not-a-jws"}}).to_string()),
        Oid4vpError::InvalidDcApiRequest { .. }
    ));
    assert!(matches!(
        refused(json!({"protocol": "openid4vp-v1-multisigned", "data": {"request": "a.b.c"}}).to_string()),
        Oid4vpError::InvalidDcApiRequest { .. }
    ));
    // A member twice: refused by the strict parser.
    let twice = r#"{"protocol":"openid4vp-v1-unsigned","protocol":"openid4vp-v1-signed","data":{}}"#;
    assert!(matches!(refused(twice.to_owned()), Oid4vpError::StrictJson(_)));
    let big = format!(r#"{{"protocol":"openid4vp-v1-unsigned","data":{{"pad":"{}"}}}}"#, "a".repeat(300 << 10));
    assert!(matches!(refused(big), Oid4vpError::TooLarge { what: "DC API request", .. }));
}

#[test]
fn a_signed_request_round_trips_and_must_expect_the_calling_origin() {
    let verifier = party(5);
    let built = request(&verifier);
    let jws = built.sign(&verifier.key, &verifier.kid, NOW, 600).unwrap();
    let signed = DcApiRequest::signed(jws);
    let json = signed.to_json();
    assert_eq!(json["protocol"], "openid4vp-v1-signed");
    let parsed = DcApiRequest::from_json(&json.to_string()).unwrap();
    assert_eq!(parsed.protocol(), DcApiProtocol::Signed);
    let read = parsed.verify_signed(&origin(ORIGIN), key_of(&verifier), NOW, 60).unwrap();
    assert_eq!(read.client_id, built.client_id);
    assert_eq!(read.expected_origins().unwrap(), [origin(ORIGIN)]);

    // Another page replaying the signed request.
    let error = parsed.verify_signed(&origin("https://phish.example"), key_of(&verifier), NOW, 60).unwrap_err();
    assert!(matches!(oid4vp(error), Oid4vpError::OriginNotExpected { origin } if origin == "https://phish.example"));
    // Simple string comparison, no normalisation: a spelling a browser never writes (upper
    // case, the default port) is not an origin at all.
    assert!(matches!(Origin::parse("https://VERIFIER.example"), Err(Oid4vpError::InvalidOrigin { .. })));
    let error = parsed.verify_signed(&origin("https://verifier.example:8443"), key_of(&verifier), NOW, 60).unwrap_err();
    assert!(matches!(oid4vp(error), Oid4vpError::OriginNotExpected { .. }));
    // The same request object in an `openid4vp://` link (outside the API, no origin to check).
    let object =
        schooltas_oid4vc::oid4vp::UnverifiedRequestObject::parse(json["data"]["request"].as_str().unwrap()).unwrap();
    let error = object.verify_with_client(key_of(&verifier), NOW, 60).unwrap_err();
    assert!(matches!(oid4vp(error), Oid4vpError::UnsupportedResponseMode { found } if found == "dc_api"));
    // Signed by a key the wallet does not trust.
    let error = parsed.verify_signed(&origin(ORIGIN), key_of(&party(6)), NOW, 60).unwrap_err();
    assert!(matches!(oid4vp(error), Oid4vpError::InvalidClientId { .. }));
}

#[test]
fn a_signed_request_without_expected_origins_or_for_the_redirect_flow_is_refused() {
    let verifier = party(7);
    let without =
        AuthorizationRequest::new(&verifier.did, "https://verifier.example/r", random_nonce(), dcql()).for_dc_api(&[]);
    let jws = without.sign(&verifier.key, &verifier.kid, NOW, 600).unwrap();
    let error = DcApiRequest::signed(jws).verify_signed(&origin(ORIGIN), key_of(&verifier), NOW, 60).unwrap_err();
    assert!(matches!(oid4vp(error), Oid4vpError::MissingParameter { name: "expected_origins" }));

    // A redirect-flow request object passed through the DC API.
    let redirect = AuthorizationRequest::new(&verifier.did, "https://verifier.example/r", random_nonce(), dcql());
    let jws = redirect.sign(&verifier.key, &verifier.kid, NOW, 600).unwrap();
    let error = DcApiRequest::signed(jws).verify_signed(&origin(ORIGIN), key_of(&verifier), NOW, 60).unwrap_err();
    assert!(matches!(oid4vp(error), Oid4vpError::NotDcApiResponseMode { found } if found == "direct_post"));

    // expected_origins must be https origins (Appendix A.2: no http, data, javascript…).
    for bad in [json!([]), json!(["http://verifier.example"]), json!(["data:text/html,x"]), json!([7])] {
        let mut data = unsigned_data(&verifier);
        data["client_id"] = json!(format!("decentralized_identifier:{}", verifier.did));
        data["expected_origins"] = bad.clone();
        let request: AuthorizationRequest = serde_json::from_value(data).unwrap();
        let error = request.validate().unwrap_err();
        assert!(
            matches!(error, Oid4vpError::InvalidExpectedOrigins { .. } | Oid4vpError::InvalidOrigin { .. }),
            "{bad}: {error:?}"
        );
    }
}

#[test]
fn origins_are_https_scheme_host_and_port_only() {
    for good in ["https://verifier.example", "https://verifier.example:8443", "https://[::1]:8443"] {
        assert_eq!(Origin::parse(good).unwrap().as_str(), good);
    }
    assert_eq!(origin(ORIGIN).audience(), "origin:https://verifier.example");
    for bad in [
        "http://verifier.example",
        "https://verifier.example/",
        "https://verifier.example/path",
        "https://verifier.example?q",
        "https://user@verifier.example",
        "https://",
        "https://verifier.example:",
        "https://verifier.example:port",
        "javascript:alert(1)",
        "https://verifier .example",
        "https://[::1",
        "https://[not-an-address]",
        "https://[::1]x",
        "https://Verifier.example",
        "https://verifier.example:443",
        "https://verifier.example:08443",
        "https://verifier.example:70000",
        "https://verifier..example",
        "https://a:b:c",
    ] {
        assert!(matches!(Origin::parse(bad), Err(Oid4vpError::InvalidOrigin { .. })), "{bad}");
    }
}

#[test]
fn a_multi_signed_request_is_read_from_the_first_trusted_signature() {
    let (trusted, other) = (party(8), party(9));
    let built = request(&trusted);
    fn signature(party: &Party) -> DcApiSignature<'_> {
        DcApiSignature {
            client: ClientId::Did(party.did.clone()),
            signer: &party.key as &dyn Signer,
            header: Header::new().with_kid(party.kid.as_str()),
        }
    }
    let multi = DcApiRequest::multisigned(&built, &[signature(&other), signature(&trusted)], NOW, 600).unwrap();
    let json = multi.to_json();
    assert_eq!(json["protocol"], "openid4vp-v1-multisigned");
    let general = &json["data"]["request"];
    assert_eq!(general["signatures"].as_array().unwrap().len(), 2);
    let payload: Value =
        serde_json::from_slice(&schooltas_did::base64url::decode(general["payload"].as_str().unwrap()).unwrap())
            .unwrap();
    assert!(payload.get("client_id").is_none(), "client_id is in the protected headers only");
    let parsed = DcApiRequest::from_json(&json.to_string()).unwrap();
    let read = parsed.verify_signed(&origin(ORIGIN), key_of(&trusted), NOW, 60).unwrap();
    assert_eq!(read.client_id, format!("decentralized_identifier:{}", trusted.did));
    // Neither signature trusted.
    let error = parsed.verify_signed(&origin(ORIGIN), key_of(&party(10)), NOW, 60).unwrap_err();
    assert!(matches!(oid4vp(error), Oid4vpError::NoTrustedSignature { .. }));

    // An unprotected header (which could carry a client_id nobody signed) is refused.
    let mut unprotected = json.clone();
    unprotected["data"]["request"]["signatures"][0]["header"] = json!({"client_id": "x"});
    assert!(matches!(
        DcApiRequest::from_json(&unprotected.to_string()).unwrap_err(),
        Oid4vpError::InvalidDcApiRequest { .. }
    ));
    // A client_id in the payload beside the headers' is refused.
    let compact = built.sign(&trusted.key, &trusted.kid, NOW, 600).unwrap();
    let parts: Vec<&str> = compact.split('.').collect();
    let with_client_id = json!({"protocol": "openid4vp-v1-multisigned", "data": {"request": {
        "payload": parts[1], "signatures": [{"protected": parts[0], "signature": parts[2]}]}}});
    let error = DcApiRequest::from_json(&with_client_id.to_string())
        .unwrap()
        .verify_signed(&origin(ORIGIN), key_of(&trusted), NOW, 60)
        .unwrap_err();
    assert!(matches!(oid4vp(error), Oid4vpError::NoTrustedSignature { last } if last.contains("client_id")));
}

#[test]
fn a_dc_api_jwt_response_is_the_encrypted_parameters_only() {
    let verifier = party(11);
    let key = EncryptionKey::generate("k-1").unwrap();
    let built = AuthorizationRequest::new(&verifier.did, "https://verifier.example/r", random_nonce(), dcql())
        .with_encrypted_response(vec![key.public_jwk()], &[ContentEncryption::A128Gcm])
        .for_dc_api(&[origin(ORIGIN)]);
    assert_eq!(built.response_mode, "dc_api.jwt");
    assert!(built.wants_encrypted_response());
    let encryption = built.response_encryption().unwrap().unwrap();
    let response = AuthorizationResponse::new(BTreeMap::from([("enrolment".into(), vec!["p~".into()])]), None);
    let data = response.to_dc_api_jwt(&encryption).unwrap();
    assert_eq!(data.as_object().unwrap().len(), 1);
    let text = data.to_string();
    let plaintext = decrypt_dc_api_response(&text, &key, &[ContentEncryption::A128Gcm]).unwrap();
    assert_eq!(AuthorizationResponse::from_json(&plaintext).unwrap(), response);

    let offered = [ContentEncryption::A128Gcm];
    assert!(matches!(
        decrypt_dc_api_response(&response.to_json().to_string(), &key, &offered),
        Err(Oid4vpError::UnencryptedResponse)
    ));
    let mut padded = data.clone();
    padded["state"] = json!("x");
    assert!(matches!(
        decrypt_dc_api_response(&padded.to_string(), &key, &offered),
        Err(Oid4vpError::UnencryptedResponse)
    ));
    assert!(matches!(
        decrypt_dc_api_response(r#"{"error":"access_denied"}"#, &key, &offered),
        Err(Oid4vpError::ErrorResponse { error }) if error == "access_denied"
    ));
    let other = EncryptionKey::generate("k-2").unwrap();
    assert!(matches!(decrypt_dc_api_response(&text, &other, &offered), Err(Oid4vpError::Encryption(_))));
}

#[test]
fn an_x509_san_dns_request_over_the_dc_api_has_no_response_uri_to_check() {
    let verifier = party(12);
    let client = ClientId::parse("x509_san_dns:verifier.example").unwrap();
    let request = AuthorizationRequest::new(&verifier.did, "https://elsewhere.example/r", random_nonce(), dcql())
        .with_client_id(&client)
        .for_dc_api(&[origin(ORIGIN)]);
    assert!(request.validate().is_ok(), "no response_uri: the host rule does not apply");
    // Without the DC API, the rule holds.
    let redirect = AuthorizationRequest::new(&verifier.did, "https://elsewhere.example/r", random_nonce(), dcql())
        .with_client_id(&client);
    assert!(matches!(redirect.validate(), Err(Oid4vpError::InvalidClientId { .. })));
}
