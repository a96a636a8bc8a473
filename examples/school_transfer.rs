//! Transfer to secondary school: exactly the advice, the levels — and, if the parent agrees,
//! the support arrangements — move to the new school; nothing else.
//!
//! The primary school issues school advice, reference levels and a support-needs credential
//! (with a dyslexia statement) to a pupil's wallet. The secondary school asks for advice and
//! levels (legal obligation: the *onderwijskundig rapport*) and for the support needs (consent).
//! The wallet marks the dyslexia statement as special-category data. The parent first approves
//! advice and levels only; in a second request also the support needs. The secondary school
//! verifies and gets exactly that. A learning app asking for more than its registration allows
//! is refused by its own request builder; when it asks anyway, the wallet refuses outright a
//! dyslexia statement "on contract" (the registration backs no such basis) and flags the extra
//! claim. The family's log is printed at the end.
//!
//! Run with `cargo run --example school_transfer`.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::ExitCode;

use schooltas::did::SigningKey;
use schooltas::oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, CredentialSetQuery};
use schooltas::school::LegalBasis;
use schooltas::school::catalog::Language;
use schooltas::school::trust_list::{OverAsking, RegisteredPurpose, TrustListError, VerifierRegistration};
use schooltas::sd_jwt::ClaimPath;
use schooltas::status_list::StatusListCache;
use schooltas::verifier::{RequestBuilder, SignedRequest, VerificationContext, Verifier};
use schooltas::wallet::log::LogEvent;
use schooltas::wallet::{Decision, Outcome, ResponseToSend, Role, Verifiers, Wallet};
use serde_json::json;
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

const ADVICE: [&str; 3] = ["advice", "advice_date", "adjusted_after_final_test"];
const LEVELS: [&str; 3] = ["reading_level", "language_level", "maths_level"];
const SUPPORT: [&str; 3] = ["arrangements", "dyslexia_statement", "sub"];

fn query(id: &str, type_id: &str, claims: &[&str]) -> CredentialQuery {
    let mut query = CredentialQuery::sd_jwt_vc(id, [vct(type_id)]);
    for claim in claims {
        query = query.claim(ClaimPath::claim(*claim));
    }
    query
}

