//! Photo consent: may the school put this class photo in the newsletter?
//!
//! A primary school issues enrolment and guardianship credentials (OpenID4VCI) to a child's and
//! a parent's wallet. The school asks for consent to use a class photo (identified by its hash)
//! in the newsletter; the child (12) assents, the parent approves from their own wallet, the
//! school verifies and records the consent, and its register says yes. A second child's parent
//! says no: the register says no. The first parent later withdraws, and the answer becomes no.
//!
//! Run with `cargo run --example photo_consent`. Each step prints one line; the example checks
//! its own outcomes and exits non-zero if any is wrong.

#[path = "support/mod.rs"]
mod support;

use std::process::ExitCode;

use schooltas::did::SigningKey;
use schooltas::oid4vc::oid4vp::{CredentialQuery, TransactionData};
use schooltas::school::LegalBasis;
use schooltas::school::catalog::Language;
use schooltas::school::trust_list::{RegisteredPurpose, VerifierRegistration};
use schooltas::status_list::StatusListCache;
use schooltas::verifier::register::{ConsentRegister, SqliteConsentStore, UseAnswer, UseQuery};
use schooltas::verifier::{Check, RequestBuilder, VerificationContext, Verifier};
use schooltas::wallet::{Decision, GuardianAnswer, Outcome, ResponseToSend, Role, Verifiers, Wallet};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::*;

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nAll steps behaved as expected.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nFAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Family {
    name: &'static str,
    child: Wallet,
    parent: Wallet,
}

