//! Helpers shared by the acceptance-vector walkers (`vectors_rfc9901.rs`, `vectors_sd_jwt_js.rs`,
//! `vectors_sd_jwt_python.rs`, `vectors_sd_jwt_vc.rs`): the case [`Report`] with its exception
//! rules, reading vector files, picking fields, decoding and splitting SD-JWTs (compact and JSON
//! serialization), verifying them, and turning sd-jwt-js / sd-jwt-python disclosure frames and
//! holder selections into claim paths.
//!
//! Each test binary includes this module with `mod common;` and uses a subset of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

use schooltas_did::{VerifyingKey, base64url};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{
    KeyBinding, KeyBindingPolicy, Limits, PathElement, TypPolicy, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions,
    parse_json_serialization,
};
use serde_json::{Map, Value, json};

pub(crate) type Outcome<T = ()> = Result<T, String>;

// ---- harness --------------------------------------------------------------------------------

/// Collects every case's outcome; [`Report::finish`] fails on any failing case not listed in
/// the exceptions, on any listed case that passes, and on any exception that names no case.
pub(crate) struct Report {
    source: &'static str,
    passed: Vec<String>,
    failed: Vec<(String, String)>,
}

impl Report {
    pub(crate) fn new(source: &'static str) -> Self {
        Report { source, passed: Vec::new(), failed: Vec::new() }
    }

    pub(crate) fn case(&mut self, name: String, check: impl FnOnce() -> Outcome) {
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

    pub(crate) fn finish(self, exceptions: &[(&str, &str)]) {
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

pub(crate) trait Ctx<T> {
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

// ---- files and fields -----------------------------------------------------------------------

/// The JSON file at `path`; panics (failing the case it is read in) when it is unreadable.
pub(crate) fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The names (without `.json`) of the JSON files in `dir`, sorted.
pub(crate) fn json_names(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// (name, contents) of the JSON files in `dir`, sorted by name.
pub(crate) fn json_files(dir: &str) -> Vec<(String, Value)> {
    json_names(dir).into_iter().map(|name| (name.clone(), read(&format!("{dir}/{name}.json")))).collect()
}

pub(crate) fn field<'a>(v: &'a Value, name: &str) -> Outcome<&'a Value> {
    v.get(name).ctx(name)
}

pub(crate) fn text<'a>(v: &'a Value, name: &str) -> Outcome<&'a str> {
    field(v, name)?.as_str().ctx(name)
}

pub(crate) fn text_of(v: &Value, name: &str) -> Outcome<String> {
    text(v, name).map(str::to_owned)
}

pub(crate) fn object(v: &Value, name: &str) -> Outcome<Map<String, Value>> {
    field(v, name)?.as_object().cloned().ctx(name)
}

pub(crate) fn expect_eq(what: &str, actual: &Value, expected: &Value) -> Outcome {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("{what} differs:\n      got      {actual}\n      expected {expected}"))
    }
}

/// `claims` without the members `names`.
pub(crate) fn without(claims: &Value, names: &[&str]) -> Value {
    let mut claims = claims.as_object().cloned().unwrap_or_default();
    for name in names {
        claims.remove(*name);
    }
    Value::Object(claims)
}

/// Whether `part` is `full` with some object members and array elements left out.
pub(crate) fn is_part_of(part: &Value, full: &Value) -> bool {
    match (part, full) {
        (Value::Object(p), Value::Object(f)) => p.iter().all(|(k, v)| f.get(k).is_some_and(|fv| is_part_of(v, fv))),
        (Value::Array(p), Value::Array(f)) => {
            let mut rest = f.iter();
            p.iter().all(|item| rest.by_ref().any(|candidate| is_part_of(item, candidate)))
        }
        _ => part == full,
    }
}

// ---- tokens ---------------------------------------------------------------------------------

pub(crate) fn decode_json(segment: &str) -> Outcome<Value> {
    let bytes = base64url::decode(segment).ctx("base64url")?;
    serde_json::from_slice(&bytes).ctx("JSON")
}

pub(crate) fn jwt_part(jwt: &str, index: usize) -> Outcome<Value> {
    decode_json(jwt.split('.').nth(index).ctx("JWT part")?)
}

pub(crate) fn public_key(jwk: &Value) -> Outcome<VerifyingKey> {
    VerifyingKey::from_jwk(jwk.as_object().ctx("public JWK")?).ctx("public JWK")
}

/// The presentation as text: compact as is, JSON serialization as JSON text.
pub(crate) fn presentation_text(v: &Value) -> Outcome<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(_) => Ok(v.to_string()),
        _ => Err("a presentation is a string or an object".into()),
    }
}

