//! `schooltas serve` on PostgreSQL (issue 17), as the binary runs: the child processes on
//! loopback over one database given by `SCHOOLTAS_TEST_POSTGRES` (crates/postgres/ci.sh starts
//! one; without it each test prints SKIPPED and passes), each test in a school (tenant) of its
//! own.
//!
//! - Two instances of one school: an offer made on A is fetched by reference from B; wrong
//!   PINs sent alternately to A and B count against one limit; a pre-authorized code redeemed
//!   on A is refused on B; a DPoP proof used on A is refused on B, a nonce from A taken by B.
//! - `kill -9` of an instance amid concurrent issuances: after a restart every credential a
//!   client received is in the store with all its status entries, no credential lacks its
//!   entries and no entry lacks its credential, every acknowledged token's offer is redeemed,
//!   and the server issues again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use common::{BIN, Dir};
use schooltas_did::{Algorithm, SigningKey};
use serde_json::{Value, json};

const KEY_PASSPHRASE: &str = "the school's long key passphrase";
const ADMIN_TOKEN: &str = "an-admin-token-of-at-least-32-characters";
const PRE_AUTHORIZED: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
const PUPILS: &str = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n\
                      1001,Sanne,de Vries,2014-03-01,7B,2026-2027\n\
                      1002,Daan,Jansen,2013-05-09,8A,2026-2027\n";

/// The database URL, or `None` after saying why the test is skipped.
fn database() -> Option<String> {
    let url = std::env::var("SCHOOLTAS_TEST_POSTGRES").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        eprintln!(
            "SKIPPED: set SCHOOLTAS_TEST_POSTGRES=postgres://USER:PASSWORD@HOST:PORT/DATABASE to run it against PostgreSQL (crates/postgres/ci.sh starts one)"
        );
    }
    url
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A school of its own on the shared database: a BRIN no other test or run uses (the tenant is
/// `<brin>-00`).
fn fresh_brin() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let seed = nanos ^ u128::from(std::process::id()) << 64;
    let letter = |n: u128| char::from(b'A' + u8::try_from(n % 26).unwrap());
    format!("{:02}{}{}", seed % 100, letter(seed / 100), letter(seed / 2600))
}

/// One school's deployment: its folder (config, keys, roster), database URL and tenant.
struct School {
    dir: Dir,
    url: String,
    brin: String,
    issuer_url: String,
}

impl School {
    /// `serve init` and the roster import for a school issuing at `issuer_url`'s port, DPoP
    /// as `dpop` (`"required"` or `"off"`), on the PostgreSQL database `url` (empty: the
    /// default SQLite store in the storage directory).
    fn new(label: &str, url: String, dpop: &str) -> School {
        let dir = Dir::new(label);
        let issuer_port = free_port();
        let school = School { dir, url, brin: fresh_brin(), issuer_url: format!("https://localhost:{issuer_port}") };
        let store = match school.url.split_once("://") {
            Some((scheme, rest)) => {
                let (credentials, host) = rest.split_once('@').unwrap();
                let (user, password) = credentials.split_once(':').unwrap();
                school.dir.write("db-password", password);
                format!("[store]\nurl = \"{scheme}://{user}@{host}\"\npassword_file = \"db-password\"\n")
            }
            None => String::new(),
        };
        school.dir.write("admin-token", &format!("{ADMIN_TOKEN}\n"));
        let config = format!(
            r#"
[school]
name = "Basisschool De Linde"
brin = "{brin}"
issuer_url = "{issuer_url}"
did = "did:web:localhost%3A{issuer_port}"
dpop = "{dpop}"

[storage]
dir = "state"

[listen]
public = "127.0.0.1:PUBLIC_PORT"
admin = "127.0.0.1:0"

[admin]
token_file = "admin-token"

[offers]
pin_length = 6
lifetime_days = 14

{store}"#,
            brin = school.brin,
            issuer_url = school.issuer_url,
        );
        school.dir.write("template.toml", &config);
        school.config("school.toml", issuer_port);
        school.run(&["serve", "init", "--config", "school.toml", "--kdf-insecure-for-tests"]);
        school.dir.write("pupils.csv", PUPILS);
        school.run(&["school", "import", "--config", "school.toml", "--pupils", "pupils.csv"]);
        school
    }

