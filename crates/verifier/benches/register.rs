//! The verifier's bookkeeping beside one presentation's signature checks: a nonce issued and
//! consumed, a consent recorded, and "may we use it?" asked of a register of 1,000 pupils —
//! without and with a (cached) status check. Each is printed as a ratio to one raw Ed25519
//! signature check, so bookkeeping can be compared with the verification it accompanies.
//!
//! `cargo bench -p schooltas-verifier --bench register`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::Criterion;
use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_school::LegalBasis;
use schooltas_status_list::{
    Bits, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri, StatusReference,
};
use schooltas_verifier::{
    ConsentId, ConsentRecord, ConsentRegister, Evidence, NonceStore, SqliteConsentStore, StatusCheck, UseQuery,
};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, print_ratios};

const NOW: i64 = 1_800_000_000;
const PUPILS: usize = 1_000;

fn status_uri() -> StatusListUri {
    StatusListUri::new("https://school.example/status/guardianship").unwrap()
}

fn record(n: usize, parent: &SigningKey) -> ConsentRecord {
    ConsentRecord {
        id: ConsentId::random(),
        verifier: "decentralized_identifier:did:web:school.example".into(),
        subject: format!("urn:pupil:{n}"),
        purpose: "newsletter".into(),
        object: Some(format!("sha-256:{n:064}")),
        channel: Some("newsletter".into()),
        legal_basis: LegalBasis::Consent,
        granted_at: NOW,
        valid_until: NOW + 365 * 86_400,
        approver_jwk: parent.verifying_key().to_jwk().into(),
        request_nonce: ConsentId::random().to_string(),
        evidence: Evidence {
            presentations: vec!["x".repeat(1_500)],
            guardian_approval: Some("y".repeat(600)),
            transaction_data: vec![],
        },
        status: Some(StatusReference::new(status_uri(), n as u64)),
        status_issuer: None,
        withdrawn: None,
    }
}

fn bench(c: &mut Criterion) {
    let school = SigningKey::from_ed25519_seed(&[1; 32]);
    let parent = SigningKey::from_ed25519_seed(&[2; 32]);
    let message = vec![b'e'; 1_100];
    let signature = school.sign(&message).unwrap();
    let mut raw = c.benchmark_group("verifier_raw");
    raw.bench_function("ed25519_verify_1100_bytes", |b| {
        b.iter(|| school.verifying_key().verify(Algorithm::EdDsa, black_box(&message), black_box(&signature)).unwrap())
    });
    raw.finish();

    let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());
    for n in 0..PUPILS {
        register.record(record(n, &parent)).unwrap();
    }
    let token = StatusListToken::new(status_uri(), NOW, StatusList::new(Bits::One, PUPILS).unwrap())
        .sign(&school, None)
        .unwrap();
    let lists = Arc::new(InMemoryStatusLists::new());
    lists.publish(status_uri(), token);
    let cache = StatusListCache::new(lists);
    let key = school.verifying_key().clone();
    let check = StatusCheck::signed_by(&cache, &key);
    let subject = "urn:pupil:500".to_owned();
    let object = format!("sha-256:{:064}", 500);
    let query = UseQuery { subject: &subject, purpose: "newsletter", object: Some(&object) };

    let mut group = c.benchmark_group("verifier");
    // A moving clock and one-second lifetimes: a full store purges what expired, as in service.
    let nonces = NonceStore::<u64>::with_capacity(1 << 16);
    let mut clock = NOW;
    group.bench_function("nonce_issue_and_consume", |b| {
        b.iter(|| {
            clock += 1;
            let nonce = nonces.issue_with(clock, 1, 7).unwrap();
            nonces.consume(nonce.as_str(), clock).unwrap()
        })
    });
    group.bench_function("may_use_of_1000_pupils", |b| {
        b.iter(|| register.may_use(black_box(query), NOW + 10, None).unwrap())
    });
    group.bench_function("may_use_with_cached_status", |b| {
        b.iter(|| register.may_use(black_box(query), NOW + 10, Some(&check)).unwrap())
    });
    group.bench_function("record_consent", |b| {
        b.iter_batched(
            || record(PUPILS + 1, &parent),
            |r| register.record(r).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    let floor = &["verifier_raw/ed25519_verify_1100_bytes"][..];
    print_ratios(&[
        Ratio { operation: "verifier/nonce_issue_and_consume", floors: floor },
        Ratio { operation: "verifier/may_use_of_1000_pupils", floors: floor },
        Ratio { operation: "verifier/may_use_with_cached_status", floors: floor },
        Ratio { operation: "verifier/record_consent", floors: floor },
    ]);
}
