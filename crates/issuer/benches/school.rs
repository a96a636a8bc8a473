//! A whole school issued: 1,000 pupils × (enrolment + guardianship), each with a status entry,
//! recorded in SQLite — the time per credential as a ratio to one raw signature.
//!
//! `cargo bench -p schooltas-issuer --bench school`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::Criterion;
use schooltas_did::{Did, Signer, SigningKey, VerifyingKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_school::catalog::Catalog;
use serde_json::{Map, Value, json};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, print_ratios};

const NOW: i64 = 1_800_000_000;
const PUPILS: usize = 1_000;

fn issuer() -> Issuer<SqliteStore> {
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse("did:web:delinde.example").unwrap(),
        "https://delinde.example",
        SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
    )
    .unwrap();
    Issuer::new(
        profile,
        Catalog::standard(),
        SqliteStore::in_memory().unwrap(),
        StatusPolicy::new("https://delinde.example/status"),
    )
}

fn enrolment(n: usize) -> Map<String, Value> {
    json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
           "school_year": "2026-2027", "group": format!("{}", 1 + n % 8), "given_name": format!("Pupil {n}"),
           "family_name": "de Vries", "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
    .as_object()
    .cloned()
    .unwrap()
}

fn guardianship(child: &str, parent: &str) -> Map<String, Value> {
    json!({"guardian_id": parent, "child_id": child, "relation": "parent", "valid_until": "2030-03-01"})
        .as_object()
        .cloned()
        .unwrap()
}

fn did_of(key: &VerifyingKey) -> String {
    schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(key.clone())).to_string()
}

fn bench(c: &mut Criterion) {
    let children: Vec<SigningKey> =
        (0..PUPILS).map(|n| SigningKey::from_ed25519_seed(&[(n % 251) as u8 + 1; 32])).collect();
    let parents: Vec<SigningKey> =
        (0..PUPILS).map(|n| SigningKey::from_ed25519_seed(&[((n + 7) % 251) as u8 + 1; 32])).collect();
    let school = SigningKey::from_ed25519_seed(&[1; 32]);
    let message = vec![b'e'; 1_100];
    let mut raw = c.benchmark_group("school_raw");
    raw.bench_function("ed25519_sign_1100_bytes", |b| b.iter(|| school.sign(black_box(&message)).unwrap()));
    raw.finish();

    let mut group = c.benchmark_group("school");
    group.sample_size(10);
    group.bench_function("issue_1000_pupils_enrolment_and_guardianship", |b| {
        b.iter_batched(
            issuer,
            |issuer| {
                for n in 0..PUPILS {
                    let child = children[n].verifying_key();
                    let subject = format!("pupil-{n}");
                    issuer.issue("pupil_enrolment", &subject, enrolment(n), child, NOW).unwrap();
                    let claims = guardianship(&did_of(child), &did_of(parents[n].verifying_key()));
                    issuer.issue("guardianship", &subject, claims, parents[n].verifying_key(), NOW).unwrap();
                }
                issuer
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    print_ratios(&[Ratio {
        operation: "school/issue_1000_pupils_enrolment_and_guardianship",
        floors: &["school_raw/ed25519_sign_1100_bytes"],
    }]);
    if let (Some(total), Some(floor)) = (
        ratios::median_ns("school/issue_1000_pupils_enrolment_and_guardianship"),
        ratios::median_ns("school_raw/ed25519_sign_1100_bytes"),
    ) {
        let per_credential = total / (2 * PUPILS) as f64;
        println!(
            "per credential: {:.1} µs = {:.2}× one raw signature ({:.1} µs)",
            per_credential / 1000.0,
            per_credential / floor,
            floor / 1000.0
        );
    }
}
