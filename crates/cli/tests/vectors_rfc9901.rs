//! Interoperability: `schooltas verify` on the RFC 9901 examples in
//! `test-vectors/ietf-sd-jwt-rfc9901/extracted/` (presentations made by the RFC's authors,
//! signed with the RFC's example issuer key), with each example's own nonce, audience and time.
//!
//! Every example with a compact presentation is run; each must print exactly the RFC's
//! processed payload. The SD-JWT VC example (A.3) runs as an SD-JWT VC; the others, whose `typ`
//! is `example+sd-jwt`, run with `--typ`. Then the must-fail variants of the SD-JWT VC example.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Dir, json, vectors_dir};
use serde_json::Value;

fn examples() -> Vec<(String, Value)> {
    let dir = vectors_dir().join("ietf-sd-jwt-rfc9901/extracted");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            (path.file_stem().unwrap().to_string_lossy().into_owned(), json(&std::fs::read_to_string(&path).unwrap()))
        })
        .filter(|(_, example)| example["presentation"].is_string())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The arguments that verify `example` as its authors intended, in `dir`.
fn verify_args(dir: &Dir, name: &str, example: &Value) -> Vec<String> {
    dir.write(&format!("{name}.issuer.jwk"), &example["issuer_public_jwk"].to_string());
    dir.write(&format!("{name}.txt"), example["presentation"].as_str().unwrap());
    let mut args: Vec<String> = vec!["verify".into(), "--issuer-jwk".into(), format!("{name}.issuer.jwk")];
    if example["presentation_has_kb"] == Value::Bool(true) {
        let kb = &example["kb_jwt_payload_from_jwt"];
        args.extend(["--nonce".into(), kb["nonce"].as_str().unwrap().into()]);
        args.extend(["--aud".into(), kb["aud"].as_str().unwrap().into()]);
        // The KB-JWT's own iat: inside the issuer JWT's validity (iat 1683000000, exp 1883000000).
        args.extend(["--now".into(), kb["iat"].to_string()]);
    } else {
        args.extend(["--no-kb".into(), "--now".into(), "1800000000".into()]);
    }
    let typ = example["issuer_jwt_header"]["typ"].as_str().unwrap();
    if typ != "dc+sd-jwt" {
        args.extend(["--typ".into(), typ.into()]);
    }
    args.push(format!("{name}.txt"));
    args
}

#[test]
fn every_rfc_example_verifies_to_the_rfc_processed_payload() {
    let dir = Dir::new("rfc9901");
    let mut failures = Vec::new();
    let mut ran = Vec::new();
    for (name, example) in examples() {
        let args = verify_args(&dir, &name, &example);
        let output = dir.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        ran.push(name.clone());
        if !output.status.success() {
            failures.push(format!("{name}: {}", String::from_utf8_lossy(&output.stderr)));
            continue;
        }
        let claims = json(&String::from_utf8(output.stdout).unwrap());
        if claims != example["expected_processed_payload"] {
            failures.push(format!("{name}: printed {claims}, the RFC says {}", example["expected_processed_payload"]));
        }
    }
    assert!(ran.contains(&"a3_sd_jwt_vc_pid".to_owned()), "the SD-JWT VC example was not found: {ran:?}");
    assert!(ran.len() >= 5, "too few examples found: {ran:?}");
    assert!(failures.is_empty(), "failing RFC 9901 examples:\n{}", failures.join("\n"));
}

fn sd_jwt_vc_example(dir: &Dir) -> Vec<String> {
    let (name, example) = examples().into_iter().find(|(name, _)| name == "a3_sd_jwt_vc_pid").unwrap();
    verify_args(dir, &name, &example)
}

fn with(args: &[String], name: &str, value: &str) -> Vec<String> {
    let mut args = args.to_vec();
    let at = args.iter().position(|a| a == name).unwrap();
    args[at + 1] = value.to_owned();
    args
}

#[test]
fn fail_rfc_sd_jwt_vc_example_with_another_nonce_audience_time_or_key() {
    let dir = Dir::new("rfc9901-fail");
    let args = sd_jwt_vc_example(&dir);
    let run = |args: Vec<String>| dir.fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run(with(&args, "--nonce", "1234567891")).contains("nonce"));
    assert!(run(with(&args, "--aud", "https://verifier.example.com")).contains("aud"));
    assert!(run(with(&args, "--now", "1883000100")).contains("expired"));
    // The holder's key is not the issuer's.
    dir.write("holder.jwk", r#"{"kty": "EC", "crv": "P-256", "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc", "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}"#);
    assert!(run(with(&args, "--issuer-jwk", "holder.jwk")).contains("signature"));
    // As a plain SD-JWT of another typ it is refused.
    let mut other_typ = args.clone();
    other_typ.splice(1..1, ["--typ".to_owned(), "example+sd-jwt".to_owned()]);
    assert!(run(other_typ).contains("typ"));
}
