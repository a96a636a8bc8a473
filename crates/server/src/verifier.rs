//! The verifier's OpenID4VP endpoints on the wire: request objects by reference and the
//! `direct_post` response endpoint for wallets, and a result endpoint for the verifier's own
//! front end. Like the issuer's, an HTTP layer over the library ([`schooltas_verifier`]) with no
//! protocol rule of its own.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET <request path>/<id>` | wallets | the signed request object, `application/oauth-authz-req+jwt` (OpenID4VP 1.0 §5.10, RFC 9101 §5.2) |
//! | `POST <request path>/<id>` | wallets | the same for `request_uri_method=post` (§5.10.1); the wallet's form (`wallet_metadata`, `wallet_nonce`) is read within the body limit and not used: the request object is signed once, when the session opens |
//! | `POST <response path>` | wallets | `direct_post` (§8.2): the form is verified by [`Verifier::receive`]; 200 `{}` (with the session's `redirect_uri` when it has one) for an accepted answer, 400 with the failed checks for a refused one; `error=…` (the holder declined) is reported on the session |
//! | `GET <sessions path>/<id>` | the verifier's front end, Bearer [`AdminToken`] | the session's outcome: pending (with the last refusal), declined, or accepted with the verdict's claims |
//!
//! A session is opened by the embedding program ([`VerifierService::open_session`]), which
//! builds the request against the trust list, signs it and hands back the `openid4vp://` URI
//! for the QR code. Sessions are bounded ([`VerifierConfig::max_sessions`]) and forgotten when
//! their request expires (an accepted outcome is kept for [`VerifierConfig::outcome_lifetime`]
//! more).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rand::Rng as _;
use schooltas_did::Resolver;
use schooltas_school::trust_list::VerifiedTrustList;
use schooltas_status_list::StatusListCache;
use schooltas_verifier::{Failure, RequestBuilder, UnknownStatus, Verdict, VerificationContext, Verifier};
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::admin::AdminToken;
use crate::error::{Error, Result};
use crate::service::{Clock, SystemClock};

/// RFC 9101 §10.2: the media type of a signed request object.
pub const REQUEST_OBJECT_JWT: &str = "application/oauth-authz-req+jwt";
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// Limits and lifetimes of a [`VerifierService`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierConfig {
    /// How long a request (and so its session) is open, in seconds.
    pub request_lifetime: i64,
    /// How long an accepted or declined outcome stays readable after the answer, in seconds.
    pub outcome_lifetime: i64,
    /// How many sessions are kept at once; opening one more is refused
    /// ([`Error::TooManySessions`]) until older ones expire.
    pub max_sessions: usize,
    /// The largest `POST` body, in bytes (a response with two presentations and a guardian
    /// approval is ~10 KiB); 413 beyond it.
    pub max_body_bytes: usize,
    /// How long a client may take to send a request head.
    pub header_timeout: Duration,
    /// How long one request may take; then 408.
    pub request_timeout: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
    /// What to do when a credential's status list cannot be fetched.
    pub unknown_status: UnknownStatus,
}

impl Default for VerifierConfig {
    /// Requests open 10 minutes, outcomes kept 10 minutes, 100 000 sessions, 256 KiB bodies,
    /// 10 s heads, 30 s requests, 1024 connections, an unknown status refused.
    fn default() -> Self {
        VerifierConfig {
            request_lifetime: 600,
            outcome_lifetime: 600,
            max_sessions: 100_000,
            max_body_bytes: 256 << 10,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            unknown_status: UnknownStatus::Refuse,
        }
    }
}

/// A session just opened: what the verifier's front end shows.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedSession {
    /// The session's id, for [`VerifierService::outcome`] and the sessions endpoint.
    pub id: String,
    /// `openid4vp://?client_id=…&request_uri=…`: the QR code or link for the wallet.
    pub uri: String,
    /// Where the request object is served.
    pub request_uri: String,
}

impl fmt::Debug for OpenedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedSession").field("request_uri", &self.request_uri).finish_non_exhaustive()
    }
}