fn run() -> Result<()> {
    // ---- Setting up: the school, its verifier service, the trust list ----------------------
    let school = School::new("Basisschool De Linde", "12AB", "delinde.example", 1)?;
    let desk_key = SigningKey::from_ed25519_seed(&[31; 32]);
    let registration = VerifierRegistration::new(did_of(&desk_key), "Basisschool De Linde — nieuwsbrief").with_purpose(
        RegisteredPurpose::new(
            "newsletter",
            text("Foto's in de nieuwsbrief", "Photos in the newsletter"),
            LegalBasis::Consent,
            365,
        )
        .allow(vct("pupil_enrolment"), paths(&["given_name", "group", "sub", "age_over_16"])),
    );
    let trust_list = trust_list(&[&school], vec![registration])?;
    let resolver = resolver(&[&school])?;
    say("De Linde publishes its did:web document; the trust list accredits it and registers its newsletter desk.");

    // ---- Issuing: enrolment to each child, guardianship to each parent -----------------------
    let mut families = Vec::new();
    for (name, subject, given_name, birth_date) in
        [("Sanne's", "pupil-0417", "Sanne", "2014-09-01"), ("Daan's", "pupil-0533", "Daan", "2015-02-10")]
    {
        let child = child(birth_date)?;
        let parent = new_wallet(Role::Parent)?;
        school.register(
            subject,
            "pupil_enrolment",
            json!({"sub": child.owner().did().as_str(), "school_name": "Basisschool De Linde",
                   "school_brin": "12AB", "school_location": "00", "school_year": "2026-2027", "group": "7B",
                   "given_name": given_name, "family_name": "de Vries", "birth_date": birth_date,
                   "age_over_12": birth_date < "2015-01-15", "age_over_16": false}),
        )?;
        let sixteenth = schooltas::school::date::CalendarDate::parse(birth_date)?.anniversary(16);
        school.register(
            subject,
            "guardianship",
            json!({"guardian_id": parent.owner().did().as_str(), "child_id": child.owner().did().as_str(),
                   "relation": "parent", "child_birth_date": birth_date,
                   "valid_until": sixteenth.to_string(), "school_brin": "12AB"}),
        )?;
        let copies = school.issue_to(&child, &resolver, subject, &["pupil_enrolment"])?;
        check(copies == 3, "three enrolment copies in the child's wallet")?;
        school.issue_to(&parent, &resolver, subject, &["guardianship"])?;
        say(&format!(
            "{given_name} (born {birth_date}) receives an enrolment credential (3 copies); the parent's wallet a guardianship credential."
        ));
        families.push(Family { name, child, parent });
    }

    // ---- The school asks ---------------------------------------------------------------------
    let photo = b"class 7B, spring 2027, photo 12 of 30";
    let photo_hash = format!("sha-256:{}", hex(&Sha256::digest(photo)));
    let desk = Verifier::new(desk_key, "https://delinde.example/oid4vp/response")?;
    let status = StatusListCache::new(school.lists.clone());
    let register = ConsentRegister::new(SqliteConsentStore::in_memory()?);
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: None };
    let context = VerificationContext::new(&trust_list, &resolver, &status, NOW);

    let ask = |_: &Family| -> Result<_> {
        let photo_data = TransactionData::new("schooltas_photo_use", ["enrolment"])
            .with_member("object", json!(photo_hash))
            .with_member("channel", json!("newsletter"));
        let builder = RequestBuilder::new(trust_list.at(NOW)?, desk.did(), desk.response_uri(), "newsletter")
            .retention_days(365)
            .credential(
                CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")])
                    .claim(schooltas::sd_jwt::ClaimPath::claim("given_name"))
                    .claim(schooltas::sd_jwt::ClaimPath::claim("group"))
                    .claim(schooltas::sd_jwt::ClaimPath::claim("sub"))
                    .claim(schooltas::sd_jwt::ClaimPath::claim("age_over_16")),
            )
            .transaction_data(photo_data);
        Ok(desk.request(builder, NOW, 600)?)
    };
    say(&format!("The teacher wants photo {}… in the newsletter; the school asks each family.", &photo_hash[..19]));

    // ---- Sanne: the child assents, the parent approves -----------------------------------
    let sanne = &families[0];
    let request = ask(sanne)?;
    let prompt = sanne.child.handle_request(&request.uri_by_value(), &verifiers, NOW)?;
    for line in prompt.render(Language::En).lines() {
        println!("    │ {line}");
    }
    check(prompt.over_asking.is_empty(), "the request stays within the registration")?;
    let Outcome::AwaitGuardian(to_parent) = sanne.child.decide(&prompt.request_id, Decision::ApproveAll, NOW)? else {
        return Err("a 12-year-old cannot consent alone".into());
    };
    say("Sanne (12) says yes; her wallet asks her parent, because she is under 16.");
    let review = sanne.parent.review_child_request(&to_parent, &verifiers, NOW)?;
    let shown: Vec<String> = review.items.iter().flat_map(|i| i.disclosed.iter().map(|c| c.label_en.clone())).collect();
    say(&format!(
        "Her parent's wallet checks the request itself and shows what would be shared: {}.",
        shown.join(", ")
    ));
    let answer = sanne.parent.answer_child_request(&to_parent, true, &verifiers, NOW)?;
    let response = sanne.child.complete_with_guardian(&answer, NOW)?;
    say("The parent approves; Sanne's wallet sends her presentation with the parent's signed approval.");

    let received = desk.receive(&response.body, &context);
    check(received.verdict.is_accepted(), &format!("the school accepts: {:?}", received.verdict.failures))?;
    check(received.verdict.guardian_approval.is_some(), "the guardian approval was checked")?;
    let consent_id = desk.record_consent(&register, &received, NOW)?;
    say(&format!(
        "The school verifies everything (signatures, nonce, status, accreditation, parent approval) and records consent {}….",
        &consent_id.as_str()[..8]
    ));
    let subject = received.verdict.subject.clone().ok_or("the presentation names the pupil")?;
    let yes = register.may_use(
        UseQuery { subject: &subject, purpose: "newsletter", object: Some(&photo_hash) },
        NOW + 60,
        None,
    )?;
    check(yes.is_yes(), "the register says yes for Sanne")?;
    say("The newsletter editor asks the register: may Sanne's photo go in? — yes, with the evidence.");

    let replay = desk.receive(&response.body, &context);
    check(replay.verdict.failed(Check::Replay), "a replayed response is refused")?;
    say("The same response sent again is refused as a replay.");

    // ---- Daan: the parent says no -----------------------------------------------------------
    let daan = &families[1];
    let request = ask(daan)?;
    let prompt = daan.child.handle_request(&request.uri_by_value(), &verifiers, NOW)?;
    let Outcome::AwaitGuardian(to_parent) = daan.child.decide(&prompt.request_id, Decision::ApproveAll, NOW)? else {
        return Err("Daan is under 16".into());
    };
    let answer = daan.parent.answer_child_request(&to_parent, false, &verifiers, NOW)?;
    check(matches!(answer, GuardianAnswer::Denied { .. }), "Daan's parent says no")?;
    let refusal: ResponseToSend = daan.child.complete_with_guardian(&answer, NOW)?;
    check(!refusal.discloses, "nothing is disclosed")?;
    let received = desk.receive(&refusal.body, &context);
    check(!received.verdict.is_accepted(), "a refusal records nothing")?;
    let daan_id = daan.child.owner().did().to_string();
    let no = register.may_use(
        UseQuery { subject: &daan_id, purpose: "newsletter", object: Some(&photo_hash) },
        NOW + 60,
        None,
    )?;
    check(!no.is_yes(), "the register says no for Daan")?;
    say(&format!("{} parent says no. The school receives only a refusal; the register says no for Daan.", daan.name));

    // ---- Sanne's parent withdraws ------------------------------------------------------------
    let consent = sanne.parent.consents()?.into_iter().next().ok_or("the parent's wallet lists the consent")?;
    let withdrawal = sanne.parent.withdraw(&consent.id, NOW + 7 * 86_400)?;
    say("A week later Sanne's parent withdraws the consent: one tap, one signed message to the school.");
    desk.apply_withdrawal(&register, &withdrawal.jwt, NOW + 7 * 86_400 + 5)?;
    let after = register.may_use(
        UseQuery { subject: &subject, purpose: "newsletter", object: Some(&photo_hash) },
        NOW + 7 * 86_400 + 60,
        None,
    )?;
    check(matches!(after, UseAnswer::No { .. }), "the register says no after the withdrawal")?;
    say("The register's next answer for Sanne's photo is no; the withdrawal is kept as evidence.");

    // ---- What the family can see -------------------------------------------------------------
    let log = sanne.child.log()?;
    say(&format!("Sanne's wallet log holds {} hash-chained entries; the chain verifies.", log.len()));
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
