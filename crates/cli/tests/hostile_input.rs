//! Hostile bytes given to the commands that verify: each is refused with exit status 1 and a
//! message, never a panic (exit status 101). Issue 12 item 12.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Dir;

/// 21 bytes: a compact JWS whose header is `{"alg":"mʔS"}`. Byte 2 of the `alg` value falls
/// inside the two-byte `ʔ`, which once made `Algorithm::from_jws_alg` panic on a slice.
const MULTIBYTE_ALG_JWS: &str = "eyJhbGciOiJtypRTIn0..";

/// The same header as an SD-JWT (issuer-signed JWT followed by `~`).
fn hostile_inputs() -> [String; 2] {
    [MULTIBYTE_ALG_JWS.to_owned(), format!("{MULTIBYTE_ALG_JWS}~")]
}

#[test]
fn the_hostile_header_is_twenty_one_bytes_naming_a_multibyte_alg() {
    assert_eq!(MULTIBYTE_ALG_JWS.len(), 21);
    let header = schooltas_did::base64url::decode(MULTIBYTE_ALG_JWS.split('.').next().unwrap()).unwrap();
    assert_eq!(header, "{\"alg\":\"mʔS\"}".as_bytes());
}

#[test]
fn verify_exits_1_on_a_multibyte_alg() {
    let dir = Dir::new("hostile-verify");
    dir.key("school", "EdDSA");
    for input in hostile_inputs() {
        dir.write("pres.txt", &input);
        let stderr = dir.fails(&["verify", "--issuer-jwk", "school.pub.jwk", "--no-kb", "pres.txt"]);
        assert!(!stderr.contains("panicked"), "{stderr}");
        // Without a key file, the issuer is resolved from the token: the header is read first.
        let stderr = dir.fails(&["verify", "--no-kb", "pres.txt"]);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn trust_list_show_exits_1_on_a_multibyte_alg() {
    let dir = Dir::new("hostile-trust-list");
    let operator = dir.key("operator", "EdDSA");
    dir.write("list.jwt", MULTIBYTE_ALG_JWS);
    let stderr = dir.fails(&["trust-list", "show", "--operator", &operator, "--now", "1800000000", "list.jwt"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn wallet_add_exits_1_on_a_multibyte_alg() {
    let dir = Dir::new("hostile-wallet-add");
    dir.key("holder", "EdDSA");
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(common::BIN);
        command.args(args).current_dir(dir.path("")).env("SCHOOLTAS_PASSPHRASE", "correct horse battery staple");
        command.output().unwrap()
    };
    let init = run(&[
        "wallet",
        "init",
        "--wallet",
        "child.wallet",
        "--child",
        "--birth-date",
        "2014-09-01",
        "--now",
        "1800000000",
        "--kdf-insecure-for-tests",
    ]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    for input in hostile_inputs() {
        dir.write("cred.sdjwt", &input);
        let output = run(&[
            "wallet",
            "add",
            "--wallet",
            "child.wallet",
            "--credential",
            "cred.sdjwt",
            "--holder-key",
            "holder.jwk",
            "--now",
            "1800000000",
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(output.stdout.is_empty() && !stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn verify_exits_1_on_a_credential_naming_a_claim_twice() {
    let dir = Dir::new("hostile-duplicate");
    dir.key("school", "EdDSA");
    let school = schooltas_did::SigningKey::from_jwk_json(&dir.read("school.jwk")).unwrap();
    for payload in [
        r#"{"iss":"did:web:a.example","vct":"https://schooltas.nl/credentials/pupil_enrolment/v1","iat":1,"group":"7","group":"8"}"#,
        r#"{"iss":"did:web:a.example","vct":"https://schooltas.nl/credentials/pupil_enrolment/v1","iat":18446744073709551616}"#,
    ] {
        let header = schooltas_did::jws::Header::new().with_typ("dc+sd-jwt");
        let jwt = schooltas_did::jws::sign_compact(&header, payload.as_bytes(), &school).unwrap();
        dir.write("cred.txt", &format!("{jwt}~"));
        let stderr = dir.fails(&["verify", "--issuer-jwk", "school.pub.jwk", "--no-kb", "cred.txt"]);
        assert!(stderr.contains("twice") || stderr.contains("64-bit"), "{stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("\"8\""), "{stderr}");
    }
}
