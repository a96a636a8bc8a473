//! JWS and key operations next to the raw signature primitives they are built on.
//!
//! `cargo bench -p schooltas-did --bench signatures` prints criterion's timings and then a table
//! of ratios: each operation's median divided by the raw primitive it contains (the floor).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed step is a failed test

use std::hint::black_box;

use criterion::Criterion;

#[path = "support/ratios.rs"]
mod ratios;
use ed25519_dalek::Signer as _;
use ed25519_dalek::Verifier as _;
use ratios::{Ratio, print_ratios};
use schooltas_did::{Algorithm, PublicKey, Resolver, Signer, SigningKey, VerificationRelationship, did_key, jws};

/// A typical JWS payload: a few hundred bytes of claims.
const PAYLOAD: &[u8] = br#"{"iss":"did:web:basisschool.example","vct":"https://schooltas.example/credentials/enrolment","iat":1700000000,"exp":1900000000,"_sd":["a","b","c","d","e","f","g","h","i","j"],"cnf":{"jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}}"#;

fn raw_floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("raw");
    let message = vec![0x42u8; 300];
    let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let ed_sig = ed.sign(&message);
    let ed_pub = ed.verifying_key();
    group.bench_function("ed25519_sign", |b| b.iter(|| ed.sign(black_box(&message))));
    group.bench_function("ed25519_verify", |b| b.iter(|| ed_pub.verify(black_box(&message), &ed_sig)));
    let p = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("valid scalar");
    let p_sig: p256::ecdsa::Signature = p.sign(&message);
    let p_pub = p.verifying_key().to_sec1_point(false);
    let ring_pub = ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, p_pub.as_bytes());
    let p_sig_bytes = p_sig.to_bytes();
    // The floor is each backend's primitive: p256 signs, ring verifies (docs/decisions/0002).
    group.bench_function("es256_sign", |b| b.iter(|| -> p256::ecdsa::Signature { p.sign(black_box(&message)) }));
    group.bench_function("es256_verify", |b| b.iter(|| ring_pub.verify(black_box(&message), &p_sig_bytes)));
    group.finish();
}

fn jws_ops(c: &mut Criterion) {
    let mut group = c.benchmark_group("jws");
    for (name, alg) in [("eddsa", Algorithm::EdDsa), ("es256", Algorithm::Es256)] {
        let key = SigningKey::generate(alg).expect("key");
        let header = jws::Header::new().with_typ("dc+sd-jwt").with_kid("did:web:basisschool.example#key-1");
        let token = jws::sign_compact(&header, PAYLOAD, &key).expect("sign");
        group.bench_function(format!("{name}_sign"), |b| {
            b.iter(|| jws::sign_compact(&header, black_box(PAYLOAD), &key).expect("sign"))
        });
        group.bench_function(format!("{name}_parse_verify"), |b| {
            b.iter(|| {
                jws::CompactJws::parse(black_box(&token)).and_then(|p| p.verify(key.verifying_key())).expect("ok")
            })
        });
    }
    group.finish();
}

fn did_ops(c: &mut Criterion) {
    let mut group = c.benchmark_group("did");
    let key = SigningKey::generate(Algorithm::EdDsa).expect("key");
    let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    let kid = did.with_fragment(did.method_specific_id()).expect("kid");
    let resolver = Resolver::offline();
    group.bench_function("did_key_resolve_key", |b| {
        b.iter(|| {
            resolver
                .verifying_key(black_box(&kid), VerificationRelationship::AssertionMethod, Algorithm::EdDsa)
                .expect("key")
        })
    });
    group.finish();
}

fn print_table() {
    print_ratios(&[
        Ratio { operation: "jws/eddsa_sign", floors: &["raw/ed25519_sign"] },
        Ratio { operation: "jws/eddsa_parse_verify", floors: &["raw/ed25519_verify"] },
        Ratio { operation: "jws/es256_sign", floors: &["raw/es256_sign"] },
        Ratio { operation: "jws/es256_parse_verify", floors: &["raw/es256_verify"] },
        Ratio { operation: "did/did_key_resolve_key", floors: &["raw/ed25519_verify"] },
    ]);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    raw_floor(&mut c);
    jws_ops(&mut c);
    did_ops(&mut c);
    c.final_summary();
    print_table();
}
