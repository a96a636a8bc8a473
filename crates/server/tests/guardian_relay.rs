//! The guardian hand-over between two phones, over real sockets on 127.0.0.1: a 12-year-old's
//! wallet answers a verifier's QR code, hands its request to the parent's wallet through the
//! relay (`schooltas_server::relay`, TLS with the test CA), the parent's wallet fetches,
//! reviews and approves, the child's wallet polls, completes and posts to the verifier service,
//! which accepts with the guardian's approval. Then the relay's refusals, each by its status
//! and error code (plain HTTP, the relay served alone), and an answer slot filled by someone
//! without the key, which the child's wallet refuses by name.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../wallet/tests/common/mod.rs"]
mod family;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::thread::JoinHandle;

use family::{ENROLMENT, NOW, paths};
use schooltas_did::SigningKey;
use schooltas_did::net::{GuardedClient, Post};
use schooltas_oid4vc::oid4vp::CredentialQuery;
use schooltas_server::TlsConfig;
use schooltas_server::relay::{GuardianRelay, RelayConfig};
use schooltas_server::verifier::{SessionOutcome, VerifierConfig, VerifierService};
use schooltas_status_list::StatusListCache;
use schooltas_verifier::Verifier;
use schooltas_wallet::http::HttpsRequestObjectFetcher;
use schooltas_wallet::issuer_http::HttpsIssuerConnection;
use schooltas_wallet::relay::{HandOver, fetch_request};
use schooltas_wallet::request::Outcome;
use schooltas_wallet::{Decision, Error, GuardianAnswer, Verifiers};

fn tls_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls").join(name)
}

fn client() -> GuardedClient {
    GuardedClient::new("schooltas-wallet-test")
        .with_trust_anchors_pem(&std::fs::read(tls_file("ca.pem")).unwrap())
        .unwrap()
        .dangerous_allow_private_addresses()
}

/// A server on its own thread and runtime, stopped on drop.
struct Running {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start<F, Fut>(serve: F) -> Running
    where
        F: FnOnce(tokio::net::TcpListener, Stop) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = schooltas_server::Result<()>>,
    {
        Running::start_on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), serve)
    }

    fn start_on<F, Fut>(listener: std::net::TcpListener, serve: F) -> Running
    where
        F: FnOnce(tokio::net::TcpListener, Stop) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = schooltas_server::Result<()>>,
    {
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serve(listener, Stop(stopped)).await.unwrap();
            });
        });
        Running { port, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// The shutdown signal, as a future the servers take.
struct Stop(tokio::sync::oneshot::Receiver<()>);

impl Stop {
    async fn wait(self) {
        drop(self.0.await);
    }
}

/// The relay's clock, stepped by the test.
fn stepped_clock() -> (Arc<AtomicI64>, impl Fn() -> i64 + Send + Sync + 'static) {
    let now = Arc::new(AtomicI64::new(NOW));
    let read = Arc::clone(&now);
    (now, move || read.load(Ordering::SeqCst))
}

fn relay_over_tls(config: RelayConfig, clock: impl Fn() -> i64 + Send + Sync + 'static) -> (GuardianRelay, Running) {
    let relay = GuardianRelay::with_clock(config, clock).unwrap();
    let tls = TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key")).unwrap();
    let serving = relay.clone();
    let running = Running::start(move |listener, stop| serving.serve_tls_until(listener, tls, stop.wait()));
    (relay, running)
}

#[test]
fn a_parent_approves_on_another_phone_through_the_relay_and_the_verifier_accepts() {
    let school = family::School::new();
    let family = family::family(&school, "pupil-1", "2014-09-01"); // 12 on the test day
    school.publish();

    // The verifier's service (did:key of seed 21, as the trust list registers it), over TLS.
    let trust_list = family::trust_list(&family::Verifier::new(21));
    let service_lists = school.lists.clone();
    let service_resolver = school.resolver();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let verifier_port = listener.local_addr().unwrap().port();
    let base = format!("https://localhost:{verifier_port}/oid4vp");
    let verifier = Verifier::new(SigningKey::from_ed25519_seed(&[21; 32]), format!("{base}/response")).unwrap();
    let service = VerifierService::with_clock(
        verifier,
        family::trust_list(&family::Verifier::new(21)),
        service_resolver,
        StatusListCache::new(service_lists),
        &format!("{base}/requests"),
        VerifierConfig::default(),
        || NOW,
    )
    .unwrap();
    let serving = service.clone();
    let tls = TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key")).unwrap();
    let _verifier_running =
        Running::start_on(listener, move |listener, stop| serving.serve_tls_until(listener, tls, stop.wait()));
    let (_clock, read_clock) = stepped_clock();
    let (relay, relay_running) = relay_over_tls(RelayConfig::default(), read_clock);
    let relay_base = format!("https://localhost:{}/relay", relay_running.port);

    let session = service
        .open_session("newsletter", Some("https://delinde.example/nieuwsbrief/klaar"), |builder| {
            let mut query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]);
            for path in paths(&["group", "given_name", "age_over_16"]) {
                query = query.claim(path);
            }
            builder.retention_days(365).credential(query)
        })
        .unwrap();

    // The child's phone: fetches the request, assents, and must wait for a parent.
    let resolver = school.resolver();
    let fetcher = HttpsRequestObjectFetcher::new().with_client(client());
    let fetch = |uri: &str| fetcher.fetch(uri);
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(&fetch) };
    let prompt = family.child.handle_request(&session.uri, &verifiers, NOW).unwrap();
    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!("a 12-year-old cannot answer a consent request alone")
    };
    let hand_over = HandOver::send(&client(), &relay_base, &to_parent).unwrap();
    let link = hand_over.link();
    assert!(link.starts_with(&format!("{relay_base}/boxes/")), "{}", link.as_str());
    assert_eq!(relay.open_boxes(), 1);
    // Nothing from the parent yet.
    assert_eq!(hand_over.poll_answer(&client()).unwrap(), None);
    // Kept in a file by a CLI between runs, it reads back the same.
    let kept: HandOver = serde_json::from_str(&serde_json::to_string(&hand_over).unwrap()).unwrap();

    // The parent's phone: the link from the QR code; the parent's wallet checks it all itself.
    let (request, reply) = fetch_request(&client(), &link).unwrap();
    assert_eq!(request, to_parent);
    let review = family.parent.review_child_request(&request, &verifiers, NOW).unwrap();
    assert_eq!(review.items.len(), 1);
    let answer = family.parent.answer_child_request(&request, true, &verifiers, NOW).unwrap();
    assert!(matches!(answer, GuardianAnswer::Approved { .. }));
    reply.send(&client(), &answer).unwrap();
    // The answer slot is written once.
    let error = reply.send(&client(), &answer).unwrap_err();
    assert!(matches!(&error, Error::RelayRefused { status: 409, error } if error == "slot_taken"), "{error}");

    // The child's phone polls, completes and answers the verifier.
    let received = kept.poll_answer(&client()).unwrap().unwrap();
    assert_eq!(received, answer);
    let response = family.child.complete_with_guardian(&received, NOW).unwrap();
    assert!(response.discloses);
    let redirect = HttpsIssuerConnection::with_client(client()).post_response(&response).unwrap();
    assert!(redirect.unwrap().starts_with("https://delinde.example/nieuwsbrief/klaar#response_code="));
    let Some(SessionOutcome::Accepted { verdict, .. }) = service.outcome(&session.id) else { panic!("not accepted") };
    assert!(verdict.guardian_approval.is_some(), "accepted with the guardian's approval");
    assert_eq!(verdict.claims("enrolment").unwrap()["group"], "7B");
}

