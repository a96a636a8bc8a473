//! The school's services for the Python flow test (`python/test_photo_consent.py`): the
//! issuer (OpenID4VCI, did:web, status lists), the newsletter desk's verifier (OpenID4VP with
//! its consent register) and the guardian hand-over relay, over TLS on 127.0.0.1 with the test
//! CA of `crates/server/tests/tls/`, staff endpoints on loopback HTTP — the services of
//! `examples/photo_consent.rs` (the repository's demo), in a process of their own.
//!
//! `schooltas serve` runs the issuer only (no verifier sessions, no relay), so the test starts
//! this instead: `cargo run -p schooltas-ffi --example test_school -- <folder>`.
//!
//! It prints one JSON line: the clock, the trust list and its operator, the test CA, the relay,
//! the desk's DID, name, staff address and token. Then it reads commands on standard input,
//! one per line, answering each with one JSON line: `family <given name> <subject> <birth
//! date>` registers a pupil and a parent and publishes their offers (`{"child_offer",
//! "child_pin", "parent_offer", "parent_pin", …}`), `session` opens a photo-consent session
//! (`{"id", "uri"}`), `outcome <id>` tells what the desk made of it. End of input stops it; a
//! failed command stops it with the reason on standard error.
#![allow(clippy::print_stdout)]

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use schooltas_did::did_web::HttpsFetcher;
use schooltas_did::net::GuardedClient;
use schooltas_did::{Did, DidUrl, PublicKey, Resolver, Signer as _, SigningKey, did_key};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_oid4vc::oid4vp::{CredentialQuery, TransactionData};
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{
    AccreditedIssuer, RegisteredPurpose, TrustList, UnverifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText};
use schooltas_sd_jwt::ClaimPath;
use schooltas_server::relay::GuardianRelay;
use schooltas_server::verifier::{SessionOutcome, VerifierConfig, VerifierService};
use schooltas_server::{AdminToken, IssuerService, ServiceConfig, TlsConfig};
use schooltas_status_list::{StatusListCache, StatusListFetcher as _, StatusListUri};
use schooltas_verifier::register::{ConsentRegister, SqliteConsentStore};
use schooltas_verifier::{HttpsStatusListFetcher, Verifier};
use serde_json::{Map, Value, json};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// 15 January 2027, 09:00 UTC: the services' clock (the wallets get it too).
const NOW: i64 = 1_800_000_000 + 3600;
/// The desk's name in the trust list (what the prompt shows).
const DESK_NAME: &str = "Basisschool De Linde — nieuwsbrief";
const STAFF_TOKEN: &str = "test-staff-token-0123456789abcdef0123456789";
/// The photo the desk asks consent for, by its hash.
const PHOTO_HASH: &str = "sha-256:5d8c1c0b5b7f0e6c3a1e9f7d2b4a6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c";

fn tls_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/tls").join(name)
}

fn client() -> Result<GuardedClient> {
    Ok(GuardedClient::new("schooltas-test-school")
        .with_trust_anchors_pem(&std::fs::read(tls_file("ca.pem"))?)?
        .dangerous_allow_private_addresses())
}

fn did_of(key: &SigningKey) -> Did {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()))
}

fn kid_of(key: &SigningKey) -> Result<DidUrl> {
    let did = did_of(key);
    Ok(DidUrl::parse(&format!("{did}#{}", did.method_specific_id()))?)
}

fn vct(id: &str) -> String {
    Catalog::standard().get(id).map(|t| t.vct().as_str().to_owned()).unwrap_or_default()
}

/// A listener on 127.0.0.1 and its `https://localhost:<port>` origin (the test certificate's name).
fn bind() -> Result<(std::net::TcpListener, String, std::net::SocketAddr)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    Ok((listener, format!("https://localhost:{}", address.port()), address))
}

