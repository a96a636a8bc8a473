//! Guardian approvals and consent withdrawals: a parent approves a child's presentation, the
//! verifier checks it; every binding rule is shown to refuse a forged or changed input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::jws::{self, Header};
use schooltas_did::{Algorithm, PublicKey, Signer, SigningKey, did_key};
use schooltas_school::Error;
use schooltas_school::LegalBasis;
use schooltas_school::catalog::Catalog;
use schooltas_school::consent::{
    ApprovalContext, ApprovedPresentation, ChildPresentation, ConsentError, ConsentWithdrawal, GuardianApproval,
    UnverifiedGuardianApproval, UnverifiedWithdrawal, VerifiedGuardianApproval,
};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{
    HolderSdJwt, KeyBinding, KeyBindingInput, RandomSalts, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions,
};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000; // 2027-01-15
const AUD: &str = "decentralized_identifier:did:web:school.example";
const NONCE: &str = "Qm9va3NoZWxmLW5vbmNlLTE";
const SCHOOL: &str = "did:web:school.example";

struct Family {
    school: SigningKey,
    parent: SigningKey,
    child_id: String,
    enrolment: String,
    enrolment_key: SigningKey,
    guardianship: String,
    guardianship_key: SigningKey,
}

fn did_of(key: &SigningKey) -> String {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone())).to_string()
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn family(valid_until: &str) -> Family {
    let catalog = Catalog::standard();
    let school = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let parent = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let child_identity = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let child_id = did_of(&child_identity);
    let enrolment_key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let enrolment = catalog
        .get("pupil_enrolment")
        .unwrap()
        .builder(
            SCHOOL,
            NOW - 86_400,
            object(json!({
                "sub": child_id, "school_name": "De Linde", "school_brin": "12AB", "school_location": "00",
                "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "Jansen",
                "birth_date": "2015-03-01", "age_over_12": false, "age_over_16": false,
            })),
        )
        .unwrap()
        .holder_key(enrolment_key.verifying_key())
        .issue(&school, &mut RandomSalts)
        .unwrap()
        .to_string();
    // The guardianship credential is bound to the parent's own key.
    let guardianship_key = SigningKey::from_jwk_json(&parent.to_private_jwk()).unwrap();
    let guardianship = catalog
        .get("guardianship")
        .unwrap()
        .builder(
            SCHOOL,
            NOW - 86_400,
            object(json!({
                "guardian_id": did_of(&parent), "child_id": child_id, "relation": "parent",
                "child_birth_date": "2015-03-01", "valid_until": valid_until, "school_brin": "12AB",
            })),
        )
        .unwrap()
        .holder_key(guardianship_key.verifying_key())
        .issue(&school, &mut RandomSalts)
        .unwrap()
        .to_string();
    Family { school, parent, child_id, enrolment, enrolment_key, guardianship, guardianship_key }
}

fn present(credential: &str, key: &SigningKey, paths: &[&str], nonce: &str, aud: &str) -> String {
    let paths: Vec<ClaimPath> = paths.iter().map(|p| ClaimPath::claim(*p)).collect();
    let kb = KeyBindingInput { nonce: nonce.into(), audience: aud.into(), issued_at: NOW };
    HolderSdJwt::parse(credential).unwrap().present(&paths, Some((key, &kb))).unwrap()
}

fn approval_for(family: &Family, child_presentation: &str) -> GuardianApproval {
    GuardianApproval {
        audience: AUD.into(),
        nonce: NONCE.into(),
        issued_at: NOW,
        purpose: "newsletter".into(),
        legal_basis: LegalBasis::Consent,
        child_id: family.child_id.clone(),
        presentations: vec![ApprovedPresentation {
            credential_query_id: "enrolment".into(),
            sd_hash: UnverifiedSdJwt::parse(child_presentation).unwrap().sd_hash(),
        }],
        transaction_data_hashes: vec![],
        guardianship: present(&family.guardianship, &family.guardianship_key, &[], NONCE, AUD),
    }
}

fn verify_sd_jwt(family: &Family, presentation: &str, nonce: &str, aud: &str) -> VerifiedSdJwt {
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(nonce, aud));
    UnverifiedSdJwt::parse(presentation).unwrap().verify(family.school.verifying_key(), &options, NOW).unwrap()
}