pub(crate) fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// The first unprotected header of a JSON-serialized SD-JWT.
pub(crate) fn first_header(v: &Value) -> Outcome<&Value> {
    match v.get("signatures") {
        Some(signatures) => signatures.get(0).and_then(|s| s.get("header")).ctx("signatures[0].header"),
        None => field(v, "header"),
    }
}

/// (issuer-signed JWT, disclosures, KB-JWT) of a compact or JSON presentation (first signature).
pub(crate) fn split(text: &str) -> Outcome<(String, Vec<String>, Option<String>)> {
    if is_json(text) {
        let v: Value = serde_json::from_str(text).ctx("JSON")?;
        let signature = v.get("signatures").and_then(|s| s.get(0)).unwrap_or(&v);
        let jwt = format!(
            "{}.{}.{}",
            text_of(signature, "protected")?,
            text_of(&v, "payload")?,
            text_of(signature, "signature")?
        );
        let header = first_header(&v)?;
        let disclosures = header
            .get("disclosures")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let kb = header.get("kb_jwt").and_then(Value::as_str).map(str::to_owned);
        return Ok((jwt, disclosures, kb));
    }
    let mut parts: Vec<&str> = text.split('~').collect();
    let kb = parts.pop().filter(|kb| !kb.is_empty()).map(str::to_owned);
    let jwt = parts.first().ctx("issuer JWT")?.to_string();
    Ok((jwt, parts[1..].iter().map(|d| (*d).to_owned()).collect(), kb))
}

/// The verifier's clock: the KB-JWT `iat`, or without key binding a time inside iat..exp. A
/// missing issuer `iat` is taken as `default_iat`, or fails when that is `None`.
pub(crate) fn clock_for(text: &str, default_iat: Option<i64>) -> Outcome<i64> {
    let (jwt, _, kb) = split(text)?;
    if let Some(kb) = kb {
        return jwt_part(&kb, 1)?.get("iat").and_then(Value::as_i64).ctx("KB-JWT iat");
    }
    let payload = jwt_part(&jwt, 1)?;
    let iat = payload.get("iat").and_then(Value::as_i64).or(default_iat).ctx("iat")?;
    match payload.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp <= iat => Err("exp is not after iat".into()),
        _ => Ok(iat + 1),
    }
}

/// The issuer JWT's `typ`, as the exact policy.
pub(crate) fn typ_of(text: &str) -> Outcome<String> {
    let (jwt, _, _) = split(text)?;
    text_of(&jwt_part(&jwt, 0)?, "typ")
}

/// Options with `typ`, and key binding to (nonce, audience) required exactly when `kb` is given.
pub(crate) fn options(typ: TypPolicy, kb: Option<(&str, &str)>) -> VerifyOptions {
    VerifyOptions {
        typ,
        key_binding: match kb {
            Some((nonce, aud)) => KeyBindingPolicy::Required(KeyBinding::new(nonce, aud)),
            None => KeyBindingPolicy::NotRequired,
        },
        clock_skew: 0,
        limits: Limits::default(),
    }
}

/// Verifies a compact or JSON-serialized SD-JWT with [`options`]`(typ, kb)` at `now`; fails too
/// when key binding was checked though `kb` is `None` or not checked though it is given.
pub(crate) fn verify(
    text: &str,
    key: &VerifyingKey,
    typ: TypPolicy,
    kb: Option<(&str, &str)>,
    now: i64,
) -> Outcome<VerifiedSdJwt> {
    let options = options(typ, kb);
    let verified = if is_json(text) {
        parse_json_serialization(text).ctx("parse (JSON serialization)")?.verify(key, &options, now)
    } else {
        UnverifiedSdJwt::parse(text).ctx("parse")?.verify(key, &options, now)
    }
    .ctx("verify")?;
    if kb.is_some() != verified.key_binding().is_some() {
        return Err("key binding was not checked".into());
    }
    Ok(verified)
}

// ---- JSON serialization from compact presentations ------------------------------------------

pub(crate) fn jws_parts(jwt: &str) -> Outcome<(String, String, String)> {
    let mut parts = jwt.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h.into(), p.into(), s.into())),
        _ => Err("not a compact JWS".into()),
    }
}

pub(crate) fn unprotected(disclosures: &[String], kb: Option<&String>, kid: Option<&str>) -> Value {
    let mut header = json!({ "disclosures": disclosures });
    if let Some(kb) = kb {
        header["kb_jwt"] = json!(kb);
    }
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    header
}

