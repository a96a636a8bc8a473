//! OpenID4VP over the W3C Digital Credentials API (OpenID4VP 1.0 Appendix A, HAIP 1.0 §5.1),
//! at message level: the real verifier (`schooltas_verifier::Verifier::dc_api_request`) makes
//! the `{protocol, data}` its page passes to `navigator.credentials.get`, the wallet reads it
//! with the origin the platform reports (`Wallet::handle_dc_api_request`), and the verifier
//! takes the `data` the page got back (`receive_dc_api`) with the origin the page saw.
//!
//! No browser or platform wallet is driven here: what they would pass is passed directly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    ENROLMENT, NOW, SCHOOL_DID, School, Verifier, did_of, family, newsletter_request, paths, resign, verifiers,
};
use schooltas_did::{Algorithm, Did, Signer as _, SigningKey, jws::Header};
use schooltas_oid4vc::oid4vp::{
    ClientId, CredentialQuery, DcApiProtocol, DcApiRequest, DcApiSignature, Oid4vpError, Origin,
};
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{
    AccreditedIssuer, RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText};
use schooltas_status_list::StatusListCache;
use schooltas_verifier::{
    Check, ConsentRegister, ContentEncryption, DcApiSession, RequestBuilder, SqliteConsentStore, VerificationContext,
    WithdrawnBy,
};
use schooltas_wallet::log::LogEvent;
use schooltas_wallet::{Decision, Error, Outcome, WhoDecides};
use schooltas_x509::{CertificateAuthority, CertificateChain, Profile, Subject, Validity};
use serde_json::Value;

const CLAIMS: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];
const ORIGIN: &str = "https://nieuwsbrief.delinde.example";
const SECOND_ORIGIN: &str = "https://www.delinde.example";
const STRANGER_ORIGIN: &str = "https://phish.example";
/// A 12-year-old: the parent approves.
const CHILD_BIRTH: &str = "2014-09-01";
/// A 16-year-old: decides alone.
const YOUNG_PERSON_BIRTH: &str = "2010-06-01";

fn origin(text: &str) -> Origin {
    Origin::parse(text).unwrap()
}

/// The school accredited for every standard type, and `verifier` registered for the newsletter
/// under `client_ids` (`origin:…`, `x509_hash:…`), with `anchor` as X.509 trust anchor.
fn trust_list(verifier: &Did, anchor: Option<&[u8]>, client_ids: &[String]) -> VerifiedTrustList {
    let mut school = AccreditedIssuer::new(Did::parse(SCHOOL_DID).unwrap(), "Basisschool De Linde").with_brin("12AB");
    for credential_type in Catalog::standard().iter() {
        school = school.accredited_for(credential_type.vct().as_str());
    }
    let mut registration = VerifierRegistration::new(verifier.clone(), "Basisschool De Linde (nieuwsbrief)")
        .with_purpose(
            RegisteredPurpose::new(
                "newsletter",
                LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
                LegalBasis::Consent,
                365,
            )
            .allow(ENROLMENT, paths(&CLAIMS)),
        );
    for client_id in client_ids {
        registration = registration.with_client_id(client_id.clone());
    }
    let operator = SigningKey::from_ed25519_seed(&[9; 32]);
    let mut list = TrustList::new(did_of(&operator), NOW - 3600, NOW + 400 * 86_400);
    if let Some(anchor) = anchor {
        list = list.with_x509_trust_anchor(anchor);
    }
    resign(list.with_issuer(school).with_verifier(registration))
}

/// The newsletter desk: the real verifier, with a fresh encryption key per request (HAIP).
fn desk(key: SigningKey) -> schooltas_verifier::Verifier {
    schooltas_verifier::Verifier::new(key, "https://delinde.example/oid4vp/response")
        .unwrap()
        .with_ephemeral_response_encryption(&[ContentEncryption::A128Gcm])
}

fn ask(
    desk: &schooltas_verifier::Verifier,
    trust: &VerifiedTrustList,
    protocol: DcApiProtocol,
    origins: &[&str],
) -> DcApiSession {
    let query =
        paths(&CLAIMS).into_iter().fold(CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]), |q, p| q.claim(p));
    let builder = RequestBuilder::new(trust.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
        .retention_days(365)
        .credential(query);
    let origins: Vec<Origin> = origins.iter().map(|o| origin(o)).collect();
    desk.dc_api_request(builder, protocol, &origins, NOW, 600).unwrap()
}

