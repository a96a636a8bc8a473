//! SD-JWT VC hot paths for a typical school credential (12 claims, 10 selectively disclosable,
//! holder-bound), next to the raw Ed25519 operations they contain.
//!
//! `cargo bench -p schooltas-school --bench sd_jwt` prints criterion's timings, then the
//! ratios: issue / 1 sign, present / 1 sign, verify / 2 verifies. Verify includes the status
//! lookup from a warm cache (a 2^20-entry list). Each is measured with an Ed25519 school key
//! and with a P-256 (ES256) one; the child's key is Ed25519 in both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::Criterion;
use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{
    HolderSdJwt, KeyBinding, KeyBindingInput, RandomSalts, SdJwtBuilder, UnverifiedSdJwt, VerifyOptions,
};
use schooltas_status_list::{
    Bits, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri, StatusReference,
    StatusValue,
};
use serde_json::{Map, Value, json};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, interleaved_ratio, print_ratios};

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

fn builder(claims: Map<String, Value>, holder: &SigningKey, status: &StatusReference) -> SdJwtBuilder {
    SD.iter()
        .fold(SdJwtBuilder::new(claims), |b, name| b.disclosable(ClaimPath::claim(*name)))
        .holder_key(holder.verifying_key())
        .status(status.to_status_claim())
        .kid("did:web:basisschool-de-linde.example#key-1")
}

/// A published 2^20-entry, 2-bit list with one revoked entry in 64, and a cache already
/// holding it.
fn warm_status_cache(school: &SigningKey, uri: &StatusListUri) -> StatusListCache {
    let mut list = StatusList::new(Bits::Two, 1 << 20).unwrap();
    for index in (0..1u64 << 20).step_by(64) {
        list.set(index + 1, StatusValue::INVALID).unwrap();
    }
    let lists = InMemoryStatusLists::new();
    let token = StatusListToken::new(uri.clone(), NOW - 60, list).with_ttl(3_600).with_expires_at(NOW + 86_400);
    lists.publish(uri.clone(), token.sign(school, None).unwrap());
    let cache = StatusListCache::new(lists);
    cache.check(&StatusReference::new(uri.clone(), 0), school.verifying_key(), NOW).unwrap();
    cache
}

