//! The authorization code flow of OpenID4VCI 1.0 (§5, §6) as HAIP 1.0 §4 profiles it: a
//! [pushed authorization request](PushedAuthorizationRequest) (RFC 9126) with PKCE `S256`
//! (RFC 7636), the [reference](AuthorizationRequestReference) the browser takes to the
//! authorization endpoint, the [authorization response](AuthorizationResponse) with `iss`
//! (RFC 9207), and the [code token request](AuthorizationCodeTokenRequest) beside the
//! pre-authorized one ([`TokenGrant`]).
//!
//! Parsing is strict: a parameter given twice is refused (by [`crate::form`]), `plain` PKCE and
//! a missing challenge are refused, a `request_uri` inside a pushed request is refused
//! (RFC 9126 §2.1), and redirect URIs follow RFC 8252 (see [`check_redirect_uri`]).
//!
//! ```
//! use schooltas_oid4vc::oid4vci::{PushedAuthorizationRequest, AuthorizationResponse, pkce_challenge};
//! let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
//! let request = PushedAuthorizationRequest::new(
//!     "https://wallet.example/client",
//!     "https://wallet.example/cb",
//!     pkce_challenge(verifier),
//! )
//! .with_scope("guardianship")
//! .with_state("af0ifjsldkj");
//! let parsed = PushedAuthorizationRequest::from_form(&request.to_form())?;
//! assert_eq!(parsed, request);
//! // RFC 7636 Appendix B.
//! assert_eq!(parsed.code_challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
//!
//! let response = AuthorizationResponse::Code {
//!     code: "SplxlOBeZQQYbYS6WxSbIA".into(),
//!     state: Some("af0ifjsldkj".into()),
//!     iss: Some("https://school.example".into()),
//! };
//! let location = response.redirect_location("https://wallet.example/cb?app=1");
//! assert_eq!(location, "https://wallet.example/cb?app=1&code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=https%3A%2F%2Fschool.example");
//! assert_eq!(AuthorizationResponse::from_redirect_url(&location)?, response);
//! # Ok::<(), schooltas_oid4vc::Error>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::{
    ErrorCode, MAX_MESSAGE_LEN, Oid4vciError, PRE_AUTHORIZED_GRANT, TokenRequest, from_json, invalid, to_json,
};
use crate::form;

/// The grant type of the authorization code flow (RFC 6749 §4.1.3).
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";

/// How every `request_uri` of a pushed authorization request begins (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The `type` of an OpenID4VCI `authorization_details` entry (§5.1.1).
pub const OPENID_CREDENTIAL: &str = "openid_credential";

/// The longest redirect URI accepted.
pub const MAX_REDIRECT_URI_LEN: usize = 2048;

const PAR: &str = "pushed authorization request";

/// `BASE64URL(SHA-256(ASCII(code_verifier)))`: the `S256` code challenge of a verifier
/// (RFC 7636 §4.2).
pub fn pkce_challenge(code_verifier: &str) -> String {
    schooltas_did::base64url::encode(Sha256::digest(code_verifier.as_bytes()))
}

