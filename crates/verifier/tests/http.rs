//! The HTTPS status list fetcher against a tiny HTTP/1.1 server on 127.0.0.1 (an ephemeral
//! port, plain http through `dangerous_allow_http_for_loopback`, internal addresses allowed
//! through `dangerous_allow_private_addresses`), and the address check with an injected resolver.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use schooltas_did::{Signer, SigningKey};
use schooltas_status_list::{
    Bits, StatusList, StatusListCache, StatusListFetcher, StatusListToken, StatusListUri, StatusReference, StatusValue,
};
use schooltas_verifier::{Error, HttpsStatusListFetcher};

const NOW: i64 = 1_800_000_000;

/// What the server answers on a path: raw response bytes, then an optional stall before
/// closing.
#[derive(Clone)]
struct Reply {
    bytes: Vec<u8>,
    stall: Option<Duration>,
}

fn response(status: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    Reply { bytes: [head.as_bytes(), body].concat(), stall: None }
}

/// A body with no Content-Length, ended by closing the connection.
fn close_delimited(body: &[u8]) -> Reply {
    let head = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/statuslist+jwt\r\n\r\n";
    Reply { bytes: [head.as_bytes(), body].concat(), stall: None }
}

struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves the routes built from the port (a token names its own URI, which names the port);
    /// 404 elsewhere. Stops when dropped, or after 30 s.
    fn start(routes: impl FnOnce(u16) -> Vec<(String, Reply)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes = routes(port);
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
        Server { port, stop, requests, thread: Some(thread) }
    }

    fn uri(&self, path: &str) -> StatusListUri {
        StatusListUri::new(format!("https://127.0.0.1:{}{path}", self.port)).unwrap()
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
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
    let reply = routes
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, r)| r.clone())
        .unwrap_or_else(|| response("404 Not Found", Some("text/plain"), b"not found"));
    let _ = stream.write_all(&reply.bytes);
    let _ = stream.flush();
    if let Some(stall) = reply.stall {
        let until = Instant::now() + stall;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn fetcher() -> HttpsStatusListFetcher {
    HttpsStatusListFetcher::new()
        .dangerous_allow_private_addresses()
        .dangerous_allow_http_for_loopback()
        .with_timeout(Duration::from_secs(5))
}

fn school() -> SigningKey {
    SigningKey::from_ed25519_seed(&[9; 32])
}

/// A token for the list at `https://127.0.0.1:{port}/status/1` with entry 3 revoked.
fn token(port: u16) -> String {
    let uri = StatusListUri::new(format!("https://127.0.0.1:{port}/status/1")).unwrap();
    let mut list = StatusList::new(Bits::One, 128).unwrap();
    list.set(3, StatusValue::INVALID).unwrap();
    StatusListToken::new(uri, NOW, list).sign(&school(), None).unwrap()
}

// ---- tests --------------------------------------------------------------------------------------

#[test]
fn fetches_a_token_and_the_cache_checks_statuses_through_it() {
    let server = Server::start(|port| {
        vec![("/status/1".into(), response("200 OK", Some("application/statuslist+jwt"), token(port).as_bytes()))]
    });
    let uri = server.uri("/status/1");
    assert_eq!(fetcher().fetch_token(&uri).unwrap(), token(server.port));
    let head = server.requests()[0].to_ascii_lowercase();
    assert!(head.contains("accept: application/statuslist+jwt"), "{head}");

    let cache = StatusListCache::new(fetcher());
    cache.check(&StatusReference::new(uri.clone(), 2), school().verifying_key(), NOW + 5).unwrap();
    let revoked = cache.check(&StatusReference::new(uri, 3), school().verifying_key(), NOW + 5);
    assert!(matches!(revoked, Err(schooltas_status_list::Error::Revoked { index: 3, .. })), "{revoked:?}");
}

#[test]
fn a_missing_content_type_and_application_jwt_are_accepted() {
    let server = Server::start(|port| {
        vec![
            ("/none".into(), response("200 OK", None, token(port).as_bytes())),
            ("/jwt".into(), response("200 OK", Some("application/jwt; charset=utf-8"), token(port).as_bytes())),
        ]
    });
    fetcher().fetch_token(&server.uri("/none")).unwrap();
    fetcher().fetch_token(&server.uri("/jwt")).unwrap();
}

#[test]
fn not_found_is_a_fetch_error() {
    let server = Server::start(|_| Vec::new());
    let uri = server.uri("/status/gone");
    let error = fetcher().fetch_token(&uri).unwrap_err();
    assert!(matches!(&error, Error::Fetch { reason, .. } if reason.contains("404 Not Found")), "{error}");
    // Through the trait, and through the cache: no statement can be made.
    let boxed = StatusListFetcher::fetch(&fetcher(), &uri).unwrap_err();
    assert!(
        matches!(boxed.downcast_ref::<Error>(), Some(Error::Fetch { reason, .. }) if reason.contains("404 Not Found")),
        "{boxed}"
    );
    let cache = StatusListCache::new(fetcher());
    let error = cache.check(&StatusReference::new(uri, 0), school().verifying_key(), NOW).unwrap_err();
    assert!(matches!(error, schooltas_status_list::Error::StatusUnavailable { .. }), "{error}");
}

#[test]
fn refuses_an_oversize_body_declared_or_streamed() {
    let big = vec![b'a'; 4096];
    let server = Server::start(|_| {
        vec![
            ("/declared".into(), response("200 OK", Some("application/statuslist+jwt"), &big)),
            ("/streamed".into(), close_delimited(&big)),
        ]
    });
    let small = fetcher().with_max_len(1024);
    for path in ["/declared", "/streamed"] {
        let error = small.fetch_token(&server.uri(path)).unwrap_err();
        assert!(matches!(error, Error::TooLarge { limit: 1024, len, .. } if len > 1024), "{path}: {error}");
    }
    // At the limit exactly, it is read.
    assert_eq!(fetcher().with_max_len(4096).fetch_token(&server.uri("/streamed")).unwrap().len(), 4096);
}

#[test]
fn does_not_follow_redirects() {
    let server = Server::start(|port| {
        let location = format!("Location: http://127.0.0.1:{port}/status/1\r\n");
        vec![
            (
                "/moved".into(),
                Reply {
                    bytes: format!("HTTP/1.1 302 Found\r\n{location}Content-Length: 0\r\nConnection: close\r\n\r\n")
                        .into_bytes(),
                    stall: None,
                },
            ),
            ("/status/1".into(), response("200 OK", Some("application/statuslist+jwt"), token(port).as_bytes())),
        ]
    });
    let error = fetcher().fetch_token(&server.uri("/moved")).unwrap_err();
    assert!(matches!(&error, Error::Fetch { reason, .. } if reason.contains("redirects are not followed")), "{error}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn refuses_another_content_type() {
    let server = Server::start(|_| vec![("/html".into(), response("200 OK", Some("text/html"), b"<html></html>"))]);
    let error = fetcher().fetch_token(&server.uri("/html")).unwrap_err();
    // The server's own text is not repeated towards whoever sent the credential.
    assert!(matches!(&error, Error::Fetch { reason, .. } if reason.contains("another content type")), "{error}");
    assert!(!error.to_string().contains("text/html"), "{error}");
}

#[test]
fn gives_up_after_the_time_limit() {
    let server = Server::start(|_| {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/statuslist+jwt\r\nContent-Length: 100\r\n\r\nabc";
        vec![("/slow".into(), Reply { bytes: head.to_vec(), stall: Some(Duration::from_secs(10)) })]
    });
    let started = Instant::now();
    let error = fetcher().with_timeout(Duration::from_millis(300)).fetch_token(&server.uri("/slow")).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(matches!(&error, Error::Fetch { reason, .. } if reason == "no complete answer within 300 ms"), "{error}");
}

#[test]
fn without_the_escape_hatch_loopback_is_fetched_over_tls() {
    let server = Server::start(|port| vec![("/status/1".into(), response("200 OK", None, token(port).as_bytes()))]);
    let strict = HttpsStatusListFetcher::new().dangerous_allow_private_addresses().with_timeout(Duration::from_secs(3));
    let refused = strict.fetch_token(&server.uri("/status/1")).unwrap_err();
    assert!(matches!(refused, Error::Fetch { .. }), "{refused}");
    assert_eq!(server.requests(), ["TLS"]);
    let plain = StatusListUri::new(format!("http://127.0.0.1:{}/status/1", server.port)).unwrap();
    let error = strict.fetch_token(&plain).unwrap_err();
    assert!(
        matches!(&error, Error::Fetch { reason, .. } if reason == "plain http is refused: a status list token is fetched over https only"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1); // refused before connecting
}

// ---- internal addresses (SSRF, issue 12 item 3) -------------------------------------------------

/// Answers every name with one address and records the questions. No real DNS.
#[derive(Debug, Clone)]
struct FixedResolver {
    address: std::net::IpAddr,
    asked: Arc<Mutex<Vec<String>>>,
}

impl schooltas_did::net::NameResolver for FixedResolver {
    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
        self.asked.lock().unwrap().push(host.to_owned());
        Ok(vec![std::net::SocketAddr::new(self.address, port)])
    }
}

fn resolving_to(address: &str) -> FixedResolver {
    FixedResolver { address: address.parse().unwrap(), asked: Arc::default() }
}

#[test]
fn a_status_uri_resolving_to_an_internal_address_is_refused_before_connecting() {
    use schooltas_did::net::AddressClass;
    let uri = StatusListUri::new("https://status.school.example/lists/1").unwrap();
    for (address, class) in [
        ("10.0.0.1", AddressClass::Private),
        ("127.0.0.1", AddressClass::Loopback),
        ("169.254.169.254", AddressClass::LinkLocal),
        ("100.64.0.1", AddressClass::Shared),
        ("::ffff:127.0.0.1", AddressClass::Loopback),
        ("fe80::1", AddressClass::LinkLocal),
        ("224.0.0.1", AddressClass::Multicast),
        ("192.168.0.10", AddressClass::Private),
        ("255.255.255.255", AddressClass::Broadcast),
    ] {
        let resolver = resolving_to(address);
        let fetcher =
            HttpsStatusListFetcher::new().with_resolver(resolver.clone()).with_timeout(Duration::from_millis(500));
        let started = Instant::now();
        let error = fetcher.fetch_token(&uri).unwrap_err();
        assert!(matches!(error, Error::ForbiddenAddress { class: c, .. } if c == class), "{address}: {error}");
        assert!(!error.to_string().contains(address), "the message names the address: {error}");
        assert_eq!(*resolver.asked.lock().unwrap(), ["status.school.example"]);
        assert!(started.elapsed() < Duration::from_millis(400), "{address}: {:?}", started.elapsed());
        // Through the cache's fetcher trait the refusal stays typed.
        let boxed = StatusListFetcher::fetch(&fetcher, &uri).unwrap_err();
        assert!(matches!(boxed.downcast_ref::<Error>(), Some(Error::ForbiddenAddress { .. })), "{boxed}");
    }
}

#[test]
fn a_loopback_literal_is_refused_unless_the_dangerous_switch_is_on() {
    let server = Server::start(|port| vec![("/status/1".into(), response("200 OK", None, token(port).as_bytes()))]);
    let guarded =
        HttpsStatusListFetcher::new().dangerous_allow_http_for_loopback().with_timeout(Duration::from_secs(3));
    let error = guarded.fetch_token(&server.uri("/status/1")).unwrap_err();
    assert!(
        matches!(error, Error::ForbiddenAddress { class: schooltas_did::net::AddressClass::Loopback, .. }),
        "{error}"
    );
    assert!(server.requests().is_empty(), "nothing may reach the server");
    // With the switch, a name resolved (by the injected resolver) to loopback reaches it.
    let resolver = resolving_to("127.0.0.1");
    let allowed = guarded.dangerous_allow_private_addresses().with_resolver(resolver.clone());
    let by_name = StatusListUri::new(format!("https://localhost:{}/status/1", server.port)).unwrap();
    assert_eq!(allowed.fetch_token(&by_name).unwrap(), token(server.port));
    assert_eq!(*resolver.asked.lock().unwrap(), ["localhost"]);
}
