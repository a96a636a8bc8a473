//! A test school served on 127.0.0.1:0 and a real HTTP client (ureq) that talks to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::thread::JoinHandle;

use schooltas_did::{Did, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Error, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_school::catalog::Catalog;
use schooltas_server::{IssuerService, ServiceConfig};
use serde_json::{Map, Value, json};

/// The clock every test service reads: a fixed moment (no test asserts a time).
pub(crate) const NOW: i64 = 1_800_000_000;

/// A school at `issuer_url` (https, optionally with a path) with `did`, its status lists
/// under `<issuer_url>/status`.
pub(crate) fn school(issuer_url: &str, did: &str) -> Issuer<SqliteStore> {
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse(did).unwrap(),
        issuer_url,
        SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
    )
    .unwrap();
    let status = StatusPolicy::new(format!("{issuer_url}/status"));
    Issuer::new(profile, Catalog::standard(), SqliteStore::in_memory().unwrap(), status).with_max_batch(4)
}

/// The given name in pupil-17's records: no error or log may carry it.
pub(crate) const GIVEN_NAME: &str = "Sanne";

/// The school's administration: the claims of pupil-17; `pupil-broken` has a record the
/// catalog refuses (a number where the group's name belongs).
pub(crate) fn administration(subject: &str, config_id: &str) -> Result<Map<String, Value>, Error> {
    let group = if subject == "pupil-broken" { json!(7) } else { json!("7B") };
    let claims = match config_id {
        "pupil_enrolment" => json!({"school_name": "Basisschool De Linde", "school_brin": "12AB",
            "school_location": "00", "school_year": "2026-2027", "group": group, "given_name": GIVEN_NAME,
            "family_name": "de Vries", "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false}),
        "school_advice" => json!({"school_name": "Basisschool De Linde", "school_brin": "12AB",
            "advice": ["havo"], "advice_date": "2027-01-31", "adjusted_after_final_test": false}),
        _ => json!({}),
    };
    Ok(claims.as_object().cloned().unwrap())
}

/// The service of `issuer` with the fixed clock and `config`.
pub(crate) fn service(issuer: Issuer<SqliteStore>, config: ServiceConfig) -> IssuerService<SqliteStore> {
    IssuerService::with_clock(issuer, administration, config, || NOW).unwrap()
}

type Stopped = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
type Serving = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A service running on its own tokio runtime on 127.0.0.1:0 until dropped.
pub(crate) struct Running {
    pub(crate) address: SocketAddr,
    /// The issuer URL's origin (`https://host`), which [`Running::url`] maps to the loopback
    /// address.
    origin: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    agent: ureq::Agent,
}

impl Running {
    pub(crate) fn start(service: IssuerService<SqliteStore>, issuer_url: &str) -> Self {
        Self::start_with(issuer_url, move |listener, stopped| {
            Box::pin(async move { service.serve_until(listener, stopped).await.unwrap() })
        })
    }

    /// The administration router of `service` behind `token`.
    pub(crate) fn start_admin(
        service: IssuerService<SqliteStore>,
        token: schooltas_server::AdminToken,
        issuer_url: &str,
    ) -> Self {
        Self::start_with(issuer_url, move |listener, stopped| {
            Box::pin(async move { service.serve_admin_until(listener, token, stopped).await.unwrap() })
        })
    }

    fn start_with(
        issuer_url: &str,
        serve: impl FnOnce(tokio::net::TcpListener, Stopped) -> Serving + Send + 'static,
    ) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serve(listener, Box::pin(async move { drop(stopped.await) })).await;
            });
        });
        let rest = issuer_url.strip_prefix("https://").unwrap();
        let origin = format!("https://{}", rest.split('/').next().unwrap());
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        Running { address, origin, stop: Some(stop), thread: Some(thread), agent }
    }

    /// `https://host/…` of the issuer's metadata, on the loopback server instead (TLS is a
    /// reverse proxy's job in production).
    pub(crate) fn url(&self, https_url: &str) -> String {
        let path = https_url.strip_prefix(&self.origin).expect("a URL on the issuer's host");
        format!("http://{}{path}", self.address)
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> Answer {
        Answer::from(self.agent.get(format!("http://{}{path}", self.address)).call().unwrap())
    }

    /// `GET path` with a Bearer token.
    pub(crate) fn get_with_token(&self, path: &str, token: &str) -> Answer {
        let request = self.agent.get(format!("http://{}{path}", self.address));
        Answer::from(request.header("Authorization", format!("Bearer {token}")).call().unwrap())
    }

    /// `GET` an https URL of the issuer.
    pub(crate) fn get_url(&self, https_url: &str) -> Answer {
        Answer::from(self.agent.get(self.url(https_url)).call().unwrap())
    }

    /// `POST path` with a body of `content_type` and, when given, a Bearer token.
    pub(crate) fn post(&self, path: &str, content_type: &str, body: &str, bearer: Option<&str>) -> Answer {
        let mut request =
            self.agent.post(format!("http://{}{path}", self.address)).header("Content-Type", content_type);
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Answer::from(request.send(body).unwrap())
    }

    /// The agent, for requests of other shapes.
    pub(crate) fn agent(&self) -> &ureq::Agent {
        &self.agent
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            drop(thread.join());
        }
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: ureq::http::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` member of an error answer.
    pub(crate) fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

impl From<ureq::http::Response<ureq::Body>> for Answer {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.body_mut().read_to_string().unwrap();
        Answer { status, headers, body }
    }
}