/// Checks a redirect URI against RFC 8252 (OAuth for native apps) and RFC 6749 §3.1.2: a
/// claimed `https` URL, a private-use scheme holding a dot (reverse domain name, §7.1:
/// `nl.school.wallet:/cb`), or `http` to a loopback IP literal (§7.3; not `localhost`, §8.3);
/// never a fragment, never white space or control characters.
///
/// ```
/// use schooltas_oid4vc::oid4vci::authorization::check_redirect_uri;
/// for good in ["https://wallet.example/cb", "nl.schooltas.wallet:/cb", "http://127.0.0.1:5123/cb", "http://[::1]/cb"] {
///     assert!(check_redirect_uri(good).is_ok(), "{good}");
/// }
/// for bad in ["http://wallet.example/cb", "http://localhost/cb", "wallet:/cb", "https://w.example/cb#x", "https:///cb", ""] {
///     assert!(check_redirect_uri(bad).is_err(), "{bad}");
/// }
/// ```
pub fn check_redirect_uri(uri: &str) -> crate::Result<()> {
    let refuse = |reason: &str| Err(invalid(PAR, format!("redirect_uri {reason}")));
    if uri.is_empty() || uri.len() > MAX_REDIRECT_URI_LEN {
        return refuse("is empty or too long");
    }
    if uri.contains('#') {
        return refuse("has a fragment (RFC 6749 §3.1.2)");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("holds white space or control characters");
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return refuse("has no scheme");
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return refuse("has no valid scheme");
    }
    let authority = |rest: &str| -> Option<String> {
        let after = rest.strip_prefix("//")?;
        let end = after.find(['/', '?']).unwrap_or(after.len());
        Some(after[..end].to_owned())
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => match authority(rest) {
            Some(host) if !host.is_empty() && !host.contains('@') => Ok(()),
            _ => refuse("is an https URL without a host"),
        },
        "http" => {
            let Some(host) = authority(rest) else { return refuse("is an http URL without a host") };
            // RFC 8252 §7.3: the loopback interface by IP literal, any port.
            let ip = match host.strip_prefix('[') {
                Some(v6) => v6.split_once(']').map(|(ip, _)| ip.to_owned()),
                None => Some(host.split(':').next().unwrap_or_default().to_owned()),
            };
            let loopback = ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()).is_some_and(|ip| ip.is_loopback());
            if loopback { Ok(()) } else { refuse("is plain http to another host than a loopback IP literal") }
        }
        // RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it holds a dot.
        _ if scheme.contains('.') => Ok(()),
        _ => refuse("is neither https, a private-use scheme with a dot (RFC 8252 §7.1), nor http to loopback"),
    }
}

fn is_base64url(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// One `authorization_details` entry (OpenID4VCI 1.0 §5.1.1, RFC 9396): a credential
/// configuration asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationDetail {
    /// `openid_credential`.
    #[serde(rename = "type")]
    pub detail_type: String,
    /// The configuration id asked for.
    pub credential_configuration_id: String,
}

impl AuthorizationDetail {
    /// An `openid_credential` entry for `config_id`.
    pub fn credential(config_id: impl Into<String>) -> Self {
        AuthorizationDetail { detail_type: OPENID_CREDENTIAL.into(), credential_configuration_id: config_id.into() }
    }
}

/// One `authorization_details` entry of a token response (OpenID4VCI 1.0 §6.2): a
/// configuration the access token is for and the identifiers of its credential datasets, each
/// to be sent as a credential request's `credential_identifier` (§8.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedCredential {
    /// `openid_credential`.
    #[serde(rename = "type")]
    pub detail_type: String,
    /// The configuration id that was asked for.
    pub credential_configuration_id: String,
    /// The identifiers of the datasets the token may fetch (never empty).
    pub credential_identifiers: Vec<String>,
}

impl AuthorizedCredential {
    /// An `openid_credential` entry for `config_id` with these identifiers.
    pub fn new(config_id: impl Into<String>, credential_identifiers: Vec<String>) -> Self {
        AuthorizedCredential {
            detail_type: OPENID_CREDENTIAL.into(),
            credential_configuration_id: config_id.into(),
            credential_identifiers,
        }
    }

    /// §6.2: of type `openid_credential`, a configuration id, at least one non-empty identifier.
    pub(crate) fn is_well_formed(&self) -> bool {
        self.detail_type == OPENID_CREDENTIAL
            && !self.credential_configuration_id.is_empty()
            && !self.credential_identifiers.is_empty()
            && self.credential_identifiers.iter().all(|id| !id.is_empty())
    }
}

/// A pushed authorization request (RFC 9126 §2.1) for the authorization code flow with PKCE
/// `S256`: `response_type=code` and `code_challenge_method=S256` are implied (written by
/// [`to_form`](Self::to_form), required by [`from_form`](Self::from_form)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedAuthorizationRequest {
    /// The wallet's client identifier (one value for every installation of a wallet, HAIP).
    pub client_id: String,
    /// Where the authorization response goes (RFC 8252 rules, [`check_redirect_uri`]).
    pub redirect_uri: String,
    /// `BASE64URL(SHA-256(code_verifier))` ([`pkce_challenge`]).
    pub code_challenge: String,
    /// The wallet's value, returned in the response (CSRF defence).
    pub state: Option<String>,
    /// Scopes, each naming a credential configuration (§5.1.2).
    pub scope: Vec<String>,
    /// `openid_credential` entries (§5.1.1).
    pub authorization_details: Vec<AuthorizationDetail>,
    /// The `issuer_state` of the credential offer that started the flow (§5.1.3).
    pub issuer_state: Option<String>,
    /// The thumbprint of the DPoP key the code is to be bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
}

