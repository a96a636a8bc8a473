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

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

use schooltas_credential::sd_jwt::{
    KeyBinding, KeyBindingPolicy, Limits, TypPolicy, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions,
    parse_json_serialization,
};
use schooltas_did::{VerifyingKey, base64url};
use serde_json::{Map, Value, json};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors/sd-jwt-python");

/// Cases known not to pass, each with its reason. Empty: every case passes.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// What the upstream expectation leaves out.
const NOT_IN_UPSTREAM_EXPECTATION: [&str; 4] = ["iss", "iat", "exp", "cnf"];

type Outcome<T = ()> = Result<T, String>;

// ---- harness --------------------------------------------------------------------------------

struct Report {
    source: &'static str,
    passed: Vec<String>,
    failed: Vec<(String, String)>,
}

impl Report {
    fn new(source: &'static str) -> Self {
        Report { source, passed: Vec::new(), failed: Vec::new() }
    }

    fn case(&mut self, name: String, check: impl FnOnce() -> Outcome) {
        let outcome = catch_unwind(AssertUnwindSafe(check)).unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Err(format!("panicked: {message}"))
        });
        match outcome {
            Ok(()) => self.passed.push(name),
            Err(error) => self.failed.push((name, error)),
        }
    }

    fn finish(self, exceptions: &[(&str, &str)]) {
        let mut problems = Vec::new();
        for (name, error) in &self.failed {
            match exceptions.iter().find(|(n, _)| n == name) {
                Some((_, reason)) => println!("expected failure: {name}: {reason}\n    ({error})"),
                None => problems.push(format!("FAILED {name}\n    {error}")),
            }
        }
        for name in &self.passed {
            if exceptions.iter().any(|(n, _)| n == name) {
                problems.push(format!("UNEXPECTED PASS {name}: remove it from the exceptions"));
            }
        }
        for (name, _) in exceptions {
            if !self.passed.iter().chain(self.failed.iter().map(|(n, _)| n)).any(|n| n == name) {
                problems.push(format!("exception {name:?} names no case"));
            }
        }
        let expected = self.failed.iter().filter(|(n, _)| exceptions.iter().any(|(e, _)| e == n)).count();
        println!(
            "{}: {} cases, {} passed, {} expected failures",
            self.source,
            self.passed.len() + self.failed.len(),
            self.passed.len(),
            expected
        );
        assert!(problems.is_empty(), "{}: {} problem(s):\n{}", self.source, problems.len(), problems.join("\n"));
    }
}

trait Ctx<T> {
    fn ctx(self, what: &str) -> Outcome<T>;
}

impl<T, E: Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Outcome<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

impl<T> Ctx<T> for Option<T> {
    fn ctx(self, what: &str) -> Outcome<T> {
        self.ok_or_else(|| format!("{what}: missing or of the wrong type"))
    }
}

fn json_files(dir: &str) -> Vec<(String, Value)> {
    let mut names: Vec<String> = std::fs::read_dir(format!("{DIR}/{dir}"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = format!("{DIR}/{dir}/{name}.json");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            (name, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")))
        })
        .collect()
}

fn field<'a>(v: &'a Value, name: &str) -> Outcome<&'a Value> {
    v.get(name).ctx(name)
}

fn text<'a>(v: &'a Value, name: &str) -> Outcome<&'a str> {
    field(v, name)?.as_str().ctx(name)
}

fn expect_eq(what: &str, actual: &Value, expected: &Value) -> Outcome {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("{what} differs:\n      got      {actual}\n      expected {expected}"))
    }
}

fn jwt_part(jwt: &str, index: usize) -> Outcome<Value> {
    let bytes = base64url::decode(jwt.split('.').nth(index).ctx("JWT part")?).ctx("base64url")?;
    serde_json::from_slice(&bytes).ctx("JSON")
}

fn public_key(jwk: &Value) -> Outcome<VerifyingKey> {
    VerifyingKey::from_jwk(jwk.as_object().ctx("public JWK")?).ctx("public JWK")
}

/// The presentation as text: compact as is, JSON serialization as JSON text.
fn presentation_text(v: &Value) -> Outcome<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(_) => Ok(v.to_string()),
        _ => Err("a presentation is a string or an object".into()),
    }
}

/// (issuer-signed JWT of the first signature, KB-JWT) of a compact or JSON SD-JWT.
fn split(v: &Value) -> Outcome<(String, Option<String>)> {
    match v {
        Value::String(compact) => {
            let jwt = compact.split('~').next().ctx("issuer JWT")?.to_owned();
            let kb = compact.rsplit('~').next().filter(|kb| !kb.is_empty()).map(str::to_owned);
            Ok((jwt, kb))
        }
        Value::Object(_) => {
            let signature = v.get("signatures").and_then(|s| s.get(0)).unwrap_or(v);
            let jwt =
                format!("{}.{}.{}", text(signature, "protected")?, text(v, "payload")?, text(signature, "signature")?);
            let kb = signature.get("header").and_then(|h| h.get("kb_jwt")).and_then(Value::as_str).map(str::to_owned);
            Ok((jwt, kb))
        }
        _ => Err("a presentation is a string or an object".into()),
    }
}

