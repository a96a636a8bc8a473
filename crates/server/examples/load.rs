//! A load from a second process: many wallets redeeming the school's offers at once, over
//! loopback HTTP, against a running `schooltas serve` (or any `IssuerService`).
//!
//! ```sh
//! cargo run --release -p schooltas-server --example load -- \
//!     --public http://127.0.0.1:8080 --admin http://127.0.0.1:8081 --token-file admin.token \
//!     --subjects pupils.txt --wallets 200 --replays 20 --out load.json
//! ```
//!
//! The administration endpoint makes one offer per subject reference in `--subjects` (one per
//! line, each known to the school's roster, enrolment offers); then `--wallets` threads start
//! together, each a wallet: fetch its offer by reference, the token with the PIN, a nonce, and
//! one credential (a batch of 1, a fresh Ed25519 key). For `--replays` of them the credential
//! request is sent twice at once with the same access token, nonce and proof: exactly one may
//! succeed. The summary (JSON, on stdout and in `--out`) gives credentials issued per second,
//! p50/p99 latency per endpoint, the refusals by error code, and every credential acknowledged
//! (subject reference and the hash of the credential) so that a later check — after a
//! `kill -9` and a restart, say — can find each one with `GET /admin/subjects/<ref>/credentials`
//! (`--check FILE` does that against the summary of an earlier run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use schooltas_did::{Algorithm, SigningKey};
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{CredentialOffer, CredentialOfferUri, CredentialRequest, TokenRequest};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

struct Args {
    public: String,
    admin: String,
    token: String,
    subjects: Vec<String>,
    wallets: usize,
    replays: usize,
    out: Option<String>,
    check: Option<String>,
}

