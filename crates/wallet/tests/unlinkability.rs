//! Unlinkability end to end (issue 12 items 7 and 8): a school batch-issues over OpenID4VCI,
//! the child answers two verifiers with the parent's approval, and the two received views —
//! every presentation and the guardian approval, parsed down to header and payload members,
//! disclosures, salts, digests, KB-JWTs and signatures — share exactly the public data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use schooltas_did::{Did, DidUrl, Resolver, Signer, SigningKey, base64url};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, DcqlQuery};
use schooltas_school::catalog::Catalog;
use schooltas_school::consent::{ApprovalContext, ChildPresentation, UnverifiedGuardianApproval};
use schooltas_school::date::CalendarDate;
use schooltas_school::trust_list::{
    AccreditedIssuer, RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::{KeyBinding, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions, issuer_key_via_did};
use schooltas_wallet::{Decision, Error, GuardianRequest, Outcome, ResponseToSend, Role, Wallet};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SUPPORT: &str = "https://schooltas.nl/credentials/support-needs/v1";
const BIRTH_DATE: &str = "2014-09-01";
const NEWSLETTER: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];

/// A trust list with the school and two verifiers, each registered for the newsletter photo
/// (enrolment) and a support plan (enrolment and support needs), both on consent.
fn two_verifiers_trust_list(a: &Verifier, b: &Verifier) -> VerifiedTrustList {
    let operator = SigningKey::from_ed25519_seed(&[9; 32]);
    let mut school = AccreditedIssuer::new(Did::parse(SCHOOL_DID).unwrap(), "Basisschool De Linde").with_brin("12AB");
    for credential_type in Catalog::standard().iter() {
        school = school.accredited_for(credential_type.vct().as_str());
    }
    let registration = |verifier: &Verifier, name: &str| {
        VerifierRegistration::new(verifier.did.clone(), name)
            .with_purpose(
                RegisteredPurpose::new(
                    "newsletter",
                    LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
                    LegalBasis::Consent,
                    365,
                )
                .allow(ENROLMENT, paths(&NEWSLETTER)),
            )
            .with_purpose(
                RegisteredPurpose::new(
                    "support_plan",
                    LocalizedText { nl: "Ondersteuningsplan".into(), en: "Support plan".into() },
                    LegalBasis::Consent,
                    365,
                )
                .allow(ENROLMENT, paths(&["given_name", "sub"]))
                .allow(SUPPORT, paths(&["arrangements", "sub"])),
            )
    };
    let operator_did = did_of(&operator);
    let kid = DidUrl::parse(&format!("{operator_did}#{}", operator_did.method_specific_id())).unwrap();
    TrustList::new(operator_did, NOW - 3600, NOW + 400 * 86_400)
        .with_issuer(school)
        .with_verifier(registration(a, "Fotograaf A"))
        .with_verifier(registration(b, "Leerplatform B"))
        .sign_and_verify(&operator, &kid, NOW, 60)
        .unwrap()
        .1
}

/// A 12-year-old with 3 copies each of enrolment and support needs, and a parent with 3
/// guardianship copies — all over OpenID4VCI from one school.
fn family(school: &School) -> (Wallet, Wallet) {
    family_born(school, "pupil-1", BIRTH_DATE)
}

/// [`family`] for the pupil `pupil` born on `birth_date`.
fn family_born(school: &School, pupil: &str, birth_date: &str) -> (Wallet, Wallet) {
    let birth = CalendarDate::parse(birth_date).unwrap();
    let child = Wallet::create(vault(), Role::Child { birth_date: birth }, NOW).unwrap();
    let parent = Wallet::create(vault(), Role::Parent, NOW).unwrap();
    let me = child.owner().did().as_str().to_owned();
    school.enrol(
        pupil,
        "pupil_enrolment",
        json!({"sub": me, "school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
               "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
               "birth_date": birth_date, "age_over_12": true, "age_over_16": false}),
    );
    school.enrol(
        pupil,
        "support_needs",
        json!({"sub": me, "school_name": "Basisschool De Linde", "school_brin": "12AB",
               "arrangements": ["extra tijd", "voorleessoftware"], "dyslexia_statement": true}),
    );
    school.enrol(
        pupil,
        "guardianship",
        json!({"guardian_id": parent.owner().did().as_str(), "child_id": me, "relation": "parent",
               "child_birth_date": birth_date, "valid_until": birth.anniversary(16).to_string(),
               "school_brin": "12AB"}),
    );
    school.issue_to(&child, pupil, &["pupil_enrolment", "support_needs"]);
    school.issue_to(&parent, pupil, &["guardianship"]);
    (child, parent)
}

