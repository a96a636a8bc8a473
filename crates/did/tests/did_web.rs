//! did:web against a real HTTP/1.1 server on 127.0.0.1 (an ephemeral port, plain http through
//! `HttpsFetcher::dangerous_allow_http_for_loopback`, internal addresses allowed through
//! `dangerous_allow_private_addresses`), and the address check with an injected resolver.
//! Needs the HTTPS client (cargo feature `https`); `tests/without_https.rs` covers a build
//! without it.
#![cfg(feature = "https")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use schooltas_did::did_web::{self, DocumentFetcher, HttpsFetcher};
use schooltas_did::{
    Algorithm, Did, DidUrl, Error, MAX_DOCUMENT_LEN, PublicKey, Resolver, Signer, SigningKey, VerificationRelationship,
    did_key,
};
use serde_json::json;

// ---- a tiny HTTP/1.1 server ----------------------------------------------------------------------

/// What the server answers on one path.
#[derive(Clone)]
enum Reply {
    /// A response with a Content-Length computed from the body.
    Full { status: &'static str, headers: Vec<(&'static str, String)>, body: Vec<u8> },
    /// These bytes as they are, then (optionally) a stall before closing.
    Raw { bytes: Vec<u8>, then_stall: Option<Duration> },
}

fn document_reply(content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let headers = content_type.map(|t| vec![("Content-Type", t.to_owned())]).unwrap_or_default();
    Reply::Full { status: "200 OK", headers, body }
}

fn redirect(status: &'static str, location: String) -> Reply {
    Reply::Full { status, headers: vec![("Location", location)], body: Vec::new() }
}

/// A server that answers each connection from its routes (404 elsewhere) and stops when dropped
/// (or after 30 s at the latest).
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    /// The request heads received, in order; "TLS" for a TLS ClientHello.
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1 on an ephemeral port, then builds the routes from the port (documents name
    /// the DID, which names the port) and serves them.
    fn start(routes: impl FnOnce(u16) -> Vec<(String, Reply)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = routes(addr.port());
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                let give_up = Instant::now() + Duration::from_secs(30);
                while !stop.load(Ordering::SeqCst) && Instant::now() < give_up {
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream, &routes, &requests, &stop),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5))
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        Server { addr, stop, requests, thread: Some(thread) }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The request heads received so far.
    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// The paths requested so far.
    fn paths(&self) -> Vec<String> {
        self.requests().iter().map(|head| head.split(' ').nth(1).unwrap_or(head.as_str()).to_owned()).collect()
    }

    /// An https URL on this server.
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, routes: &[(String, Reply)], requests: &Mutex<Vec<String>>, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 << 10 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.first() == Some(&0x16) {
            // A TLS ClientHello: this server speaks plain http only; hang up.
            requests.lock().unwrap().push("TLS".into());
            return;
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
    requests.lock().unwrap().push(head);
    let reply = routes.iter().find(|(p, _)| *p == path).map(|(_, r)| r.clone()).unwrap_or(Reply::Full {
        status: "404 Not Found",
        headers: vec![("Content-Type", "text/plain".into())],
        body: b"not found".to_vec(),
    });
    match reply {
        Reply::Full { status, headers, body } => {
            let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
            for (name, value) in headers {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
            out.push_str("\r\n");
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.write_all(&body);
        }
        Reply::Raw { bytes, then_stall } => {
            let _ = stream.write_all(&bytes);
            let _ = stream.flush();
            if let Some(stall) = then_stall {
                let until = Instant::now() + stall;
                while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

// ---- helpers ----------------------------------------------------------------------------------

fn loopback_fetcher() -> HttpsFetcher {
    HttpsFetcher::new()
        .dangerous_allow_private_addresses()
        .dangerous_allow_http_for_loopback()
        .with_timeout(Duration::from_secs(5))
}

fn host_did(port: u16) -> Did {
    Did::parse(&format!("did:web:127.0.0.1%3A{port}")).unwrap()
}

fn path_did(port: u16) -> Did {
    Did::parse(&format!("did:web:127.0.0.1%3A{port}:schools:12AB00")).unwrap()
}

/// A DID document with one Ed25519 JsonWebKey2020 method, `#key-1`.
fn jwk_document(did: &Did, key: &SigningKey) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "verificationMethod": [{
            "id": format!("{did}#key-1"),
            "type": "JsonWebKey2020",
            "controller": did,
            "publicKeyJwk": key.verifying_key().to_jwk(),
        }],
        "assertionMethod": ["#key-1"],
        "authentication": ["#key-1"],
    }))
    .unwrap()
}

/// A DID document with one Ed25519 Multikey method, `#school-key`.
fn multikey_document(did: &Did, key: &SigningKey) -> Vec<u8> {
    let multibase = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    serde_json::to_vec(&json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": format!("{did}#school-key"),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multibase.method_specific_id(),
        }],
        "assertionMethod": [format!("{did}#school-key")],
    }))
    .unwrap()
}