    /// Writes a config `name` listening on `port` (everything else the same).
    fn config(&self, name: &str, port: u16) -> String {
        self.dir.write(name, &self.dir.read("template.toml").replace("PUBLIC_PORT", &port.to_string()))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(self.dir.path(""))
            .env("SCHOOLTAS_KEY_PASSPHRASE", KEY_PASSPHRASE)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn run(&self, args: &[&str]) -> String {
        let output = self.command(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `schooltas serve` on a fresh public port.
    fn start(&self, name: &str) -> Instance {
        let port = free_port();
        self.config(name, port);
        let mut child = self.command(&["serve", "--config", name]).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if !line.starts_with("listening ") {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("no listening line: {line:?} {stderr}");
        }
        let address = |label: &str| -> SocketAddr {
            line.split_whitespace().find_map(|part| part.strip_prefix(label)).unwrap().parse().unwrap()
        };
        let endpoint =
            Endpoint { public: address("public="), admin: address("admin="), issuer_url: self.issuer_url.clone() };
        Instance { child, endpoint }
    }

    /// A connection to the school's issuer tables, for reading them directly: its tenant of
    /// the PostgreSQL database, or its SQLite file.
    fn tables(&self) -> Tables {
        if self.url.is_empty() {
            return Tables::Sqlite(rusqlite::Connection::open(self.dir.path("state/issuer.sqlite")).unwrap());
        }
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
        client.execute("SELECT set_config('app.tenant', $1, false)", &[&format!("{}-00", self.brin)]).unwrap();
        Tables::Postgres(client)
    }
}

/// The issuer's tables, read directly (row-level security keeps a PostgreSQL connection in the
/// school's tenant).
enum Tables {
    Postgres(postgres::Client),
    Sqlite(rusqlite::Connection),
}

impl Tables {
    /// `sql` with `{p}` for the table prefix, one row of integers (`None`: no row).
    fn integers(
        &mut self,
        sql: &str,
        text: Option<&str>,
        number: Option<i64>,
        blob: Option<&[u8]>,
    ) -> Option<Vec<i64>> {
        match self {
            Tables::Postgres(client) => {
                let sql = sql.replace("{p}", "issuer_");
                let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::new();
                let blob = blob.map(<[u8]>::to_vec);
                if let Some(text) = &text {
                    params.push(text);
                }
                if let Some(number) = &number {
                    params.push(number);
                }
                if let Some(blob) = &blob {
                    params.push(blob);
                }
                let row = client.query_opt(&sql, &params).unwrap()?;
                Some(
                    (0..row.len())
                        .map(|i| row.try_get::<_, i64>(i).unwrap_or_else(|_| i64::from(row.get::<_, i32>(i))))
                        .collect(),
                )
            }
            Tables::Sqlite(connection) => {
                let sql = sql.replace("{p}", "");
                let mut params: Vec<&dyn rusqlite::ToSql> = Vec::new();
                if let Some(text) = &text {
                    params.push(text);
                }
                if let Some(number) = &number {
                    params.push(number);
                }
                if let Some(blob) = &blob {
                    params.push(blob);
                }
                let mut statement = connection.prepare(&sql).unwrap();
                let columns = statement.column_count();
                let mut rows = statement.query(params.as_slice()).unwrap();
                let row = rows.next().unwrap()?;
                Some((0..columns).map(|i| row.get::<_, i64>(i).unwrap()).collect())
            }
        }
    }
}

/// A running `schooltas serve`.
struct Instance {
    child: Child,
    endpoint: Endpoint,
}

/// Where an instance answers, for the clients.
#[derive(Clone)]
struct Endpoint {
    public: SocketAddr,
    admin: SocketAddr,
    issuer_url: String,
}

impl std::ops::Deref for Instance {
    type Target = Endpoint;

    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// An HTTP answer: status, headers (lower-case names), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.body))
    }

    fn error(&self) -> (u16, String) {
        (self.status, self.json()["error"].as_str().unwrap_or_default().to_owned())
    }
}

/// One HTTP/1.1 request on its own connection; `None` when the connection failed or broke
/// (the server was killed).
fn http(address: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<Reply> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(Reply { status, headers, body: body.to_owned() })
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

impl Endpoint {
    /// An offer by reference of `pupil_enrolment` for `subject` made on this instance's admin
    /// listener: (the offer id in its `credential_offer_uri`, the PIN).
    fn make_offer(&self, subject: &str) -> (String, String) {
        let body = json!([{"subject_ref": subject, "credential_configuration_ids": ["pupil_enrolment"]}]).to_string();
        let auth = format!("Bearer {ADMIN_TOKEN}");
        let reply = http(
            self.admin,
            "POST",
            "/admin/offers",
            &[("Authorization", &auth), ("Content-Type", "application/json")],
            &body,
        )
        .unwrap();
        assert_eq!(reply.status, 201, "{}", reply.body);
        let offer = &reply.json()[0];
        let uri = offer["credential_offer_uri"].as_str().unwrap();
        assert!(uri.contains("credential_offer_uri="), "by reference: {uri}");
        let id = uri.rsplit("%2F").next().unwrap().to_owned();
        (id, offer["tx_code"].as_str().unwrap().to_owned())
    }

    /// The offer JSON behind `id` (404 once redeemed).
    fn fetch_offer(&self, id: &str) -> Reply {
        http(self.public, "GET", &format!("/offers/{id}"), &[], "").unwrap()
    }

    /// A token request for `code` with `pin`, with the DPoP `proof` if given.
    fn token(&self, code: &str, pin: &str, proof: Option<&str>) -> Option<Reply> {
        let form = format!(
            "grant_type={}&pre-authorized_code={}&tx_code={}",
            form_encode(PRE_AUTHORIZED),
            form_encode(code),
            form_encode(pin)
        );
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if let Some(proof) = proof {
            headers.push(("DPoP", proof));
        }
        http(self.public, "POST", "/token", &headers, &form)
    }

    /// A `c_nonce` from the nonce endpoint.
    fn c_nonce(&self) -> Option<String> {
        let reply = http(self.public, "POST", "/nonce", &[], "")?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        Some(reply.json()["c_nonce"].as_str()?.to_owned())
    }

    /// A credential request for a batch of `copies` with a Bearer `token` (or DPoP-bound, with
    /// `dpop`: the key and a proof nonce).
    fn credential(&self, token: &str, copies: usize, dpop: Option<(&SigningKey, &str)>) -> Option<Reply> {
        let nonce = self.c_nonce()?;
        let proofs: Vec<String> = (0..copies)
            .map(|_| {
                let key = SigningKey::generate(Algorithm::Es256).unwrap();
                schooltas_oid4vc::oid4vci::proof::sign_proof(&key, &self.issuer_url, Some(&nonce), now(), None).unwrap()
            })
            .collect();
        let body = json!({"credential_configuration_id": "pupil_enrolment", "proofs": {"jwt": proofs}}).to_string();
        let url = format!("{}/credential", self.issuer_url);
        match dpop {
            Some((key, dpop_nonce)) => {
                let proof =
                    schooltas_oid4vc::dpop::sign_dpop_proof(key, "POST", &url, Some(token), Some(dpop_nonce), now())
                        .unwrap();
                let auth = format!("DPoP {token}");
                let headers =
                    [("Authorization", auth.as_str()), ("DPoP", &proof), ("Content-Type", "application/json")];
                http(self.public, "POST", "/credential", &headers, &body)
            }
            None => {
                let auth = format!("Bearer {token}");
                let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
                http(self.public, "POST", "/credential", &headers, &body)
            }
        }
    }
}

fn pre_authorized_code(offer: &Reply) -> String {
    assert_eq!(offer.status, 200, "{}", offer.body);
    offer.json()["grants"][PRE_AUTHORIZED]["pre-authorized_code"].as_str().unwrap().to_owned()
}

#[test]
fn two_instances_over_one_database_share_offers_pin_attempts_codes_and_dpop_proofs() {
    let Some(url) = database() else { return };
    let school = School::new("instances", url, "required");
    let a = school.start("a.toml");
    let b = school.start("b.toml");
    let token_url = format!("{}/token", school.issuer_url);
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let proof = |nonce: Option<&str>| {
        schooltas_oid4vc::dpop::sign_dpop_proof(&key, "POST", &token_url, None, nonce, now()).unwrap()
    };

    // An offer made on A is served by reference from B.
    let (locked_id, locked_pin) = a.make_offer("1001");
    let locked_code = pre_authorized_code(&b.fetch_offer(&locked_id));
    assert_eq!(a.fetch_offer("no-such-offer-id-at-all").status, 404);

    // A's DPoP nonce, taken by B.
    let bare = a.token(&locked_code, &locked_pin, Some(&proof(None))).unwrap();
    assert_eq!(bare.error(), (400, "use_dpop_nonce".to_owned()));
    let nonce = bare.header("dpop-nonce").unwrap().to_owned();

    // Wrong PINs alternately on A and B: one limit (5 attempts, OfferPolicy's default).
    let wrong = if locked_pin == "000000" { "111111" } else { "000000" };
    for attempt in 1..=5 {
        let instance = if attempt % 2 == 1 { &a } else { &b };
        let reply = instance.token(&locked_code, wrong, Some(&proof(Some(&nonce)))).unwrap();
        assert_eq!(reply.error(), (400, "invalid_grant".to_owned()), "attempt {attempt}");
        let description = reply.json()["error_description"].as_str().unwrap().to_owned();
        if attempt < 5 {
            assert!(description.contains("(PIN) is wrong"), "attempt {attempt}: {description}");
        } else {
            assert!(description.contains("the offer is locked"), "attempt {attempt}: {description}");
        }
    }
    // Locked for everyone, even with the right PIN, on either instance.
    for instance in [&a, &b] {
        let reply = instance.token(&locked_code, &locked_pin, Some(&proof(Some(&nonce)))).unwrap();
        assert_eq!(reply.error(), (400, "invalid_grant".to_owned()));
        assert!(reply.json()["error_description"].as_str().unwrap().contains("locked"), "{}", reply.body);
    }

    // A code redeemed on A is refused on B, and its offer is gone from both.
    let (id, pin) = b.make_offer("1002");
    let code = pre_authorized_code(&a.fetch_offer(&id));
    let used_proof = proof(Some(&nonce));
    let token = a.token(&code, &pin, Some(&used_proof)).unwrap();
    assert_eq!(token.status, 200, "{}", token.body);
    assert_eq!(token.json()["token_type"], "DPoP");
    let access_token = token.json()["access_token"].as_str().unwrap().to_owned();
    let again = b.token(&code, &pin, Some(&proof(Some(&nonce)))).unwrap();
    assert_eq!(again.error(), (400, "invalid_grant".to_owned()));
    assert!(again.json()["error_description"].as_str().unwrap().contains("already used"), "{}", again.body);
    assert_eq!(a.fetch_offer(&id).status, 404, "redeemed: nothing left to fetch");
    assert_eq!(b.fetch_offer(&id).status, 404);

    // The DPoP proof used on A, replayed to B (with another offer's good code and PIN).
    let (other_id, other_pin) = a.make_offer("1001");
    let other_code = pre_authorized_code(&b.fetch_offer(&other_id));
    let replayed = b.token(&other_code, &other_pin, Some(&used_proof)).unwrap();
    assert_eq!(replayed.error(), (400, "invalid_dpop_proof".to_owned()));
    assert!(replayed.json()["error_description"].as_str().unwrap().contains("used before"), "{}", replayed.body);
    // The replay cost the offer nothing: a fresh proof redeems it on B.
    assert_eq!(b.token(&other_code, &other_pin, Some(&proof(Some(&nonce)))).unwrap().status, 200);

    // The token from A fetches its batch on B, with a proof by its key.
    let issued = b.credential(&access_token, 3, Some((&key, &nonce))).unwrap();
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert_eq!(issued.json()["credentials"].as_array().unwrap().len(), 3);
}

/// A credential's status entry, from its SD-JWT's `status.status_list`: (uri, idx).
fn status_entry(credential: &str) -> (String, i64) {
    let payload = credential.split('~').next().unwrap().split('.').nth(1).unwrap();
    let payload: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let list = &payload["status"]["status_list"];
    (list["uri"].as_str().unwrap().to_owned(), list["idx"].as_i64().unwrap())
}

/// What one client saw of one issuance.
#[derive(Default)]
struct Seen {
    /// Whether the offer's JSON came back (before that, the wallet sent nothing that changes
    /// anything).
    fetched: bool,
    /// The code of the offer, when the token endpoint answered 200.
    acknowledged_code: Option<String>,
    /// The status entries of the credentials of a 200 credential response.
    entries: Vec<(String, i64)>,
}

/// One wallet's issuance: the offer fetched, the token, a batch of 3; stops at the first
/// broken connection (the server was killed).
fn issue_once(instance: &Endpoint, id: &str, pin: &str, batches: &AtomicUsize) -> Seen {
    let mut seen = Seen::default();
    let Some(offer) = http(instance.public, "GET", &format!("/offers/{id}"), &[], "") else { return seen };
    if offer.status != 200 {
        return seen;
    }
    seen.fetched = true;
    let code = pre_authorized_code(&offer);
    let Some(token) = instance.token(&code, pin, None) else { return seen };
    if token.status != 200 {
        return seen;
    }
    seen.acknowledged_code = Some(code);
    let access_token = token.json()["access_token"].as_str().unwrap().to_owned();
    let Some(issued) = instance.credential(&access_token, 3, None) else { return seen };
    if issued.status == 200 {
        for credential in issued.json()["credentials"].as_array().unwrap() {
            seen.entries.push(status_entry(credential["credential"].as_str().unwrap()));
        }
        batches.fetch_add(1, Ordering::SeqCst);
    }
    seen
}

#[test]
fn a_kill_9_amid_concurrent_issuances_loses_nothing_acknowledged_and_leaves_nothing_half_written() {
    let Some(url) = database() else { return };
    kill_9_amid_concurrent_issuances(url);
}

#[test]
fn on_sqlite_a_kill_9_amid_concurrent_issuances_loses_nothing_acknowledged_either() {
    kill_9_amid_concurrent_issuances(String::new());
}

/// The kill -9 test on the database `url` (empty: the default SQLite store).
fn kill_9_amid_concurrent_issuances(url: String) {
    let school = School::new("kill", url, "off");
    let mut instance = school.start("school.toml");
    let endpoint = instance.endpoint.clone();
    const WALLETS: usize = 24;
    let offers: Vec<(String, String)> =
        (0..WALLETS).map(|i| instance.make_offer(if i % 2 == 0 { "1001" } else { "1002" })).collect();

    // Many wallets at once; the server is killed (SIGKILL) while they run, once a quarter of
    // them got their batch.
    let batches = AtomicUsize::new(0);
    let seen: Vec<Seen> = std::thread::scope(|scope| {
        let wallets: Vec<_> = offers
            .iter()
            .enumerate()
            .map(|(i, (id, pin))| {
                let (endpoint, batches) = (&endpoint, &batches);
                scope.spawn(move || {
                    std::thread::sleep(Duration::from_millis(u64::try_from(i).unwrap() * 40));
                    issue_once(endpoint, id, pin, batches)
                })
            })
            .collect();
        let started = std::time::Instant::now();
        while batches.load(Ordering::SeqCst) < WALLETS / 4 && started.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(5));
        }
        // SIGKILL: no shutdown code runs, transactions in flight are cut off.
        instance.child.kill().unwrap();
        wallets.into_iter().map(|wallet| wallet.join().unwrap()).collect()
    });
    instance.child.wait().ok();
    let received: usize = seen.iter().filter(|s| !s.entries.is_empty()).count();
    assert!(received >= WALLETS / 4, "the kill came after a quarter of the batches");
    assert!(received < WALLETS, "the kill came before the last batch: {received}");
    eprintln!(
        "before the kill: {} tokens acknowledged, {received} batches received of {WALLETS}",
        seen.iter().filter(|s| s.acknowledged_code.is_some()).count()
    );

    // Restart on the same config.
    drop(instance);
    let instance = school.start("school.toml");
    let mut db = school.tables();

    // Every credential received is in the store with all of its status entries.
    for (uri, idx) in seen.iter().flat_map(|s| s.entries.iter()) {
        let row = db
            .integers(
                "SELECT c.copies, (SELECT count(*) FROM {p}status_entry e2 WHERE e2.credential_id = c.id)
                 FROM {p}status_entry e
                 JOIN {p}status_list l ON l.id = e.list_id
                 JOIN {p}credential c ON c.id = e.credential_id
                 WHERE l.uri = $1 AND e.idx = $2",
                Some(uri),
                Some(*idx),
                None,
            )
            .unwrap_or_else(|| panic!("a received credential's entry {uri}#{idx} is not in the store"));
        assert_eq!(row, [3, 3], "a batch of 3 with its 3 entries");
    }
    // Nothing half-written: every credential has as many entries as copies, every entry its
    // credential (the foreign key says so too; counted here without trusting it).
    let count = |db: &mut Tables, sql: &str| db.integers(sql, None, None, None).unwrap()[0];
    let lacking = count(
        &mut db,
        "SELECT count(*) FROM {p}credential c WHERE c.copies <>
             (SELECT count(*) FROM {p}status_entry e WHERE e.credential_id = c.id)",
    );
    assert_eq!(lacking, 0, "a credential without all its status entries");
    let orphans = count(
        &mut db,
        "SELECT count(*) FROM {p}status_entry e WHERE NOT EXISTS
             (SELECT 1 FROM {p}credential c WHERE c.id = e.credential_id)",
    );
    assert_eq!(orphans, 0, "a status entry without its credential");
    let issued = count(&mut db, "SELECT count(*) FROM {p}credential");
    assert!(issued >= i64::try_from(received).unwrap());
    // Every offer whose token was acknowledged is redeemed.
    for code in seen.iter().filter_map(|s| s.acknowledged_code.as_ref()) {
        let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(code.as_bytes()).into();
        let redeemed = db.integers(
            "SELECT CASE WHEN redeemed THEN 1 ELSE 0 END FROM {p}offer WHERE code_digest = $1",
            None,
            None,
            Some(&digest),
        );
        assert_eq!(redeemed, Some(vec![1]), "an acknowledged token's offer is redeemed");
    }

    // The restarted server issues again: a fresh offer, and an offer made before the kill
    // that no wallet got to (offers by reference are in the store, sealed).
    let (id, pin) = instance.make_offer("1001");
    let after = AtomicUsize::new(0);
    assert_eq!(issue_once(&instance, &id, &pin, &after).entries.len(), 3);
    // (Not one whose token request may have been cut off: its code may be spent unacknowledged.)
    let untouched = offers.iter().zip(&seen).find(|(_, s)| !s.fetched).map(|(offer, _)| offer);
    if let Some((id, pin)) = untouched {
        if school.url.is_empty() {
            assert_eq!(instance.fetch_offer(id).status, 404, "offers by reference in memory are gone after a restart");
        } else {
            assert_eq!(issue_once(&instance, id, pin, &after).entries.len(), 3, "an offer made before the kill");
        }
    }
}
