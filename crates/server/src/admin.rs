//! The school's administration endpoints: offers (one or many at once), status changes, and
//! what was issued about a pupil. They take the administration's Bearer token, answer no CORS
//! request (a browser page of another origin cannot call them), and belong on a listener only
//! staff can reach ([`IssuerService::serve_admin_until`], or
//! `IssuerService::serve_admin_tls_until` with the `tls` feature).
//!
//! | route | what |
//! |---|---|
//! | `POST /admin/offers` | `[{"subject_ref", "credential_configuration_ids"}, …]` → `[{"credential_offer_uri", "tx_code"}, …]` (201) |
//! | `POST /admin/credentials/<id>/status` | `{"action": "revoke" \| "suspend" \| "reinstate"}` → 204 |
//! | `GET /admin/subjects/<subject_ref>/credentials` | `[{"id", "credential_configuration_id", "issued_at", "expires_at", "copies"}, …]` |
//! | `POST /admin/authorizations/<handle>` | `{"subject", "approve", "credential_configuration_ids"?}` → `{"redirect_to"}`: the portal's answer in the authorization code flow ([`crate::portal`]) |

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schooltas_issuer::StatusChange;
use schooltas_issuer::store::IssuerStore;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower_http::timeout::TimeoutLayer;

use crate::error::{Error, Result};
use crate::service::IssuerService;

/// The most offers one `POST /admin/offers` makes.
pub const MAX_OFFERS_PER_REQUEST: usize = 500;

/// The secret the administration presents as `Authorization: Bearer <token>`: at least 32
/// characters (a random value from the school's configuration). Kept as its SHA-256 digest and
/// compared in constant time; never printed.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl AdminToken {
    /// The token, refused when shorter than 32 characters ([`Error::WeakAdminToken`]).
    pub fn new(token: &str) -> Result<Self> {
        if token.chars().count() < 32 || token.trim() != token {
            return Err(Error::WeakAdminToken);
        }
        Ok(AdminToken { digest: Sha256::digest(token.as_bytes()).into() })
    }

    /// Whether a request carries this token: exactly one `Authorization` header, scheme
    /// `Bearer` (any case, RFC 6750 §2.1), the token. Every staff endpoint asks this.
    pub(crate) fn admits_request(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else { return false };
        let Ok(text) = value.to_str() else { return false };
        let Some((scheme, token)) = text.split_once(' ') else { return false };
        scheme.eq_ignore_ascii_case("bearer") && self.admits(token.trim_matches(' '))
    }

    pub(crate) fn admits(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.digest.iter().zip(presented).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// Whether two secrets are equal, compared by their SHA-256 digests in constant time (the
/// lengths and contents of neither leak through timing).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (a, b): ([u8; 32], [u8; 32]) = (Sha256::digest(a).into(), Sha256::digest(b).into());
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferRequest {
    subject_ref: String,
    credential_configuration_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusRequest {
    action: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizationAnswer {
    #[serde(default)]
    subject: Option<String>,
    approve: bool,
    #[serde(default)]
    credential_configuration_ids: Option<Vec<String>>,
}

struct AdminState<S> {
    service: IssuerService<S>,
    token: AdminToken,
}

type Admin<S> = State<Arc<AdminState<S>>>;

/// An administration error: `{"error", "error_description"}` with its status. The
/// descriptions name rules and identifiers, never claim values or secrets.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn refusal(status: StatusCode, error: &'static str, description: &str) -> Refusal {
    Refusal { status, error, description: description.to_owned() }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description}).to_string();
        let mut response = json_response(self.status, body);
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = HeaderValue::from_static("Bearer realm=\"schooltas-admin\"");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn issuer_refusal(error: &Error) -> Refusal {
    use schooltas_issuer::Error as IssuerError;
    match error {
        Error::Issuer(IssuerError::UnknownCredentialType { .. }) => {
            refusal(StatusCode::BAD_REQUEST, "invalid_request", &error.to_string())
        }
        Error::Issuer(IssuerError::UnknownCredential { .. }) => {
            refusal(StatusCode::NOT_FOUND, "not_found", &error.to_string())
        }
        Error::Issuer(IssuerError::StatusTransition { .. } | IssuerError::NoStatus { .. }) => {
            refusal(StatusCode::CONFLICT, "conflict", &error.to_string())
        }
        Error::Issuer(IssuerError::Authorization(refusal)) => {
            use schooltas_issuer::AuthorizationRefusal as R;
            match refusal {
                R::HandleUsed => refusal_of(StatusCode::CONFLICT, "conflict", refusal),
                R::NotRequested { .. } | R::NothingApproved => {
                    refusal_of(StatusCode::BAD_REQUEST, "invalid_request", refusal)
                }
                _ => refusal_of(StatusCode::NOT_FOUND, "not_found", refusal),
            }
        }
        Error::TooManyPendingOffers { .. } => {
            refusal(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", &error.to_string())
        }
        // Storage and the rest: the operator reads the cause in the process, not the client.
        _ => refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the issuer could not complete the request"),
    }
}

fn refusal_of(status: StatusCode, error: &'static str, why: &schooltas_issuer::AuthorizationRefusal) -> Refusal {
    refusal(status, error, &why.to_string())
}

fn authorized<S>(state: &AdminState<S>, headers: &HeaderMap) -> bool {
    state.token.admits_request(headers)
}

fn unauthorized() -> Refusal {
    refusal(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "the administration endpoints need the administration's Bearer token",
    )
}

fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> std::result::Result<T, Refusal> {
    let body = body.map_err(|rejection| {
        refusal(rejection.status(), "invalid_request", "the request body could not be read or is too large")
    })?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request body must be sent as application/json",
        ));
    }
    schooltas_did::strict_json::from_slice(&body).map_err(|error| {
        refusal(StatusCode::BAD_REQUEST, "invalid_request", &format!("the body is not the expected JSON: {error}"))
    })
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> std::result::Result<T, Refusal> {
    tokio::task::spawn_blocking(work).await.map_err(|_| {
        refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the issuer could not complete the request")
    })
}