impl PushedAuthorizationRequest {
    /// A request by `client_id`, answered at `redirect_uri`, with PKCE challenge
    /// `code_challenge`; add what is asked for with [`with_scope`](Self::with_scope) or
    /// [`with_configuration`](Self::with_configuration).
    pub fn new(client_id: impl Into<String>, redirect_uri: impl Into<String>, code_challenge: String) -> Self {
        PushedAuthorizationRequest {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            code_challenge,
            state: None,
            scope: Vec::new(),
            authorization_details: Vec::new(),
            issuer_state: None,
            dpop_jkt: None,
        }
    }

    /// Asks for one more scope.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope.push(scope.into());
        self
    }

    /// Asks for one more configuration by `authorization_details`.
    pub fn with_configuration(mut self, config_id: impl Into<String>) -> Self {
        self.authorization_details.push(AuthorizationDetail::credential(config_id));
        self
    }

    /// Sets `state`.
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Sets `issuer_state` (from the offer).
    pub fn with_issuer_state(mut self, issuer_state: impl Into<String>) -> Self {
        self.issuer_state = Some(issuer_state.into());
        self
    }

    /// Sets `dpop_jkt`.
    pub fn with_dpop_jkt(mut self, jkt: impl Into<String>) -> Self {
        self.dpop_jkt = Some(jkt.into());
        self
    }

    /// The form-encoded body.
    pub fn to_form(&self) -> String {
        let scope = self.scope.join(" ");
        let details = (!self.authorization_details.is_empty()).then(|| to_json(&self.authorization_details));
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_challenge", self.code_challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if !scope.is_empty() {
            pairs.push(("scope", &scope));
        }
        if let Some(details) = &details {
            pairs.push(("authorization_details", details));
        }
        for (name, value) in
            [("state", &self.state), ("issuer_state", &self.issuer_state), ("dpop_jkt", &self.dpop_jkt)]
        {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        form::encode(&pairs)
    }

    /// Parses and checks a form-encoded body (RFC 9126 §2.1, RFC 7636 §4.3, RFC 6749 §4.1.1).
    /// Every refusal is `invalid_request` ([`Oid4vciError::error_code`]).
    pub fn from_form(body: &str) -> crate::Result<Self> {
        if body.len() > MAX_MESSAGE_LEN {
            return Err(invalid(PAR, "too long"));
        }
        let pairs = form::decode(body).map_err(|e| invalid(PAR, e.to_string()))?;
        let get = |name: &str| form::get(&pairs, name);
        if get("request_uri").is_some() {
            return Err(invalid(PAR, "a pushed request must not carry request_uri (RFC 9126 §2.1)"));
        }
        if get("request").is_some() {
            return Err(invalid(PAR, "request objects (JAR) are not taken here: send the parameters as a form"));
        }
        match get("response_type") {
            Some("code") => {}
            Some(_) => return Err(invalid(PAR, "response_type must be code")),
            None => return Err(invalid(PAR, "response_type is missing")),
        }
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| invalid(PAR, format!("{name} is missing")))
        };
        let client_id = required("client_id")?;
        let redirect_uri = required("redirect_uri")?;
        check_redirect_uri(&redirect_uri)?;
        // RFC 7636 §4.3, HAIP 1.0 §4: S256 only; `plain` (or none, which means plain) refused.
        match get("code_challenge_method") {
            Some("S256") => {}
            Some(_) => return Err(invalid(PAR, "code_challenge_method must be S256 (plain is refused)")),
            None => return Err(invalid(PAR, "code_challenge_method is missing: PKCE with S256 is required")),
        }
        let code_challenge =
            get("code_challenge").ok_or_else(|| invalid(PAR, "code_challenge is missing: PKCE is required"))?;
        if !(43..=128).contains(&code_challenge.len()) || !is_base64url(code_challenge) {
            return Err(invalid(PAR, "code_challenge is not 43 to 128 base64url characters"));
        }
        let scope: Vec<String> =
            get("scope").unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let authorization_details = match get("authorization_details") {
            Some(json) => parse_details(json)?,
            None => Vec::new(),
        };
        if scope.is_empty() && authorization_details.is_empty() {
            return Err(invalid(PAR, "neither scope nor authorization_details says which credential is asked for"));
        }
        let optional = |name: &'static str| match get(name) {
            Some("") => Err(invalid(PAR, format!("{name} is empty"))),
            other => Ok(other.map(str::to_owned)),
        };
        let dpop_jkt = optional("dpop_jkt")?;
        if dpop_jkt.as_deref().is_some_and(|jkt| jkt.len() != 43 || !is_base64url(jkt)) {
            return Err(invalid(PAR, "dpop_jkt is not a SHA-256 JWK thumbprint (43 base64url characters)"));
        }
        Ok(PushedAuthorizationRequest {
            client_id,
            redirect_uri,
            code_challenge: code_challenge.to_owned(),
            state: optional("state")?,
            scope,
            authorization_details,
            issuer_state: optional("issuer_state")?,
            dpop_jkt,
        })
    }
}