fn bench_with(c: &mut Criterion, label: &str, school: &SigningKey) {
    let child = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let uri = StatusListUri::new("https://basisschool-de-linde.example/status/enrolment").unwrap();
    let status = StatusReference::new(uri.clone(), 70_000);
    let cache = warm_status_cache(school, &uri);
    let template = claims();
    let issued = builder(template.clone(), &child, &status).issue(school, &mut RandomSalts).unwrap().to_string();
    let holder = HolderSdJwt::parse(&issued).unwrap();
    let wanted = [ClaimPath::claim("age_over_12"), ClaimPath::claim("school_name"), ClaimPath::claim("group")];
    let kb =
        KeyBindingInput { nonce: "n-0S6_WzA2Mj".into(), audience: "https://fotograaf.example".into(), issued_at: NOW };
    let presentation = holder.present(&wanted, Some((&child, &kb))).unwrap();
    // The floor: raw signatures over messages exactly as long as the two signing inputs, the
    // issuer-signed JWT and the KB-JWT, so hashing the message inside the signature is in the
    // floor and only what SD-JWT adds is in the ratio.
    let jwt_input_len = issued.split('~').next().unwrap().rfind('.').unwrap();
    let kb_jwt = presentation.rsplit('~').next().unwrap();
    let kb_input_len = kb_jwt.rfind('.').unwrap();
    let mut raw = c.benchmark_group(format!("raw_{label}"));
    for (name, len, key) in [("issuer_jwt", jwt_input_len, school), ("kb_jwt", kb_input_len, &child)] {
        let message = vec![b'e'; len];
        let signature = key.sign(&message).unwrap();
        let floor = PlainVerify::new(key);
        raw.bench_function(format!("sign_{name}"), |b| b.iter(|| key.sign(black_box(&message)).unwrap()));
        raw.bench_function(format!("verify_{name}"), |b| b.iter(|| floor.verify(black_box(&message), &signature)));
    }
    raw.finish();
    println!("{label}: signing inputs: issuer JWT {jwt_input_len} bytes, KB-JWT {kb_input_len} bytes");

    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new("n-0S6_WzA2Mj", "https://fotograaf.example"));

    let mut sd = c.benchmark_group(format!("sd_jwt_{label}"));
    sd.bench_function("issue", |b| {
        b.iter_batched(
            || template.clone(),
            |claims| builder(claims, &child, &status).issue(school, &mut RandomSalts).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    sd.bench_function("present_3_of_10_kb", |b| {
        b.iter(|| holder.present(black_box(&wanted), Some((&child, &kb))).unwrap())
    });
    sd.bench_function("present_from_issued", |b| {
        b.iter(|| HolderSdJwt::parse(black_box(&issued)).unwrap().present(&wanted, Some((&child, &kb))).unwrap())
    });
    sd.bench_function("verify_with_status", |b| {
        b.iter(|| {
            let verified = UnverifiedSdJwt::parse(black_box(&presentation))
                .unwrap()
                .verify(school.verifying_key(), &options, NOW)
                .unwrap();
            let reference = verified.status_reference().unwrap().unwrap();
            cache.check(&reference, school.verifying_key(), NOW).unwrap();
            verified
        })
    });
    sd.finish();

    // The same three ratios, each operation sample paired with a floor sample (see
    // `interleaved_ratio`): robust to the machine's speed drifting between criterion's windows.
    let jwt_message = vec![b'e'; jwt_input_len];
    let kb_message = vec![b'e'; kb_input_len];
    let jwt_signature = school.sign(&jwt_message).unwrap();
    let kb_signature = child.sign(&kb_message).unwrap();
    let (school_floor, child_floor) = (PlainVerify::new(school), PlainVerify::new(&child));
    println!();
    interleaved_ratio(
        &format!("sd_jwt_{label}/issue"),
        || {
            black_box(builder(template.clone(), &child, &status).issue(school, &mut RandomSalts).unwrap());
        },
        || {
            black_box(school.sign(black_box(&jwt_message)).unwrap());
        },
        101,
        20,
    );
    interleaved_ratio(
        &format!("sd_jwt_{label}/present_3_of_10_kb"),
        || {
            black_box(holder.present(black_box(&wanted), Some((&child, &kb))).unwrap());
        },
        || {
            black_box(child.sign(black_box(&kb_message)).unwrap());
        },
        101,
        20,
    );
    interleaved_ratio(
        &format!("sd_jwt_{label}/present_from_issued"),
        || {
            black_box(HolderSdJwt::parse(black_box(&issued)).unwrap().present(&wanted, Some((&child, &kb))).unwrap());
        },
        || {
            black_box(child.sign(black_box(&kb_message)).unwrap());
        },
        101,
        20,
    );
    interleaved_ratio(
        &format!("sd_jwt_{label}/verify_with_status"),
        || {
            let verified = UnverifiedSdJwt::parse(black_box(&presentation))
                .unwrap()
                .verify(school.verifying_key(), &options, NOW)
                .unwrap();
            cache.check(&verified.status_reference().unwrap().unwrap(), school.verifying_key(), NOW).unwrap();
        },
        || {
            school_floor.verify(black_box(&jwt_message), &jwt_signature);
            child_floor.verify(black_box(&kb_message), &kb_signature);
        },
        101,
        20,
    );
}

/// The floor's verification: the backend's own plain check with a key parsed beforehand, as
/// the peers' harness measures it — `ed25519_dalek::VerifyingKey::verify` (cofactorless, no
/// small-order or canonical-R checks) for EdDSA, and the ES256 backend's verify for P-256.
/// Our own verification is the strict one, so everything strictness costs is in the ratio.
enum PlainVerify {
    Ed25519(ed25519_dalek::VerifyingKey),
    Other(schooltas_did::VerifyingKey, Algorithm),
}

impl PlainVerify {
    fn new(key: &SigningKey) -> Self {
        let public = key.verifying_key();
        match key.algorithm() {
            Algorithm::EdDsa => {
                let bytes: [u8; 32] = public.to_compressed_bytes().try_into().unwrap();
                PlainVerify::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap())
            }
            other => PlainVerify::Other(public.clone(), other),
        }
    }

    fn verify(&self, message: &[u8], signature: &schooltas_did::Signature) {
        match self {
            PlainVerify::Ed25519(key) => {
                use ed25519_dalek::Verifier as _;
                let signature = ed25519_dalek::Signature::from_bytes(signature.as_bytes());
                key.verify(message, &signature).unwrap();
            }
            PlainVerify::Other(key, alg) => key.verify(*alg, message, signature).unwrap(),
        }
    }
}

fn bench(c: &mut Criterion) {
    bench_with(c, "ed25519", &SigningKey::generate(Algorithm::EdDsa).unwrap());
    bench_with(c, "es256", &SigningKey::generate(Algorithm::Es256).unwrap());
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    for label in ["ed25519", "es256"] {
        let id = |group: &str, op: &str| format!("{group}_{label}/{op}");
        let (sign_jwt, sign_kb) = (id("raw", "sign_issuer_jwt"), id("raw", "sign_kb_jwt"));
        let (verify_jwt, verify_kb) = (id("raw", "verify_issuer_jwt"), id("raw", "verify_kb_jwt"));
        let issue = id("sd_jwt", "issue");
        let present = id("sd_jwt", "present_3_of_10_kb");
        let present_issued = id("sd_jwt", "present_from_issued");
        let verify = id("sd_jwt", "verify_with_status");
        print_ratios(&[
            Ratio { operation: &issue, floors: &[&sign_jwt] },
            Ratio { operation: &present, floors: &[&sign_kb] },
            Ratio { operation: &present_issued, floors: &[&sign_kb] },
            Ratio { operation: &verify, floors: &[&verify_jwt, &verify_kb] },
        ]);
    }
}
