//! The library part called directly, as an embedding program or a test would: typed errors,
//! results on one writer, warnings on the other.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use clap::Parser as _;
use common::Dir;
use schooltas_cli::{Cli, CliError, run};

fn call(dir: &Dir, args: &[&str]) -> (Result<(), CliError>, String, String) {
    let args: Vec<String> = std::iter::once("schooltas".to_owned())
        .chain(args.iter().map(|a| {
            // Relative file names are taken inside the test directory.
            let path = dir.path(a);
            if a.ends_with(".jwk") || a.ends_with(".json") || a.ends_with(".txt") || a.ends_with(".jwt") {
                path.to_string_lossy().into_owned()
            } else {
                (*a).to_owned()
            }
        }))
        .collect();
    let cli = Cli::try_parse_from(&args).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = run(&cli, &mut out, &mut err);
    (result, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

#[test]
fn verification_failures_are_typed_and_warnings_go_to_the_error_writer() {
    let dir = Dir::new("in-process");
    dir.key("school", "EdDSA");
    dir.key("child", "EdDSA");
    dir.write("claims.json", r#"{"group": "7B"}"#);
    let (result, issued, _) = call(
        &dir,
        &[
            "issue",
            "--issuer-key",
            "school.jwk",
            "--claims",
            "claims.json",
            "--holder-jwk",
            "child.pub.jwk",
            "--vct",
            "https://schooltas.example/enrolment",
            "--status-uri",
            "https://school.example/s/1",
            "--status-idx",
            "0",
        ],
    );
    result.unwrap();
    dir.write("cred.txt", &issued);
    let (result, presentation, _) = call(
        &dir,
        &[
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
            "a",
        ],
    );
    result.unwrap();
    dir.write("pres.txt", &presentation);

    let (result, out, err) =
        call(&dir, &["verify", "--issuer-jwk", "school.pub.jwk", "--nonce", "n", "--aud", "a", "pres.txt"]);
    result.unwrap();
    assert_eq!(common::json(&out)["group"], "7B");
    assert!(err.contains("status not checked"), "{err}");

    let (result, out, _) =
        call(&dir, &["verify", "--issuer-jwk", "school.pub.jwk", "--nonce", "m", "--aud", "a", "pres.txt"]);
    let error = result.unwrap_err();
    assert!(out.is_empty());
    assert_eq!(error.exit_code(), 1);
    assert!(
        matches!(error, CliError::Verification(schooltas_school::Error::SdJwt(schooltas_sd_jwt::Error::NonceMismatch))),
        "{error:?}"
    );
}

#[test]
fn missing_key_binding_arguments_never_mean_no_key_binding() {
    let dir = Dir::new("in-process-kb");
    dir.write("pres.txt", "x~");
    // Built without clap's checks, as an embedding program might.
    let args = schooltas_cli::VerifyArgs {
        issuer_jwk: None,
        nonce: Some("n".into()),
        aud: None,
        no_kb: false,
        now: None,
        typ: None,
        status_list: None,
        status_key: None,
        trust_list: None,
        trust_operator: None,
        input: Some(dir.path("pres.txt")),
    };
    let cli = Cli { command: schooltas_cli::Command::Verify(args) };
    let error = run(&cli, &mut Vec::new(), &mut Vec::new()).unwrap_err();
    assert!(matches!(error, CliError::MissingKeyBinding { .. }), "{error:?}");
}