/// Where a session stands.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SessionOutcome {
    /// No accepted answer yet; the last refused one's failures, if any came.
    Pending {
        /// The failed checks of the last refused answer.
        last_refusal: Option<Vec<Failure>>,
    },
    /// An error response (`error=…`) came for the session's `state`: the holder declined, or
    /// someone who saw the QR code says so. An error response is unauthenticated (OpenID4VP
    /// §8.2 has no key binding for it, and the `state` is in the request object anyone with the
    /// QR code can fetch), so it does not close the session: the request stays served and a
    /// valid answer still replaces this outcome.
    Declined {
        /// The OAuth error code the wallet sent (`access_denied`, …).
        error: String,
    },
    /// An accepted answer.
    Accepted(Box<Verdict>),
}

struct Session {
    request_object: String,
    state: String,
    nonce: String,
    expires_at: i64,
    redirect_uri: Option<String>,
    outcome: SessionOutcome,
}

#[derive(Default)]
struct Sessions {
    by_id: HashMap<String, Session>,
    by_nonce: HashMap<String, String>,
    by_state: HashMap<String, String>,
    /// (forget at, id), in the order sessions were opened or closed.
    expiry: VecDeque<(i64, String)>,
}

impl Sessions {
    fn purge(&mut self, now: i64) {
        while let Some((at, _)) = self.expiry.front() {
            if *at > now {
                break;
            }
            let Some((_, id)) = self.expiry.pop_front() else { break };
            let forget = self.by_id.get(&id).is_some_and(|session| session.expires_at <= now);
            if forget && let Some(session) = self.by_id.remove(&id) {
                self.by_nonce.remove(&session.nonce);
                self.by_state.remove(&session.state);
            }
        }
    }

    fn close(&mut self, id: &str, outcome: SessionOutcome, until: i64) {
        if let Some(session) = self.by_id.get_mut(id) {
            session.outcome = outcome;
            session.expires_at = until;
            self.expiry.push_back((until, id.to_owned()));
        }
    }
}

struct Shared {
    verifier: Verifier,
    trust_list: RwLock<Arc<VerifiedTrustList>>,
    resolver: Resolver,
    status: StatusListCache,
    clock: Arc<dyn Clock>,
    config: VerifierConfig,
    request_base: String,
    request_path: String,
    response_path: String,
    sessions_path: String,
    sessions: Mutex<Sessions>,
}

impl Shared {
    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn trust_list(&self) -> Arc<VerifiedTrustList> {
        Arc::clone(&self.trust_list.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A verifier's OpenID4VP service: sessions, request objects by reference, the response
/// endpoint, and the outcome for the verifier's own front end. Cloning shares everything.
#[derive(Clone)]
pub struct VerifierService {
    shared: Arc<Shared>,
}

impl fmt::Debug for VerifierService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierService")
            .field("verifier", &self.shared.verifier)
            .field("request_base", &self.shared.request_base)
            .field("response_path", &self.shared.response_path)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// The path of an `https://host[:port]/path` URL, without a trailing `/`; `None` for
/// anything else.
fn path_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    if rest.contains(['?', '#']) {
        return None;
    }
    let path = rest.find('/').map_or("", |at| &rest[at..]);
    Some(path.trim_end_matches('/').to_owned())
}

impl VerifierService {
    /// The service of `verifier` (its response endpoint is [`Verifier::response_uri`]), which
    /// serves request objects under `request_base` (`https://verifier.example/oid4vp/requests`),
    /// the outcomes under `<request_base>/../sessions` (see [`VerifierService::router`]),
    /// verifies against `trust_list` with `resolver` (issuer DIDs) and `status`.
    pub fn new(
        verifier: Verifier,
        trust_list: VerifiedTrustList,
        resolver: Resolver,
        status: StatusListCache,
        request_base: &str,
        config: VerifierConfig,
    ) -> Result<Self> {
        Self::with_clock(verifier, trust_list, resolver, status, request_base, config, SystemClock)
    }

    /// [`new`](Self::new) with another clock than the system's.
    pub fn with_clock(
        verifier: Verifier,
        trust_list: VerifiedTrustList,
        resolver: Resolver,
        status: StatusListCache,
        request_base: &str,
        config: VerifierConfig,
        clock: impl Clock + 'static,
    ) -> Result<Self> {
        let unservable =
            |what: &'static str| Error::UnservablePath { what, reason: "it is not an https URL with a path".into() };
        let request_path =
            path_of(request_base).filter(|p| !p.is_empty()).ok_or_else(|| unservable("request objects"))?;
        let response_path = path_of(verifier.response_uri())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| unservable("response endpoint"))?;
        let sessions_path = match request_path.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/sessions"),
            None => "/sessions".to_owned(),
        };
        if response_path == request_path || response_path == sessions_path {
            return Err(Error::PathConflict { first: request_path, second: response_path });
        }
        Ok(VerifierService {
            shared: Arc::new(Shared {
                verifier,
                trust_list: RwLock::new(Arc::new(trust_list)),
                resolver,
                status,
                clock: Arc::new(clock),
                config,
                request_base: request_base.trim_end_matches('/').to_owned(),
                request_path,
                response_path,
                sessions_path,
                sessions: Mutex::new(Sessions::default()),
            }),
        })
    }

