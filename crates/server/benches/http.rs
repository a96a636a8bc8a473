//! The HTTP path against the library call it wraps: the token and credential endpoints of a
//! running service on loopback (a real client, ureq, one connection kept alive) and the same
//! `Issuer` methods called directly, beside the raw signature operations a credential request
//! contains (one proof verified, one credential signed).
//!
//! `cargo bench -p schooltas-server --bench http`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion};
use schooltas_did::{Algorithm, Did, Signer, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Error, Issuer, OfferPolicy, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{CredentialRequest, TokenRequest};
use schooltas_school::catalog::Catalog;
use schooltas_server::{IssuerService, ServiceConfig};
use serde_json::{Map, Value, json};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, print_ratios};

const NOW: i64 = 1_800_000_000;
const ISSUER_URL: &str = "https://delinde.example";

fn issuer() -> Issuer<SqliteStore> {
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse("did:web:delinde.example").unwrap(),
        ISSUER_URL,
        SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
    )
    .unwrap();
    let status = StatusPolicy::new(format!("{ISSUER_URL}/status"));
    Issuer::new(profile, Catalog::standard(), SqliteStore::in_memory().unwrap(), status)
}

fn administration(_subject: &str, _config_id: &str) -> Result<Map<String, Value>, Error> {
    Ok(json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
        "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
        "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
    .as_object()
    .cloned()
    .unwrap())
}

/// A redeemable code and PIN (made through the library: setup, not measured).
fn code_and_pin(service: &IssuerService<SqliteStore>) -> (String, String) {
    service.with_issuer(|issuer| {
        let (offer, secrets) =
            issuer.offer(&OfferPolicy::default(), "pupil-17", &["pupil_enrolment".to_owned()], NOW).unwrap();
        let code = offer.pre_authorized_grant().unwrap().pre_authorized_code.clone();
        (code, secrets.pin.unwrap().to_string())
    })
}

/// An access token and a credential request body with one fresh proof (setup, not measured).
fn token_and_request(service: &IssuerService<SqliteStore>, holder: &SigningKey) -> (String, String) {
    let (code, pin) = code_and_pin(service);
    service.with_issuer(|issuer| {
        let policy = OfferPolicy::default();
        let form = TokenRequest { pre_authorized_code: code, tx_code: Some(pin) }.to_form();
        let token = issuer.token_endpoint(&policy, &form, NOW).unwrap().access_token;
        let nonce = issuer.nonce_endpoint(&policy, NOW).unwrap().c_nonce;
        let proof = sign_proof(holder, ISSUER_URL, Some(&nonce), NOW, None).unwrap();
        (token, CredentialRequest::new("pupil_enrolment", vec![proof]).to_json())
    })
}

/// A fresh service (empty store) running on 127.0.0.1:0 for the rest of the process.
fn start() -> (IssuerService<SqliteStore>, std::net::SocketAddr) {
    let service = IssuerService::with_clock(issuer(), administration, ServiceConfig::default(), || NOW).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let running = service.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            running.serve(listener).await.unwrap();
        });
    });
    (service, address)
}

