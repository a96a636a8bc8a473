//! Answering requests: receive → request → prompt → decide → (parent) → response, checked the
//! way a verifier checks it; and each refusal of the consent rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::*;
use schooltas_did::{Resolver, Signer, SigningKey};
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, CredentialQuery, DcqlQuery, Oid4vpError, PresentedCredential,
};
use schooltas_school::catalog::Language;
use schooltas_school::consent::{ApprovalContext, ChildPresentation, UnverifiedGuardianApproval, UnverifiedWithdrawal};
use schooltas_school::date::CalendarDate;
use schooltas_school::{LegalBasis, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{KeyBinding, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions, issuer_key_via_did};
use schooltas_wallet::log::{Actor, LogEvent};
use schooltas_wallet::{AgeBand, Decision, Error, GuardianAnswer, Outcome, ResponseToSend, Wallet, WhoDecides};
use serde_json::Value;

/// What a verifier does with a response (until the verifier crate owns it): every
/// presentation's signatures and key binding, the DCQL query answered, and — when given — the
/// guardian approval bound to the child's presentations.
fn verify_response(
    response: &ResponseToSend,
    request: &AuthorizationRequest,
    resolver: &Resolver,
    now: i64,
) -> (AuthorizationResponse, BTreeMap<String, VerifiedSdJwt>) {
    assert!(response.discloses);
    assert_eq!(response.response_uri, request.response_uri);
    let parsed = schooltas_school::consent::response_from_form(&response.body).unwrap();
    assert!(parsed.state_matches(request.state.as_deref()));
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, &request.client_id));
    let mut verified = BTreeMap::new();
    let mut presented = BTreeMap::new();
    for (query_id, list) in &parsed.vp_token {
        assert_eq!(list.len(), 1);
        let one = UnverifiedSdJwt::parse(&list[0])
            .unwrap()
            .verify_with(|h, iss| issuer_key_via_did(resolver, h, iss), &options, now)
            .unwrap();
        presented.insert(query_id.clone(), vec![PresentedCredential::from_verified(&one)]);
        verified.insert(query_id.clone(), one);
    }
    let report = request.dcql_query.check_response(&presented).unwrap();
    assert!(report.is_satisfied(), "{:?}", report.failures);
    assert!(report.extra_claims.is_empty());
    (parsed, verified)
}

fn check_guardian_approval(
    parsed: &AuthorizationResponse,
    verified: &BTreeMap<String, VerifiedSdJwt>,
    request: &AuthorizationRequest,
    resolver: &Resolver,
    now: i64,
) -> Result<schooltas_school::consent::VerifiedGuardianApproval, schooltas_school::Error> {
    let jwt = schooltas_school::consent::guardian_approval(parsed).expect("a guardian approval");
    let approval = UnverifiedGuardianApproval::parse(jwt)?;
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, &request.client_id));
    let guardianship = UnverifiedSdJwt::parse(approval.guardianship())?.verify_with(
        |h, iss| issuer_key_via_did(resolver, h, iss),
        &options,
        now,
    )?;
    let presentations: Vec<ChildPresentation<'_>> =
        parsed.vp_token.iter().map(|(id, list)| ChildPresentation::new(id, &list[0])).collect();
    let child_id = verified.values().find_map(|v| v.claims().get("sub").and_then(Value::as_str));
    approval.verify(
        &guardianship,
        &ApprovalContext {
            audience: &request.client_id,
            nonce: &request.nonce,
            purpose: "newsletter",
            child_presentations: &presentations,
            child_id,
            now,
            max_age: 600,
            skew: 60,
        },
    )
}

const NEWSLETTER_CLAIMS: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];