/// The flattened JWS JSON serialization of a compact presentation.
pub(crate) fn flattened(compact: &str) -> Outcome<String> {
    let (jwt, disclosures, kb) = split(compact)?;
    let (protected, payload, signature) = jws_parts(&jwt)?;
    let header = unprotected(&disclosures, kb.as_ref(), None);
    Ok(json!({"protected": protected, "payload": payload, "signature": signature, "header": header}).to_string())
}

// ---- generated cases (sd-jwt-python format) -------------------------------------------------

pub(crate) fn issuer_keys(v: &Value) -> Outcome<Vec<VerifyingKey>> {
    field(v, "issuer_public_jwks")?.as_array().ctx("issuer_public_jwks")?.iter().map(public_key).collect()
}

/// Keys to verify with: every issuer key for the general JSON serialization (each signed one
/// signature), else the first.
pub(crate) fn keys_for(v: &Value, text: &str) -> Outcome<Vec<VerifyingKey>> {
    let mut keys = issuer_keys(v)?;
    if !(is_json(text) && text.contains("\"signatures\"")) {
        keys.truncate(1);
    }
    Ok(keys)
}

/// What the full issuance discloses: default claims, user claims, and `cnf` when bound.
pub(crate) fn full_claims(v: &Value) -> Outcome<Value> {
    let mut claims = Map::new();
    if field(v, "include_default_claims")?.as_bool().ctx("include_default_claims")? {
        claims.extend(object(v, "default_claims")?);
    }
    claims.extend(object(v, "user_claims")?);
    if let Some(cnf) = field(v, "generated_sd_jwt_payload")?.get("cnf") {
        claims.insert("cnf".into(), cnf.clone());
    }
    Ok(Value::Object(claims))
}

/// The key binding of `presentation` (a KB-JWT or none) agrees with the vector's `key_binding`.
pub(crate) fn expect_key_binding_flag(v: &Value, presentation: &str) -> Outcome {
    let (_, _, kb) = split(presentation)?;
    if kb.is_some() != field(v, "key_binding")?.as_bool().ctx("key_binding")? {
        return Err("key_binding does not match the presentation".into());
    }
    Ok(())
}

/// The vector's `spec_strings` as (index, section, spec).
pub(crate) fn spec_strings(v: &Value) -> Vec<(usize, String, Value)> {
    let specs = v.get("spec_strings").and_then(Value::as_array).cloned().unwrap_or_default();
    specs
        .into_iter()
        .enumerate()
        .map(|(i, spec)| (i, spec["section"].as_str().unwrap_or_default().to_owned(), spec))
        .collect()
}

/// A spec string (`text`) processed to `claims`: an issuance (every issued disclosure, no
/// KB-JWT) must give all claims, a presentation part of them.
pub(crate) fn expect_spec_claims(v: &Value, text: &str, claims: &Value) -> Outcome {
    let (_, disclosures, kb) = split(text)?;
    let full = full_claims(v)?;
    let issued = field(v, "generated_issued_disclosures")?.as_array().ctx("issued disclosures")?;
    if disclosures.len() == issued.len() && kb.is_none() {
        expect_eq("processed issuance", claims, &full)
    } else if is_part_of(claims, &full) {
        Ok(())
    } else {
        Err(format!("processed payload {claims} is not part of the issued claims {full}"))
    }
}

// ---- frames and selections ------------------------------------------------------------------

pub(crate) fn show(path: &[PathElement]) -> String {
    ClaimPath::new(path.to_vec()).map(|p| p.to_string()).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn path_element(container: &Value, mark: &Value) -> Outcome<PathElement> {
    match container {
        Value::Array(_) => match mark {
            Value::Number(n) => n.as_u64().map(|n| PathElement::Index(n as usize)).ctx("array index"),
            Value::String(s) => s.parse().map(PathElement::Index).ctx("array index"),
            _ => Err(format!("bad array index {mark}")),
        },
        Value::Object(_) => match mark {
            Value::String(s) => Ok(PathElement::Key(s.clone())),
            Value::Number(n) => Ok(PathElement::Key(n.to_string())),
            _ => Err(format!("bad claim name {mark}")),
        },
        _ => Err(format!("frame entry {mark} below a value that is neither object nor array")),
    }
}

pub(crate) fn child<'a>(container: &'a Value, element: &PathElement) -> Outcome<&'a Value> {
    match element {
        PathElement::Key(k) => container.get(k.as_str()),
        PathElement::Index(i) => container.get(*i),
        PathElement::AllElements => None,
    }
    .ctx("frame names a claim the claims do not have")
}

