//! The `request_uri` fetcher: internal addresses are refused after DNS resolution (an injected
//! resolver, never real DNS), and with the dangerous switch a loopback test server is reached.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schooltas_did::net::{AddressClass, NameResolver};
use schooltas_wallet::Error;
use schooltas_wallet::http::HttpsRequestObjectFetcher;

#[derive(Debug, Clone)]
struct FixedResolver {
    address: IpAddr,
    asked: Arc<Mutex<Vec<String>>>,
}

impl NameResolver for FixedResolver {
    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        self.asked.lock().unwrap().push(host.to_owned());
        Ok(vec![SocketAddr::new(self.address, port)])
    }
}

fn resolving_to(address: &str) -> FixedResolver {
    FixedResolver { address: address.parse().unwrap(), asked: Arc::default() }
}

/// Serves one HTTP/1.1 answer to the first connection on 127.0.0.1; returns the port and
/// whether a connection came.
fn one_shot_server(body: &'static str) -> (u16, Arc<Mutex<bool>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reached = Arc::new(Mutex::new(false));
    let flag = reached.clone();
    std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        if let Ok((mut stream, _)) = listener.accept() {
            *flag.lock().unwrap() = true;
            stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/oauth-authz-req+jwt\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (port, reached)
}

#[test]
fn a_request_uri_resolving_to_an_internal_address_is_refused_before_connecting() {
    for (address, class) in [
        ("10.0.0.1", AddressClass::Private),
        ("127.0.0.1", AddressClass::Loopback),
        ("169.254.169.254", AddressClass::LinkLocal),
        ("100.64.0.1", AddressClass::Shared),
        ("::ffff:127.0.0.1", AddressClass::Loopback),
        ("fe80::1", AddressClass::LinkLocal),
        ("224.0.0.1", AddressClass::Multicast),
        ("192.168.178.1", AddressClass::Private),
    ] {
        let resolver = resolving_to(address);
        let fetcher =
            HttpsRequestObjectFetcher::new().with_resolver(resolver.clone()).with_timeout(Duration::from_millis(500));
        let started = Instant::now();
        let err = fetcher.fetch("https://verifier.example/requests/abc").unwrap_err();
        assert!(
            matches!(err, Error::Did(schooltas_did::Error::ForbiddenAddress { class: c, .. }) if c == class),
            "{address}: {err}"
        );
        assert!(!err.to_string().contains(address), "the message names the address: {err}");
        assert_eq!(*resolver.asked.lock().unwrap(), ["verifier.example"]);
        assert!(started.elapsed() < Duration::from_millis(400), "{address}: {:?}", started.elapsed());
    }
}

#[test]
fn with_the_dangerous_switch_the_loopback_server_is_reached() {
    let (port, reached) = one_shot_server("eyJhbGciOiJFZERTQSJ9.e30.sig");
    let url = format!("https://localhost:{port}/requests/abc");
    // Without the switch: refused, and the server never sees a connection.
    let guarded = HttpsRequestObjectFetcher::new()
        .dangerous_allow_http_for_loopback()
        .with_resolver(resolving_to("127.0.0.1"))
        .with_timeout(Duration::from_secs(3));
    let err = guarded.fetch(&url).unwrap_err();
    assert!(
        matches!(err, Error::Did(schooltas_did::Error::ForbiddenAddress { class: AddressClass::Loopback, .. })),
        "{err}"
    );
    assert!(!*reached.lock().unwrap());
    let allowed = guarded.dangerous_allow_private_addresses();
    assert_eq!(allowed.fetch(&url).unwrap(), "eyJhbGciOiJFZERTQSJ9.e30.sig");
    assert!(*reached.lock().unwrap());
}
