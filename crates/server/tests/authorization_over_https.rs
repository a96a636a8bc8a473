//! The whole authorization code flow over TLS on 127.0.0.1: the wallet's own HTTPS client
//! (`HttpsIssuerConnection`) pushes its request, the test plays the browser (follows the
//! authorization endpoint's `303` to the school portal by hand) and the portal (logs a parent
//! in and answers on the staff listener), then hands the final redirect URL to the wallet,
//! which redeems the code and stores the credentials. With DPoP required too (HAIP 1.0).
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use schooltas_did::jws::Header;
use schooltas_did::net::{Get, GuardedClient};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{DpopRequirement, Issuer};
use schooltas_school::catalog::Catalog;
use schooltas_server::{AdminToken, IssuerService, RedirectPortal, ServiceConfig, TlsConfig};
use schooltas_status_list::{FetchError, StatusListCache, StatusListUri};
use schooltas_wallet::authorize::{AuthorizationInProgress, StartFrom};
use schooltas_wallet::issuer_http::HttpsIssuerConnection;
use schooltas_wallet::receive::{Receiver, stored_credentials};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};
use schooltas_wallet::wallet_attestation::{SoftwareWalletAttestor, WalletAttestor};
use schooltas_wallet::{AuthorizationResponseRefusal, Error};
use serde_json::{Value, json};

const PORTAL: &str = "https://portal.localhost.example/login";
const TOKEN: &str = "0123456789abcdef0123456789abcdef-staff";
const CLIENT: &str = "https://wallet.schooltas.example";
const REDIRECT: &str = "https://wallet.schooltas.example/authorized";
const PARENT: &str = "pupil-0417/parent";

fn file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls").join(name)
}

/// The school at `https://localhost:<port>` over TLS, its staff listener on loopback HTTP.
struct School {
    url: String,
    admin: std::net::SocketAddr,
    service: IssuerService<SqliteStore>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl School {
    fn start(configure: impl FnOnce(Issuer<SqliteStore>) -> Issuer<SqliteStore>) -> School {
        let public = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let admin = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        for listener in [&public, &admin] {
            listener.set_nonblocking(true).unwrap();
        }
        let port = public.local_addr().unwrap().port();
        let admin_address = admin.local_addr().unwrap();
        let url = format!("https://localhost:{port}");
        let did = format!("did:web:localhost%3A{port}");
        let service = common::service(configure(common::school(&url, &did)), ServiceConfig::default())
            .with_authorization_portal(RedirectPortal::new(PORTAL).unwrap())
            .unwrap();
        let tls = TlsConfig::from_pem_files(&file("localhost-chain.pem"), &file("localhost.key")).unwrap();
        let (stop_public, public_stopped) = tokio::sync::oneshot::channel::<()>();
        let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let (serving, staff) = (service.clone(), service.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let public = tokio::net::TcpListener::from_std(public).unwrap();
                let admin = tokio::net::TcpListener::from_std(admin).unwrap();
                let token = AdminToken::new(TOKEN).unwrap();
                let (a, b) = tokio::join!(
                    serving.serve_tls_until(public, tls, async move { drop(public_stopped.await) }),
                    staff.serve_admin_until(admin, token, async move { drop(admin_stopped.await) }),
                );
                a.unwrap();
                b.unwrap();
            });
        });
        School { url, admin: admin_address, service, stops: vec![stop_public, stop_admin], threads: vec![thread] }
    }

    /// The browser opens the authorization URL: the `303` to the portal, followed by hand to
    /// read the handle the portal receives.
    fn browser_to_portal(&self, in_progress: &AuthorizationInProgress) -> String {
        let url = in_progress.authorization_url();
        assert!(url.starts_with(&format!("{}/authorize?", self.url)), "{url}");
        let get =
            Get { url, accept: "text/html", max_len: 1 << 16, timeout: Duration::from_secs(10), plain_http: false };
        let answer = client().get(&get).unwrap();
        assert_eq!(answer.status, 303);
        let location = answer.location.unwrap();
        location.strip_prefix(&format!("{PORTAL}?authorization=")).expect("the portal's login").to_owned()
    }

    /// The portal, after the parent logged in: its answer on the staff listener.
    fn portal_answers(&self, handle: &str, answer: &Value) -> (u16, Value) {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let mut response = agent
            .post(format!("http://{}/admin/authorizations/{handle}", self.admin))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("Bearer {TOKEN}"))
            .send(answer.to_string())
            .unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap())
    }
}

