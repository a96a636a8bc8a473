//! Photo consent, on the wire: may the school put this class photo in the newsletter?
//!
//! The school's services run in this process but every party talks over real sockets on
//! 127.0.0.1: the issuer (OpenID4VCI over TLS, its did:web document and status lists), the
//! newsletter desk's verifier (OpenID4VP request objects by reference and the `direct_post`
//! response endpoint over TLS, with its consent register in SQLite), the staff endpoints on
//! loopback HTTP, and the guardian hand-over relay between the child's and the parent's phone
//! (end-to-end encrypted: it holds ciphertext only).
//! The wallets reach them only through their guarded HTTPS client.
//!
//! A primary school hands out enrolment (to each child) and guardianship (to each parent)
//! offers with a PIN; the wallets redeem them. The school asks for consent to use a class photo
//! (identified by its hash) in the newsletter: the child (12) assents, the parent approves from
//! a second wallet, the school verifies and records the consent, and the newsletter editor's
//! question gets a yes. A second child's parent says no. The first parent later withdraws,
//! and the answer becomes no; the family's access request lists the consent and its end.
//!
//! Run with `cargo run --example photo_consent`. Each step prints one line; the example checks
//! its own outcomes and exits non-zero if any is wrong. SQLite files go to a temporary folder
//! that is removed at the end.

#[path = "support/mod.rs"]
mod support;
#[path = "support/wire.rs"]
mod wire;

use std::process::ExitCode;

use schooltas::did::SigningKey;
use schooltas::oid4vc::oid4vp::{CredentialQuery, TransactionData};
use schooltas::school::LegalBasis;
use schooltas::school::catalog::Language;
use schooltas::school::trust_list::{RegisteredPurpose, VerifierRegistration};
use schooltas::verifier::Verifier;
use schooltas::verifier::register::{ConsentRegister, SqliteConsentStore};
use schooltas::wallet::http::HttpsRequestObjectFetcher;
use schooltas::wallet::issuer_http::HttpsIssuerConnection;
use schooltas::wallet::relay::{HandOver, fetch_request};
use schooltas::wallet::{Decision, GuardianAnswer, Outcome, Role, Verifiers, Wallet};
use schooltas_server::verifier::{VerifierConfig, VerifierService};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::{NOW, Result, check, child, did_of, new_wallet, paths, say, text, vct};
use wire::{Port, Servers};

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

/// A temporary folder for the SQLite files, removed when dropped.
struct Folder(std::path::PathBuf);