/// Verifies with the vector's keys (each issuer key for the general JSON serialization), typ as
/// in the header, key binding when the SD-JWT carries a KB-JWT, at the KB-JWT `iat` or inside
/// iat..exp; returns the processed payload (the same for every key).
fn verify(v: &Value, sd_jwt: &Value) -> Outcome<Value> {
    let text = presentation_text(sd_jwt)?;
    let (jwt, kb) = split(sd_jwt)?;
    let header = jwt_part(&jwt, 0)?;
    let typ = header.get("typ").and_then(Value::as_str).ctx("typ")?.to_owned();
    let payload = jwt_part(&jwt, 1)?;
    let now = match &kb {
        Some(kb) => jwt_part(kb, 1)?.get("iat").and_then(Value::as_i64).ctx("KB-JWT iat")?,
        None => payload.get("iat").and_then(Value::as_i64).ctx("iat")? + 1,
    };
    let options = VerifyOptions {
        typ: TypPolicy::Exact(typ),
        key_binding: match kb {
            Some(_) => KeyBindingPolicy::Required(KeyBinding::new(text_of(v, "kb_nonce")?, text_of(v, "kb_aud")?)),
            None => KeyBindingPolicy::NotRequired,
        },
        clock_skew: 0,
        limits: Limits::default(),
    };
    let mut keys: Vec<VerifyingKey> = field(v, "issuer_public_jwks")?
        .as_array()
        .ctx("issuer_public_jwks")?
        .iter()
        .map(public_key)
        .collect::<Outcome<_>>()?;
    if sd_jwt.get("signatures").is_none() {
        keys.truncate(1);
    }
    let mut result = None;
    for (i, key) in keys.iter().enumerate() {
        let verified: VerifiedSdJwt = if sd_jwt.is_object() {
            parse_json_serialization(&text).ctx("parse (JSON serialization)")?.verify(key, &options, now)
        } else {
            UnverifiedSdJwt::parse(&text).ctx("parse")?.verify(key, &options, now)
        }
        .ctx(&format!("verify with issuer key {i}"))?;
        if kb.is_some() != verified.key_binding().is_some() {
            return Err("key binding was not checked".into());
        }
        let claims = Value::Object(verified.into_claims());
        if let Some(previous) = &result {
            expect_eq(&format!("processed payload with issuer key {i}"), &claims, previous)?;
        }
        result = Some(claims);
    }
    result.ctx("issuer key")
}

fn text_of(v: &Value, name: &str) -> Outcome<String> {
    text(v, name).map(str::to_owned)
}

fn without_upstream_omissions(claims: &Value) -> Value {
    let mut claims = claims.as_object().cloned().unwrap_or_default();
    for name in NOT_IN_UPSTREAM_EXPECTATION {
        claims.remove(name);
    }
    Value::Object(claims)
}

fn presentation(v: &Value) -> Outcome {
    let sd_jwt = field(v, "generated_sd_jwt_presentation")?;
    let (_, kb) = split(sd_jwt)?;
    if kb.is_some() != field(v, "key_binding")?.as_bool().ctx("key_binding")? {
        return Err("key_binding does not match the presentation".into());
    }
    let claims = verify(v, sd_jwt)?;
    expect_eq(
        "processed payload without iss/iat/exp/cnf vs expect_verified_user_claims",
        &without_upstream_omissions(&claims),
        field(v, "expect_verified_user_claims_from_spec_yml")?,
    )?;
    expect_eq("processed payload", &claims, field(v, "expected_processed_payload")?)
}

/// The issuance discloses every claim: default claims, user claims, and `cnf` when bound.
fn issuance(v: &Value) -> Outcome {
    let claims = verify(v, field(v, "generated_sd_jwt_issuance")?)?;
    let mut expected = Map::new();
    if field(v, "include_default_claims")?.as_bool().ctx("include_default_claims")? {
        expected.extend(field(v, "default_claims")?.as_object().cloned().ctx("default_claims")?);
    }
    expected.extend(field(v, "user_claims")?.as_object().cloned().ctx("user_claims")?);
    if let Some(cnf) = field(v, "generated_sd_jwt_payload")?.get("cnf") {
        expected.insert("cnf".into(), cnf.clone());
    }
    expect_eq("processed issuance", &claims, &Value::Object(expected))
}

#[test]
fn sd_jwt_python_vectors() {
    let mut report = Report::new("sd-jwt-python");
    let generated = json_files("generated");

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
