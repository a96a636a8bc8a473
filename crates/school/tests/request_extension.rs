//! The `"schooltas"` member of an OpenID4VP request: carried by the generic request's
//! extensions, read back typed, and refused when malformed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::{Algorithm, PublicKey, Resolver, Signer, SigningKey, base64url, did_key};
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, CredentialQuery, DcqlQuery, Oid4vpError, UnverifiedRequestObject,
};
use schooltas_school::{Error, LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

fn newsletter() -> SchooltasExtension {
    SchooltasExtension::new(
        Purpose {
            code: "newsletter".into(),
            text: LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
        },
        LegalBasis::Consent,
        365,
    )
}

fn signed(request: &AuthorizationRequest, key: &SigningKey) -> String {
    let did = request.client_did().unwrap();
    let kid = did.with_fragment(did.method_specific_id()).unwrap();
    request.sign(key, &kid, NOW, 300).unwrap()
}

fn request(key: &SigningKey) -> AuthorizationRequest {
    let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    let query = DcqlQuery::builder()
        .credential(
            CredentialQuery::sd_jwt_vc("enrolment", ["https://schooltas.nl/credentials/enrolment/v1"])
                .claim(ClaimPath::claim("group")),
        )
        .build()
        .unwrap();
    AuthorizationRequest::new(&did, "https://school.example/oid4vp/response", "n-0123456789abcdef", query)
}

#[test]
fn the_extension_travels_as_the_schooltas_member_and_reads_back_typed() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let extension = newsletter().with_query_basis("enrolment", LegalBasis::PublicTask);
    let request = request(&key).with_schooltas(extension.clone()).unwrap();
    let jwt = signed(&request, &key);
    let payload: Value = serde_json::from_slice(&base64url::decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(payload["schooltas"]["legal_basis"], json!("consent"));
    assert_eq!(payload["schooltas"]["purpose"]["text"]["nl"], json!("Nieuwsbrief"));
    assert_eq!(payload["schooltas"]["query_bases"]["enrolment"], json!("public_task"));
    let received =
        UnverifiedRequestObject::parse(&jwt).unwrap().verify_with_resolver(&Resolver::offline(), NOW, 60).unwrap();
    assert_eq!(received, request);
    assert_eq!(received.schooltas().unwrap(), Some(extension.clone()));
    assert_eq!(SchooltasExtension::from_request(&received).unwrap(), Some(extension));
    // Without the member there is no extension; a null member counts as none.
    assert_eq!(SchooltasExtension::from_request(&self::request(&key)).unwrap(), None);
    let null = self::request(&key).with_extension(SchooltasExtension::MEMBER, Value::Null).unwrap();
    assert_eq!(null.schooltas().unwrap(), None);
}

#[test]
fn a_malformed_schooltas_member_is_refused_as_a_malformed_request() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    for member in [
        json!("newsletter"),
        json!({"purpose": "newsletter"}),
        json!({"purpose": {"code": "n", "text": {"nl": "x", "en": "y"}}, "legal_basis": "whim", "retention_days": 1}),
        json!({"purpose": {"code": "n", "text": {"nl": "x", "en": "y"}}, "legal_basis": "consent", "retention_days": -1}),
    ] {
        let request = request(&key).with_extension(SchooltasExtension::MEMBER, member).unwrap();
        // The generic request carries it; only the school's reading refuses it.
        let received = UnverifiedRequestObject::parse(&signed(&request, &key))
            .unwrap()
            .verify_with_resolver(&Resolver::offline(), NOW, 60)
            .unwrap();
        let error = SchooltasExtension::from_request(&received).unwrap_err();
        assert!(
            matches!(error, Error::Oid4vp(Oid4vpError::MalformedJson { what: "authorization request", .. })),
            "{error}"
        );
    }
}

#[test]
fn the_extension_rules_are_checked_when_applied_and_when_read() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let mut empty = newsletter();
    empty.purpose.code.clear();
    let error = empty.clone().apply(request(&key)).unwrap_err();
    assert!(matches!(error, Error::InvalidSchooltasExtension { reason: "the purpose code is empty" }), "{error}");
    let unknown_query = newsletter().with_query_basis("photo", LegalBasis::Consent);
    let error = request(&key).with_schooltas(unknown_query.clone()).unwrap_err();
    assert!(matches!(error, Error::InvalidSchooltasExtension { .. }), "{error}");
    // The same rules when a request carries them (a hand-made request object).
    for bad in [empty, unknown_query] {
        let request =
            request(&key).with_extension(SchooltasExtension::MEMBER, serde_json::to_value(bad).unwrap()).unwrap();
        let error = request.schooltas().unwrap_err();
        assert!(matches!(error, Error::InvalidSchooltasExtension { .. }), "{error}");
    }
}
