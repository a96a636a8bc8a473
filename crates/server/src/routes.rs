//! The HTTP endpoints: each parses the transport (method, content type, body size, bearer
//! token), calls the issuer's method on the blocking pool, and writes its answer with the
//! status and headers the specifications give. No protocol rule is decided here.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schooltas_issuer::oid4vci::{ClientAuthHeaders, DpopContext, TokenScheme};
use schooltas_issuer::store::IssuerStore;
use schooltas_oid4vc::client_attestation::{
    CLIENT_ATTESTATION_CHALLENGE_HEADER, CLIENT_ATTESTATION_HEADER, CLIENT_ATTESTATION_POP_HEADER,
};
use schooltas_oid4vc::dpop::{DPOP_HEADER, DPOP_NONCE_HEADER};
use schooltas_oid4vc::oid4vci::authorization::AuthorizationRequestReference;
use schooltas_oid4vc::oid4vci::{ErrorCode, ErrorResponse, TokenRequest};
use tower_http::cors::{Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::service::{IssuerService, Shared};

/// The header names the CORS layer allows and exposes, in the lower case `HeaderName` takes
/// (HTTP header names are case-insensitive; the constants of the protocol crates are mixed case).
const DPOP_HEADER_LOWER: &str = "dpop";
const DPOP_NONCE_HEADER_LOWER: &str = "dpop-nonce";
const CLIENT_ATTESTATION_HEADER_LOWER: &str = "oauth-client-attestation";
const CLIENT_ATTESTATION_POP_HEADER_LOWER: &str = "oauth-client-attestation-pop";
const CLIENT_ATTESTATION_CHALLENGE_HEADER_LOWER: &str = "oauth-client-attestation-challenge";

/// `application/json`.
const JSON: &str = "application/json";
/// OpenID4VCI 1.0 §6.1 / RFC 6749 §4.1.3: the token request's media type.
const FORM: &str = "application/x-www-form-urlencoded";
/// Token Status List §8.1: the media type of a status list token in JWT form.
pub const STATUS_LIST_JWT: &str = "application/statuslist+jwt";
/// The did:web document's media type (JSON-LD: it carries an `@context`).
pub const DID_DOCUMENT: &str = "application/did+ld+json";

impl<S: IssuerStore + 'static> IssuerService<S> {
    /// The axum [`Router`] of every public endpoint (see [`crate::IssuerPaths`]), with CORS
    /// for browser wallets (any origin, no cookies), the body limit on every `POST` and the
    /// request time-out.
    pub fn router(&self) -> Router {
        let paths = &self.shared.paths;
        let mut public = Router::new()
            .route(&paths.credential_issuer_metadata, get(credential_issuer_metadata::<S>))
            .route(&paths.authorization_server_metadata, get(authorization_server_metadata::<S>))
            .route(&paths.token, post(token::<S>))
            .route(&paths.nonce, post(nonce::<S>))
            .route(&paths.credential, post(credential::<S>))
            .route(&format!("{}/{{id}}", paths.offers), get(offer::<S>));
        if self.shared.portal.is_some() {
            public = public.route(&paths.par, post(par::<S>)).route(&paths.authorize, get(authorize::<S>));
        }
        if let Some(status) = &paths.status {
            public = public.route(&format!("{status}/{{*list}}"), get(status_list::<S>));
        }
        if let Some(did) = &paths.did_document {
            public = public.route(did, get(did_document::<S>));
        }
        if let Some(path) = &paths.jwt_vc_issuer_metadata {
            public = public.route(path, get(jwt_vc_issuer_metadata::<S>));
        }
        for path in &paths.type_metadata {
            let path_owned = path.clone();
            public =
                public.route(path, get(move |state: AppState<S>| async move { type_metadata(state, &path_owned) }));
        }
        // The public protocol endpoints answer any origin (a browser wallet is a web page of
        // its own origin); no credentials mode, as access is by Bearer or DPoP token, never by
        // cookie. A browser wallet sends DPoP proofs (RFC 9449) and its wallet attestation
        // (draft-ietf-oauth-attestation-based-client-auth), and reads the nonce and challenge.
        let cors = CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static(DPOP_HEADER_LOWER),
                HeaderName::from_static(CLIENT_ATTESTATION_HEADER_LOWER),
                HeaderName::from_static(CLIENT_ATTESTATION_POP_HEADER_LOWER),
            ])
            .expose_headers([
                header::WWW_AUTHENTICATE,
                HeaderName::from_static(DPOP_NONCE_HEADER_LOWER),
                HeaderName::from_static(CLIENT_ATTESTATION_CHALLENGE_HEADER_LOWER),
            ]);
        public
            .fallback(no_endpoint)
            .method_not_allowed_fallback(wrong_method)
            .layer(cors)
            .layer(DefaultBodyLimit::max(self.shared.config.max_body_bytes))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, self.shared.config.request_timeout))
            .with_state(Arc::clone(&self.shared))
    }
}

