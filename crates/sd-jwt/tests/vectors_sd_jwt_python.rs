//! sd-jwt-python acceptance vectors (`test-vectors/sd-jwt-python/generated/`): the upstream
//! test cases (arrays, nulls, recursion, header_mod, key_binding, JSON serialization, no_sd …),
//! each with its issuance and presentation as produced by sd-jwt-python.
//!
//! Each presentation is verified and compared with `expect_verified_user_claims_from_spec_yml`
//! (the upstream expectation, which leaves out iss/iat/exp/cnf) and with the full processed
//! payload; each issuance must disclose every claim.
//!
//! One `#[test]` walks every case and reports every failing case by name at the end; cases
//! that are known not to pass are listed in [`EXCEPTIONS`] with a reason, and an excepted case
//! that starts passing fails the test too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    Ctx, Outcome, Report, clock_for, expect_eq, expect_key_binding_flag, field, full_claims, json_files, keys_for,
    presentation_text, split, text_of, typ_of, verify, without,
};
use schooltas_sd_jwt::TypPolicy;
use serde_json::{Value, json};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors/sd-jwt-python");

/// Cases known not to pass, each with its reason. Empty: every case passes.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// What the upstream expectation leaves out.
const NOT_IN_UPSTREAM_EXPECTATION: [&str; 4] = ["iss", "iat", "exp", "cnf"];

/// Verifies with the vector's keys (each issuer key for the general JSON serialization), typ as
/// in the header, key binding when the SD-JWT carries a KB-JWT, at the KB-JWT `iat` or inside
/// iat..exp; returns the processed payload (the same for every key).
fn processed(v: &Value, sd_jwt: &Value) -> Outcome<Value> {
    let text = presentation_text(sd_jwt)?;
    let (_, _, kb) = split(&text)?;
    let typ = typ_of(&text)?;
    let now = clock_for(&text, None)?;
    let kb = if kb.is_some() { Some((text_of(v, "kb_nonce")?, text_of(v, "kb_aud")?)) } else { None };
    let kb = kb.as_ref().map(|(nonce, aud)| (nonce.as_str(), aud.as_str()));
    let mut result = None;
    for (i, key) in keys_for(v, &text)?.iter().enumerate() {
        let verified =
            verify(&text, key, TypPolicy::Exact(typ.clone()), kb, now).ctx(&format!("with issuer key {i}"))?;
        let claims = Value::Object(verified.into_claims());
        if let Some(previous) = &result {
            expect_eq(&format!("processed payload with issuer key {i}"), &claims, previous)?;
        }
        result = Some(claims);
    }
    result.ctx("issuer key")
}

fn presentation(v: &Value) -> Outcome {
    let sd_jwt = field(v, "generated_sd_jwt_presentation")?;
    expect_key_binding_flag(v, &presentation_text(sd_jwt)?)?;
    let claims = processed(v, sd_jwt)?;
    expect_eq(
        "processed payload without iss/iat/exp/cnf vs expect_verified_user_claims",
        &without(&claims, &NOT_IN_UPSTREAM_EXPECTATION),
        field(v, "expect_verified_user_claims_from_spec_yml")?,
    )?;
    expect_eq("processed payload", &claims, field(v, "expected_processed_payload")?)
}

/// The issuance discloses every claim: default claims, user claims, and `cnf` when bound.
fn issuance(v: &Value) -> Outcome {
    let claims = processed(v, field(v, "generated_sd_jwt_issuance")?)?;
    expect_eq("processed issuance", &claims, &full_claims(v)?)
}

#[test]
fn sd_jwt_python_vectors() {
    let mut report = Report::new("sd-jwt-python");
    let generated = json_files(&format!("{DIR}/generated"));

    let mut testcases: Vec<String> = std::fs::read_dir(format!("{DIR}/testcases"))
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("specification.yml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    testcases.sort();
    let names: Vec<String> = generated.iter().map(|(name, _)| name.clone()).collect();
    report.case("every upstream testcase has a generated case".into(), || {
        expect_eq("case names", &json!(names), &json!(testcases))
    });

    for (name, v) in &generated {
        report.case(format!("generated/{name}: presentation"), || presentation(v));
        report.case(format!("generated/{name}: issuance"), || issuance(v));
    }
    report.finish(EXCEPTIONS);
}