/// The builder paths of a disclosure frame in sd-jwt-js syntax (`_sd` lists names or indices at
/// each level; other members are the frames of nested objects and arrays). `_sd_decoy` counts
/// are returned as (path, count).
pub(crate) fn frame_paths(
    frame: &Value,
    claims: &Value,
    path: &mut Vec<PathElement>,
    out: &mut Vec<ClaimPath>,
    decoys: &mut Vec<(String, u64)>,
) -> Outcome {
    let Some(frame) = frame.as_object() else { return Ok(()) };
    for (name, sub) in frame {
        match name.as_str() {
            "_sd" => {
                for mark in sub.as_array().ctx("_sd")? {
                    let element = path_element(claims, mark)?;
                    child(claims, &element)?;
                    path.push(element);
                    out.push(ClaimPath::new(path.clone()).ctx("path")?);
                    path.pop();
                }
            }
            "_sd_decoy" => decoys.push((show(path), sub.as_u64().ctx("_sd_decoy")?)),
            _ => {
                let element = path_element(claims, &Value::String(name.clone()))?;
                let value = child(claims, &element)?;
                path.push(element);
                frame_paths(sub, value, path, out, decoys)?;
                path.pop();
            }
        }
    }
    Ok(())
}

/// Python truthiness, which sd-jwt-python applies to `holder_disclosed_claims` members.
pub(crate) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// sd-jwt-python discloses an array element unless its selection is `False` or `None`.
pub(crate) fn element_selected(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(_) => true,
    }
}

pub(crate) fn has_sd(frame: Option<&Value>) -> bool {
    frame.and_then(Value::as_object).is_some_and(|f| {
        f.iter().any(|(k, v)| match k.as_str() {
            "_sd" => v.as_array().is_some_and(|a| !a.is_empty()),
            "_sd_decoy" => false,
            _ => has_sd(Some(v)),
        })
    })
}

pub(crate) fn sd_marks(frame: Option<&Value>) -> Vec<String> {
    let marks = frame.and_then(|f| f.get("_sd")).and_then(Value::as_array);
    marks
        .map(|m| m.iter().map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned)).collect())
        .unwrap_or_default()
}

/// The claim paths that make our holder disclose what a selection in sd-jwt-python
/// (`holder_disclosed_claims`) or sd-jwt-js (`presentationFrames`) syntax discloses.
///
/// In both libraries `true` on a selectively disclosable object or array discloses it but none
/// of the selectively disclosable claims inside it, while our paths disclose everything inside
/// the claim they name. So the paths name the revealed claims with nothing selectively
/// disclosable below them; their parents come along.
pub(crate) fn selection_paths(claims: &Value, frame: &Value, selection: &Value) -> Vec<ClaimPath> {
    fn reveal(
        value: &Value,
        frame: Option<&Value>,
        selection: Option<&Value>,
        path: &mut Vec<PathElement>,
        under_sd: bool,
        out: &mut Vec<ClaimPath>,
    ) -> bool {
        if !has_sd(frame) {
            if under_sd {
                out.extend(ClaimPath::new(path.clone()));
            }
            return under_sd;
        }
        let marks = sd_marks(frame);
        let mut pushed = false;
        let mut visit =
            |element: PathElement, key: String, item: &Value, is_selected: &dyn Fn(Option<&Value>) -> bool| {
                let is_sd = marks.contains(&key);
                let sub_selection = match (selection, &element) {
                    (Some(Value::Object(m)), _) => m.get(&key),
                    (Some(Value::Array(a)), PathElement::Index(i)) => a.get(*i),
                    _ => None,
                };
                if is_sd && !is_selected(sub_selection) {
                    return;
                }
                path.push(element);
                let below = reveal(item, frame.and_then(|f| f.get(&key)), sub_selection, path, under_sd || is_sd, out);
                if is_sd && !below {
                    // Only its selectively disclosable contents exist, none selected: no path can
                    // express that, so this discloses the claim with everything inside.
                    out.extend(ClaimPath::new(path.clone()));
                }
                pushed |= below || is_sd;
                path.pop();
            };
        match value {
            Value::Object(map) => {
                for (name, item) in map {
                    visit(PathElement::Key(name.clone()), name.clone(), item, &truthy);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    visit(PathElement::Index(i), i.to_string(), item, &element_selected);
                }
            }
            _ => {}
        }
        pushed
    }
    let mut out = Vec::new();
    reveal(claims, Some(frame), Some(selection), &mut Vec::new(), false, &mut out);
    out
}