    /// Replaces the trust list (the operator publishes a new one); sessions opened before keep
    /// their requests, answers are verified against the new list.
    pub fn set_trust_list(&self, trust_list: VerifiedTrustList) {
        *self.shared.trust_list.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(trust_list);
    }

    /// The path of the outcomes (`GET <path>/<id>`, admin router).
    pub fn sessions_path(&self) -> &str {
        &self.shared.sessions_path
    }

    /// Opens a session: a request for the registered purpose `purpose`, built by `configure`
    /// (credential queries, legal basis, retention, transaction data) against the current
    /// trust list — which refuses over-asking — signed, and served by reference. After an
    /// accepted answer the wallet is sent to `redirect_uri` (the front end's page), if given.
    pub fn open_session(
        &self,
        purpose: &str,
        redirect_uri: Option<&str>,
        configure: impl FnOnce(RequestBuilder<'_>) -> RequestBuilder<'_>,
    ) -> Result<OpenedSession> {
        let shared = &self.shared;
        let now = shared.clock.now();
        let (id, state) = (random_id(), random_id());
        let trust_list = shared.trust_list();
        let current = trust_list.at(now).map_err(schooltas_school::Error::from)?;
        let builder = RequestBuilder::new(current, shared.verifier.did(), shared.verifier.response_uri(), purpose)
            .state(state.clone());
        let mut sessions = shared.sessions();
        sessions.purge(now);
        if sessions.by_id.len() >= shared.config.max_sessions {
            return Err(Error::TooManySessions { limit: shared.config.max_sessions });
        }
        let signed = shared.verifier.request(configure(builder), now, shared.config.request_lifetime)?;
        let request_uri = format!("{}/{id}", shared.request_base);
        let uri = signed.uri_by_reference(request_uri.clone());
        let expires_at = now.saturating_add(shared.config.request_lifetime);
        sessions.by_nonce.insert(signed.request.nonce.clone(), id.clone());
        sessions.by_state.insert(state.clone(), id.clone());
        sessions.expiry.push_back((expires_at, id.clone()));
        sessions.by_id.insert(
            id.clone(),
            Session {
                request_object: signed.request_object,
                state,
                nonce: signed.request.nonce,
                expires_at,
                redirect_uri: redirect_uri.map(str::to_owned),
                outcome: SessionOutcome::Pending { last_refusal: None },
            },
        );
        Ok(OpenedSession { id, uri, request_uri })
    }

    /// Where session `id` stands; `None` for an unknown or forgotten session.
    pub fn outcome(&self, id: &str) -> Option<SessionOutcome> {
        let now = self.shared.clock.now();
        let mut sessions = self.shared.sessions();
        sessions.purge(now);
        sessions.by_id.get(id).map(|session| session.outcome.clone())
    }

    /// The wallets' router: request objects and the response endpoint, CORS for browser
    /// wallets, the body limit and the time-out.
    pub fn router(&self) -> Router {
        let shared = &self.shared;
        let cors = CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE]);
        Router::new()
            .route(&format!("{}/{{id}}", shared.request_path), get(request_object).post(request_object_post))
            .route(&shared.response_path, axum::routing::post(response))
            .fallback(|| async {
                refusal(StatusCode::NOT_FOUND, "invalid_request", "there is no endpoint at this path")
            })
            .layer(cors)
            .layer(DefaultBodyLimit::max(shared.config.max_body_bytes))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, shared.config.request_timeout))
            .with_state(Arc::clone(shared))
    }

    /// The front end's router: `GET <sessions path>/<id>` behind `token`, no CORS.
    pub fn admin_router(&self, token: AdminToken) -> Router {
        let state = (Arc::clone(&self.shared), Arc::new(token));
        Router::new()
            .route(&format!("{}/{{id}}", self.shared.sessions_path), get(session_outcome))
            .fallback(|| async {
                refusal(StatusCode::NOT_FOUND, "invalid_request", "there is no endpoint at this path")
            })
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, self.shared.config.request_timeout))
            .with_state(state)
    }

    fn limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            header_timeout: self.shared.config.header_timeout,
            max_connections: self.shared.config.max_connections,
        }
    }

    /// Serves [`router`](Self::router) on `listener` until `shutdown` completes.
    pub async fn serve_until(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        crate::serve::serve(self.router(), listener, self.limits(), None, shutdown).await
    }

    /// [`serve_until`](Self::serve_until) over HTTPS.
    #[cfg(feature = "tls")]
    pub async fn serve_tls_until(
        self,
        listener: tokio::net::TcpListener,
        tls: crate::TlsConfig,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server);
        crate::serve::serve(self.router(), listener, self.limits(), Some(acceptor), shutdown).await
    }

    /// Serves [`admin_router`](Self::admin_router) behind `token` on `listener` (a listener only
    /// the front end reaches) until `shutdown` completes.
    pub async fn serve_admin_until(
        self,
        listener: tokio::net::TcpListener,
        token: AdminToken,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        crate::serve::serve(self.admin_router(token), listener, self.limits(), None, shutdown).await
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    schooltas_did::base64url::encode(bytes)
}

