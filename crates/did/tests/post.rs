//! `GuardedClient::post` against a loopback server: the request it sends (content type,
//! accept, bearer token, body), the answer body read for an error status, the limits, and the
//! address check (an injected resolver; nothing leaves this machine).
#![cfg(feature = "https")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use schooltas_did::net::{AddressClass, GuardedClient, NameResolver, NetError, Post};

/// Answers the first connection with `reply` and keeps what was sent.
fn one_shot(reply: String) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as much body as Content-Length says.
            loop {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            *keep.lock().unwrap() = request;
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (port, seen)
}

fn reply(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn post<'a>(url: &'a str, body: &'a [u8], bearer: Option<&'a str>) -> Post<'a> {
    Post {
        url,
        content_type: "application/x-www-form-urlencoded",
        body,
        accept: "application/json",
        bearer,
        dpop: None,
        client_attestation: None,
        max_len: 1 << 16,
        timeout: Duration::from_secs(5),
        plain_http: true,
    }
}

#[test]
fn a_post_sends_its_headers_and_body_and_reads_an_error_answer() {
    let error = r#"{"error":"invalid_grant","error_description":"the PIN is wrong"}"#;
    let (port, seen) = one_shot(reply("400 Bad Request", "application/json", error));
    let client = GuardedClient::new("schooltas-test").dangerous_allow_private_addresses();
    let url = format!("http://127.0.0.1:{port}/token");
    let form = b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&tx_code=493536";
    let answer = client.post(&post(&url, form, Some("token-123"))).unwrap();
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(answer.body, error.as_bytes(), "an error status still has its body read");
    let sent = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
    let (head, body) = sent.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("post /token http/1.1"), "{head}");
    assert!(head.contains("content-type: application/x-www-form-urlencoded"), "{head}");
    assert!(head.contains("accept: application/json"), "{head}");
    assert!(head.contains("authorization: bearer token-123"), "{head}");
    assert_eq!(body.as_bytes(), form);
    // Debug never shows the body or the token.
    let debug = format!("{:?}", post(&url, form, Some("token-123")));
    assert!(!debug.contains("token-123") && !debug.contains("493536"), "{debug}");
}

#[test]
fn a_dpop_post_sends_the_proof_and_the_token_as_dpop_and_reads_the_servers_nonce() {
    let answer = "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nDPoP-Nonce: eyJ7S_zG.eyJH0-Z\r\n\
                  WWW-Authenticate: DPoP error=\"use_dpop_nonce\"\r\nContent-Length: 26\r\nConnection: close\r\n\r\n\
                  {\"error\":\"use_dpop_nonce\"}";
    let (port, seen) = one_shot(answer.to_owned());
    let client = GuardedClient::new("schooltas-test").dangerous_allow_private_addresses();
    let url = format!("http://127.0.0.1:{port}/credential");
    let request = Post { dpop: Some("proof.jwt.sig"), ..post(&url, b"{}", Some("token-123")) };
    let answer = client.post(&request).unwrap();
    assert_eq!(answer.status, 401);
    assert_eq!(answer.dpop_nonce.as_deref(), Some("eyJ7S_zG.eyJH0-Z"));
    let sent = String::from_utf8(seen.lock().unwrap().clone()).unwrap().to_ascii_lowercase();
    assert!(sent.contains("authorization: dpop token-123"), "{sent}");
    assert!(sent.contains("dpop: proof.jwt.sig"), "{sent}");
    assert!(!sent.contains("bearer"), "{sent}");
    let debug = format!("{request:?}");
    assert!(!debug.contains("proof.jwt.sig") && !debug.contains("token-123"), "{debug}");
}

#[test]
fn a_post_answer_longer_than_the_limit_is_refused() {
    let (port, _) = one_shot(reply("200 OK", "application/json", &"x".repeat(200)));
    let client = GuardedClient::new("schooltas-test").dangerous_allow_private_addresses();
    let url = format!("http://127.0.0.1:{port}/credential");
    let request = Post { max_len: 100, ..post(&url, b"{}", None) };
    assert!(matches!(client.post(&request), Err(NetError::BodyTooLarge { declared: Some(200) })));
}

#[test]
fn plain_http_needs_the_callers_leave() {
    let client = GuardedClient::new("schooltas-test").dangerous_allow_private_addresses();
    let request = Post { plain_http: false, ..post("http://127.0.0.1:9/token", b"", None) };
    let error = client.post(&request).unwrap_err();
    assert_eq!(error, NetError::BadUrl, "{error:?}");
}

#[derive(Debug)]
struct To(&'static str);

impl NameResolver for To {
    fn resolve(&self, _: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::new(self.0.parse().unwrap(), port)])
    }
}

#[test]
fn a_post_to_a_name_resolving_to_an_internal_address_is_refused_before_connecting() {
    for (address, class) in [("10.1.2.3", AddressClass::Private), ("169.254.169.254", AddressClass::LinkLocal)] {
        let client = GuardedClient::new("schooltas-test").with_resolver(To(address));
        let request = Post { plain_http: false, ..post("https://verifier.example/response", b"vp_token=x", None) };
        assert_eq!(client.post(&request), Err(NetError::ForbiddenAddress { class }), "{address}");
    }
}