/// The verifier's side: verify the child's presentation and the guardianship, then the approval.
fn check(
    family: &Family,
    approval_jwt: &str,
    child_presentations: &[(&str, &str)],
    now: i64,
) -> Result<VerifiedGuardianApproval, Error> {
    let child_id = child_presentations
        .iter()
        .map(|(_, p)| verify_sd_jwt(family, p, NONCE, AUD))
        .find_map(|v| v.claims().get("sub").and_then(Value::as_str).map(str::to_owned));
    let approval = UnverifiedGuardianApproval::parse(approval_jwt)?;
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(NONCE, AUD));
    let guardianship =
        UnverifiedSdJwt::parse(approval.guardianship())?.verify(family.school.verifying_key(), &options, now)?;
    let child_presentations: Vec<ChildPresentation<'_>> =
        child_presentations.iter().map(|(id, p)| ChildPresentation::new(id, p)).collect();
    let context = ApprovalContext {
        audience: AUD,
        nonce: NONCE,
        purpose: "newsletter",
        child_presentations: &child_presentations,
        child_id: child_id.as_deref(),
        now,
        max_age: 600,
        skew: 60,
    };
    approval.verify(&guardianship, &context)
}

fn consent_error(result: Result<VerifiedGuardianApproval, Error>) -> ConsentError {
    match result {
        Err(Error::Consent(error)) => error,
        other => panic!("expected a consent error, got {other:?}"),
    }
}

#[test]
fn a_parents_approval_of_the_childs_presentation_verifies() {
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let jwt = approval_for(&family, &child).sign(&family.parent).unwrap();
    let verified = check(&family, &jwt, &[("enrolment", &child)], NOW).unwrap();
    assert_eq!(verified.relation, "parent");
    assert_eq!(verified.valid_until.to_string(), "2031-03-01");
    assert_eq!(&verified.guardian_key, family.parent.verifying_key());
    assert_eq!(verified.approval.child_id, family.child_id);
    // Debug output of the approval shows no presentation (it holds personal data).
    assert!(!format!("{:?}", verified.approval).contains(&family.child_id));
}

#[test]
fn an_approval_signed_by_anyone_but_the_guardianship_key_is_refused() {
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let stranger = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let jwt = approval_for(&family, &child).sign(&stranger).unwrap();
    assert!(matches!(check(&family, &jwt, &[("enrolment", &child)], NOW), Err(Error::Did(_))));
}

#[test]
fn a_tampered_approval_is_refused() {
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let jwt = approval_for(&family, &child).sign(&family.parent).unwrap();
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut payload: Value = serde_json::from_slice(&schooltas_did::base64url::decode(&parts[1]).unwrap()).unwrap();
    payload["purpose"] = json!("social_media");
    parts[1] = schooltas_did::base64url::encode(serde_json::to_vec(&payload).unwrap());
    let tampered = parts.join(".");
    assert!(matches!(check(&family, &tampered, &[("enrolment", &child)], NOW), Err(Error::Did(_))));
}

#[test]
fn each_binding_of_the_approval_is_checked() {
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let refused = |edit: &dyn Fn(&mut GuardianApproval)| {
        let mut approval = approval_for(&family, &child);
        edit(&mut approval);
        consent_error(check(&family, &approval.sign(&family.parent).unwrap(), &[("enrolment", &child)], NOW))
    };
    assert_eq!(
        refused(&|a| a.audience = "decentralized_identifier:did:web:photographer.example".into()),
        ConsentError::WrongAudience { what: "guardian approval" }
    );
    assert_eq!(refused(&|a| a.nonce = "another-nonce-of-a-request".into()), ConsentError::NonceMismatch);
    assert_eq!(refused(&|a| a.purpose = "social_media".into()), ConsentError::PurposeMismatch);
    assert_eq!(refused(&|a| a.legal_basis = LegalBasis::Contract), ConsentError::PurposeMismatch);
    assert!(matches!(refused(&|a| a.issued_at = NOW - 3_600), ConsentError::NotFresh { .. }));
    assert!(matches!(refused(&|a| a.issued_at = NOW + 3_600), ConsentError::NotFresh { .. }));
    assert_eq!(refused(&|a| a.child_id = "did:example:another-child".into()), ConsentError::ChildMismatch);
    assert_eq!(
        refused(&|a| a.presentations[0].sd_hash = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()),
        ConsentError::PresentationNotApproved { query_id: "enrolment".into() }
    );
    assert_eq!(
        refused(&|a| a.presentations.push(ApprovedPresentation {
            credential_query_id: "support".into(),
            sd_hash: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()
        })),
        ConsentError::ApprovedPresentationMissing { query_id: "support".into() }
    );
    // The guardianship presented with key binding to another request.
    let other = present(&family.guardianship, &family.guardianship_key, &[], "another-nonce-of-a-request", AUD);
    let mut approval = approval_for(&family, &child);
    approval.guardianship = other;
    let jwt = approval.sign(&family.parent).unwrap();
    let approval = UnverifiedGuardianApproval::parse(&jwt).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new("another-nonce-of-a-request", AUD));
    let guardianship =
        UnverifiedSdJwt::parse(approval.guardianship()).unwrap().verify(family.school.verifying_key(), &options, NOW);
    let context = ApprovalContext {
        audience: AUD,
        nonce: NONCE,
        purpose: "newsletter",
        child_presentations: &[ChildPresentation::new("enrolment", &child)],
        child_id: Some(&family.child_id),
        now: NOW,
        max_age: 600,
        skew: 60,
    };
    assert!(matches!(
        approval.verify(&guardianship.unwrap(), &context),
        Err(Error::Consent(ConsentError::GuardianshipKeyBindingMismatch))
    ));
}