/// The relay served alone over plain HTTP on loopback, and a raw HTTP client.
struct PlainRelay {
    relay: GuardianRelay,
    clock: Arc<AtomicI64>,
    running: Running,
    agent: ureq::Agent,
}

impl PlainRelay {
    fn start(config: RelayConfig) -> PlainRelay {
        let (clock, read) = stepped_clock();
        let relay = GuardianRelay::with_clock(config, read).unwrap();
        let serving = relay.clone();
        let running = Running::start(move |listener, stop| serving.serve_until(listener, stop.wait()));
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        PlainRelay { relay, clock, running, agent }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/relay/boxes/{path}", self.running.port)
    }

    fn put(&self, path: &str, body: &[u8]) -> (u16, String) {
        let mut answer =
            self.agent.put(&self.url(path)).header("Content-Type", "application/octet-stream").send(body).unwrap();
        (answer.status().as_u16(), error_code(&answer.body_mut().read_to_string().unwrap_or_default()))
    }

    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let mut answer = self.agent.get(&self.url(path)).call().unwrap();
        (answer.status().as_u16(), answer.body_mut().read_to_vec().unwrap_or_default())
    }
}

fn error_code(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn box_id(n: u8) -> String {
    schooltas_did::base64url::encode([n; 16])
}

#[test]
fn the_relay_refuses_by_status_and_error_code() {
    let relay = PlainRelay::start(RelayConfig { max_boxes: 2, ..RelayConfig::default() });
    let sealed = [7u8; 40];
    let first = box_id(1);

    // A request, then the box is write-once.
    assert_eq!(relay.put(&first, &sealed), (201, String::new()));
    assert_eq!(relay.get(&first), (200, sealed.to_vec()));
    assert_eq!(relay.put(&first, &[8u8; 40]), (409, "slot_taken".to_owned()));
    assert_eq!(relay.get(&first).1, sealed.to_vec(), "the first request stays");
    // No answer yet: 204; then one answer, once.
    assert_eq!(relay.get(&format!("{first}/answer")).0, 204);
    assert_eq!(relay.put(&format!("{first}/answer"), &[9u8; 30]), (201, String::new()));
    assert_eq!(relay.put(&format!("{first}/answer"), &[9u8; 30]), (409, "slot_taken".to_owned()));
    assert_eq!(relay.get(&format!("{first}/answer")), (200, vec![9u8; 30]));
    // An answer to a box that never was.
    assert_eq!(relay.put(&format!("{}/answer", box_id(5)), &sealed), (404, "box_not_found".to_owned()));

    // Malformed ids.
    for bad in ["short", "AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA%2BA"] {
        assert_eq!(relay.put(bad, &sealed), (400, "invalid_box_id".to_owned()), "{bad}");
        assert_eq!(relay.get(bad).0, 400, "{bad}");
    }
    // Too large, too small, not octets.
    assert_eq!(relay.put(&box_id(2), &vec![0u8; (64 << 10) + 1]), (413, "slot_too_large".to_owned()));
    assert_eq!(relay.put(&box_id(2), &[0u8; 27]), (400, "invalid_request".to_owned()));
    let mut answer =
        relay.agent.put(&relay.url(&box_id(2))).header("Content-Type", "application/json").send("{}").unwrap();
    assert_eq!(answer.status().as_u16(), 415);
    assert_eq!(error_code(&answer.body_mut().read_to_string().unwrap()), "invalid_request");
    // Exactly the limit fits.
    assert_eq!(relay.put(&box_id(2), &vec![0u8; 64 << 10]).0, 201);

    // Two boxes open: the third waits.
    assert_eq!(relay.put(&box_id(3), &sealed), (503, "relay_full".to_owned()));
    assert_eq!(relay.relay.open_boxes(), 2);

    // Fifteen minutes later the boxes are gone, and there is room again.
    relay.clock.fetch_add(15 * 60, Ordering::SeqCst);
    assert_eq!(relay.get(&first).0, 404);
    assert_eq!(relay.get(&format!("{first}/answer")).0, 404);
    assert_eq!(relay.put(&format!("{first}/answer"), &sealed), (404, "box_not_found".to_owned()));
    assert_eq!(relay.relay.open_boxes(), 0);
    assert_eq!(relay.put(&box_id(3), &sealed).0, 201);
    // Elsewhere: 404 with a JSON error.
    let mut answer = relay.agent.get(&format!("http://127.0.0.1:{}/elsewhere", relay.running.port)).call().unwrap();
    assert_eq!(answer.status().as_u16(), 404);
    assert_eq!(error_code(&answer.body_mut().read_to_string().unwrap()), "not_found");
}

#[test]
fn an_answer_slot_filled_without_the_key_is_refused_by_the_childs_wallet() {
    let school = family::School::new();
    let family = family::family(&school, "pupil-1", "2014-09-01");
    school.publish();
    let (clock, read) = stepped_clock();
    let (_relay, running) = relay_over_tls(RelayConfig::default(), read);
    let relay_base = format!("https://localhost:{}/relay", running.port);

    // The child's request, made in-process (the verifier's request by value).
    let verifier = family::Verifier::new(21);
    let trust_list = family::trust_list(&verifier);
    let resolver = school.resolver();
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: None };
    let request = family::newsletter_request(&verifier, &["group"]);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!("the child waits for a parent")
    };
    let hand_over = HandOver::send(&client(), &relay_base, &to_parent).unwrap();
    let box_url = hand_over.hand_over_link().box_url().to_owned();

    // Someone who knows the box id but not the key (the relay's operator) copies the request's
    // ciphertext into the answer slot: sealed for the other direction, it does not decrypt.
    let get = schooltas_did::net::Get {
        url: &box_url,
        accept: "application/octet-stream",
        max_len: 1 << 16,
        timeout: std::time::Duration::from_secs(10),
        plain_http: false,
    };
    let request_ciphertext = client().get(&get).unwrap().body;
    let answer_url = format!("{box_url}/answer");
    let post = Post {
        url: &answer_url,
        content_type: "application/octet-stream",
        body: &request_ciphertext,
        accept: "application/json",
        bearer: None,
        dpop: None,
        client_attestation: None,
        max_len: 1 << 12,
        timeout: std::time::Duration::from_secs(10),
        plain_http: false,
    };
    assert_eq!(client().post(&post).unwrap().status, 201);
    let error = hand_over.poll_answer(&client()).unwrap_err();
    assert!(matches!(error, Error::HandOverUnreadable { what: "answer" }), "{error}");

    // A link with a garbled key does not open the request either.
    let link = hand_over.link();
    let (url, _) = link.split_once("#k=").unwrap();
    let wrong = format!("{url}#k={}", schooltas_did::base64url::encode([3u8; 32]));
    let error = fetch_request(&client(), &wrong).unwrap_err();
    assert!(matches!(error, Error::HandOverUnreadable { what: "request" }), "{error}");

    // After the box's lifetime the link leads nowhere.
    clock.fetch_add(15 * 60, Ordering::SeqCst);
    let error = fetch_request(&client(), &link).unwrap_err();
    assert!(matches!(&error, Error::RelayRefused { status: 404, error } if error == "box_not_found"), "{error}");
}