fn request(verifier: &Verifier, purpose_code: &str, queries: &[(&str, &str, &[&str])]) -> AuthorizationRequest {
    let mut dcql = DcqlQuery::builder();
    for (id, vct, claims) in queries {
        let mut query = CredentialQuery::sd_jwt_vc(*id, [*vct]);
        for path in paths(claims) {
            query = query.claim(path);
        }
        dcql = dcql.credential(query);
    }
    AuthorizationRequest::new(
        &verifier.did,
        "https://verifier.example/oid4vp/response",
        schooltas_oid4vc::oid4vp::random_nonce(),
        dcql.build().unwrap(),
    )
    .with_schooltas(SchooltasExtension::new(purpose(purpose_code, "Doel", "Purpose"), LegalBasis::Consent, 365))
    .unwrap()
}

fn newsletter(verifier: &Verifier) -> AuthorizationRequest {
    request(verifier, "newsletter", &[("enrolment", ENROLMENT, &NEWSLETTER)])
}

struct Setup {
    school: School,
    a: Verifier,
    b: Verifier,
    trust: VerifiedTrustList,
    resolver: Resolver,
    child: Wallet,
    parent: Wallet,
}

fn setup() -> Setup {
    let school = School::new();
    let (a, b) = (Verifier::new(31), Verifier::new(32));
    let trust = two_verifiers_trust_list(&a, &b);
    let resolver = school.resolver();
    let (child, parent) = family(&school);
    Setup { school, a, b, trust, resolver, child, parent }
}

impl Setup {
    /// The child says yes, the parent approves: what the child's wallet sends, and the request
    /// the parent's wallet was asked to approve.
    fn answer(
        &self,
        verifier: &Verifier,
        request: &AuthorizationRequest,
        now: i64,
    ) -> (ResponseToSend, GuardianRequest) {
        self.answer_uri(&self.child, &self.parent, &verifier.request_uri(request, now), now)
    }

    /// `child` says yes to the request at `uri`, `parent` approves.
    fn answer_uri(&self, child: &Wallet, parent: &Wallet, uri: &str, now: i64) -> (ResponseToSend, GuardianRequest) {
        let verifiers = verifiers(&self.trust, &self.resolver);
        let prompt = child.handle_request(uri, &verifiers, now).unwrap();
        let Outcome::AwaitGuardian(to_parent) = child.decide(&prompt.request_id, Decision::ApproveAll, now).unwrap()
        else {
            panic!("a 12-year-old's consent waits for the parent")
        };
        let answer = parent.answer_child_request(&to_parent, true, &verifiers, now).unwrap();
        (child.complete_with_guardian(&answer, now).unwrap(), to_parent)
    }
}

/// The `valid_until` every guardianship issued at NOW (2027-01-15) discloses for a child far from
/// 16: the end of the school year, the same for every child (schooltas_issuer::validity).
const SCHOOL_YEAR_END: &str = "2027-07-31";

/// Every date a verifier could derive from `birth`: the birth date, the 16th birthday, and the
/// end of the month before it (the coarse validity of a child turning 16 this year).
fn birth_derived(birth: &str) -> Vec<String> {
    let birth = CalendarDate::parse(birth).unwrap();
    let sixteenth = birth.anniversary(16);
    vec![
        birth.to_string(),
        sixteenth.to_string(),
        schooltas_issuer::validity::end_of_previous_month(sixteenth).to_string(),
        format!("{:04}-{:02}", birth.year(), birth.month()),
        format!("{:04}-{:02}", sixteenth.year(), sixteenth.month()),
    ]
}

