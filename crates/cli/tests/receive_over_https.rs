//! `schooltas wallet receive` against the school's real service (`schooltas-server`) over TLS
//! on 127.0.0.1: the offer by reference, the PIN from standard input or `SCHOOLTAS_PIN`, the
//! school's key from its did:web document served by the same service, the status list fetched
//! from it, a batch stored. The test CA is trusted through `SCHOOLTAS_CA_FILE`, loopback through
//! `SCHOOLTAS_DANGEROUS_ALLOW_PRIVATE_ADDRESSES`; without the latter the guard refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread::JoinHandle;

use common::{BIN, Dir};
use schooltas_did::{Did, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_school::catalog::Catalog;
use schooltas_server::{IssuerService, ServiceConfig, TlsConfig};
use serde_json::{Map, Value, json};

const PASSPHRASE: &str = "correct horse battery staple";
const NOW: i64 = 1_800_000_000;
const NOW_S: &str = "1800000000";

fn tls_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/tls").join(name)
}

fn administration(_: &str, _: &str) -> Result<Map<String, Value>, schooltas_issuer::Error> {
    Ok(json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
              "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
              "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
    .as_object()
    .cloned()
    .unwrap())
}

/// The school at `https://localhost:<port>` with `did:web:localhost%3A<port>`, over TLS.
struct School {
    service: IssuerService<SqliteStore>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl School {
    fn start() -> School {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("https://localhost:{port}");
        let profile = SchoolProfile::new(
            "Basisschool De Linde",
            SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap(),
            Did::parse(&format!("did:web:localhost%3A{port}")).unwrap(),
            &url,
            SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
        )
        .unwrap();
        let issuer = Issuer::new(
            profile,
            Catalog::standard(),
            SqliteStore::in_memory().unwrap(),
            StatusPolicy::new(format!("{url}/status")),
        )
        .with_max_batch(4);
        let service = IssuerService::with_clock(issuer, administration, ServiceConfig::default(), || NOW).unwrap();
        let tls = TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key")).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = service.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serving.serve_tls_until(listener, tls, async move { drop(stopped.await) }).await.unwrap();
            });
        });
        School { service, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for School {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// `schooltas ARGS` in `dir` with the passphrase, the test CA, `extra` environment and `stdin`.
fn run(dir: &Dir, args: &[&str], extra: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir.path(""))
        .env("SCHOOLTAS_PASSPHRASE", PASSPHRASE)
        .env("SCHOOLTAS_CA_FILE", tls_file("ca.pem"))
        .env_remove("SCHOOLTAS_PIN")
        .env_remove("SCHOOLTAS_DANGEROUS_ALLOW_PRIVATE_ADDRESSES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in extra {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

const LOOPBACK: (&str, &str) = ("SCHOOLTAS_DANGEROUS_ALLOW_PRIVATE_ADDRESSES", "1");

fn new_wallet(dir: &Dir) {
    let init = run(
        dir,
        &[
            "wallet",
            "init",
            "--wallet",
            "child.sqlite",
            "--child",
            "--birth-date",
            "2010-03-01",
            "--now",
            NOW_S,
            "--kdf-insecure-for-tests",
        ],
        &[],
        None,
    );
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
}

#[test]
fn a_wallet_redeems_an_offer_from_the_schools_service_over_https() {
    let school = School::start();
    let dir = Dir::new("receive");
    new_wallet(&dir);

    // PIN from standard input.
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let pin = format!("{}\n", offer.pin.as_ref().unwrap().as_str());
    let received = run(
        &dir,
        &["wallet", "receive", "--wallet", "child.sqlite", "--offer", &offer.uri, "--pin-stdin", "--now", NOW_S],
        &[LOOPBACK],
        Some(&pin),
    );
    let stderr = String::from_utf8_lossy(&received.stderr);
    assert!(received.status.success(), "{stderr}");
    let printed: Value = serde_json::from_slice(&received.stdout).unwrap();
    assert_eq!(printed["received"][0]["configuration"], "pupil_enrolment");
    assert_eq!(printed["received"][0]["copies"], 3);
    assert!(stderr.contains("stored 1 credential(s), 3 copies"), "{stderr}");
    assert!(!stderr.contains(offer.pin.as_ref().unwrap().as_str()), "the PIN is never echoed");

    // PIN from the environment; the list shows both batches.
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let pin = offer.pin.as_ref().unwrap().as_str().to_owned();
    let received = run(
        &dir,
        &["wallet", "receive", "--wallet", "child.sqlite", "--offer", &offer.uri, "--copies", "2", "--now", NOW_S],
        &[LOOPBACK, ("SCHOOLTAS_PIN", &pin)],
        None,
    );
    assert!(received.status.success(), "{}", String::from_utf8_lossy(&received.stderr));
    let list = run(&dir, &["wallet", "list", "--wallet", "child.sqlite"], &[], None);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let mut copies: Vec<u64> = list.as_array().unwrap().iter().map(|b| b["unused_copies"].as_u64().unwrap()).collect();
    copies.sort_unstable();
    assert_eq!(copies, [2, 3], "{list}");
}

#[test]
fn receive_refusals_name_the_rule_and_store_nothing() {
    let school = School::start();
    let dir = Dir::new("receive-refused");
    new_wallet(&dir);
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let args = ["wallet", "receive", "--wallet", "child.sqlite", "--offer", &offer.uri, "--now", NOW_S];

    // Without the PIN the wallet does not even ask the issuer.
    let refused = run(&dir, &args, &[LOOPBACK], None);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("needs the PIN the school sent separately"), "{stderr}");
    // A wrong PIN is the issuer's invalid_grant.
    let refused = run(&dir, &args, &[LOOPBACK, ("SCHOOLTAS_PIN", "000000000")], None);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("invalid_grant"), "{stderr}");
    // Without leave to reach this machine the guard refuses the loopback address.
    let pin = offer.pin.as_ref().unwrap().as_str().to_owned();
    let refused = run(&dir, &args, &[("SCHOOLTAS_PIN", &pin)], None);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("loopback address, which is never fetched"), "{stderr}");
    let list = run(&dir, &["wallet", "list", "--wallet", "child.sqlite"], &[], None);
    assert_eq!(serde_json::from_slice::<Value>(&list.stdout).unwrap(), json!([]));
    let _ = NOW;
}
