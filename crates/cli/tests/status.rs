//! `schooltas status …` and `verify --status-list`, through the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Dir, json};

const URI: &str = "https://school.example/status/enrolment/1";
const VCT: &str = "https://schooltas.example/credentials/enrolment";

/// A school, a status list, a credential at entry `idx`, and its presentation in `pres.txt`.
fn issued_at_entry(bits: &str, idx: &str) -> Dir {
    let dir = Dir::new("status");
    dir.key("school", "EdDSA");
    dir.key("child", "EdDSA");
    dir.ok(&["status", "new", "--bits", bits, "--size", "1000", "--out", "list.json"]);
    dir.write("claims.json", r#"{"given_name": "Sanne", "group": "7B"}"#);
    let issued = dir.ok(&[
        "issue",
        "--issuer-key",
        "school.jwk",
        "--claims",
        "claims.json",
        "--holder-jwk",
        "child.pub.jwk",
        "--vct",
        VCT,
        "--status-uri",
        URI,
        "--status-idx",
        idx,
    ]);
    dir.write("cred.txt", &issued);
    let presentation = dir.ok(&[
        "present",
        "--credential",
        "cred.txt",
        "--holder-key",
        "child.jwk",
        "--disclose",
        "group",
        "--nonce",
        "n",
        "--aud",
        "https://photo.example",
    ]);
    dir.write("pres.txt", &presentation);
    dir
}

fn publish(dir: &Dir) {
    let token =
        dir.ok(&["status", "token", "--list", "list.json", "--issuer-key", "school.jwk", "--uri", URI, "--ttl", "300"]);
    dir.write("status.jwt", &token);
}

const VERIFY: &[&str] = &[
    "verify",
    "--issuer-jwk",
    "school.pub.jwk",
    "--nonce",
    "n",
    "--aud",
    "https://photo.example",
    "--status-list",
    "status.jwt",
    "pres.txt",
];

#[test]
fn revoked_credential_fails_and_valid_one_passes() {
    let dir = issued_at_entry("1", "42");
    let (_, payload) = dir
        .read("cred.txt")
        .split_once('.')
        .map(|(h, rest)| (h.to_owned(), rest.split('.').next().unwrap().to_owned()))
        .unwrap();
    let payload = json(&String::from_utf8(schooltas_did::base64url::decode(payload).unwrap()).unwrap());
    assert_eq!(payload["status"], serde_json::json!({"status_list": {"idx": 42, "uri": URI}}));

    publish(&dir);
    let claims = json(&dir.ok(VERIFY));
    assert_eq!(claims["group"], "7B");

    dir.ok(&["status", "revoke", "--list", "list.json", "--idx", "42"]);
    // The old token still says VALID: the verifier sees what was published.
    dir.ok(VERIFY);
    publish(&dir);
    let stderr = dir.fails(VERIFY);
    assert!(stderr.contains("revoked"), "{stderr}");
    assert!(stderr.contains("42"), "{stderr}");

    // Without --status-list the status is not checked, and the command says so.
    let output = dir.run(&VERIFY[..7].iter().copied().chain(["pres.txt"]).collect::<Vec<_>>());
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("status not checked"));
}

#[test]
fn status_list_token_is_checked_for_signer_and_subject() {
    let dir = issued_at_entry("1", "7");
    publish(&dir);
    dir.key("other", "EdDSA");
    let mut args = VERIFY.to_vec();
    args.splice(args.len() - 1..args.len() - 1, ["--status-key", "other.pub.jwk"]);
    let stderr = dir.fails(&args);
    assert!(stderr.contains("signature"), "{stderr}");

    let token = dir.ok(&[
        "status",
        "token",
        "--list",
        "list.json",
        "--issuer-key",
        "school.jwk",
        "--uri",
        "https://school.example/status/other",
    ]);
    dir.write("status.jwt", &token);
    let stderr = dir.fails(VERIFY);
    assert!(stderr.contains("https://school.example/status/other"), "{stderr}");

    let past = (common::now() - 3_600).to_string();
    let token =
        dir.ok(&["status", "token", "--list", "list.json", "--issuer-key", "school.jwk", "--uri", URI, "--exp", &past]);
    dir.write("status.jwt", &token);
    let stderr = dir.fails(VERIFY);
    assert!(stderr.contains("expired"), "{stderr}");
}

#[test]
fn suspension_and_reinstatement() {
    let dir = issued_at_entry("2", "3");
    dir.ok(&["status", "suspend", "--list", "list.json", "--idx", "3"]);
    publish(&dir);
    let stderr = dir.fails(VERIFY);
    assert!(stderr.contains("suspended"), "{stderr}");

    dir.ok(&["status", "reinstate", "--list", "list.json", "--idx", "3"]);
    publish(&dir);
    dir.ok(VERIFY);

    // Revocation is permanent.
    dir.ok(&["status", "revoke", "--list", "list.json", "--idx", "3"]);
    let stderr = dir.fails(&["status", "reinstate", "--list", "list.json", "--idx", "3"]);
    assert!(stderr.contains("INVALID") && stderr.contains("list.json"), "{stderr}");
    let stderr = dir.fails(&["status", "suspend", "--list", "list.json", "--idx", "3"]);
    assert!(stderr.contains("INVALID"), "{stderr}");
}

#[test]
fn status_list_files_are_created_once_and_updated_atomically() {
    let dir = Dir::new("status-files");
    dir.ok(&["status", "new", "--bits", "1", "--size", "16", "--out", "list.json"]);
    let list = json(&dir.read("list.json"));
    assert_eq!(list["bits"], 1);
    assert!(list["lst"].is_string());

    let stderr = dir.fails(&["status", "new", "--bits", "1", "--size", "16", "--out", "list.json"]);
    assert!(stderr.contains("--force"), "{stderr}");

    dir.ok(&["status", "revoke", "--list", "list.json", "--idx", "15"]);
    assert_ne!(json(&dir.read("list.json")), list, "the entry change reached the file");
    assert_eq!(dir.entries(), ["list.json"], "no temporary file is left behind");

    let stderr = dir.fails(&["status", "revoke", "--list", "list.json", "--idx", "16"]);
    assert!(stderr.contains("list.json") && stderr.contains("16"), "{stderr}");
    let stderr = dir.fails(&["status", "suspend", "--list", "list.json", "--idx", "1"]);
    assert!(stderr.contains("1 bit"), "a 1-bit list cannot hold SUSPENDED: {stderr}");

    dir.write("broken.json", r#"{"bits": 1, "lst": "!!"}"#);
    let stderr = dir.fails(&["status", "revoke", "--list", "broken.json", "--idx", "0"]);
    assert!(stderr.contains("status list file broken.json"), "{stderr}");
    assert_eq!(dir.read("broken.json"), r#"{"bits": 1, "lst": "!!"}"#);
}

#[test]
fn status_list_without_a_reference_in_the_credential_fails() {
    let dir = Dir::new("status-noref");
    dir.key("school", "EdDSA");
    dir.ok(&["status", "new", "--bits", "1", "--size", "8", "--out", "list.json"]);
    dir.write("claims.json", r#"{"group": "7B"}"#);
    let issued = dir.ok(&["issue", "--issuer-key", "school.jwk", "--claims", "claims.json", "--vct", VCT]);
    dir.write("cred.txt", &issued);
    publish(&dir);
    let stderr =
        dir.fails(&["verify", "--issuer-jwk", "school.pub.jwk", "--no-kb", "--status-list", "status.jwt", "cred.txt"]);
    assert!(stderr.contains("status_list reference"), "{stderr}");
}