fn assert_no_birth_derived_date(shared: &BTreeSet<String>, birth: &str) {
    let everything = shared.iter().cloned().collect::<Vec<_>>().join("\n");
    for date in birth_derived(birth) {
        assert!(!everything.contains(&date), "the shared view carries {date}, derived from the birth date");
    }
}

/// What a verifier checks: every presentation (issuer signature, KB-JWT to it), the guardian
/// approval bound to the child link all presentations disclose. Returns the disclosed `sub`s.
fn verify(response: &ResponseToSend, request: &AuthorizationRequest, resolver: &Resolver, now: i64) -> Vec<String> {
    let parsed = schooltas_school::consent::response_from_form(&response.body).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, &request.client_id));
    let verified: BTreeMap<String, VerifiedSdJwt> = parsed
        .vp_token
        .iter()
        .map(|(id, list)| {
            let one = UnverifiedSdJwt::parse(&list[0])
                .unwrap()
                .verify_with(|h, iss| issuer_key_via_did(resolver, h, iss), &options, now)
                .unwrap();
            (id.clone(), one)
        })
        .collect();
    let subs: Vec<String> = verified
        .values()
        .map(|v| v.claims()["sub"].as_str().expect("every presentation discloses sub").to_owned())
        .collect();
    let approval =
        UnverifiedGuardianApproval::parse(schooltas_school::consent::guardian_approval(&parsed).unwrap()).unwrap();
    let guardianship = UnverifiedSdJwt::parse(approval.guardianship())
        .unwrap()
        .verify_with(|h, iss| issuer_key_via_did(resolver, h, iss), &options, now)
        .unwrap();
    let presentations: Vec<ChildPresentation<'_>> =
        parsed.vp_token.iter().map(|(id, list)| ChildPresentation::new(id, &list[0])).collect();
    let purpose = request.schooltas().unwrap().unwrap().purpose.code;
    let verified_approval = approval
        .verify(
            &guardianship,
            &ApprovalContext {
                audience: &request.client_id,
                nonce: &request.nonce,
                purpose: &purpose,
                child_presentations: &presentations,
                child_id: subs.first().map(String::as_str),
                now,
                max_age: 600,
                skew: 60,
            },
        )
        .unwrap();
    assert!(subs.iter().all(|sub| *sub == verified_approval.approval.child_id), "one child link per response");
    subs
}

/// Every value a verifier receives, as typed strings: the members of every JWT header and
/// payload (recursively, `_sd` digests included), raw payload segments and signatures, every
/// disclosure (whole, its digest, its salt and its value), the KB-JWTs, and the guardian
/// approval with the guardianship presentation inside it. Claim names are structure, not values.
fn view(response: &ResponseToSend) -> BTreeSet<String> {
    let parsed = schooltas_school::consent::response_from_form(&response.body).unwrap();
    let mut atoms = BTreeSet::new();
    for list in parsed.vp_token.values() {
        for presentation in list {
            presentation_atoms(presentation, &mut atoms);
        }
    }
    jwt_atoms(schooltas_school::consent::guardian_approval(&parsed).unwrap(), &mut atoms);
    atoms
}

fn presentation_atoms(presentation: &str, atoms: &mut BTreeSet<String>) {
    let parts: Vec<&str> = presentation.split('~').collect();
    jwt_atoms(parts[0], atoms);
    let (disclosures, kb) = parts[1..].split_at(parts.len() - 2);
    for disclosure in disclosures {
        atoms.insert(format!("disclosure:{disclosure}"));
        atoms.insert(format!("digest:{}", base64url::encode(Sha256::digest(disclosure.as_bytes()))));
        let decoded: Value = serde_json::from_slice(&base64url::decode(disclosure).unwrap()).unwrap();
        let array = decoded.as_array().unwrap();
        leaves(&array[0], atoms); // the salt
        leaves(array.last().unwrap(), atoms); // the value
    }
    assert!(!kb[0].is_empty(), "every presentation is key-bound");
    jwt_atoms(kb[0], atoms);
}

