//! Every refusal over HTTP: the status, the `error` code and the headers the specifications
//! give, for a hostile or mistaken wallet. No answer carries a claim value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{NOW, Running};
use schooltas_did::{Algorithm, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{CredentialOffer, CredentialOfferUri, CredentialRequest, TokenRequest};
use schooltas_server::{IssuerService, ServiceConfig};

const ISSUER_URL: &str = "https://delinde.example";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

fn running(config: ServiceConfig) -> (IssuerService<SqliteStore>, Running) {
    let service = common::service(common::school(ISSUER_URL, "did:web:delinde.example"), config);
    let server = Running::start(service.clone(), ISSUER_URL);
    (service, server)
}

/// An offer of `ids`: its pre-authorized code and PIN, fetched by reference.
fn offer(service: &IssuerService<SqliteStore>, server: &Running, subject: &str, ids: &[&str]) -> (String, String) {
    let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    let published = service.publish_offer(subject, &ids).unwrap();
    let CredentialOfferUri::ByReference(location) = CredentialOfferUri::parse(&published.uri).unwrap() else {
        panic!()
    };
    let offer = CredentialOffer::from_json(&server.get_url(&location).body).unwrap();
    let code = offer.pre_authorized_grant().unwrap().pre_authorized_code.clone();
    (code, published.pin.as_ref().unwrap().to_string())
}

fn token(server: &Running, code: &str, pin: Option<&str>) -> common::Answer {
    let form = TokenRequest { pre_authorized_code: code.to_owned(), tx_code: pin.map(str::to_owned) };
    server.post("/token", FORM, &form.to_form(), None)
}

fn access_token(service: &IssuerService<SqliteStore>, server: &Running, subject: &str, ids: &[&str]) -> String {
    let (code, pin) = offer(service, server, subject, ids);
    let answer = token(server, &code, Some(&pin));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["access_token"].as_str().unwrap().to_owned()
}

fn nonce(server: &Running) -> String {
    server.post("/nonce", FORM, "", None).json()["c_nonce"].as_str().unwrap().to_owned()
}

fn credential_request(config_id: &str, nonce: &str) -> String {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    CredentialRequest::new(config_id, vec![sign_proof(&key, ISSUER_URL, Some(nonce), NOW, None).unwrap()]).to_json()
}

fn wrong_pin(pin: &str) -> &'static str {
    if pin == "000000" { "111111" } else { "000000" }
}

#[test]
fn a_wrong_tx_code_is_invalid_grant_and_a_missing_one_invalid_request() {
    let (service, server) = running(ServiceConfig::default());
    let (code, pin) = offer(&service, &server, "pupil-17", &["pupil_enrolment"]);
    let wrong = token(&server, &code, Some(wrong_pin(&pin)));
    assert_eq!((wrong.status, wrong.error().as_str()), (400, "invalid_grant"));
    assert_eq!(wrong.header("cache-control"), Some("no-store"));
    assert_eq!(wrong.header("content-type"), Some(JSON));
    let missing = token(&server, &code, None);
    assert_eq!((missing.status, missing.error().as_str()), (400, "invalid_request"));
    assert_eq!(token(&server, &code, Some(&pin)).status, 200);
    let again = token(&server, &code, Some(&pin));
    assert_eq!((again.status, again.error().as_str()), (400, "invalid_grant"));
    let other_grant = server.post("/token", FORM, "grant_type=authorization_code&code=x", None);
    assert_eq!((other_grant.status, other_grant.error().as_str()), (400, "unsupported_grant_type"));
}

#[test]
fn the_token_endpoint_takes_form_bodies_only() {
    let (service, server) = running(ServiceConfig::default());
    let (code, pin) = offer(&service, &server, "pupil-17", &["pupil_enrolment"]);
    let form = TokenRequest { pre_authorized_code: code, tx_code: Some(pin) }.to_form();
    // RFC 6749 §4.1.3 / §5.2: a body of another type is a malformed request.
    let as_json = server.post("/token", JSON, &form, None);
    assert_eq!((as_json.status, as_json.error().as_str()), (400, "invalid_request"));
    let with_charset = server.post("/token", "application/x-www-form-urlencoded; charset=UTF-8", &form, None);
    assert_eq!(with_charset.status, 200, "media type parameters are allowed: {}", with_charset.body);
}