fn context<'a>(
    trust: &'a VerifiedTrustList,
    resolver: &'a schooltas_did::Resolver,
    status: &'a StatusListCache,
) -> VerificationContext<'a> {
    VerificationContext::new(trust, resolver, status, NOW)
}

/// The holder (16 or over) approves everything: the `data` the page gets back.
fn answer_alone(wallet: &schooltas_wallet::Wallet, prompt_id: &str) -> String {
    let Outcome::Send(response) = wallet.decide(prompt_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a young person of 16 decides alone")
    };
    response.dc_api_data().expect("over the DC API the answer goes back through the platform").to_owned()
}

fn oid4vp_error(error: Error) -> Oid4vpError {
    match error {
        Error::Credential(schooltas_school::Error::Oid4vp(error)) => error,
        other => panic!("expected an OpenID4VP refusal, got {other:?}"),
    }
}

#[test]
fn an_unsigned_request_from_a_registered_origin_is_answered_with_the_parents_approval() {
    let school = School::new();
    let key = SigningKey::from_ed25519_seed(&[41; 32]);
    let desk = desk(key);
    let trust = trust_list(desk.did(), None, &[format!("origin:{ORIGIN}")]);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", CHILD_BIRTH);
    let status = StatusListCache::new(school.lists.clone());

    let session = ask(&desk, &trust, DcApiProtocol::Unsigned, &[ORIGIN]);
    let json = session.dc_api.to_json();
    assert_eq!(json["protocol"], "openid4vp-v1-unsigned");
    let data = &json["data"];
    assert_eq!(data["response_mode"], "dc_api.jwt");
    for absent in ["client_id", "expected_origins", "response_uri", "state"] {
        assert!(data.get(absent).is_none(), "an unsigned DC API request has no {absent}");
    }
    assert!(data["client_metadata"]["jwks"]["keys"][0]["kid"].is_string(), "the request's own key");

    // The child's wallet: the origin names the registered verifier; the parent approves.
    let prompt = family.child.handle_dc_api_request(&json.to_string(), ORIGIN, &verifiers, NOW).unwrap();
    assert_eq!(prompt.verifier_name, "Basisschool De Linde (nieuwsbrief)");
    assert_eq!(prompt.verifier_client_id, format!("origin:{ORIGIN}"));
    assert_eq!(prompt.who_decides, WhoDecides::ChildAndParent);
    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!("a 12-year-old's consent waits for the parent")
    };
    assert_eq!(to_parent.dc_api_origin.as_deref(), Some(ORIGIN));
    let review = family.parent.review_child_request(&to_parent, &verifiers, NOW).unwrap();
    assert_eq!(review.verifier_client_id, format!("origin:{ORIGIN}"));
    let answer = family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    let response = family.child.complete_with_guardian(&answer, NOW).unwrap();
    let returned = response.dc_api_data().unwrap();
    let returned_json: Value = serde_json::from_str(returned).unwrap();
    assert_eq!(returned_json.as_object().unwrap().len(), 1, "only the encrypted response: {returned_json}");
    assert!(returned_json["response"].as_str().unwrap().split('.').count() == 5, "a compact JWE");

    // The desk: decrypts, checks the origin, key binding and guardian approval to origin:<origin>.
    let received = desk.receive_dc_api(returned, ORIGIN, &context(&trust, &resolver, &status));
    assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
    assert!(received.verdict.guardian_approval.is_some(), "the parent's approval was verified");
    assert_eq!(received.verdict.claims("enrolment").unwrap()["group"], "7B");

    // The desk records the consent; the parent's withdrawal names the audience the consent was
    // given to (origin:<origin>) and is applied to it.
    let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());
    let consent_id = desk.record_consent(&register, &received, NOW).unwrap();
    let given = family.parent.consents().unwrap().into_iter().next().unwrap();
    assert_eq!(given.verifier, format!("origin:{ORIGIN}"));
    let withdrawal = family.parent.withdraw(&given.id, NOW + 60).unwrap();
    let (withdrawn, by) = desk.apply_withdrawal_by(&register, &withdrawal.jwt, NOW + 61).unwrap();
    assert_eq!((withdrawn, by), (consent_id, WithdrawnBy::Approver));

    // The same data again: a replay.
    let again = desk.receive_dc_api(returned, ORIGIN, &context(&trust, &resolver, &status));
    assert!(again.verdict.failed(Check::Replay), "{:?}", again.verdict.failures);
    assert!(again.request.is_none());
}