fn jwt_atoms(jwt: &str, atoms: &mut BTreeSet<String>) {
    let segments: Vec<&str> = jwt.split('.').collect();
    assert_eq!(segments.len(), 3);
    let decode = |segment: &str| -> Value { serde_json::from_slice(&base64url::decode(segment).unwrap()).unwrap() };
    leaves(&decode(segments[0]), atoms);
    atoms.insert(format!("payload:{}", segments[1]));
    atoms.insert(format!("signature:{}", segments[2]));
    let payload = decode(segments[1]);
    if let Some(guardianship) = payload.get("guardianship").and_then(Value::as_str) {
        presentation_atoms(guardianship, atoms);
    }
    leaves(&payload, atoms);
}

fn leaves(value: &Value, atoms: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => map.values().for_each(|v| leaves(v, atoms)),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, atoms)),
        Value::String(text) => {
            atoms.insert(format!("s:{text}"));
        }
        Value::Number(number) => {
            atoms.insert(format!("n:{number}"));
        }
        Value::Bool(flag) => {
            atoms.insert(format!("b:{flag}"));
        }
        Value::Null => {}
    }
}

#[test]
fn two_verifiers_views_of_one_child_share_only_public_data() {
    let s = setup();
    let request_a = newsletter(&s.a);
    let request_b = newsletter(&s.b);
    let (to_a, _) = s.answer(&s.a, &request_a, NOW);
    let (to_b, _) = s.answer(&s.b, &request_b, NOW + 120);
    let sub_a = verify(&to_a, &request_a, &s.resolver, NOW);
    let sub_b = verify(&to_b, &request_b, &s.resolver, NOW + 120);
    assert_ne!(sub_a, sub_b);

    let shared: BTreeSet<String> = view(&to_a).intersection(&view(&to_b)).cloned().collect();
    assert_no_birth_derived_date(&shared, BIRTH_DATE);
    let expected: BTreeSet<String> = [
        // Headers: algorithms, types, the school's key id.
        "s:EdDSA".to_owned(),
        "s:dc+sd-jwt".to_owned(),
        "s:kb+jwt".to_owned(),
        "s:schooltas-guardian-approval+jwt".to_owned(),
        format!("s:{SCHOOL_DID}#key-1"),
        // The issuer, the types, the digest algorithm, the status lists (not the indices).
        format!("s:{SCHOOL_DID}"),
        format!("s:{ENROLMENT}"),
        format!("s:{}", vct("guardianship")),
        // Each type's metadata pin (`vct#integrity`), the same in every credential of it.
        format!("s:{}", integrity("pupil_enrolment")),
        format!("s:{}", integrity("guardianship")),
        "s:sha-256".to_owned(),
        "s:https://delinde.example/status/enrolment/1".to_owned(),
        "s:https://delinde.example/status/guardianship/1".to_owned(),
        // The kind of holder key (not the key).
        "s:OKP".to_owned(),
        "s:Ed25519".to_owned(),
        // The school fields asked for.
        "s:7B".to_owned(),
        "s:Sanne".to_owned(),
        "b:false".to_owned(),
        // The request's own public terms, echoed in the approval.
        "s:newsletter".to_owned(),
        "s:consent".to_owned(),
        "s:enrolment".to_owned(),
        // The representation: relation and validity (the child link differs). The validity is
        // the end of the school year, shared by every guardianship issued this school year —
        // not the 16th birthday (issue 12 item 8).
        "s:parent".to_owned(),
        format!("s:{SCHOOL_YEAR_END}"),
    ]
    .into_iter()
    .collect();
    assert_eq!(shared, expected, "only public data is common to the two views");
}