/// A JSON error answer (RFC 6749 §5.2 shape).
fn refusal(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description}).to_string();
    (status, [(header::CONTENT_TYPE, JSON), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

type VerifierState = State<Arc<Shared>>;

async fn request_object(State(shared): VerifierState, Path(id): Path<String>) -> Response {
    let now = shared.clock.now();
    let mut sessions = shared.sessions();
    sessions.purge(now);
    match sessions.by_id.get(&id) {
        // Until an answer is accepted: a decline is unauthenticated and must not lock the
        // family out of its own request.
        Some(session) if !matches!(session.outcome, SessionOutcome::Accepted(_)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, REQUEST_OBJECT_JWT), (header::CACHE_CONTROL, "no-store")],
            session.request_object.clone(),
        )
            .into_response(),
        _ => refusal(StatusCode::NOT_FOUND, "invalid_request_uri", "no open request at this request_uri"),
    }
}

async fn request_object_post(state: VerifierState, id: Path<String>, headers: HeaderMap, _body: Bytes) -> Response {
    if !media_type_is(&headers, FORM) {
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "a request_uri POST is application/x-www-form-urlencoded",
        );
    }
    request_object(state, id).await
}

fn media_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(expected))
        .unwrap_or(false)
}

/// The `error` parameter of a form body, if it is an error response. A body without an
/// `error=` pair (every answer with a `vp_token`) is not decoded here: the verifier decodes it.
fn form_error(body: &str) -> Option<(String, Option<String>)> {
    if !body.split('&').any(|pair| pair.starts_with("error=")) {
        return None;
    }
    let pairs = schooltas_oid4vc::form::decode(body).ok()?;
    let value = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    Some((value("error")?, value("state")))
}

async fn response(State(shared): VerifierState, headers: HeaderMap, body: Bytes) -> Response {
    if !media_type_is(&headers, FORM) {
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "a direct_post response is application/x-www-form-urlencoded",
        );
    }
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return refusal(StatusCode::BAD_REQUEST, "invalid_request", "the body is not UTF-8");
    };
    let work = Arc::clone(&shared);
    let answer = tokio::task::spawn_blocking(move || receive(&work, &body)).await;
    answer.unwrap_or_else(|_| {
        refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the answer could not be checked")
    })
}