#[test]
fn a_child_under_16_needs_the_parents_approval_and_gets_it() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01"); // 12 today

    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert_eq!(prompt.who_decides, WhoDecides::ChildAndParent);
    assert_eq!(prompt.age_band, AgeBand::From12To15);
    assert_eq!(prompt.verifier_name, "Basisschool De Linde (nieuwsbrief)");
    assert!(prompt.answerable);
    assert!(prompt.over_asking.is_empty(), "{:?}", prompt.over_asking);
    assert_eq!(prompt.items.len(), 1);
    let item = &prompt.items[0];
    assert_eq!(item.legal_basis, LegalBasis::Consent);
    assert_eq!(item.candidates.len(), 1);
    assert_eq!(item.candidates[0].unused_copies, 3);
    let labels: Vec<&str> = item.claims.iter().map(|c| c.label_nl.as_str()).collect();
    assert!(labels.contains(&"Groep of klas"), "{labels:?}");
    assert!(!prompt.has_special_category());
    let text = prompt.render(Language::Nl);
    assert!(text.contains("Jij én je ouder moeten ja zeggen"), "{text}");

    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!("a child under 16 cannot answer a consent request alone")
    };
    // The parent's wallet checks everything itself and shows exactly what is disclosed.
    let review = family.parent.review_child_request(&to_parent, &verifiers, NOW).unwrap();
    let shown: Vec<&str> = review.items[0].disclosed.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(shown.len(), 4, "{shown:?}");
    for claim in NEWSLETTER_CLAIMS {
        assert!(shown.contains(&claim), "{claim} shown to the parent");
    }
    let answer = family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    let response = family.child.complete_with_guardian(&answer, NOW).unwrap();

    let (parsed, verified) = verify_response(&response, &request, &resolver, NOW);
    let claims = verified["enrolment"].claims();
    assert_eq!(claims["group"], "7B");
    assert!(claims.get("birth_date").is_none() && claims.get("family_name").is_none());
    let approval = check_guardian_approval(&parsed, &verified, &request, &resolver, NOW).unwrap();
    assert_eq!(approval.relation, "parent");

    // Both logs tell the story; both chains verify.
    let child_log = family.child.log().unwrap();
    assert!(child_log.iter().any(|e| matches!(&e.event, LogEvent::Decision { by: Actor::Child, approved: true, .. })));
    assert!(child_log.iter().any(|e| matches!(&e.event, LogEvent::Decision { by: Actor::Parent, approved: true, .. })));
    assert!(child_log.iter().any(
        |e| matches!(&e.event, LogEvent::Disclosure { claims, purpose, .. } if claims.len() == 4 && purpose == "newsletter")
    ));
    let parent_log = family.parent.log().unwrap();
    assert!(
        parent_log.iter().any(|e| matches!(&e.event, LogEvent::Decision { by: Actor::Parent, approved: true, .. }))
    );
    // The consent is listed in the parent's wallet (who can withdraw it) and the child's.
    assert_eq!(family.parent.consents().unwrap().len(), 1);
    assert_eq!(family.child.consents().unwrap().len(), 1);
    assert!(matches!(family.child.withdraw(&family.child.consents().unwrap()[0].id, NOW), Err(Error::GivenByParent)));
}

#[test]
fn without_the_parents_approval_nothing_is_sent_and_a_parents_no_stops_it() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!("expected to wait for the parent")
    };
    // The child's wallet offers no way to send without an answer, and cannot decide twice.
    assert!(matches!(
        family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW),
        Err(Error::RequestAlreadyAnswered { .. })
    ));
    // A response without the approval, put together by hand, fails the approval check.
    let answer = family.parent.answer_child_request(&to_parent, false, &verifiers, NOW).unwrap();
    assert!(matches!(answer, GuardianAnswer::Denied { .. }));
    let refusal = family.child.complete_with_guardian(&answer, NOW).unwrap();
    assert!(!refusal.discloses);
    assert!(refusal.body.starts_with("error=access_denied"));
    assert!(matches!(
        schooltas_school::consent::response_from_form(&refusal.body),
        Err(Oid4vpError::ErrorResponse { error }) if error == "access_denied"
    ));
    assert!(family.child.consents().unwrap().is_empty());
    assert!(family.parent.consents().unwrap().is_empty());
    let log = family.child.log().unwrap();
    assert!(log.iter().any(|e| matches!(&e.event, LogEvent::Decision { by: Actor::Parent, approved: false, .. })));
    assert!(!log.iter().any(|e| matches!(&e.event, LogEvent::Disclosure { .. })));
}

