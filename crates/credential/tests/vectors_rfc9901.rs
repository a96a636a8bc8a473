//! RFC 9901 acceptance vectors (`test-vectors/ietf-sd-jwt-rfc9901/`): the RFC's own examples
//! (`extracted/`) and the complete cases generated from the RFC's example inputs with
//! sd-jwt-python (`generated/`).
//!
//! One `#[test]` walks every case and reports every failing case by name at the end; cases
//! that are known not to pass are listed in [`EXCEPTIONS`] with a reason, and an excepted case
//! that starts passing fails the test too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

use schooltas_credential::ClaimPath;
use schooltas_credential::sd_jwt::{
    FixedSalts, HolderSdJwt, IssuedSdJwt, KeyBinding, KeyBindingInput, KeyBindingPolicy, Limits, PathElement,
    SaltSource, SdJwtBuilder, TypPolicy, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions, parse_json_serialization,
};
use schooltas_did::jws::{self, Header};
use schooltas_did::{Signer, SigningKey, VerifyingKey, base64url};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors/ietf-sd-jwt-rfc9901");

/// Cases known not to pass, each with its reason.
const EXCEPTIONS: &[(&str, &str)] = &[
    // None: w3c-vc_for_slide_deck carries an RSA placeholder cnf.jwk, which is accepted as long
    // as no key binding needs it (the holder key is then simply unavailable).
];

/// A time inside every issuer JWT's validity (iat 1683000000, exp 1883000000), for our own
/// presentations.
const NOW: i64 = 1_800_000_000;

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

fn object(v: &Value, name: &str) -> Outcome<Map<String, Value>> {
    field(v, name)?.as_object().cloned().ctx(name)
}

fn expect_eq(what: &str, actual: &Value, expected: &Value) -> Outcome {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("{what} differs:\n      got      {actual}\n      expected {expected}"))
    }
}

// ---- tokens ---------------------------------------------------------------------------------

fn decode_json(segment: &str) -> Outcome<Value> {
    let bytes = base64url::decode(segment).ctx("base64url")?;
    serde_json::from_slice(&bytes).ctx("JSON")
}

fn jwt_part(jwt: &str, index: usize) -> Outcome<Value> {
    decode_json(jwt.split('.').nth(index).ctx("JWT part")?)
}

fn public_key(jwk: &Value) -> Outcome<VerifyingKey> {
    VerifyingKey::from_jwk(jwk.as_object().ctx("public JWK")?).ctx("public JWK")
}

fn private_key(jwk: &Value) -> Outcome<SigningKey> {
    SigningKey::from_jwk(jwk.as_object().ctx("private JWK")?).ctx("private JWK")
}

/// The presentation as text: compact as is, JSON serialization as JSON text.
fn presentation_text(v: &Value) -> Outcome<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(_) => Ok(v.to_string()),
        _ => Err("a presentation is a string or an object".into()),
    }
}

fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// The first unprotected header of a JSON-serialized SD-JWT.
fn first_header(v: &Value) -> Outcome<&Value> {
    match v.get("signatures") {
        Some(signatures) => signatures.get(0).and_then(|s| s.get("header")).ctx("signatures[0].header"),
        None => field(v, "header"),
    }
}

/// (issuer-signed JWT, disclosures, KB-JWT) of a compact or JSON presentation (first signature).
fn split(text: &str) -> Outcome<(String, Vec<String>, Option<String>)> {
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

fn text_of(v: &Value, name: &str) -> Outcome<String> {
    text(v, name).map(str::to_owned)
}

/// The verifier's clock: the KB-JWT `iat`, or without key binding a time inside iat..exp.
fn clock_for(text: &str) -> Outcome<i64> {
    let (jwt, _, kb) = split(text)?;
    if let Some(kb) = kb {
        return jwt_part(&kb, 1)?.get("iat").and_then(Value::as_i64).ctx("KB-JWT iat");
    }
    let payload = jwt_part(&jwt, 1)?;
    let iat = payload.get("iat").and_then(Value::as_i64).unwrap_or(NOW);
    match payload.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp <= iat => Err("exp is not after iat".into()),
        _ => Ok(iat + 1),
    }
}

