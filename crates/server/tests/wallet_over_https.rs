//! The wallet's own OpenID4VCI client (`schooltas_wallet::issuer_http::HttpsIssuerConnection`,
//! the guarded HTTPS client every wallet fetch uses) against the school's service over TLS on
//! 127.0.0.1: the offer by reference, metadata at the well-known locations, the token with the
//! PIN, the nonce, a batch of credentials, each checked (issuer signature, holder binding, a
//! VALID status fetched from the service) and stored. Refusals over the wire come back as the
//! spec's errors, and nothing is stored.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use schooltas_did::Signer as _;
use schooltas_did::jws::Header;
use schooltas_did::net::{Get, GuardedClient};
use schooltas_school::catalog::Catalog;
use schooltas_server::{IssuerService, ServiceConfig, TlsConfig};
use schooltas_status_list::{FetchError, StatusListCache, StatusListUri};
use schooltas_wallet::Error;
use schooltas_wallet::issuer_http::HttpsIssuerConnection;
use schooltas_wallet::receive::{Receiver, stored_credentials};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};

fn file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls").join(name)
}

/// The school at `https://localhost:<port>` (the test certificate's name), served over TLS.
struct School {
    url: String,
    service: IssuerService<schooltas_issuer::store::SqliteStore>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl School {
    fn start() -> School {
        Self::start_with(|issuer| issuer)
    }

    fn start_with(
        configure: impl FnOnce(
            schooltas_issuer::Issuer<schooltas_issuer::store::SqliteStore>,
        ) -> schooltas_issuer::Issuer<schooltas_issuer::store::SqliteStore>,
    ) -> School {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("https://localhost:{port}");
        let did = format!("did:web:localhost%3A{port}");
        let service = common::service(configure(common::school(&url, &did)), ServiceConfig::default());
        let tls = TlsConfig::from_pem_files(&file("localhost-chain.pem"), &file("localhost.key")).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = service.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serving.serve_tls_until(listener, tls, async move { drop(stopped.await) }).await.unwrap();
            });
        });
        School { url, service, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for School {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// The wallet's guarded client, trusting only the test CA, allowed to reach this machine.
fn client() -> GuardedClient {
    GuardedClient::new("schooltas-wallet-test")
        .with_trust_anchors_pem(&std::fs::read(file("ca.pem")).unwrap())
        .unwrap()
        .dangerous_allow_private_addresses()
}

fn wallet() -> Vault {
    Vault::in_memory(Unlock::Key(&WalletKey::generate()), KdfParams::INSECURE_FOR_TESTS).unwrap()
}

/// Receives `offer_uri` into `vault` through HTTPS only.
fn receive(school: &School, vault: &Vault, offer_uri: &str, pin: Option<&str>) -> schooltas_wallet::Result<usize> {
    receive_attested(school, vault, offer_uri, pin, None)
}

/// [`receive`], the wallet attesting itself with `wallet_attestor` when given.
fn receive_attested(
    school: &School,
    vault: &Vault,
    offer_uri: &str,
    pin: Option<&str>,
    wallet_attestor: Option<&dyn schooltas_wallet::wallet_attestation::WalletAttestor>,
) -> schooltas_wallet::Result<usize> {
    let connection = HttpsIssuerConnection::with_client(client()).with_timeout(Duration::from_secs(10));
    // The wallet trusts the school's key (from a trust list, in an app); the status list is
    // fetched from the service over the same guarded client.
    let school_key = school.service.with_issuer(|issuer| issuer.profile().keys().signer().verifying_key().clone());
    let issuer_key = move |_: &Header, _: Option<&str>| Ok(school_key.clone());
    let fetcher = client();
    let status = StatusListCache::new(move |uri: &StatusListUri| -> Result<String, FetchError> {
        let get = Get {
            url: uri.as_str(),
            accept: "application/statuslist+jwt",
            max_len: 1 << 20,
            timeout: Duration::from_secs(10),
            plain_http: false,
        };
        let answer = fetcher.get(&get).map_err(|e| FetchError::from(e.to_string()))?;
        String::from_utf8(answer.body).map_err(|_| FetchError::from("not text"))
    });
    let catalog = Catalog::standard();
    let receiver = Receiver {
        vault,
        connection: &connection,
        catalog: &catalog,
        issuer_key: &issuer_key,
        status: &status,
        copies: 3,
        key_attestor: None,
        wallet_attestor,
        holder_keys: None,
    };
    receiver.receive(offer_uri, pin, common::NOW).map(|stored| stored.iter().map(|(_, _, copies)| copies).sum())
}

#[test]
fn the_wallet_receives_a_batch_from_the_school_over_https() {
    let school = School::start();
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    assert!(offer.uri.starts_with("openid-credential-offer://?credential_offer_uri="));
    let vault = wallet();
    let pin = offer.pin.as_ref().unwrap().to_string();
    assert_eq!(receive(&school, &vault, &offer.uri, Some(&pin)).unwrap(), 3);
    let stored = stored_credentials(&vault).unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|copy| copy.issuer.starts_with("did:web:localhost") && !copy.used));
    assert_eq!(school.service.with_issuer(|issuer| issuer.credentials_of("pupil-17").unwrap())[0].copies, 3);
}

