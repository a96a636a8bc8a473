//! The verifier's OpenID4VP endpoints on the wire: request objects by reference and the
//! `direct_post` response endpoint for wallets, and a result endpoint for the verifier's own
//! front end. Like the issuer's, an HTTP layer over the library ([`schooltas_verifier`]) with no
//! protocol rule of its own.
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET <request path>/<id>` | wallets | the signed request object, `application/oauth-authz-req+jwt` (OpenID4VP 1.0 §5.10, RFC 9101 §5.2) |
//! | `POST <request path>/<id>` | wallets | the same for `request_uri_method=post` (§5.10.1): signed again for this fetch with the form's `wallet_nonce` as a claim (the wallet knows the object is fresh); `wallet_metadata` is read within the body limit and not used (the request is fixed when the session opens) |
//! | `POST <response path>` | wallets | `direct_post` (§8.2): the form is verified by [`Verifier::receive`]; 200 `{}` (with the session's `redirect_uri` when it has one) for an accepted answer, 400 with the failed checks for a refused one; `error=…` (the holder declined) is reported on the session. With [`VerifierConfig::encrypted_responses`] (`direct_post.jwt`, §8.3) the form is `response=<JWE>`, decrypted first; a plaintext answer is 400 with the failed check `encryption` |
//! | `GET <sessions path>/<id>` | the verifier's front end, Bearer [`AdminToken`] | the session's outcome: pending (with the last refusal), declined, or accepted with the verdict's claims and the consent recorded |
//! | `POST <response path>`, `Content-Type: application/schooltas-consent-withdrawal+jwt` | wallets | a signed consent withdrawal (docs/protocol/guardian-approval.md "Withdrawal"): 200 `{"withdrawn": true}`; 404 `unknown_consent`, 403 `not_the_consenter`, 400 for a stale, misaddressed or malformed message, 409 `already_withdrawn` |
//! | `GET <consents path>/may-use?subject=…&purpose=…[&object=…]` | staff (the newsletter editor), Bearer [`AdminToken`] | the consent register's answer: `{"answer": "yes", "consent_id", …}` or `{"answer": "no", "reason", …}`, with the guardianship's status checked |
//! | `GET <consents path>/subjects/<subject>` | staff answering an access request (GDPR art. 15), Bearer [`AdminToken`] | every consent about the subject with its evidence and withdrawal |
//!
//! A session is opened by the embedding program ([`VerifierService::open_session`]), which
//! builds the request against the trust list, signs it and hands back the `openid4vp://` URI
//! for the QR code. Sessions are bounded ([`VerifierConfig::max_sessions`]) and forgotten when
//! their request expires (an accepted outcome is kept for [`VerifierConfig::outcome_lifetime`]
//! more).
//!
//! With a consent register ([`VerifierService::with_consent_register`]) an accepted answer
//! that rests on consent is recorded — durably, before the wallet is told 200 — and the
//! withdrawal, `may-use` and export endpoints answer from it. A record that cannot be written
//! is answered 500 (`server_error`) and the session stays pending: the wallet was not told yes,
//! so nothing acknowledged is lost (the family answers a new request; the old one's nonce is
//! spent). The consents path is `<request base>/../consents`, beside the sessions.

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
use schooltas_oid4vc::oid4vp::error_response_of;
use schooltas_school::trust_list::VerifiedTrustList;
use schooltas_status_list::StatusListCache;
use schooltas_verifier::ContentEncryption;
use schooltas_verifier::register::{
    ConsentId, ConsentRegister, ConsentStore, NoReason, StatusCheck, StatusIssuer, UseAnswer, UseQuery, WithdrawnBy,
};
use schooltas_verifier::{Failure, Received, RequestBuilder, UnknownStatus, Verdict, VerificationContext, Verifier};
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::admin::AdminToken;
use crate::error::{Error, Result};
use crate::service::{Clock, SystemClock};