#[test]
fn a_parent_approval_for_other_presentations_fails_at_the_verifier() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    // Two requests; the approval of the first is attached to the response of the second.
    let first = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let second = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let mut approvals = Vec::new();
    let mut child_requests = Vec::new();
    for request in [&first, &second] {
        let prompt = family.child.handle_request(&verifier.request_uri(request, NOW), &verifiers, NOW).unwrap();
        let Outcome::AwaitGuardian(to_parent) =
            family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
        else {
            panic!()
        };
        approvals.push(family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap());
        child_requests.push(to_parent);
    }
    let GuardianAnswer::Approved { approval: first_approval, .. } = &approvals[0] else { panic!() };
    let swapped =
        GuardianAnswer::Approved { request_id: child_requests[1].request_id.clone(), approval: first_approval.clone() };
    let response = family.child.complete_with_guardian(&swapped, NOW).unwrap();
    let (parsed, verified) = verify_response(&response, &second, &resolver, NOW);
    let error = check_guardian_approval(&parsed, &verified, &second, &resolver, NOW).unwrap_err();
    // The approval was made for the first request: its guardianship presentation's key-binding
    // nonce is the first request's, not the second's.
    assert!(matches!(error, schooltas_school::Error::SdJwt(schooltas_sd_jwt::Error::NonceMismatch)), "{error}");
}

#[test]
fn from_the_16th_birthday_the_young_person_decides_alone_and_the_parent_view_ends() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-2", "2011-01-16"); // 16 tomorrow
    let birthday = CalendarDate::parse("2027-01-16").unwrap().to_unix() + 9 * 3600;
    assert!(family.child.parent_view_of_log(NOW).is_ok());

    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, birthday), &verifiers, birthday).unwrap();
    assert_eq!(prompt.who_decides, WhoDecides::Holder);
    assert_eq!(prompt.age_band, AgeBand::Adult);
    let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::ApproveAll, birthday).unwrap()
    else {
        panic!("a 16-year-old answers alone")
    };
    let (parsed, verified) = verify_response(&response, &request, &resolver, birthday);
    assert!(schooltas_school::consent::guardian_approval(&parsed).is_none());
    assert_eq!(verified["enrolment"].claims()["group"], "7B");
    assert!(
        matches!(family.child.parent_view_of_log(birthday), Err(Error::ParentViewEnded { since }) if since == "2027-01-16")
    );

    // The consent is the young person's own, so they withdraw it with the key that gave it.
    let consents = family.child.consents().unwrap();
    assert_eq!(consents.len(), 1);
    let message = family.child.withdraw(&consents[0].id, birthday + 60).unwrap();
    assert_eq!(message.verifier, request.client_id);
    let withdrawal = UnverifiedWithdrawal::parse(&message.jwt).unwrap();
    assert_eq!(withdrawal.unverified_nonce(), request.nonce);
    let holder_key = verified["enrolment"].holder_key().unwrap();
    withdrawal.verify(holder_key, &request.client_id, birthday + 61, 60).unwrap();
    assert!(matches!(family.child.withdraw(&consents[0].id, birthday + 120), Err(Error::AlreadyWithdrawn { .. })));
    assert!(family.child.log().unwrap().iter().any(|e| matches!(&e.event, LogEvent::Withdrawal { .. })));
}

#[test]
fn a_parent_withdraws_the_consent_they_gave() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!()
    };
    let answer = family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    let response = family.child.complete_with_guardian(&answer, NOW).unwrap();
    let (parsed, verified) = verify_response(&response, &request, &resolver, NOW);
    let approval = check_guardian_approval(&parsed, &verified, &request, &resolver, NOW).unwrap();

    let consent = &family.parent.consents().unwrap()[0];
    // The consent names the child by the one-time link the approval bound to, not the DID.
    assert_eq!(consent.on_behalf_of.as_deref(), Some(to_parent.child_id.as_str()));
    assert_ne!(to_parent.child_id, family.child.owner().did().as_str());
    let message = family.parent.withdraw(&consent.id, NOW + 3600).unwrap();
    let withdrawal = UnverifiedWithdrawal::parse(&message.jwt).unwrap();
    // Signed by the key that approved: the register can check it against its evidence.
    withdrawal.verify(&approval.guardian_key, &request.client_id, NOW + 3600, 60).unwrap();
    let stranger = SigningKey::generate(schooltas_did::Algorithm::EdDsa).unwrap();
    let e = withdrawal.verify(stranger.verifying_key(), &request.client_id, NOW + 3600, 60).unwrap_err();
    assert!(matches!(e, schooltas_school::Error::Did(schooltas_did::Error::InvalidSignature)), "{e}");
    assert!(family.parent.consents().unwrap()[0].withdrawn_at.is_some());
}

