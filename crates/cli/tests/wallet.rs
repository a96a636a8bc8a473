//! `schooltas trust-list`, `wallet`, `request` and `verify --trust-list` through the built
//! binary, in a temporary directory: prompts, refusals, the verifier's verdict on a refusal,
//! and the whole photo-consent flow with files and then through the school's guardian relay
//! (credentials from `schooltas issue` stored with
//! `wallet add`; receiving over OpenID4VCI from the school's service is
//! `tests/receive_over_https.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Output};

use common::{BIN, Dir, json};
use schooltas_school::catalog::Catalog;
use serde_json::{Value, json as j};

const PASSPHRASE: &str = "correct horse battery staple";
/// 15 January 2027: the tests' clock.
const NOW: i64 = 1_800_000_000;
const NOW_S: &str = "1800000000";
const RESPONSE_URI: &str = "https://delinde.example/oid4vp/response";

fn enrolment_vct() -> String {
    Catalog::standard().get("pupil_enrolment").unwrap().vct().as_str().to_owned()
}

/// Runs `schooltas ARGS` in `dir` with `passphrase` (or none) in `SCHOOLTAS_PASSPHRASE`.
fn run(dir: &Dir, args: &[&str], passphrase: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir.path(""));
    match passphrase {
        Some(p) => command.env("SCHOOLTAS_PASSPHRASE", p),
        None => command.env_remove("SCHOOLTAS_PASSPHRASE"),
    };
    command.output().unwrap()
}

fn ok(dir: &Dir, args: &[&str]) -> String {
    let output = run(dir, args, Some(PASSPHRASE));
    assert!(output.status.success(), "schooltas {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Expects exit status 1 and nothing on standard output; returns standard error.
fn fails(dir: &Dir, args: &[&str], passphrase: Option<&str>) -> String {
    let output = run(dir, args, passphrase);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "schooltas {args:?}: expected exit 1, stderr: {stderr}");
    assert!(output.stdout.is_empty(), "printed on failure: {}", String::from_utf8_lossy(&output.stdout));
    stderr
}

/// [`run`] with the relay's test CA trusted and loopback allowed, as a demo on one machine.
fn run_net(dir: &Dir, args: &[&str]) -> Output {
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/tls/ca.pem");
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir.path(""))
        .env("SCHOOLTAS_PASSPHRASE", PASSPHRASE)
        .env("SCHOOLTAS_CA_FILE", ca)
        .env("SCHOOLTAS_DANGEROUS_ALLOW_PRIVATE_ADDRESSES", "1");
    command.output().unwrap()
}

fn ok_net(dir: &Dir, args: &[&str]) -> String {
    let output = run_net(dir, args);
    assert!(output.status.success(), "schooltas {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The school's guardian relay over TLS on 127.0.0.1 (the test CA's `localhost` certificate).
struct Relay {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    fn start() -> Relay {
        let tls_file =
            |name: &str| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/tls").join(name);
        let tls =
            schooltas_server::TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key"))
                .unwrap();
        let relay = schooltas_server::GuardianRelay::new(schooltas_server::RelayConfig::default()).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                relay.serve_tls_until(listener, tls, async move { drop(stopped.await) }).await.unwrap();
            });
        });
        Relay { port, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

#[cfg(unix)]
fn mode(dir: &Dir, name: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir.path(name)).unwrap().permissions().mode() & 0o777
}

fn init_child(dir: &Dir, name: &str) -> String {
    let out = ok(
        dir,
        &[
            "wallet",
            "init",
            "--wallet",
            name,
            "--child",
            "--birth-date",
            "2014-09-01",
            "--now",
            NOW_S,
            "--kdf-insecure-for-tests",
        ],
    );
    out.trim().to_owned()
}

