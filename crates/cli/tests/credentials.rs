//! `schooltas issue`, `present` and `verify` through the built binary: the round trip, and
//! one refusal per verification rule the command exposes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Dir, json, now};
use schooltas_did::base64url;
use serde_json::Value;

const VCT: &str = "https://schooltas.example/credentials/enrolment";
const NONCE: &str = "n-81f2";
const AUD: &str = "https://photo.example";

const CLAIMS: &str = r#"{
  "sub": "leerling-17",
  "given_name": "Sanne",
  "family_name": "de Vries",
  "birth_date": "2014-03-01",
  "group": "7B",
  "address": {"street_address": "Oudegracht 1", "locality": "Utrecht"},
  "nationalities": ["NL", "DE"]
}"#;

/// A school key, a child key, the claims file, and an issued credential in `cred.txt`.
fn school_and_child(extra: &[&str]) -> Dir {
    let dir = Dir::new("cred");
    dir.key("school", "EdDSA");
    dir.key("child", "ES256");
    dir.write("claims.json", CLAIMS);
    let mut args =
        vec!["issue", "--issuer-key", "school.jwk", "--claims", "claims.json", "--holder-jwk", "child.pub.jwk"];
    args.extend_from_slice(&["--vct", VCT]);
    args.extend_from_slice(extra);
    let issued = dir.ok(&args);
    dir.write("cred.txt", &issued);
    dir
}

fn present(dir: &Dir, disclose: &[&str]) -> String {
    let mut args = vec!["present", "--credential", "cred.txt", "--holder-key", "child.jwk", "--nonce", NONCE];
    args.extend_from_slice(&["--aud", AUD]);
    for path in disclose {
        args.extend_from_slice(&["--disclose", path]);
    }
    let presentation = dir.ok(&args);
    dir.write("pres.txt", &presentation);
    presentation
}

fn verify_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["verify", "--issuer-jwk", "school.pub.jwk", "--nonce", NONCE, "--aud", AUD];
    args.extend_from_slice(extra);
    args
}

fn header_and_payload(compact: &str) -> (Value, Value) {
    let jwt = compact.trim().split('~').next().unwrap();
    let mut parts = jwt.split('.');
    let decode = |part: &str| json(&String::from_utf8(base64url::decode(part).unwrap()).unwrap());
    (decode(parts.next().unwrap()), decode(parts.next().unwrap()))
}