#[test]
fn two_approvals_of_one_parent_share_only_the_representation() {
    let s = setup();
    let (request_a, request_b) = (newsletter(&s.a), newsletter(&s.b));
    let (to_a, _) = s.answer(&s.a, &request_a, NOW);
    let (to_b, _) = s.answer(&s.b, &request_b, NOW + 300);
    let approval_view = |response: &ResponseToSend| {
        let parsed = schooltas_school::consent::response_from_form(&response.body).unwrap();
        let mut atoms = BTreeSet::new();
        jwt_atoms(schooltas_school::consent::guardian_approval(&parsed).unwrap(), &mut atoms);
        atoms
    };
    let (view_a, view_b) = (approval_view(&to_a), approval_view(&to_b));
    let shared: BTreeSet<String> = view_a.intersection(&view_b).cloned().collect();
    assert_no_birth_derived_date(&shared, BIRTH_DATE);
    let expected: BTreeSet<String> = [
        "s:EdDSA".to_owned(),
        "s:dc+sd-jwt".to_owned(),
        "s:kb+jwt".to_owned(),
        "s:schooltas-guardian-approval+jwt".to_owned(),
        format!("s:{SCHOOL_DID}#key-1"),
        format!("s:{SCHOOL_DID}"),
        format!("s:{}", vct("guardianship")),
        format!("s:{}", integrity("guardianship")),
        "s:sha-256".to_owned(),
        "s:https://delinde.example/status/guardianship/1".to_owned(),
        "s:OKP".to_owned(),
        "s:Ed25519".to_owned(),
        "s:newsletter".to_owned(),
        "s:consent".to_owned(),
        "s:enrolment".to_owned(),
        "s:parent".to_owned(),
        format!("s:{SCHOOL_YEAR_END}"),
    ]
    .into_iter()
    .collect();
    assert_eq!(shared, expected);
}

#[test]
fn a_received_approval_holds_no_birth_date_school_or_parent_did() {
    let s = setup();
    let request_a = newsletter(&s.a);
    let (to_a, _) = s.answer(&s.a, &request_a, NOW);
    let parsed = schooltas_school::consent::response_from_form(&to_a.body).unwrap();
    let approval_jwt = schooltas_school::consent::guardian_approval(&parsed).unwrap();
    let mut atoms = BTreeSet::new();
    jwt_atoms(approval_jwt, &mut atoms);
    let parent_did = s.parent.owner().did().as_str().to_owned();
    let child_did = s.child.owner().did().as_str().to_owned();
    for forbidden in
        [format!("s:{BIRTH_DATE}"), "s:12AB".to_owned(), format!("s:{parent_did}"), format!("s:{child_did}")]
    {
        assert!(!atoms.contains(&forbidden), "the approval carries {forbidden}");
    }
    // Nor hidden in any form: not as a substring of anything decoded.
    let everything = atoms.iter().cloned().collect::<Vec<_>>().join("\n");
    for forbidden in [BIRTH_DATE, "12AB", parent_did.as_str(), child_did.as_str(), "guardian_id", "child_birth_date"] {
        assert!(!everything.contains(forbidden), "the approval carries {forbidden}");
    }
    // The guardianship presentation discloses nothing selectively: its claims are the
    // always-visible relation, child link and validity (plus the registered claims).
    let approval = UnverifiedGuardianApproval::parse(approval_jwt).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request_a.nonce, &request_a.client_id));
    let guardianship = UnverifiedSdJwt::parse(approval.guardianship())
        .unwrap()
        .verify_with(|h, iss| issuer_key_via_did(&s.resolver, h, iss), &options, NOW)
        .unwrap();
    let names: BTreeSet<&str> = guardianship.claims().keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> =
        ["iss", "iat", "exp", "vct", "vct#integrity", "cnf", "status", "relation", "child_id", "valid_until"]
            .into_iter()
            .collect();
    assert_eq!(names, expected);
    assert!(guardianship.disclosed_paths().is_empty());
}