/// An operator, a school (did:key issuer) and a verifier desk; the trust list accredits the
/// school for enrolment and registers the desk for the newsletter (given_name, group and the child link `sub`,
/// which a consent purpose must register).
/// Writes `list.json`, `list.jwt`; returns the operator's DID.
fn trust_setup(dir: &Dir) -> String {
    let operator = dir.key("operator", "EdDSA");
    let school = dir.key("school", "EdDSA");
    let desk = dir.key("desk", "EdDSA");
    let list = j!({
        "issuers": [{"did": school, "name": "Basisschool De Linde", "brin": "12AB", "credential_types": [enrolment_vct()]}],
        "verifiers": [{"did": desk, "name": "De Linde — nieuwsbrief", "purposes": [{
            "code": "newsletter",
            "text": {"nl": "Foto's in de nieuwsbrief", "en": "Photos in the newsletter"},
            "legal_basis": "consent",
            "max_retention_days": 365,
            "credentials": [{"vct": enrolment_vct(), "claims": [["given_name"], ["group"], ["sub"]]}]
        }]}]
    });
    dir.write("list.json", &list.to_string());
    let iat = (NOW - 86_400).to_string();
    let exp = (NOW + 30 * 86_400).to_string();
    let jwt = ok(
        dir,
        &["trust-list", "sign", "--operator-key", "operator.jwk", "--list", "list.json", "--iat", &iat, "--exp", &exp],
    );
    dir.write("list.jwt", &jwt);
    operator
}

fn query(claims: &[&str]) -> Value {
    let claims: Vec<Value> = claims.iter().map(|c| j!({"path": [c]})).collect();
    j!({"credentials": [{"id": "enrolment", "format": "dc+sd-jwt", "meta": {"vct_values": [enrolment_vct()]}, "claims": claims}]})
}

fn request_new<'a>(operator: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "request",
        "new",
        "--verifier-key",
        "desk.jwk",
        "--trust-list",
        "list.jwt",
        "--trust-operator",
        operator,
        "--purpose",
        "newsletter",
        "--response-uri",
        RESPONSE_URI,
        "--query",
        "query.json",
        "--now",
        NOW_S,
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn init_creates_private_wallets_and_prints_the_owner_did() {
    let dir = Dir::new("wallet-init");
    let child = init_child(&dir, "child.wallet");
    assert!(child.starts_with("did:key:z6Mk"), "{child}");
    let parent = ok(&dir, &["wallet", "init", "--wallet", "parent.wallet", "--parent", "--kdf-insecure-for-tests"]);
    assert!(parent.trim().starts_with("did:key:z6Mk") && parent.trim() != child, "{parent}");
    #[cfg(unix)]
    {
        assert_eq!(mode(&dir, "child.wallet"), 0o600);
        assert_eq!(mode(&dir, "parent.wallet"), 0o600);
    }
    // Never over an existing file.
    let stderr = fails(&dir, &["wallet", "init", "--wallet", "child.wallet", "--parent"], Some(PASSPHRASE));
    assert!(stderr.contains("already exists"), "{stderr}");
    // A child needs a birth date; child and parent exclude each other (usage errors: 2).
    let usage = run(&dir, &["wallet", "init", "--wallet", "x.wallet", "--child"], Some(PASSPHRASE));
    assert_eq!(usage.status.code(), Some(2));
    let usage = run(
        &dir,
        &["wallet", "init", "--wallet", "x.wallet", "--child", "--parent", "--birth-date", "2014-09-01"],
        Some(PASSPHRASE),
    );
    assert_eq!(usage.status.code(), Some(2));
    // The passphrase is never a flag.
    let usage =
        run(&dir, &["wallet", "init", "--wallet", "x.wallet", "--parent", "--passphrase", "x"], Some(PASSPHRASE));
    assert_eq!(usage.status.code(), Some(2));
    let stderr = fails(&dir, &["wallet", "init", "--wallet", "x.wallet", "--parent"], None);
    assert!(stderr.contains("SCHOOLTAS_PASSPHRASE"), "{stderr}");
    let stderr = fails(
        &dir,
        &["wallet", "init", "--wallet", "x.wallet", "--child", "--birth-date", "2014-13-01"],
        Some(PASSPHRASE),
    );
    assert!(stderr.contains("--birth-date"), "{stderr}");
    assert!(!dir.exists("x.wallet"));
}