type AppState<S> = State<Arc<Shared<S>>>;

/// Runs `work` on the blocking pool (the store writes to disk) and turns a panic there into a
/// 500, never a dropped connection.
async fn blocking<S, T>(
    shared: &Arc<Shared<S>>,
    work: impl FnOnce(&Shared<S>) -> T + Send + 'static,
) -> Result<T, Refusal>
where
    S: IssuerStore + 'static,
    T: Send + 'static,
{
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || work(&shared)).await.map_err(|_| Refusal::server_error())
}

fn json_response(status: StatusCode, body: String, no_store: bool) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body).into_response();
    if no_store {
        // RFC 6749 §5.1, OpenID4VCI 1.0 §7.2: token, nonce (and, carrying personal data,
        // credential) responses must not be cached; RFC 6749 §5.1 asks for `Pragma:
        // no-cache` beside it, for HTTP/1.0 caches.
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}

/// What a refused request is answered with: an OAuth-style error (RFC 6749 §5.2, OpenID4VCI
/// 1.0 §6.3 and §8.3.1) as JSON, with its HTTP status and, for a refused access token, the
/// Bearer challenge (RFC 6750 §3).
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    error: ErrorResponse,
    /// RFC 6750 §3.1: a request without authentication gets a challenge without an error
    /// code; one with a refused token gets `error="invalid_token"`.
    bare_challenge: bool,
    /// The authorization scheme of the challenge: `Bearer`, or `DPoP` (RFC 9449 §7.1) for a
    /// resource request of an issuer that binds its tokens to DPoP keys.
    dpop_challenge: bool,
}

impl Refusal {
    /// `code`, with the status it calls for: 401 for `invalid_token` and `invalid_client`,
    /// 500 for `server_error`, 400 otherwise.
    fn new(code: ErrorCode, description: &str) -> Self {
        Refusal::from(ErrorResponse::new(code, description))
    }

    fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn server_error() -> Self {
        Refusal::new(ErrorCode::Other("server_error".into()), "the issuer could not complete the request")
    }

    fn not_found(description: &str) -> Self {
        Refusal::new(ErrorCode::InvalidRequest, description).with_status(StatusCode::NOT_FOUND)
    }
}