async fn create_offers<S: IssuerStore + 'static>(
    State(state): Admin<S>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized().into_response();
    }
    let requests: Vec<OfferRequest> = match json_body(&headers, body) {
        Ok(requests) => requests,
        Err(refusal) => return refusal.into_response(),
    };
    if requests.is_empty() || requests.len() > MAX_OFFERS_PER_REQUEST {
        let description = format!("send 1 to {MAX_OFFERS_PER_REQUEST} offers per request");
        return refusal(StatusCode::BAD_REQUEST, "invalid_request", &description).into_response();
    }
    let service = state.service.clone();
    let outcome = blocking(move || {
        // All or nothing is not possible across offers (each is its own transaction); the
        // offers made before a failure stay valid and are listed in neither answer, so the
        // school makes the batch again and the earlier codes expire unused.
        requests
            .iter()
            .map(|request| service.publish_offer(&request.subject_ref, &request.credential_configuration_ids))
            .collect::<Result<Vec<_>>>()
    })
    .await;
    match outcome {
        Ok(Ok(offers)) => {
            let answer: Vec<Value> = offers
                .iter()
                .map(|offer| json!({"credential_offer_uri": offer.uri.as_str(), "tx_code": offer.pin.as_ref().map(|pin| pin.as_str())}))
                .collect();
            json_response(StatusCode::CREATED, Value::Array(answer).to_string())
        }
        Ok(Err(error)) => issuer_refusal(&error).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn change_status<S: IssuerStore + 'static>(
    State(state): Admin<S>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized().into_response();
    }
    let Ok(Path(id)) = id else {
        return refusal(StatusCode::NOT_FOUND, "not_found", "no credential at this address").into_response();
    };
    let request: StatusRequest = match json_body(&headers, body) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let change = match request.action.as_str() {
        "revoke" => StatusChange::Revoke,
        "suspend" => StatusChange::Suspend,
        "reinstate" => StatusChange::Reinstate,
        _ => {
            return refusal(StatusCode::BAD_REQUEST, "invalid_request", "action is one of revoke, suspend, reinstate")
                .into_response();
        }
    };
    let service = state.service.clone();
    match blocking(move || service.change_status(&id, change)).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(error)) => issuer_refusal(&error).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn credentials_of<S: IssuerStore + 'static>(
    State(state): Admin<S>,
    headers: HeaderMap,
    subject: Result<Path<String>, PathRejection>,
) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized().into_response();
    }
    let Ok(Path(subject)) = subject else {
        return refusal(StatusCode::NOT_FOUND, "not_found", "no subject at this address").into_response();
    };
    let service = state.service.clone();
    let rows = blocking(move || service.with_issuer(|issuer| issuer.credentials_of(&subject))).await;
    match rows {
        Ok(Ok(rows)) => {
            let answer: Vec<Value> = rows
                .iter()
                .map(|row| {
                    json!({"id": row.id, "credential_configuration_id": row.config_id, "issued_at": row.issued_at,
                           "expires_at": row.expires_at, "copies": row.copies})
                })
                .collect();
            json_response(StatusCode::OK, Value::Array(answer).to_string())
        }
        Ok(Err(error)) => issuer_refusal(&Error::Issuer(error)).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn answer_authorization<S: IssuerStore + 'static>(
    State(state): Admin<S>,
    headers: HeaderMap,
    handle: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized().into_response();
    }
    let Ok(Path(handle)) = handle else {
        return refusal(StatusCode::NOT_FOUND, "not_found", "no authorization at this address").into_response();
    };
    if !state.service.has_authorization_portal() {
        return refusal(StatusCode::NOT_FOUND, "not_found", "this school does not run the authorization code flow")
            .into_response();
    }
    let answer: AuthorizationAnswer = match json_body(&headers, body) {
        Ok(answer) => answer,
        Err(refusal) => return refusal.into_response(),
    };
    let subject = answer.subject.filter(|subject| !subject.trim().is_empty());
    if answer.approve && subject.is_none() {
        return refusal(StatusCode::BAD_REQUEST, "invalid_request", "an approval names the subject who logged in")
            .into_response();
    }
    let service = state.service.clone();
    let outcome = blocking(move || match (answer.approve, subject) {
        (true, Some(subject)) => {
            service.complete_authorization(&handle, &subject, answer.credential_configuration_ids.as_deref())
        }
        _ => service.deny_authorization(&handle),
    })
    .await;
    match outcome {
        Ok(Ok(location)) => json_response(StatusCode::OK, json!({"redirect_to": location.as_str()}).to_string()),
        Ok(Err(error)) => issuer_refusal(&error).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn no_endpoint() -> Response {
    refusal(StatusCode::NOT_FOUND, "not_found", "no administration endpoint at this address").into_response()
}

impl<S: IssuerStore + 'static> IssuerService<S> {
    /// The axum [`Router`] of the administration endpoints (see [`crate::admin`]), behind
    /// `token`; no CORS, the service's body limit and request time-out.
    pub fn admin_router(&self, token: AdminToken) -> Router {
        let state = Arc::new(AdminState { service: self.clone(), token });
        Router::new()
            .route("/admin/offers", post(create_offers::<S>))
            .route("/admin/credentials/{id}/status", post(change_status::<S>))
            .route("/admin/subjects/{subject}/credentials", get(credentials_of::<S>))
            .route("/admin/authorizations/{handle}", post(answer_authorization::<S>))
            .fallback(no_endpoint)
            .layer(DefaultBodyLimit::max(self.shared.config.max_body_bytes))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, self.shared.config.request_timeout))
            .with_state(state)
    }

    /// Serves the [`admin_router`](Self::admin_router) on `listener` (an address only the
    /// school's staff reach) until `shutdown` completes.
    pub async fn serve_admin_until(
        self,
        listener: tokio::net::TcpListener,
        token: AdminToken,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        crate::serve::serve(self.admin_router(token), listener, self.shared.connection_limits(), None, shutdown).await
    }

    /// [`serve_admin_until`](Self::serve_admin_until) over HTTPS, so the token never crosses
    /// the network in clear.
    #[cfg(feature = "tls")]
    pub async fn serve_admin_tls_until(
        self,
        listener: tokio::net::TcpListener,
        token: AdminToken,
        tls: crate::TlsConfig,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server);
        let limits = self.shared.connection_limits();
        crate::serve::serve(self.admin_router(token), listener, limits, Some(acceptor), shutdown).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_admin_token_is_long_and_admits_only_itself() {
        assert!(matches!(AdminToken::new("short"), Err(Error::WeakAdminToken)));
        assert!(matches!(AdminToken::new(" 0123456789abcdef0123456789abcdef"), Err(Error::WeakAdminToken)));
        let token = AdminToken::new("0123456789abcdef0123456789abcdef").unwrap();
        assert!(token.admits("0123456789abcdef0123456789abcdef"));
        assert!(!token.admits("0123456789abcdef0123456789abcdeF"));
        assert!(!token.admits(""));
        assert_eq!(format!("{token:?}"), "AdminToken(<redacted>)");
    }

    #[test]
    fn a_request_is_admitted_with_exactly_one_bearer_header_carrying_the_token() {
        let token = AdminToken::new("0123456789abcdef0123456789abcdef").unwrap();
        let with = |values: &[&[u8]]| {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append(header::AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
            }
            token.admits_request(&headers)
        };
        assert!(with(&[b"Bearer 0123456789abcdef0123456789abcdef"]));
        assert!(with(&[b"bearer 0123456789abcdef0123456789abcdef"]), "the scheme is case-insensitive");
        assert!(!with(&[]));
        assert!(!with(&[b"Basic 0123456789abcdef0123456789abcdef"]));
        assert!(!with(&[b"Bearer 0123456789abcdef0123456789abcdeF"]));
        // A second header, even after the right one, is refused: no guessing which one counts.
        assert!(!with(&[b"Bearer 0123456789abcdef0123456789abcdef", b"Bearer x"]));
        // Bytes that are not visible ASCII in the header: refused, no panic.
        assert!(!with(&[b"Bearer \xff\xfe0123456789abcdef0123456789abcdef"]));
    }
}
