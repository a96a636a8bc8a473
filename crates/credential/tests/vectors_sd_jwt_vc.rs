//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-18) acceptance vectors
//! (`test-vectors/ietf-sd-jwt-vc/`): the generated complete cases with the draft's own strings,
//! and every complete SD-JWT among the draft's figures. Everything is verified as an SD-JWT VC
//! (`typ` `dc+sd-jwt`, `vct` present, registered claims never selectively disclosed).
//!
//! One `#[test]` walks every case and reports every failing case by name at the end; cases
//! that are known not to pass are listed in [`EXCEPTIONS`] with a reason, and an excepted case
//! that starts passing fails the test too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

use schooltas_credential::sd_jwt::{
    KeyBinding, KeyBindingPolicy, Limits, TypPolicy, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions,
};
use schooltas_did::{VerifyingKey, base64url};
use serde_json::{Map, Value, json};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors/ietf-sd-jwt-vc");

/// Cases known not to pass, each with its reason. Empty: every case passes.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// `examples/settings.yml`: the verifier identifier and the nonce every KB-JWT carries.
const AUDIENCE: &str = "https://example.com/verifier";
const NONCE: &str = "1234567890";

/// The registered claims an issuer adds in the clear.
const REGISTERED: [&str; 4] = ["iss", "iat", "exp", "cnf"];

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

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_files(dir: &str) -> Vec<(String, Value)> {
    let mut names: Vec<String> = std::fs::read_dir(format!("{DIR}/{dir}"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    names.into_iter().map(|name| (name.clone(), read(&format!("{dir}/{name}.json")))).collect()
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

/// (issuer-signed JWT, number of disclosures, KB-JWT) of a compact SD-JWT.
fn split(text: &str) -> Outcome<(String, usize, Option<String>)> {
    let mut parts: Vec<&str> = text.split('~').collect();
    let kb = parts.pop().filter(|kb| !kb.is_empty()).map(str::to_owned);
    let jwt = parts.first().ctx("issuer JWT")?.to_string();
    Ok((jwt, parts.len() - 1, kb))
}

/// The verifier's clock: the KB-JWT `iat`, or without key binding a time inside iat..exp.
fn clock_for(text: &str) -> Outcome<i64> {
    let (jwt, _, kb) = split(text)?;
    if let Some(kb) = kb {
        return jwt_part(&kb, 1)?.get("iat").and_then(Value::as_i64).ctx("KB-JWT iat");
    }
    let payload = jwt_part(&jwt, 1)?;
    let iat = payload.get("iat").and_then(Value::as_i64).ctx("iat")?;
    match payload.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp <= iat => Err("exp is not after iat".into()),
        _ => Ok(iat + 1),
    }
}

/// Verifies as an SD-JWT VC, with key binding to [`NONCE`] and [`AUDIENCE`] exactly when the
/// presentation carries a KB-JWT, and returns the processed payload.
fn verify_vc(text: &str, key: &VerifyingKey) -> Outcome<Value> {
    let (_, _, kb) = split(text)?;
    let options = VerifyOptions {
        typ: TypPolicy::SdJwtVc,
        key_binding: match kb {
            Some(_) => KeyBindingPolicy::Required(KeyBinding::new(NONCE, AUDIENCE)),
            None => KeyBindingPolicy::NotRequired,
        },
        clock_skew: 0,
        limits: Limits::default(),
    };
    let verified: VerifiedSdJwt =
        UnverifiedSdJwt::parse(text).ctx("parse")?.verify(key, &options, clock_for(text)?).ctx("verify")?;
    expect_eq("header typ", &json!(verified.header().typ()), &json!("dc+sd-jwt"))?;
    if kb.is_some() != verified.key_binding().is_some() {
        return Err("key binding was not checked".into());
    }
    if verified.vct().is_none() {
        return Err("no vct".into());
    }
    Ok(Value::Object(verified.into_claims()))
}

fn without_registered(claims: &Value) -> Value {
    let mut claims = claims.as_object().cloned().unwrap_or_default();
    for name in REGISTERED {
        claims.remove(name);
    }
    Value::Object(claims)
}

/// Whether `part` is `full` with some object members and array elements left out.
fn is_part_of(part: &Value, full: &Value) -> bool {
    match (part, full) {
        (Value::Object(p), Value::Object(f)) => p.iter().all(|(k, v)| f.get(k).is_some_and(|fv| is_part_of(v, fv))),
        (Value::Array(p), Value::Array(f)) => {
            let mut rest = f.iter();
            p.iter().all(|item| rest.by_ref().any(|candidate| is_part_of(item, candidate)))
        }
        _ => part == full,
    }
}

// ---- generated/ -----------------------------------------------------------------------------

fn issuer_key(v: &Value) -> Outcome<VerifyingKey> {
    public_key(field(v, "issuer_public_jwks")?.get(0).ctx("issuer key")?)
}

/// Default claims, user claims, and `cnf` when the issuer bound the credential.
fn full_claims(v: &Value) -> Outcome<Value> {
    let mut claims = Map::new();
    if field(v, "include_default_claims")?.as_bool().ctx("include_default_claims")? {
        claims.extend(field(v, "default_claims")?.as_object().cloned().ctx("default_claims")?);
    }
    claims.extend(field(v, "user_claims")?.as_object().cloned().ctx("user_claims")?);
    if let Some(cnf) = field(v, "generated_sd_jwt_payload")?.get("cnf") {
        claims.insert("cnf".into(), cnf.clone());
    }
    Ok(Value::Object(claims))
}

fn check_vector_settings(v: &Value) -> Outcome {
    if field(v, "key_binding")?.as_bool().ctx("key_binding")? {
        expect_eq("kb_nonce", field(v, "kb_nonce")?, &json!(NONCE))?;
        expect_eq("kb_aud", field(v, "kb_aud")?, &json!(AUDIENCE))?;
    }
    Ok(())
}

fn generated_presentation(v: &Value) -> Outcome {
    check_vector_settings(v)?;
    let text = text(v, "generated_sd_jwt_presentation")?;
    let (_, _, kb) = split(text)?;
    if kb.is_some() != field(v, "key_binding")?.as_bool().ctx("key_binding")? {
        return Err("key_binding does not match the presentation".into());
    }
    let claims = verify_vc(text, &issuer_key(v)?)?;
    expect_eq("processed payload", &claims, field(v, "expected_processed_payload")?)
}

fn generated_issuance(v: &Value) -> Outcome {
    let claims = verify_vc(text(v, "generated_sd_jwt_issuance")?, &issuer_key(v)?)?;
    expect_eq("processed issuance", &claims, &full_claims(v)?)
}

/// The draft's own strings for the same payload: an issuance must give all claims, a
/// presentation part of them.
fn spec_string(v: &Value, spec: &Value) -> Outcome {
    let text = text(spec, "value")?;
    let claims = verify_vc(text, &issuer_key(v)?)?;
    let full = full_claims(v)?;
    let (_, disclosures, kb) = split(text)?;
    let issued = field(v, "generated_issued_disclosures")?.as_array().ctx("issued disclosures")?;
    if disclosures == issued.len() && kb.is_none() {
        expect_eq("processed issuance", &claims, &full)
    } else if is_part_of(&claims, &full) {
        Ok(())
    } else {
        Err(format!("processed payload {claims} is not part of the issued claims {full}"))
    }
}

// ---- extracted/draft-18-figures.json --------------------------------------------------------

/// What each complete SD-JWT figure must verify to.
enum Expect {
    /// An issuance: all claims, i.e. the figure's user data plus the registered claims.
    AllOf { user_data: usize },
    /// A presentation: the figure with the processed payload.
    Processed { figure: usize, kb_payload: Option<usize> },
}

const FIGURES: [(usize, Expect); 5] = [
    (6, Expect::AllOf { user_data: 4 }),
    (7, Expect::Processed { figure: 8, kb_payload: None }),
    (9, Expect::Processed { figure: 10, kb_payload: None }),
    (23, Expect::AllOf { user_data: 22 }),
    (25, Expect::Processed { figure: 27, kb_payload: Some(26) }),
];

fn figure(figures: &[Value], index: usize) -> Outcome<&Value> {
    let figure = figures.get(index).ctx("figure")?;
    expect_eq("figure index", field(figure, "index")?, &json!(index))?;
    Ok(figure)
}

fn figure_case(figures: &[Value], index: usize, expect: &Expect, key: &VerifyingKey) -> Outcome {
    let sd_jwt = figure(figures, index)?;
    expect_eq("kind", field(sd_jwt, "kind")?, &json!("sd-jwt"))?;
    let value = field(sd_jwt, "value")?;
    let compact = text(value, "compact")?;
    let (jwt, _, kb) = split(compact)?;
    expect_eq("decoded header", &jwt_part(&jwt, 0)?, field(value, "header")?)?;
    expect_eq("decoded payload", &jwt_part(&jwt, 1)?, field(value, "payload")?)?;
    let claims = verify_vc(compact, key)?;
    match *expect {
        Expect::AllOf { user_data } => {
            let user_data = field(figure(figures, user_data)?, "value")?;
            expect_eq(
                "processed issuance without registered claims",
                &without_registered(&claims),
                &without_registered(user_data),
            )?;
            for name in REGISTERED {
                expect_eq(name, &json!(claims.get(name)), &json!(field(value, "payload")?.get(name)))?;
            }
            Ok(())
        }
        Expect::Processed { figure: expected, kb_payload } => {
            if let Some(kb_figure) = kb_payload {
                let kb = kb.ctx("KB-JWT")?;
                expect_eq("KB-JWT payload", &jwt_part(&kb, 1)?, field(figure(figures, kb_figure)?, "value")?)?;
            }
            expect_eq("processed payload", &claims, field(figure(figures, expected)?, "value")?)
        }
    }
}

// ---- the walk -------------------------------------------------------------------------------

#[test]
fn sd_jwt_vc_vectors() {
    let mut report = Report::new("ietf-sd-jwt-vc");
    let mut settings_key = None;
    for (name, v) in json_files("generated") {
        settings_key.get_or_insert_with(|| v["issuer_public_jwks"][0].clone());
        report.case(format!("generated/{name}: presentation"), || generated_presentation(&v));
        report.case(format!("generated/{name}: issuance"), || generated_issuance(&v));
        for (i, spec) in v.get("spec_strings").and_then(Value::as_array).cloned().unwrap_or_default().iter().enumerate()
        {
            let section = spec["section"].as_str().unwrap_or_default().to_owned();
            report.case(format!("generated/{name}: spec string {i} ({section})"), || spec_string(&v, spec));
        }
    }

    // The figures are signed with the examples/settings.yml issuer key, the generated cases' key.
    let figures = read("extracted/draft-18-figures.json");
    let figures = figures.as_array().cloned().unwrap_or_default();
    let key = public_key(&settings_key.unwrap_or_default());
    let complete: Vec<usize> = figures
        .iter()
        .filter(|f| f["kind"] == "sd-jwt")
        .filter_map(|f| f["index"].as_u64())
        .map(|i| i as usize)
        .collect();
    report.case("extracted/draft-18-figures: every SD-JWT figure is checked".into(), || {
        expect_eq("SD-JWT figures", &json!(complete), &json!(FIGURES.iter().map(|(i, _)| *i).collect::<Vec<_>>()))
    });
    for (index, expect) in &FIGURES {
        let section = figures.get(*index).and_then(|f| f["section"].as_str()).unwrap_or_default().to_owned();
        report.case(format!("extracted/draft-18-figures: figure {} ({section})", index + 1), || {
            figure_case(&figures, *index, expect, key.as_ref().map_err(Clone::clone)?)
        });
    }

    report.finish(EXCEPTIONS);
}