fn parse_details(json: &str) -> crate::Result<Vec<AuthorizationDetail>> {
    let value: Value =
        schooltas_did::strict_json::from_str_or(json, |_| invalid(PAR, "authorization_details is not a JSON array"))?;
    let Value::Array(entries) = value else {
        return Err(invalid(PAR, "authorization_details is not a JSON array"));
    };
    if entries.is_empty() {
        return Err(invalid(PAR, "authorization_details is empty"));
    }
    entries
        .iter()
        .map(|entry| {
            let detail_type = entry.get("type").and_then(Value::as_str);
            if detail_type != Some(OPENID_CREDENTIAL) {
                return Err(invalid(PAR, "an authorization_details entry is not of type openid_credential"));
            }
            let id = entry.get("credential_configuration_id").and_then(Value::as_str).filter(|id| !id.is_empty());
            let id = id.ok_or_else(|| {
                invalid(PAR, "an authorization_details entry has no credential_configuration_id (§5.1.1)")
            })?;
            Ok(AuthorizationDetail::credential(id))
        })
        .collect()
}

/// The answer of the PAR endpoint (RFC 9126 §2.2), sent with `201 Created`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedAuthorizationResponse {
    /// `urn:ietf:params:oauth:request_uri:…`, good once, for [`expires_in`](Self::expires_in)
    /// seconds.
    pub request_uri: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
}

impl fmt::Debug for PushedAuthorizationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushedAuthorizationResponse")
            .field("request_uri", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl PushedAuthorizationResponse {
    /// As JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// From JSON: a `request_uri` of the RFC 9126 form, a positive lifetime.
    pub fn from_json(json: &str) -> crate::Result<Self> {
        let response: PushedAuthorizationResponse = from_json("pushed authorization response", json)?;
        if !response.request_uri.starts_with(REQUEST_URI_PREFIX) || response.expires_in <= 0 {
            return Err(invalid("pushed authorization response", "request_uri or expires_in is malformed"));
        }
        Ok(response)
    }
}

/// What the browser takes to the authorization endpoint after a pushed request (RFC 9126
/// §4): the `client_id` and the `request_uri`, nothing else.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationRequestReference {
    /// The wallet's client identifier.
    pub client_id: String,
    /// The `request_uri` the PAR endpoint answered.
    pub request_uri: String,
}

impl fmt::Debug for AuthorizationRequestReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequestReference")
            .field("client_id", &self.client_id)
            .field("request_uri", &"<redacted>")
            .finish()
    }
}

impl AuthorizationRequestReference {
    /// The URL to open in the browser: `authorization_endpoint?client_id=…&request_uri=…`.
    pub fn to_url(&self, authorization_endpoint: &str) -> String {
        let separator = if authorization_endpoint.contains('?') { '&' } else { '?' };
        let query = form::encode(&[("client_id", &self.client_id), ("request_uri", &self.request_uri)]);
        format!("{authorization_endpoint}{separator}{query}")
    }

    /// Parses the query of a request to the authorization endpoint: `client_id` and
    /// `request_uri`, each once; other parameters are ignored (RFC 9126 §4: the pushed request
    /// holds them).
    pub fn from_query(query: &str) -> crate::Result<Self> {
        let refuse = |reason: &str| invalid("authorization request", reason);
        if query.len() > MAX_MESSAGE_LEN {
            return Err(refuse("too long"));
        }
        let pairs = form::decode(query).map_err(|e| refuse(&e.to_string()))?;
        let get = |name: &str| form::get(&pairs, name).filter(|v| !v.is_empty()).map(str::to_owned);
        let client_id = get("client_id").ok_or_else(|| refuse("client_id is missing"))?;
        let request_uri = get("request_uri").ok_or_else(|| refuse("request_uri is missing: push the request first"))?;
        Ok(AuthorizationRequestReference { client_id, request_uri })
    }
}

