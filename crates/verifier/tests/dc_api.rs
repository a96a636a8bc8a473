//! The verifier's side of OpenID4VP over the W3C Digital Credentials API (OpenID4VP 1.0
//! Appendix A): the request a page passes to `navigator.credentials.get`, and the refusals of
//! `receive_dc_api` that need no wallet. The round trips with a wallet are in
//! `crates/wallet/tests/dc_api.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::jws::{self, Header};
use schooltas_did::{Did, DidUrl, PublicKey, Resolver, Signer as _, SigningKey, did_key};
use schooltas_oid4vc::oid4vp::{ClientId, CredentialQuery, DcApiProtocol, DcApiRequest, Oid4vpError, Origin};
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration};
use schooltas_school::{LegalBasis, LocalizedText};
use schooltas_sd_jwt::ClaimPath;
use schooltas_status_list::{InMemoryStatusLists, StatusListCache};
use schooltas_verifier::{Check, ContentEncryption, Error, RequestBuilder, VerificationContext, Verifier};
use serde_json::json;
use std::sync::Arc;

const NOW: i64 = 1_800_000_000;
const ORIGIN: &str = "https://club.example";

fn did_of(key: &SigningKey) -> Did {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()))
}

fn vct() -> String {
    Catalog::standard().get("pupil_enrolment").unwrap().vct().as_str().to_owned()
}

fn trust_list(verifier: &Did) -> VerifiedTrustList {
    let registration = VerifierRegistration::new(verifier.clone(), "Sportclub")
        .with_purpose(
            RegisteredPurpose::new(
                "membership",
                LocalizedText { nl: "Lidmaatschap".into(), en: "Membership".into() },
                LegalBasis::Consent,
                365,
            )
            .allow(vct(), vec![ClaimPath::claim("group"), ClaimPath::claim("sub")]),
        )
        .with_client_id(format!("origin:{ORIGIN}"));
    let operator = SigningKey::from_ed25519_seed(&[5; 32]);
    let kid = DidUrl::parse(&format!("{}#{}", did_of(&operator), did_of(&operator).method_specific_id())).unwrap();
    TrustList::new(did_of(&operator), NOW - 60, NOW + 86_400)
        .with_verifier(registration)
        .sign_and_verify(&operator, &kid, NOW, 60)
        .unwrap()
        .1
}

fn builder<'a>(desk: &Verifier, trust: &'a VerifiedTrustList) -> RequestBuilder<'a> {
    RequestBuilder::new(trust.at(NOW).unwrap(), desk.did(), desk.response_uri(), "membership")
        .credential(CredentialQuery::sd_jwt_vc("enrolment", [vct()]).claim(ClaimPath::claim("group")))
}

fn desk() -> Verifier {
    Verifier::new(SigningKey::from_ed25519_seed(&[2; 32]), "https://club.example/response")
        .unwrap()
        .with_ephemeral_response_encryption(&[ContentEncryption::A128Gcm])
}

fn origins() -> Vec<Origin> {
    vec![Origin::parse(ORIGIN).unwrap()]
}

/// A response naming `nonce` in an (unsigned-for-the-purpose) key binding: enough to find the
/// request; it could never be accepted.
fn naming(nonce: &str) -> String {
    let key = SigningKey::from_ed25519_seed(&[77; 32]);
    let kb = jws::sign_compact_json(&Header::new().with_typ("kb+jwt"), &json!({"nonce": nonce}), &key).unwrap();
    json!({"vp_token": {"enrolment": [format!("eyJhbGciOiJFZERTQSJ9.e30.c2ln~{kb}")]}}).to_string()
}