#[test]
fn a_child_link_is_consumed_as_a_whole_across_credential_types() {
    let s = setup();
    // Verifier A sees enrolment copy 0 with link L0.
    let request_a = newsletter(&s.a);
    let (to_a, _) = s.answer(&s.a, &request_a, NOW);
    let link_a = verify(&to_a, &request_a, &s.resolver, NOW);
    // Verifier B asks for support needs: support copy 0 also carries L0 and is never used.
    let request_b = request(&s.b, "support_plan", &[("support", SUPPORT, &["arrangements", "sub"])]);
    let (to_b, to_parent_b) = s.answer(&s.b, &request_b, NOW + 60);
    let link_b = verify(&to_b, &request_b, &s.resolver, NOW + 60);
    assert_ne!(link_a, link_b, "a link presented to A never goes to B");
    assert_eq!(to_parent_b.child_id, link_b[0]);
    // One response answering two queries shares one, fresh, link.
    let both = request(
        &s.a,
        "support_plan",
        &[("enrolment", ENROLMENT, &["given_name", "sub"]), ("support", SUPPORT, &["arrangements", "sub"])],
    );
    let (to_both, _) = s.answer(&s.a, &both, NOW + 120);
    let links_both = verify(&to_both, &both, &s.resolver, NOW + 120);
    assert_eq!(links_both.len(), 2);
    assert_eq!(links_both[0], links_both[1]);
    assert!(!link_a.contains(&links_both[0]) && !link_b.contains(&links_both[0]));
    // Three links, three uses: every copy of both types is now used.
    let summaries = s.child.credentials().unwrap();
    assert!(summaries.iter().all(|c| c.unused_copies == 0), "{summaries:?}");
    // With every link consumed the wallet reuses one (the prompt says no unused copy is left),
    // still one link for the whole response, so the consent still binds.
    let again = request(
        &s.b,
        "support_plan",
        &[("enrolment", ENROLMENT, &["given_name", "sub"]), ("support", SUPPORT, &["arrangements", "sub"])],
    );
    let verifiers = verifiers(&s.trust, &s.resolver);
    let prompt = s.child.handle_request(&s.b.request_uri(&again, NOW + 180), &verifiers, NOW + 180).unwrap();
    assert!(prompt.items.iter().all(|item| item.candidates.iter().all(|c| c.unused_copies == 0)));
    let (to_again, _) = s.answer(&s.b, &again, NOW + 180);
    let links_again = verify(&to_again, &again, &s.resolver, NOW + 180);
    assert_eq!(links_again[0], links_again[1]);
}

#[test]
fn the_parent_refuses_to_approve_a_presentation_about_another_child_link() {
    let s = setup();
    let verifiers = verifiers(&s.trust, &s.resolver);
    // Use a link, so the parent holds a guardianship copy for a link other than the next one.
    let first = newsletter(&s.a);
    let (_, to_parent_first) = s.answer(&s.a, &first, NOW);
    let request_b = newsletter(&s.b);
    let prompt = s.child.handle_request(&s.b.request_uri(&request_b, NOW + 60), &verifiers, NOW + 60).unwrap();
    let Outcome::AwaitGuardian(mut to_parent) =
        s.child.decide(&prompt.request_id, Decision::ApproveAll, NOW + 60).unwrap()
    else {
        panic!()
    };
    assert_ne!(to_parent.child_id, to_parent_first.child_id);
    // A hostile child wallet names the other link (for which the parent holds a copy): the
    // presentation's `sub` does not match it.
    to_parent.child_id = to_parent_first.child_id.clone();
    let error = s.parent.answer_child_request(&to_parent, true, &verifiers, NOW + 60).unwrap_err();
    assert!(matches!(&error, Error::WrongChild { query_id } if query_id == "enrolment"), "{error}");
}

#[test]
fn the_parent_refuses_a_consent_presentation_that_hides_the_child_link() {
    let s = setup();
    let verifiers = verifiers(&s.trust, &s.resolver);
    let request_a = request(&s.a, "newsletter", &[("enrolment", ENROLMENT, &["group", "given_name"])]);
    let prompt = s.child.handle_request(&s.a.request_uri(&request_a, NOW), &verifiers, NOW).unwrap();
    let Outcome::AwaitGuardian(to_parent) = s.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!()
    };
    let error = s.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap_err();
    assert!(matches!(&error, Error::ChildLinkMissing { query_id } if query_id == "enrolment"), "{error}");
}

#[test]
fn a_reissued_copy_whose_link_was_spent_arrives_used() {
    let s = setup();
    let request_a = newsletter(&s.a);
    let _ = s.answer(&s.a, &request_a, NOW);
    // The school re-issues the enrolment in the same school year: copy 0 carries the spent link.
    s.school.issue_to(&s.child, "pupil-1", &["pupil_enrolment"]);
    let summaries = s.child.credentials().unwrap();
    let enrolments: Vec<_> = summaries.iter().filter(|c| c.vct == ENROLMENT).collect();
    assert_eq!(enrolments.len(), 2);
    assert!(enrolments.iter().all(|c| c.unused_copies == 2 && c.copies == 3), "{summaries:?}");
}

