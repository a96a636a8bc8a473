//! `schooltas serve` end to end, as a school runs it: a config in a temp dir, `serve init`,
//! a CSV import, offers by value as QR codes with a separate PIN file, the server as a child
//! process on loopback (the admin listener on port 0), the real wallet redeeming an enrolment
//! offer over HTTPS (test CA), the roster endpoint, then `kill -9`, a restart, and the issued
//! credential still listed; finally SIGTERM stops it cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::{BIN, Dir};
use serde_json::Value;

const KEY_PASSPHRASE: &str = "the school's long key passphrase";
const WALLET_PASSPHRASE: &str = "correct horse battery staple";
const ADMIN_TOKEN: &str = "an-admin-token-of-at-least-32-characters";

fn tls_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/tls").join(name)
}

fn command(dir: &Dir, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir.path(""))
        .env("SCHOOLTAS_KEY_PASSPHRASE", KEY_PASSPHRASE)
        .env("SCHOOLTAS_PASSPHRASE", WALLET_PASSPHRASE)
        .env("SCHOOLTAS_CA_FILE", tls_file("ca.pem"))
        .env("SCHOOLTAS_DANGEROUS_ALLOW_PRIVATE_ADDRESSES", "1")
        .env_remove("SCHOOLTAS_PIN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn run(dir: &Dir, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(dir, args).spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A port free right now on 127.0.0.1 (the issuer URL and did:web carry it, so it is chosen
/// before the server starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn config(port: u16) -> String {
    format!(
        r#"
[school]
name = "Basisschool De Linde"
brin = "12AB"
issuer_url = "https://localhost:{port}"
did = "did:web:localhost%3A{port}"

[storage]
dir = "state"

[listen]
public = "127.0.0.1:{port}"
admin = "127.0.0.1:0"

[tls]
certificate_chain = "{chain}"
private_key = "{key}"

[admin]
token_file = "admin-token"

[offers]
pin_length = 6
lifetime_days = 14
"#,
        chain = tls_file("localhost-chain.pem").display(),
        key = tls_file("localhost.key").display(),
    )
}

/// The running server and its admin address.
struct Server {
    child: Child,
    admin: SocketAddr,
}

impl Server {
    fn start(dir: &Dir) -> Server {
        let mut child = command(dir, &["serve", "--config", "school.toml"]).spawn().unwrap();
        drop(child.stdin.take());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if !line.starts_with("listening ") {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("no listening line: {line:?} {stderr}");
        }
        let admin = line.split_whitespace().find_map(|part| part.strip_prefix("admin=")).unwrap().parse().unwrap();
        Server { child, admin }
    }