fn run() -> Result<()> {
    let primary = School::new("Basisschool De Linde", "12AB", "delinde.example", 1)?;
    let secondary = School::new("Het Stedelijk College", "34CD", "stedelijk.example", 2)?;
    let admissions_key = SigningKey::from_ed25519_seed(&[41; 32]);
    let app_key = SigningKey::from_ed25519_seed(&[42; 32]);
    let transfer = RegisteredPurpose::new(
        "transfer",
        text("Overstap naar het voortgezet onderwijs", "Transfer to secondary school"),
        LegalBasis::LegalObligation,
        2 * 365,
    )
    .allow(vct("school_advice"), paths(&ADVICE))
    .allow(vct("learning_results"), paths(&LEVELS))
    .allow_with_basis(vct("support_needs"), paths(&SUPPORT), LegalBasis::Consent);
    let admissions =
        VerifierRegistration::new(did_of(&admissions_key), "Het Stedelijk College — toelating").with_purpose(transfer);
    let app = VerifierRegistration::new(did_of(&app_key), "Rekenkoning (oefenapp)").with_purpose(
        RegisteredPurpose::new(
            "practice",
            text("Oefenen op niveau", "Practice at your level"),
            LegalBasis::Contract,
            365,
        )
        .allow(vct("learning_results"), paths(&["maths_level"])),
    );
    let trust_list = trust_list(&[&primary, &secondary], vec![admissions, app])?;
    let resolver = resolver(&[&primary, &secondary])?;
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: None };
    say(
        "The trust list accredits both schools and registers the secondary school's admissions desk and a learning app.",
    );

    // ---- The primary school issues --------------------------------------------------------
    let child = child("2014-05-20")?;
    let parent = new_wallet(Role::Parent)?;
    let school_fields = json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00"});
    let with_school = |extra: serde_json::Value| {
        let mut record = school_fields.clone();
        if let (Some(record), Some(extra)) = (record.as_object_mut(), extra.as_object()) {
            record.extend(extra.clone());
        }
        record
    };
    let subject = "pupil-0911";
    let me = child.owner().did().to_string();
    primary.register(
        subject,
        "school_advice",
        with_school(json!({"sub": me, "advice": ["havo", "vwo"],
        "advice_date": "2027-01-10", "adjusted_after_final_test": false})),
    )?;
    primary.register(
        subject,
        "learning_results",
        with_school(json!({"sub": me, "test_name": "Doorstroomtoets",
        "test_date": "2027-01-08", "reading_level": "1S", "language_level": "2F", "maths_level": "1S"})),
    )?;
    primary.register(
        subject,
        "support_needs",
        with_school(json!({"sub": me,
        "arrangements": ["extra time (+20%)", "read-aloud software"],
        "dyslexia_statement": true, "statement_issued_by": "Praktijk Leesrijk"})),
    )?;
    primary.register(
        subject,
        "guardianship",
        json!({"guardian_id": parent.owner().did().as_str(), "child_id": me,
        "relation": "parent", "child_birth_date": "2014-05-20", "valid_until": "2030-05-20", "school_brin": "12AB"}),
    )?;
    primary.issue_to(&child, &resolver, subject, &["school_advice", "learning_results", "support_needs"])?;
    primary.issue_to(&parent, &resolver, subject, &["guardianship"])?;
    say(
        "De Linde issues the school advice (havo/vwo), reference levels and a support-needs credential to Noor's wallet.",
    );

    // ---- The secondary school asks -----------------------------------------------------------
    let desk = Verifier::new(admissions_key, "https://stedelijk.example/oid4vp/response")?;
    let status = StatusListCache::new(primary.lists.clone());
    let context = VerificationContext::new(&trust_list, &resolver, &status, NOW);
    let ask = || -> Result<SignedRequest> {
        let builder = RequestBuilder::new(trust_list.at(NOW)?, desk.did(), desk.response_uri(), "transfer")
            .credential(query("advice", "school_advice", &ADVICE))
            .credential(query("levels", "learning_results", &LEVELS))
            .credential(query("support", "support_needs", &SUPPORT))
            .credential_set(CredentialSetQuery::required([["advice", "levels"]]))
            .credential_set(CredentialSetQuery::optional([["support"]]))
            .query_basis("support", LegalBasis::Consent);
        Ok(desk.request(builder, NOW, 600)?)
    };

    // First run: advice and levels only.
    let request = ask()?;
    let prompt = child.handle_request(&request.uri_by_value(), &verifiers, NOW)?;
    for line in prompt.render(Language::Nl).lines() {
        println!("    │ {line}");
    }
    check(prompt.has_special_category(), "the dyslexia statement is marked as special-category data")?;
    check(prompt.over_asking.is_empty(), "the admissions desk stays within its registration")?;
    let only_required: BTreeMap<String, Vec<ClaimPath>> =
        BTreeMap::from([("advice".to_owned(), paths(&ADVICE)), ("levels".to_owned(), paths(&LEVELS))]);
    let response = with_parent(&child, &parent, &verifiers, &prompt.request_id, Decision::Approve(only_required))?;
    let received = desk.receive(&response.body, &context);
    check(received.verdict.is_accepted(), &format!("accepted: {:?}", received.verdict.failures))?;
    let got: Vec<&str> = received.verdict.credentials.iter().map(|c| c.query_id.as_str()).collect();
    check(got == ["advice", "levels"], "only advice and levels arrive")?;
    check(received.verdict.claims("advice").is_some_and(|c| c["advice"] == json!(["havo", "vwo"])), "the advice")?;
    say("Run 1: the parent approves advice and levels only. The secondary school verifies and gets exactly those two.");

    // Second run: also the support needs (consent, so the parent's approval is checked).
    let request = ask()?;
    let prompt = child.handle_request(&request.uri_by_value(), &verifiers, NOW)?;
    let response = with_parent(&child, &parent, &verifiers, &prompt.request_id, Decision::ApproveAll)?;
    let received = desk.receive(&response.body, &context);
    check(received.verdict.is_accepted(), &format!("accepted: {:?}", received.verdict.failures))?;
    check(received.verdict.guardian_approval.is_some(), "the parent's approval of the support needs was verified")?;
    let support = received.verdict.claims("support").ok_or("support needs arrive")?;
    check(support.get("statement_issued_by").is_none(), "who issued the statement was not asked and stays home")?;
    say(
        "Run 2: the parent also approves the support needs; the school checks the parent's approval and can arrange extra time.",
    );

    // ---- A learning app asks for too much ---------------------------------------------------
    let too_much = query("levels", "learning_results", &["maths_level"]);
    let too_much = too_much.claim(ClaimPath::claim("reading_level"));
    let refused =
        RequestBuilder::new(trust_list.at(NOW)?, &did_of(&app_key), "https://rekenkoning.example/r", "practice")
            .credential(too_much.clone())
            .build("n-8c1f0e2d7a9b3c4d");
    let reading_level = ClaimPath::claim("reading_level");
    check(
        matches!(
            &refused,
            Err(schooltas::school::Error::TrustList(TrustListError::RequestExceedsRegistration { findings }))
                if findings.iter().any(|f| matches!(f, OverAsking::ClaimNotAllowed { path, .. } if *path == reading_level))
        ),
        "the app's own request builder refuses to over-ask (reading_level is not registered)",
    )?;
    let sneaky = |with_dyslexia: bool| -> Result<String> {
        let mut dcql = schooltas::oid4vc::oid4vp::DcqlQuery::builder().credential(too_much.clone());
        if with_dyslexia {
            dcql = dcql.credential(query("support", "support_needs", &["dyslexia_statement"]));
        }
        let request = AuthorizationRequest::new(
            &did_of(&app_key),
            "https://rekenkoning.example/r",
            schooltas::oid4vc::oid4vp::random_nonce(),
            dcql.build()?,
        );
        let request = schooltas::school::SchooltasExtension::new(
            schooltas::school::Purpose { code: "practice".into(), text: text("Oefenen", "Practice") },
            LegalBasis::Contract,
            365,
        )
        .apply(request)?;
        Ok(SignedRequest::sign(request, &app_key, &kid_of(&app_key)?, NOW, 600)?.uri_by_value())
    };
    // Sent by hand with the dyslexia statement "on contract": the registration backs no basis
    // but consent for it, so the wallet does not even prompt (who approves follows the
    // registration, not the request).
    match child.handle_request(&sneaky(true)?, &verifiers, NOW) {
        Err(error @ schooltas::wallet::Error::LegalBasisMismatch { .. }) => {
            println!("    │ {}", error.localized(Language::Nl));
        }
        other => return Err(format!("the wallet must refuse the pretext basis, got {other:?}").into()),
    }
    // Sent by hand with only the extra level: the wallet flags it and the family says no.
    let prompt = child.handle_request(&sneaky(false)?, &verifiers, NOW)?;
    for warning in &prompt.over_asking {
        println!("    │ WARNING: {warning}");
    }
    check(!prompt.over_asking.is_empty(), "the wallet flags the extra level")?;
    let Outcome::Send(refusal) = child.decide(&prompt.request_id, Decision::Deny, NOW)? else {
        return Err("a denial is sent at once".into());
    };
    check(!refusal.discloses, "nothing leaves the wallet")?;
    say(
        "A learning app asks beyond its registration: its builder refuses; sent by hand, the wallet refuses the dyslexia \
         statement \"on contract\" outright, flags the extra level, and the family says no.",
    );

    // ---- The family's log ----------------------------------------------------------------------
    say("Noor's log — who got what, when, why:");
    for entry in child.log()? {
        println!("    {:>3}  {}", entry.seq, describe(&entry.event));
    }
    Ok(())
}