impl From<ErrorResponse> for Refusal {
    fn from(error: ErrorResponse) -> Self {
        let status = match &error.error {
            ErrorCode::Other(code) if code == "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            code => StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
        };
        Refusal { status, error, bare_challenge: false, dpop_challenge: false }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, self.error.to_json(), true);
        let scheme = if self.dpop_challenge { "DPoP" } else { "Bearer" };
        let challenged =
            matches!(self.error.error, ErrorCode::InvalidToken | ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce);
        let challenge = if self.bare_challenge {
            Some(if self.dpop_challenge { "DPoP algs=\"ES256 EdDSA\"".to_owned() } else { scheme.to_owned() })
        } else if challenged && (self.dpop_challenge || self.error.error == ErrorCode::InvalidToken) {
            Some(format!(
                "{scheme} error=\"{}\", error_description=\"{}\"",
                self.error.error.as_str(),
                challenge_text(self.error.error_description.as_deref().unwrap_or_default())
            ))
        } else {
            None
        };
        if let Some(value) = challenge.and_then(|challenge| HeaderValue::from_str(&challenge).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// RFC 6750 §3: `error_description` holds %x20-21 / %x23-5B / %x5D-7E only.
fn challenge_text(text: &str) -> String {
    text.chars().take(200).map(|c| if matches!(c, ' ' | '!' | '#'..='[' | ']'..='~') { c } else { '?' }).collect()
}

/// The body as UTF-8, within the size limit (413 beyond it, RFC 9110 §15.5.14), under the
/// endpoint's media type. A body of the wrong type is `invalid_code` (`invalid_request` at
/// the token endpoint, `invalid_credential_request` at the credential endpoint): OAuth and
/// OpenID4VCI answer every malformed request 400 with their error JSON.
fn read_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    media_type: &str,
    invalid_code: ErrorCode,
) -> Result<String, Refusal> {
    let body = body.map_err(|rejection| body_refusal(&rejection, invalid_code.clone()))?;
    let content_type = headers.get_all(header::CONTENT_TYPE).iter().collect::<Vec<_>>();
    let given = match content_type.as_slice() {
        [one] => one.to_str().ok().and_then(|text| text.split(';').next()).map(str::trim),
        _ => None,
    };
    if !given.is_some_and(|given| given.eq_ignore_ascii_case(media_type)) {
        return Err(Refusal::new(invalid_code, &format!("the request body must be sent as {media_type}")));
    }
    String::from_utf8(body.to_vec()).map_err(|_| Refusal::new(invalid_code, "the request body is not UTF-8"))
}

fn body_refusal(rejection: &BytesRejection, code: ErrorCode) -> Refusal {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Refusal::new(code, "the request body is larger than this issuer accepts")
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        Refusal::new(code, "the request body could not be read")
    }
}

/// The access token of `Authorization: Bearer <token>` (RFC 6750 §2.1) or, for an issuer
/// with DPoP, `Authorization: DPoP <token>` (RFC 9449 §7.1), and which scheme it came in.
fn access_token(headers: &HeaderMap, dpop: bool) -> Result<(String, TokenScheme), Refusal> {
    let values = headers.get_all(header::AUTHORIZATION).iter().collect::<Vec<_>>();
    let token = match values.as_slice() {
        [one] => one.to_str().ok().and_then(|text| {
            let (scheme, token) = text.split_once(' ')?;
            let token = token.trim_matches(' ');
            let scheme = if scheme.eq_ignore_ascii_case("bearer") {
                TokenScheme::Bearer
            } else if dpop && scheme.eq_ignore_ascii_case("dpop") {
                TokenScheme::Dpop
            } else {
                return None;
            };
            (!token.is_empty()).then(|| (token.to_owned(), scheme))
        }),
        [] => None,
        _ => return Err(Refusal::new(ErrorCode::InvalidRequest, "more than one Authorization header")),
    };
    token.ok_or_else(|| Refusal {
        bare_challenge: true,
        dpop_challenge: dpop,
        ..Refusal::new(ErrorCode::InvalidToken, "no access token in the Authorization header")
    })
}

/// The request's `DPoP` proof header: none, or exactly one (RFC 9449 §4.3: more than one is
/// `invalid_dpop_proof`).
fn dpop_proof(headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    let values = headers.get_all(DPOP_HEADER).iter().collect::<Vec<_>>();
    match values.as_slice() {
        [] => Ok(None),
        [one] => one
            .to_str()
            .map(|proof| Some(proof.to_owned()))
            .map_err(|_| Refusal::new(ErrorCode::InvalidDpopProof, "the DPoP header is not a JWT")),
        _ => Err(Refusal::new(ErrorCode::InvalidDpopProof, "more than one DPoP header")),
    }
}