fn chunked(total: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: application/did+json\r\nTransfer-Encoding: chunked\r\n\
                    Connection: close\r\n\r\n"
        .to_vec();
    let chunk = vec![b'a'; 4096];
    let mut sent = 0;
    while sent < total {
        let n = chunk.len().min(total - sent);
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        out.extend_from_slice(&chunk[..n]);
        out.extend_from_slice(b"\r\n");
        sent += n;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn fetch_error(result: Result<Vec<u8>, Error>) -> String {
    match result {
        Err(e @ Error::Fetch { .. }) => e.to_string(),
        other => panic!("expected Error::Fetch, got {other:?}"),
    }
}

// ---- resolution -----------------------------------------------------------------------------

#[test]
fn resolves_a_host_did_to_its_json_web_key_2020() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let server = Server::start(|port| {
        let doc = jwk_document(&host_did(port), &key);
        vec![("/.well-known/did.json".into(), document_reply(Some("application/did+json"), doc))]
    });
    let did = host_did(server.port());
    let resolver = Resolver::with_web_fetcher(loopback_fetcher());
    let kid = did.with_fragment("key-1").unwrap();
    let found = resolver.verifying_key(&kid, VerificationRelationship::AssertionMethod, Algorithm::EdDsa).unwrap();
    assert_eq!(&found, key.verifying_key());
    // Without a fragment: the one Ed25519 key listed under assertionMethod.
    let found = resolver
        .verifying_key(&DidUrl::from(did.clone()), VerificationRelationship::AssertionMethod, Algorithm::EdDsa)
        .unwrap();
    assert_eq!(&found, key.verifying_key());

    assert_eq!(server.paths(), ["/.well-known/did.json", "/.well-known/did.json"]);
    let head = server.requests()[0].to_ascii_lowercase();
    assert!(head.starts_with("get /.well-known/did.json http/1.1\r\n"), "{head}");
    assert!(head.contains(&format!("\r\nhost: 127.0.0.1:{}\r\n", server.port())), "{head}");
    assert!(head.contains("\r\naccept: application/did+json"), "{head}");
    assert!(head.contains("\r\nuser-agent: schooltas-did/"), "{head}");
}

#[test]
fn resolves_a_path_did_to_its_multikey() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let server = Server::start(|port| {
        let doc = multikey_document(&path_did(port), &key);
        // Parameters after the media type are fine.
        vec![("/schools/12AB00/did.json".into(), document_reply(Some("application/json; charset=utf-8"), doc))]
    });
    let did = path_did(server.port());
    assert_eq!(did_web::url_for(&did).unwrap(), server.url("/schools/12AB00/did.json"));
    let document = did_web::resolve(&did, &loopback_fetcher()).unwrap();
    assert_eq!(document.id, did);

    let kid = did.with_fragment("school-key").unwrap();
    let found = Resolver::with_web_fetcher(loopback_fetcher())
        .verifying_key(&kid, VerificationRelationship::AssertionMethod, Algorithm::EdDsa)
        .unwrap();
    assert_eq!(&found, key.verifying_key());
    assert_eq!(server.paths(), ["/schools/12AB00/did.json", "/schools/12AB00/did.json"]);
}