/// The child's wallet asks the parent's wallet, which approves; the child's wallet sends.
fn with_parent(
    child: &Wallet,
    parent: &Wallet,
    verifiers: &Verifiers<'_>,
    request_id: &str,
    decision: Decision,
) -> Result<ResponseToSend> {
    match child.decide(request_id, decision, NOW)? {
        Outcome::Send(response) => Ok(response),
        Outcome::AwaitGuardian(to_parent) => {
            let review = parent.review_child_request(&to_parent, verifiers, NOW)?;
            check(!review.items.is_empty(), "the parent sees what would be shared")?;
            let answer = parent.answer_child_request(&to_parent, true, verifiers, NOW)?;
            Ok(child.complete_with_guardian(&answer, NOW)?)
        }
    }
}

fn describe(event: &LogEvent) -> String {
    match event {
        LogEvent::CredentialReceived { vct, copies, .. } => format!("received {copies}× {}", short(vct)),
        LogEvent::RequestReceived { verifier, purpose, legal_basis, .. } => {
            format!("request from {} for {purpose} ({legal_basis})", short(verifier))
        }
        LogEvent::RequestRefused { verifier, reason } => format!("refused {}: {reason}", short(verifier)),
        LogEvent::Decision { by, approved, .. } => {
            format!("{by:?} said {}", if *approved { "yes" } else { "no" })
        }
        LogEvent::Disclosure { verifier, purpose, vct, claims, .. } => {
            format!("disclosed {} of {} to {} for {purpose}", claims.join(", "), short(vct), short(verifier))
        }
        LogEvent::ConsentConfirmed { verifier, purpose, .. } => {
            format!("confirmed at 16 the consent for {purpose} to {}", short(verifier))
        }
        LogEvent::Withdrawal { verifier, purpose, .. } => {
            format!("withdrew consent for {purpose} from {}", short(verifier))
        }
    }
}

/// A credential type's English name, or the last part of a DID.
fn short(text: &str) -> String {
    let catalog = schooltas::school::catalog::Catalog::standard();
    if let Some(name) = schooltas::sd_jwt::Vct::new(text.to_owned())
        .ok()
        .and_then(|vct| catalog.by_vct(&vct).map(|t| t.name().get(Language::En).to_owned()))
    {
        return name;
    }
    let tail = text.rsplit(['/', ':']).next().unwrap_or(text);
    if tail.len() > 14 { format!("…{}", &tail[tail.len() - 10..]) } else { tail.to_owned() }
}