fn args() -> Args {
    let mut map = BTreeMap::new();
    let mut raw = std::env::args().skip(1);
    while let Some(name) = raw.next() {
        let value = raw.next().unwrap_or_else(|| panic!("{name} needs a value"));
        map.insert(name.trim_start_matches("--").to_owned(), value);
    }
    let take = |name: &str| map.get(name).cloned();
    let token = std::fs::read_to_string(take("token-file").expect("--token-file")).unwrap().trim().to_owned();
    let subjects: Vec<String> = match take("subjects") {
        Some(path) => std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    let wallets = take("wallets").map_or(subjects.len(), |n| n.parse().unwrap());
    Args {
        public: take("public").expect("--public").trim_end_matches('/').to_owned(),
        admin: take("admin").expect("--admin").trim_end_matches('/').to_owned(),
        token,
        subjects,
        wallets,
        replays: take("replays").map_or(0, |n| n.parse().unwrap()),
        out: take("out"),
        check: take("check"),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// `https://host[:port]/path` of the issuer → `<public>/path` on loopback.
fn local(public: &str, https_url: &str) -> String {
    let rest = https_url.strip_prefix("https://").unwrap_or(https_url);
    let path = rest.find('/').map_or("", |at| &rest[at..]);
    format!("{public}{path}")
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<f64>>,
    refusals: BTreeMap<String, usize>,
    acknowledged: Vec<Value>,
    replay_outcomes: Vec<(u16, u16)>,
}

impl Tally {
    fn time(&mut self, endpoint: &'static str, started: Instant) {
        self.latencies.entry(endpoint).or_default().push(started.elapsed().as_secs_f64() * 1000.0);
    }

    fn refuse(&mut self, endpoint: &str, status: u16, body: &str) {
        let code = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "(no error JSON)".into());
        *self.refusals.entry(format!("{endpoint} {status} {code}")).or_default() += 1;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn post(agent: &ureq::Agent, url: &str, content_type: &str, body: &str, bearer: Option<&str>) -> (u16, String) {
    let mut request = agent.post(url).header("Content-Type", content_type);
    if let Some(token) = bearer {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    match request.send(body) {
        Ok(mut answer) => (answer.status().as_u16(), answer.body_mut().read_to_string().unwrap_or_default()),
        Err(error) => (0, error.to_string()),
    }
}

fn get(agent: &ureq::Agent, url: &str, bearer: Option<&str>) -> (u16, String) {
    let mut request = agent.get(url);
    if let Some(token) = bearer {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    match request.call() {
        Ok(mut answer) => (answer.status().as_u16(), answer.body_mut().read_to_string().unwrap_or_default()),
        Err(error) => (0, error.to_string()),
    }
}

/// Every credential an earlier run acknowledged is still listed for its subject.
fn check(args: &Args, path: &str) {
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let agent = agent();
    let mut per_subject: BTreeMap<String, usize> = BTreeMap::new();
    for ack in summary["acknowledged"].as_array().unwrap() {
        *per_subject.entry(ack["subject"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let (mut missing, mut extra) = (0, 0);
    for (subject, acknowledged) in &per_subject {
        let url = format!("{}/admin/subjects/{}/credentials", args.admin, subject);
        let (status, body) = get(&agent, &url, Some(&args.token));
        assert_eq!(status, 200, "{body}");
        let listed = serde_json::from_str::<Value>(&body).unwrap().as_array().map_or(0, Vec::len);
        missing += acknowledged.saturating_sub(listed);
        extra += listed.saturating_sub(*acknowledged);
    }
    let result = json!({"subjects": per_subject.len(), "acknowledged": per_subject.values().sum::<usize>(),
                        "missing": missing, "unacknowledged_but_recorded": extra});
    println!("{result}");
    assert_eq!(missing, 0, "every acknowledged credential is recorded");
}

fn main() {
    let args = args();
    if let Some(path) = args.check.clone() {
        check(&args, &path);
        return;
    }
    let admin_agent = agent();
    let subjects: Vec<String> = args.subjects.iter().take(args.wallets).cloned().collect();
    assert!(!subjects.is_empty(), "--subjects names no pupil");
    let mut offers = Vec::new();
    for chunk in subjects.chunks(500) {
        let body: Vec<Value> = chunk
            .iter()
            .map(|s| json!({"subject_ref": s, "credential_configuration_ids": ["pupil_enrolment"]}))
            .collect();
        let (status, answer) = post(
            &admin_agent,
            &format!("{}/admin/offers", args.admin),
            "application/json",
            &Value::Array(body).to_string(),
            Some(&args.token),
        );
        assert_eq!(status, 201, "{answer}");
        let made: Vec<Value> = serde_json::from_str(&answer).unwrap();
        offers.extend(chunk.iter().cloned().zip(made));
    }
    let wallets = offers.len();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Arc::new(Barrier::new(wallets + 1));
    let mut threads = Vec::new();
    for (index, (subject, offer)) in offers.into_iter().enumerate() {
        let (tally, start, public) = (Arc::clone(&tally), Arc::clone(&start), args.public.clone());
        let replay = index < args.replays;
        threads.push(std::thread::spawn(move || {
            let agent = agent();
            let mut mine = Tally::default();
            start.wait();
            let whole = Instant::now();
            let uri = offer["credential_offer_uri"].as_str().unwrap();
            let pin = offer["tx_code"].as_str().map(str::to_owned);
            let Ok(CredentialOfferUri::ByReference(location)) = CredentialOfferUri::parse(uri) else {
                panic!("offers by reference")
            };
            let t = Instant::now();
            let (status, body) = get(&agent, &local(&public, &location), None);
            mine.time("offer", t);
            if status != 200 {
                mine.refuse("offer", status, &body);
                return tally.lock().unwrap().merge(mine);
            }
            let offer = CredentialOffer::from_json(&body).unwrap();
            let issuer = offer.credential_issuer.clone();
            let grant = offer.pre_authorized_grant().unwrap();
            let form = TokenRequest { pre_authorized_code: grant.pre_authorized_code.clone(), tx_code: pin }.to_form();
            let t = Instant::now();
            let (status, body) = post(
                &agent,
                &local(&public, &format!("{issuer}/token")),
                "application/x-www-form-urlencoded",
                &form,
                None,
            );
            mine.time("token", t);
            if status != 200 {
                mine.refuse("token", status, &body);
                return tally.lock().unwrap().merge(mine);
            }
            let access_token =
                serde_json::from_str::<Value>(&body).unwrap()["access_token"].as_str().unwrap().to_owned();
            let t = Instant::now();
            let (status, body) = post(
                &agent,
                &local(&public, &format!("{issuer}/nonce")),
                "application/x-www-form-urlencoded",
                "",
                None,
            );
            mine.time("nonce", t);
            if status != 200 {
                mine.refuse("nonce", status, &body);
                return tally.lock().unwrap().merge(mine);
            }
            let c_nonce = serde_json::from_str::<Value>(&body).unwrap()["c_nonce"].as_str().unwrap().to_owned();
            let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
            let proof = sign_proof(&key, &issuer, Some(&c_nonce), now(), None).unwrap();
            let request = CredentialRequest::new(offer.credential_configuration_ids[0].clone(), vec![proof]).to_json();
            let endpoint = local(&public, &format!("{issuer}/credential"));
            let t = Instant::now();
            let answers: Vec<(u16, String)> = if replay {
                // The same request twice at once: one credential at most.
                let twice: Vec<_> = (0..2)
                    .map(|_| {
                        let (endpoint, request, token) = (endpoint.clone(), request.clone(), access_token.clone());
                        std::thread::spawn(move || {
                            post(&agent_once(), &endpoint, "application/json", &request, Some(&token))
                        })
                    })
                    .collect();
                twice.into_iter().map(|t| t.join().unwrap()).collect()
            } else {
                vec![post(&agent, &endpoint, "application/json", &request, Some(&access_token))]
            };
            mine.time("credential", t);
            if replay {
                mine.replay_outcomes.push((answers[0].0, answers[1].0));
            }
            for (status, body) in answers {
                if status == 200 {
                    let credential = serde_json::from_str::<Value>(&body).unwrap()["credentials"][0]["credential"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    let digest: String =
                        Sha256::digest(credential.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect();
                    mine.acknowledged.push(json!({"subject": subject, "credential_sha256_64": digest}));
                    mine.time("wallet", whole);
                } else {
                    mine.refuse("credential", status, &body);
                }
            }
            tally.lock().unwrap().merge(mine);
        }));
    }
    start.wait();
    let began = Instant::now();
    for thread in threads {
        thread.join().unwrap();
    }
    let seconds = began.elapsed().as_secs_f64();
    let tally = Arc::try_unwrap(tally).ok().unwrap().into_inner().unwrap();
    let mut latency = serde_json::Map::new();
    for (endpoint, mut samples) in tally.latencies {
        samples.sort_by(f64::total_cmp);
        latency.insert(
            endpoint.to_owned(),
            json!({"n": samples.len(), "p50_ms": percentile(&samples, 50.0), "p99_ms": percentile(&samples, 99.0),
                   "max_ms": samples.last().copied().unwrap_or(0.0)}),
        );
    }
    let both_ok = tally.replay_outcomes.iter().filter(|(a, b)| *a == 200 && *b == 200).count();
    let issued = tally.acknowledged.len();
    let summary = json!({
        "wallets": wallets,
        "credentials_issued": issued,
        "seconds": seconds,
        "credentials_per_second": issued as f64 / seconds,
        "latency": latency,
        "refusals": tally.refusals,
        "replayed_requests": tally.replay_outcomes.len(),
        "replays_accepted_twice": both_ok,
        "acknowledged": tally.acknowledged,
    });
    let text = serde_json::to_string_pretty(&summary).unwrap();
    if let Some(path) = &args.out {
        std::fs::write(path, &text).unwrap();
    }
    let mut brief = summary.clone();
    brief.as_object_mut().unwrap().remove("acknowledged");
    println!("{}", serde_json::to_string_pretty(&brief).unwrap());
    assert_eq!(both_ok, 0, "a replayed credential request was answered twice");
}

fn agent_once() -> ureq::Agent {
    agent()
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (endpoint, samples) in other.latencies {
            self.latencies.entry(endpoint).or_default().extend(samples);
        }
        for (code, n) in other.refusals {
            *self.refusals.entry(code).or_default() += n;
        }
        self.acknowledged.extend(other.acknowledged);
        self.replay_outcomes.extend(other.replay_outcomes);
    }
}
