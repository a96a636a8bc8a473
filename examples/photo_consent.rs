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
//!
//! `cargo run --example photo_consent -- --eu-profile` runs the same flow in the EU profile
//! (HAIP 1.0), as EU wallets and verifiers expect it: the trust-list operator is the X.509
//! certificate authority of the school's issuer key and the desk's request-signing key; the
//! school names itself by its `https` identifier and puts its certificate chain (`x5c`) in
//! every credential and status list; every key is ES256 (P-256, as a phone's secure element
//! holds it); access tokens are bound to the wallet's DPoP key with server nonces, and the
//! wallets authenticate to the school with their provider's wallet attestation; the desk is
//! named by its certificate's hash (`x509_hash`), signs its request objects with its certificate's key, takes the
//! wallet's `wallet_nonce` (`request_uri_method=post`), and the wallets encrypt their answers
//! to a key made for that one request (`direct_post.jwt`).

#[path = "support/mod.rs"]
mod support;
#[path = "support/wire.rs"]
mod wire;

use std::process::ExitCode;

use schooltas::did::{Algorithm, Signer as _, SigningKey};
use schooltas::oid4vc::oid4vp::{ClientId, CredentialQuery, TransactionData};
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
use wire::{OperatorCa, Port, Profile, Servers};

fn main() -> ExitCode {
    let profile = match std::env::args().nth(1).as_deref() {
        None => Profile::Schooltas,
        Some("--eu-profile") => Profile::Eu,
        Some(other) => {
            eprintln!("unknown argument {other:?}; the only option is --eu-profile");
            return ExitCode::FAILURE;
        }
    };
    match run_in(profile) {
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
        // One folder per run, also when both profiles run at once in one test process.
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("schooltas-photo-consent-{}-{run}", std::process::id()));
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

/// The demo in the Schooltas profile (DIDs, EdDSA). (Called by `tests/demo_on_the_wire.rs`.)
#[allow(dead_code)]
pub(crate) fn run() -> Result<()> {
    run_in(Profile::Schooltas)
}

/// The demo in the EU profile (HAIP 1.0: X.509, ES256, DPoP, encrypted responses). (Called by
/// `tests/demo_on_the_wire.rs`.)
#[allow(dead_code)]
pub(crate) fn run_eu_profile() -> Result<()> {
    run_in(Profile::Eu)
}

fn run_in(profile: Profile) -> Result<()> {
    let folder = Folder::new()?;
    let servers = Servers::new()?;
    let ca = match profile {
        Profile::Schooltas => None,
        Profile::Eu => {
            say(
                "EU profile (HAIP 1.0): the trust-list operator runs a certificate authority; its root certificate is the trust list's X.509 anchor.",
            );
            Some(OperatorCa::new()?)
        }
    };
    // The EU profile's wallets authenticate to the school with an attestation from their
    // provider (HAIP 1.0 §4.4.1), which the school checks at its token endpoint.
    let wallet_provider = match profile {
        Profile::Schooltas => None,
        Profile::Eu => Some(wire::WalletProvider::new()?),
    };

    // ---- The school's services ---------------------------------------------------------------
    let (school_port, school_admin) = (Port::bind()?, Port::bind()?);
    let origin = school_port.https_origin();
    let administration = wire::Administration::default();
    let issuer = wire::issuer_service(
        wire::school("Basisschool De Linde", "12AB", &origin, &folder.0, ca.as_ref(), wallet_provider.as_ref())?,
        &administration,
    )?;
    let school_did = issuer.with_issuer(|issuer| issuer.profile().did().clone());
    servers.issuer(&issuer, school_port, school_admin)?;
    match profile {
        Profile::Schooltas => say(&format!("De Linde's issuer listens at {origin} (TLS); its DID is {school_did}.")),
        Profile::Eu => say(&format!(
            "De Linde's issuer listens at {origin} (TLS) and names itself by that https identifier; its ES256 key's certificate (from the operator's CA) goes in every credential's x5c header; access tokens are DPoP-bound, and wallets authenticate with their provider's attestation."
        )),
    }

    let desk_key = match profile {
        Profile::Schooltas => SigningKey::from_ed25519_seed(&[31; 32]),
        Profile::Eu => SigningKey::generate(Algorithm::Es256)?,
    };
    // In the EU profile the desk is named by the hash of its certificate (`x509_hash`, HAIP
    // 1.0 §5), which the trust list registers beside its DID.
    let desk_certificate = match &ca {
        None => None,
        Some(ca) => Some(ca.verifier_chain(desk_key.verifying_key(), "localhost", "Basisschool De Linde")?),
    };
    let mut registration = VerifierRegistration::new(did_of(&desk_key), "Basisschool De Linde — nieuwsbrief");
    if let Some(chain) = &desk_certificate {
        registration = registration.with_client_id(format!("x509_hash:{}", chain.leaf_x509_hash()));
    }
    let registration = registration.with_purpose(
        RegisteredPurpose::new(
            "newsletter",
            text("Foto's in de nieuwsbrief", "Photos in the newsletter"),
            LegalBasis::Consent,
            365,
        )
        .allow(vct("pupil_enrolment"), paths(&["given_name", "group", "sub", "age_over_16"])),
    );
    let trust_list = wire::trust_list(
        &school_did,
        "Basisschool De Linde",
        "12AB",
        vec![registration],
        ca.as_ref().map(|ca| (origin.as_str(), ca)),
    )?;
    let (desk_port, desk_admin) = (Port::bind()?, Port::bind()?);
    let desk_origin = desk_port.https_origin();
    let desk_admin_address = desk_admin.address;
    let register = ConsentRegister::new(SqliteConsentStore::open(folder.0.join("consents.sqlite"))?);
    let (verifier, config) = match desk_certificate {
        None => (Verifier::new(desk_key, format!("{desk_origin}/oid4vp/response"))?, VerifierConfig::default()),
        Some(chain) => {
            let client = ClientId::X509Hash(chain.leaf_x509_hash());
            let verifier =
                Verifier::new(desk_key, format!("{desk_origin}/oid4vp/response"))?.with_x509_client(client, chain)?;
            (verifier, VerifierConfig { request_uri_method_post: true, ..VerifierConfig::haip() })
        }
    };
    let desk = VerifierService::with_clock(
        verifier,
        trust_list.clone(),
        wire::resolver()?,
        wire::status_cache()?,
        &format!("{desk_origin}/oid4vp/requests"),
        config,
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
    if ca.is_some() {
        say(
            "The desk is named by its certificate's hash (x509_hash): it signs its request objects with its certificate's key, asks wallets to POST their wallet_nonce, and to encrypt their answers to a key made for that one request (direct_post.jwt).",
        );
    }

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
            let attestor = wallet_provider.as_ref().map(wire::WalletProvider::attestor).transpose()?;
            let attestor = attestor.as_ref().map(|a| a as &dyn schooltas::wallet::wallet_attestation::WalletAttestor);
            let copies = wire::receive(wallet, &trust_list, &offer.uri, pin.as_deref(), attestor)?;
            check(copies == 3, "three copies received")?;
            if profile == Profile::Eu {
                let named_https = wallet.credentials()?.iter().all(|held| held.issuer == origin);
                check(named_https, "the credentials name the school by its https identifier")?;
            }
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
    if profile == Profile::Eu {
        check(session.uri.contains("request_uri_method=post"), "the desk asks for the wallet's nonce by POST")?;
    }
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
    check(yes["answer"] == "yes", &format!("the register says yes for Sanne ({yes})"))?;
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