#[test]
fn a_missing_or_unknown_bearer_token_is_401_invalid_token_with_a_challenge() {
    let (_service, server) = running(ServiceConfig::default());
    let body = credential_request("pupil_enrolment", &nonce(&server));
    let missing = server.post("/credential", JSON, &body, None);
    assert_eq!((missing.status, missing.error().as_str()), (401, "invalid_token"));
    // RFC 6750 §3.1: no error code in the challenge of a request without authentication.
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));

    let unknown = server.post("/credential", JSON, &body, Some("not-a-token"));
    assert_eq!((unknown.status, unknown.error().as_str()), (401, "invalid_token"));
    let challenge = unknown.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer error=\"invalid_token\""), "{challenge}");

    let basic = server
        .agent()
        .post(format!("http://{}/credential", server.address))
        .header("Content-Type", JSON)
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .send(body.as_str())
        .unwrap();
    let basic = common::Answer::from(basic);
    assert_eq!((basic.status, basic.error().as_str()), (401, "invalid_token"));
}

#[test]
fn a_replayed_nonce_is_invalid_nonce() {
    let (service, server) = running(ServiceConfig::default());
    let token = access_token(&service, &server, "pupil-17", &["pupil_enrolment", "school_advice"]);
    let c_nonce = nonce(&server);
    let first = server.post("/credential", JSON, &credential_request("pupil_enrolment", &c_nonce), Some(&token));
    assert_eq!(first.status, 200, "{}", first.body);
    let replay = server.post("/credential", JSON, &credential_request("school_advice", &c_nonce), Some(&token));
    assert_eq!((replay.status, replay.error().as_str()), (400, "invalid_nonce"));
    // The token was not spent for school_advice by the refused request: a fresh nonce works.
    let fresh = server.post("/credential", JSON, &credential_request("school_advice", &nonce(&server)), Some(&token));
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    // Both configurations fetched: the token is used up.
    let spent = server.post("/credential", JSON, &credential_request("school_advice", &nonce(&server)), Some(&token));
    assert_eq!((spent.status, spent.error().as_str()), (401, "invalid_token"));
}

#[test]
fn the_credential_endpoint_takes_json_bodies_only() {
    let (service, server) = running(ServiceConfig::default());
    let token = access_token(&service, &server, "pupil-17", &["pupil_enrolment"]);
    let body = credential_request("pupil_enrolment", &nonce(&server));
    let as_form = server.post("/credential", FORM, &body, Some(&token));
    assert_eq!((as_form.status, as_form.error().as_str()), (400, "invalid_credential_request"));
    // With a refused token the answer is 401 whatever the body (RFC 6750 §3.1).
    let as_form_unknown_token = server.post("/credential", FORM, &body, Some("not-a-token"));
    assert_eq!((as_form_unknown_token.status, as_form_unknown_token.error().as_str()), (401, "invalid_token"));
    let not_json = server.post("/credential", JSON, "{\"credential_configuration_id\":", Some(&token));
    assert_eq!((not_json.status, not_json.error().as_str()), (400, "invalid_credential_request"));
    let not_offered =
        server.post("/credential", JSON, &credential_request("school_advice", &nonce(&server)), Some(&token));
    assert_eq!((not_offered.status, not_offered.error().as_str()), (400, "unknown_credential_configuration"));
    // Nothing above spent the token.
    assert_eq!(server.post("/credential", JSON, &body, Some(&token)).status, 200);
}

#[test]
fn an_oversized_body_is_413_on_every_post() {
    let (_service, server) = running(ServiceConfig { max_body_bytes: 4096, ..ServiceConfig::default() });
    let big = "a".repeat(8192);
    for (path, content_type) in [("/token", FORM), ("/nonce", FORM), ("/credential", JSON)] {
        let answer = server.post(path, content_type, &big, Some("t"));
        assert_eq!(answer.status, 413, "{path}: {}", answer.body);
        assert_eq!(answer.header("content-type"), Some(JSON), "{path}");
    }
}