#[test]
fn a_dc_api_request_keeps_the_verifiers_client_and_origins_and_sends_what_its_protocol_allows() {
    let desk = desk();
    let trust = trust_list(desk.did());
    let unsigned = desk.dc_api_request(builder(&desk, &trust), DcApiProtocol::Unsigned, &origins(), NOW, 600).unwrap();
    assert_eq!(unsigned.request.client_id, desk.client_id());
    assert_eq!(unsigned.request.response_mode, "dc_api.jwt");
    assert_eq!(unsigned.request.expected_origins().unwrap(), origins());
    assert!(unsigned.dc_api.data().get("client_id").is_none());
    assert!(unsigned.dc_api.data().get("expected_origins").is_none());

    let signed = desk.dc_api_request(builder(&desk, &trust), DcApiProtocol::Signed, &origins(), NOW, 600).unwrap();
    let parsed = DcApiRequest::from_json(&signed.dc_api.to_json().to_string()).unwrap();
    let key = desk.did().clone();
    let read = parsed
        .verify_signed(
            &origins()[0],
            |_, client| {
                assert_eq!(client, &ClientId::Did(key.clone()));
                Ok(SigningKey::from_ed25519_seed(&[2; 32]).verifying_key().clone())
            },
            NOW,
            60,
        )
        .unwrap();
    assert_eq!(read.nonce, signed.request.nonce);
    assert_eq!(read.expected_origins().unwrap(), origins());
    assert!(read.response_encryption().unwrap().is_some(), "dc_api.jwt with the request's own key");
}

#[test]
fn a_dc_api_request_needs_an_origin_and_one_signature() {
    let desk = desk();
    let trust = trust_list(desk.did());
    let error = desk.dc_api_request(builder(&desk, &trust), DcApiProtocol::Signed, &[], NOW, 600).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Credential(schooltas_school::Error::Oid4vp(Oid4vpError::MissingParameter {
                name: "expected_origins"
            }))
        ),
        "{error:?}"
    );
    let error =
        desk.dc_api_request(builder(&desk, &trust), DcApiProtocol::MultiSigned, &origins(), NOW, 600).unwrap_err();
    assert!(
        matches!(error, Error::Credential(schooltas_school::Error::Oid4vp(Oid4vpError::InvalidDcApiRequest { .. }))),
        "{error:?}"
    );
}

#[test]
fn receive_dc_api_refuses_a_bad_origin_plaintext_a_declined_answer_and_a_redirect_flow_request() {
    let desk = desk();
    let trust = trust_list(desk.did());
    let resolver = Resolver::offline();
    let status = StatusListCache::new(Arc::new(InMemoryStatusLists::new()));
    let context = VerificationContext::new(&trust, &resolver, &status, NOW);
    let session = desk.dc_api_request(builder(&desk, &trust), DcApiProtocol::Unsigned, &origins(), NOW, 600).unwrap();
    let body = naming(&session.request.nonce);

    let received = desk.receive_dc_api(&body, "http://club.example", &context);
    assert!(received.verdict.failed(Check::Origin), "{:?}", received.verdict.failures);
    let received = desk.receive_dc_api(&body, ORIGIN, &context);
    assert!(received.verdict.failed(Check::Encryption), "plaintext to dc_api.jwt: {:?}", received.verdict.failures);
    let received = desk.receive_dc_api(r#"{"error":"access_denied"}"#, ORIGIN, &context);
    assert!(received.verdict.failed(Check::Response), "{:?}", received.verdict.failures);

    // A plaintext verifier: the answer names a request made for the redirect flow.
    let plain = Verifier::new(SigningKey::from_ed25519_seed(&[2; 32]), "https://club.example/response").unwrap();
    let redirect = plain.request(builder(&plain, &trust), NOW, 600).unwrap();
    let received = plain.receive_dc_api(&naming(&redirect.request.nonce), ORIGIN, &context);
    assert!(received.verdict.failed(Check::Response), "{:?}", received.verdict.failures);
    assert!(received.request.is_none());
    // Its own DC API request, at an origin it was not made for.
    let own = plain.dc_api_request(builder(&plain, &trust), DcApiProtocol::Unsigned, &origins(), NOW, 600).unwrap();
    assert_eq!(own.request.response_mode, "dc_api");
    let received = plain.receive_dc_api(&naming(&own.request.nonce), "https://phish.example", &context);
    assert!(received.verdict.failed(Check::Origin), "{:?}", received.verdict.failures);
    // Posted to the redirect flow's endpoint instead.
    let received = plain.receive(&naming(&own.request.nonce), &context);
    assert!(received.verdict.failed(Check::Response), "{:?}", received.verdict.failures);
    // At its origin the (forged) answer reaches the pipeline and fails there, unspent.
    let received = plain.receive_dc_api(&naming(&own.request.nonce), ORIGIN, &context);
    assert!(!received.verdict.is_accepted());
    assert!(received.request.is_some());
}