    /// `method path` on the admin listener: (status, body).
    fn admin(&self, method: &str, path: &str, token: Option<&str>, csv: Option<&str>) -> (u16, String) {
        let mut stream = TcpStream::connect(self.admin).unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = csv.unwrap_or_default();
        if csv.is_some() {
            request.push_str("Content-Type: text/csv\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
        (status, body)
    }

    fn credentials_of(&self, subject: &str) -> Value {
        let (status, body) =
            self.admin("GET", &format!("/admin/subjects/{subject}/credentials"), Some(ADMIN_TOKEN), None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn decode_png_qr(path: &Path) -> String {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[test]
fn a_school_serves_from_its_config_and_issued_credentials_survive_a_kill() {
    let dir = Dir::new("serve");
    let port = free_port();
    dir.write("school.toml", &config(port));
    dir.write("admin-token", &format!("{ADMIN_TOKEN}\n"));

    // init makes the sealed key file once, and refuses to overwrite it.
    let init = ok(&run(&dir, &["serve", "init", "--config", "school.toml", "--kdf-insecure-for-tests"], None));
    assert!(init.contains(&format!("https://localhost:{port}/.well-known/did.json")), "{init}");
    assert!(init.contains("verifier DID did:key:"), "{init}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path("state")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the storage directory is the school's alone");
        let mode = std::fs::metadata(dir.path("state/keys.sealed")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = run(&dir, &["serve", "init", "--config", "school.toml", "--kdf-insecure-for-tests"], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));

    // The administration's export, Dutch Excel style (BOM, semicolons, DD-MM-YYYY).
    dir.write(
        "pupils.csv",
        "\u{feff}leerlingnummer;roepnaam;achternaam;geboortedatum;groep;schooljaar\n1001;Sanne;de Vries;01-03-2014;7B;2026-2027\n1002;Daan;Jansen;2013-05-09;8A;2026-2027\n",
    );
    dir.write("guardians.csv", "leerlingnummer,ouder_id,relatie\n1001,ouder1@example.nl,ouder\n");
    let imported = ok(&run(
        &dir,
        &["school", "import", "--config", "school.toml", "--pupils", "pupils.csv", "--guardians", "guardians.csv"],
        None,
    ));
    assert_eq!(imported.trim(), "imported pupils=2 guardians=1");
    let bad = dir.write(
        "bad.csv",
        "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n1003,A,B,2014-13-01,7B,2026-2027\n",
    );
    let refused = run(&dir, &["school", "import", "--config", "school.toml", "--pupils", &bad], None);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("pupils line 2: birth_date"), "{stderr}");
    assert!(!stderr.contains("2014-13-01"), "{stderr}");

    // Letters for group 7B: one enrolment offer and one guardianship offer.
    let letters =
        ok(&run(&dir, &["school", "offers", "--config", "school.toml", "--group", "7B", "--out", "letters"], None));
    assert!(letters.contains("offers=2"), "{letters}");
    for name in ["1001.svg", "1001.png", "1001_ouder1@example.nl.svg", "1001_ouder1@example.nl.png", "pins.csv"] {
        assert!(dir.exists(&format!("letters/{name}")), "{name}");
    }
    let svg = dir.read("letters/1001.svg");
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "{svg}");
    let png = std::fs::read(dir.path("letters/1001.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let uri = decode_png_qr(&dir.path("letters/1001.png"));
    assert!(uri.starts_with("openid-credential-offer://?credential_offer="), "{uri}");
    let pins = dir.read("letters/pins.csv");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path("letters/pins.csv")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pin = pins.lines().find_map(|line| line.strip_prefix("1001,")).unwrap().to_owned();
    assert_eq!(pin.len(), 6);
    assert!(!svg.contains(&pin) && !uri.contains(&format!("\"{pin}\"")), "the PIN is not in the QR code");

    let server = Server::start(&dir);

    // The roster endpoint: the token is required, CSV only, refusals per line.
    let more =
        "pupil_number,given_name,family_name,birth_date,group,school_year\n1004,Emma,Bakker,2015-02-01,6A,2026-2027\n";
    assert_eq!(server.admin("POST", "/admin/roster/pupils", None, Some(more)).0, 401);
    let (status, body) = server.admin("POST", "/admin/roster/pupils", Some(ADMIN_TOKEN), Some(more));
    assert_eq!((status, body.as_str()), (200, r#"{"guardians":0,"pupils":1}"#));
    let broken = "pupil_number,given_name,family_name,birth_date,group,school_year\n1005,A,B,2015-02-30,6A,2026-2027\n";
    let (status, body) = server.admin("POST", "/admin/roster/pupils", Some(ADMIN_TOKEN), Some(broken));
    assert_eq!(status, 422, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "invalid_roster");
    assert_eq!(body["problems"][0]["line"], 2);
    assert_eq!(body["problems"][0]["column"], "birth_date");

    // The child's wallet redeems the enrolment letter over HTTPS.
    ok(&run(
        &dir,
        &[
            "wallet",
            "init",
            "--wallet",
            "child.sqlite",
            "--child",
            "--birth-date",
            "2014-03-01",
            "--kdf-insecure-for-tests",
        ],
        None,
    ));
    let received = run(
        &dir,
        &["wallet", "receive", "--wallet", "child.sqlite", "--offer", &uri, "--pin-stdin"],
        Some(&format!("{pin}\n")),
    );
    let printed: Value = serde_json::from_str(&ok(&received)).unwrap();
    assert_eq!(printed["received"][0]["configuration"], "pupil_enrolment");
    let issued = server.credentials_of("1001");
    assert_eq!(issued.as_array().unwrap().len(), 1, "{issued}");
    assert_eq!(issued[0]["credential_configuration_id"], "pupil_enrolment");

    // The parent's wallet redeems the guardianship letter: the roster names no wallet DID
    // (a school knows the parent, not the parent's wallet), and each copy names its own key.
    ok(&run(&dir, &["wallet", "init", "--wallet", "parent.sqlite", "--parent", "--kdf-insecure-for-tests"], None));
    let parent_uri = decode_png_qr(&dir.path("letters/1001_ouder1@example.nl.png"));
    let parent_pin = pins.lines().find_map(|line| line.strip_prefix("1001/ouder1@example.nl,")).unwrap().to_owned();
    let received = run(
        &dir,
        &["wallet", "receive", "--wallet", "parent.sqlite", "--offer", &parent_uri, "--pin-stdin"],
        Some(&format!("{parent_pin}\n")),
    );
    let printed: Value = serde_json::from_str(&ok(&received)).unwrap();
    assert_eq!(printed["received"][0]["configuration"], "guardianship");
    let guardianship = server.credentials_of("1001%2Fouder1%40example.nl");
    assert_eq!(guardianship.as_array().unwrap().len(), 1, "{guardianship}");

    // kill -9, restart: the issuer's SQLite store still lists it, and the keys reopen.
    drop(server);
    let server = Server::start(&dir);
    let after = server.credentials_of("1001");
    assert_eq!(after, issued);
    assert_eq!(server.credentials_of("1001%2Fouder1%40example.nl"), guardianship);

    // SIGTERM: a graceful stop with exit status 0.
    let mut server = server;
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_refuses_without_a_passphrase_or_with_a_wrong_one() {
    let dir = Dir::new("serve-refusals");
    dir.write("school.toml", &config(free_port()));
    dir.write("admin-token", ADMIN_TOKEN);
    ok(&run(&dir, &["serve", "init", "--config", "school.toml", "--kdf-insecure-for-tests"], None));
    let mut no_passphrase = command(&dir, &["serve", "--config", "school.toml"]);
    no_passphrase.env_remove("SCHOOLTAS_KEY_PASSPHRASE");
    let output = no_passphrase.output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("SCHOOLTAS_KEY_PASSPHRASE"));
    let wrong = run(&dir, &["serve", "--config", "school.toml", "--passphrase-stdin"], Some("not the passphrase\n"));
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));
    let inline = config(free_port()).replace("token_file = \"admin-token\"", "token = \"x\"");
    dir.write("inline.toml", &inline);
    let refused = run(&dir, &["serve", "--config", "inline.toml"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("admin.token must not hold the secret itself"));
}

#[test]
fn serve_mounts_the_verifier_from_its_signed_trust_list() {
    let dir = Dir::new("serve-verifier");
    let port = free_port();
    let key = ok(&run(&dir, &["key", "new", "--alg", "eddsa", "--out", "operator.jwk"], None));
    let operator = key.lines().find(|line| line.starts_with("did:key:")).unwrap().to_owned();
    dir.write("list.json", r#"{"issuers": [], "verifiers": []}"#);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (iat, exp) = ((now - 60).to_string(), (now + 86_400).to_string());
    let jwt = ok(&run(
        &dir,
        &["trust-list", "sign", "--operator-key", "operator.jwk", "--list", "list.json", "--iat", &iat, "--exp", &exp],
        None,
    ));
    dir.write("list.jwt", &jwt);
    let verifier = format!(
        "\n[verifier]\nresponse_url = \"https://localhost:{port}/oid4vp/response\"\ntrust_list = \"list.jwt\"\ntrust_operator = \"{operator}\"\n"
    );
    dir.write("school.toml", &(config(port) + &verifier));
    dir.write("admin-token", ADMIN_TOKEN);
    ok(&run(&dir, &["serve", "init", "--config", "school.toml", "--kdf-insecure-for-tests"], None));

    let server = Server::start(&dir);
    // The verifier's outcomes on the admin listener, behind the same token.
    assert_eq!(server.admin("GET", "/oid4vp/sessions/unknown", None, None).0, 401);
    let (status, body) = server.admin("GET", "/oid4vp/sessions/unknown", Some(ADMIN_TOKEN), None);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no such session"), "{body}");
    drop(server);

    // A trust list signed by another operator is refused at start.
    let other = ok(&run(&dir, &["key", "new", "--alg", "eddsa", "--out", "other.jwk"], None));
    let other = other.lines().find(|line| line.starts_with("did:key:")).unwrap().to_owned();
    dir.write("other.toml", &dir.read("school.toml").replace(&operator, &other));
    let refused = run(&dir, &["serve", "--config", "other.toml"], None);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("trust list"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// The `[school]` section of [`config`] in the EU profile: named by its https identifier, with
/// the certificate chain the operator's CA made (DPoP is then required by default).
fn eu_config(port: u16) -> String {
    config(port).replace(
        "did = \"did:web:localhost%3A",
        "identity = \"https\"\ncertificate_chain = \"school-chain.pem\"\ndid = \"did:web:localhost%3A",
    )
}

/// The value after `label ` on the line of `output` that starts with it.
fn line_value(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .unwrap_or_else(|| panic!("{label:?} in {output}"))
        .to_owned()
}

#[test]
fn an_eu_profile_school_runs_from_its_config_with_certificates_from_the_operators_ca() {
    let dir = Dir::new("serve-eu");
    let port = free_port();
    let origin = format!("https://localhost:{port}");
    dir.write("admin-token", ADMIN_TOKEN);

    // The operator: a CA key and its root certificate, and the key that signs the trust list.
    ok(&run(&dir, &["key", "new", "--alg", "ES256", "--out", "ca.jwk"], None));
    let root = ok(&run(
        &dir,
        &[
            "ca",
            "root",
            "--ca-key",
            "ca.jwk",
            "--organization",
            "Stichting Vertrouwenslijst",
            "--name",
            "Root CA",
            "--out",
            "root.pem",
        ],
        None,
    ));
    let anchor = line_value(&root, "x509_trust_anchors entry ");
    let operator = ok(&run(&dir, &["key", "new", "--alg", "EdDSA", "--out", "operator.jwk"], None));
    let operator = operator.lines().find(|line| line.starts_with("did:key:")).unwrap().to_owned();

    // The school: ES256 keys (identity = "https"), their public halves for the CA.
    let verifier_section = format!(
        "\n[verifier]\nresponse_url = \"{origin}/oid4vp/response\"\ntrust_list = \"list.jwt\"\ntrust_operator = \"{operator}\"\nencrypted_responses = true\ncertificate_chain = \"verifier-chain.pem\"\n"
    );
    dir.write("school.toml", &(eu_config(port) + &verifier_section));
    let init = ok(&run(&dir, &["serve", "init", "--config", "school.toml", "--kdf-insecure-for-tests"], None));
    assert!(init.contains("serve public-keys"), "{init}");
    let verifier_did = line_value(&init, "verifier DID ");
    let keys = ok(&run(&dir, &["serve", "public-keys", "--config", "school.toml"], None));
    let school_jwk = line_value(&keys, "school key-1 ");
    let verifier_jwk = line_value(&keys, "verifier ");
    assert_eq!(serde_json::from_str::<Value>(&school_jwk).unwrap()["crv"], "P-256");
    assert_eq!(serde_json::from_str::<Value>(&verifier_jwk).unwrap()["crv"], "P-256");
    dir.write("school.pub.jwk", &school_jwk);
    dir.write("verifier.pub.jwk", &verifier_jwk);

    // The CA certifies both.
    let ca = ["--ca-key", "ca.jwk", "--ca-certificate", "root.pem", "--organization", "Basisschool De Linde"];
    let issued = ok(&run(
        &dir,
        &[
            &["ca", "issuer"][..],
            &ca,
            &["--public-key", "school.pub.jwk", "--subject", &origin, "--out", "school-chain.pem"],
        ]
        .concat(),
        None,
    ));
    assert!(issued.contains("school-chain.pem"), "{issued}");
    let issued = ok(&run(
        &dir,
        &[
            &["ca", "verifier"][..],
            &ca,
            &["--public-key", "verifier.pub.jwk", "--subject", "localhost", "--out", "verifier-chain.pem"],
        ]
        .concat(),
        None,
    ));
    let client_id = line_value(&issued, "client_id ");
    assert!(client_id.starts_with("x509_hash:"), "{client_id}");
    // A certificate for another identifier than a URL is refused, naming the argument.
    let refused = run(
        &dir,
        &[&["ca", "issuer"][..], &ca, &["--public-key", "school.pub.jwk", "--subject", "localhost", "--out", "x.pem"]]
            .concat(),
        None,
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--subject"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The operator's trust list: the anchor, the school under its DID and https identifier,
    // the school's verifier under its DID and x509_hash client id.
    let vcts =
        ["https://schooltas.nl/credentials/pupil_enrolment/v1", "https://schooltas.nl/credentials/guardianship/v1"];
    let list = serde_json::json!({
        "x509_trust_anchors": [anchor],
        "issuers": [{"did": format!("did:web:localhost%3A{port}"), "name": "Basisschool De Linde", "brin": "12AB",
                     "credential_types": vcts, "issuer_uri": origin}],
        "verifiers": [{"did": verifier_did, "name": "Basisschool De Linde", "client_ids": [client_id],
                       "purposes": [{"code": "newsletter", "text": {"nl": "Nieuwsbrief", "en": "Newsletter"},
                                     "legal_basis": "consent", "max_retention_days": 365,
                                     "credentials": [{"vct": vcts[0], "claims": [["given_name"], ["group"]]}]}]}],
    });
    dir.write("list.json", &list.to_string());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (iat, exp) = ((now - 60).to_string(), (now + 86_400).to_string());
    let jwt = ok(&run(
        &dir,
        &["trust-list", "sign", "--operator-key", "operator.jwk", "--list", "list.json", "--iat", &iat, "--exp", &exp],
        None,
    ));
    dir.write("list.jwt", &jwt);

    // Letters, the server, and the child's wallet redeeming one over HTTPS with DPoP.
    dir.write(
        "pupils.csv",
        "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n1001,Sanne,de Vries,2014-03-01,7B,2026-2027\n",
    );
    ok(&run(&dir, &["school", "import", "--config", "school.toml", "--pupils", "pupils.csv"], None));
    ok(&run(&dir, &["school", "offers", "--config", "school.toml", "--pupil", "1001", "--out", "letters"], None));
    let uri = decode_png_qr(&dir.path("letters/1001.png"));
    let pin = dir.read("letters/pins.csv").lines().find_map(|line| line.strip_prefix("1001,")).unwrap().to_owned();
    let server = Server::start(&dir);
    ok(&run(
        &dir,
        &[
            "wallet",
            "init",
            "--wallet",
            "child.sqlite",
            "--child",
            "--birth-date",
            "2014-03-01",
            "--kdf-insecure-for-tests",
        ],
        None,
    ));
    let received = run(
        &dir,
        &[
            "wallet",
            "receive",
            "--wallet",
            "child.sqlite",
            "--offer",
            &uri,
            "--pin-stdin",
            "--trust-list",
            "list.jwt",
            "--trust-operator",
            &operator,
        ],
        Some(&format!("{pin}\n")),
    );
    let printed: Value = serde_json::from_str(&ok(&received)).unwrap();
    assert_eq!(printed["received"][0]["configuration"], "pupil_enrolment");
    let listed = ok(&run(&dir, &["wallet", "list", "--wallet", "child.sqlite"], None));
    assert!(listed.contains(&origin), "the credential names the school by its https identifier: {listed}");
    // Without the trust list, the wallet has no way to trust an https issuer's key: a second
    // letter's credential is refused (and nothing is stored).
    ok(&run(&dir, &["school", "offers", "--config", "school.toml", "--pupil", "1001", "--out", "letters2"], None));
    let uri = decode_png_qr(&dir.path("letters2/1001.png"));
    let pin = dir.read("letters2/pins.csv").lines().find_map(|line| line.strip_prefix("1001,")).unwrap().to_owned();
    let untrusted = run(
        &dir,
        &["wallet", "receive", "--wallet", "child.sqlite", "--offer", &uri, "--pin-stdin"],
        Some(&format!("{pin}\n")),
    );
    assert!(!untrusted.status.success());
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(stderr.contains("pass --trust-list and --trust-operator"), "{stderr}");
    drop(server);

    // A chain for another key is refused at start, naming the file and what to do.
    ok(&run(&dir, &["key", "new", "--alg", "ES256", "--out", "stranger.jwk"], None));
    let stranger = ok(&run(&dir, &["key", "public", "--key", "stranger.jwk"], None));
    dir.write("stranger.pub.jwk", stranger.lines().next().unwrap());
    std::fs::remove_file(dir.path("school-chain.pem")).unwrap();
    ok(&run(
        &dir,
        &[
            &["ca", "issuer"][..],
            &ca,
            &["--public-key", "stranger.pub.jwk", "--subject", &origin, "--out", "school-chain.pem"],
        ]
        .concat(),
        None,
    ));
    let refused = run(&dir, &["serve", "--config", "school.toml"], None);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("school-chain.pem") && stderr.contains("does not certify the school's active key"),
        "{stderr}"
    );

    // The configuration refuses a chain without an https identity, and DPoP off with one.
    dir.write(
        "did-with-chain.toml",
        &config(port).replace("did = \"did:web:", "certificate_chain = \"school-chain.pem\"\ndid = \"did:web:"),
    );
    let refused = run(&dir, &["serve", "--config", "did-with-chain.toml"], None);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("school.certificate_chain is for identity = \"https\" only")
    );
    dir.write("no-dpop.toml", &eu_config(port).replace("identity = \"https\"", "identity = \"https\"\ndpop = \"off\""));
    let refused = run(&dir, &["serve", "--config", "no-dpop.toml"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("school.dpop cannot be \"off\""));
}