#[test]
fn a_wrong_pin_comes_back_as_the_issuers_invalid_grant_and_nothing_is_stored() {
    let school = School::start();
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let vault = wallet();
    let pin = offer.pin.as_ref().unwrap().to_string();
    let wrong: String = pin.chars().map(|c| if c == '0' { '1' } else { '0' }).collect();
    let error = receive(&school, &vault, &offer.uri, Some(&wrong)).unwrap_err();
    assert!(matches!(&error, Error::IssuerRefused { error, .. } if error == "invalid_grant"), "{error}");
    assert!(stored_credentials(&vault).unwrap().is_empty());
    // The right PIN still works afterwards (one wrong try does not burn the offer).
    assert_eq!(receive(&school, &vault, &offer.uri, Some(&pin)).unwrap(), 3);
}

#[test]
fn a_wallet_that_does_not_trust_the_schools_certificate_gets_nowhere() {
    let school = School::start();
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let connection = HttpsIssuerConnection::with_client(GuardedClient::new("t").dangerous_allow_private_addresses());
    let catalog = Catalog::standard();
    let vault = wallet();
    let key = schooltas_did::SigningKey::from_ed25519_seed(&[1; 32]).verifying_key().clone();
    let issuer_key = move |_: &Header, _: Option<&str>| Ok(key.clone());
    let status = StatusListCache::new(|_: &StatusListUri| -> Result<String, FetchError> { Err("unused".into()) });
    let receiver = Receiver {
        vault: &vault,
        connection: &connection,
        catalog: &catalog,
        issuer_key: &issuer_key,
        status: &status,
        copies: 1,
        key_attestor: None,
        wallet_attestor: None,
        holder_keys: None,
    };
    let error = receiver.receive(&offer.uri, offer.pin.as_deref().map(|p| p.as_ref()), common::NOW).unwrap_err();
    assert!(
        matches!(&error, Error::Did(schooltas_did::Error::Fetch { reason, .. })
            if *reason == schooltas_did::net::NetError::Tls.to_string()),
        "{error}"
    );
    let _ = &school.url;
}

// ---- DPoP (RFC 9449, HAIP 1.0) ----------------------------------------------------------------

fn post_raw(
    url: &str,
    content_type: &str,
    body: &[u8],
    bearer: Option<&str>,
    dpop: Option<&str>,
) -> schooltas_did::net::Answer {
    let post = schooltas_did::net::Post {
        url,
        content_type,
        body,
        accept: "application/json",
        bearer,
        dpop,
        client_attestation: None,
        max_len: 1 << 20,
        timeout: Duration::from_secs(10),
        plain_http: false,
    };
    client().post(&post).unwrap()
}

fn error_of(answer: &schooltas_did::net::Answer) -> String {
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    body["error"].as_str().unwrap().to_owned()
}

#[test]
fn with_dpop_required_the_wallet_binds_its_token_and_the_nonce_round_trip_works() {
    let school = School::start_with(|issuer| issuer.with_dpop(schooltas_issuer::DpopRequirement::haip()));
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let vault = wallet();
    let pin = offer.pin.as_ref().unwrap().to_string();
    // The wallet sees dpop_signing_alg_values_supported, gets use_dpop_nonce, retries with the
    // nonce, and fetches the batch with Authorization: DPoP and a proof by the same key.
    assert_eq!(receive(&school, &vault, &offer.uri, Some(&pin)).unwrap(), 3);
    assert_eq!(stored_credentials(&vault).unwrap().len(), 3);
}