#[test]
fn wrong_or_missing_passphrase_is_refused_clearly() {
    let dir = Dir::new("wallet-pass");
    init_child(&dir, "child.wallet");
    let stderr = fails(&dir, &["wallet", "list", "--wallet", "child.wallet"], Some("wrong passphrase here"));
    assert!(stderr.contains("wrong passphrase"), "{stderr}");
    let stderr = fails(&dir, &["wallet", "log", "--wallet", "child.wallet"], None);
    assert!(stderr.contains("SCHOOLTAS_PASSPHRASE"), "{stderr}");
    let stderr = fails(&dir, &["wallet", "list", "--wallet", "missing.wallet"], Some(PASSPHRASE));
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn an_empty_wallet_lists_nothing_and_its_log_verifies() {
    let dir = Dir::new("wallet-empty");
    init_child(&dir, "child.wallet");
    assert_eq!(json(&ok(&dir, &["wallet", "list", "--wallet", "child.wallet"])), j!([]));
    assert_eq!(json(&ok(&dir, &["wallet", "consents", "--wallet", "child.wallet"])), j!([]));
    let log = json(&ok(&dir, &["wallet", "log", "--wallet", "child.wallet"]));
    assert!(log.is_array(), "{log}");
    let verified = ok(&dir, &["wallet", "log", "--wallet", "child.wallet", "--verify"]);
    assert!(verified.contains("verifies"), "{verified}");
    let stderr =
        fails(&dir, &["wallet", "withdraw", "--wallet", "child.wallet", "--consent", "nope"], Some(PASSPHRASE));
    assert!(stderr.contains("no consent nope"), "{stderr}");
}

#[test]
fn trust_list_sign_and_show_round_trip_and_tampering_is_refused() {
    let dir = Dir::new("trust-list");
    let operator = trust_setup(&dir);
    let jwt = dir.read("list.jwt");
    let header =
        json(&String::from_utf8(schooltas_did::base64url::decode(jwt.split('.').next().unwrap()).unwrap()).unwrap());
    assert_eq!(header["typ"], "schooltas-trust-list+jwt");

    let shown = json(&ok(&dir, &["trust-list", "show", "--operator", &operator, "--now", NOW_S, "list.jwt"]));
    assert_eq!(shown["iss"], operator.as_str(), "iss defaults to the operator's did:key");
    assert_eq!(shown["iat"], NOW - 86_400);
    assert_eq!(shown["issuers"][0]["brin"], "12AB");
    assert_eq!(shown["verifiers"][0]["purposes"][0]["code"], "newsletter");

    // The payload changed after signing: refused.
    let mut parts: Vec<String> = jwt.trim().split('.').map(str::to_owned).collect();
    let mut payload: Value = json(&String::from_utf8(schooltas_did::base64url::decode(&parts[1]).unwrap()).unwrap());
    payload["verifiers"][0]["purposes"][0]["max_retention_days"] = j!(36_500);
    parts[1] = schooltas_did::base64url::encode(payload.to_string());
    dir.write("tampered.jwt", &parts.join("."));
    let stderr = fails(&dir, &["trust-list", "show", "--operator", &operator, "--now", NOW_S, "tampered.jwt"], None);
    assert!(stderr.contains("tampered.jwt"), "{stderr}");

    // Another operator's list, an expired list: refused.
    let other = dir.key("other", "EdDSA");
    let stderr = fails(&dir, &["trust-list", "show", "--operator", &other, "--now", NOW_S, "list.jwt"], None);
    assert!(stderr.contains("not of the operator"), "{stderr}");
    let late = (NOW + 60 * 86_400).to_string();
    let stderr = fails(&dir, &["trust-list", "show", "--operator", &operator, "--now", &late, "list.jwt"], None);
    assert!(stderr.contains("expired"), "{stderr}");

    // Signing refuses a malformed list and a list without an expiry.
    dir.write(
        "bad.json",
        r#"{"issuers": [{"did": "did:web:x.example", "name": "", "credential_types": ["a"]}], "exp": 1900000000}"#,
    );
    let stderr = fails(&dir, &["trust-list", "sign", "--operator-key", "operator.jwk", "--list", "bad.json"], None);
    assert!(stderr.contains("empty name"), "{stderr}");
    dir.write("noexp.json", r#"{"issuers": []}"#);
    let stderr = fails(&dir, &["trust-list", "sign", "--operator-key", "operator.jwk", "--list", "noexp.json"], None);
    assert!(stderr.contains("--exp"), "{stderr}");
}

#[test]
fn verify_requires_an_accredited_issuer_in_the_trust_list() {
    let dir = Dir::new("verify-trust");
    let operator = trust_setup(&dir);
    let vct = enrolment_vct();
    dir.write("claims.json", r#"{"given_name": "Sanne", "group": "7B"}"#);
    let issued =
        ok(&dir, &["issue", "--issuer-key", "school.jwk", "--claims", "claims.json", "--vct", &vct, "--iat", NOW_S]);
    dir.write("cred.txt", &issued);
    let base = ["verify", "--no-kb", "--now", NOW_S, "--trust-list", "list.jwt", "--trust-operator"];
    let mut args = base.to_vec();
    args.extend_from_slice(&[operator.as_str(), "cred.txt"]);
    assert_eq!(json(&ok(&dir, &args))["group"], "7B");

    // Same issuer, a type it is not accredited for.
    let other = ok(
        &dir,
        &[
            "issue",
            "--issuer-key",
            "school.jwk",
            "--claims",
            "claims.json",
            "--vct",
            "https://other.example/vct",
            "--iat",
            NOW_S,
        ],
    );
    dir.write("other.txt", &other);
    *args.last_mut().unwrap() = "other.txt";
    let stderr = fails(&dir, &args, None);
    assert!(stderr.contains("not accredited"), "{stderr}");

    // An issuer not on the list at all.
    dir.key("stranger", "EdDSA");
    let stranger =
        ok(&dir, &["issue", "--issuer-key", "stranger.jwk", "--claims", "claims.json", "--vct", &vct, "--iat", NOW_S]);
    dir.write("stranger.txt", &stranger);
    *args.last_mut().unwrap() = "stranger.txt";
    let stderr = fails(&dir, &args, None);
    assert!(stderr.contains("not on the trust list"), "{stderr}");

    // A trust list needs its operator (usage error).
    let usage = run(&dir, &["verify", "--no-kb", "--trust-list", "list.jwt", "cred.txt"], None);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn request_new_refuses_over_asking_and_signs_a_registered_request() {
    let dir = Dir::new("request-new");
    let operator = trust_setup(&dir);
    dir.write("query.json", &query(&["given_name", "birth_date"]).to_string());
    let stderr = fails(&dir, &request_new(&operator, &["--out", "req.json"]), None);
    assert!(stderr.contains("exceeds the verifier's registration") && stderr.contains("birth_date"), "{stderr}");
    assert!(!dir.exists("req.json"));

    // An unregistered purpose is refused too.
    dir.write("query.json", &query(&["given_name", "group"]).to_string());
    let mut args = request_new(&operator, &[]);
    let purpose = args.iter().position(|a| *a == "newsletter").unwrap();
    args[purpose] = "marketing";
    let stderr = fails(&dir, &args, None);
    assert!(stderr.contains(r#"the purpose "marketing" is not registered for this verifier"#), "{stderr}");

    let uri = ok(&dir, &request_new(&operator, &["--out", "req.json", "--retention-days", "30"]));
    assert!(uri.starts_with("openid4vp://?"), "{uri}");
    let request = json(&dir.read("req.json"));
    assert_eq!(request["response_uri"], RESPONSE_URI);
    assert_eq!(request["schooltas"]["retention_days"], 30);
    let desk = ok(&dir, &["key", "public", "--key", "desk.jwk"]);
    let desk = desk.lines().nth(1).unwrap();
    assert_eq!(request["client_id"], format!("decentralized_identifier:{desk}"));
    #[cfg(unix)]
    assert_eq!(mode(&dir, "req.json"), 0o600);
}

#[test]
fn a_child_without_credentials_sees_the_prompt_and_a_refusal_is_not_accepted() {
    let dir = Dir::new("answer");
    let operator = trust_setup(&dir);
    init_child(&dir, "child.wallet");
    dir.write("query.json", &query(&["given_name", "group"]).to_string());
    let uri = ok(&dir, &request_new(&operator, &["--out", "req.json"]));
    dir.write("request.uri", uri.trim());

    // The prompt only: the request is checked, shown in English, and nothing is sent.
    let base = [
        "wallet",
        "answer",
        "--wallet",
        "child.wallet",
        "--trust-list",
        "list.jwt",
        "--now",
        NOW_S,
        "--request",
        "request.uri",
        "--trust-operator",
    ];
    let mut args = base.to_vec();
    args.extend_from_slice(&[operator.as_str(), "--lang", "en"]);
    let output = run(&dir, &args, Some(PASSPHRASE));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rendered = String::from_utf8(output.stderr).unwrap();
    assert!(
        rendered.contains("Request from De Linde — nieuwsbrief") && rendered.contains("not in the wallet"),
        "{rendered}"
    );
    let prompt = json(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(prompt["answerable"], false);
    assert_eq!(prompt["who_decides"], "child_and_parent");

    // Approving is impossible without the credential; a bad decision is refused before anything.
    let mut approve = args.clone();
    approve.extend_from_slice(&["--approve", "all"]);
    let stderr = fails(&dir, &approve, Some(PASSPHRASE));
    assert!(
        stderr.contains(
            "deciding failed: the selection cannot be sent: the wallet holds nothing that answers this request"
        ),
        "{stderr}"
    );
    let mut bad = args.clone();
    bad.extend_from_slice(&["--approve", "enrolment"]);
    let stderr = fails(&dir, &bad, Some(PASSPHRASE));
    assert!(stderr.contains("QUERY:PATH"), "{stderr}");

    // Saying no: a refusal to send, which the verifier does not accept.
    let mut deny = args.clone();
    deny.extend_from_slice(&["--approve", "none"]);
    let response = ok(&dir, &deny);
    let response_json = json(&response);
    assert_eq!(response_json["response_uri"], RESPONSE_URI);
    assert_eq!(response_json["discloses"], false);
    assert!(response_json["body"].as_str().unwrap().contains("access_denied"), "{response}");
    dir.write("response.json", &response);
    let verify = [
        "request",
        "verify",
        "--verifier-key",
        "desk.jwk",
        "--request-file",
        "req.json",
        "--response",
        "response.json",
        "--trust-list",
        "list.jwt",
        "--now",
        NOW_S,
        "--trust-operator",
        &operator,
    ];
    let stderr = fails(&dir, &verify, None);
    assert!(stderr.contains("refused") && stderr.contains("response"), "{stderr}");

    // A request from someone else's verifier key is not ours to verify.
    let mut wrong_key = verify.to_vec();
    wrong_key[3] = "school.jwk";
    let stderr = fails(&dir, &wrong_key, None);
    assert!(stderr.contains("not from this verifier"), "{stderr}");

    // The log holds the request and the refusal, and its chain verifies.
    let log = json(&ok(&dir, &["wallet", "log", "--wallet", "child.wallet"]));
    let types: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["event"]["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"request_received") && types.contains(&"decision"), "{types:?}");
    assert!(json(&ok(&dir, &["wallet", "consents", "--wallet", "child.wallet"])).as_array().unwrap().is_empty());
}

#[test]
fn an_unregistered_verifier_is_not_answered() {
    let dir = Dir::new("answer-unregistered");
    let operator = trust_setup(&dir);
    init_child(&dir, "child.wallet");
    // A second list from the same operator, without the desk: the desk's request is built
    // against the first list, the wallet reads the second.
    dir.write("query.json", &query(&["given_name"]).to_string());
    let uri = ok(&dir, &request_new(&operator, &[]));
    let mut list = json(&dir.read("list.json"));
    list["verifiers"] = j!([]);
    dir.write("empty.json", &list.to_string());
    let iat = (NOW - 86_400).to_string();
    let exp = (NOW + 86_400).to_string();
    let jwt = ok(
        &dir,
        &["trust-list", "sign", "--operator-key", "operator.jwk", "--list", "empty.json", "--iat", &iat, "--exp", &exp],
    );
    dir.write("empty.jwt", &jwt);
    let stderr = fails(
        &dir,
        &[
            "wallet",
            "answer",
            "--wallet",
            "child.wallet",
            "--trust-list",
            "empty.jwt",
            "--trust-operator",
            &operator,
            "--now",
            NOW_S,
            "--request",
            uri.trim(),
        ],
        Some(PASSPHRASE),
    );
    assert!(stderr.contains("not registered"), "{stderr}");
}

/// The photo-consent flow from the shell, with files only: a school issues with `schooltas
/// issue`, the family stores the credentials with `wallet add`, the desk asks with `request
/// new`, the child answers, the parent approves, the child completes, the desk verifies.
#[test]
fn the_photo_consent_flow_runs_from_the_shell_with_files() {
    let dir = Dir::new("wallet-flow");
    let operator = dir.key("operator", "EdDSA");
    let school = dir.key("school", "EdDSA");
    let desk = dir.key("desk", "EdDSA");
    let guardianship_vct = Catalog::standard().get("guardianship").unwrap().vct().as_str().to_owned();
    let list = j!({
        "issuers": [{"did": school, "name": "Basisschool De Linde", "brin": "12AB",
                     "credential_types": [enrolment_vct(), guardianship_vct]}],
        "verifiers": [{"did": desk, "name": "De Linde — nieuwsbrief", "purposes": [{
            "code": "newsletter", "text": {"nl": "Nieuwsbrief", "en": "Newsletter"},
            "legal_basis": "consent", "max_retention_days": 365,
            "credentials": [{"vct": enrolment_vct(), "claims": [["group"], ["sub"], ["age_over_16"]]}]
        }]}]
    });
    dir.write("list.json", &list.to_string());
    let (iat, exp) = ((NOW - 86_400).to_string(), (NOW + 30 * 86_400).to_string());
    let jwt = ok(
        &dir,
        &["trust-list", "sign", "--operator-key", "operator.jwk", "--list", "list.json", "--iat", &iat, "--exp", &exp],
    );
    dir.write("list.jwt", &jwt);
    let trust = ["--trust-list", "list.jwt", "--trust-operator", operator.as_str()];

    // The family's wallets and holder keys; the school issues to them.
    let child = init_child(&dir, "child.wallet");
    let parent = ok(&dir, &["wallet", "init", "--wallet", "parent.wallet", "--parent", "--kdf-insecure-for-tests"]);
    let parent = parent.trim();
    dir.key("child-holder", "EdDSA");
    dir.key("parent-holder", "EdDSA");
    dir.write(
        "enrolment.json",
        &j!({"vct": enrolment_vct(), "sub": child, "school_name": "Basisschool De Linde",
        "school_brin": "12AB", "school_location": "00", "school_year": "2026-2027", "group": "7B",
        "given_name": "Sanne", "family_name": "de Vries", "birth_date": "2014-09-01", "age_over_12": true,
        "age_over_16": false})
        .to_string(),
    );
    dir.write(
        "guardianship.json",
        &j!({"vct": Catalog::standard().get("guardianship").unwrap().vct().as_str(),
        "guardian_id": parent, "child_id": child, "relation": "parent", "valid_until": "2030-09-01"})
        .to_string(),
    );
    let enrolment = ok(
        &dir,
        &[
            "issue",
            "--issuer-key",
            "school.jwk",
            "--claims",
            "enrolment.json",
            "--holder-jwk",
            "child-holder.pub.jwk",
            "--iat",
            NOW_S,
        ],
    );
    dir.write("enrolment.sdjwt", &enrolment);
    // Guardianship claims are never selectively disclosable.
    let guardianship = ok(
        &dir,
        &[
            "issue",
            "--issuer-key",
            "school.jwk",
            "--claims",
            "guardianship.json",
            "--holder-jwk",
            "parent-holder.pub.jwk",
            "--sd",
            "relation",
            "--iat",
            NOW_S,
        ],
    );
    dir.write("guardianship.sdjwt", &guardianship);
    // A credential bound to another key is refused, and nothing is stored.
    let stderr = fails(
        &dir,
        &[
            "wallet",
            "add",
            "--wallet",
            "child.wallet",
            "--credential",
            "enrolment.sdjwt",
            "--holder-key",
            "parent-holder.jwk",
            "--now",
            NOW_S,
        ],
        Some(PASSPHRASE),
    );
    assert!(stderr.contains("the credential is not bound to this holder key"), "{stderr}");
    let added = json(&ok(
        &dir,
        &[
            "wallet",
            "add",
            "--wallet",
            "child.wallet",
            "--credential",
            "enrolment.sdjwt",
            "--holder-key",
            "child-holder.jwk",
            "--now",
            NOW_S,
        ],
    ));
    assert_eq!(added["name"], "Pupil enrolment");
    ok(
        &dir,
        &[
            "wallet",
            "add",
            "--wallet",
            "parent.wallet",
            "--credential",
            "guardianship.sdjwt",
            "--holder-key",
            "parent-holder.jwk",
            "--now",
            NOW_S,
        ],
    );
    assert_eq!(json(&ok(&dir, &["wallet", "list", "--wallet", "child.wallet"])).as_array().map(Vec::len), Some(1));

    // The desk asks; the child (12) assents; the parent approves; the child completes.
    dir.write("query.json", &query(&["group", "sub", "age_over_16"]).to_string());
    let uri = ok(&dir, &request_new(&operator, &["--out", "request.json"]));
    dir.write("request.uri", uri.trim());
    let mut answer = vec![
        "wallet",
        "answer",
        "--wallet",
        "child.wallet",
        "--request",
        "request.uri",
        "--approve",
        "all",
        "--to-parent",
        "to-parent.json",
        "--now",
        NOW_S,
    ];
    answer.extend_from_slice(&trust);
    ok(&dir, &answer);
    let mut approve = vec![
        "wallet",
        "approve-child",
        "--wallet",
        "parent.wallet",
        "--request",
        "to-parent.json",
        "--yes",
        "--now",
        NOW_S,
    ];
    approve.extend_from_slice(&trust);
    let answer_json = ok(&dir, &approve);
    dir.write("answer.json", &answer_json);
    let response =
        ok(&dir, &["wallet", "complete", "--wallet", "child.wallet", "--answer", "answer.json", "--now", NOW_S]);
    dir.write("response.json", &response);
    let mut verify = vec![
        "request",
        "verify",
        "--verifier-key",
        "desk.jwk",
        "--request-file",
        "request.json",
        "--response",
        "response.json",
        "--now",
        NOW_S,
    ];
    verify.extend_from_slice(&trust);
    let verdict = json(&ok(&dir, &verify));
    assert!(verdict.to_string().contains("7B"), "{verdict}");
    assert!(!verdict.to_string().contains("Sanne"), "the name was not asked: {verdict}");

    // Once more between two phones, through the school's relay (TLS on loopback): the child
    // hands over and prints the link, the parent approves from it, the child polls and completes.
    let relay = Relay::start();
    let relay_url = format!("https://localhost:{}/relay", relay.port);
    let uri = ok(&dir, &request_new(&operator, &["--out", "request-2.json"]));
    dir.write("request-2.uri", uri.trim());
    let mut answer = vec![
        "wallet",
        "answer",
        "--wallet",
        "child.wallet",
        "--request",
        "request-2.uri",
        "--approve",
        "all",
        "--send",
        "--relay",
        &relay_url,
        "--handover",
        "handover.json",
        "--now",
        NOW_S,
    ];
    answer.extend_from_slice(&trust);
    let link = ok_net(&dir, &answer).trim().to_owned();
    assert!(link.starts_with(&format!("{relay_url}/boxes/")) && link.contains("#k="), "{link}");
    #[cfg(unix)]
    assert_eq!(mode(&dir, "handover.json"), 0o600);
    let complete = ["wallet", "complete", "--wallet", "child.wallet", "--handover", "handover.json", "--now", NOW_S];
    // No answer yet: exit status 3, nothing on standard output.
    let pending = run_net(&dir, &complete);
    assert_eq!(pending.status.code(), Some(3), "{}", String::from_utf8_lossy(&pending.stderr));
    assert!(pending.stdout.is_empty());
    dir.write("link.txt", &link);
    let mut approve =
        vec!["wallet", "approve", "--wallet", "parent.wallet", "--link", "link.txt", "--yes", "--now", NOW_S];
    approve.extend_from_slice(&trust);
    assert_eq!(json(&ok_net(&dir, &approve)), j!({"sent": true, "approved": true}));
    // A second answer to the same box is refused by the relay.
    let again = run_net(&dir, &approve);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("409 slot_taken"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let response = ok_net(&dir, &complete);
    dir.write("response-2.json", &response);
    let mut verify = vec![
        "request",
        "verify",
        "--verifier-key",
        "desk.jwk",
        "--request-file",
        "request-2.json",
        "--response",
        "response-2.json",
        "--now",
        NOW_S,
    ];
    verify.extend_from_slice(&trust);
    assert!(json(&ok(&dir, &verify)).to_string().contains("7B"));
    drop(relay);

    // The parent can withdraw the consent; the withdrawal is a signed JWT.
    let consents = json(&ok(&dir, &["wallet", "consents", "--wallet", "parent.wallet"]));
    let id = consents[0]["id"].as_str().unwrap().to_owned();
    let withdrawal = ok(&dir, &["wallet", "withdraw", "--wallet", "parent.wallet", "--consent", &id, "--now", NOW_S]);
    assert_eq!(withdrawal.trim().split('.').count(), 3);
}
