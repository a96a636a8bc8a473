//! JWS and key operations next to the raw signature primitives they are built on.
//!
//! `cargo bench -p schooltas-did --bench signatures` prints criterion's timings and then a table
//! of ratios: each operation's median divided by the raw primitive it contains (the floor),
//! then the strict Ed25519 verify (ours, through `VerifyingKey::verify`) against
//! ed25519-dalek's plain `verify` and its `verify_strict`, interleaved in one run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed step is a failed test

use std::hint::black_box;

use criterion::Criterion;

#[path = "support/ratios.rs"]
mod ratios;
use ed25519_dalek::Signer as _;
use ed25519_dalek::Verifier as _;
use ratios::{Ratio, interleaved_ratio, print_ratios};
use schooltas_did::{
    Algorithm, PublicKey, Resolver, Signature, Signer, SigningKey, VerificationRelationship, VerifyingKey, did_key, jws,
};

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
    // The ES256 verifier of a build without the `ring` feature (decision 0002).
    let p_verifying = *p.verifying_key();
    group.bench_function("es256_verify_p256", |b| {
        b.iter(|| p256::ecdsa::signature::Verifier::verify(&p_verifying, black_box(&message), &p_sig))
    });
    group.finish();
}

/// ed25519-dalek's plain `verify` (S < L and the cofactorless equation), its `verify_strict`
/// (the same plus R decompressed and refused if small-order, A refused if small-order), and
/// ours (`verify_strict`'s rules with R looked up in a table: decision 0015), on one key and
/// a 300-byte message. Criterion times each; then each pair is interleaved (every operation
/// sample next to a floor sample taken a moment before), so the ratios survive the machine's
/// speed drifting between criterion's windows.
fn strict_ed25519(c: &mut Criterion) {
    let mut group = c.benchmark_group("ed25519");
    let message = vec![0x42u8; 300];
    let dalek = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let dalek_signature = dalek.sign(&message);
    let dalek_public = dalek.verifying_key();
    let ours = VerifyingKey::from_ed25519_bytes(dalek_public.as_bytes()).expect("a valid key");
    let our_signature = Signature::from_bytes(dalek_signature.to_bytes());
    let plain = || dalek_public.verify(black_box(&message), &dalek_signature).expect("valid");
    let strict = || dalek_public.verify_strict(black_box(&message), &dalek_signature).expect("valid");
    let table = || ours.verify(Algorithm::EdDsa, black_box(&message), &our_signature).expect("valid");
    group.bench_function("verify", |b| b.iter(plain));
    group.bench_function("verify_strict", |b| b.iter(strict));
    group.bench_function("ours_strict", |b| b.iter(table));
    group.finish();
    println!();
    interleaved_ratio("ed25519/ours_strict ÷ verify", table, plain, 201, 20);
    interleaved_ratio("ed25519/verify_strict ÷ verify", strict, plain, 201, 20);
    interleaved_ratio("ed25519/ours_strict ÷ verify_strict", table, strict, 201, 20);
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
        Ratio { operation: "ed25519/verify_strict", floors: &["ed25519/verify"] },
        Ratio { operation: "ed25519/ours_strict", floors: &["ed25519/verify"] },
        Ratio { operation: "raw/es256_verify_p256", floors: &["raw/es256_verify"] },
    ]);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    raw_floor(&mut c);
    jws_ops(&mut c);
    did_ops(&mut c);
    strict_ed25519(&mut c);
    c.final_summary();
    print_table();
}