impl Drop for School {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            stop.send(()).ok();
        }
        for thread in self.threads.drain(..) {
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

/// Runs `work` with a receiver over HTTPS only.
fn with_receiver<T>(school: &School, vault: &Vault, work: impl FnOnce(&Receiver<'_>) -> T) -> T {
    with_attested_receiver(school, vault, None, work)
}

/// [`with_receiver`], the wallet attesting itself with `wallet_attestor` when given.
fn with_attested_receiver<T>(
    school: &School,
    vault: &Vault,
    wallet_attestor: Option<&dyn WalletAttestor>,
    work: impl FnOnce(&Receiver<'_>) -> T,
) -> T {
    let connection = HttpsIssuerConnection::with_client(client()).with_timeout(Duration::from_secs(10));
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
        copies: 2,
        key_attestor: None,
        wallet_attestor,
        holder_keys: None,
    };
    work(&receiver)
}

fn start(school: &School, vault: &Vault) -> AuthorizationInProgress {
    with_receiver(school, vault, |receiver| {
        let ids = ["pupil_enrolment".to_owned()];
        receiver.start_authorization(StartFrom::Issuer(&school.url), &ids, CLIENT, REDIRECT, common::NOW).unwrap()
    })
}

fn the_whole_flow(school: &School) {
    let vault = wallet();
    let in_progress = start(school, &vault);
    let handle = school.browser_to_portal(&in_progress);
    let (status, answer) = school.portal_answers(&handle, &json!({"subject": PARENT, "approve": true}));
    assert_eq!(status, 200, "{answer}");
    let redirect_to = answer["redirect_to"].as_str().unwrap();
    assert!(redirect_to.starts_with(&format!("{REDIRECT}?code=")), "{redirect_to}");
    let summary =
        with_receiver(school, &vault, |receiver| receiver.finish_authorization(&in_progress, redirect_to, common::NOW))
            .unwrap();
    assert_eq!(summary[0].2, 2);
    assert_eq!(stored_credentials(&vault).unwrap().len(), 2);
    assert_eq!(school.service.with_issuer(|issuer| issuer.credentials_of(PARENT).unwrap())[0].copies, 2);
    // The same response again: the code is spent, the issuer says invalid_grant.
    let again =
        with_receiver(school, &vault, |receiver| receiver.finish_authorization(&in_progress, redirect_to, common::NOW))
            .unwrap_err();
    assert!(matches!(&again, Error::IssuerRefused { error, .. } if error == "invalid_grant"), "{again}");
}

#[test]
fn a_parent_who_starts_at_the_portal_receives_over_https() {
    the_whole_flow(&School::start(|issuer| issuer));
}

#[test]
fn with_dpop_required_the_flow_binds_code_and_token_to_the_wallets_key() {
    let school = School::start(|issuer| issuer.with_dpop(DpopRequirement::haip()));
    the_whole_flow(&school);
}

#[test]
fn a_parent_who_says_no_reaches_the_wallet_as_access_denied() {
    let school = School::start(|issuer| issuer);
    let vault = wallet();
    let in_progress = start(&school, &vault);
    let handle = school.browser_to_portal(&in_progress);
    let (status, answer) = school.portal_answers(&handle, &json!({"approve": false}));
    assert_eq!(status, 200);
    let error = with_receiver(&school, &vault, |receiver| {
        receiver.finish_authorization(&in_progress, answer["redirect_to"].as_str().unwrap(), common::NOW)
    })
    .unwrap_err();
    assert!(matches!(error, Error::AuthorizationDenied), "{error}");
    // The portal cannot answer twice.
    let (status, again) = school.portal_answers(&handle, &json!({"subject": PARENT, "approve": true}));
    assert_eq!((status, again["error"].as_str()), (409, Some("conflict")));
}

#[test]
fn a_forged_state_is_refused_by_the_wallet_and_the_code_stays_usable() {
    let school = School::start(|issuer| issuer);
    let vault = wallet();
    let in_progress = start(&school, &vault);
    let handle = school.browser_to_portal(&in_progress);
    let (_, answer) = school.portal_answers(&handle, &json!({"subject": PARENT, "approve": true}));
    let redirect_to = answer["redirect_to"].as_str().unwrap();
    let forged = redirect_to.replace(&format!("state={}", in_progress.state()), "state=forged");
    let error =
        with_receiver(&school, &vault, |receiver| receiver.finish_authorization(&in_progress, &forged, common::NOW))
            .unwrap_err();
    assert!(matches!(error, Error::AuthorizationResponse(AuthorizationResponseRefusal::StateMismatch)), "{error}");
    assert!(stored_credentials(&vault).unwrap().is_empty());
    with_receiver(&school, &vault, |receiver| receiver.finish_authorization(&in_progress, redirect_to, common::NOW))
        .unwrap();
}

// ---- wallet attestation at PAR and at the token endpoint (HAIP 1.0 §4.3, §4.4.1) ------------

/// A wallet provider's root CA (the school's anchor for wallet providers) and its attestor of
/// the wallet app `CLIENT`.
fn wallet_provider() -> (schooltas_x509::TrustAnchors, SoftwareWalletAttestor) {
    use schooltas_did::{Algorithm, Signer as _, SigningKey};
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
    let attestor =
        SoftwareWalletAttestor::new(key, certificate.chain().certificates().to_vec(), "https://wallet.example", CLIENT);
    (TrustAnchors::from_der(vec![root.certificate_der().to_vec()]).unwrap(), attestor)
}

#[test]
fn an_attested_wallet_runs_the_flow_and_an_unattested_one_gets_401_at_par() {
    let (anchors, attestor) = wallet_provider();
    let requirement = schooltas_issuer::WalletAttestationRequirement::new(anchors).require_challenge();
    let school =
        School::start(move |issuer| issuer.with_wallet_attestation(requirement).with_dpop(DpopRequirement::haip()));
    let vault = wallet();
    let ids = ["pupil_enrolment".to_owned()];
    // Without an attestor: the PAR endpoint answers 401 invalid_client; nothing to open.
    let refused = with_receiver(&school, &vault, |receiver| {
        receiver.start_authorization(StartFrom::Issuer(&school.url), &ids, CLIENT, REDIRECT, common::NOW)
    })
    .unwrap_err();
    assert!(matches!(&refused, Error::IssuerRefused { error, .. } if error == "invalid_client"), "{refused}");
    let post = schooltas_did::net::Post {
        url: &format!("{}/par", school.url),
        content_type: "application/x-www-form-urlencoded",
        body: b"client_id=x",
        accept: "application/json",
        bearer: None,
        dpop: None,
        client_attestation: None,
        max_len: 1 << 16,
        timeout: Duration::from_secs(10),
        plain_http: false,
    };
    assert_eq!(client().post(&post).unwrap().status, 401);
    // With it: PAR and token each carry the attestation and a fresh PoP (with the school's
    // challenge, after one retry), DPoP on top.
    let in_progress = with_attested_receiver(&school, &vault, Some(&attestor), |receiver| {
        receiver.start_authorization(StartFrom::Issuer(&school.url), &ids, CLIENT, REDIRECT, common::NOW)
    })
    .unwrap();
    let handle = school.browser_to_portal(&in_progress);
    let (status, answer) = school.portal_answers(&handle, &json!({"subject": PARENT, "approve": true}));
    assert_eq!(status, 200, "{answer}");
    let redirect_to = answer["redirect_to"].as_str().unwrap();
    // The code's token request must be attested too.
    let unattested = with_receiver(&school, &vault, |receiver| {
        receiver.finish_authorization(&in_progress, redirect_to, common::NOW)
    })
    .unwrap_err();
    assert!(matches!(&unattested, Error::IssuerRefused { error, .. } if error == "invalid_client"), "{unattested}");
    let summary = with_attested_receiver(&school, &vault, Some(&attestor), |receiver| {
        receiver.finish_authorization(&in_progress, redirect_to, common::NOW)
    })
    .unwrap();
    assert_eq!(summary[0].2, 2);
    assert_eq!(stored_credentials(&vault).unwrap().len(), 2);
}