#[test]
fn over_asking_is_flagged_in_the_prompt() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let request = newsletter_request(&verifier, &["group", "given_name", "sub", "birth_date"]);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert_eq!(prompt.over_asking.len(), 1, "{:?}", prompt.over_asking);
    assert!(prompt.over_asking[0].contains("birth_date"), "{}", prompt.over_asking[0]);
    let flagged: Vec<&str> = prompt.items[0].claims.iter().filter(|c| c.over_asked).map(|c| c.path.as_str()).collect();
    assert_eq!(flagged, ["birth_date"]);
    assert!(prompt.render(Language::En).contains("WARNING"));
}

#[test]
fn a_denial_sends_a_refusal_and_keeps_the_copies_unused() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let Outcome::Send(refusal) = family.child.decide(&prompt.request_id, Decision::Deny, NOW).unwrap() else {
        panic!("a child's no stops it without asking the parent")
    };
    assert!(!refusal.discloses);
    assert_eq!(refusal.body, "error=access_denied&state=session-81f2a");
    assert_eq!(family.child.credentials().unwrap()[0].unused_copies, 3);
    assert!(family.child.log().unwrap().iter().any(|e| matches!(&e.event, LogEvent::Decision { approved: false, .. })));
}

#[test]
fn an_unregistered_verifier_or_a_forged_request_is_refused_and_logged() {
    let school = School::new();
    let verifier = Verifier::new(21);
    let stranger = Verifier::new(22);
    let trust = trust_list(&verifier);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let request = newsletter_request(&stranger, &NEWSLETTER_CLAIMS);
    assert!(matches!(
        family.child.handle_request(&stranger.request_uri(&request, NOW), &verifiers, NOW),
        Err(Error::VerifierNotRegistered { .. })
    ));
    assert!(family.child.log().unwrap().iter().any(|e| matches!(&e.event, LogEvent::RequestRefused { .. })));
    // The registered verifier's client id, signed with the stranger's key.
    let forged = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let jwt = forged.sign(&stranger.key, &verifier.kid(), NOW, 600).unwrap();
    let uri = schooltas_oid4vc::oid4vp::AuthorizationRequestUri::ByValue {
        client_id: forged.client_id.clone(),
        request_jwt: jwt,
    }
    .to_uri();
    let e = family.child.handle_request(&uri, &verifiers, NOW).unwrap_err();
    assert!(
        matches!(
            e,
            schooltas_wallet::Error::Credential(schooltas_school::Error::Did(schooltas_did::Error::InvalidSignature))
        ),
        "{e}"
    );
    // An expired request object.
    let e = family.child.handle_request(&verifier.request_uri(&forged, NOW - 3600), &verifiers, NOW).unwrap_err();
    assert!(
        matches!(
            e,
            schooltas_wallet::Error::Credential(schooltas_school::Error::Oid4vp(
                schooltas_oid4vc::oid4vp::Oid4vpError::RequestObjectExpired { .. }
            ))
        ),
        "{e}"
    );
    // A standard request without purpose and legal basis that no single registered purpose
    // covers: given_name alone fits both the newsletter and the enrolment check (the wallet
    // does not guess), birth_date fits neither.
    for claims in [&["given_name"][..], &["birth_date"][..]] {
        let mut bare = newsletter_request(&verifier, claims);
        bare.extensions.remove(SchooltasExtension::MEMBER);
        assert!(matches!(
            family.child.handle_request(&verifier.request_uri(&bare, NOW), &verifiers, NOW),
            Err(Error::MissingPurpose)
        ));
    }
    // A malformed Schooltas member: refused as a malformed request, before anything uses it.
    let malformed = newsletter_request(&verifier, &NEWSLETTER_CLAIMS)
        .with_extension(SchooltasExtension::MEMBER, serde_json::json!({"purpose": "newsletter"}))
        .unwrap();
    assert!(matches!(
        family.child.handle_request(&verifier.request_uri(&malformed, NOW), &verifiers, NOW),
        Err(schooltas_wallet::Error::Credential(schooltas_school::Error::Oid4vp(
            schooltas_oid4vc::oid4vp::Oid4vpError::MalformedJson { what: "authorization request", .. }
        )))
    ));
    // An empty purpose code: the extension's own rule.
    let mut extension = newsletter_request(&verifier, &NEWSLETTER_CLAIMS).schooltas().unwrap().unwrap();
    extension.purpose.code.clear();
    let value = serde_json::to_value(&extension).unwrap();
    let empty =
        newsletter_request(&verifier, &NEWSLETTER_CLAIMS).with_extension(SchooltasExtension::MEMBER, value).unwrap();
    assert!(matches!(
        family.child.handle_request(&verifier.request_uri(&empty, NOW), &verifiers, NOW),
        Err(schooltas_wallet::Error::Credential(schooltas_school::Error::InvalidSchooltasExtension { .. }))
    ));
}

