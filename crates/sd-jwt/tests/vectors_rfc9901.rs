//! RFC 9901 acceptance vectors (`test-vectors/ietf-sd-jwt-rfc9901/`): the RFC's own examples
//! (`extracted/`) and the complete cases generated from the RFC's example inputs with
//! sd-jwt-python (`generated/`).
//!
//! One `#[test]` walks every case and reports every failing case by name at the end; cases
//! that are known not to pass are listed in [`EXCEPTIONS`] with a reason, and an excepted case
//! that starts passing fails the test too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{
    Ctx, Outcome, Report, clock_for, decode_json, expect_eq, expect_spec_claims, field, flattened, frame_paths,
    full_claims, issuer_keys, json_files, jws_parts, jwt_part, keys_for, presentation_text, public_key, read,
    selection_paths, show, spec_strings, split, text, typ_of, unprotected, verify,
};
use schooltas_did::jws::{self, Header};
use schooltas_did::{Signer, SigningKey, VerifyingKey, base64url};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{
    FixedSalts, HolderSdJwt, IssuedSdJwt, KeyBindingInput, PathElement, SaltSource, SdJwtBuilder, TypPolicy,
};
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

// ---- tokens ---------------------------------------------------------------------------------

fn private_key(jwk: &Value) -> Outcome<SigningKey> {
    SigningKey::from_jwk(jwk.as_object().ctx("private JWK")?).ctx("private JWK")
}

/// Verifies with `typ` exactly as in the header (and, for `dc+sd-jwt`, also as an SD-JWT VC),
/// returning the processed payload.
fn verify_claims(text: &str, key: &VerifyingKey, kb: Option<(&str, &str)>, now: i64) -> Outcome<Value> {
    let typ = typ_of(text)?;
    let verified = verify(text, key, TypPolicy::Exact(typ.clone()), kb, now)?;
    let claims = Value::Object(verified.claims().clone());
    if typ == "dc+sd-jwt" {
        let vc = verify(text, key, TypPolicy::SdJwtVc, kb, now).ctx("as SD-JWT VC")?;
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

// ---- JSON serialization from our compact presentations --------------------------------------

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
    let now = clock_for(presentation, Some(NOW))?;
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
    let claims = verify_claims(text, &key, None, clock_for(text, Some(NOW))?)?;
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
    let case = read(&format!("{DIR}/generated/{generated}.json"));
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
    let claims = verify_claims(&sd_jwt, signer.verifying_key(), None, clock_for(&sd_jwt, Some(NOW))?)?;
    expect_eq("processed payload", &claims, &with_registered(input, payload)?)
}

/// §8: flattened issuance, flattened SD-JWT+KB and general SD-JWT+KB (each signature's key).
fn sec8_block(v: &Value, index: usize, key: &Value) -> Outcome {
    let blocks = field(v, "blocks")?.as_array().ctx("blocks")?;
    let presentation = presentation_text(field(blocks.get(index).ctx("block")?, "value")?)?;
    let flattened_case = read(&format!("{DIR}/generated/json_serialization_flattened.json"));
    let key = public_key(key)?;
    let (jwt, _, kb) = split(&presentation)?;
    let now = clock_for(&presentation, Some(NOW))?;
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

fn generated_presentation(v: &Value) -> Outcome {
    let text = presentation_text(field(v, "generated_sd_jwt_presentation")?)?;
    // sd-jwt-python's default typ unless the vector sets one.
    let typ = field(v, "extra_header_parameters")?.get("typ").cloned().unwrap_or(json!("example+sd-jwt"));
    expect_eq("typ", &json!(typ_of(&text)?), &typ)?;
    let now = clock_for(&text, Some(NOW))?;
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
        let claims = verify_claims(&text, &key, None, clock_for(&text, Some(NOW))?)?;
        expect_eq("processed issuance", &claims, &full_claims(v)?)?;
    }
    Ok(())
}

/// The RFC's own strings for the same payload: an issuance must give all claims, a
/// presentation part of them.
fn spec_string(v: &Value, spec: &Value) -> Outcome {
    let text = text(spec, "value")?;
    let (_, _, kb) = split(text)?;
    let kb = if kb.is_some() { Some(kb_of(v)?.ctx("kb_nonce/kb_aud")?) } else { None };
    let key = issuer_keys(v)?.into_iter().next().ctx("issuer key")?;
    let claims = verify_claims(text, &key, kb, clock_for(text, Some(NOW))?)?;
    expect_spec_claims(v, text, &claims)
}

/// Hands out `salt-0`, `salt-1`, … so the order in which the builder asks for salts shows.
struct CountingSalts(usize);

impl SaltSource for CountingSalts {
    fn next_salt(&mut self) -> schooltas_sd_jwt::Result<String> {
        self.0 += 1;
        Ok(format!("salt-{}", self.0 - 1))
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
    let issued = issuance.issue(&mut schooltas_sd_jwt::RandomSalts)?;
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

    for (name, v) in json_files(&format!("{DIR}/extracted")) {
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
                let general_case = read(&format!("{DIR}/generated/json_serialization_general.json"));
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

    for (name, v) in json_files(&format!("{DIR}/generated")) {
        report.case(format!("generated/{name}: presentation"), || generated_presentation(&v));
        report.case(format!("generated/{name}: issuance"), || generated_issuance(&v));
        for (i, section, spec) in spec_strings(&v) {
            report.case(format!("generated/{name}: spec string {i} ({section})"), || spec_string(&v, &spec));
        }
        report.case(format!("generated/{name}: issue with the vector's salts"), || generated_issue(&v));
        report.case(format!("generated/{name}: present our issuance"), || generated_present(&v));
    }

    report.finish(EXCEPTIONS);
}