#[test]
fn round_trip_discloses_only_the_chosen_claims() {
    let dir = school_and_child(&[]);
    let issued = dir.read("cred.txt");
    let (header, payload) = header_and_payload(&issued);
    assert_eq!(header["typ"], "dc+sd-jwt");
    assert_eq!(payload["vct"], VCT);
    assert!(payload["iss"].as_str().unwrap().starts_with("did:key:z6Mk"), "iss defaults to the school's did:key");
    assert!((payload["iat"].as_i64().unwrap() - now()).abs() < 120, "iat is now");
    assert_eq!(payload["sub"], "leerling-17", "registered claims stay visible");
    assert_eq!(payload["cnf"]["jwk"]["crv"], "P-256");
    for hidden in ["given_name", "family_name", "birth_date", "group", "address", "nationalities"] {
        assert!(payload.get(hidden).is_none(), "{hidden} is in the clear in the issuer-signed JWT");
    }
    assert_eq!(payload["_sd"].as_array().unwrap().len(), 6);

    present(&dir, &["group", "given_name"]);
    let claims = json(&dir.ok(&verify_args(&["pres.txt"])));
    assert_eq!(claims["group"], "7B");
    assert_eq!(claims["given_name"], "Sanne");
    assert_eq!(claims["vct"], VCT);
    for absent in ["family_name", "birth_date", "address", "nationalities", "_sd", "_sd_alg"] {
        assert!(claims.get(absent).is_none(), "{absent} appears although it was not disclosed: {claims}");
    }

    // The same through standard input.
    let output = dir.run_with_stdin(&verify_args(&["-"]), &dir.read("pres.txt"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(json(&String::from_utf8(output.stdout).unwrap()), claims);
}

#[test]
fn issuer_key_is_resolved_from_the_did_key_issuer() {
    let dir = school_and_child(&[]);
    present(&dir, &["group"]);
    let claims = json(&dir.ok(&["verify", "--nonce", NONCE, "--aud", AUD, "pres.txt"]));
    assert_eq!(claims["group"], "7B");

    // A credential whose iss is not the did:key of its signing key does not verify that way.
    let issued = dir.ok(&[
        "issue",
        "--issuer-key",
        "school.jwk",
        "--claims",
        "claims.json",
        "--vct",
        VCT,
        "--iss",
        "https://school.example",
    ]);
    dir.write("other.txt", &issued);
    let stderr = dir.fails(&["verify", "--no-kb", "other.txt"]);
    assert!(stderr.contains("not a DID") && stderr.contains("--issuer-jwk"), "{stderr}");
}

#[test]
fn wrong_nonce_or_audience_fails() {
    let dir = school_and_child(&[]);
    present(&dir, &["group"]);
    let stderr = dir.fails(&["verify", "--issuer-jwk", "school.pub.jwk", "--nonce", "other", "--aud", AUD, "pres.txt"]);
    assert!(stderr.contains("nonce"), "{stderr}");
    let stderr = dir.fails(&[
        "verify",
        "--issuer-jwk",
        "school.pub.jwk",
        "--nonce",
        NONCE,
        "--aud",
        "https://evil.example",
        "pres.txt",
    ]);
    assert!(stderr.contains("aud"), "{stderr}");
}

#[test]
fn key_binding_is_required_unless_turned_off() {
    let dir = school_and_child(&[]);
    let presentation = dir.ok(&["present", "--credential", "cred.txt", "--no-kb", "--disclose", "group"]);
    assert!(presentation.trim_end().ends_with('~'), "no key-binding JWT");
    dir.write("nokb.txt", &presentation);
    let stderr = dir.fails(&verify_args(&["nokb.txt"]));
    assert!(stderr.contains("key binding required"), "{stderr}");
    let claims = json(&dir.ok(&["verify", "--issuer-jwk", "school.pub.jwk", "--no-kb", "nokb.txt"]));
    assert_eq!(claims["group"], "7B");
    assert!(claims.get("given_name").is_none());
}

#[test]
fn presentation_signed_by_another_holder_key_fails() {
    let dir = school_and_child(&[]);
    dir.key("stranger", "ES256");
    let presentation = dir.ok(&[
        "present",
        "--credential",
        "cred.txt",
        "--holder-key",
        "stranger.jwk",
        "--nonce",
        NONCE,
        "--aud",
        AUD,
    ]);
    dir.write("pres.txt", &presentation);
    let stderr = dir.fails(&verify_args(&["pres.txt"]));
    assert!(stderr.contains("verification failed"), "{stderr}");
}

#[test]
fn tampered_credential_fails() {
    let dir = school_and_child(&[]);
    let presentation = present(&dir, &["group"]);
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let (header, payload) = header_and_payload(jwt);
    let mut payload = payload;
    payload["sub"] = Value::from("leerling-18");
    let encode = |v: &Value| base64url::encode(v.to_string());
    let signature = jwt.rsplit('.').next().unwrap();
    let forged = format!("{}.{}.{signature}~{rest}", encode(&header), encode(&payload));
    dir.write("forged.txt", &forged);
    let stderr = dir.fails(&verify_args(&["forged.txt"]));
    assert!(stderr.contains("signature"), "{stderr}");

    // An extra disclosure smuggled in (one the holder did not present, from the issuance) breaks sd_hash.
    let issued = dir.read("cred.txt");
    let extra = issued.trim().trim_end_matches('~').rsplit('~').next().unwrap();
    let (before_kb, kb) = presentation.trim().rsplit_once('~').unwrap();
    dir.write("extra.txt", &format!("{before_kb}~{extra}~{kb}"));
    let stderr = dir.fails(&verify_args(&["extra.txt"]));
    assert!(stderr.contains("sd_hash"), "{stderr}");
}

#[test]
fn wrong_issuer_key_fails() {
    let dir = school_and_child(&[]);
    dir.key("other-school", "EdDSA");
    present(&dir, &["group"]);
    let stderr =
        dir.fails(&["verify", "--issuer-jwk", "other-school.pub.jwk", "--nonce", NONCE, "--aud", AUD, "pres.txt"]);
    assert!(stderr.contains("signature"), "{stderr}");
    // A key of another algorithm is refused too.
    let stderr = dir.fails(&["verify", "--issuer-jwk", "child.pub.jwk", "--nonce", NONCE, "--aud", AUD, "pres.txt"]);
    assert!(stderr.contains("verification failed"), "{stderr}");
}

#[test]
fn expired_credential_fails() {
    let exp = now() + 3_600;
    let dir = school_and_child(&["--exp", &exp.to_string()]);
    let kb_iat = (exp + 1_000).to_string();
    let presentation = dir.ok(&[
        "present",
        "--credential",
        "cred.txt",
        "--holder-key",
        "child.jwk",
        "--nonce",
        NONCE,
        "--aud",
        AUD,
        "--iat",
        &kb_iat,
    ]);
    dir.write("pres.txt", &presentation);
    let stderr = dir.fails(&verify_args(&["--now", &kb_iat, "pres.txt"]));
    assert!(stderr.contains("expired"), "{stderr}");
    // Before exp the same credential verifies.
    present(&dir, &[]);
    dir.ok(&verify_args(&["pres.txt"]));
}

#[test]
fn sd_paths_nest_and_index_arrays() {
    let dir = school_and_child(&["--sd", "address.locality", "--sd", "nationalities.1", "--sd", "given_name"]);
    let (_, payload) = header_and_payload(&dir.read("cred.txt"));
    assert_eq!(payload["address"]["street_address"], "Oudegracht 1", "only the locality is concealed");
    assert!(payload["address"].get("locality").is_none());
    assert_eq!(payload["address"]["_sd"].as_array().unwrap().len(), 1);
    assert_eq!(payload["nationalities"][0], "NL");
    assert!(payload["nationalities"][1]["..."].is_string(), "the second nationality is concealed");
    assert_eq!(payload["family_name"], "de Vries", "claims not named with --sd stay in the clear");

    present(&dir, &[]);
    let claims = json(&dir.ok(&verify_args(&["pres.txt"])));
    assert_eq!(claims["address"], serde_json::json!({"street_address": "Oudegracht 1"}));
    assert_eq!(claims["nationalities"], serde_json::json!(["NL"]));
    assert!(claims.get("given_name").is_none());

    present(&dir, &["address.locality", "nationalities.1"]);
    let claims = json(&dir.ok(&verify_args(&["pres.txt"])));
    assert_eq!(claims["address"]["locality"], "Utrecht");
    assert_eq!(claims["nationalities"], serde_json::json!(["NL", "DE"]));
    assert!(claims.get("given_name").is_none());
}

#[test]
fn bad_inputs_name_the_file_and_the_problem() {
    let dir = Dir::new("bad-inputs");
    dir.key("school", "EdDSA");
    dir.write("list.json", "[1, 2]");
    let stderr = dir.fails(&["issue", "--issuer-key", "school.jwk", "--claims", "list.json", "--vct", VCT]);
    assert!(stderr.contains("claims file list.json: expected a JSON object"), "{stderr}");

    dir.write("claims.json", r#"{"given_name": "Sanne"}"#);
    let stderr = dir.fails(&["issue", "--issuer-key", "school.jwk", "--claims", "claims.json"]);
    assert!(stderr.contains("--vct"), "{stderr}");
    let stderr = dir.fails(&[
        "issue",
        "--issuer-key",
        "school.jwk",
        "--claims",
        "claims.json",
        "--vct",
        VCT,
        "--sd",
        "address.locality",
    ]);
    assert!(stderr.contains("address"), "a --sd path naming no claim is refused: {stderr}");
    let stderr =
        dir.fails(&["issue", "--issuer-key", "school.jwk", "--claims", "claims.json", "--vct", VCT, "--sd", "vct"]);
    assert!(stderr.contains("registered"), "{stderr}");
    let stderr = dir.fails(&["issue", "--issuer-key", "missing.jwk", "--claims", "claims.json", "--vct", VCT]);
    assert!(stderr.contains("issuer key file missing.jwk"), "{stderr}");

    dir.write("garbage.txt", "not an sd-jwt");
    let stderr = dir.fails(&["verify", "--issuer-jwk", "school.pub.jwk", "--no-kb", "garbage.txt"]);
    assert!(stderr.contains("verification failed"), "{stderr}");
    let stderr = dir.fails(&["present", "--credential", "garbage.txt", "--no-kb"]);
    assert!(stderr.contains("credential garbage.txt"), "{stderr}");
}

#[test]
fn claim_values_never_reach_error_messages() {
    let dir = school_and_child(&[]);
    present(&dir, &["group", "given_name"]);
    for args in [
        verify_args(&["--now", "1", "pres.txt"]),
        vec!["verify", "--issuer-jwk", "school.pub.jwk", "--nonce", "x", "--aud", AUD, "pres.txt"],
    ] {
        let stderr = dir.fails(&args);
        for value in ["Sanne", "7B", "de Vries", "Utrecht", "2014-03-01"] {
            assert!(!stderr.contains(value), "{value} leaked into: {stderr}");
        }
    }
}