#[test]
fn with_dpop_required_a_token_request_without_a_proof_or_its_nonce_is_refused_and_a_bearer_use_too() {
    let school = School::start_with(|issuer| issuer.with_dpop(schooltas_issuer::DpopRequirement::haip()));
    let token_url = format!("{}/token", school.url);
    let credential_url = format!("{}/credential", school.url);
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let code = {
        let connection = HttpsIssuerConnection::with_client(client());
        use schooltas_wallet::receive::IssuerConnection as _;
        let schooltas_oid4vc::oid4vci::CredentialOfferUri::ByReference(location) =
            schooltas_oid4vc::oid4vci::CredentialOfferUri::parse(&offer.uri).unwrap()
        else {
            panic!("the service offers by reference")
        };
        let offer =
            schooltas_oid4vc::oid4vci::CredentialOffer::from_json(&connection.offer(&location).unwrap()).unwrap();
        offer.pre_authorized_grant().unwrap().pre_authorized_code.clone()
    };
    let pin = offer.pin.as_ref().unwrap().to_string();
    let form = schooltas_oid4vc::oid4vci::TokenRequest { pre_authorized_code: code, tx_code: Some(pin) }.to_form();

    // No proof: 400 invalid_dpop_proof.
    let answer = post_raw(&token_url, "application/x-www-form-urlencoded", form.as_bytes(), None, None);
    assert_eq!((answer.status, error_of(&answer).as_str()), (400, "invalid_dpop_proof"));
    // A proof without the nonce: 400 use_dpop_nonce with the nonce in DPoP-Nonce (§8).
    let key = schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap();
    let bare = schooltas_oid4vc::dpop::sign_dpop_proof(&key, "POST", &token_url, None, None, common::NOW).unwrap();
    let answer = post_raw(&token_url, "application/x-www-form-urlencoded", form.as_bytes(), None, Some(&bare));
    assert_eq!((answer.status, error_of(&answer).as_str()), (400, "use_dpop_nonce"));
    let nonce = answer.dpop_nonce.clone().expect("a DPoP-Nonce header");
    // With it: a DPoP token.
    let proof =
        schooltas_oid4vc::dpop::sign_dpop_proof(&key, "POST", &token_url, None, Some(&nonce), common::NOW).unwrap();
    let answer = post_raw(&token_url, "application/x-www-form-urlencoded", form.as_bytes(), None, Some(&proof));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let token: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(token["token_type"], "DPoP");
    let access = token["access_token"].as_str().unwrap().to_owned();

    // The token as Bearer: 401 invalid_token, challenged with the DPoP scheme.
    let answer = post_raw(&credential_url, "application/json", b"{}", Some(&access), None);
    assert_eq!((answer.status, error_of(&answer).as_str()), (401, "invalid_token"));
    // As DPoP with another key's proof: 401 invalid_token.
    let thief = schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap();
    let stolen = schooltas_oid4vc::dpop::sign_dpop_proof(
        &thief,
        "POST",
        &credential_url,
        Some(&access),
        Some(&nonce),
        common::NOW,
    )
    .unwrap();
    let answer = post_raw(&credential_url, "application/json", b"{}", Some(&access), Some(&stolen));
    assert_eq!((answer.status, error_of(&answer).as_str()), (401, "invalid_token"));
    // With its key but no nonce: 401 use_dpop_nonce and the nonce.
    let bare = schooltas_oid4vc::dpop::sign_dpop_proof(&key, "POST", &credential_url, Some(&access), None, common::NOW)
        .unwrap();
    let answer = post_raw(&credential_url, "application/json", b"{}", Some(&access), Some(&bare));
    assert_eq!((answer.status, error_of(&answer).as_str()), (401, "use_dpop_nonce"));
    assert!(answer.dpop_nonce.is_some());
}

// ---- Wallet attestation (OpenID4VCI 1.0 Appendix E, HAIP 1.0 §4.4.1) ---------------------------

const WALLET_CLIENT_ID: &str = "https://wallet.example/schooltas";

/// A wallet provider's root CA (the school's anchor for wallet providers) and its attestor.
fn wallet_provider() -> (schooltas_x509::TrustAnchors, schooltas_wallet::wallet_attestation::SoftwareWalletAttestor) {
    use schooltas_did::{Algorithm, SigningKey};
    use schooltas_x509::{CertificateAuthority, Profile, Subject, TrustAnchors, Validity};
    let root = CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Wallet BV", "Wallet BV Root").unwrap(),
        Validity::days_from(common::NOW - 86_400, 3650).unwrap(),
        Some(0),
        Profile::Haip,
    )
    .unwrap();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let certificate = root
        .issue_wallet_provider_certificate(
            key.verifying_key(),
            "https://wallet.example",
            &Subject::new("Wallet BV", "Wallet BV attestations").unwrap(),
            Validity::days_from(common::NOW - 86_400, 365).unwrap(),
        )
        .unwrap();
    let attestor = schooltas_wallet::wallet_attestation::SoftwareWalletAttestor::new(
        key,
        certificate.chain().certificates().to_vec(),
        "https://wallet.example",
        WALLET_CLIENT_ID,
    );
    (TrustAnchors::from_der(vec![root.certificate_der().to_vec()]).unwrap(), attestor)
}