/// RFC 9101 §10.2: the media type of a signed request object.
pub const REQUEST_OBJECT_JWT: &str = "application/oauth-authz-req+jwt";
/// The media type of a consent withdrawal posted to the response endpoint (its JWT `typ`).
pub const WITHDRAWAL_JWT: &str = "application/schooltas-consent-withdrawal+jwt";
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
    /// Whether the `openid4vp://` URI says `request_uri_method=post` (§5.10): wallets that
    /// support it `POST` their `wallet_nonce` and get a request object carrying it. `GET` is
    /// served either way.
    pub request_uri_method_post: bool,
    /// Whether wallets encrypt their responses (`response_mode=direct_post.jwt`, OpenID4VP 1.0
    /// §8.3; required by HAIP 1.0): each request names the service's encryption key (a P-256
    /// ECDH-ES key generated when the service starts, unless the [`Verifier`] brings its own)
    /// and offers A128GCM and A256GCM, and a plaintext response is refused with 400
    /// `invalid_request` and the failed check `encryption`.
    pub encrypted_responses: bool,
}

impl VerifierConfig {
    /// The HAIP 1.0 profile: [`VerifierConfig::default`] with encrypted responses on.
    pub fn haip() -> Self {
        VerifierConfig { encrypted_responses: true, ..VerifierConfig::default() }
    }
}

impl Default for VerifierConfig {
    /// Requests open 10 minutes, outcomes kept 10 minutes, 100 000 sessions, 256 KiB bodies,
    /// 10 s heads, 30 s requests, 1024 connections, an unknown status refused, request objects
    /// fetched with `GET` (`request_uri_method` left out), plaintext `direct_post` responses
    /// ([`VerifierConfig::haip`] encrypts them).
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
            request_uri_method_post: false,
            encrypted_responses: false,
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
    Accepted {
        /// What was verified.
        verdict: Box<Verdict>,
        /// The consent recorded for it, when the service keeps a consent register and the
        /// answer rests on consent.
        consent: Option<ConsentId>,
    },
}

struct Session {
    request_object: String,
    /// The request, to sign again with a wallet's `wallet_nonce`.
    request: schooltas_oid4vc::oid4vp::AuthorizationRequest,
    state: String,
    nonce: String,
    expires_at: i64,
    redirect_uri: Option<String>,
    /// Set when an answer is accepted for a session with a `redirect_uri`: the fresh code the
    /// redirect carries back (OpenID4VP 1.0 §8.2, HAIP 1.0 §5.1): the front end gets the
    /// outcome only with it, so a presentation whose redirect did not come back in the user's
    /// own browser session is never used.
    response_code: Option<String>,
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

/// The consent register behind a service, whatever its store.
trait Consents: Send + Sync {
    fn record(&self, verifier: &Verifier, received: &Received, now: i64) -> schooltas_verifier::Result<ConsentId>;
    fn withdraw(
        &self,
        verifier: &Verifier,
        jwt: &str,
        now: i64,
    ) -> schooltas_verifier::Result<(ConsentId, WithdrawnBy)>;
    fn may_use(
        &self,
        query: UseQuery<'_>,
        now: i64,
        status: Option<&StatusCheck<'_>>,
    ) -> schooltas_verifier::Result<UseAnswer>;
    fn export(&self, subject: &str) -> schooltas_verifier::Result<Value>;
}

impl<S: ConsentStore + Send + Sync> Consents for ConsentRegister<S> {
    fn record(&self, verifier: &Verifier, received: &Received, now: i64) -> schooltas_verifier::Result<ConsentId> {
        verifier.record_consent(self, received, now)
    }

    fn withdraw(
        &self,
        verifier: &Verifier,
        jwt: &str,
        now: i64,
    ) -> schooltas_verifier::Result<(ConsentId, WithdrawnBy)> {
        verifier.apply_withdrawal_by(self, jwt, now)
    }

    fn may_use(
        &self,
        query: UseQuery<'_>,
        now: i64,
        status: Option<&StatusCheck<'_>>,
    ) -> schooltas_verifier::Result<UseAnswer> {
        ConsentRegister::may_use(self, query, now, status)
    }

