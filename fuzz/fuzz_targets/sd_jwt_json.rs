//! SD-JWT in the JWS JSON serialization (RFC 9901 §8; RFC 7515 §7.2), flattened and general,
//! with and without key binding: strict JSON (duplicate members at any depth), the
//! protected/unprotected split, `disclosures` and `kb_jwt` placement, several signatures, the
//! `sd_hash` over the first signature's compact form.
//!
//! Modes (first byte):
//! - `0 mod 3`: the rest is the JSON as received, verified against the fixed issuer key with
//!   and without key binding.
//! - `1 mod 3` / `2 mod 3`: fields 0–4 build and sign an SD-JWT as in `sd_jwt_compact` (with /
//!   without KB-JWT); field 5 is a JSON template in which `"$PROTECTED"`, `"$PAYLOAD"`,
//!   `"$SIGNATURE"`, `"$KB"` (strings) and `"$DISCLOSURES"` (an array) are replaced by the
//!   signed parts. An empty template means the flattened form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_fuzz::{KB_AUDIENCE, KB_NONCE, NOW, assemble_sd_jwt, field, issuer_key, split};
use schooltas_sd_jwt::{
    JsonSdJwt, KeyBinding, KeyBindingPolicy, Limits, TypPolicy, VerifyOptions, parse_json_serialization,
};
use serde_json::Value;

const FLATTENED: &str = r#"{"protected":"$PROTECTED","payload":"$PAYLOAD","signature":"$SIGNATURE","header":{"disclosures":"$DISCLOSURES","kb_jwt":"$KB"}}"#;

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    match mode % 3 {
        0 => {
            let Ok(text) = std::str::from_utf8(data.get(1..).unwrap_or_default()) else { return };
            check(text, mode);
        }
        with_kb => {
            let compact = assemble_sd_jwt(&fields, with_kb == 1);
            let mut parts = compact.split('~');
            let jwt = parts.next().unwrap_or_default();
            let mut rest: Vec<&str> = parts.collect();
            let kb = rest.pop().unwrap_or_default();
            let mut jws = jwt.split('.');
            let (protected, payload, signature) =
                (jws.next().unwrap_or_default(), jws.next().unwrap_or_default(), jws.next().unwrap_or_default());
            let template = match field(&fields, 5) {
                "" => FLATTENED,
                t => t,
            };
            let string = |s: &str| Value::from(s).to_string();
            let json = template
                .replace("\"$PROTECTED\"", &string(protected))
                .replace("\"$PAYLOAD\"", &string(payload))
                .replace("\"$SIGNATURE\"", &string(signature))
                .replace("\"$KB\"", &string(kb))
                .replace("\"$DISCLOSURES\"", &Value::from(rest).to_string());
            check(&json, mode);
        }
    }
});

fn check(text: &str, mode: u8) {
    let limits =
        if mode & 0x80 != 0 { Limits { max_len: 4096, max_disclosures: 4, max_depth: 3 } } else { Limits::default() };
    let _ = parse_json_serialization(text);
    let Ok(parsed) = JsonSdJwt::parse_with_limits(text, &limits) else { return };
    let _ = (parsed.signature_count(), parsed.has_key_binding(), parsed.compact().len());
    let _ = parsed.protected_headers().count() + parsed.unprotected_headers().count();
    let required = VerifyOptions { limits, ..VerifyOptions::sd_jwt_vc(KeyBinding::new(KB_NONCE, KB_AUDIENCE)) };
    let as_issued = VerifyOptions { limits, ..VerifyOptions::sd_jwt_vc_as_issued() };
    let plain = VerifyOptions {
        typ: TypPolicy::DangerousAny,
        key_binding: KeyBindingPolicy::NotRequired,
        clock_skew: 60,
        limits,
    };
    for options in [required, as_issued, plain] {
        if let Ok(verified) = parsed.verify(issuer_key(), &options, NOW) {
            if matches!(options.key_binding, KeyBindingPolicy::Required(_)) {
                assert!(verified.key_binding().is_some(), "verified without the required key binding");
            }
        }
    }
}
