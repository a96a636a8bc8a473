//! `schooltas key …` and `schooltas did resolve`, through the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Dir, json, vectors_dir};

#[test]
fn key_new_writes_a_private_jwk_and_prints_only_the_public_half() {
    for (alg, crv, did_prefix) in [("EdDSA", "Ed25519", "did:key:z6Mk"), ("ES256", "P-256", "did:key:zDn")] {
        let dir = Dir::new("key-new");
        let out = dir.ok(&["key", "new", "--alg", alg, "--out", "k.jwk"]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        let public = json(lines[0]);
        assert_eq!(public["crv"], crv);
        assert!(public.get("d").is_none(), "the private key was printed: {out}");
        assert!(lines[1].starts_with(did_prefix), "{}", lines[1]);

        let private = json(&dir.read("k.jwk"));
        assert_eq!(private["crv"], crv);
        assert!(private["d"].is_string());
        assert_eq!(private["x"], public["x"]);

        // The same key read back gives the same public JWK and did:key.
        assert_eq!(dir.ok(&["key", "public", "--key", "k.jwk"]), out);
    }
}

#[cfg(unix)]
#[test]
fn key_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = Dir::new("key-mode");
    for alg in ["EdDSA", "ES256"] {
        let name = format!("{alg}.jwk");
        dir.ok(&["key", "new", "--alg", alg, "--out", &name]);
        let mode = std::fs::metadata(dir.path(&name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{alg}: mode {mode:o}");
        // Replaced with --force: still 0600.
        dir.ok(&["key", "new", "--alg", alg, "--out", &name, "--force"]);
        let mode = std::fs::metadata(dir.path(&name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{alg} after --force: mode {mode:o}");
    }
}

#[test]
fn key_new_refuses_to_overwrite_without_force() {
    let dir = Dir::new("key-overwrite");
    dir.write("k.jwk", "precious");
    let stderr = dir.fails(&["key", "new", "--alg", "EdDSA", "--out", "k.jwk"]);
    assert!(stderr.contains("k.jwk") && stderr.contains("--force"), "{stderr}");
    assert_eq!(dir.read("k.jwk"), "precious");

    dir.ok(&["key", "new", "--alg", "EdDSA", "--out", "k.jwk", "--force"]);
    assert_eq!(json(&dir.read("k.jwk"))["crv"], "Ed25519");
    assert_eq!(dir.entries(), ["k.jwk"], "no temporary file is left behind");
}

#[test]
fn usage_errors_exit_with_2() {
    let dir = Dir::new("usage");
    for args in [
        &["key", "new", "--alg", "RS256", "--out", "k.jwk"][..],
        &["key", "new", "--alg", "EdDSA"],
        &["verify", "--issuer-jwk", "x.jwk", "p.txt"],
        &["verify", "--no-kb", "--nonce", "n", "p.txt"],
        &["present", "--credential", "c.txt", "--no-kb", "--holder-key", "k.jwk"],
        &["issue", "--issuer-key", "k.jwk", "--claims", "c.json", "--status-idx", "3"],
        &["status", "new", "--bits", "3", "--size", "8", "--out", "s.json"],
        &["wallet"],
    ] {
        let output = dir.run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    assert!(!dir.exists("k.jwk"));
}

#[test]
fn key_files_are_checked_for_what_they_hold() {
    let dir = Dir::new("key-files");
    dir.key("school", "EdDSA");
    dir.write("p.txt", "x~");
    // A private key where a public one belongs is refused, naming the file.
    let stderr = dir.fails(&["verify", "--issuer-jwk", "school.jwk", "--no-kb", "p.txt"]);
    assert!(stderr.contains("school.jwk") && stderr.contains("private key"), "{stderr}");
    // A public key where a private one belongs.
    let stderr = dir.fails(&["key", "public", "--key", "school.pub.jwk"]);
    assert!(stderr.contains("school.pub.jwk"), "{stderr}");
    // A missing file.
    let stderr = dir.fails(&["key", "public", "--key", "nope.jwk"]);
    assert!(stderr.contains("nope.jwk"), "{stderr}");
}

#[test]
fn did_resolve_did_key_gives_its_document() {
    let dir = Dir::new("did-key");
    let did = dir.key("school", "EdDSA");
    let doc = json(&dir.ok(&["did", "resolve", &did]));
    assert_eq!(doc["id"], did.as_str());
    let fragment = did.strip_prefix("did:key:").unwrap();
    let vm_id = format!("{did}#{fragment}");
    assert_eq!(doc["verificationMethod"][0]["id"], vm_id.as_str());
    assert_eq!(doc["assertionMethod"][0], vm_id.as_str());
    assert_eq!(doc["keyAgreement"].as_array().unwrap().len(), 1, "Ed25519 did:key lists its X25519 key");
}

#[test]
fn did_resolve_did_jwk_matches_the_spec_example() {
    let examples = json(&std::fs::read_to_string(vectors_dir().join("did-jwk/examples.json")).unwrap());
    let dir = Dir::new("did-jwk");
    let mut checked = 0;
    for example in examples["examples"].as_array().unwrap() {
        let did = example["did"].as_str().unwrap();
        let doc = json(&dir.ok(&["did", "resolve", did]));
        assert_eq!(doc["id"], did);
        assert_eq!(doc["verificationMethod"][0]["id"], format!("{did}#0").as_str());
        assert_eq!(doc["verificationMethod"][0]["publicKeyJwk"], example["decoded_jwk"], "{}", example["name"]);
        checked += 1;
    }
    assert!(checked >= 2, "the did:jwk examples were not found");
}

#[test]
fn did_resolve_refuses_what_is_not_a_did() {
    let dir = Dir::new("did-bad");
    for bad in ["did:key:", "https://school.example", "did:example:123"] {
        let stderr = dir.fails(&["did", "resolve", bad]);
        assert!(stderr.starts_with("schooltas: "), "{stderr}");
    }
}
