//! The guardian hand-over relay: a store-and-forward mailbox between the child's phone and the
//! parent's, run by the verifier (the school's server), for the approval of a child under 16
//! (docs/protocol/guardian-approval.md, "Transport between two phones").
//!
//! The child's wallet writes its encrypted request into a box, the parent's wallet reads it and
//! writes its encrypted answer into the same box, the child's wallet polls for the answer. The
//! key is in the link's fragment, which a browser or HTTP client never sends, so the relay
//! stores **opaque bytes only**: it sees ciphertext, sizes and timing, never the key, the
//! child's presentations or the parent's approval.
//!
//! | route | what |
//! |---|---|
//! | `PUT` (or `POST`) `<base>/boxes/<id>` | the child's request: opens the box; 201 |
//! | `GET <base>/boxes/<id>` | the request ciphertext; 404 when there is no such box (never was, or expired) |
//! | `PUT` (or `POST`) `<base>/boxes/<id>/answer` | the parent's answer; 201; 404 without a box |
//! | `GET <base>/boxes/<id>/answer` | the answer ciphertext; 204 while there is none yet |
//!
//! A slot's body is `application/octet-stream`: the 12-byte nonce, then the ChaCha20-Poly1305
//! ciphertext with its 16-byte tag (28 bytes at least; 400 below). Both slots are write-once
//! (a second write is 409 `slot_taken`: an attacker who learns the box id cannot replace what is
//! there), a slot holds at most [`RelayConfig::max_slot_bytes`] (413 `slot_too_large`), box ids
//! are exactly 22 base64url characters encoding 128 bits (400 `invalid_box_id`), at most
//! [`RelayConfig::max_boxes`] boxes are open at once (503 `relay_full`), and a box is gone
//! [`RelayConfig::lifetime`] seconds after it was opened (404 `box_not_found`, swept on every
//! request). Both methods write, because the wallet's guarded client speaks GET and POST only;
//! neither is idempotent here (write-once), so the choice changes nothing.
//!
//! The store is in memory: a restart of the server loses the hand-overs under way, and the
//! child sends again (the request in the child's wallet is still waiting).
//!
//! ```
//! use schooltas_server::relay::{GuardianRelay, RelayConfig};
//!
//! let relay = GuardianRelay::new(RelayConfig::default())?;
//! assert_eq!(relay.base_path(), "/relay");
//! let router = relay.router(); // merge it into the verifier's public router, or serve alone:
//! # drop(router);
//! # let serve = async move {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
//! relay.serve_until(listener, std::future::pending()).await?;
//! # Ok::<(), schooltas_server::Error>(())
//! # };
//! # drop(serve);
//! # Ok::<(), schooltas_server::Error>(())
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{self, HeaderMap};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::error::{Error, Result};
use crate::service::{Clock, SystemClock};

/// The media type of a slot's body: nonce ‖ ciphertext ‖ tag.
pub const SLOT_MEDIA_TYPE: &str = "application/octet-stream";

/// The length of a box id: 128 bits in unpadded base64url.
pub const BOX_ID_LEN: usize = 22;

/// The shortest slot body: a 12-byte nonce and a 16-byte tag (an empty plaintext).
pub const MIN_SLOT_BYTES: usize = 12 + 16;

const JSON: &str = "application/json";

/// Limits and lifetimes of a [`GuardianRelay`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayConfig {
    /// Where the relay's routes live (`/relay`): an absolute path without a trailing `/`.
    pub base_path: String,
    /// How long a box lives after the child's request opened it, in seconds.
    pub lifetime: i64,
    /// How many boxes are open at once; opening one more is 503 until older ones expire.
    pub max_boxes: usize,
    /// The largest slot body, in bytes; 413 beyond it.
    pub max_slot_bytes: usize,
    /// How long a client may take to send a request head.
    pub header_timeout: Duration,
    /// How long one request may take; then 408.
    pub request_timeout: Duration,
    /// How many connections are served at once (when served alone).
    pub max_connections: usize,
}