#[test]
fn a_changed_child_presentation_is_not_covered() {
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let jwt = approval_for(&family, &child).sign(&family.parent).unwrap();
    // The child (or someone in between) discloses more than the parent approved.
    let more = present(&family.enrolment, &family.enrolment_key, &["group", "sub", "birth_date"], NONCE, AUD);
    assert_eq!(
        consent_error(check(&family, &jwt, &[("enrolment", &more)], NOW)),
        ConsentError::PresentationNotApproved { query_id: "enrolment".into() }
    );
}

/// A caller that verified the child's presentation passes the `sd_hash` that verification
/// checked; the approval is matched on it exactly as on the hash it would compute itself.
#[test]
fn the_verified_sd_hash_stands_for_the_presentation() {
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let verified = verify_sd_jwt(&family, &child, NONCE, AUD);
    let checked = verified.key_binding().unwrap().sd_hash.clone();
    assert_eq!(checked, UnverifiedSdJwt::parse(&child).unwrap().sd_hash());
    let jwt = approval_for(&family, &child).sign(&family.parent).unwrap();
    let approval = UnverifiedGuardianApproval::parse(&jwt).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(NONCE, AUD));
    let guardianship =
        UnverifiedSdJwt::parse(approval.guardianship()).unwrap().verify(family.school.verifying_key(), &options, NOW);
    let guardianship = guardianship.unwrap();
    let child_id = verified.claims().get("sub").and_then(Value::as_str).unwrap().to_owned();
    let context = |children| ApprovalContext {
        audience: AUD,
        nonce: NONCE,
        purpose: "newsletter",
        child_presentations: children,
        child_id: Some(&child_id),
        now: NOW,
        max_age: 600,
        skew: 60,
    };
    let known = [ChildPresentation::new("enrolment", &child).with_sd_hash(&checked)];
    assert!(approval.verify(&guardianship, &context(&known)).is_ok());
    // The given hash is what is compared: another presentation's hash is not approved, even
    // beside this presentation's text.
    let more = present(&family.enrolment, &family.enrolment_key, &["group", "sub", "birth_date"], NONCE, AUD);
    let other_hash = UnverifiedSdJwt::parse(&more).unwrap().sd_hash();
    let wrong = [ChildPresentation::new("enrolment", &child).with_sd_hash(&other_hash)];
    assert!(matches!(
        approval.verify(&guardianship, &context(&wrong)),
        Err(Error::Consent(ConsentError::PresentationNotApproved { query_id })) if query_id == "enrolment"
    ));
    // Without a hash, a presentation that is not an SD-JWT is refused as malformed.
    let junk = [ChildPresentation::new("enrolment", "not an sd-jwt")];
    assert!(matches!(approval.verify(&guardianship, &context(&junk)), Err(Error::SdJwt(_))));
    // Debug names the query, never the presentation (it carries the child's disclosures).
    let debug = format!("{:?}", known[0]);
    assert!(debug.contains("enrolment") && !debug.contains(&child[..40]), "{debug}");
}

#[test]
fn an_approval_needs_the_child_identified() {
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group"], NONCE, AUD);
    let jwt = approval_for(&family, &child).sign(&family.parent).unwrap();
    assert_eq!(consent_error(check(&family, &jwt, &[("enrolment", &child)], NOW)), ConsentError::ChildNotIdentified);
}