#[test]
fn a_credential_file_carrying_a_spent_link_is_stored_as_used() {
    let s = setup();
    let request_a = newsletter(&s.a);
    let (to_a, _) = s.answer(&s.a, &request_a, NOW);
    let spent = verify(&to_a, &request_a, &s.resolver, NOW);
    // The school issues one more enrolment on its own: copy 0 of it carries link 0 again.
    let holder = SigningKey::generate(schooltas_did::Algorithm::EdDsa).unwrap();
    let claims = json!({"sub": s.child.owner().did().as_str(), "school_name": "Basisschool De Linde",
        "school_brin": "12AB", "school_location": "00", "school_year": "2026-2027", "group": "7B",
        "given_name": "Sanne", "family_name": "de Vries", "birth_date": BIRTH_DATE, "age_over_12": true,
        "age_over_16": false});
    let issued = s
        .school
        .issuer
        .issue("pupil_enrolment", "pupil-1", claims.as_object().cloned().unwrap(), holder.verifying_key(), NOW)
        .unwrap();
    s.school.publish();
    let status = schooltas_status_list::StatusListCache::new(s.school.lists.clone());
    let issuer_key = |h: &schooltas_did::jws::Header, iss: Option<&str>| issuer_key_via_did(&s.resolver, h, iss);
    let summary = s.child.add_credential(&issued.copies()[0], &holder, &issuer_key, &status, NOW).unwrap();
    assert_eq!(summary.unused_copies, 0, "link {spent:?} was spent");
}

/// The disclosed `valid_until` of the guardianship inside a response's approval.
fn approval_valid_until(response: &ResponseToSend, request: &AuthorizationRequest, resolver: &Resolver) -> Value {
    let parsed = schooltas_school::consent::response_from_form(&response.body).unwrap();
    let approval =
        UnverifiedGuardianApproval::parse(schooltas_school::consent::guardian_approval(&parsed).unwrap()).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, &request.client_id));
    let guardianship = UnverifiedSdJwt::parse(approval.guardianship())
        .unwrap()
        .verify_with(|h, iss| issuer_key_via_did(resolver, h, iss), &options, NOW)
        .unwrap();
    guardianship.claims()["valid_until"].clone()
}

#[test]
fn two_children_of_one_school_year_with_different_birthdays_disclose_the_same_validity() {
    let s = setup();
    // A second pupil in the same school year, born eight months later.
    const OTHER_BIRTH_DATE: &str = "2015-05-20";
    let (other_child, other_parent) = family_born(&s.school, "pupil-2", OTHER_BIRTH_DATE);
    let (request_a, request_b) = (newsletter(&s.a), newsletter(&s.b));
    let (first, _) = s.answer(&s.a, &request_a, NOW);
    let (second, _) = s.answer_uri(&other_child, &other_parent, &s.b.request_uri(&request_b, NOW + 60), NOW + 60);
    verify(&first, &request_a, &s.resolver, NOW);
    verify(&second, &request_b, &s.resolver, NOW + 60);
    let (until_first, until_second) =
        (approval_valid_until(&first, &request_a, &s.resolver), approval_valid_until(&second, &request_b, &s.resolver));
    assert_eq!(until_first, json!(SCHOOL_YEAR_END));
    assert_eq!(until_first, until_second, "the validity says nothing about either birthday");
    // Neither view carries a date derived from its child's birth date, anywhere.
    let all_of = |response: &ResponseToSend| view(response).into_iter().collect::<BTreeSet<_>>();
    assert_no_birth_derived_date(&all_of(&first), BIRTH_DATE);
    assert_no_birth_derived_date(&all_of(&second), OTHER_BIRTH_DATE);
}

/// The real verifier: a `schooltas_verifier::Verifier` with the same key as the test
/// verifier `seed` (so the trust list's registration is its own).
fn desk(seed: u8) -> schooltas_verifier::Verifier {
    schooltas_verifier::Verifier::new(
        SigningKey::from_ed25519_seed(&[seed; 32]),
        "https://verifier.example/oid4vp/response",
    )
    .unwrap()
}

