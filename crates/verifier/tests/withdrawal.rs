//! Who may withdraw a consent at the register: the approver's key, or the key of a child
//! presentation the guardian approval names (the young person, from 16). A sibling's key — even
//! one whose presentation sits in the same evidence — or a stranger's is refused with
//! `Error::WithdrawalNotByConsenter`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::{Did, PublicKey, Signer, SigningKey, did_key};
use schooltas_school::LegalBasis;
use schooltas_school::catalog::Catalog;
use schooltas_school::consent::{ApprovedPresentation, ConsentError, ConsentWithdrawal, GuardianApproval};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{HolderSdJwt, KeyBindingInput, RandomSalts, UnverifiedSdJwt};
use schooltas_verifier::{
    ConsentId, ConsentRecord, ConsentRegister, Error, Evidence, SqliteConsentStore, UseQuery, Verifier, WithdrawnBy,
};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

fn did_of(key: &SigningKey) -> Did {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()))
}

/// A child's enrolment presentation bound to `holder`, answering `nonce` for `aud`.
fn presentation(school: &SigningKey, holder: &SigningKey, sub: &str, nonce: &str, aud: &str) -> String {
    let claims = json!({
        "sub": sub, "school_name": "De Linde", "school_brin": "12AB", "school_location": "00",
        "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
        "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false,
    });
    let did = did_of(school);
    let credential = Catalog::standard()
        .get("pupil_enrolment")
        .unwrap()
        .builder(did.as_str(), NOW - 3600, claims.as_object().cloned().unwrap())
        .unwrap()
        .kid(format!("{did}#{}", did.as_str().trim_start_matches("did:key:")))
        .holder_key(holder.verifying_key())
        .issue(school, &mut RandomSalts)
        .unwrap()
        .to_string();
    let input = KeyBindingInput { nonce: nonce.into(), audience: aud.into(), issued_at: NOW };
    HolderSdJwt::parse(&credential)
        .unwrap()
        .present(&[ClaimPath::claim("group"), ClaimPath::claim("sub")], Some((holder, &input)))
        .unwrap()
}

/// The parent's guardianship presentation (carried in the approval; not checked here).
fn guardianship(school: &SigningKey, parent: &SigningKey, nonce: &str, aud: &str) -> String {
    let claims = json!({"guardian_id": did_of(parent).as_str(), "child_id": "did:example:child",
                        "relation": "parent", "valid_until": "2030-03-01"});
    let did = did_of(school);
    let credential = Catalog::standard()
        .get("guardianship")
        .unwrap()
        .builder(did.as_str(), NOW - 3600, claims.as_object().cloned().unwrap())
        .unwrap()
        .kid(format!("{did}#{}", did.as_str().trim_start_matches("did:key:")))
        .holder_key(parent.verifying_key())
        .issue(school, &mut RandomSalts)
        .unwrap()
        .to_string();
    let input = KeyBindingInput { nonce: nonce.into(), audience: aud.into(), issued_at: NOW };
    HolderSdJwt::parse(&credential).unwrap().present(&[], Some((parent, &input))).unwrap()
}

struct Case {
    desk: Verifier,
    register: ConsentRegister<SqliteConsentStore>,
    parent: SigningKey,
    child: SigningKey,
    sibling: SigningKey,
    nonce: String,
    id: ConsentId,
}