/// The authorization response at the wallet's redirect URI (RFC 6749 §4.1.2, §4.1.2.1) with
/// the issuer identifier (RFC 9207).
#[derive(Clone, PartialEq, Eq)]
pub enum AuthorizationResponse {
    /// The code to redeem at the token endpoint.
    Code {
        /// The authorization code (a secret, used once).
        code: String,
        /// The wallet's `state`, returned.
        state: Option<String>,
        /// The authorization server's issuer identifier (RFC 9207).
        iss: Option<String>,
    },
    /// A refusal (`access_denied` when the person said no).
    Error {
        /// The code.
        error: ErrorCode,
        /// Words for a developer.
        error_description: Option<String>,
        /// The wallet's `state`, returned.
        state: Option<String>,
        /// The authorization server's issuer identifier (RFC 9207).
        iss: Option<String>,
    },
}

impl fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthorizationResponse::Code { state, iss, .. } => {
                f.debug_struct("Code").field("code", &"<redacted>").field("state", state).field("iss", iss).finish()
            }
            AuthorizationResponse::Error { error, error_description, state, iss } => f
                .debug_struct("Error")
                .field("error", error)
                .field("error_description", error_description)
                .field("state", state)
                .field("iss", iss)
                .finish(),
        }
    }
}

impl AuthorizationResponse {
    /// The wallet's `state`, as returned.
    pub fn state(&self) -> Option<&str> {
        match self {
            AuthorizationResponse::Code { state, .. } | AuthorizationResponse::Error { state, .. } => state.as_deref(),
        }
    }

    /// The `iss` parameter (RFC 9207), if present.
    pub fn iss(&self) -> Option<&str> {
        match self {
            AuthorizationResponse::Code { iss, .. } | AuthorizationResponse::Error { iss, .. } => iss.as_deref(),
        }
    }

    /// Where to send the browser: `redirect_uri` with the response's parameters appended to
    /// its query (`?` or `&`, RFC 6749 §3.1.2: its own query is kept).
    pub fn redirect_location(&self, redirect_uri: &str) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        match self {
            AuthorizationResponse::Code { code, .. } => pairs.push(("code", code)),
            AuthorizationResponse::Error { error, error_description, .. } => {
                pairs.push(("error", error.as_str()));
                if let Some(description) = error_description {
                    pairs.push(("error_description", description));
                }
            }
        }
        if let Some(state) = self.state() {
            pairs.push(("state", state));
        }
        if let Some(iss) = self.iss() {
            pairs.push(("iss", iss));
        }
        let (base, fragment) = match redirect_uri.split_once('#') {
            Some((base, fragment)) => (base, Some(fragment)),
            None => (redirect_uri, None),
        };
        let separator = match base.split_once('?') {
            Some((_, "")) => "",
            Some((_, query)) if query.ends_with('&') => "",
            Some(_) => "&",
            None => "?",
        };
        let mut out = format!("{base}{separator}{}", form::encode(&pairs));
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }

    /// Reads the response from the URL the browser was sent to: its query's `code` or
    /// `error`, `state` and `iss`, each at most once (the redirect URI's own parameters are
    /// ignored).
    pub fn from_redirect_url(url: &str) -> crate::Result<Self> {
        let refuse = |reason: &str| invalid("authorization response", reason);
        if url.len() > MAX_MESSAGE_LEN {
            return Err(refuse("too long"));
        }
        let without_fragment = url.split('#').next().unwrap_or_default();
        let query = without_fragment.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let pairs = form::decode(query).map_err(|e| refuse(&e.to_string()))?;
        let get = |name: &str| form::get(&pairs, name).map(str::to_owned);
        let state = get("state");
        let iss = get("iss");
        match (get("code"), get("error")) {
            (_, Some(error)) => Ok(AuthorizationResponse::Error {
                error: ErrorCode::parse(&error),
                error_description: get("error_description"),
                state,
                iss,
            }),
            (Some(code), None) if !code.is_empty() => Ok(AuthorizationResponse::Code { code, state, iss }),
            _ => Err(refuse("the redirect carries neither a code nor an error")),
        }
    }
}