#[test]
fn a_guardianship_for_another_child_is_refused() {
    let family = family("2031-03-01");
    let sibling = self::family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    // The other family's parent approves this child's presentation with their own guardianship.
    let mut approval = approval_for(&sibling, &child);
    approval.presentations[0].sd_hash = UnverifiedSdJwt::parse(&child).unwrap().sd_hash();
    let jwt = approval.sign(&sibling.parent).unwrap();
    let context_child_id = family.child_id.clone();
    let approval = UnverifiedGuardianApproval::parse(&jwt).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(NONCE, AUD));
    let guardianship = UnverifiedSdJwt::parse(approval.guardianship())
        .unwrap()
        .verify(sibling.school.verifying_key(), &options, NOW)
        .unwrap();
    let context = ApprovalContext {
        audience: AUD,
        nonce: NONCE,
        purpose: "newsletter",
        child_presentations: &[ChildPresentation::new("enrolment", &child)],
        child_id: Some(&context_child_id),
        now: NOW,
        max_age: 600,
        skew: 60,
    };
    assert!(matches!(approval.verify(&guardianship, &context), Err(Error::Consent(ConsentError::ChildMismatch))));
}

#[test]
fn an_ended_guardianship_cannot_approve() {
    let family = family("2027-01-14");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let jwt = approval_for(&family, &child).sign(&family.parent).unwrap();
    assert_eq!(
        consent_error(check(&family, &jwt, &[("enrolment", &child)], NOW)),
        ConsentError::GuardianshipEnded { valid_until: "2027-01-14".into() }
    );
    // On its last day it still can.
    let family = self::family("2027-01-15");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let jwt = approval_for(&family, &child).sign(&family.parent).unwrap();
    assert!(check(&family, &jwt, &[("enrolment", &child)], NOW).is_ok());
}

#[test]
fn an_approval_must_be_a_guardian_approval_jwt() {
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let approval = approval_for(&family, &child);
    let jwt = jws::sign_compact_json(&Header::new().with_typ("JWT"), &approval, &family.parent).unwrap();
    assert!(matches!(UnverifiedGuardianApproval::parse(&jwt), Err(Error::Consent(ConsentError::WrongTyp { .. }))));
    assert!(matches!(UnverifiedGuardianApproval::parse("not.a.jwt"), Err(Error::Did(_))));
    let huge = "a".repeat(100_000);
    assert!(matches!(UnverifiedGuardianApproval::parse(&huge), Err(Error::Did(schooltas_did::Error::TooLarge { .. }))));
    // Signing refuses an approval without presentations or with an unbound guardianship.
    let mut empty = approval.clone();
    empty.presentations.clear();
    assert!(matches!(empty.sign(&family.parent), Err(Error::Consent(ConsentError::Malformed { .. }))));
    let mut unbound = approval;
    unbound.guardianship = HolderSdJwt::parse(&family.guardianship).unwrap().present(&[], None).unwrap();
    assert!(matches!(unbound.sign(&family.parent), Err(Error::Consent(ConsentError::GuardianshipNotBound))));
}

#[test]
fn a_withdrawal_verifies_with_the_approvers_key_only() {
    let parent = SigningKey::generate(Algorithm::Es256).unwrap();
    let withdrawal = ConsentWithdrawal::new(AUD, NONCE, "newsletter", NOW);
    let jwt = withdrawal.sign(&parent).unwrap();
    let parsed = UnverifiedWithdrawal::parse(&jwt).unwrap();
    assert_eq!(parsed.unverified_nonce(), NONCE);
    assert_eq!(parsed.unverified_audience(), AUD);
    assert_eq!(parsed.verify(parent.verifying_key(), AUD, NOW + 5, 60).unwrap(), withdrawal);

    let stranger = SigningKey::generate(Algorithm::Es256).unwrap();
    assert!(matches!(parsed.verify(stranger.verifying_key(), AUD, NOW, 60), Err(Error::Did(_))));
    assert!(matches!(
        parsed.verify(parent.verifying_key(), "decentralized_identifier:did:web:other.example", NOW, 60),
        Err(Error::Consent(ConsentError::WrongAudience { .. }))
    ));
    assert!(matches!(
        parsed.verify(parent.verifying_key(), AUD, NOW - 3_600, 60),
        Err(Error::Consent(ConsentError::NotFresh { .. }))
    ));
    assert!(matches!(
        parsed.verify(parent.verifying_key(), AUD, NOW + 2 * 86_400, 60),
        Err(Error::Consent(ConsentError::NotFresh { .. }))
    ));
    let wrong_typ = jws::sign_compact_json(&Header::new().with_typ("JWT"), &withdrawal, &parent).unwrap();
    assert!(matches!(UnverifiedWithdrawal::parse(&wrong_typ), Err(Error::Consent(ConsentError::WrongTyp { .. }))));
    // Two withdrawals of the same consent are distinct messages.
    assert_ne!(ConsentWithdrawal::new(AUD, NONCE, "newsletter", NOW).jti, withdrawal.jti);
}