#[test]
fn a_legal_obligation_needs_no_consent_but_is_shown_and_logged() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let request =
        enrolment_check_request(&verifier, &["school_brin", "school_year"], LegalBasis::LegalObligation, 1825);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert_eq!(prompt.who_decides, WhoDecides::HolderNoConsentNeeded);
    assert!(prompt.over_asking.is_empty(), "{:?}", prompt.over_asking);
    let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("no parent approval for a legal obligation")
    };
    let (parsed, _) = verify_response(&response, &request, &resolver, NOW);
    assert!(schooltas_school::consent::guardian_approval(&parsed).is_none());
    assert!(family.child.consents().unwrap().is_empty(), "approval is not consent");
    assert!(family.child.log().unwrap().iter().any(|e| matches!(&e.event, LogEvent::Disclosure { .. })));
}

#[test]
fn a_subset_can_be_approved_only_if_it_still_answers() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-2", "2010-01-01"); // 17: answers alone
    // group or given name, as claim sets.
    let query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT])
        .claim_with_id("group", ClaimPath::claim("group"))
        .claim_with_id("name", ClaimPath::claim("given_name"))
        .claim_set(["group", "name"])
        .claim_set(["group"]);
    let request = AuthorizationRequest::new(
        &verifier.did,
        "https://delinde.example/oid4vp/response",
        schooltas_oid4vc::oid4vp::random_nonce(),
        DcqlQuery::builder().credential(query).build().unwrap(),
    )
    .with_schooltas(SchooltasExtension::new(
        purpose("newsletter", "Nieuwsbrief", "Newsletter"),
        LegalBasis::Consent,
        365,
    ))
    .unwrap();
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let without_group = BTreeMap::from([("enrolment".to_owned(), vec![ClaimPath::claim("given_name")])]);
    assert!(matches!(
        family.child.decide(&prompt.request_id, Decision::Approve(without_group), NOW),
        Err(Error::SelectionIncomplete { .. })
    ));
    let not_asked = BTreeMap::from([("enrolment".to_owned(), vec![ClaimPath::claim("birth_date")])]);
    assert!(matches!(
        family.child.decide(&prompt.request_id, Decision::Approve(not_asked), NOW),
        Err(Error::SelectionIncomplete { .. })
    ));
    let group_only = BTreeMap::from([("enrolment".to_owned(), vec![ClaimPath::claim("group")])]);
    let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::Approve(group_only), NOW).unwrap()
    else {
        panic!()
    };
    let (_, verified) = verify_response(&response, &request, &resolver, NOW);
    assert_eq!(verified["enrolment"].claims()["group"], "7B");
    assert!(verified["enrolment"].claims().get("given_name").is_none());
}

