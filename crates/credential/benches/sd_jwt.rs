//! SD-JWT VC hot paths for a typical school credential (12 claims, 10 selectively disclosable,
//! holder-bound), next to the raw Ed25519 operations they contain.
//!
//! `cargo bench -p schooltas-credential --bench sd_jwt` prints criterion's timings, then the
//! ratios: issue / 1 sign, present / 1 sign, verify / 2 verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::Criterion;
use schooltas_credential::ClaimPath;
use schooltas_credential::sd_jwt::{
    HolderSdJwt, KeyBinding, KeyBindingInput, RandomSalts, SdJwtBuilder, UnverifiedSdJwt, VerifyOptions,
};
use schooltas_did::{Algorithm, Signer, SigningKey};
use serde_json::{Map, Value, json};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, print_ratios};

const NOW: i64 = 1_800_000_000;
const SD: [&str; 10] = [
    "given_name",
    "family_name",
    "birth_date",
    "age_over_12",
    "age_over_16",
    "school_name",
    "school_brin",
    "school_location",
    "school_year",
    "group",
];

fn claims() -> Map<String, Value> {
    json!({
        "iss": "did:web:basisschool-de-linde.example",
        "vct": "https://schooltas.example/credentials/enrolment",
        "iat": NOW - 86_400,
        "exp": NOW + 300 * 86_400,
        "given_name": "Sanne",
        "family_name": "de Vries",
        "birth_date": "2014-03-01",
        "age_over_12": true,
        "age_over_16": false,
        "school_name": "Basisschool De Linde",
        "school_brin": "12AB",
        "school_location": "12AB00",
        "school_year": "2026-2027",
        "group": "7B"
    })
    .as_object()
    .unwrap()
    .clone()
}

fn builder(claims: Map<String, Value>, holder: &SigningKey) -> SdJwtBuilder {
    SD.iter()
        .fold(SdJwtBuilder::new(claims), |b, name| b.disclosable(ClaimPath::claim(*name)))
        .holder_key(holder.verifying_key())
        .kid("did:web:basisschool-de-linde.example#key-1")
}

fn bench(c: &mut Criterion) {
    let school = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let child = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let template = claims();
    let issued = builder(template.clone(), &child).issue(&school, &mut RandomSalts).unwrap().to_string();
    let holder = HolderSdJwt::parse(&issued).unwrap();
    let wanted = [ClaimPath::claim("age_over_12"), ClaimPath::claim("school_name"), ClaimPath::claim("group")];
    let kb =
        KeyBindingInput { nonce: "n-0S6_WzA2Mj".into(), audience: "https://fotograaf.example".into(), issued_at: NOW };
    let presentation = holder.present(&wanted, Some((&child, &kb))).unwrap();
    // The floor: raw Ed25519 over messages exactly as long as the two signing inputs, the
    // issuer-signed JWT and the KB-JWT, so hashing the message inside the signature is in the
    // floor and only what SD-JWT adds is in the ratio.
    let jwt_input_len = issued.split('~').next().unwrap().rfind('.').unwrap();
    let kb_jwt = presentation.rsplit('~').next().unwrap();
    let kb_input_len = kb_jwt.rfind('.').unwrap();
    let mut raw = c.benchmark_group("raw");
    for (name, len, key) in [("issuer_jwt", jwt_input_len, &school), ("kb_jwt", kb_input_len, &child)] {
        let message = vec![b'e'; len];
        let signature = key.sign(&message).unwrap();
        raw.bench_function(format!("ed25519_sign_{name}"), |b| b.iter(|| key.sign(black_box(&message)).unwrap()));
        raw.bench_function(format!("ed25519_verify_{name}"), |b| {
            b.iter(|| key.verifying_key().verify(Algorithm::EdDsa, black_box(&message), &signature).unwrap())
        });
    }
    raw.finish();
    println!("signing inputs: issuer JWT {jwt_input_len} bytes, KB-JWT {kb_input_len} bytes");

    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new("n-0S6_WzA2Mj", "https://fotograaf.example"));

    let mut sd = c.benchmark_group("sd_jwt");
    sd.bench_function("issue", |b| {
        b.iter_batched(
            || template.clone(),
            |claims| builder(claims, &child).issue(&school, &mut RandomSalts).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    sd.bench_function("present_3_of_10_kb", |b| {
        b.iter(|| holder.present(black_box(&wanted), Some((&child, &kb))).unwrap())
    });
    sd.bench_function("verify", |b| {
        b.iter(|| {
            UnverifiedSdJwt::parse(black_box(&presentation))
                .unwrap()
                .verify(school.verifying_key(), &options, NOW)
                .unwrap()
        })
    });
    sd.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    print_ratios(&[
        Ratio { operation: "sd_jwt/issue", floors: &["raw/ed25519_sign_issuer_jwt"] },
        Ratio { operation: "sd_jwt/present_3_of_10_kb", floors: &["raw/ed25519_sign_kb_jwt"] },
        Ratio { operation: "sd_jwt/verify", floors: &["raw/ed25519_verify_issuer_jwt", "raw/ed25519_verify_kb_jwt"] },
    ]);
}