// ---- strict JSON (issue 12 item 10) ----------------------------------------------------------

/// The same JWS with its payload text edited and signed again by `key` (same header).
fn resigned(jwt: &str, key: &SigningKey, edit: impl Fn(&str) -> String) -> String {
    let parsed = jws::CompactJws::parse(jwt).unwrap();
    let payload = String::from_utf8(parsed.dangerous_unverified_payload().unwrap()).unwrap();
    let edited = edit(&payload);
    assert_ne!(edited, payload, "the edit must change the payload");
    jws::sign_compact(parsed.header(), edited.as_bytes(), key).unwrap()
}

fn strict_error<T: std::fmt::Debug>(result: Result<T, Error>) -> schooltas_did::strict_json::Error {
    match result {
        Err(Error::Did(schooltas_did::Error::Json(e))) => e,
        other => panic!("expected a strict JSON refusal, got {other:?}"),
    }
}

#[test]
fn an_approval_naming_a_member_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let family = family("2031-03-01");
    let child = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let jwt = approval_for(&family, &child).sign(&family.parent).unwrap();
    // A second purpose: one parser would record consent for "newsletter", another for "ads".
    let doubled = resigned(&jwt, &family.parent, |p| p.replacen('{', r#"{"purpose":"ads","#, 1));
    let err = strict_error(UnverifiedGuardianApproval::parse(&doubled));
    assert!(matches!(err, J::DuplicateMember { ref name } if name == "purpose"), "{err}");
    let huge = resigned(&jwt, &family.parent, |p| p.replacen('{', r#"{"x":18446744073709551616,"#, 1));
    assert!(matches!(strict_error(UnverifiedGuardianApproval::parse(&huge)), J::IntegerOutOfRange));
    assert!(UnverifiedGuardianApproval::parse(&resigned(&jwt, &family.parent, |p| format!("{p} "))).is_ok());
}

#[test]
fn a_withdrawal_naming_a_member_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let parent = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let jwt = ConsentWithdrawal::new(AUD, NONCE, "newsletter", NOW).sign(&parent).unwrap();
    let doubled = resigned(&jwt, &parent, |p| p.replacen('{', r#"{"purpose":"other","#, 1));
    let err = strict_error(UnverifiedWithdrawal::parse(&doubled));
    assert!(matches!(err, J::DuplicateMember { ref name } if name == "purpose"), "{err}");
}

/// The whole approval flow at moment `at`: the child's presentation, the guardianship
/// presentation and the approval all made then, and verified then.
fn approve_and_check_at(family: &Family, at: i64) -> Result<VerifiedGuardianApproval, Error> {
    let present_at = |credential: &str, key: &SigningKey, paths: &[&str]| {
        let paths: Vec<ClaimPath> = paths.iter().map(|p| ClaimPath::claim(*p)).collect();
        let kb = KeyBindingInput { nonce: NONCE.into(), audience: AUD.into(), issued_at: at };
        HolderSdJwt::parse(credential).unwrap().present(&paths, Some((key, &kb))).unwrap()
    };
    let child = present_at(&family.enrolment, &family.enrolment_key, &["group", "sub"]);
    let mut approval = approval_for(family, &child);
    approval.issued_at = at;
    approval.guardianship = present_at(&family.guardianship, &family.guardianship_key, &[]);
    let jwt = approval.sign(&family.parent).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(NONCE, AUD));
    let verified_child =
        UnverifiedSdJwt::parse(&child).unwrap().verify(family.school.verifying_key(), &options, at).unwrap();
    let child_id = verified_child.claims()["sub"].as_str().unwrap().to_owned();
    let approval = UnverifiedGuardianApproval::parse(&jwt)?;
    let guardianship =
        UnverifiedSdJwt::parse(approval.guardianship())?.verify(family.school.verifying_key(), &options, at)?;
    approval.verify(
        &guardianship,
        &ApprovalContext {
            audience: AUD,
            nonce: NONCE,
            purpose: "newsletter",
            child_presentations: &[ChildPresentation::new("enrolment", &child)],
            child_id: Some(&child_id),
            now: at,
            max_age: 600,
            skew: 60,
        },
    )
}

#[test]
fn a_coarse_guardianship_approves_through_its_disclosed_day_and_never_on_the_sixteenth_birthday() {
    // A child born 2011-03-17 turns 16 on 2027-03-17; the school discloses the end of the month
    // before the birthday month (schooltas_issuer::validity): valid through 2027-02-28.
    let family = family("2027-02-28");
    let day = |date: &str| schooltas_school::date::CalendarDate::parse(date).unwrap().to_unix();
    // The day before, and the whole disclosed day up to its last second: approved.
    for at in [day("2027-02-27") + 12 * 3600, day("2027-02-28"), day("2027-03-01") - 1] {
        let verified = approve_and_check_at(&family, at).unwrap();
        assert_eq!(verified.valid_until.to_string(), "2027-02-28");
    }
    // From the next day, through the 16th birthday and after: the guardianship has ended.
    for at in [day("2027-03-01"), day("2027-03-16") + 3600, day("2027-03-17") + 9 * 3600, day("2027-08-01")] {
        assert_eq!(
            consent_error(approve_and_check_at(&family, at)),
            ConsentError::GuardianshipEnded { valid_until: "2027-02-28".into() },
            "at {at}"
        );
    }
}

/// Issue 12 follow-up: one child's two presentations under one DCQL query with
/// `multiple: true` are approved pair by pair — (query id, `sd_hash`) each — and the approved
/// set must be exactly the response's: none added, none removed, none listed twice.
#[test]
fn two_presentations_of_one_child_under_one_query_are_approved_as_exactly_that_set() {
    let family = family("2031-03-01");
    let first = present(&family.enrolment, &family.enrolment_key, &["group", "sub"], NONCE, AUD);
    let second = present(&family.enrolment, &family.enrolment_key, &["sub"], NONCE, AUD);
    assert_ne!(UnverifiedSdJwt::parse(&first).unwrap().sd_hash(), UnverifiedSdJwt::parse(&second).unwrap().sd_hash());
    let entry = |p: &str| ApprovedPresentation {
        credential_query_id: "enrolment".into(),
        sd_hash: UnverifiedSdJwt::parse(p).unwrap().sd_hash(),
    };
    let mut both = approval_for(&family, &first);
    both.presentations = vec![entry(&first), entry(&second)];
    let jwt = both.sign(&family.parent).unwrap();
    let response = [("enrolment", first.as_str()), ("enrolment", second.as_str())];
    let verified = check(&family, &jwt, &response, NOW).unwrap();
    assert_eq!(verified.approval.presentations.len(), 2);
    // The order in the response does not matter.
    check(&family, &jwt, &[("enrolment", &second), ("enrolment", &first)], NOW).unwrap();

    // A presentation added to the response after the parent approved.
    let added = present(&family.enrolment, &family.enrolment_key, &["sub", "group"], NONCE, AUD);
    let grown = [("enrolment", first.as_str()), ("enrolment", second.as_str()), ("enrolment", added.as_str())];
    assert_eq!(
        consent_error(check(&family, &jwt, &grown, NOW)),
        ConsentError::PresentationNotApproved { query_id: "enrolment".into() }
    );
    // The same approved presentation sent twice is not covered twice.
    let repeated = [("enrolment", first.as_str()), ("enrolment", second.as_str()), ("enrolment", first.as_str())];
    assert_eq!(
        consent_error(check(&family, &jwt, &repeated, NOW)),
        ConsentError::PresentationNotApproved { query_id: "enrolment".into() }
    );
    // A presentation removed from the response after the parent approved.
    assert_eq!(
        consent_error(check(&family, &jwt, &[("enrolment", &first)], NOW)),
        ConsentError::ApprovedPresentationMissing { query_id: "enrolment".into() }
    );
    // An approval that lists one presentation twice.
    let mut twice = approval_for(&family, &first);
    twice.presentations = vec![entry(&first), entry(&first)];
    assert_eq!(
        consent_error(check(&family, &twice.sign(&family.parent).unwrap(), &[("enrolment", &first)], NOW)),
        ConsentError::DuplicateApprovedPresentation { query_id: "enrolment".into() }
    );
}