#[test]
fn accepts_every_did_document_content_type_and_none() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let types = [
        Some("application/did+json"),
        Some("application/did+ld+json"),
        Some("application/json"),
        Some("Application/LD+JSON; profile=\"https://www.w3.org/ns/did/v1\""),
        None,
    ];
    let server = Server::start(|port| {
        let doc = jwk_document(&host_did(port), &key);
        types.iter().enumerate().map(|(i, t)| (format!("/t{i}/did.json"), document_reply(*t, doc.clone()))).collect()
    });
    for (i, content_type) in types.iter().enumerate() {
        let body = loopback_fetcher().fetch(&server.url(&format!("/t{i}/did.json"))).unwrap();
        assert_eq!(body, jwk_document(&host_did(server.port()), &key), "{content_type:?}");
    }
}

#[test]
fn refuses_a_document_for_another_did() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let other = Did::parse("did:web:school.example").unwrap();
    let server = Server::start(|_| {
        vec![("/.well-known/did.json".into(), document_reply(Some("application/did+json"), jwk_document(&other, &key)))]
    });
    let did = host_did(server.port());
    let err = did_web::resolve(&did, &loopback_fetcher()).unwrap_err();
    assert!(matches!(err, Error::InvalidDidDocument { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(did.as_str()) && message.contains("did:web:school.example"), "{message}");
    assert!(message.contains("not the DID that was resolved"), "{message}");
}

#[test]
fn refuses_a_body_that_is_no_did_document() {
    let server = Server::start(|_| {
        vec![("/.well-known/did.json".into(), document_reply(Some("application/json"), b"{}".to_vec()))]
    });
    let did = host_did(server.port());
    let err = did_web::resolve(&did, &loopback_fetcher()).unwrap_err();
    assert!(matches!(err, Error::InvalidDidDocument { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(did.as_str()) && message.contains("not a DID document"), "{message}");
    assert!(message.contains(&server.url("/.well-known/did.json")), "{message}");
}

#[test]
fn refuses_error_statuses_naming_the_status_the_url_and_the_did() {
    let server = Server::start(|_| {
        vec![(
            "/broken/did.json".into(),
            Reply::Full { status: "500 Internal Server Error", headers: Vec::new(), body: b"oops".to_vec() },
        )]
    });
    let did = host_did(server.port());
    let err = did_web::resolve(&did, &loopback_fetcher()).unwrap_err();
    assert!(matches!(err, Error::Fetch { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("404 Not Found"), "{message}");
    assert!(message.contains(&server.url("/.well-known/did.json")), "{message}");
    assert!(message.contains(did.as_str()), "{message}");

    let message = fetch_error(loopback_fetcher().fetch(&server.url("/broken/did.json")));
    assert!(message.contains("500 Internal Server Error"), "{message}");
}

// ---- size limits ------------------------------------------------------------------------------

fn assert_too_large(result: Result<Vec<u8>, Error>, limit: usize) -> String {
    match result {
        Err(e @ Error::TooLarge { .. }) => {
            let Error::TooLarge { limit: l, len, .. } = &e else { unreachable!() };
            assert_eq!(*l, limit, "{e}");
            assert!(*len > limit, "{e}");
            let message = e.to_string();
            assert!(message.contains("did:web response body") && message.contains(&limit.to_string()), "{message}");
            message
        }
        other => panic!("expected Error::TooLarge, got {other:?}"),
    }
}

#[test]
fn refuses_a_body_over_the_default_limit() {
    let server = Server::start(|_| {
        vec![(
            "/.well-known/did.json".into(),
            document_reply(Some("application/did+json"), vec![b' '; MAX_DOCUMENT_LEN + 1]),
        )]
    });
    let did = host_did(server.port());
    let message = assert_too_large(did_web::resolve(&did, &loopback_fetcher()).map(|_| Vec::new()), MAX_DOCUMENT_LEN);
    assert!(message.contains(&(MAX_DOCUMENT_LEN + 1).to_string()), "{message}");
}

#[test]
fn accepts_a_body_of_exactly_the_limit() {
    let server = Server::start(|_| vec![("/x".into(), document_reply(None, vec![b'a'; 1024]))]);
    let body = loopback_fetcher().with_max_len(1024).fetch(&server.url("/x")).unwrap();
    assert_eq!(body.len(), 1024);
    assert_too_large(loopback_fetcher().with_max_len(1023).fetch(&server.url("/x")), 1023);
}

#[test]
fn refuses_an_oversize_chunked_body() {
    let server = Server::start(|_| {
        vec![
            ("/small".into(), Reply::Raw { bytes: chunked(100 << 10), then_stall: None }),
            ("/big".into(), Reply::Raw { bytes: chunked(MAX_DOCUMENT_LEN + 10_000), then_stall: None }),
        ]
    });
    let message = assert_too_large(loopback_fetcher().with_max_len(4096).fetch(&server.url("/small")), 4096);
    assert!(message.contains("reading stopped"), "{message}");
    assert_too_large(loopback_fetcher().fetch(&server.url("/big")), MAX_DOCUMENT_LEN);
}

#[test]
fn refuses_an_oversize_body_without_content_length() {
    // No Content-Length and no chunking: the body ends when the connection closes.
    let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Type: application/did+json\r\nConnection: close\r\n\r\n".to_vec();
    bytes.extend(vec![b'a'; 64 << 10]);
    let server = Server::start(|_| vec![("/x".into(), Reply::Raw { bytes, then_stall: None })]);
    let message = assert_too_large(loopback_fetcher().with_max_len(4096).fetch(&server.url("/x")), 4096);
    assert!(message.contains("reading stopped"), "{message}");
}

#[test]
fn refuses_a_lying_content_length_before_reading() {
    // The header announces 100 MB; the server then stalls: the fetcher must not wait for it.
    let bytes = b"HTTP/1.1 200 OK\r\nContent-Type: application/did+json\r\nContent-Length: 100000000\r\n\r\n{".to_vec();
    let server = Server::start(|_| vec![("/x".into(), Reply::Raw { bytes, then_stall: Some(Duration::from_secs(5)) })]);
    let started = Instant::now();
    let message = assert_too_large(loopback_fetcher().fetch(&server.url("/x")), MAX_DOCUMENT_LEN);
    assert!(message.contains("100000000") && message.contains("Content-Length"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

// ---- time limit -----------------------------------------------------------------------------

#[test]
fn a_server_that_never_answers_hits_the_time_limit() {
    let server = Server::start(|_| {
        vec![(
            "/.well-known/did.json".into(),
            Reply::Raw { bytes: Vec::new(), then_stall: Some(Duration::from_secs(5)) },
        )]
    });
    let fetcher = HttpsFetcher::new()
        .dangerous_allow_private_addresses()
        .dangerous_allow_http_for_loopback()
        .with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = did_web::resolve(&host_did(server.port()), &fetcher).unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Fetch { .. }), "{err}");
    assert!(err.to_string().contains("no complete answer within 300 ms"), "{err}");
    assert!(elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn a_body_that_trickles_hits_the_time_limit() {
    // The headers come at once, the body never ends: the limit covers the body too.
    let bytes =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/did+json\r\nContent-Length: 100\r\n\r\n{\"id\":".to_vec();
    let server = Server::start(|_| vec![("/x".into(), Reply::Raw { bytes, then_stall: Some(Duration::from_secs(5)) })]);
    let fetcher = HttpsFetcher::new()
        .dangerous_allow_private_addresses()
        .dangerous_allow_http_for_loopback()
        .with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let message = fetch_error(fetcher.fetch(&server.url("/x")));
    assert!(message.contains("no complete answer within 300 ms"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

// ---- redirects ----------------------------------------------------------------------------------

#[test]
fn follows_redirects_on_the_same_host() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let server = Server::start(|port| {
        let doc = jwk_document(&host_did(port), &key);
        vec![
            ("/.well-known/did.json".into(), redirect("301 Moved Permanently", "/v2/did.json".into())),
            ("/v2/did.json".into(), redirect("302 Found", "current.json".into())),
            ("/v2/current.json".into(), redirect("307 Temporary Redirect", format!("https://127.0.0.1:{port}/final"))),
            ("/final".into(), document_reply(Some("application/did+json"), doc)),
        ]
    });
    let did = host_did(server.port());
    let document = did_web::resolve(&did, &loopback_fetcher()).unwrap();
    assert_eq!(document.id, did);
    assert_eq!(server.paths(), ["/.well-known/did.json", "/v2/did.json", "/v2/current.json", "/final"]);

    // An absolute http Location on the same loopback host and port is the same origin here.
    let server2 = Server::start(|port| {
        vec![
            ("/a".into(), redirect("308 Permanent Redirect", format!("http://127.0.0.1:{port}/b"))),
            ("/b".into(), document_reply(None, b"ok".to_vec())),
        ]
    });
    assert_eq!(loopback_fetcher().fetch(&server2.url("/a")).unwrap(), b"ok");
}

#[test]
fn refuses_more_than_three_redirects() {
    let server =
        Server::start(|_| (0..5).map(|i| (format!("/r{i}"), redirect("302 Found", format!("/r{}", i + 1)))).collect());
    let message = fetch_error(loopback_fetcher().fetch(&server.url("/r0")));
    assert!(message.contains("more than 3 redirects"), "{message}");
    assert_eq!(server.paths(), ["/r0", "/r1", "/r2", "/r3"]);
}

#[test]
fn refuses_a_redirect_to_another_host_naming_only_the_dids_own() {
    for target in ["localhost", "127.0.0.2", "[::1]"] {
        let server = Server::start(|port| {
            vec![(
                "/.well-known/did.json".into(),
                redirect("302 Found", format!("http://{target}:{port}/.well-known/did.json")),
            )]
        });
        let err = did_web::resolve(&host_did(server.port()), &loopback_fetcher()).unwrap_err();
        assert!(matches!(err, Error::Fetch { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains(&format!("from 127.0.0.1:{}", server.port())), "{message}");
        // The target is the server's text (it may be an internal backend): never repeated.
        assert!(message.contains("to another host;") && !message.contains(&format!("{target}:")), "{message}");
        assert!(message.contains("must be served by the DID's own host"), "{message}");
        // Refused before connecting anywhere else.
        assert_eq!(server.paths(), ["/.well-known/did.json"]);
    }
}

#[test]
fn refuses_a_redirect_to_another_port_or_scheme() {
    let server = Server::start(|port| {
        vec![
            ("/port".into(), redirect("302 Found", format!("https://127.0.0.1:{}/x", port.wrapping_add(1).max(1)))),
            ("/ftp".into(), redirect("302 Found", "ftp://127.0.0.1/x".into())),
            ("/none".into(), Reply::Full { status: "302 Found", headers: Vec::new(), body: Vec::new() }),
            ("/304".into(), Reply::Full { status: "304 Not Modified", headers: Vec::new(), body: Vec::new() }),
        ]
    });
    let message = fetch_error(loopback_fetcher().fetch(&server.url("/port")));
    assert!(message.contains("to another host"), "{message}");
    let message = fetch_error(loopback_fetcher().fetch(&server.url("/ftp")));
    assert!(message.contains("not an http(s) URL"), "{message}");
    let message = fetch_error(loopback_fetcher().fetch(&server.url("/none")));
    assert!(message.contains("without a readable Location header"), "{message}");
    let message = fetch_error(loopback_fetcher().fetch(&server.url("/304")));
    assert!(message.contains("304 Not Modified"), "{message}");
}

// ---- content type ------------------------------------------------------------------------------

#[test]
fn refuses_a_wrong_content_type() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let server = Server::start(|port| {
        let doc = jwk_document(&host_did(port), &key);
        vec![("/.well-known/did.json".into(), document_reply(Some("text/html; charset=utf-8"), doc))]
    });
    let err = did_web::resolve(&host_did(server.port()), &loopback_fetcher()).unwrap_err();
    assert!(matches!(err, Error::Fetch { .. }), "{err}");
    let message = err.to_string();
    // The server's own text is not repeated to whoever named the DID.
    assert!(message.contains("another content type") && !message.contains("text/html"), "{message}");
    assert!(message.contains("application/did+json"), "{message}");
}

// ---- plain http -------------------------------------------------------------------------------

#[test]
fn refuses_plain_http_without_the_dangerous_flag() {
    let server = Server::start(|_| vec![("/x".into(), document_reply(None, b"{}".to_vec()))]);
    let plain = format!("http://127.0.0.1:{}/x", server.port());
    let message = fetch_error(HttpsFetcher::new().fetch(&plain));
    assert!(message.contains("plain http is refused") && message.contains("https only"), "{message}");
    assert!(server.requests().is_empty());

    // An https URL is fetched with TLS: this plain server cannot answer it.
    let tls_only = HttpsFetcher::new().dangerous_allow_private_addresses().with_timeout(Duration::from_secs(3));
    let message = fetch_error(tls_only.fetch(&server.url("/x")));
    assert!(message.contains("closed the connection before a complete answer"), "{message}");
    assert_eq!(server.requests(), ["TLS"]);

    // With the flag, both spellings of the loopback URL are fetched over plain http.
    assert_eq!(loopback_fetcher().fetch(&plain).unwrap(), b"{}");
    assert_eq!(loopback_fetcher().fetch(&server.url("/x")).unwrap(), b"{}");
}

#[test]
fn refuses_plain_http_to_other_hosts_even_with_the_flag() {
    let fetcher = loopback_fetcher();
    for url in [
        "http://school.example/.well-known/did.json",
        "http://192.0.2.1/.well-known/did.json",
        "http://[2001:db8::1]:8080/did.json",
        "http://localhost.school.example/did.json",
    ] {
        let started = Instant::now();
        let message = fetch_error(fetcher.fetch(url));
        assert!(message.contains("only allowed to a loopback host"), "{url}: {message}");
        assert!(started.elapsed() < Duration::from_millis(500), "{url}: refused before connecting");
    }
}

#[test]
fn refuses_urls_the_fetcher_cannot_use() {
    for (url, says) in [
        ("ftp://127.0.0.1/did.json", "only https URLs"),
        ("https://user:secret@127.0.0.1/did.json", "user information"),
        ("https://127.0.0.1:99999/did.json", "port must be a number"),
        ("https://exa_mple.com/did.json", "not a valid domain name"),
        ("https://127.0.0.1/a b", "space"),
    ] {
        let message = fetch_error(loopback_fetcher().fetch(url));
        assert!(message.contains(says), "{url}: {message}");
        assert!(!message.contains("secret"), "{message}");
    }
}

#[test]
fn resolution_of_a_did_that_is_no_web_location_is_refused_before_fetching() {
    struct Panics;
    impl DocumentFetcher for Panics {
        fn fetch(&self, url: &str) -> Result<Vec<u8>, Error> {
            panic!("must not fetch {url}")
        }
    }
    for did in ["did:web:example.com%2Fadmin", "did:web:192.0.2.1", "did:web:example.com:..", "did:key:z6Mk"] {
        let did = Did::parse(did).unwrap();
        let err = did_web::resolve(&did, &Panics).unwrap_err();
        assert!(matches!(err, Error::InvalidDid { .. }), "{err}");
        assert!(err.to_string().contains(did.as_str()), "{err}");
    }
}

// ---- internal addresses (SSRF, issue 12 item 3) -------------------------------------------------

/// A resolver that answers every name with one address, and counts the questions. No real DNS.
#[derive(Debug, Clone)]
struct FixedResolver {
    address: std::net::IpAddr,
    asked: Arc<Mutex<Vec<String>>>,
}

impl FixedResolver {
    fn new(address: &str) -> Self {
        FixedResolver { address: address.parse().unwrap(), asked: Arc::default() }
    }
}

impl schooltas_did::net::NameResolver for FixedResolver {
    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        self.asked.lock().unwrap().push(host.to_owned());
        Ok(vec![SocketAddr::new(self.address, port)])
    }
}

#[test]
fn a_did_web_resolving_to_an_internal_address_is_refused_before_connecting() {
    use schooltas_did::net::AddressClass;
    let did: Did = "did:web:school.example".parse().unwrap();
    for (address, class) in [
        ("10.0.0.1", AddressClass::Private),
        ("127.0.0.1", AddressClass::Loopback),
        ("169.254.169.254", AddressClass::LinkLocal),
        ("100.64.0.1", AddressClass::Shared),
        ("::ffff:127.0.0.1", AddressClass::Loopback),
        ("fe80::1", AddressClass::LinkLocal),
        ("224.0.0.1", AddressClass::Multicast),
        ("fd00::1", AddressClass::Private),
        ("0.0.0.0", AddressClass::Unspecified),
    ] {
        let resolver = FixedResolver::new(address);
        // A short time limit: if the check failed, the test would try to connect and time out.
        let fetcher = HttpsFetcher::new().with_resolver(resolver.clone()).with_timeout(Duration::from_millis(500));
        let started = Instant::now();
        let err = did_web::resolve(&did, &fetcher).unwrap_err();
        assert!(matches!(err, Error::ForbiddenAddress { class: c, .. } if c == class), "{address}: {err}");
        assert!(!err.to_string().contains(address), "the message must not name the address: {err}");
        assert_eq!(*resolver.asked.lock().unwrap(), ["school.example"], "{address}");
        assert!(started.elapsed() < Duration::from_millis(400), "{address}: {:?}", started.elapsed());
    }
}

#[test]
fn an_internal_ip_literal_is_refused_without_the_dangerous_switch() {
    let server = Server::start(|_| vec![("/x".into(), document_reply(None, b"{}".to_vec()))]);
    // Plain http to loopback is allowed, internal addresses are not: refused before connecting.
    let fetcher = HttpsFetcher::new().dangerous_allow_http_for_loopback().with_timeout(Duration::from_secs(3));
    let err = fetcher.fetch(&server.url("/x")).unwrap_err();
    assert!(matches!(err, Error::ForbiddenAddress { class: schooltas_did::net::AddressClass::Loopback, .. }), "{err}");
    assert!(server.requests().is_empty(), "nothing may reach the server");
    for url in ["https://10.1.2.3/did.json", "https://[::ffff:169.254.169.254]/did.json", "https://[fe80::1]/x"] {
        let err = HttpsFetcher::new().fetch(url).unwrap_err();
        assert!(matches!(err, Error::ForbiddenAddress { .. }), "{url}: {err}");
    }
}

#[test]
fn with_the_dangerous_switch_a_name_resolving_to_loopback_reaches_the_test_server() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let did: Did = "did:web:localhost".parse().unwrap();
    let server = Server::start(|_| {
        vec![("/.well-known/did.json".into(), document_reply(Some("application/did+json"), jwk_document(&did, &key)))]
    });
    let resolver = FixedResolver::new("127.0.0.1");
    let did_at_port: Did = format!("did:web:localhost%3A{}", server.port()).parse().unwrap();
    let refused = HttpsFetcher::new().dangerous_allow_http_for_loopback().with_resolver(resolver.clone());
    assert!(matches!(did_web::resolve(&did_at_port, &refused), Err(Error::ForbiddenAddress { .. })));
    assert!(server.requests().is_empty());
    let allowed = refused.dangerous_allow_private_addresses().with_timeout(Duration::from_secs(5));
    // The document names did:web:localhost, not the port-qualified DID: fetched, then refused
    // as a document for another DID, which proves the server was reached.
    let err = did_web::resolve(&did_at_port, &allowed).unwrap_err();
    assert!(matches!(err, Error::InvalidDidDocument { .. }), "{err}");
    assert_eq!(server.requests().len(), 1);
    assert!(resolver.asked.lock().unwrap().iter().all(|h| h == "localhost"));
}