/// A consent a parent approved for the child's presentation. The evidence also holds a
/// presentation of a sibling that the approval does not name (a hostile holder slipped it into
/// the response): its key must not be able to withdraw.
fn parent_approved_consent() -> Case {
    let desk = Verifier::new(SigningKey::from_ed25519_seed(&[2; 32]), "https://school.example/response").unwrap();
    let school = SigningKey::from_ed25519_seed(&[1; 32]);
    let parent = SigningKey::from_ed25519_seed(&[3; 32]);
    let child = SigningKey::from_ed25519_seed(&[4; 32]);
    let sibling = SigningKey::from_ed25519_seed(&[5; 32]);
    let nonce = "n-7c1d9e2f4a6b8c0d".to_owned();
    let aud = desk.client_id();
    let child_presentation = presentation(&school, &child, "did:example:child", &nonce, &aud);
    let sibling_presentation = presentation(&school, &sibling, "did:example:sibling", &nonce, &aud);
    let approval = GuardianApproval {
        audience: aud.clone(),
        nonce: nonce.clone(),
        issued_at: NOW,
        purpose: "newsletter".into(),
        legal_basis: LegalBasis::Consent,
        child_id: "did:example:child".into(),
        presentations: vec![ApprovedPresentation {
            credential_query_id: "enrolment".into(),
            sd_hash: UnverifiedSdJwt::parse(&child_presentation).unwrap().sd_hash(),
        }],
        transaction_data_hashes: Vec::new(),
        guardianship: guardianship(&school, &parent, &nonce, &aud),
    }
    .sign(&parent)
    .unwrap();
    let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());
    let id = register
        .record(ConsentRecord {
            id: ConsentId::random(),
            verifier: aud,
            subject: "did:example:child".into(),
            purpose: "newsletter".into(),
            object: None,
            channel: None,
            legal_basis: LegalBasis::Consent,
            granted_at: NOW,
            valid_until: NOW + 365 * 86_400,
            approver_jwk: Value::Object(parent.verifying_key().to_jwk()),
            request_nonce: nonce.clone(),
            evidence: Evidence {
                presentations: vec![child_presentation, sibling_presentation],
                guardian_approval: Some(approval),
                transaction_data: Vec::new(),
            },
            status: None,
            status_issuer: None,
            withdrawn: None,
        })
        .unwrap();
    Case { desk, register, parent, child, sibling, nonce, id }
}

impl Case {
    fn withdrawal(&self, key: &SigningKey, at: i64) -> String {
        ConsentWithdrawal::new(self.desk.client_id(), &self.nonce, "newsletter", at).sign(key).unwrap()
    }

    fn may_use(&self, at: i64) -> bool {
        self.register
            .may_use(UseQuery { subject: "did:example:child", purpose: "newsletter", object: None }, at, None)
            .unwrap()
            .is_yes()
    }
}

#[test]
fn the_young_person_withdraws_a_consent_their_parent_gave_with_their_own_presentation_key() {
    let case = parent_approved_consent();
    assert!(case.may_use(NOW + 10));
    let jwt = case.withdrawal(&case.child, NOW + 100);
    let (id, by) = case.desk.apply_withdrawal_by(&case.register, &jwt, NOW + 100).unwrap();
    assert_eq!(id, case.id);
    assert_eq!(by, WithdrawnBy::Child);
    assert!(!case.may_use(NOW + 200));
    let record = case.register.get(&case.id).unwrap().unwrap();
    assert_eq!(record.withdrawn.map(|w| w.evidence), Some(jwt), "the message is kept as evidence");
    // Once withdrawn, the parent's withdrawal is refused as a second one.
    let again = case.withdrawal(&case.parent, NOW + 300);
    assert!(matches!(
        case.desk.apply_withdrawal(&case.register, &again, NOW + 300),
        Err(Error::AlreadyWithdrawn { .. })
    ));
}

#[test]
fn the_parent_still_withdraws_with_the_approval_key() {
    let case = parent_approved_consent();
    let jwt = case.withdrawal(&case.parent, NOW + 100);
    assert_eq!(
        case.desk.apply_withdrawal_by(&case.register, &jwt, NOW + 100).unwrap(),
        (case.id.clone(), WithdrawnBy::Approver)
    );
    assert!(!case.may_use(NOW + 200));
}