#[test]
fn each_copy_is_presented_once_while_unused_copies_remain() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-2", "2010-01-01");
    let mut keys = Vec::new();
    for round in 0..4 {
        let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
        let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
        assert_eq!(prompt.items[0].candidates[0].unused_copies, 3usize.saturating_sub(round));
        let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
        else {
            panic!()
        };
        let (_, verified) = verify_response(&response, &request, &resolver, NOW);
        keys.push(verified["enrolment"].holder_key().unwrap().thumbprint());
    }
    assert_ne!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
    assert_ne!(keys[0], keys[2]);
    assert_eq!(family.child.credentials().unwrap()[0].unused_copies, 0);
}

#[test]
fn the_log_exports_what_was_shared_and_detects_tampering() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-2", "2010-01-01");
    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap();
    let export: Value = serde_json::from_str(&family.child.export_log().unwrap()).unwrap();
    let text = export.to_string();
    for expected in ["credential_received", "request_received", "decision", "disclosure", "newsletter", "given_name"] {
        assert!(text.contains(expected), "{expected} in the export");
    }
    assert!(!text.contains("Sanne"), "the log names claims, never their values");
    // A parent's own wallet has no parent view.
    let e = family.parent.parent_view_of_log(NOW).unwrap_err();
    assert!(matches!(e, schooltas_wallet::Error::InvalidInput { .. }), "{e}");
    let _: &Wallet = &family.parent;
}

#[test]
fn a_credential_from_a_file_is_checked_before_it_is_stored() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let child = Wallet::create(
        vault(),
        schooltas_wallet::Role::Child { birth_date: CalendarDate::parse("2010-01-01").unwrap() },
        NOW,
    )
    .unwrap();
    let holder = SigningKey::generate(schooltas_did::Algorithm::EdDsa).unwrap();
    let claims = serde_json::json!({"sub": child.owner().did().as_str(), "school_name": "Basisschool De Linde",
        "school_brin": "12AB", "school_location": "00", "school_year": "2026-2027", "group": "7B",
        "given_name": "Sanne", "family_name": "de Vries", "birth_date": "2010-01-01", "age_over_12": true,
        "age_over_16": true});
    let issued = school
        .issuer
        .issue("pupil_enrolment", "pupil-9", claims.as_object().cloned().unwrap(), holder.verifying_key(), NOW)
        .unwrap();
    school.publish();
    let sd_jwt = issued.copies()[0].clone();
    let status = schooltas_status_list::StatusListCache::new(school.lists.clone());
    let issuer_key = |h: &schooltas_did::jws::Header, iss: Option<&str>| issuer_key_via_did(&resolver, h, iss);

    // Bound to another key, or tampered: refused, nothing stored.
    let other = SigningKey::generate(schooltas_did::Algorithm::EdDsa).unwrap();
    let e = child.add_credential(&sd_jwt, &other, &issuer_key, &status, NOW).unwrap_err();
    assert!(
        matches!(&e, schooltas_wallet::Error::InvalidInput { reason } if reason == "the credential is not bound to this holder key"),
        "{e}"
    );
    let tampered = sd_jwt.replacen("eyJ", "eyK", 1);
    let e = child.add_credential(&tampered, &holder, &issuer_key, &status, NOW).unwrap_err();
    assert!(
        matches!(
            e,
            schooltas_wallet::Error::Credential(schooltas_school::Error::Did(
                schooltas_did::Error::InvalidHeader { .. }
            ))
        ),
        "{e}"
    );
    assert!(child.credentials().unwrap().is_empty());

    let summary = child.add_credential(&sd_jwt, &holder, &issuer_key, &status, NOW).unwrap();
    assert_eq!(summary.vct, ENROLMENT);
    assert_eq!(summary.name.1, "Pupil enrolment");
    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let prompt = child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let Outcome::Send(response) = child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("16+: answers alone")
    };
    verify_response(&response, &request, &resolver, NOW);
}