impl Folder {
    fn new() -> Result<Folder> {
        let path = std::env::temp_dir().join(format!("schooltas-photo-consent-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Folder(path))
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

struct Family {
    given_name: &'static str,
    child: Wallet,
    parent: Wallet,
}

pub(crate) fn run() -> Result<()> {
    let folder = Folder::new()?;
    let servers = Servers::new()?;

    // ---- The school's services ---------------------------------------------------------------
    let (school_port, school_admin) = (Port::bind()?, Port::bind()?);
    let origin = school_port.https_origin();
    let administration = wire::Administration::default();
    let issuer =
        wire::issuer_service(wire::school("Basisschool De Linde", "12AB", &origin, &folder.0)?, &administration)?;
    let school_did = issuer.with_issuer(|issuer| issuer.profile().did().clone());
    servers.issuer(&issuer, school_port, school_admin)?;
    say(&format!("De Linde's issuer listens at {origin} (TLS); its DID is {school_did}."));

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
    let trust_list = wire::trust_list(&school_did, "Basisschool De Linde", "12AB", vec![registration])?;
    let (desk_port, desk_admin) = (Port::bind()?, Port::bind()?);
    let desk_origin = desk_port.https_origin();
    let desk_admin_address = desk_admin.address;
    let register = ConsentRegister::new(SqliteConsentStore::open(folder.0.join("consents.sqlite"))?);
    let desk = VerifierService::with_clock(
        Verifier::new(desk_key, format!("{desk_origin}/oid4vp/response"))?,
        trust_list.clone(),
        wire::resolver()?,
        wire::status_cache()?,
        &format!("{desk_origin}/oid4vp/requests"),
        VerifierConfig::default(),
        || NOW,
    )?
    .with_consent_register(register)?;
    let consents_path = desk.consents_path().to_owned();
    servers.verifier(&desk, desk_port, desk_admin)?;
    // The hand-over between a child's phone and a parent's: a store-and-forward relay that
    // only ever holds ciphertext (the key is in the link the child's phone shows).
    let relay_port = Port::bind()?;
    let relay_base = format!("{}/relay", relay_port.https_origin());
    let relay = schooltas_server::relay::GuardianRelay::with_clock(Default::default(), || NOW)?;
    servers.relay(&relay, relay_port)?;
    say(&format!(
        "The newsletter desk's verifier listens at {desk_origin} (TLS), its consent register in SQLite; the trust list accredits the school and registers the desk."
    ));

    // ---- Issuing over OpenID4VCI: offers with a PIN, redeemed by the wallets ------------------
    let mut families = Vec::new();
    for (given_name, subject, birth_date) in
        [("Sanne", "pupil-0417", "2014-09-01"), ("Daan", "pupil-0533", "2015-02-10")]
    {
        let child = child(birth_date)?;
        let parent = new_wallet(Role::Parent)?;
        administration.register(
            subject,
            "pupil_enrolment",
            json!({"sub": subject, "school_name": "Basisschool De Linde",
                   "school_brin": "12AB", "school_location": "00", "school_year": "2026-2027", "group": "7B",
                   "given_name": given_name, "family_name": "de Vries", "birth_date": birth_date,
                   "age_over_12": birth_date < "2015-01-15", "age_over_16": false}),
        )?;
        // The school knows the parent, not the parent's wallet: the guardianship names no
        // guardian_id, and each copy names its own holder key.
        let sixteenth = schooltas::school::date::CalendarDate::parse(birth_date)?.anniversary(16);
        let guardian_ref = format!("{subject}/parent");
        administration.register(
            &guardian_ref,
            "guardianship",
            json!({"child_id": subject, "relation": "parent", "child_birth_date": birth_date,
                   "valid_until": sixteenth.to_string(), "school_brin": "12AB"}),
        )?;
        for (wallet, reference, config_id) in
            [(&child, subject, "pupil_enrolment"), (&parent, guardian_ref.as_str(), "guardianship")]
        {
            // The letter home: a QR code of the offer URI, and the PIN through another channel.
            let offer = issuer.publish_offer(reference, &[config_id.to_owned()])?;
            let pin = offer.pin.as_ref().map(|pin| pin.to_string());
            let copies = wire::receive(wallet, &offer.uri, pin.as_deref())?;
            check(copies == 3, "three copies received")?;
        }
        say(&format!(
            "{given_name} (born {birth_date}) scans the letter's QR code and types the PIN: 3 enrolment copies over HTTPS; the parent's wallet gets 3 guardianship copies."
        ));
        families.push(Family { given_name, child, parent });
    }

    // ---- The school asks --------------------------------------------------------------------
    let photo = b"class 7B, spring 2027, photo 12 of 30";
    let photo_hash = format!("sha-256:{}", hex(&Sha256::digest(photo)));
    let ask = || {
        desk.open_session("newsletter", Some("https://delinde.example/nieuwsbrief/dank"), |builder| {
            let photo_data = TransactionData::new("schooltas_photo_use", ["enrolment"])
                .with_member("object", json!(photo_hash))
                .with_member("channel", json!("newsletter"));
            builder
                .retention_days(365)
                .credential(
                    CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")])
                        .claim(schooltas::sd_jwt::ClaimPath::claim("given_name"))
                        .claim(schooltas::sd_jwt::ClaimPath::claim("group"))
                        .claim(schooltas::sd_jwt::ClaimPath::claim("sub"))
                        .claim(schooltas::sd_jwt::ClaimPath::claim("age_over_16")),
                )
                .transaction_data(photo_data)
        })
    };
    say(&format!(
        "The teacher wants photo {}… in the newsletter; the desk shows each family a QR code.",
        &photo_hash[..19]
    ));

    let resolver = wire::resolver()?;
    let fetcher = HttpsRequestObjectFetcher::new().with_client(wire::client()?);
    let fetch = |uri: &str| fetcher.fetch(uri);
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(&fetch) };
    let to_verifier = HttpsIssuerConnection::with_client(wire::client()?);

    // ---- Sanne: the child assents, the parent approves from her own phone ----------------------
    let sanne = &families[0];
    let session = ask()?;
    let prompt = sanne.child.handle_request(&session.uri, &verifiers, NOW)?;
    for line in prompt.render(Language::En).lines() {
        println!("    │ {line}");
    }
    check(prompt.over_asking.is_empty(), "the request stays within the registration")?;
    let Outcome::AwaitGuardian(to_parent) = sanne.child.decide(&prompt.request_id, Decision::ApproveAll, NOW)? else {
        return Err("a 12-year-old cannot consent alone".into());
    };
    say(
        "Sanne (12) scans the QR code, fetches the request over HTTPS and says yes; her wallet asks her parent, because she is under 16.",
    );
    let client = wire::client()?;
    let hand_over = HandOver::send(&client, &relay_base, &to_parent)?;
    say(
        "Her phone seals the request for her parent and leaves it at the school's relay; it shows her parent a QR code with the link and its key.",
    );
    let (request_for_parent, reply_to) = fetch_request(&client, &hand_over.link())?;
    let review = sanne.parent.review_child_request(&request_for_parent, &verifiers, NOW)?;
    let shown: Vec<String> = review.items.iter().flat_map(|i| i.disclosed.iter().map(|c| c.label_en.clone())).collect();
    say(&format!(
        "Her parent's wallet scans it, fetches and opens the request, checks the verifier's request object itself, and shows what would be shared: {}.",
        shown.join(", ")
    ));
    let answer = sanne.parent.answer_child_request(&request_for_parent, true, &verifiers, NOW)?;
    reply_to.send(&client, &answer)?;
    let answer = hand_over.poll_answer(&client)?.ok_or("the parent's answer is at the relay")?;
    let response = sanne.child.complete_with_guardian(&answer, NOW)?;
    let redirect = to_verifier.post_response(&response)?;
    check(redirect.is_some(), "the desk sends the wallet on to its thank-you page")?;
    say(
        "The parent approves: the signed approval goes back sealed through the relay, and Sanne's wallet posts her presentation with it to the desk (HTTP 200, redirect_uri).",
    );

    let outcome = desk.outcome(&session.id);
    let Some(schooltas_server::verifier::SessionOutcome::Accepted { verdict, consent: Some(consent_id) }) = outcome
    else {
        return Err("the desk accepts and records the consent".into());
    };
    check(verdict.guardian_approval.is_some(), "the guardian approval was checked")?;
    let subject = verdict.subject.clone().ok_or("the presentation names the pupil")?;
    say(&format!(
        "The desk verified signatures, nonce, status (fetched from the school), accreditation and the parent's approval, and recorded consent {}… before answering.",
        &consent_id.as_str()[..8]
    ));
    let may_use = format!(
        "{consents_path}/may-use?subject={}&purpose=newsletter&object={}",
        wire::pct(&subject),
        wire::pct(&photo_hash)
    );
    let (_, yes) = wire::staff_get(desk_admin_address, &may_use)?;
    check(yes["answer"] == "yes", "the register says yes for Sanne")?;
    say(
        "The newsletter editor asks the register over the staff endpoint: may Sanne's photo go in? — yes, with the consent's id.",
    );

    let replay = to_verifier.post_response(&response);
    check(
        matches!(&replay, Err(schooltas::wallet::Error::VerifierRefused { description: Some(d), .. }) if d.contains("replay")),
        "a replayed response is refused",
    )?;
    say("The same response posted again is refused as a replay.");

    // ---- Daan: the parent says no -------------------------------------------------------------
    let daan = &families[1];
    let session = ask()?;
    let prompt = daan.child.handle_request(&session.uri, &verifiers, NOW)?;
    let Outcome::AwaitGuardian(to_parent) = daan.child.decide(&prompt.request_id, Decision::ApproveAll, NOW)? else {
        return Err("Daan is under 16".into());
    };
    let hand_over = HandOver::send(&client, &relay_base, &to_parent)?;
    let (request_for_parent, reply_to) = fetch_request(&client, &hand_over.link())?;
    let answer = daan.parent.answer_child_request(&request_for_parent, false, &verifiers, NOW)?;
    check(matches!(answer, GuardianAnswer::Denied { .. }), "Daan's parent says no")?;
    reply_to.send(&client, &answer)?;
    let answer = hand_over.poll_answer(&client)?.ok_or("the parent's answer is at the relay")?;
    let refusal = daan.child.complete_with_guardian(&answer, NOW)?;
    check(!refusal.discloses, "nothing is disclosed")?;
    to_verifier.post_response(&refusal)?;
    check(
        matches!(desk.outcome(&session.id), Some(schooltas_server::verifier::SessionOutcome::Declined { .. })),
        "the desk sees a refusal",
    )?;
    say(&format!("{}'s parent says no. The desk receives only a refusal, and records nothing.", daan.given_name));

    // ---- Sanne's parent withdraws -------------------------------------------------------------
    let consent = sanne.parent.consents()?.into_iter().next().ok_or("the parent's wallet lists the consent")?;
    let withdrawal = sanne.parent.withdraw(&consent.id, NOW + 60)?;
    to_verifier.post_withdrawal(&withdrawal)?;
    say("Later Sanne's parent withdraws the consent: one tap, one signed message posted to the desk.");
    let (_, no) = wire::staff_get(desk_admin_address, &may_use)?;
    check(no["answer"] == "no" && no["reason"] == "withdrawn", "the register says no after the withdrawal")?;
    say("The register's next answer for Sanne's photo is no (withdrawn); the withdrawal is kept as evidence.");

    // ---- What the family can see ----------------------------------------------------------------
    let (_, export) =
        wire::staff_get(desk_admin_address, &format!("{consents_path}/subjects/{}", wire::pct(&subject)))?;
    let listed = export["consents"].as_array().map_or(0, Vec::len);
    check(listed == 1 && export["consents"][0]["withdrawn"].is_object(), "the export lists the consent and its end")?;
    let log = sanne.child.log()?;
    say(&format!(
        "Asked what the school keeps (GDPR art. 15), the desk exports {listed} consent with its evidence and withdrawal; Sanne's wallet log holds {} hash-chained entries.",
        log.len()
    ));
    drop(servers);
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