#[test]
fn a_siblings_or_a_strangers_key_cannot_withdraw() {
    let case = parent_approved_consent();
    // The sibling's presentation is in the evidence, but the approval does not name it.
    let sibling = case.withdrawal(&case.sibling, NOW + 100);
    assert!(matches!(
        case.desk.apply_withdrawal(&case.register, &sibling, NOW + 100),
        Err(Error::WithdrawalNotByConsenter)
    ));
    let stranger = case.withdrawal(&SigningKey::from_ed25519_seed(&[99; 32]), NOW + 100);
    assert!(matches!(
        case.desk.apply_withdrawal(&case.register, &stranger, NOW + 100),
        Err(Error::WithdrawalNotByConsenter)
    ));
    // Another algorithm altogether is no way around it either.
    let p256 = SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap();
    let other_alg = case.withdrawal(&p256, NOW + 100);
    assert!(matches!(
        case.desk.apply_withdrawal(&case.register, &other_alg, NOW + 100),
        Err(Error::WithdrawalNotByConsenter)
    ));
    assert!(case.may_use(NOW + 200), "nothing was withdrawn");
    assert!(case.register.get(&case.id).unwrap().unwrap().withdrawn.is_none());
}

#[test]
fn a_childs_withdrawal_for_another_verifier_or_a_stale_one_is_refused_for_what_it_says() {
    let case = parent_approved_consent();
    let elsewhere =
        ConsentWithdrawal::new("decentralized_identifier:did:web:other.example", &case.nonce, "newsletter", NOW)
            .sign(&case.child)
            .unwrap();
    // The register finds consents by our own client id: a message naming another audience is
    // looked up under ours, found by nonce, and refused on its audience.
    assert!(matches!(
        case.desk.apply_withdrawal(&case.register, &elsewhere, NOW + 10),
        Err(Error::Credential(schooltas_school::Error::Consent(ConsentError::WrongAudience { .. })))
    ));
    let stale = case.withdrawal(&case.child, NOW);
    assert!(matches!(
        case.desk.apply_withdrawal(&case.register, &stale, NOW + 3 * 86_400),
        Err(Error::Credential(schooltas_school::Error::Consent(_)))
    ));
    assert!(case.may_use(NOW + 10));
}

#[test]
fn a_consent_the_young_person_gave_alone_is_withdrawn_only_with_their_key() {
    // Without a guardian approval, only the approver key (the pupil's own) counts.
    let mut case = parent_approved_consent();
    let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());
    let school = SigningKey::from_ed25519_seed(&[1; 32]);
    let own = presentation(&school, &case.child, "did:example:child", &case.nonce, &case.desk.client_id());
    let mut record = case.register.get(&case.id).unwrap().unwrap();
    record.id = ConsentId::random();
    record.approver_jwk = Value::Object(case.child.verifying_key().to_jwk());
    record.evidence = Evidence { presentations: vec![own], guardian_approval: None, transaction_data: Vec::new() };
    case.id = register.record(record).unwrap();
    case.register = register;
    let parent = case.withdrawal(&case.parent, NOW + 100);
    assert!(matches!(
        case.desk.apply_withdrawal(&case.register, &parent, NOW + 100),
        Err(Error::WithdrawalNotByConsenter)
    ));
    let own = case.withdrawal(&case.child, NOW + 100);
    assert_eq!(case.desk.apply_withdrawal_by(&case.register, &own, NOW + 100).unwrap().1, WithdrawnBy::Approver);
}

#[test]
fn unreadable_evidence_never_blocks_the_approvers_withdrawal() {
    let mut case = parent_approved_consent();
    let mut record = case.register.get(&case.id).unwrap().unwrap();
    let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());
    record.id = ConsentId::random();
    record.evidence.presentations = vec!["not an SD-JWT".into()];
    record.evidence.guardian_approval = Some("not.a.jwt".into());
    case.id = register.record(record).unwrap();
    case.register = register;
    // No child key can be read: the child's withdrawal is refused, the parent's works.
    let child = case.withdrawal(&case.child, NOW + 100);
    assert!(matches!(
        case.desk.apply_withdrawal(&case.register, &child, NOW + 100),
        Err(Error::WithdrawalNotByConsenter)
    ));
    let parent = case.withdrawal(&case.parent, NOW + 100);
    assert_eq!(case.desk.apply_withdrawal(&case.register, &parent, NOW + 100).unwrap(), case.id);
}