/// The issuer JWT's `typ`, as the exact policy.
fn typ_of(text: &str) -> Outcome<String> {
    let (jwt, _, _) = split(text)?;
    text_of(&jwt_part(&jwt, 0)?, "typ")
}

fn options(typ: TypPolicy, kb: Option<(&str, &str)>) -> VerifyOptions {
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

/// Verifies a compact or JSON-serialized SD-JWT.
fn verify(text: &str, key: &VerifyingKey, options: &VerifyOptions, now: i64) -> Outcome<VerifiedSdJwt> {
    if is_json(text) {
        parse_json_serialization(text).ctx("parse (JSON serialization)")?.verify(key, options, now).ctx("verify")
    } else {
        UnverifiedSdJwt::parse(text).ctx("parse")?.verify(key, options, now).ctx("verify")
    }
}

/// Verifies with `typ` exactly as in the header (and, for `dc+sd-jwt`, also as an SD-JWT VC),
/// returning the processed payload.
fn verify_claims(text: &str, key: &VerifyingKey, kb: Option<(&str, &str)>, now: i64) -> Outcome<Value> {
    let typ = typ_of(text)?;
    let verified = verify(text, key, &options(TypPolicy::Exact(typ.clone()), kb), now)?;
    if kb.is_some() != verified.key_binding().is_some() {
        return Err("key binding was not checked".into());
    }
    let claims = Value::Object(verified.claims().clone());
    if typ == "dc+sd-jwt" {
        let vc = verify(text, key, &options(TypPolicy::SdJwtVc, kb), now).ctx("as SD-JWT VC")?;
        expect_eq("processed payload as SD-JWT VC", &Value::Object(vc.into_claims()), &claims)?;
    }
    Ok(claims)
}

/// `user_claims` plus the registered claims the issuer added in the clear.
fn with_registered(user_claims: &Value, issuer_payload: &Value) -> Outcome<Value> {
    let mut claims = user_claims.as_object().cloned().ctx("user claims")?;
    for name in ["iss", "iat", "exp", "nbf", "cnf"] {
        if let Some(value) = issuer_payload.get(name) {
            claims.insert(name.into(), value.clone());
        }
    }
    Ok(Value::Object(claims))
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

// ---- disclosures and digests ----------------------------------------------------------------

/// A disclosure as decoded from its text.
#[derive(Clone, Debug)]
struct Disc {
    digest: String,
    salt: String,
    name: Option<String>,
    value: Value,
}

fn decode_disclosure(encoded: &str) -> Outcome<Disc> {
    let array = decode_json(encoded)?;
    let digest = base64url::encode(Sha256::digest(encoded.as_bytes()));
    match array.as_array().map(Vec::as_slice) {
        Some([Value::String(salt), Value::String(name), value]) => {
            Ok(Disc { digest, salt: salt.clone(), name: Some(name.clone()), value: value.clone() })
        }
        Some([Value::String(salt), value]) => Ok(Disc { digest, salt: salt.clone(), name: None, value: value.clone() }),
        _ => Err(format!("disclosure {encoded} is not [salt, name, value] or [salt, value]")),
    }
}

fn show(path: &[PathElement]) -> String {
    ClaimPath::new(path.to_vec()).map(|p| p.to_string()).unwrap_or_else(|_| "[]".into())
}

fn element_digest(item: &Value) -> Option<&str> {
    match item {
        Value::Object(map) if map.len() == 1 => map.get("...").and_then(Value::as_str),
        _ => None,
    }
}

/// Finds, for every disclosure, the claim path its digest stands at in `payload` (through other
/// disclosures for recursive ones). Array indices count elements the holder sees (decoys
/// excluded). Fails when a disclosure's digest appears nowhere.
fn disclosure_paths(payload: &Value, discs: &[Disc]) -> Outcome<BTreeMap<Vec<PathElement>, Disc>> {
    fn walk(
        value: &Value,
        by_digest: &HashMap<&str, &Disc>,
        path: &mut Vec<PathElement>,
        out: &mut BTreeMap<Vec<PathElement>, Disc>,
    ) -> Outcome {
        let found = |path: &mut Vec<PathElement>, disc: &Disc, out: &mut BTreeMap<_, _>| -> Outcome {
            if out.insert(path.clone(), disc.clone()).is_some() {
                return Err(format!("two disclosures at {}", show(path)));
            }
            walk(&disc.value, by_digest, path, out)
        };
        match value {
            Value::Object(map) => {
                for (name, member) in map {
                    if name == "_sd" {
                        for digest in member.as_array().ctx("_sd")? {
                            let Some(disc) = by_digest.get(digest.as_str().ctx("_sd digest")?) else { continue };
                            path.push(PathElement::Key(disc.name.clone().ctx("array disclosure in _sd")?));
                            found(path, disc, out)?;
                            path.pop();
                        }
                    } else {
                        path.push(PathElement::Key(name.clone()));
                        walk(member, by_digest, path, out)?;
                        path.pop();
                    }
                }
            }
            Value::Array(items) => {
                let mut index = 0;
                for item in items {
                    match element_digest(item) {
                        Some(digest) => {
                            let Some(disc) = by_digest.get(digest) else { continue }; // a decoy
                            if disc.name.is_some() {
                                return Err("object disclosure as an array element".into());
                            }
                            path.push(PathElement::Index(index));
                            found(path, disc, out)?;
                        }
                        None => {
                            path.push(PathElement::Index(index));
                            walk(item, by_digest, path, out)?;
                        }
                    }
                    path.pop();
                    index += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }
    let by_digest: HashMap<&str, &Disc> = discs.iter().map(|d| (d.digest.as_str(), d)).collect();
    let mut out = BTreeMap::new();
    walk(payload, &by_digest, &mut Vec::new(), &mut out)?;
    if out.len() != discs.len() {
        let reached: Vec<&str> = out.values().map(|d| d.digest.as_str()).collect();
        let lost: Vec<&str> = discs.iter().map(|d| d.digest.as_str()).filter(|d| !reached.contains(d)).collect();
        return Err(format!("disclosures whose digest appears nowhere in the payload: {lost:?}"));
    }
    Ok(out)
}

/// Rewrites digests through `map` and sorts `_sd`; digests not in `map` (decoys) are dropped.
fn normalize(value: &Value, map: &HashMap<String, String>) -> Value {
    match value {
        Value::Object(members) => {
            let mut out = Map::new();
            for (name, member) in members {
                if name == "_sd" {
                    let mut digests: Vec<String> = member
                        .as_array()
                        .map(|a| a.iter().filter_map(|d| d.as_str().and_then(|d| map.get(d)).cloned()).collect())
                        .unwrap_or_default();
                    digests.sort();
                    if !digests.is_empty() {
                        out.insert(name.clone(), json!(digests));
                    }
                } else {
                    out.insert(name.clone(), normalize(member, map));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter_map(|item| match element_digest(item) {
                    Some(digest) => map.get(digest).map(|d| json!({"...": d})),
                    None => Some(normalize(item, map)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

// ---- frames and selections ------------------------------------------------------------------

fn path_element(container: &Value, mark: &Value) -> Outcome<PathElement> {
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

fn child<'a>(container: &'a Value, element: &PathElement) -> Outcome<&'a Value> {
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
fn frame_paths(
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
fn truthy(v: Option<&Value>) -> bool {
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
fn element_selected(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(_) => true,
    }
}

fn has_sd(frame: Option<&Value>) -> bool {
    frame.and_then(Value::as_object).is_some_and(|f| {
        f.iter().any(|(k, v)| match k.as_str() {
            "_sd" => v.as_array().is_some_and(|a| !a.is_empty()),
            "_sd_decoy" => false,
            _ => has_sd(Some(v)),
        })
    })
}

fn sd_marks(frame: Option<&Value>) -> Vec<String> {
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
fn selection_paths(claims: &Value, frame: &Value, selection: &Value) -> Vec<ClaimPath> {
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

// ---- JSON serialization from our compact presentations --------------------------------------

fn jws_parts(jwt: &str) -> Outcome<(String, String, String)> {
    let mut parts = jwt.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h.into(), p.into(), s.into())),
        _ => Err("not a compact JWS".into()),
    }
}

fn unprotected(disclosures: &[String], kb: Option<&String>, kid: Option<&str>) -> Value {
    let mut header = json!({ "disclosures": disclosures });
    if let Some(kb) = kb {
        header["kb_jwt"] = json!(kb);
    }
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    header
}

fn flattened(compact: &str) -> Outcome<String> {
    let (jwt, disclosures, kb) = split(compact)?;
    let (protected, payload, signature) = jws_parts(&jwt)?;
    let header = unprotected(&disclosures, kb.as_ref(), None);
    Ok(json!({"protected": protected, "payload": payload, "signature": signature, "header": header}).to_string())
}

/// The general form: the presentation's own signature first (with disclosures and KB-JWT),
/// then one more signature over the same protected header and payload per extra key.
fn general(compact: &str, kids: &[&str], extra: &[SigningKey]) -> Outcome<String> {
    let (jwt, disclosures, kb) = split(compact)?;
    let (protected, payload, signature) = jws_parts(&jwt)?;
    let mut signatures = vec![json!({
        "protected": protected, "signature": signature,
        "header": unprotected(&disclosures, kb.as_ref(), kids.first().copied()),
    })];
    for (i, key) in extra.iter().enumerate() {
        let signature = key.sign(format!("{protected}.{payload}").as_bytes()).ctx("sign")?;
        let mut header = json!({});
        if let Some(kid) = kids.get(i + 1) {
            header["kid"] = json!(kid);
        }
        signatures.push(json!({
            "protected": protected, "signature": base64url::encode(signature.as_bytes()), "header": header,
        }));
    }
    Ok(json!({"payload": payload, "signatures": signatures}).to_string())
}

// ---- extracted/ -----------------------------------------------------------------------------

fn extracted_presentation(v: &Value) -> Outcome {
    let presentation = text(v, "presentation")?;
    let key = public_key(field(v, "issuer_public_jwk")?)?;
    let has_kb = field(v, "presentation_has_kb")?.as_bool().ctx("presentation_has_kb")?;
    let now = clock_for(presentation)?;
    let kb = if has_kb {
        expect_eq("KB-JWT iat", &json!(now), field(v, "kb_iat")?)?;
        Some((text(v, "kb_nonce")?, text(v, "kb_aud")?))
    } else {
        None
    };
    expect_eq("typ", &json!(typ_of(presentation)?), field(field(v, "issuer_jwt_header")?, "typ")?)?;
    let claims = verify_claims(presentation, &key, kb, now)?;
    expect_eq("processed payload", &claims, field(v, "expected_processed_payload")?)
}

fn extracted_issuance(v: &Value) -> Outcome {
    let text = text(v, "sd_jwt_issuance")?;
    let key = public_key(field(v, "issuer_public_jwk")?)?;
    let claims = verify_claims(text, &key, None, clock_for(text)?)?;
    let expected = with_registered(field(v, "user_claims")?, field(v, "sd_jwt_payload")?)?;
    expect_eq("processed issuance", &claims, &expected)
}

/// §6 shows payloads only; they are exactly the payloads of the generated `address_only_*`
/// cases, so they are re-signed with the RFC's issuer key, given those cases' disclosures, and
/// verified.
fn sec6_block(v: &Value, index: usize, generated: &str) -> Outcome {
    let blocks = field(v, "blocks")?.as_array().ctx("blocks")?;
    let input = field(blocks.first().ctx("block 0")?, "value")?;
    let payload = field(blocks.get(index).ctx("block")?, "value")?;
    let case = read(&format!("generated/{generated}.json"));
    expect_eq("input claims vs generated user_claims", input, field(&case, "user_claims")?)?;
    expect_eq("payload vs generated payload", payload, field(&case, "generated_sd_jwt_payload")?)?;
    let signer = private_key(field(v, "issuer_private_jwk")?)?;
    let header = Header::new().with_typ("example+sd-jwt");
    let jwt = jws::sign_compact(&header, payload.to_string().as_bytes(), &signer).ctx("sign")?;
    let disclosures = field(&case, "generated_issued_disclosures")?.as_array().ctx("disclosures")?;
    let mut sd_jwt = jwt + "~";
    for d in disclosures {
        sd_jwt += d.as_str().ctx("disclosure")?;
        sd_jwt += "~";
    }
    let claims = verify_claims(&sd_jwt, signer.verifying_key(), None, clock_for(&sd_jwt)?)?;
    expect_eq("processed payload", &claims, &with_registered(input, payload)?)
}

/// §8: flattened issuance, flattened SD-JWT+KB and general SD-JWT+KB (each signature's key).
fn sec8_block(v: &Value, index: usize, key: &Value) -> Outcome {
    let blocks = field(v, "blocks")?.as_array().ctx("blocks")?;
    let presentation = presentation_text(field(blocks.get(index).ctx("block")?, "value")?)?;
    let flattened_case = read("generated/json_serialization_flattened.json");
    let key = public_key(key)?;
    let (jwt, _, kb) = split(&presentation)?;
    let now = clock_for(&presentation)?;
    if kb.is_none() {
        let claims = verify_claims(&presentation, &key, None, now)?;
        let expected = with_registered(field(&flattened_case, "user_claims")?, &jwt_part(&jwt, 1)?)?;
        return expect_eq("processed issuance", &claims, &expected);
    }
    let kb = Some((text(&flattened_case, "kb_nonce")?, text(&flattened_case, "kb_aud")?));
    let claims = verify_claims(&presentation, &key, kb, now)?;
    expect_eq("processed payload", &claims, field(&flattened_case, "expected_processed_payload")?)
}

// ---- generated/ -----------------------------------------------------------------------------

fn kb_of(v: &Value) -> Outcome<Option<(&str, &str)>> {
    if field(v, "key_binding")?.as_bool().ctx("key_binding")? {
        Ok(Some((text(v, "kb_nonce")?, text(v, "kb_aud")?)))
    } else {
        Ok(None)
    }
}

fn issuer_keys(v: &Value) -> Outcome<Vec<VerifyingKey>> {
    field(v, "issuer_public_jwks")?.as_array().ctx("issuer_public_jwks")?.iter().map(public_key).collect()
}

/// Keys to verify with: every issuer key for the general JSON serialization (each signed one
/// signature), else the first.
fn keys_for(v: &Value, text: &str) -> Outcome<Vec<VerifyingKey>> {
    let mut keys = issuer_keys(v)?;
    if !(is_json(text) && text.contains("\"signatures\"")) {
        keys.truncate(1);
    }
    Ok(keys)
}

/// What the full issuance discloses: default claims, user claims, and `cnf` when bound.
fn full_claims(v: &Value) -> Outcome<Value> {
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

fn generated_presentation(v: &Value) -> Outcome {
    let text = presentation_text(field(v, "generated_sd_jwt_presentation")?)?;
    // sd-jwt-python's default typ unless the vector sets one.
    let typ = field(v, "extra_header_parameters")?.get("typ").cloned().unwrap_or(json!("example+sd-jwt"));
    expect_eq("typ", &json!(typ_of(&text)?), &typ)?;
    let now = clock_for(&text)?;
    if let Some(kb_payload) = v.get("generated_kb_jwt_payload") {
        expect_eq("clock", &json!(now), field(kb_payload, "iat")?)?;
    }
    for (i, key) in keys_for(v, &text)?.iter().enumerate() {
        let claims = verify_claims(&text, key, kb_of(v)?, now).ctx(&format!("issuer key {i}"))?;
        expect_eq("processed payload", &claims, field(v, "expected_processed_payload")?)?;
    }
    Ok(())
}

fn generated_issuance(v: &Value) -> Outcome {
    let text = presentation_text(field(v, "generated_sd_jwt_issuance")?)?;
    for key in keys_for(v, &text)? {
        let claims = verify_claims(&text, &key, None, clock_for(&text)?)?;
        expect_eq("processed issuance", &claims, &full_claims(v)?)?;
    }
    Ok(())
}

/// The RFC's own strings for the same payload: an issuance must give all claims, a
/// presentation part of them.
fn spec_string(v: &Value, spec: &Value) -> Outcome {
    let text = text(spec, "value")?;
    let (_, disclosures, kb) = split(text)?;
    let kb = if kb.is_some() { Some(kb_of(v)?.ctx("kb_nonce/kb_aud")?) } else { None };
    let key = issuer_keys(v)?.into_iter().next().ctx("issuer key")?;
    let claims = verify_claims(text, &key, kb, clock_for(text)?)?;
    let full = full_claims(v)?;
    let issued = v.get("generated_issued_disclosures").and_then(Value::as_array).ctx("issued disclosures")?;
    if disclosures.len() == issued.len() && kb.is_none() {
        expect_eq("processed issuance", &claims, &full)
    } else if is_part_of(&claims, &full) {
        Ok(())
    } else {
        Err(format!("processed payload {claims} is not part of the issued claims {full}"))
    }
}

/// Hands out `salt-0`, `salt-1`, … so the order in which the builder asks for salts shows.
struct CountingSalts(usize);

impl SaltSource for CountingSalts {
    fn next_salt(&mut self) -> String {
        self.0 += 1;
        format!("salt-{}", self.0 - 1)
    }
}

struct Issuance {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    paths: Vec<ClaimPath>,
    decoys: Vec<(String, u64)>,
    holder: Option<VerifyingKey>,
    signer: SigningKey,
}

impl Issuance {
    fn from_vector(v: &Value) -> Outcome<Self> {
        let issuance = presentation_text(field(v, "generated_sd_jwt_issuance")?)?;
        let (jwt, _, _) = split(&issuance)?;
        let header = jwt_part(&jwt, 0)?.as_object().cloned().ctx("header")?;
        let claims = full_claims(v)?.as_object().cloned().ctx("claims")?;
        let user_claims = field(v, "user_claims")?;
        // `cnf` comes from the holder key, unless the user claims carry one themselves.
        let mut claims = claims;
        let holder = match claims.get("cnf") {
            Some(_) if user_claims.get("cnf").is_none() => {
                claims.remove("cnf");
                Some(public_key(field(v, "holder_public_jwk")?)?)
            }
            _ => None,
        };
        let (mut paths, mut decoys) = (Vec::new(), Vec::new());
        frame_paths(field(v, "disclosure_frame")?, user_claims, &mut Vec::new(), &mut paths, &mut decoys)?;
        let signer = private_key(field(v, "issuer_private_jwks")?.get(0).ctx("issuer key")?)?;
        Ok(Issuance { header, claims, paths, decoys, holder, signer })
    }

    fn issue(&self, salts: &mut dyn SaltSource) -> Outcome<IssuedSdJwt> {
        let mut builder = SdJwtBuilder::new(self.claims.clone());
        for (name, value) in &self.header {
            builder = match (name.as_str(), value) {
                ("alg", _) => builder,
                ("typ", Value::String(typ)) => builder.typ(typ.clone()),
                _ => builder.header_member(name.clone(), value.clone()),
            };
        }
        for path in &self.paths {
            builder = builder.disclosable(path.clone());
        }
        if let Some(holder) = &self.holder {
            builder = builder.holder_key(holder);
        }
        builder.issue(&self.signer, salts).ctx("issue")
    }
}

fn our_discs(issued: &IssuedSdJwt) -> Outcome<Vec<Disc>> {
    issued.disclosures().iter().map(|d| decode_disclosure(d.as_str())).collect()
}

/// Issues the vector's claims with its frame and salts and compares with the vector's
/// issuance: the same claims concealed at the same paths, each disclosure with the same salt,
/// name and value (nested digests mapped between the two, since disclosure JSON text — and so
/// every digest — differs between implementations), the same payload up to digests and decoys.
fn generated_issue(v: &Value) -> Outcome {
    let issuance = presentation_text(field(v, "generated_sd_jwt_issuance")?)?;
    let (jwt, encoded, _) = split(&issuance)?;
    let vector_payload = field(v, "generated_sd_jwt_payload")?;
    expect_eq("generated_sd_jwt_payload vs issuer JWT", &jwt_part(&jwt, 1)?, vector_payload)?;
    if let Some(listed) = v.get("generated_issued_disclosures") {
        expect_eq("generated_issued_disclosures vs issuance", listed, &json!(encoded))?;
    }
    let vector_discs: Vec<Disc> = encoded.iter().map(|d| decode_disclosure(d)).collect::<Outcome<_>>()?;
    if let Some(decoded) = v.get("generated_issued_disclosures_decoded") {
        let ours: Vec<Value> = vector_discs
            .iter()
            .map(|d| match &d.name {
                Some(name) => json!([d.salt, name, d.value]),
                None => json!([d.salt, d.value]),
            })
            .collect();
        expect_eq("generated_issued_disclosures_decoded", &json!(ours), decoded)?;
    }
    // Every vector disclosure's digest appears in the vector payload (or in a disclosure).
    let vector_paths = disclosure_paths(vector_payload, &vector_discs).ctx("vector")?;

    let issuance = Issuance::from_vector(v)?;
    if !issuance.decoys.is_empty() {
        return Err(format!("decoy counts in the frame are not reproduced: {:?}", issuance.decoys));
    }
    // Pass 1: the order in which our builder asks for salts, as claim paths.
    let probe = issuance.issue(&mut CountingSalts(0))?;
    let probe_paths = disclosure_paths(&jwt_part(probe.jwt(), 1)?, &our_discs(&probe)?).ctx("our probe")?;
    let mut order: Vec<(usize, Vec<PathElement>)> = probe_paths
        .iter()
        .map(|(path, d)| d.salt.strip_prefix("salt-").and_then(|n| n.parse().ok()).map(|n| (n, path.clone())))
        .collect::<Option<_>>()
        .ctx("probe salt")?;
    order.sort();
    let our_set: Vec<String> = order.iter().map(|(_, p)| show(p)).collect();
    let mut vector_set: Vec<String> = vector_paths.keys().map(|p| show(p)).collect();
    let mut sorted_ours = our_set.clone();
    sorted_ours.sort();
    vector_set.sort();
    if sorted_ours != vector_set {
        return Err(format!("concealed claims differ:\n      ours   {sorted_ours:?}\n      vector {vector_set:?}"));
    }
    // Pass 2: the vector's salt for each path, in our builder's order.
    let salts = order.iter().map(|(_, path)| vector_paths[path].salt.clone());
    let issued = issuance.issue(&mut FixedSalts::new(salts))?;
    let our_payload = jwt_part(issued.jwt(), 1)?;
    let our_paths = disclosure_paths(&our_payload, &our_discs(&issued)?).ctx("ours")?;

    let to_vector: HashMap<String, String> =
        our_paths.iter().map(|(path, d)| (d.digest.clone(), vector_paths[path].digest.clone())).collect();
    let identity: HashMap<String, String> = vector_discs.iter().map(|d| (d.digest.clone(), d.digest.clone())).collect();
    for (path, ours) in &our_paths {
        let theirs = &vector_paths[path];
        let at = show(path);
        expect_eq(&format!("salt at {at}"), &json!(ours.salt), &json!(theirs.salt))?;
        expect_eq(&format!("claim name at {at}"), &json!(ours.name), &json!(theirs.name))?;
        expect_eq(
            &format!("value at {at}"),
            &normalize(&ours.value, &to_vector),
            &normalize(&theirs.value, &identity),
        )?;
    }
    expect_eq("payload", &normalize(&our_payload, &to_vector), &normalize(vector_payload, &identity))?;
    expect_eq("issuer JWT header typ", &jwt_part(issued.jwt(), 0)?["typ"], &jwt_part(&jwt, 0)?["typ"])
}

/// Presents our own issuance of the vector's claims with the vector's holder selection,
/// verifies it (compact and, for the JSON cases, in the vector's JSON serialization) and
/// compares with the vector's processed payload.
fn generated_present(v: &Value) -> Outcome {
    let issuance = Issuance::from_vector(v)?;
    let issued = issuance.issue(&mut schooltas_credential::sd_jwt::RandomSalts)?;
    let holder_sd_jwt = HolderSdJwt::parse(&issued.to_string()).ctx("holder parse")?;
    let paths =
        selection_paths(field(v, "user_claims")?, field(v, "disclosure_frame")?, field(v, "holder_disclosed_claims")?);
    let kb = kb_of(v)?;
    let holder = private_key(field(v, "holder_private_jwk")?)?;
    let input = kb.map(|(nonce, aud)| KeyBindingInput { nonce: nonce.into(), audience: aud.into(), issued_at: NOW });
    let presentation =
        holder_sd_jwt.present(&paths, input.as_ref().map(|input| (&holder as &dyn Signer, input))).ctx("present")?;
    let expected = field(v, "expected_processed_payload")?;
    let key = issuance.signer.verifying_key();
    let claims = verify_claims(&presentation, key, kb, NOW).ctx("compact")?;
    expect_eq("processed payload (compact)", &claims, expected)?;
    match field(v, "serialization_format")?.as_str() {
        Some("compact") => Ok(()),
        Some("json") if v["issuer_private_jwks"].as_array().is_some_and(|k| k.len() > 1) => {
            let second = private_key(&v["issuer_private_jwks"][1])?;
            let json = general(&presentation, &["issuer-key-1", "issuer-key-2"], std::slice::from_ref(&second))?;
            for key in [key, second.verifying_key()] {
                let claims = verify_claims(&json, key, kb, NOW).ctx("general JSON")?;
                expect_eq("processed payload (general JSON)", &claims, expected)?;
            }
            Ok(())
        }
        Some("json") => {
            let claims = verify_claims(&flattened(&presentation)?, key, kb, NOW).ctx("flattened JSON")?;
            expect_eq("processed payload (flattened JSON)", &claims, expected)
        }
        other => Err(format!("unknown serialization_format {other:?}")),
    }
}

// ---- the walk -------------------------------------------------------------------------------

#[test]
fn rfc9901_vectors() {
    let mut report = Report::new("ietf-sd-jwt-rfc9901");

    for (name, v) in json_files("extracted") {
        match name.as_str() {
            "sec6_nested_payloads" => {
                let cases = [
                    (1, "address_only_flat"),
                    (2, "address_only_structured"),
                    (3, "address_only_structured_one_open"),
                    (4, "address_only_recursive"),
                ];
                for (index, generated) in cases {
                    report
                        .case(format!("extracted/{name}: block {index} (= generated/{generated}), re-signed"), || {
                            sec6_block(&v, index, generated)
                        });
                }
            }
            "sec8_json_serialization" => {
                let general_case = read("generated/json_serialization_general.json");
                let keys = general_case["issuer_public_jwks"].as_array().cloned().unwrap_or_default();
                report.case(format!("extracted/{name}: 8.2 flattened issuance"), || {
                    sec8_block(&v, 0, &v["issuer_public_jwk"])
                });
                report.case(format!("extracted/{name}: 8.2 flattened SD-JWT+KB"), || {
                    sec8_block(&v, 1, &v["issuer_public_jwk"])
                });
                for (i, key) in keys.iter().enumerate() {
                    report.case(format!("extracted/{name}: 8.3 general SD-JWT+KB, issuer-key-{}", i + 1), || {
                        sec8_block(&v, 2, key)
                    });
                }
            }
            _ => {
                report.case(format!("extracted/{name}: presentation"), || extracted_presentation(&v));
                if v.get("sd_jwt_issuance").is_some() {
                    report.case(format!("extracted/{name}: issuance"), || extracted_issuance(&v));
                }
            }
        }
    }

    for (name, v) in json_files("generated") {
        report.case(format!("generated/{name}: presentation"), || generated_presentation(&v));
        report.case(format!("generated/{name}: issuance"), || generated_issuance(&v));
        for (i, spec) in v.get("spec_strings").and_then(Value::as_array).cloned().unwrap_or_default().iter().enumerate()
        {
            let section = spec["section"].as_str().unwrap_or_default().to_owned();
            report.case(format!("generated/{name}: spec string {i} ({section})"), || spec_string(&v, spec));
        }
        report.case(format!("generated/{name}: issue with the vector's salts"), || generated_issue(&v));
        report.case(format!("generated/{name}: present our issuance"), || generated_present(&v));
    }

    report.finish(EXCEPTIONS);
}