fn receive(shared: &Shared, body: &str) -> Response {
    let now = shared.clock.now();
    // An error response (the holder declined): closes the session its state names.
    if let Some((error, state)) = form_error(body) {
        let mut sessions = shared.sessions();
        sessions.purge(now);
        let Some(id) = state.and_then(|state| sessions.by_state.get(&state).cloned()) else {
            return refusal(StatusCode::BAD_REQUEST, "invalid_request", "the error response names no open request");
        };
        // Reported, not final: the request stays open until it expires (see `Declined`).
        if let Some(session) = sessions.by_id.get_mut(&id)
            && !matches!(session.outcome, SessionOutcome::Accepted(_))
        {
            let code: String = error.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
            session.outcome = SessionOutcome::Declined { error: code };
        }
        return ok_answer(None);
    }
    let trust_list = shared.trust_list();
    let mut context = VerificationContext::new(&trust_list, &shared.resolver, &shared.status, now);
    context.unknown_status = shared.config.unknown_status;
    let received = shared.verifier.receive(body, &context);
    let Some(request) = received.request else {
        return refused(&received.verdict.failures);
    };
    let mut sessions = shared.sessions();
    sessions.purge(now);
    let Some(id) = sessions.by_nonce.get(&request.nonce).cloned() else {
        return refused(&received.verdict.failures);
    };
    if received.verdict.is_accepted() {
        let redirect = sessions.by_id.get(&id).and_then(|s| s.redirect_uri.clone());
        let until = now.saturating_add(shared.config.outcome_lifetime);
        sessions.close(&id, SessionOutcome::Accepted(Box::new(received.verdict)), until);
        ok_answer(redirect.as_deref())
    } else {
        if let Some(session) = sessions.by_id.get_mut(&id) {
            session.outcome = SessionOutcome::Pending { last_refusal: Some(received.verdict.failures.clone()) };
        }
        refused(&received.verdict.failures)
    }
}

/// OpenID4VP 1.0 §8.2: 200 with a JSON object, `redirect_uri` when the verifier wants the
/// wallet to send the user on.
fn ok_answer(redirect_uri: Option<&str>) -> Response {
    let body = match redirect_uri {
        Some(uri) => json!({ "redirect_uri": uri }),
        None => json!({}),
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, JSON), (header::CACHE_CONTROL, "no-store")], body.to_string())
        .into_response()
}

/// 400 naming the failed checks (their reasons name rules, never claim values, and may be
/// shown to the sender).
fn refused(failures: &[Failure]) -> Response {
    let described: Vec<String> = failures.iter().map(ToString::to_string).collect();
    let text = if described.is_empty() { "the response was refused".to_owned() } else { described.join("; ") };
    refusal(StatusCode::BAD_REQUEST, "invalid_request", &text)
}

fn failures_json(failures: &[Failure]) -> Value {
    Value::Array(
        failures.iter().map(|f| json!({"check": f.check.name(), "query_id": f.query_id, "reason": f.reason})).collect(),
    )
}

async fn session_outcome(
    State((shared, token)): State<(Arc<Shared>, Arc<AdminToken>)>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !token.admits(presented) {
        let mut answer =
            refusal(StatusCode::UNAUTHORIZED, "invalid_token", "the administration token is missing or wrong");
        answer
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
        return answer;
    }
    let now = shared.clock.now();
    let mut sessions = shared.sessions();
    sessions.purge(now);
    let Some(session) = sessions.by_id.get(&id) else {
        return refusal(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "no such session (unknown, or expired and forgotten)",
        );
    };
    let body = match &session.outcome {
        SessionOutcome::Pending { last_refusal } => json!({
            "status": "pending",
            "last_refusal": last_refusal.as_deref().map(failures_json),
        }),
        SessionOutcome::Declined { error } => json!({"status": "declined", "error": error}),
        SessionOutcome::Accepted(verdict) => json!({
            "status": "accepted",
            "subject": verdict.subject,
            "legal_bases": verdict.legal_bases,
            "guardian_approval": verdict.guardian_approval.is_some(),
            "status_unknown": verdict.status_unknown,
            "credentials": verdict.credentials.iter().map(|c| json!({
                "query_id": c.query_id, "issuer": c.issuer, "vct": c.vct, "claims": c.claims,
            })).collect::<Vec<_>>(),
        }),
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, JSON), (header::CACHE_CONTROL, "no-store")], body.to_string())
        .into_response()
}