#[test]
fn an_unsigned_request_from_an_unregistered_origin_never_reaches_the_prompt() {
    let school = School::new();
    let desk = desk(SigningKey::from_ed25519_seed(&[42; 32]));
    let trust = trust_list(desk.did(), None, &[format!("origin:{ORIGIN}")]);
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", YOUNG_PERSON_BIRTH);
    let session = ask(&desk, &trust, DcApiProtocol::Unsigned, &[ORIGIN]);

    // A phishing page replays the desk's unsigned request: the wallet knows the caller only by
    // its origin, which no verifier registered.
    let error = family
        .child
        .handle_dc_api_request(
            &session.dc_api.to_json().to_string(),
            STRANGER_ORIGIN,
            &verifiers(&trust, &resolver),
            NOW,
        )
        .unwrap_err();
    assert!(
        matches!(&error, Error::VerifierNotRegistered { did } if did == &format!("origin:{STRANGER_ORIGIN}")),
        "{error:?}"
    );
    let last = family.child.log().unwrap().last().unwrap().event.clone();
    assert!(
        matches!(last, LogEvent::RequestRefused { verifier, .. } if verifier == format!("origin:{STRANGER_ORIGIN}"))
    );
    assert!(family.child.pending_requests().unwrap().is_empty());

    // A client_id the page slips into an unsigned request is ignored (Appendix A.2): it does
    // not make the request the registered verifier's.
    let mut forged = session.dc_api.to_json();
    forged["data"]["client_id"] = Value::String(desk.client_id());
    let error = family
        .child
        .handle_dc_api_request(&forged.to_string(), STRANGER_ORIGIN, &verifiers(&trust, &resolver), NOW)
        .unwrap_err();
    assert!(matches!(error, Error::VerifierNotRegistered { .. }), "{error:?}");
}

#[test]
fn a_signed_request_from_a_did_verifier_is_answered_and_bound_to_the_origin() {
    let school = School::new();
    let desk = desk(SigningKey::from_ed25519_seed(&[43; 32]));
    // No origin registered: a signed request is authenticated by its client id.
    let trust = trust_list(desk.did(), None, &[]);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", YOUNG_PERSON_BIRTH);
    let status = StatusListCache::new(school.lists.clone());

    let session = ask(&desk, &trust, DcApiProtocol::Signed, &[ORIGIN, SECOND_ORIGIN]);
    let json = session.dc_api.to_json();
    assert_eq!(json["protocol"], "openid4vp-v1-signed");
    assert_eq!(json["data"].as_object().unwrap().len(), 1);
    assert!(json["data"]["request"].as_str().unwrap().split('.').count() == 3);

    let prompt = family.child.handle_dc_api_request(&json.to_string(), ORIGIN, &verifiers, NOW).unwrap();
    assert_eq!(prompt.verifier_client_id, desk.client_id());
    assert_eq!(prompt.who_decides, WhoDecides::Holder);
    let returned = answer_alone(&family.child, &prompt.request_id);

    // Appendix A.4: the key binding names origin:<origin>, not the client id, for signed
    // requests too. The page at the second expected origin posting it is another audience.
    let at_second = desk.receive_dc_api(&returned, SECOND_ORIGIN, &context(&trust, &resolver, &status));
    assert!(at_second.verdict.failed(Check::Audience), "{:?}", at_second.verdict.failures);
    // A page the request was not made for.
    let at_stranger = desk.receive_dc_api(&returned, STRANGER_ORIGIN, &context(&trust, &resolver, &status));
    assert!(at_stranger.verdict.failed(Check::Origin), "{:?}", at_stranger.verdict.failures);
    assert!(at_stranger.request.is_none());
    // Neither refusal spent the request: the genuine answer is accepted.
    let received = desk.receive_dc_api(&returned, ORIGIN, &context(&trust, &resolver, &status));
    assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
    assert!(received.request.unwrap().is_dc_api());
}