    fn export(&self, subject: &str) -> schooltas_verifier::Result<Value> {
        self.export_json(subject)
    }
}

struct Shared {
    verifier: Verifier,
    consents: Option<Box<dyn Consents>>,
    consents_path: String,
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
        let parent = request_path.rsplit_once('/').map_or("", |(parent, _)| parent);
        let sessions_path = format!("{parent}/sessions");
        let consents_path = format!("{parent}/consents");
        if response_path == request_path || response_path == sessions_path || response_path == consents_path {
            return Err(Error::PathConflict { first: request_path, second: response_path });
        }
        // HAIP 1.0: a fresh encryption key for every request, dropped once it is answered.
        let verifier = if config.encrypted_responses && !verifier.asks_for_encrypted_responses() {
            verifier.with_ephemeral_response_encryption(&[ContentEncryption::A128Gcm, ContentEncryption::A256Gcm])
        } else {
            verifier
        };
        Ok(VerifierService {
            shared: Arc::new(Shared {
                verifier,
                consents: None,
                consents_path,
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

    /// Keeps the consents given through this service in `register`: accepted answers that
    /// rest on consent are recorded before the wallet is told yes, and the withdrawal,
    /// `may-use` and export endpoints answer from it. Call it before the service is cloned or
    /// served ([`Error::ConfiguredTooLate`] after).
    pub fn with_consent_register<S: ConsentStore + Send + Sync + 'static>(
        mut self,
        register: ConsentRegister<S>,
    ) -> Result<Self> {
        let shared = Arc::get_mut(&mut self.shared).ok_or(Error::ConfiguredTooLate { what: "the consent register" })?;
        shared.consents = Some(Box::new(register));
        Ok(self)
    }

    /// The path of the staff's consent endpoints (`may-use`, `subjects/<subject>`, admin
    /// router).
    pub fn consents_path(&self) -> &str {
        &self.shared.consents_path
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
        let mut uri = signed.uri_by_reference(request_uri.clone());
        if shared.config.request_uri_method_post {
            uri.push_str("&request_uri_method=post");
        }
        let expires_at = now.saturating_add(shared.config.request_lifetime);
        sessions.by_nonce.insert(signed.request.nonce.clone(), id.clone());
        sessions.by_state.insert(state.clone(), id.clone());
        sessions.expiry.push_back((expires_at, id.clone()));
        sessions.by_id.insert(
            id.clone(),
            Session {
                request_object: signed.request_object,
                request: signed.request.clone(),
                state,
                nonce: signed.request.nonce,
                expires_at,
                redirect_uri: redirect_uri.map(str::to_owned),
                response_code: None,
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

    /// The front end's and the staff's router behind `token`, no CORS: `GET <sessions
    /// path>/<id>`, and with a consent register `GET <consents path>/may-use` and `GET
    /// <consents path>/subjects/<subject>`.
    pub fn admin_router(&self, token: AdminToken) -> Router {
        let state = (Arc::clone(&self.shared), Arc::new(token));
        Router::new()
            .route(&format!("{}/{{id}}", self.shared.sessions_path), get(session_outcome))
            .route(&format!("{}/may-use", self.shared.consents_path), get(may_use))
            .route(&format!("{}/subjects/{{subject}}", self.shared.consents_path), get(export))
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
        Some(session) if !matches!(session.outcome, SessionOutcome::Accepted { .. }) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, REQUEST_OBJECT_JWT), (header::CACHE_CONTROL, "no-store")],
            session.request_object.clone(),
        )
            .into_response(),
        _ => refusal(StatusCode::NOT_FOUND, "invalid_request_uri", "no open request at this request_uri"),
    }
}

async fn request_object_post(
    State(shared): VerifierState,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !media_type_is(&headers, FORM) {
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "a request_uri POST is application/x-www-form-urlencoded",
        );
    }
    let form = std::str::from_utf8(&body).ok().and_then(|body| schooltas_oid4vc::form::decode(body).ok());
    let Some(form) = form else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is not a strict form with each parameter once (wallet_metadata, wallet_nonce)",
        );
    };
    let Some(wallet_nonce) = form.iter().find(|(name, _)| name == "wallet_nonce").map(|(_, nonce)| nonce.clone())
    else {
        return request_object(State(shared), Path(id)).await;
    };
    let now = shared.clock.now();
    let request = {
        let mut sessions = shared.sessions();
        sessions.purge(now);
        match sessions.by_id.get(&id) {
            Some(session) if !matches!(session.outcome, SessionOutcome::Accepted { .. }) => {
                (session.request.clone(), session.expires_at)
            }
            _ => return refusal(StatusCode::NOT_FOUND, "invalid_request_uri", "no open request at this request_uri"),
        }
    };
    let (request, expires_at) = request;
    // Signed for what is left of the session (at least a second, so it is a valid object).
    let lifetime = expires_at.saturating_sub(now).max(1);
    match shared.verifier.sign_request_object(&request, now, lifetime, Some(&wallet_nonce)) {
        Ok(jwt) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, REQUEST_OBJECT_JWT), (header::CACHE_CONTROL, "no-store")], jwt)
                .into_response()
        }
        Err(schooltas_verifier::Error::Credential(schooltas_school::Error::Oid4vp(
            schooltas_oid4vc::oid4vp::Oid4vpError::InvalidWalletNonce,
        ))) => refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the wallet_nonce is empty, longer than 512 bytes or not printable ASCII",
        ),
        Err(_) => refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the request object could not be signed"),
    }
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
    if media_type_is(&headers, WITHDRAWAL_JWT) {
        return withdrawal(shared, body).await;
    }
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
    // An error response (the holder declined): closes the session its state names. With
    // encrypted responses on, only an encrypted one counts (§8.3); a plaintext one goes to the
    // verifier, which refuses it as unencrypted.
    let declined = match shared.verifier.decrypt_response(body, now) {
        Some(Ok(json)) => error_response_of(&json),
        Some(Err(_)) => None,
        None if shared.verifier.asks_for_encrypted_responses() => None,
        None => form_error(body),
    };
    if let Some((error, state)) = declined {
        let mut sessions = shared.sessions();
        sessions.purge(now);
        let Some(id) = state.and_then(|state| sessions.by_state.get(&state).cloned()) else {
            return refusal(StatusCode::BAD_REQUEST, "invalid_request", "the error response names no open request");
        };
        // Reported, not final: the request stays open until it expires (see `Declined`).
        if let Some(session) = sessions.by_id.get_mut(&id)
            && !matches!(session.outcome, SessionOutcome::Accepted { .. })
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
    let Some(nonce) = received.request.as_ref().map(|request| request.nonce.clone()) else {
        return refused(&received.verdict.failures);
    };
    if !shared.sessions().by_nonce.contains_key(&nonce) {
        return refused(&received.verdict.failures);
    }
    // The consent is durable before the wallet hears yes; the sessions lock is not held over
    // the write. The verifier's nonce store let this answer through once, so no other answer
    // to the session records a consent meanwhile.
    let consent = match &shared.consents {
        Some(register) if received.verdict.is_accepted() && !received.verdict.consent_queries().is_empty() => {
            match register.record(&shared.verifier, &received, now) {
                Ok(id) => Some(id),
                Err(_) => {
                    return refusal(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        "the consent could not be recorded, so it was not accepted; answer a new request",
                    );
                }
            }
        }
        _ => None,
    };
    let mut sessions = shared.sessions();
    sessions.purge(now);
    let Some(id) = sessions.by_nonce.get(&nonce).cloned() else {
        return refused(&received.verdict.failures);
    };
    if received.verdict.is_accepted() {
        let redirect = sessions.by_id.get_mut(&id).and_then(|session| {
            let base = session.redirect_uri.as_deref()?;
            let code = random_id();
            let separator = if base.contains('#') { '&' } else { '#' };
            let redirect = format!("{base}{separator}response_code={code}");
            session.response_code = Some(code);
            Some(redirect)
        });
        let until = now.saturating_add(shared.config.outcome_lifetime);
        let outcome = SessionOutcome::Accepted { verdict: Box::new(received.verdict), consent };
        sessions.close(&id, outcome, until);
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
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&token, &headers) {
        return refused;
    }
    let given_code = uri
        .query()
        .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("response_code=")).map(str::to_owned));
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
    // HAIP 1.0 §5.1: an accepted answer for a session with a `redirect_uri` is released only
    // with the response code its redirect carried back.
    if let (SessionOutcome::Accepted { .. }, Some(expected)) = (&session.outcome, &session.response_code) {
        match given_code {
            None => {
                let body = json!({"status": "awaiting_redirect"}).to_string();
                return (StatusCode::OK, [(header::CONTENT_TYPE, JSON), (header::CACHE_CONTROL, "no-store")], body)
                    .into_response();
            }
            Some(given) if !crate::admin::constant_time_eq(given.as_bytes(), expected.as_bytes()) => {
                return refusal(
                    StatusCode::FORBIDDEN,
                    "invalid_request",
                    "the response_code is not the one this session's redirect carried: the answer came back to \
                     another browser session, and is not released",
                );
            }
            Some(_) => {}
        }
    }
    let body = match &session.outcome {
        SessionOutcome::Pending { last_refusal } => json!({
            "status": "pending",
            "last_refusal": last_refusal.as_deref().map(failures_json),
        }),
        SessionOutcome::Declined { error } => json!({"status": "declined", "error": error}),
        SessionOutcome::Accepted { verdict, consent } => json!({
            "status": "accepted",
            "consent_id": consent.as_ref().map(ConsentId::as_str),
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

/// 401 with `WWW-Authenticate` unless `headers` carry `token`.
fn unauthorized(token: &AdminToken, headers: &HeaderMap) -> Option<Response> {
    if token.admits_request(headers) {
        return None;
    }
    let mut answer = refusal(StatusCode::UNAUTHORIZED, "invalid_token", "the administration token is missing or wrong");
    answer.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    Some(answer)
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, JSON), (header::CACHE_CONTROL, "no-store")], body.to_string()).into_response()
}