/// A token request with an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCodeTokenRequest {
    /// The code from the authorization response.
    pub code: Zeroizing<String>,
    /// The redirect URI of the authorization request, exactly.
    pub redirect_uri: String,
    /// The PKCE verifier (43 to 128 unreserved characters).
    pub code_verifier: Zeroizing<String>,
    /// The wallet's client identifier.
    pub client_id: String,
}

impl fmt::Debug for AuthorizationCodeTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeTokenRequest")
            .field("code", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .field("code_verifier", &"<redacted>")
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl AuthorizationCodeTokenRequest {
    /// The form-encoded body.
    pub fn to_form(&self) -> String {
        form::encode(&[
            ("grant_type", AUTHORIZATION_CODE_GRANT),
            ("code", &self.code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", &self.code_verifier),
            ("client_id", &self.client_id),
        ])
    }

    fn from_pairs(pairs: &[(String, String)]) -> crate::Result<Self> {
        let refuse = |reason: &str| invalid("token request", reason);
        let get = |name: &str| form::get(pairs, name).filter(|v| !v.is_empty()).map(str::to_owned);
        let code = get("code").ok_or_else(|| refuse("code is missing"))?;
        let redirect_uri = get("redirect_uri").ok_or_else(|| refuse("redirect_uri is missing"))?;
        let client_id = get("client_id").ok_or_else(|| refuse("client_id is missing"))?;
        let verifier = get("code_verifier").ok_or_else(|| refuse("code_verifier is missing: PKCE is required"))?;
        // RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
        let unreserved = verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !(43..=128).contains(&verifier.len()) || !unreserved {
            return Err(refuse("code_verifier is not 43 to 128 unreserved characters (RFC 7636 §4.1)"));
        }
        Ok(AuthorizationCodeTokenRequest {
            code: Zeroizing::new(code),
            redirect_uri,
            code_verifier: Zeroizing::new(verifier),
            client_id,
        })
    }
}

/// A token request of either grant the issuer takes, by `grant_type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenGrant {
    /// `urn:ietf:params:oauth:grant-type:pre-authorized_code` (OpenID4VCI 1.0 §6.1).
    PreAuthorizedCode(TokenRequest),
    /// `authorization_code` (RFC 6749 §4.1.3) with PKCE.
    AuthorizationCode(AuthorizationCodeTokenRequest),
}

impl TokenGrant {
    /// Parses a form-encoded token request: a repeated parameter is refused, an unknown
    /// grant type is `unsupported_grant_type`.
    pub fn from_form(body: &str) -> crate::Result<Self> {
        if body.len() > MAX_MESSAGE_LEN {
            return Err(invalid("token request", "too long"));
        }
        let pairs = form::decode(body).map_err(|e| invalid("token request", e.to_string()))?;
        match form::get(&pairs, "grant_type") {
            Some(PRE_AUTHORIZED_GRANT) => TokenRequest::from_form(body).map(TokenGrant::PreAuthorizedCode),
            Some(AUTHORIZATION_CODE_GRANT) => {
                AuthorizationCodeTokenRequest::from_pairs(&pairs).map(TokenGrant::AuthorizationCode)
            }
            Some(other) => Err(Oid4vciError::UnsupportedGrantType(other.to_owned()).into()),
            None => Err(invalid("token request", "grant_type is missing")),
        }
    }

    /// The form-encoded body.
    pub fn to_form(&self) -> String {
        match self {
            TokenGrant::PreAuthorizedCode(request) => request.to_form(),
            TokenGrant::AuthorizationCode(request) => request.to_form(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_redirect_location_keeps_the_redirect_uris_own_query() {
        let response = AuthorizationResponse::Error {
            error: ErrorCode::AccessDenied,
            error_description: None,
            state: Some("s".into()),
            iss: Some("https://i.example".into()),
        };
        assert_eq!(
            response.redirect_location("nl.app:/cb"),
            "nl.app:/cb?error=access_denied&state=s&iss=https%3A%2F%2Fi.example"
        );
        assert_eq!(
            response.redirect_location("nl.app:/cb?"),
            "nl.app:/cb?error=access_denied&state=s&iss=https%3A%2F%2Fi.example"
        );
        assert_eq!(
            response.redirect_location("nl.app:/cb?a=1&"),
            "nl.app:/cb?a=1&error=access_denied&state=s&iss=https%3A%2F%2Fi.example"
        );
    }
}