impl Default for RelayConfig {
    /// `/relay`, boxes live 15 minutes, 10 000 boxes, 64 KiB slots (a request with two
    /// presentations is ~10 KiB), 10 s heads, 30 s requests, 1024 connections.
    fn default() -> Self {
        RelayConfig {
            base_path: "/relay".to_owned(),
            lifetime: 15 * 60,
            max_boxes: 10_000,
            max_slot_bytes: 64 << 10,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

struct Mailbox {
    expires_at: i64,
    request: Bytes,
    answer: Option<Bytes>,
}

#[derive(Default)]
struct Boxes {
    by_id: HashMap<String, Mailbox>,
    /// (expires at, id), in the order boxes were opened.
    expiry: VecDeque<(i64, String)>,
}

impl Boxes {
    /// Forgets every box whose time is up.
    fn sweep(&mut self, now: i64) {
        while let Some((at, _)) = self.expiry.front() {
            if *at > now {
                break;
            }
            let Some((_, id)) = self.expiry.pop_front() else { break };
            if self.by_id.get(&id).is_some_and(|mailbox| mailbox.expires_at <= now) {
                self.by_id.remove(&id);
            }
        }
        // A clock that steps back leaves entries out of order; the check on read covers them.
    }

    fn live(&self, id: &str, now: i64) -> Option<&Mailbox> {
        self.by_id.get(id).filter(|mailbox| mailbox.expires_at > now)
    }
}

struct Shared {
    config: RelayConfig,
    clock: Arc<dyn Clock>,
    boxes: Mutex<Boxes>,
}

impl Shared {
    /// The boxes, swept at the current time.
    fn boxes(&self) -> (MutexGuard<'_, Boxes>, i64) {
        let now = self.clock.now();
        let mut boxes = self.boxes.lock().unwrap_or_else(PoisonError::into_inner);
        boxes.sweep(now);
        (boxes, now)
    }
}

/// The guardian hand-over relay. Cloning shares the boxes.
#[derive(Clone)]
pub struct GuardianRelay {
    shared: Arc<Shared>,
}

impl fmt::Debug for GuardianRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardianRelay").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

impl GuardianRelay {
    /// A relay with `config` on the system clock. Refused when the base path is not an
    /// absolute path without a trailing `/`, query or fragment.
    pub fn new(config: RelayConfig) -> Result<Self> {
        Self::with_clock(config, SystemClock)
    }

    /// [`new`](Self::new) with another clock than the system's.
    pub fn with_clock(config: RelayConfig, clock: impl Clock + 'static) -> Result<Self> {
        let path = &config.base_path;
        let usable = path.starts_with('/')
            && !path.ends_with('/')
            && !path.contains(['?', '#', '{', '}', '*'])
            && !path.contains("//");
        if !usable {
            return Err(Error::UnservablePath {
                what: "guardian relay",
                reason: "its base path is not an absolute path without a trailing '/'".into(),
            });
        }
        Ok(GuardianRelay {
            shared: Arc::new(Shared { config, clock: Arc::new(clock), boxes: Mutex::new(Boxes::default()) }),
        })
    }

    /// Where the routes live.
    pub fn base_path(&self) -> &str {
        &self.shared.config.base_path
    }

    /// How many boxes are open now.
    pub fn open_boxes(&self) -> usize {
        let (boxes, now) = self.shared.boxes();
        boxes.by_id.values().filter(|mailbox| mailbox.expires_at > now).count()
    }

    /// The relay's router: the box routes under the base path, CORS for browser wallets (any
    /// origin, `GET`/`PUT`/`POST`, `Content-Type`), the slot size limit and the time-out.
    pub fn router(&self) -> Router {
        let base = &self.shared.config.base_path;
        let cors = CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET, Method::PUT, Method::POST])
            .allow_headers([header::CONTENT_TYPE]);
        Router::new()
            .route(&format!("{base}/boxes/{{id}}"), get(read_request).put(write_request).post(write_request))
            .route(&format!("{base}/boxes/{{id}}/answer"), get(read_answer).put(write_answer).post(write_answer))
            .fallback(|| async { refusal(StatusCode::NOT_FOUND, "not_found", "there is no endpoint at this path") })
            .layer(cors)
            .layer(DefaultBodyLimit::max(self.shared.config.max_slot_bytes))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, self.shared.config.request_timeout))
            .with_state(Arc::clone(&self.shared))
    }

    fn limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            header_timeout: self.shared.config.header_timeout,
            max_connections: self.shared.config.max_connections,
        }
    }

    /// Serves [`router`](Self::router) alone on `listener` until `shutdown` completes.
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
}

/// A box id is 22 base64url characters that decode to 16 bytes and encode back the same (the
/// last character's four spare bits are zero), so one box has exactly one name.
fn valid_box_id(id: &str) -> bool {
    id.len() == BOX_ID_LEN
        && schooltas_did::base64url::is_alphabet(id)
        && schooltas_did::base64url::decode_array::<16>(id)
            .is_some_and(|bytes| schooltas_did::base64url::encode(bytes) == id)
}

/// A JSON error answer: `{"error", "error_description"}`.
fn refusal(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description}).to_string();
    (status, [(header::CONTENT_TYPE, JSON), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

fn bad_id() -> Response {
    refusal(StatusCode::BAD_REQUEST, "invalid_box_id", "a box id is 22 base64url characters (128 random bits)")
}

fn not_found() -> Response {
    refusal(StatusCode::NOT_FOUND, "box_not_found", "no such box: it never existed or has expired")
}

fn slot(bytes: Bytes) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, SLOT_MEDIA_TYPE), (header::CACHE_CONTROL, "no-store")], bytes)
        .into_response()
}