#[test]
fn a_signed_request_passed_by_an_origin_not_in_expected_origins_is_refused() {
    let school = School::new();
    let desk = desk(SigningKey::from_ed25519_seed(&[44; 32]));
    let trust = trust_list(desk.did(), None, &[]);
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", YOUNG_PERSON_BIRTH);
    let session = ask(&desk, &trust, DcApiProtocol::Signed, &[ORIGIN]);
    let error = family
        .child
        .handle_dc_api_request(
            &session.dc_api.to_json().to_string(),
            STRANGER_ORIGIN,
            &verifiers(&trust, &resolver),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(oid4vp_error(error), Oid4vpError::OriginNotExpected { origin } if origin == STRANGER_ORIGIN),);
    // Simple string comparison (Appendix A.2): a trailing slash or other case is another origin.
    for near in ["https://NIEUWSBRIEF.delinde.example", "https://nieuwsbrief.delinde.example:443"] {
        let error = family
            .child
            .handle_dc_api_request(&session.dc_api.to_json().to_string(), near, &verifiers(&trust, &resolver), NOW)
            .unwrap_err();
        // Spellings a browser never writes are not origins at all.
        assert!(matches!(oid4vp_error(error), Oid4vpError::InvalidOrigin { .. }), "{near}");
    }
    let error = family
        .child
        .handle_dc_api_request(
            &session.dc_api.to_json().to_string(),
            "https://nieuwsbrief.delinde.example:8443",
            &verifiers(&trust, &resolver),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(oid4vp_error(error), Oid4vpError::OriginNotExpected { .. }), "another port");
    // The signed request in an openid4vp:// link: outside the API no origin is vouched for.
    let jwt = session.dc_api.data()["request"].as_str().unwrap().to_owned();
    let link = schooltas_oid4vc::oid4vp::AuthorizationRequestUri::ByValue {
        client_id: session.request.client_id.clone(),
        request_jwt: jwt,
    }
    .to_uri();
    let error = family.child.handle_request(&link, &verifiers(&trust, &resolver), NOW).unwrap_err();
    assert!(matches!(oid4vp_error(error), Oid4vpError::UnsupportedResponseMode { .. }));
    let error = family
        .child
        .handle_dc_api_request(
            &session.dc_api.to_json().to_string(),
            "http://nieuwsbrief.delinde.example",
            &verifiers(&trust, &resolver),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(oid4vp_error(error), Oid4vpError::InvalidOrigin { .. }));
    assert!(family.child.pending_requests().unwrap().is_empty());
}

fn root_ca() -> CertificateAuthority<SigningKey> {
    CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Stichting Schooltas", "Schooltas Root CA").unwrap(),
        Validity::days_from(NOW - 86_400, 3650).unwrap(),
        Some(0),
        Profile::Haip,
    )
    .unwrap()
}

fn certificate(ca: &CertificateAuthority<SigningKey>, key: &SigningKey) -> CertificateChain {
    ca.issue_verifier_certificate(
        key.verifying_key(),
        "delinde.example",
        &Subject::new("Basisschool De Linde", "De Linde nieuwsbrief").unwrap(),
        Validity::days_from(NOW - 3600, 365).unwrap(),
    )
    .unwrap()
    .into_chain()
}

#[test]
fn a_signed_request_from_an_x509_hash_verifier_is_answered_with_its_guardian_approval() {
    let school = School::new();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let ca = root_ca();
    let chain = certificate(&ca, &key);
    let client = ClientId::X509Hash(chain.leaf_x509_hash());
    let desk = desk(key).with_x509_client(client.clone(), chain).unwrap();
    let trust = trust_list(desk.did(), Some(ca.certificate_der()), &[client.to_string()]);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", CHILD_BIRTH);
    let status = StatusListCache::new(school.lists.clone());

    let session = ask(&desk, &trust, DcApiProtocol::Signed, &[ORIGIN]);
    assert_eq!(session.request.client_id, client.to_string());
    let prompt =
        family.child.handle_dc_api_request(&session.dc_api.to_json().to_string(), ORIGIN, &verifiers, NOW).unwrap();
    assert_eq!(prompt.verifier_client_id, client.to_string());
    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!("the parent approves")
    };
    let answer = family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    let response = family.child.complete_with_guardian(&answer, NOW).unwrap();
    let received = desk.receive_dc_api(response.dc_api_data().unwrap(), ORIGIN, &context(&trust, &resolver, &status));
    assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
    assert!(received.verdict.guardian_approval.is_some());
}