/// A consent withdrawal posted to the response endpoint.
async fn withdrawal(shared: Arc<Shared>, body: Bytes) -> Response {
    if shared.consents.is_none() {
        return refusal(StatusCode::NOT_FOUND, "unknown_consent", "this service keeps no consents");
    }
    let Ok(jwt) = String::from_utf8(body.to_vec()) else {
        return refusal(StatusCode::BAD_REQUEST, "invalid_request", "the body is not UTF-8");
    };
    let work = Arc::clone(&shared);
    let answer = tokio::task::spawn_blocking(move || {
        let Some(register) = &work.consents else {
            return refusal(StatusCode::NOT_FOUND, "unknown_consent", "this service keeps no consents");
        };
        match register.withdraw(&work.verifier, jwt.trim(), work.clock.now()) {
            Ok((_, by)) => json_answer(
                StatusCode::OK,
                &json!({"withdrawn": true, "by": match by {
                    WithdrawnBy::Approver => "approver",
                    WithdrawnBy::Child => "child",
                    _ => "other",
                }}),
            ),
            Err(error) => withdrawal_refusal(&error),
        }
    })
    .await;
    answer.unwrap_or_else(|_| {
        refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the withdrawal could not be applied")
    })
}

/// The status and error code of a refused withdrawal. The descriptions are the library's,
/// which name rules and identifiers, never claim values.
fn withdrawal_refusal(error: &schooltas_verifier::Error) -> Response {
    use schooltas_verifier::Error as E;
    let (status, code) = match error {
        E::NoConsentForRequest | E::UnknownConsent { .. } => (StatusCode::NOT_FOUND, "unknown_consent"),
        E::WithdrawalNotByConsenter => (StatusCode::FORBIDDEN, "not_the_consenter"),
        E::AlreadyWithdrawn { .. } => (StatusCode::CONFLICT, "already_withdrawn"),
        E::Storage { .. } => {
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the withdrawal could not be stored");
        }
        _ => (StatusCode::BAD_REQUEST, "invalid_request"),
    };
    refusal(status, code, &error.to_string())
}