#[test]
fn a_record_the_catalog_refuses_is_denied_without_its_values() {
    let (service, server) = running(ServiceConfig::default());
    let token = access_token(&service, &server, "pupil-broken", &["pupil_enrolment"]);
    let denied =
        server.post("/credential", JSON, &credential_request("pupil_enrolment", &nonce(&server)), Some(&token));
    assert_eq!((denied.status, denied.error().as_str()), (400, "credential_request_denied"));
    assert!(!denied.body.contains(common::GIVEN_NAME), "{}", denied.body);
    assert!(!denied.body.contains("de Vries") && !denied.body.contains("2014-03-01"), "{}", denied.body);
}

#[test]
fn unknown_offers_and_status_lists_are_404() {
    let (_service, server) = running(ServiceConfig::default());
    let unknown = server.get("/offers/AAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.header("cache-control"), Some("no-store"));
    assert_eq!(server.get("/status/enrolment/999").status, 404);
    assert_eq!(server.get("/status/..%2F..%2Fetc").status, 404);
}

#[test]
fn status_lists_are_statuslist_jwt_and_show_a_revocation_at_once() {
    let (service, server) = running(ServiceConfig::default());
    let token = access_token(&service, &server, "pupil-17", &["pupil_enrolment"]);
    let issued =
        server.post("/credential", JSON, &credential_request("pupil_enrolment", &nonce(&server)), Some(&token));
    assert_eq!(issued.status, 200);
    let uri = service.with_issuer(|issuer| issuer.status_list_tokens(NOW).unwrap()[0].0.as_str().to_owned());
    let before = server.get_url(&uri);
    assert_eq!(before.status, 200);
    assert_eq!(before.header("content-type"), Some(schooltas_server::STATUS_LIST_JWT));
    let id = service.with_issuer(|issuer| issuer.credentials_of("pupil-17").unwrap()[0].id.clone());
    service.change_status(&id, schooltas_issuer::StatusChange::Revoke).unwrap();
    let after = server.get_url(&uri);
    assert_eq!(after.status, 200);
    assert_ne!(after.body, before.body, "a status change is published without waiting for the token reuse time");
}

#[test]
fn a_cors_preflight_from_a_browser_wallet_is_allowed_on_the_protocol_endpoints() {
    let (_service, server) = running(ServiceConfig::default());
    for path in ["/credential", "/token", "/nonce", "/.well-known/openid-credential-issuer"] {
        let preflight = server
            .agent()
            .options(format!("http://{}{path}", server.address))
            .header("Origin", "https://wallet.example")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .call()
            .unwrap();
        let preflight = common::Answer::from(preflight);
        assert_eq!(preflight.status, 200, "{path}");
        assert_eq!(preflight.header("access-control-allow-origin"), Some("*"), "{path}");
        let methods = preflight.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
        assert!(methods.contains("POST"), "{path}: {methods}");
        let headers = preflight.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
        assert!(headers.contains("authorization") && headers.contains("content-type"), "{path}: {headers}");
    }
    let metadata = server
        .agent()
        .get(format!("http://{}/.well-known/openid-credential-issuer", server.address))
        .header("Origin", "https://wallet.example")
        .call()
        .unwrap();
    assert_eq!(common::Answer::from(metadata).header("access-control-allow-origin"), Some("*"));
}

#[test]
fn hostile_shapes_get_4xx_answers_not_a_dropped_connection() {
    let (_service, server) = running(ServiceConfig::default());
    let cases: [(&str, &str, &[u8]); 4] = [
        ("/token", FORM, b"grant_type=%ZZ"),
        ("/token", FORM, b"\xff\xfe"),
        ("/credential", JSON, b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["),
        (
            "/credential",
            JSON,
            b"{\"credential_configuration_id\":\"pupil_enrolment\",\"credential_configuration_id\":\"x\"}",
        ),
    ];
    for (path, content_type, body) in cases {
        let answer = server
            .agent()
            .post(format!("http://{}{path}", server.address))
            .header("Content-Type", content_type)
            .header("Authorization", "Bearer x")
            .send(body)
            .unwrap();
        let answer = common::Answer::from(answer);
        assert!((400..500).contains(&answer.status), "{path}: {} {}", answer.status, answer.body);
    }
    let wrong_method = server.get("/token");
    assert_eq!((wrong_method.status, wrong_method.error().as_str()), (405, "invalid_request"));
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    let nowhere = server.get("/nowhere");
    assert_eq!((nowhere.status, nowhere.error().as_str()), (404, "invalid_request"));
    assert_eq!(server.get("/offers/%FF%FE").status, 404, "an id that is not UTF-8");
}

#[test]
fn a_request_head_that_is_too_large_or_too_slow_is_cut_off() {
    use std::io::{Read, Write};
    use std::time::Duration;
    let config = ServiceConfig { header_timeout: Duration::from_secs(1), ..ServiceConfig::default() };
    let (_service, server) = running(config);

    let large = "x".repeat(4 * schooltas_server::MAX_HEAD_BYTES);
    let mut stream = std::net::TcpStream::connect(server.address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // The server may answer and close before the whole head is written.
    stream.write_all(format!("GET /nonce HTTP/1.1\r\nHost: x\r\nX-Padding: {large}\r\n\r\n").as_bytes()).ok();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok();
    assert!(answer.starts_with("HTTP/1.1 431"), "{}", answer.lines().next().unwrap_or_default());

    // Half a head, then silence: hyper closes the connection once the head time-out passes
    // (the read time-out here is only a bound for a broken server, far beyond it).
    let mut slow = std::net::TcpStream::connect(server.address).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    slow.write_all(b"POST /nonce HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut rest = Vec::new();
    let closed = slow.read_to_end(&mut rest);
    assert!(closed.is_ok(), "the connection was left open: {closed:?}");
}

#[test]
fn concurrent_wallets_redeem_a_code_once_and_a_token_once() {
    let (service, server) = running(ServiceConfig::default());
    let (code, pin) = offer(&service, &server, "pupil-17", &["pupil_enrolment"]);
    let server = std::sync::Arc::new(server);
    let race = |work: std::sync::Arc<dyn Fn() -> u16 + Send + Sync>| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let work = work.clone();
                std::thread::spawn(move || work())
            })
            .collect();
        threads.into_iter().map(|thread| thread.join().unwrap()).collect::<Vec<u16>>()
    };
    let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (s, t) = (server.clone(), tokens.clone());
    let statuses = race(std::sync::Arc::new(move || {
        let answer = token(&s, &code, Some(&pin));
        if answer.status == 200 {
            t.lock().unwrap().push(answer.json()["access_token"].as_str().unwrap().to_owned());
        }
        answer.status
    }));
    assert_eq!(statuses.iter().filter(|&&status| status == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&status| status == 200 || status == 400), "{statuses:?}");

    let access_token = tokens.lock().unwrap()[0].clone();
    let s = server.clone();
    let statuses = race(std::sync::Arc::new(move || {
        let body = credential_request("pupil_enrolment", &nonce(&s));
        s.post("/credential", JSON, &body, Some(&access_token)).status
    }));
    assert_eq!(statuses.iter().filter(|&&status| status == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&status| status == 200 || status == 401), "{statuses:?}");
    assert_eq!(service.with_issuer(|issuer| issuer.credentials_of("pupil-17").unwrap()).len(), 1);
}

#[test]
fn connections_beyond_the_limit_wait_until_one_closes() {
    use std::io::{Read, Write};
    use std::time::Duration;
    let (_service, server) = running(ServiceConfig { max_connections: 1, ..ServiceConfig::default() });
    let request = b"POST /nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    let mut first = std::net::TcpStream::connect(server.address).unwrap();
    first.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    first.write_all(request).unwrap();
    let mut answer = [0u8; 12];
    first.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");

    // The first connection is kept alive, so the second waits in the backlog. (Only a slow
    // server could make this pass wrongly; none makes it fail.)
    let mut second = std::net::TcpStream::connect(server.address).unwrap();
    second.write_all(request).unwrap();
    second.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let waiting = second.read(&mut answer);
    assert!(
        matches!(&waiting, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "{waiting:?}"
    );
    drop(first);
    second.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    second.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_head_time_out() {
    use std::io::{Read, Write};
    use std::time::Duration;
    let config = ServiceConfig { header_timeout: Duration::from_secs(1), ..ServiceConfig::default() };
    let (_service, server) = running(config);
    let mut idle = std::net::TcpStream::connect(server.address).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    idle.write_all(b"POST /nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut answer = [0u8; 12];
    idle.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    // Then nothing: the server closes the connection instead of holding a slot for ever.
    let mut rest = Vec::new();
    let closed = idle.read_to_end(&mut rest);
    assert!(closed.is_ok(), "the idle connection was left open: {closed:?}");
}

#[test]
fn two_client_attestation_headers_are_invalid_request_and_a_missing_attestation_is_401_invalid_client() {
    let anchors = {
        use schooltas_x509::{CertificateAuthority, Profile, Subject, TrustAnchors, Validity};
        let root = CertificateAuthority::root(
            SigningKey::generate(Algorithm::Es256).unwrap(),
            Subject::new("Wallet BV", "Wallet BV Root").unwrap(),
            Validity::days_from(NOW - 86_400, 3650).unwrap(),
            Some(0),
            Profile::Haip,
        )
        .unwrap();
        TrustAnchors::from_der(vec![root.certificate_der().to_vec()]).unwrap()
    };
    let issuer = common::school(ISSUER_URL, "did:web:delinde.example")
        .with_wallet_attestation(schooltas_issuer::WalletAttestationRequirement::new(anchors));
    let service = common::service(issuer, ServiceConfig::default());
    let server = Running::start(service.clone(), ISSUER_URL);
    let (code, pin) = offer(&service, &server, "pupil-17", &["pupil_enrolment"]);
    let form = TokenRequest { pre_authorized_code: code.clone(), tx_code: Some(pin.clone()) }.to_form();
    for header in ["OAuth-Client-Attestation", "OAuth-Client-Attestation-PoP"] {
        let request = server
            .agent()
            .post(format!("http://{}/token", server.address))
            .header("Content-Type", FORM)
            .header(header, "a.b.c")
            .header(header, "d.e.f");
        let answer = common::Answer::from(request.send(form.as_str()).unwrap());
        assert_eq!((answer.status, answer.error().as_str()), (400, "invalid_request"), "{header}");
        assert!(answer.body.contains(&format!("more than one {header} header")), "{}", answer.body);
    }
    let answer = token(&server, &code, Some(&pin));
    assert_eq!((answer.status, answer.error().as_str()), (401, "invalid_client"));
    assert!(answer.body.contains("OAuth-Client-Attestation-PoP"), "{}", answer.body);
}

/// Sends `head` (a request line and headers, without the final blank line) and a form body
/// over a raw connection, so header values can hold bytes an HTTP client would refuse to send;
/// returns the status and the body.
fn raw_post(server: &Running, head: &[u8], body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut request = head.to_vec();
    request.extend_from_slice(
        format!(
            "\r\nHost: x\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.get(9..12).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn header_values_that_are_not_visible_ascii_are_typed_400s() {
    let (service, server) = running(ServiceConfig::default());
    let (code, pin) = offer(&service, &server, "pupil-17", &["pupil_enrolment"]);
    let form = TokenRequest { pre_authorized_code: code.clone(), tx_code: Some(pin.clone()) }.to_form();
    // obs-text (bytes 0x80-0xFF) is allowed on the wire by RFC 9110 §5.5 but is no JWT.
    let (status, body) = raw_post(&server, b"POST /token HTTP/1.1\r\nDPoP: ey\xff\xfe.a.b", &form);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"invalid_dpop_proof\"") && body.contains("the DPoP header is not a JWT"), "{body}");
    let (status, body) = raw_post(&server, b"POST /token HTTP/1.1\r\nOAuth-Client-Attestation: \xc3\xa9.a.b", &form);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("\"invalid_request\"") && body.contains("the OAuth-Client-Attestation header is not a JWT"),
        "{body}"
    );
    // Neither spent the code: it still redeems once.
    assert_eq!(token(&server, &code, Some(&pin)).status, 200);
}
