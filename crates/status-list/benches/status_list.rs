//! Token Status List hot paths on a 2^20-entry, 2-bit list (one entry in 64 revoked): the
//! verifier's warm lookup, its cold path (verify the token and inflate the list), and the
//! issuer's publishing (compress and sign), next to the raw signature over the token.
//!
//! `cargo bench -p schooltas-school --bench status_list`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::Criterion;
use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_status_list::{
    Bits, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListTokenOptions, StatusListUri,
    StatusReference, StatusValue, UnverifiedStatusListToken,
};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, print_ratios};

const NOW: i64 = 1_800_000_000;

fn bench(c: &mut Criterion) {
    let school = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let uri = StatusListUri::new("https://basisschool-de-linde.example/status/enrolment").unwrap();
    let mut list = StatusList::new(Bits::Two, 1 << 20).unwrap();
    for index in (0..1u64 << 20).step_by(64) {
        list.set(index + 1, StatusValue::INVALID).unwrap();
    }
    let token = StatusListToken::new(uri.clone(), NOW - 60, list.clone()).with_ttl(3_600);
    let jwt = token.sign(&school, None).unwrap();
    println!("2^20 entries at 2 bits: {} bytes packed, token {} bytes", list.as_bytes().len(), jwt.len());

    let lists = InMemoryStatusLists::new();
    lists.publish(uri.clone(), jwt.clone());
    let cache = StatusListCache::new(lists);
    let references: Vec<StatusReference> =
        (0..1024u64).map(|n| StatusReference::new(uri.clone(), n * 1021 % (1 << 20))).collect();
    cache.status(&references[0], school.verifying_key(), NOW).unwrap();

    let signing_input = &jwt[..jwt.rfind('.').unwrap()];
    let signature = school.sign(signing_input.as_bytes()).unwrap();
    let mut raw = c.benchmark_group("status_raw");
    raw.bench_function("ed25519_sign_token", |b| b.iter(|| school.sign(black_box(signing_input.as_bytes())).unwrap()));
    raw.bench_function("ed25519_verify_token", |b| {
        b.iter(|| school.verifying_key().verify(Algorithm::EdDsa, black_box(signing_input.as_bytes()), &signature))
    });
    raw.finish();

    let mut group = c.benchmark_group("status_list");
    let mut next = 0;
    group.bench_function("lookup_warm", |b| {
        b.iter(|| {
            next = (next + 1) % references.len();
            cache.status(black_box(&references[next]), school.verifying_key(), NOW).unwrap()
        })
    });
    group.bench_function("token_verify_and_inflate", |b| {
        b.iter(|| {
            UnverifiedStatusListToken::parse(black_box(&jwt))
                .unwrap()
                .verify(school.verifying_key(), &StatusListTokenOptions::default(), NOW)
                .unwrap()
        })
    });
    group.bench_function("token_compress_and_sign", |b| b.iter(|| black_box(&token).sign(&school, None).unwrap()));
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    print_ratios(&[
        Ratio { operation: "status_list/token_verify_and_inflate", floors: &["status_raw/ed25519_verify_token"] },
        Ratio { operation: "status_list/token_compress_and_sign", floors: &["status_raw/ed25519_sign_token"] },
    ]);
}
