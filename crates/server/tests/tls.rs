//! HTTPS in-process: the service on 127.0.0.1 with a certificate for `localhost` from the test
//! CA in `tests/tls/` (see `make.sh` there), and a client that trusts only that CA.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use schooltas_server::{Error, ServiceConfig, TlsConfig};

fn file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls").join(name)
}

#[test]
fn the_service_answers_over_https_with_the_configured_certificate() {
    let tls = TlsConfig::from_pem_files(&file("localhost-chain.pem"), &file("localhost.key")).unwrap();
    let service =
        common::service(common::school("https://delinde.example", "did:web:delinde.example"), ServiceConfig::default());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            service.serve_tls_until(listener, tls, async move { drop(stopped.await) }).await.unwrap();
        });
    });

    let ca = ureq::tls::Certificate::from_pem(&std::fs::read(file("ca.pem")).unwrap()).unwrap();
    let client_tls =
        ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca]))).build();
    let agent = ureq::Agent::config_builder().tls_config(client_tls).http_status_as_error(false).build().new_agent();
    let mut answer =
        agent.get(format!("https://localhost:{port}/.well-known/openid-credential-issuer")).call().unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let metadata = answer.body_mut().read_to_string().unwrap();
    assert!(metadata.contains("\"credential_issuer\":\"https://delinde.example\""), "{metadata}");

    // A client that does not trust the test CA does not get through.
    let stranger = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let refused = stranger.get(format!("https://localhost:{port}/nonce")).call().unwrap_err();
    assert!(
        matches!(&refused, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData
            && format!("{io:?}").contains("UnknownIssuer")),
        "{refused:?}"
    );
    // Nor does plain HTTP on the TLS port.
    let refused =
        agent.get(format!("http://localhost:{port}/.well-known/openid-credential-issuer")).call().unwrap_err();
    assert!(matches!(refused, ureq::Error::Protocol(_) | ureq::Error::Io(_)), "{refused:?}");

    stop.send(()).ok();
    thread.join().unwrap();
}

#[test]
fn the_administration_answers_over_https_too() {
    let tls = TlsConfig::from_pem_files(&file("localhost-chain.pem"), &file("localhost.key")).unwrap();
    let service =
        common::service(common::school("https://delinde.example", "did:web:delinde.example"), ServiceConfig::default());
    let token = "test-admin-token-0123456789abcdef0123";
    let admin = schooltas_server::AdminToken::new(token).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            service.serve_admin_tls_until(listener, admin, tls, async move { drop(stopped.await) }).await.unwrap();
        });
    });
    let ca = ureq::tls::Certificate::from_pem(&std::fs::read(file("ca.pem")).unwrap()).unwrap();
    let client_tls =
        ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca]))).build();
    let agent = ureq::Agent::config_builder().tls_config(client_tls).http_status_as_error(false).build().new_agent();
    let answer = agent
        .get(format!("https://localhost:{port}/admin/subjects/pupil-17/credentials"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    stop.send(()).ok();
    thread.join().unwrap();
}

#[test]
fn unreadable_or_mismatched_tls_files_are_refused() {
    let missing = TlsConfig::from_pem_files(&file("absent.pem"), &file("localhost.key")).unwrap_err();
    assert!(matches!(&missing, Error::TlsFile { path, .. } if path.ends_with("absent.pem")), "{missing}");
    let no_key = TlsConfig::from_pem_files(&file("localhost-chain.pem"), &file("ca.pem")).unwrap_err();
    assert!(matches!(&no_key, Error::TlsFile { path, .. } if path.ends_with("ca.pem")), "{no_key}");
    let no_chain = TlsConfig::from_pem_files(&file("localhost.key"), &file("localhost.key")).unwrap_err();
    assert!(matches!(&no_chain, Error::TlsFile { path, .. } if path.ends_with("localhost.key")), "{no_chain}");
    // The CA's certificate with the leaf's key: the key is not the certificate's.
    let mismatched = TlsConfig::from_pem_files(&file("ca.pem"), &file("localhost.key")).unwrap_err();
    assert!(matches!(mismatched, Error::Tls { .. }), "{mismatched}");
}