fn token_http(agent: &ureq::Agent, address: std::net::SocketAddr, code: String, pin: String) -> String {
    let form = TokenRequest { pre_authorized_code: code, tx_code: Some(pin) }.to_form();
    let mut answer = agent
        .post(format!("http://{address}/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form.as_str())
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    answer.body_mut().read_to_string().unwrap()
}

fn token_library(service: &IssuerService<SqliteStore>, code: String, pin: String) {
    let form = TokenRequest { pre_authorized_code: code, tx_code: Some(pin) }.to_form();
    service.with_issuer(|issuer| issuer.token_endpoint(&OfferPolicy::default(), &form, NOW).unwrap());
}

fn credential_http(agent: &ureq::Agent, address: std::net::SocketAddr, token: &str, body: &str) -> String {
    let mut answer = agent
        .post(format!("http://{address}/credential"))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {token}"))
        .send(body)
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    answer.body_mut().read_to_string().unwrap()
}

fn credential_library(service: &IssuerService<SqliteStore>, token: &str, body: &str) {
    service.with_issuer(|issuer| issuer.credential_endpoint(token, body, &administration, NOW).unwrap());
}

fn bench(c: &mut Criterion) {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();

    let mut raw = c.benchmark_group("server_raw");
    let school = SigningKey::from_ed25519_seed(&[1; 32]);
    let message = vec![b'e'; 1_100];
    let signature = school.sign(&message).unwrap();
    raw.bench_function("ed25519_sign_1100_bytes", |b| b.iter(|| school.sign(black_box(&message)).unwrap()));
    raw.bench_function("ed25519_verify_1100_bytes", |b| {
        b.iter(|| school.verifying_key().verify(Algorithm::EdDsa, black_box(&message), &signature).unwrap())
    });
    raw.finish();

    // Each function on a fresh service: the store grows with every credential, and a later
    // function would otherwise pay for the rows of the earlier ones.
    let mut group = c.benchmark_group("server");
    let (service, _) = start();
    group.bench_function("token_library", |b| {
        b.iter_batched(
            || code_and_pin(&service),
            |(code, pin)| token_library(&service, code, pin),
            BatchSize::SmallInput,
        )
    });
    let (service, address) = start();
    group.bench_function("token_http", |b| {
        b.iter_batched(
            || code_and_pin(&service),
            |(code, pin)| token_http(&agent, address, code, pin),
            BatchSize::SmallInput,
        )
    });
    let (service, _) = start();
    group.bench_function("credential_library", |b| {
        b.iter_batched(
            || token_and_request(&service, &holder),
            |(token, body)| credential_library(&service, &token, &body),
            BatchSize::SmallInput,
        )
    });
    let (service, address) = start();
    group.bench_function("credential_http", |b| {
        b.iter_batched(
            || token_and_request(&service, &holder),
            |(token, body)| credential_http(&agent, address, &token, &body),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    // The ratio measured in pairs on one service: each round times `PER_ROUND` library calls
    // and then `PER_ROUND` HTTP calls on the same store, so both see the same number of rows
    // and the same moment of the shared machine; the median of the rounds' ratios is printed.
    const ROUNDS: usize = 41;
    const PER_ROUND: usize = 40;
    let (service, address) = start();
    let mut token_ratios = Vec::with_capacity(ROUNDS);
    let mut credential_ratios = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let time = |work: &mut dyn FnMut()| {
            let start = std::time::Instant::now();
            work();
            start.elapsed().as_secs_f64()
        };
        let codes: Vec<_> = (0..2 * PER_ROUND).map(|_| code_and_pin(&service)).collect();
        let (library_codes, http_codes) = codes.split_at(PER_ROUND);
        let library = time(&mut || library_codes.iter().cloned().for_each(|(c, p)| token_library(&service, c, p)));
        let http = time(&mut || {
            http_codes.iter().cloned().for_each(|(c, p)| drop(token_http(&agent, address, c, p)));
        });
        token_ratios.push(http / library);
        let requests: Vec<_> = (0..2 * PER_ROUND).map(|_| token_and_request(&service, &holder)).collect();
        let (library_requests, http_requests) = requests.split_at(PER_ROUND);
        let library = time(&mut || library_requests.iter().for_each(|(t, b)| credential_library(&service, t, b)));
        let http = time(&mut || {
            http_requests.iter().for_each(|(t, b)| drop(credential_http(&agent, address, t, b)));
        });
        credential_ratios.push(http / library);
    }
    for (name, mut ratios) in [("token", token_ratios), ("credential", credential_ratios)] {
        ratios.sort_by(f64::total_cmp);
        println!(
            "paired {name} HTTP / library: median {:.2}× (rounds {ROUNDS} × {PER_ROUND} calls; quartiles {:.2}×–{:.2}×)",
            ratios[ROUNDS / 2],
            ratios[ROUNDS / 4],
            ratios[3 * ROUNDS / 4]
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    print_ratios(&[
        Ratio {
            operation: "server/credential_library",
            floors: &["server_raw/ed25519_verify_1100_bytes", "server_raw/ed25519_sign_1100_bytes"],
        },
        Ratio {
            operation: "server/credential_http",
            floors: &["server_raw/ed25519_verify_1100_bytes", "server_raw/ed25519_sign_1100_bytes"],
        },
    ]);
    for (http, library) in
        [("server/token_http", "server/token_library"), ("server/credential_http", "server/credential_library")]
    {
        if let (Some(http_ns), Some(library_ns)) = (ratios::median_ns(http), ratios::median_ns(library)) {
            println!(
                "{http}: {:.1} µs = {:.2}× {library} ({:.1} µs)",
                http_ns / 1000.0,
                http_ns / library_ns,
                library_ns / 1000.0
            );
        }
    }
}