/// The value of a header the request must carry at most once (draft-ietf-oauth-attestation-based-client-auth
/// §"Verification and Processing": "precisely one"): two are `invalid_request`.
fn single_header(headers: &HeaderMap, name: &str) -> Result<Option<String>, Refusal> {
    let values = headers.get_all(name).iter().collect::<Vec<_>>();
    match values.as_slice() {
        [] => Ok(None),
        [one] => one
            .to_str()
            .map(|value| Some(value.to_owned()))
            .map_err(|_| Refusal::new(ErrorCode::InvalidRequest, &format!("the {name} header is not a JWT"))),
        _ => Err(Refusal::new(ErrorCode::InvalidRequest, &format!("more than one {name} header"))),
    }
}

/// The request's `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers, each
/// at most once.
fn client_auth_headers(headers: &HeaderMap) -> Result<(Option<String>, Option<String>), Refusal> {
    Ok((single_header(headers, CLIENT_ATTESTATION_HEADER)?, single_header(headers, CLIENT_ATTESTATION_POP_HEADER)?))
}

/// Adds the issuer's current `OAuth-Client-Attestation-Challenge` to a response, when its
/// wallet attestation requirement asks for challenges (the draft's §"Challenges").
fn with_attestation_challenge(mut response: Response, challenge: Option<String>) -> Response {
    if let Some(value) = challenge.and_then(|challenge| HeaderValue::from_str(&challenge).ok()) {
        // A browser reads it because the CORS layer exposes it (see `router`).
        response.headers_mut().insert(CLIENT_ATTESTATION_CHALLENGE_HEADER, value);
    }
    response
}

/// Adds the issuer's current `DPoP-Nonce` (RFC 9449 §8) to a response, when it asks for nonces.
fn with_dpop_nonce(mut response: Response, nonce: Option<String>) -> Response {
    if let Some(value) = nonce.and_then(|nonce| HeaderValue::from_str(&nonce).ok()) {
        // Browsers' fetch reads the nonce only when it is exposed: the CORS layer does.
        response.headers_mut().insert(DPOP_NONCE_HEADER, value);
    }
    response
}

async fn credential_issuer_metadata<S: IssuerStore + 'static>(State(shared): AppState<S>) -> Response {
    json_response(StatusCode::OK, shared.documents().credential_issuer_metadata.clone(), false)
}

async fn authorization_server_metadata<S: IssuerStore + 'static>(State(shared): AppState<S>) -> Response {
    json_response(StatusCode::OK, shared.documents().authorization_server_metadata.clone(), false)
}

async fn did_document<S: IssuerStore + 'static>(State(shared): AppState<S>) -> Response {
    let body = shared.documents().did_document.clone();
    (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static(DID_DOCUMENT))], body).into_response()
}

async fn jwt_vc_issuer_metadata<S: IssuerStore + 'static>(State(shared): AppState<S>) -> Response {
    match shared.documents().jwt_vc_issuer_metadata.clone() {
        Some(body) => cacheable(json_response(StatusCode::OK, body, false)),
        None => Refusal::not_found("this issuer names itself by its DID: resolve the DID").into_response(),
    }
}

/// SD-JWT VC §4 asks publishers for an explicit freshness lifetime: an hour.
fn cacheable(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    response
}

/// A Type Metadata document, served byte for byte as its `vct#integrity` pins it.
fn type_metadata<S: IssuerStore + 'static>(State(shared): AppState<S>, path: &str) -> Response {
    match shared.documents().type_metadata.iter().find(|(p, _)| p == path) {
        Some((_, body)) => cacheable(json_response(StatusCode::OK, body.clone(), false)),
        None => Refusal::not_found("no type metadata at this path").into_response(),
    }
}