#[test]
fn a_trust_list_kept_past_its_expiry_refuses_every_request() {
    let school = School::new();
    let verifier = Verifier::new(21);
    // Verified at NOW, valid 400 days; the wallet app keeps it and is used a year and more later.
    let trust = trust_list(&verifier);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let later = trust.expires_at() + 3_600;
    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let error = family.child.handle_request(&verifier.request_uri(&request, later), &verifiers, later).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Credential(schooltas_school::Error::TrustList(
                schooltas_school::trust_list::TrustListError::Expired { expires_at, now }
            )) if *expires_at == trust.expires_at() && *now == later
        ),
        "{error:?}"
    );
    // While it was valid, the same verifier was accepted.
    assert!(family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).is_ok());
}

#[test]
fn a_standard_request_without_the_schooltas_member_rests_on_the_registered_purpose_that_covers_it() {
    let (school, verifier, trust, resolver) = scene(8);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    // As an OpenID4VP verifier library builds it: DCQL only, no `schooltas` member.
    let mut bare = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    bare.extensions.remove(SchooltasExtension::MEMBER);
    let prompt = family.child.handle_request(&verifier.request_uri(&bare, NOW), &verifiers, NOW).unwrap();
    assert_eq!(prompt.purpose_source, schooltas_school::extension::PurposeSource::Registration);
    assert_eq!(prompt.purpose.code, "newsletter");
    assert_eq!(prompt.retention_days, 365, "the registration's longest retention");
    assert_eq!(prompt.items[0].legal_basis, LegalBasis::Consent);
    assert!(prompt.over_asking.is_empty(), "{:?}", prompt.over_asking);
    assert_eq!(prompt.who_decides, WhoDecides::ChildAndParent);
    let text = prompt.render(Language::En);
    assert!(text.contains("the request states none; from the verifier's registration in the trust list"), "{text}");

    // The parent's wallet reads the request object itself and comes to the same purpose.
    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!("a child under 16 cannot answer a consent request alone")
    };
    let review = family.parent.review_child_request(&to_parent, &verifiers, NOW).unwrap();
    assert_eq!(review.purpose_source, schooltas_school::extension::PurposeSource::Registration);
    assert_eq!(review.purpose.code, "newsletter");
    let answer = family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    let response = family.child.complete_with_guardian(&answer, NOW).unwrap();
    assert!(response.discloses);
    // The consent both wallets keep names the registered purpose.
    assert_eq!(family.parent.consents().unwrap()[0].purpose.code, "newsletter");

    // A request that states its purpose says so.
    let stated = family
        .child
        .handle_request(&verifier.request_uri(&newsletter_request(&verifier, &NEWSLETTER_CLAIMS), NOW), &verifiers, NOW)
        .unwrap();
    assert_eq!(stated.purpose_source, schooltas_school::extension::PurposeSource::Request);
}

#[test]
fn trusted_authorities_are_evaluated_before_anything_is_offered() {
    let (school, verifier, trust, resolver) = scene(9);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2010-03-01");
    let limited = |kind: &str, value: &str| {
        let mut request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
        request.dcql_query.credentials[0].trusted_authorities =
            Some(vec![schooltas_oid4vc::oid4vp::TrustedAuthoritiesQuery {
                kind: kind.into(),
                values: vec![value.into()],
            }]);
        verifier.request_uri(&request, NOW)
    };
    // Only credentials under a CA the school's (DID-signed, chainless) enrolment is not under:
    // nothing is offered, the request cannot be answered.
    let prompt = family.child.handle_request(&limited("aki", "s4aRAgABAgMEBQYHCAkKCwwNDg8Q"), &verifiers, NOW).unwrap();
    assert!(!prompt.answerable);
    assert!(prompt.items[0].candidates.is_empty());
    assert!(prompt.items[0].unchecked_authorities.is_empty(), "aki is checked");
    // A trusted list the wallet cannot read: offered, and the prompt says it could not check.
    let prompt =
        family.child.handle_request(&limited("etsi_tl", "https://lotl.example/tl.xml"), &verifiers, NOW).unwrap();
    assert!(prompt.answerable);
    assert_eq!(prompt.items[0].unchecked_authorities, ["etsi_tl"]);
    let text = prompt.render(Language::En);
    assert!(text.contains("the verifier accepts only issuers under etsi_tl; this wallet cannot check that"), "{text}");
}