#[test]
fn an_attested_wallet_receives_from_a_school_that_requires_attestation_and_an_unattested_one_gets_401() {
    let (anchors, attestor) = wallet_provider();
    let requirement = schooltas_issuer::WalletAttestationRequirement::new(anchors).allow_clients([WALLET_CLIENT_ID]);
    let school = School::start_with(move |issuer| issuer.with_wallet_attestation(requirement));
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let pin = offer.pin.as_ref().unwrap().to_string();

    // The metadata says so.
    let metadata = client()
        .get(&Get {
            url: &format!("{}/.well-known/oauth-authorization-server", school.url),
            accept: "application/json",
            max_len: 1 << 20,
            timeout: Duration::from_secs(10),
            plain_http: false,
        })
        .unwrap();
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.body).unwrap();
    assert_eq!(metadata["token_endpoint_auth_methods_supported"], serde_json::json!(["attest_jwt_client_auth"]));
    assert_eq!(metadata["client_attestation_pop_signing_alg_values_supported"], serde_json::json!(["ES256"]));

    // Without an attestor: the token endpoint answers 401 invalid_client, nothing is stored.
    let vault = wallet();
    let error = receive(&school, &vault, &offer.uri, Some(&pin)).unwrap_err();
    assert!(matches!(&error, Error::IssuerRefused { error, .. } if error == "invalid_client"), "{error}");
    assert!(stored_credentials(&vault).unwrap().is_empty());
    let token_url = format!("{}/token", school.url);
    // Over the wire: 401 (RFC 6749 §5.2), before any code is looked at (this one is unknown).
    let form =
        schooltas_oid4vc::oid4vci::TokenRequest { pre_authorized_code: "unknown".into(), tx_code: None }.to_form();
    let answer = post_raw(&token_url, "application/x-www-form-urlencoded", form.as_bytes(), None, None);
    assert_eq!(answer.status, 401);
    assert_eq!(error_of(&answer), "invalid_client");

    // With it: the same offer (no code was spent) is received.
    assert_eq!(receive_attested(&school, &vault, &offer.uri, Some(&pin), Some(&attestor)).unwrap(), 3);
    assert_eq!(stored_credentials(&vault).unwrap().len(), 3);
}

#[test]
fn an_attested_wallet_also_binds_its_token_with_dpop() {
    let (anchors, attestor) = wallet_provider();
    let school = School::start_with(move |issuer| {
        issuer
            .with_wallet_attestation(schooltas_issuer::WalletAttestationRequirement::new(anchors))
            .with_dpop(schooltas_issuer::DpopRequirement::haip())
    });
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let vault = wallet();
    let pin = offer.pin.as_ref().unwrap().to_string();
    // use_dpop_nonce first: the retry carries a fresh PoP (the first one's jti is spent).
    assert_eq!(receive_attested(&school, &vault, &offer.uri, Some(&pin), Some(&attestor)).unwrap(), 3);
}

#[test]
fn a_school_that_wants_its_attestation_challenge_gets_it_on_the_wallets_retry() {
    let (anchors, attestor) = wallet_provider();
    let school = School::start_with(move |issuer| {
        issuer
            .with_wallet_attestation(schooltas_issuer::WalletAttestationRequirement::new(anchors).require_challenge())
            .with_dpop(schooltas_issuer::DpopRequirement::haip())
    });
    // Without the challenge: 400 use_attestation_challenge, the challenge in its header.
    let token_url = format!("{}/token", school.url);
    let form =
        schooltas_oid4vc::oid4vci::TokenRequest { pre_authorized_code: "unknown".into(), tx_code: None }.to_form();
    let auth =
        schooltas_wallet::wallet_attestation::WalletAttestor::attest(&attestor, &school.url, common::NOW).unwrap();
    let post = schooltas_did::net::Post {
        url: &token_url,
        content_type: "application/x-www-form-urlencoded",
        body: form.as_bytes(),
        accept: "application/json",
        bearer: None,
        dpop: None,
        client_attestation: Some((&auth.attestation, &auth.pop)),
        max_len: 1 << 20,
        timeout: Duration::from_secs(10),
        plain_http: false,
    };
    let answer = client().post(&post).unwrap();
    assert_eq!((answer.status, error_of(&answer).as_str()), (400, "use_attestation_challenge"));
    assert!(answer.attestation_challenge.is_some());

    // The wallet retries with it (and then with the DPoP nonce) and receives.
    let offer = school.service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();
    let vault = wallet();
    let pin = offer.pin.as_ref().unwrap().to_string();
    assert_eq!(receive_attested(&school, &vault, &offer.uri, Some(&pin), Some(&attestor)).unwrap(), 3);
}