async fn token<S: IssuerStore + 'static>(
    State(shared): AppState<S>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match read_body(&headers, body, FORM, ErrorCode::InvalidRequest) {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    let proof = match dpop_proof(&headers) {
        Ok(proof) => proof,
        Err(refusal) => return refusal.into_response(),
    };
    let client_auth = match client_auth_headers(&headers) {
        Ok(pair) => pair,
        Err(refusal) => return refusal.into_response(),
    };
    let outcome = blocking(&shared, move |shared| {
        let policy = shared.config.offer_policy;
        let issuer = shared.issuer();
        let now = shared.now();
        // htu is compared with the endpoint's public URL, not with what a proxy passed on.
        let url = format!("{}{}", issuer.profile().issuer_url(), schooltas_issuer::oid4vci::TOKEN_PATH);
        let dpop = Some(DpopContext { proof: proof.as_deref(), url: &url });
        let client_auth = ClientAuthHeaders { attestation: client_auth.0.as_deref(), pop: client_auth.1.as_deref() };
        let outcome = issuer.token_endpoint_with(&policy, &body, dpop, Some(client_auth), now);
        if outcome.is_ok()
            && let Ok(request) = TokenRequest::from_form(&body)
        {
            // The code is spent in the store whatever happens here; a reference left behind
            // (the store failing now) expires with the offer and redeems nothing.
            let _ = shared.offers.redeemed(issuer.store(), &request.pre_authorized_code);
        }
        (outcome, issuer.dpop_nonce(now), issuer.attestation_challenge(now))
    })
    .await;
    match outcome {
        Ok((Ok(token), nonce, challenge)) => with_attestation_challenge(
            with_dpop_nonce(json_response(StatusCode::OK, token.to_json(), true), nonce),
            challenge,
        ),
        // RFC 9449 §8: at the token endpoint, use_dpop_nonce is a 400 with the nonce; RFC 6749
        // §5.2: invalid_client is a 401.
        Ok((Err(error), nonce, challenge)) => {
            with_attestation_challenge(with_dpop_nonce(Refusal::from(error).into_response(), nonce), challenge)
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// The pushed authorization request endpoint (RFC 9126 §2): a form, an optional `DPoP` proof
/// (RFC 9449 §10), the wallet's client authentication headers (HAIP 1.0 §4.3, each at most
/// once), `201` with the `request_uri`, refusals 400 with the OAuth error JSON (`invalid_client`
/// 401); the `DPoP-Nonce` and `OAuth-Client-Attestation-Challenge` headers like the token
/// endpoint.
async fn par<S: IssuerStore + 'static>(
    State(shared): AppState<S>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match read_body(&headers, body, FORM, ErrorCode::InvalidRequest) {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    let proof = match dpop_proof(&headers) {
        Ok(proof) => proof,
        Err(refusal) => return refusal.into_response(),
    };
    let client_auth = match client_auth_headers(&headers) {
        Ok(pair) => pair,
        Err(refusal) => return refusal.into_response(),
    };
    let outcome = blocking(&shared, move |shared| {
        let issuer = shared.issuer();
        let now = shared.now();
        let url = format!("{}{}", issuer.profile().issuer_url(), schooltas_issuer::authorization::PAR_PATH);
        let dpop = Some(DpopContext { proof: proof.as_deref(), url: &url });
        let client_auth = ClientAuthHeaders { attestation: client_auth.0.as_deref(), pop: client_auth.1.as_deref() };
        (
            issuer.par_endpoint_with(&body, dpop, Some(client_auth), now),
            issuer.dpop_nonce(now),
            issuer.attestation_challenge(now),
        )
    })
    .await;
    match outcome {
        Ok((Ok(pushed), nonce, challenge)) => with_attestation_challenge(
            with_dpop_nonce(json_response(StatusCode::CREATED, pushed.to_json(), true), nonce),
            challenge,
        ),
        Ok((Err(error), nonce, challenge)) => {
            with_attestation_challenge(with_dpop_nonce(Refusal::from(error).into_response(), nonce), challenge)
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// The authorization endpoint (RFC 9126 §4): `client_id` and `request_uri` in the query; a
/// `303` to the portal's login with the handle. A refusal is a 400 page for the person, never
/// a redirect to the wallet (whose redirect URI is not known to be trustworthy yet).
async fn authorize<S: IssuerStore + 'static>(State(shared): AppState<S>, RawQuery(query): RawQuery) -> Response {
    let reference = match AuthorizationRequestReference::from_query(query.as_deref().unwrap_or_default()) {
        Ok(reference) => reference,
        Err(error) => return page(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    let outcome = blocking(&shared, move |shared| {
        let start = shared.issuer().authorization_endpoint(&reference.client_id, &reference.request_uri, shared.now());
        start.map(|start| shared.portal.as_ref().map(|portal| portal.login_location(&start)))
    })
    .await;
    match outcome {
        Ok(Ok(Some(location))) => match HeaderValue::from_str(&location) {
            Ok(location) => {
                let mut response = StatusCode::SEE_OTHER.into_response();
                let headers = response.headers_mut();
                headers.insert(header::LOCATION, location);
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                // The handle is in the portal's URL: it must not leak to other sites.
                headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
                response
            }
            Err(_) => page(StatusCode::INTERNAL_SERVER_ERROR, "the school's portal address is not usable"),
        },
        Ok(Ok(None)) => page(StatusCode::NOT_FOUND, "this school does not offer the authorization code flow"),
        Ok(Err(schooltas_issuer::Error::Authorization(refusal))) => page(StatusCode::BAD_REQUEST, &refusal.to_string()),
        Ok(Err(_)) | Err(_) => page(StatusCode::INTERNAL_SERVER_ERROR, "the school could not complete the request"),
    }
}

/// A small HTML page for a person in a browser (the authorization endpoint's refusals).
fn page(status: StatusCode, message: &str) -> Response {
    let escaped: String = message
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Schooltas</title>\
         <h1>This request cannot continue</h1><p>{escaped}</p><p>Go back to the wallet app and start again.</p></html>"
    );
    let mut response =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn nonce<S: IssuerStore + 'static>(State(shared): AppState<S>, body: Result<Bytes, BytesRejection>) -> Response {
    // §7.1: the request has no parameters; a body is ignored, but not an oversized one.
    if let Err(rejection) = body {
        return body_refusal(&rejection, ErrorCode::InvalidRequest).into_response();
    }
    let outcome = blocking(&shared, |shared| {
        let policy = shared.config.offer_policy;
        shared.issuer().nonce_endpoint(&policy, shared.now())
    })
    .await;
    match outcome {
        Ok(Ok(nonce)) => match serde_json::to_string(&nonce) {
            Ok(body) => json_response(StatusCode::OK, body, true),
            Err(_) => Refusal::server_error().into_response(),
        },
        Ok(Err(error)) => Refusal::from(error).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn credential<S: IssuerStore + 'static>(
    State(shared): AppState<S>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // RFC 6750 §3: the token is checked before anything of the request.
    let dpop = { shared.issuer().dpop().is_some() };
    let (access_token, scheme) = match access_token(&headers, dpop) {
        Ok(token) => token,
        Err(refusal) => return refusal.into_response(),
    };
    let proof = match dpop_proof(&headers) {
        Ok(proof) => proof,
        Err(refusal) => {
            return Refusal { dpop_challenge: dpop, ..refusal.with_status(StatusCode::UNAUTHORIZED) }.into_response();
        }
    };
    let body = match read_body(&headers, body, JSON, ErrorCode::InvalidCredentialRequest) {
        Ok(body) => body,
        // An oversized body is refused before any lookup; otherwise a refused token still
        // answers 401 first, whatever the body (RFC 6750 §3.1).
        Err(refusal) if refusal.status == StatusCode::PAYLOAD_TOO_LARGE => return refusal.into_response(),
        Err(refusal) => return token_refusal_or(&shared, access_token, refusal).await.into_response(),
    };
    let outcome = blocking(&shared, move |shared| {
        let issuer = shared.issuer();
        let now = shared.now();
        let url = format!("{}{}", issuer.profile().issuer_url(), schooltas_issuer::oid4vci::CREDENTIAL_PATH);
        let context = Some(DpopContext { proof: proof.as_deref(), url: &url });
        let outcome =
            issuer.credential_endpoint_with_dpop(&access_token, scheme, context, &body, shared.claims.as_ref(), now);
        if outcome.is_ok() {
            shared.lists_may_have_grown.store(true, std::sync::atomic::Ordering::Release);
        }
        (outcome, issuer.dpop_nonce(now))
    })
    .await;
    match outcome {
        Ok((Ok(response), nonce)) => with_dpop_nonce(json_response(StatusCode::OK, response.to_json(), true), nonce),
        Ok((Err(error), nonce)) => {
            // RFC 9449 §7.1, §9: at a resource, DPoP refusals are 401 with a DPoP challenge.
            let dpop_error = matches!(error.error, ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce);
            let mut refusal = Refusal::from(error);
            refusal.dpop_challenge = dpop;
            if dpop_error {
                refusal = refusal.with_status(StatusCode::UNAUTHORIZED);
            }
            with_dpop_nonce(refusal.into_response(), nonce)
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// `invalid_token` (401) if the access token is unknown or expired, else `otherwise`.
async fn token_refusal_or<S: IssuerStore + 'static>(
    shared: &Arc<Shared<S>>,
    access_token: String,
    otherwise: Refusal,
) -> Refusal {
    match blocking(shared, move |shared| shared.issuer().authorize(&access_token, shared.now())).await {
        Ok(Ok(Some(_))) => otherwise,
        Ok(Ok(None)) => Refusal::new(ErrorCode::InvalidToken, "the access token is unknown, expired or used up"),
        Ok(Err(_)) => Refusal::server_error(),
        Err(refusal) => refusal,
    }
}

async fn offer<S: IssuerStore + 'static>(
    State(shared): AppState<S>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return Refusal::not_found("no pending credential offer at this address").into_response();
    };
    let outcome = blocking(&shared, move |shared| {
        let now = shared.now();
        shared.offers.get(shared.issuer().store(), &id, now)
    })
    .await;
    match outcome {
        Ok(Ok(Some(json))) => json_response(StatusCode::OK, json.as_str().to_owned(), true),
        Ok(Ok(None)) => {
            Refusal::not_found("no pending credential offer at this address (redeemed, expired or never made)")
                .into_response()
        }
        Ok(Err(_)) => Refusal::server_error().into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn status_list<S: IssuerStore + 'static>(
    State(shared): AppState<S>,
    list: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(list)) = list else {
        return Refusal::not_found("no status list at this address").into_response();
    };
    let uri = format!("{}/{list}", shared.status_base_uri);
    let token = match blocking(&shared, move |shared| shared.status_token(&uri)).await {
        Ok(Ok(token)) => token,
        Ok(Err(_)) | Err(_) => return Refusal::server_error().into_response(),
    };
    match token {
        Some(token) => {
            let content_type = [(header::CONTENT_TYPE, HeaderValue::from_static(STATUS_LIST_JWT))];
            (StatusCode::OK, content_type, Body::from(token)).into_response()
        }
        None => Refusal::not_found("no status list at this address").into_response(),
    }
}

/// Any other path: 404 with the error JSON, as every answer of this service.
async fn no_endpoint() -> Response {
    Refusal::not_found("no endpoint at this address").into_response()
}

/// A known path with another method: 405 with the error JSON (axum adds `Allow`).
async fn wrong_method() -> Response {
    Refusal::new(ErrorCode::InvalidRequest, "this endpoint does not take that method")
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::challenge_text;

    #[test]
    fn challenge_descriptions_keep_to_the_rfc_6750_characters() {
        assert_eq!(challenge_text("the \"token\" is\\bad\u{e9}\n"), "the ?token? is?bad??");
    }
}