fn created() -> Response {
    (StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")]).into_response()
}

/// Why a write's body is refused.
enum BodyRefusal {
    MediaType,
    TooLarge { limit: usize },
    Unreadable,
    TooShort,
}

impl BodyRefusal {
    fn into_response(self) -> Response {
        match self {
            BodyRefusal::MediaType => refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request",
                "a slot is written as application/octet-stream",
            ),
            BodyRefusal::TooLarge { limit } => {
                refusal(StatusCode::PAYLOAD_TOO_LARGE, "slot_too_large", &format!("a slot holds at most {limit} bytes"))
            }
            BodyRefusal::Unreadable => {
                refusal(StatusCode::BAD_REQUEST, "invalid_request", "the body could not be read")
            }
            BodyRefusal::TooShort => refusal(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "a slot holds a 12-byte nonce and a ciphertext with its 16-byte tag",
            ),
        }
    }
}

/// The body of a write, or why not: the media type, the size limit (413), the minimum.
fn slot_body(shared: &Shared, headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Bytes, BodyRefusal> {
    let media_type_ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(SLOT_MEDIA_TYPE));
    if !media_type_ok {
        return Err(BodyRefusal::MediaType);
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            BodyRefusal::TooLarge { limit: shared.config.max_slot_bytes }
        } else {
            BodyRefusal::Unreadable
        }
    })?;
    if body.len() < MIN_SLOT_BYTES {
        return Err(BodyRefusal::TooShort);
    }
    Ok(body)
}

type RelayState = State<Arc<Shared>>;

async fn write_request(
    State(shared): RelayState,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !valid_box_id(&id) {
        return bad_id();
    }
    let body = match slot_body(&shared, &headers, body) {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    let (mut boxes, now) = shared.boxes();
    if boxes.live(&id, now).is_some() {
        return refusal(StatusCode::CONFLICT, "slot_taken", "this box already holds a request");
    }
    if boxes.by_id.len() >= shared.config.max_boxes {
        let mut answer = refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "relay_full",
            "the relay holds as many hand-overs as it may; try again in a few minutes",
        );
        answer.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        return answer;
    }
    let expires_at = now.saturating_add(shared.config.lifetime);
    boxes.expiry.push_back((expires_at, id.clone()));
    boxes.by_id.insert(id, Mailbox { expires_at, request: body, answer: None });
    created()
}

async fn read_request(State(shared): RelayState, Path(id): Path<String>) -> Response {
    if !valid_box_id(&id) {
        return bad_id();
    }
    let (boxes, now) = shared.boxes();
    match boxes.live(&id, now) {
        Some(mailbox) => slot(mailbox.request.clone()),
        None => not_found(),
    }
}

async fn write_answer(
    State(shared): RelayState,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !valid_box_id(&id) {
        return bad_id();
    }
    let body = match slot_body(&shared, &headers, body) {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    let (mut boxes, now) = shared.boxes();
    let Some(mailbox) = boxes.by_id.get_mut(&id).filter(|mailbox| mailbox.expires_at > now) else {
        return not_found();
    };
    if mailbox.answer.is_some() {
        return refusal(StatusCode::CONFLICT, "slot_taken", "this box already holds an answer");
    }
    mailbox.answer = Some(body);
    created()
}

async fn read_answer(State(shared): RelayState, Path(id): Path<String>) -> Response {
    if !valid_box_id(&id) {
        return bad_id();
    }
    let (boxes, now) = shared.boxes();
    match boxes.live(&id, now) {
        Some(Mailbox { answer: Some(answer), .. }) => slot(answer.clone()),
        Some(_) => (StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, "no-store")]).into_response(),
        None => not_found(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn box_ids_are_exactly_128_bits_in_one_spelling() {
        let id = schooltas_did::base64url::encode([7u8; 16]);
        assert!(valid_box_id(&id));
        for bad in [
            "",
            "short",
            "AAAAAAAAAAAAAAAAAAAAAAA", // 23 characters
            "AAAAAAAAAAAAAAAAAAAA+A",  // not base64url
            "AAAAAAAAAAAAAAAAAAAAAB",  // spare bits set: a second spelling of a 128-bit id
            "AAAAAAAAAAAAAAAAAAAA.A",
        ] {
            assert!(!valid_box_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_base_path_must_be_absolute_without_a_trailing_slash() {
        for bad in ["relay", "/relay/", "/a//b", "/relay?x", "/{id}"] {
            let config = RelayConfig { base_path: bad.into(), ..RelayConfig::default() };
            assert!(matches!(GuardianRelay::new(config), Err(Error::UnservablePath { .. })), "{bad}");
        }
        let config = RelayConfig { base_path: "/school/relay".into(), ..RelayConfig::default() };
        assert_eq!(GuardianRelay::new(config).unwrap().base_path(), "/school/relay");
    }
}