struct MayUseQuery {
    subject: String,
    purpose: String,
    object: Option<String>,
}

/// `subject`, `purpose` and optionally `object`, each once and nothing else.
fn may_use_query(query: &str) -> Option<MayUseQuery> {
    let pairs = schooltas_oid4vc::form::decode(query).ok()?;
    let (mut subject, mut purpose, mut object) = (None, None, None);
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "subject" => &mut subject,
            "purpose" => &mut purpose,
            "object" => &mut object,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
    Some(MayUseQuery { subject: non_empty(subject)?, purpose: non_empty(purpose)?, object })
}

type StaffState = State<(Arc<Shared>, Arc<AdminToken>)>;

/// `GET <consents>/may-use?subject&purpose[&object]`: the register's answer, the guardianship's
/// status checked against its accredited issuer's key.
async fn may_use(State((shared, token)): StaffState, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if let Some(refused) = unauthorized(&token, &headers) {
        return refused;
    }
    let Some(query) = may_use_query(uri.query().unwrap_or_default()) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "may-use takes subject and purpose, and optionally object, as query parameters",
        );
    };
    if shared.consents.is_none() {
        return refusal(StatusCode::NOT_FOUND, "invalid_request", "this service keeps no consents");
    }
    let work = Arc::clone(&shared);
    let answer = tokio::task::spawn_blocking(move || {
        let Some(register) = &work.consents else { return Err(()) };
        let now = work.clock.now();
        let trust_list = work.trust_list();
        let resolver = &work.resolver;
        // The status list token must be signed as the verification that recorded the consent
        // allowed (the guardianship's issuer's key, or a certificate naming that issuer): the
        // list's URI comes from the school's credential, its signer is checked here.
        let key_for = |header: &schooltas_did::jws::Header, iss: Option<&str>, issuer: Option<&StatusIssuer>| {
            schooltas_verifier::consent_status_key(header, iss, issuer, &trust_list, resolver, now)
        };
        let check = StatusCheck::resolved_by(&work.status, &key_for);
        let asked = UseQuery { subject: &query.subject, purpose: &query.purpose, object: query.object.as_deref() };
        register.may_use(asked, now, Some(&check)).map_err(|_| ())
    })
    .await;
    match answer {
        Ok(Ok(UseAnswer::Yes { evidence })) => json_answer(
            StatusCode::OK,
            &json!({
                "answer": "yes",
                "consent_id": evidence.id.as_str(),
                "granted_at": evidence.granted_at,
                "valid_until": evidence.valid_until,
                "approved_by_guardian": evidence.evidence.guardian_approval.is_some(),
            }),
        ),
        Ok(Ok(UseAnswer::No { reason })) => {
            let reason = match reason {
                NoReason::NoConsent => json!({"reason": "no_consent"}),
                NoReason::Withdrawn { at } => json!({"reason": "withdrawn", "at": at}),
                NoReason::Expired { valid_until } => json!({"reason": "expired", "valid_until": valid_until}),
                NoReason::NotYetValid => json!({"reason": "not_yet_valid"}),
                NoReason::StatusRevoked => json!({"reason": "status_revoked"}),
                NoReason::StatusUnknown { reason } => json!({"reason": "status_unknown", "detail": reason}),
                _ => json!({"reason": "other"}),
            };
            let mut body = json!({"answer": "no"});
            if let (Some(body), Some(reason)) = (body.as_object_mut(), reason.as_object()) {
                body.extend(reason.clone());
            }
            json_answer(StatusCode::OK, &body)
        }
        _ => refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the consent register could not be read"),
    }
}

/// `GET <consents>/subjects/<subject>`: every consent about the subject, with its evidence and
/// withdrawal — what the school hands the family for an access request (GDPR art. 15).
async fn export(State((shared, token)): StaffState, Path(subject): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refused) = unauthorized(&token, &headers) {
        return refused;
    }
    if shared.consents.is_none() {
        return refusal(StatusCode::NOT_FOUND, "invalid_request", "this service keeps no consents");
    }
    let work = Arc::clone(&shared);
    let answer = tokio::task::spawn_blocking(move || match &work.consents {
        Some(register) => register.export(&subject).map_err(|_| ()),
        None => Err(()),
    })
    .await;
    match answer {
        Ok(Ok(document)) => json_answer(StatusCode::OK, &document),
        _ => refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the consent register could not be read"),
    }
}