#[test]
fn a_plaintext_answer_or_one_to_another_requests_key_is_refused() {
    let school = School::new();
    let desk = desk(SigningKey::from_ed25519_seed(&[45; 32]));
    let trust = trust_list(desk.did(), None, &[format!("origin:{ORIGIN}")]);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", YOUNG_PERSON_BIRTH);
    let status = StatusListCache::new(school.lists.clone());

    // A plaintext response where dc_api.jwt was asked.
    let plaintext = r#"{"vp_token":{"enrolment":["eyJhbGciOiJFZERTQSJ9.e30.c2ln~"]}}"#;
    let received = desk.receive_dc_api(plaintext, ORIGIN, &context(&trust, &resolver, &status));
    assert!(received.verdict.failed(Check::Encryption), "{:?}", received.verdict.failures);
    // A response object with a member beside the JWE is not one encrypted response either.
    let first = ask(&desk, &trust, DcApiProtocol::Unsigned, &[ORIGIN]);
    let prompt =
        family.child.handle_dc_api_request(&first.dc_api.to_json().to_string(), ORIGIN, &verifiers, NOW).unwrap();
    let returned = answer_alone(&family.child, &prompt.request_id);
    let mut padded: Value = serde_json::from_str(&returned).unwrap();
    padded["vp_token"] = Value::String("x".into());
    let received = desk.receive_dc_api(&padded.to_string(), ORIGIN, &context(&trust, &resolver, &status));
    assert!(received.verdict.failed(Check::Encryption), "{:?}", received.verdict.failures);

    // The second request's parameters with the first request's key (an unsigned request can be
    // changed on the way): the answer names the second request's nonce but is encrypted to the
    // key of the first, and is refused.
    let second = ask(&desk, &trust, DcApiProtocol::Unsigned, &[ORIGIN]);
    let mut swapped = second.dc_api.to_json();
    swapped["data"]["client_metadata"] = first.dc_api.to_json()["data"]["client_metadata"].clone();
    let prompt = family.child.handle_dc_api_request(&swapped.to_string(), ORIGIN, &verifiers, NOW).unwrap();
    let returned_swapped = answer_alone(&family.child, &prompt.request_id);
    let received = desk.receive_dc_api(&returned_swapped, ORIGIN, &context(&trust, &resolver, &status));
    assert!(received.verdict.failed(Check::Encryption), "{:?}", received.verdict.failures);
    assert!(received.request.is_none());

    // The genuine answer to the first still goes through; then it is spent.
    let received = desk.receive_dc_api(&returned, ORIGIN, &context(&trust, &resolver, &status));
    assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
    let again = desk.receive_dc_api(&returned, ORIGIN, &context(&trust, &resolver, &status));
    assert!(again.verdict.failed(Check::Replay), "{:?}", again.verdict.failures);
}

#[test]
fn a_multi_signed_request_is_accepted_when_one_signature_is_a_registered_clients() {
    let school = School::new();
    let registered = Verifier::new(46);
    let stranger = Verifier::new(47);
    let trust = trust_list(&registered.did, None, &[]);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", YOUNG_PERSON_BIRTH);

    let request = newsletter_request(&registered, &CLAIMS).for_dc_api(&[origin(ORIGIN)]);
    fn signature(verifier: &Verifier) -> DcApiSignature<'_> {
        DcApiSignature {
            client: ClientId::Did(verifier.did.clone()),
            signer: &verifier.key,
            header: Header::new().with_kid(verifier.kid().as_str()),
        }
    }
    // The stranger's signature first: it is skipped, the registered verifier's is used.
    let both = DcApiRequest::multisigned(&request, &[signature(&stranger), signature(&registered)], NOW, 600).unwrap();
    let json = both.to_json();
    assert_eq!(json["protocol"], "openid4vp-v1-multisigned");
    assert_eq!(json["data"]["request"]["signatures"].as_array().unwrap().len(), 2);
    let prompt = family.child.handle_dc_api_request(&json.to_string(), ORIGIN, &verifiers, NOW).unwrap();
    assert_eq!(prompt.verifier_client_id, registered.client_id());
    let returned = answer_alone(&family.child, &prompt.request_id);
    // `dc_api` (not encrypted): the response parameters themselves.
    let returned: Value = serde_json::from_str(&returned).unwrap();
    assert!(returned["vp_token"]["enrolment"].is_array());

    // Only the stranger's signature: no trusted one.
    let alone = DcApiRequest::multisigned(&request, &[signature(&stranger)], NOW, 600).unwrap();
    let error = family.child.handle_dc_api_request(&alone.to_json().to_string(), ORIGIN, &verifiers, NOW).unwrap_err();
    assert!(matches!(oid4vp_error(error), Oid4vpError::NoTrustedSignature { .. }));
    // Both signatures, from a page the request does not expect.
    let error = family.child.handle_dc_api_request(&json.to_string(), STRANGER_ORIGIN, &verifiers, NOW).unwrap_err();
    assert!(matches!(oid4vp_error(error), Oid4vpError::OriginNotExpected { .. }));
}