type Records = Arc<Mutex<std::collections::HashMap<(String, String), Map<String, Value>>>>;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("test_school: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let folder = PathBuf::from(std::env::args().nth(1).ok_or("usage: test_school <folder for the SQLite files>")?);
    std::fs::create_dir_all(&folder)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let tls = || TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key"));

    // ---- The school's issuer ----------------------------------------------------------------
    let (school_listener, origin, _) = bind()?;
    let (school_admin, _, _) = bind()?;
    let host = origin.trim_start_matches("https://").replace(':', "%3A");
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        SchoolLocation::new(Brin::new("12AB")?, 0)?,
        Did::parse(&format!("did:web:{host}"))?,
        origin.as_str(),
        SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
    )?;
    let issuer = Issuer::new(
        profile,
        Catalog::standard(),
        SqliteStore::open(folder.join("issuer.sqlite"))?,
        StatusPolicy::new(format!("{origin}/status")),
    );
    let records: Records = Arc::default();
    let administration = Arc::clone(&records);
    let claims = move |subject: &str, config_id: &str| {
        administration
            .lock()
            .ok()
            .and_then(|records| records.get(&(subject.to_owned(), config_id.to_owned())).cloned())
            .ok_or(schooltas_issuer::Error::UnknownCredential { id: subject.to_owned() })
    };
    let issuer = IssuerService::with_clock(issuer, claims, ServiceConfig::default(), || NOW)?;
    let school_did = issuer.with_issuer(|issuer| issuer.profile().did().clone());
    {
        let _entered = runtime.enter();
        let (public, admin) =
            (tokio::net::TcpListener::from_std(school_listener)?, tokio::net::TcpListener::from_std(school_admin)?);
        let (serving, staff, tls) = (issuer.clone(), issuer.clone(), tls()?);
        runtime.spawn(async move { serving.serve_tls_until(public, tls, std::future::pending()).await });
        let token = AdminToken::new(STAFF_TOKEN)?;
        runtime.spawn(async move { staff.serve_admin_until(admin, token, std::future::pending()).await });
    }

    // ---- The trust list: the school accredited, the desk registered ---------------------------
    let desk_key = SigningKey::from_ed25519_seed(&[31; 32]);
    let desk_did = did_of(&desk_key);
    let registration = VerifierRegistration::new(desk_did.clone(), DESK_NAME).with_purpose(
        RegisteredPurpose::new(
            "newsletter",
            LocalizedText { nl: "Foto's in de nieuwsbrief".into(), en: "Photos in the newsletter".into() },
            LegalBasis::Consent,
            365,
        )
        .allow(vct("pupil_enrolment"), ["given_name", "group", "sub", "age_over_16"].map(ClaimPath::claim).to_vec()),
    );
    let operator = SigningKey::from_ed25519_seed(&[90; 32]);
    let mut accredited = AccreditedIssuer::new(school_did.clone(), "Basisschool De Linde").with_brin("12AB");
    for credential_type in Catalog::standard().iter() {
        accredited = accredited.accredited_for(credential_type.vct().as_str());
    }
    let trust_list_jwt = TrustList::new(did_of(&operator), NOW - 86_400, NOW + 365 * 86_400)
        .with_issuer(accredited)
        .with_verifier(registration)
        .sign(&operator, &kid_of(&operator)?)?;
    let trust_list = UnverifiedTrustList::parse(&trust_list_jwt)?.verify_with_resolver(
        &Resolver::offline(),
        &did_of(&operator),
        NOW,
        60,
    )?;

    // ---- The newsletter desk's verifier and the relay ----------------------------------------
    let (desk_listener, desk_origin, _) = bind()?;
    let (desk_admin_listener, _, desk_admin) = bind()?;
    let status_fetcher = HttpsStatusListFetcher::new().with_client(client()?);
    let register = ConsentRegister::new(SqliteConsentStore::open(folder.join("consents.sqlite"))?);
    let desk = VerifierService::with_clock(
        Verifier::new(desk_key, format!("{desk_origin}/oid4vp/response"))?,
        trust_list,
        Resolver::with_web_fetcher(HttpsFetcher::new().with_client(client()?)),
        StatusListCache::new(move |uri: &StatusListUri| status_fetcher.fetch(uri)),
        &format!("{desk_origin}/oid4vp/requests"),
        VerifierConfig::default(),
        || NOW,
    )?
    .with_consent_register(register)?;
    let (relay_listener, relay_origin, _) = bind()?;
    let relay = GuardianRelay::with_clock(Default::default(), || NOW)?;
    {
        let _entered = runtime.enter();
        let public = tokio::net::TcpListener::from_std(desk_listener)?;
        let admin = tokio::net::TcpListener::from_std(desk_admin_listener)?;
        let (serving, staff, tls_desk) = (desk.clone(), desk.clone(), tls()?);
        runtime.spawn(async move { serving.serve_tls_until(public, tls_desk, std::future::pending()).await });
        let token = AdminToken::new(STAFF_TOKEN)?;
        runtime.spawn(async move { staff.serve_admin_until(admin, token, std::future::pending()).await });
        let relay_public = tokio::net::TcpListener::from_std(relay_listener)?;
        let (serving, tls_relay) = (relay.clone(), tls()?);
        runtime.spawn(async move { serving.serve_tls_until(relay_public, tls_relay, std::future::pending()).await });
    }

    // ---- Families, on demand: the school's records and the letters home ---------------------
    let family = |given_name: &str, subject: &str, birth_date: &str| -> Result<Value> {
        let sixteenth = schooltas_school::date::CalendarDate::parse(birth_date)?.anniversary(16);
        let guardian_ref = format!("{subject}/parent");
        let mut held = records.lock().map_err(|_| "administration lock poisoned")?;
        let enrolment = json!({"sub": subject, "school_name": "Basisschool De Linde", "school_brin": "12AB",
            "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": given_name,
            "family_name": "de Vries", "birth_date": birth_date, "age_over_12": birth_date < "2015-01-15",
            "age_over_16": false});
        // The school knows the parent, not the parent's wallet: the guardianship names no
        // guardian_id, and each copy names its own holder key.
        let guardianship = json!({"child_id": subject, "relation": "parent", "child_birth_date": birth_date,
            "valid_until": sixteenth.to_string(), "school_brin": "12AB"});
        for (reference, config_id, claims) in
            [(subject, "pupil_enrolment", enrolment), (guardian_ref.as_str(), "guardianship", guardianship)]
        {
            let claims = claims.as_object().cloned().ok_or("a record is an object")?;
            held.insert((reference.to_owned(), config_id.to_owned()), claims);
        }
        drop(held);
        let child = issuer.publish_offer(subject, &["pupil_enrolment".to_owned()])?;
        let parent = issuer.publish_offer(&guardian_ref, &["guardianship".to_owned()])?;
        Ok(json!({
            "given_name": given_name, "subject": subject, "birth_date": birth_date,
            "child_offer": child.uri.as_str(), "child_pin": child.pin.as_ref().map(|pin| pin.to_string()),
            "parent_offer": parent.uri.as_str(), "parent_pin": parent.pin.as_ref().map(|pin| pin.to_string()),
        }))
    };

    let ready = json!({
        "now": NOW,
        "trust_list_jwt": trust_list_jwt,
        "trust_list_operator": did_of(&operator).to_string(),
        "ca_pem": std::fs::read_to_string(tls_file("ca.pem"))?,
        "relay_base": format!("{relay_origin}/relay"),
        "desk_admin": format!("http://{desk_admin}"),
        "staff_token": STAFF_TOKEN,
        "consents_path": desk.consents_path(),
        "photo_hash": PHOTO_HASH,
        "desk_did": desk_did.to_string(),
        "desk_name": DESK_NAME,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{ready}")?;
    out.flush()?;

    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let answer = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["session"] => {
                let session = desk.open_session("newsletter", None, |builder| {
                    let photo = TransactionData::new("schooltas_photo_use", ["enrolment"])
                        .with_member("object", json!(PHOTO_HASH))
                        .with_member("channel", json!("newsletter"));
                    let query = ["given_name", "group", "sub", "age_over_16"]
                        .into_iter()
                        .fold(CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]), |query, claim| {
                            query.claim(ClaimPath::claim(claim))
                        });
                    builder.retention_days(365).credential(query).transaction_data(photo)
                })?;
                json!({"id": session.id, "uri": session.uri})
            }
            ["outcome", id] => match desk.outcome(id) {
                None => json!({"outcome": "unknown"}),
                Some(SessionOutcome::Pending { .. }) => json!({"outcome": "pending"}),
                Some(SessionOutcome::Declined { error }) => json!({"outcome": "declined", "error": error}),
                Some(SessionOutcome::Accepted { verdict, consent }) => json!({
                    "outcome": "accepted",
                    "consent": consent.map(|id| id.as_str().to_owned()),
                    "guardian_approval": verdict.guardian_approval.is_some(),
                    "subject": verdict.subject,
                }),
                Some(_) => json!({"outcome": "other"}),
            },
            ["family", given_name, subject, birth_date] => family(given_name, subject, birth_date)?,
            _ => {
                json!({"command_error": format!("unknown command {line:?}: session | outcome <id> | family <given name> <subject> <birth date>")})
            }
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    drop(runtime);
    Ok(())
}