fn desk_request(
    desk: &schooltas_verifier::Verifier,
    trust: &VerifiedTrustList,
    now: i64,
) -> schooltas_verifier::SignedRequest {
    let mut query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]);
    for path in paths(&NEWSLETTER) {
        query = query.claim(path);
    }
    let builder =
        schooltas_verifier::RequestBuilder::new(trust.at(now).unwrap(), desk.did(), desk.response_uri(), "newsletter")
            .retention_days(365)
            .credential(query);
    desk.request(builder, now, 600).unwrap()
}

#[test]
fn both_views_are_accepted_by_the_real_verifier_and_still_share_only_public_data() {
    use schooltas_status_list::StatusListCache;
    use schooltas_verifier::{Check, VerificationContext};

    let s = setup();
    let (desk_a, desk_b) = (desk(31), desk(32));
    assert_eq!(desk_a.did(), &s.a.did);
    let status = StatusListCache::new(s.school.lists.clone());
    let (signed_a, signed_b) = (desk_request(&desk_a, &s.trust, NOW), desk_request(&desk_b, &s.trust, NOW + 120));
    let (to_a, _) = s.answer_uri(&s.child, &s.parent, &signed_a.uri_by_value(), NOW);
    let (to_b, _) = s.answer_uri(&s.child, &s.parent, &signed_b.uri_by_value(), NOW + 120);

    // Each through the whole pipeline: nonce and replay, trust list, issuer signature and
    // accreditation, key binding, status (of the enrolment and of the guardianship), the one-child
    // rule and the guardian approval the registration (consent) demands.
    let received_a = desk_a.receive(&to_a.body, &VerificationContext::new(&s.trust, &s.resolver, &status, NOW));
    let received_b = desk_b.receive(&to_b.body, &VerificationContext::new(&s.trust, &s.resolver, &status, NOW + 120));
    for received in [&received_a, &received_b] {
        let verdict = &received.verdict;
        assert!(verdict.is_accepted(), "{:?}", verdict.failures);
        assert!(verdict.guardian_approval_required, "a 12-year-old's consent needs the parent");
        let approval = verdict.guardian_approval.as_ref().expect("the approval was verified");
        assert_eq!(approval.relation, "parent");
        assert_eq!(approval.valid_until.to_string(), SCHOOL_YEAR_END);
        assert_eq!(verdict.subject.as_deref(), Some(approval.approval.child_id.as_str()));
        let claims = verdict.claims("enrolment").unwrap();
        assert_eq!(claims["group"], "7B");
        assert_eq!(claims["age_over_16"], false);
        assert!(claims.get("birth_date").is_none());
    }
    // Each verifier knows the child by a different one-time link.
    assert_ne!(received_a.verdict.subject, received_b.verdict.subject);

    // What the two accepted responses carry in common is public data only.
    let shared: BTreeSet<String> = view(&to_a).intersection(&view(&to_b)).cloned().collect();
    assert_no_birth_derived_date(&shared, BIRTH_DATE);
    let public: BTreeSet<String> = [
        "s:EdDSA",
        "s:dc+sd-jwt",
        "s:kb+jwt",
        "s:schooltas-guardian-approval+jwt",
        "s:sha-256",
        "s:OKP",
        "s:Ed25519",
        "s:7B",
        "s:Sanne",
        "b:false",
        "s:newsletter",
        "s:consent",
        "s:enrolment",
        "s:parent",
        "s:https://delinde.example/status/enrolment/1",
        "s:https://delinde.example/status/guardianship/1",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([
        format!("s:{SCHOOL_DID}#key-1"),
        format!("s:{SCHOOL_DID}"),
        format!("s:{ENROLMENT}"),
        format!("s:{}", vct("guardianship")),
        // Each type's metadata pin (`vct#integrity`), the same in every credential of it.
        format!("s:{}", integrity("pupil_enrolment")),
        format!("s:{}", integrity("guardianship")),
        format!("s:{SCHOOL_YEAR_END}"),
    ])
    .collect();
    assert_eq!(shared, public, "only public data is common to the two accepted views");

    // And the real pipeline still holds its line: the same body again is a replay.
    let again = desk_a.receive(&to_a.body, &VerificationContext::new(&s.trust, &s.resolver, &status, NOW + 5));
    assert!(again.verdict.failed(Check::Replay), "{:?}", again.verdict.failures);
}
