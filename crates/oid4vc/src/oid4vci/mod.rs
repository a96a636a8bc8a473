//! OpenID for Verifiable Credential Issuance 1.0 — the pre-authorized code flow as typed,
//! transport-free messages: the [credential offer](CredentialOffer) (by value or as a URI for a
//! QR code), [issuer metadata](CredentialIssuerMetadata), the [token request](TokenRequest)
//! and [response](TokenResponse), the [nonce response](NonceResponse), the
//! [credential request](CredentialRequest) with [proofs of possession](proof) and the
//! [credential response](CredentialResponse), and the spec's [error responses](ErrorResponse);
//! and the [authorization code flow](authorization) (PAR, PKCE `S256`, `iss`) beside it.
//!
//! Secrets in these messages (the pre-authorized code, the PIN, access tokens, authorization
//! codes, PKCE verifiers) are never shown by `Debug`.
//!
//! ```
//! use schooltas_oid4vc::oid4vci::{CredentialOffer, CredentialOfferUri, TxCode};
//! let offer = CredentialOffer::pre_authorized(
//!     "https://delinde.example",
//!     vec!["pupil_enrolment".into()],
//!     "oaKazRN8I0IbtZ0C7JuMn5",
//!     Some(TxCode::numeric(6, "De pincode uit de brief van school")),
//! );
//! let uri = offer.to_uri()?;
//! assert!(uri.starts_with("openid-credential-offer://?credential_offer="));
//! let CredentialOfferUri::ByValue(parsed) = CredentialOfferUri::parse(&uri)? else { unreachable!() };
//! assert_eq!(parsed, offer);
//! # Ok::<(), schooltas_oid4vc::Error>(())
//! ```

pub mod authorization;
pub mod key_attestation;
pub mod proof;

pub use authorization::{
    AUTHORIZATION_CODE_GRANT, AuthorizationCodeTokenRequest, AuthorizationDetail, AuthorizationResponse,
    AuthorizedCredential, PushedAuthorizationRequest, PushedAuthorizationResponse, REQUEST_URI_PREFIX, TokenGrant,
    pkce_challenge,
};

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::form;

/// The grant type of the pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// The scheme of credential offer URIs (§4.1).
pub const OFFER_SCHEME: &str = "openid-credential-offer://";

/// The longest offer URI or message accepted.
pub const MAX_MESSAGE_LEN: usize = 64 << 10;

/// The well-known suffix of the credential issuer metadata (OpenID4VCI 1.0 §12.2.2).
pub const ISSUER_METADATA_SUFFIX: &str = "openid-credential-issuer";

/// The well-known suffix of the authorization server metadata (RFC 8414 §3).
pub const AUTHORIZATION_SERVER_METADATA_SUFFIX: &str = "oauth-authorization-server";

/// Where the metadata of `identifier` (an `https` URL without query or fragment) is published:
/// `/.well-known/<suffix>` inserted between the host and the path, the path's trailing `/`
/// dropped (OpenID4VCI 1.0 §12.2.2, RFC 8414 §3.1).
///
/// ```
/// use schooltas_oid4vc::oid4vci::{well_known_url, ISSUER_METADATA_SUFFIX};
/// assert_eq!(
///     well_known_url("https://school.example", ISSUER_METADATA_SUFFIX)?,
///     "https://school.example/.well-known/openid-credential-issuer"
/// );
/// assert_eq!(
///     well_known_url("https://school.example:8443/tenant/linde/", ISSUER_METADATA_SUFFIX)?,
///     "https://school.example:8443/.well-known/openid-credential-issuer/tenant/linde"
/// );
/// use schooltas_oid4vc::{Error, oid4vci::Oid4vciError};
/// let refused = |id| matches!(well_known_url(id, ISSUER_METADATA_SUFFIX), Err(Error::Oid4vci(Oid4vciError::Invalid { .. })));
/// assert!(refused("http://school.example") && refused("https://school.example/?x=1"));
/// # Ok::<(), schooltas_oid4vc::Error>(())
/// ```
pub fn well_known_url(identifier: &str, suffix: &str) -> crate::Result<String> {
    check_https("issuer identifier", "the identifier", identifier)?;
    if identifier.contains(['?', '#']) {
        return Err(invalid("issuer identifier", "an identifier has no query or fragment"));
    }
    let rest = &identifier["https://".len()..];
    let (host, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    Ok(format!("https://{host}/.well-known/{suffix}{}", path.trim_end_matches('/')))
}

/// An OpenID4VCI message that is malformed or refused. [`error_code`](Self::error_code) gives
/// the spec's error code an endpoint answers with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Oid4vciError {
    /// The message is not what the spec describes.
    #[error("invalid {message}: {reason}")]
    Invalid {
        /// Which message.
        message: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The token request uses a grant type other than the pre-authorized code.
    #[error("unsupported grant type {0:?}: send the pre-authorized code or the authorization code grant")]
    UnsupportedGrantType(String),
    /// A proof of possession was refused.
    #[error("invalid proof: {0}")]
    InvalidProof(String),
    /// A proof carries no nonce, or not the one the issuer handed out.
    #[error("invalid nonce: {0}")]
    InvalidNonce(String),
}

impl Oid4vciError {
    /// The error code an endpoint answers with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Oid4vciError::Invalid {
                message: "token request" | "pushed authorization request" | "authorization response",
                ..
            } => ErrorCode::InvalidRequest,
            Oid4vciError::Invalid { .. } => ErrorCode::InvalidCredentialRequest,
            Oid4vciError::UnsupportedGrantType(_) => ErrorCode::UnsupportedGrantType,
            Oid4vciError::InvalidProof(_) => ErrorCode::InvalidProof,
            Oid4vciError::InvalidNonce(_) => ErrorCode::InvalidNonce,
        }
    }
}

fn invalid(message: &'static str, reason: impl Into<String>) -> crate::Error {
    Oid4vciError::Invalid { message, reason: reason.into() }.into()
}

fn check_https(message: &'static str, what: &str, url: &str) -> crate::Result<()> {
    let ok = url.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !url.contains(['#', ' ']);
    if ok { Ok(()) } else { Err(invalid(message, format!("{what} is not an https URL"))) }
}

fn from_json<T: serde::de::DeserializeOwned>(message: &'static str, json: &str) -> crate::Result<T> {
    if json.len() > MAX_MESSAGE_LEN {
        return Err(invalid(message, format!("longer than {MAX_MESSAGE_LEN} bytes")));
    }
    schooltas_did::strict_json::from_str_or(json, |e| invalid(message, format!("not the expected JSON ({e})")))
}

fn to_json(value: &impl Serialize) -> String {
    // Plain data with string keys serializes without fail.
    serde_json::to_string(value).unwrap_or_default()
}

// ---- credential offer (§4.1) ----------------------------------------------------------------

/// A transaction code (PIN) the wallet must ask the person for (§4.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxCode {
    /// `numeric` or `text`.
    #[serde(default = "numeric")]
    pub input_mode: String,
    /// Its length, so the wallet can show the right input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// Where the person finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn numeric() -> String {
    "numeric".into()
}

impl TxCode {
    /// A numeric PIN of `length` digits, found where `description` says.
    pub fn numeric(length: u32, description: impl Into<String>) -> Self {
        TxCode { input_mode: numeric(), length: Some(length), description: Some(description.into()) }
    }
}

/// The pre-authorized code grant of an offer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthorizedCodeGrant {
    /// The code (a secret: whoever has it and the PIN gets the credential).
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    /// The PIN the wallet must send, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCode>,
    /// The authorization server to use, when the issuer has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

impl fmt::Debug for PreAuthorizedCodeGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreAuthorizedCodeGrant")
            .field("pre_authorized_code", &"<redacted>")
            .field("tx_code", &self.tx_code)
            .finish_non_exhaustive()
    }
}

/// The grants of an offer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// The pre-authorized code flow.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
    /// The authorization code flow (§4.1.1, RFC 6749 §4.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<AuthorizationCodeGrant>,
}

/// The authorization code grant of an offer (§4.1.1): the wallet starts the authorization code
/// flow, and sends `issuer_state` back in its authorization request so the issuer can tie it
/// to this offer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCodeGrant {
    /// An opaque value the wallet returns in the authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_state: Option<String>,
    /// The authorization server to use, when the issuer has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

/// A credential offer (§4.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialOffer {
    /// The credential issuer identifier (an https URL).
    pub credential_issuer: String,
    /// What is offered: keys of the issuer's `credential_configurations_supported`.
    pub credential_configuration_ids: Vec<String>,
    /// How the wallet gets a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Grants>,
}

impl CredentialOffer {
    /// An offer with a pre-authorized code (and optionally a PIN).
    pub fn pre_authorized(
        credential_issuer: impl Into<String>,
        credential_configuration_ids: Vec<String>,
        pre_authorized_code: impl Into<String>,
        tx_code: Option<TxCode>,
    ) -> Self {
        CredentialOffer {
            credential_issuer: credential_issuer.into(),
            credential_configuration_ids,
            grants: Some(Grants {
                pre_authorized_code: Some(PreAuthorizedCodeGrant {
                    pre_authorized_code: pre_authorized_code.into(),
                    tx_code,
                    authorization_server: None,
                }),
                authorization_code: None,
            }),
        }
    }

    /// An offer for the authorization code flow: the wallet sends the person to the issuer's
    /// authorization endpoint, passing `issuer_state` back.
    pub fn authorization_code(
        credential_issuer: impl Into<String>,
        credential_configuration_ids: Vec<String>,
        issuer_state: Option<String>,
    ) -> Self {
        CredentialOffer {
            credential_issuer: credential_issuer.into(),
            credential_configuration_ids,
            grants: Some(Grants {
                pre_authorized_code: None,
                authorization_code: Some(AuthorizationCodeGrant { issuer_state, authorization_server: None }),
            }),
        }
    }

    /// The authorization code grant, if the offer has one.
    pub fn authorization_code_grant(&self) -> Option<&AuthorizationCodeGrant> {
        self.grants.as_ref().and_then(|grants| grants.authorization_code.as_ref())
    }

    /// The pre-authorized code grant, if the offer has one.
    pub fn pre_authorized_grant(&self) -> Option<&PreAuthorizedCodeGrant> {
        self.grants.as_ref().and_then(|grants| grants.pre_authorized_code.as_ref())
    }

    /// Checks the offer: an https issuer, at least one configuration id and no duplicates, a
    /// non-empty pre-authorized code, a PIN input mode of `numeric` or `text`.
    pub fn validate(&self) -> crate::Result<()> {
        check_https("credential offer", "credential_issuer", &self.credential_issuer)?;
        let ids = &self.credential_configuration_ids;
        if ids.is_empty() {
            return Err(invalid("credential offer", "credential_configuration_ids is empty"));
        }
        if ids.iter().enumerate().any(|(n, id)| id.is_empty() || ids[..n].contains(id)) {
            return Err(invalid("credential offer", "credential_configuration_ids has an empty or repeated id"));
        }
        if let Some(grant) = self.pre_authorized_grant() {
            if grant.pre_authorized_code.is_empty() {
                return Err(invalid("credential offer", "the pre-authorized code is empty"));
            }
            if let Some(tx_code) = &grant.tx_code
                && !matches!(tx_code.input_mode.as_str(), "numeric" | "text")
            {
                return Err(invalid("credential offer", "tx_code.input_mode is neither numeric nor text"));
            }
        }
        Ok(())
    }

    /// The offer as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Parses and validates an offer from JSON.
    pub fn from_json(json: &str) -> crate::Result<Self> {
        let offer: CredentialOffer = from_json("credential offer", json)?;
        offer.validate()?;
        Ok(offer)
    }

    /// The offer by value as a URI for a QR code or link:
    /// `openid-credential-offer://?credential_offer=<form-encoded JSON>`.
    pub fn to_uri(&self) -> crate::Result<String> {
        self.validate()?;
        Ok(format!("{OFFER_SCHEME}?{}", form::encode(&[("credential_offer", &self.to_json())])))
    }

    /// A URI pointing at the offer by reference (`credential_offer_uri`), for offers too big
    /// for a QR code.
    pub fn reference_uri(offer_location: &str) -> crate::Result<String> {
        check_https("credential offer", "credential_offer_uri", offer_location)?;
        Ok(format!("{OFFER_SCHEME}?{}", form::encode(&[("credential_offer_uri", offer_location)])))
    }
}

/// A credential offer URI as scanned or clicked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialOfferUri {
    /// The offer itself (validated).
    ByValue(CredentialOffer),
    /// Where to fetch it (an https URL).
    ByReference(String),
}

impl CredentialOfferUri {
    /// Parses `openid-credential-offer://?…` (or an https wallet link with the same query):
    /// exactly one of `credential_offer` and `credential_offer_uri`.
    pub fn parse(uri: &str) -> crate::Result<Self> {
        let refuse = |reason: &str| invalid("credential offer URI", reason);
        if uri.len() > MAX_MESSAGE_LEN {
            return Err(refuse("too long"));
        }
        let query = match uri.split_once('?') {
            Some((base, query)) if base == OFFER_SCHEME || base == "openid-credential-offer:" => query,
            Some((base, query)) if base.starts_with("https://") => query,
            _ => return Err(refuse("not an openid-credential-offer:// URI or https link with a query")),
        };
        let query = query.split('#').next().unwrap_or_default();
        let pairs = form::decode(query).map_err(|e| refuse(&e.to_string()))?;
        let value = pairs.iter().find(|(name, _)| name == "credential_offer");
        let reference = pairs.iter().find(|(name, _)| name == "credential_offer_uri");
        match (value, reference) {
            (Some((_, json)), None) => Ok(CredentialOfferUri::ByValue(CredentialOffer::from_json(json)?)),
            (None, Some((_, location))) => {
                check_https("credential offer URI", "credential_offer_uri", location)?;
                Ok(CredentialOfferUri::ByReference(location.clone()))
            }
            (Some(_), Some(_)) => Err(refuse("has both credential_offer and credential_offer_uri")),
            (None, None) => Err(refuse("has neither credential_offer nor credential_offer_uri")),
        }
    }
}

// ---- metadata (§12.2, RFC 8414) -------------------------------------------------------------

/// The proof types a configuration accepts (`proof_types_supported.jwt`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofTypeSupported {
    /// Algorithms the wallet may sign proofs with.
    pub proof_signing_alg_values_supported: Vec<String>,
    /// Present when the issuer requires key attestations (§12.2.4, Appendix D): the levels
    /// it accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_attestations_required: Option<KeyAttestationsRequired>,
}

/// `key_attestations_required` (§12.2.4): a key attestation is required, with one of these
/// levels (an empty list: any).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttestationsRequired {
    /// Accepted `key_storage` levels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_storage: Vec<String>,
    /// Accepted `user_authentication` levels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_authentication: Vec<String>,
}

/// One entry of `credential_configurations_supported` (format `dc+sd-jwt`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialConfiguration {
    /// `dc+sd-jwt`.
    pub format: String,
    /// The credential type.
    pub vct: String,
    /// How the credential is bound to the holder: `jwk`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cryptographic_binding_methods_supported: Vec<String>,
    /// Algorithms the issuer signs with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_signing_alg_values_supported: Vec<String>,
    /// Proof types accepted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub proof_types_supported: BTreeMap<String, ProofTypeSupported>,
    /// Display data and claims (`display`, `claims`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_metadata: Option<Value>,
    /// The OAuth scope that asks for this configuration in the authorization code flow
    /// (§12.2.4; HAIP 1.0 §4.1 requires one for every configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Batch issuance support.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchIssuance {
    /// The most credentials one request returns.
    pub batch_size: u32,
}

/// Credential issuer metadata (§12.2.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialIssuerMetadata {
    /// The credential issuer identifier.
    pub credential_issuer: String,
    /// Authorization servers (absent: the issuer is its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// The credential endpoint.
    pub credential_endpoint: String,
    /// The nonce endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    /// Batch issuance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_credential_issuance: Option<BatchIssuance>,
    /// How to show the issuer (name, locale).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<Value>,
    /// What can be issued, by configuration id.
    pub credential_configurations_supported: BTreeMap<String, CredentialConfiguration>,
}

impl CredentialIssuerMetadata {
    /// Checks that every endpoint is https and that the metadata is for `expected_issuer`
    /// (§12.2.3: the `credential_issuer` must equal the identifier the metadata was fetched for).
    pub fn check_issuer(&self, expected_issuer: &str) -> crate::Result<()> {
        if self.credential_issuer.trim_end_matches('/') != expected_issuer.trim_end_matches('/') {
            return Err(invalid("issuer metadata", "credential_issuer is not the issuer the offer named"));
        }
        check_https("issuer metadata", "credential_endpoint", &self.credential_endpoint)?;
        if let Some(nonce) = &self.nonce_endpoint {
            check_https("issuer metadata", "nonce_endpoint", nonce)?;
        }
        Ok(())
    }

    /// As JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// From JSON.
    pub fn from_json(json: &str) -> crate::Result<Self> {
        from_json("issuer metadata", json)
    }
}

/// OAuth authorization server metadata (RFC 8414): the part the pre-authorized flow needs, and
/// the authorization code flow's endpoints and capabilities when the server offers it
/// (HAIP 1.0 §4: PKCE with `S256`, PAR, `iss` in the response).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// The authorization server's identifier.
    pub issuer: String,
    /// Its token endpoint.
    pub token_endpoint: String,
    /// Whether a wallet may redeem a pre-authorized code without client authentication.
    #[serde(rename = "pre-authorized_grant_anonymous_access_supported", default)]
    pub pre_authorized_grant_anonymous_access_supported: bool,
    /// The algorithms DPoP proofs may use (RFC 9449 §5.1): when present, the server binds its
    /// access tokens to a DPoP key, and a wallet sends proofs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// How clients authenticate at the token endpoint (RFC 8414): `attest_jwt_client_auth`
    /// when the server requires a wallet attestation (draft-ietf-oauth-attestation-based-client-auth).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// The algorithms a client (wallet) attestation may be signed with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_attestation_signing_alg_values_supported: Vec<String>,
    /// The algorithms a client attestation PoP may be signed with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_attestation_pop_signing_alg_values_supported: Vec<String>,
    /// The authorization endpoint (RFC 6749 §3.1), for the authorization code flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The pushed authorization request endpoint (RFC 9126 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// Whether every authorization request must be pushed first (RFC 9126 §5).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// The PKCE methods taken (RFC 8414 §2, RFC 7636): `S256` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<String>,
    /// The `response_type` values taken (RFC 8414 §2): `code`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_types_supported: Vec<String>,
    /// The grant types taken at the token endpoint (RFC 8414 §2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types_supported: Vec<String>,
    /// Whether authorization responses carry `iss` (RFC 9207 §3): a wallet then refuses one
    /// without it (mix-up defence).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub authorization_response_iss_parameter_supported: bool,
}

impl AuthorizationServerMetadata {
    /// Whether the server offers the authorization code flow as this crate speaks it: an
    /// authorization endpoint, a PAR endpoint and PKCE with `S256`.
    pub fn supports_authorization_code_flow(&self) -> bool {
        self.authorization_endpoint.is_some()
            && self.pushed_authorization_request_endpoint.is_some()
            && self.code_challenge_methods_supported.iter().any(|m| m == "S256")
    }

    /// The metadata without the authorization code flow's members (the pre-authorized code
    /// flow only).
    pub fn without_authorization_code_flow(mut self) -> Self {
        self.authorization_endpoint = None;
        self.pushed_authorization_request_endpoint = None;
        self.require_pushed_authorization_requests = false;
        self.code_challenge_methods_supported.clear();
        self.response_types_supported.clear();
        self.grant_types_supported.clear();
        self.authorization_response_iss_parameter_supported = false;
        self
    }
}

// ---- token (§6) -----------------------------------------------------------------------------

/// A token request with the pre-authorized code (§6.1).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The code from the offer.
    pub pre_authorized_code: String,
    /// The PIN the person typed, if the offer asked for one.
    pub tx_code: Option<String>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("pre_authorized_code", &"<redacted>")
            .field("tx_code", &self.tx_code.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl TokenRequest {
    /// The form-encoded body.
    pub fn to_form(&self) -> String {
        let mut pairs = vec![("grant_type", PRE_AUTHORIZED_GRANT), ("pre-authorized_code", &self.pre_authorized_code)];
        if let Some(pin) = &self.tx_code {
            pairs.push(("tx_code", pin));
        }
        form::encode(&pairs)
    }

    /// Parses a form-encoded body: the pre-authorized grant type, a code, an optional PIN;
    /// repeated parameters refused.
    pub fn from_form(body: &str) -> crate::Result<Self> {
        if body.len() > MAX_MESSAGE_LEN {
            return Err(invalid("token request", "too long"));
        }
        let pairs = form::decode(body).map_err(|e| invalid("token request", e.to_string()))?;
        let get = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        match get("grant_type") {
            Some(grant) if grant == PRE_AUTHORIZED_GRANT => {}
            Some(other) => return Err(Oid4vciError::UnsupportedGrantType(other).into()),
            None => return Err(invalid("token request", "grant_type is missing")),
        }
        let code = get("pre-authorized_code").filter(|c| !c.is_empty());
        let code = code.ok_or_else(|| invalid("token request", "pre-authorized_code is missing"))?;
        Ok(TokenRequest { pre_authorized_code: code, tx_code: get("tx_code") })
    }
}

/// A token response (§6.2).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token for the credential endpoint.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Which credentials it is for (§6.2): present when the authorization request used
    /// `authorization_details`, with the `credential_identifiers` to ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Vec<AuthorizedCredential>>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("authorization_details", &self.authorization_details)
            .finish()
    }
}

impl TokenResponse {
    /// As JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// From JSON; the token type must be `Bearer` or `DPoP` (case-insensitive, RFC 6749 §7.1,
    /// RFC 9449 §5).
    pub fn from_json(json: &str) -> crate::Result<Self> {
        let response: TokenResponse = from_json("token response", json)?;
        let known =
            response.token_type.eq_ignore_ascii_case("bearer") || response.token_type.eq_ignore_ascii_case("dpop");
        if !known || response.access_token.is_empty() {
            return Err(invalid("token response", "not a Bearer or DPoP token"));
        }
        if let Some(details) = &response.authorization_details
            && (details.is_empty() || !details.iter().all(AuthorizedCredential::is_well_formed))
        {
            return Err(invalid(
                "token response",
                "an authorization_details entry is not openid_credential with a configuration id and credential_identifiers (§6.2)",
            ));
        }
        Ok(response)
    }
}

/// The nonce endpoint's response (§7.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    /// The nonce the next proofs must carry.
    pub c_nonce: String,
}

// ---- credential (§8) ------------------------------------------------------------------------

/// Proofs of possession of the holder keys, one per credential wanted (§8.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proofs {
    /// `openid4vci-proof+jwt` JWTs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jwt: Vec<String>,
    /// The `attestation` proof type (Appendix F.3): exactly one key attestation, whose every
    /// attested key gets a credential, without a proof of possession.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestation: Vec<String>,
}

/// A credential request (§8.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRequest {
    /// Which configuration (from the offer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_configuration_id: Option<String>,
    /// Or which credential dataset (from `authorization_details` in the token response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_identifier: Option<String>,
    /// One proof per holder key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proofs: Option<Proofs>,
}

impl CredentialRequest {
    /// A request for `config_id` with these proofs.
    pub fn new(config_id: impl Into<String>, proofs: Vec<String>) -> Self {
        CredentialRequest {
            credential_configuration_id: Some(config_id.into()),
            credential_identifier: None,
            proofs: Some(Proofs { jwt: proofs, attestation: Vec::new() }),
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Parses and checks a request: exactly one of `credential_configuration_id` and
    /// `credential_identifier`; 1 to `max_proofs` JWT proofs; the singular `proof` of earlier
    /// drafts refused with a message saying so.
    pub fn from_json(json: &str, max_proofs: usize) -> crate::Result<Self> {
        let raw: Value = from_json("credential request", json)?;
        if raw.get("proof").is_some() {
            return Err(invalid(
                "credential request",
                "`proof` is from a pre-1.0 draft; OpenID4VCI 1.0 sends `proofs`",
            ));
        }
        let request: CredentialRequest =
            serde_json::from_value(raw).map_err(|e| invalid("credential request", e.to_string()))?;
        match (&request.credential_configuration_id, &request.credential_identifier) {
            (Some(_), None) | (None, Some(_)) => {}
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "credential request",
                    "has both credential_configuration_id and credential_identifier",
                ));
            }
            (None, None) => {
                return Err(invalid(
                    "credential request",
                    "has neither credential_configuration_id nor credential_identifier",
                ));
            }
        }
        let attestations = request.proofs.as_ref().map_or(0, |proofs| proofs.attestation.len());
        let count = request.proofs.as_ref().map_or(0, |proofs| proofs.jwt.len());
        match (count, attestations) {
            (_, 0) => {}
            (0, 1) => return Ok(request),
            (0, _) => {
                return Err(invalid("credential request", "proofs.attestation holds exactly one key attestation"));
            }
            _ => {
                return Err(invalid("credential request", "proofs has both jwt and attestation proofs: send one type"));
            }
        }
        if count == 0 {
            return Err(invalid("credential request", "proofs.jwt is missing or empty: holder binding needs a proof"));
        }
        if count > max_proofs {
            return Err(invalid("credential request", format!("{count} proofs; at most {max_proofs} per request")));
        }
        Ok(request)
    }
}

/// One issued credential in a response.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// The SD-JWT VC.
    pub credential: String,
}

impl fmt::Debug for IssuedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuedCredential(<personal data>)")
    }
}

/// A credential response (§8.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialResponse {
    /// The credentials, one per proof.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<IssuedCredential>,
    /// For deferred issuance (not used by this issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// For the notification endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
}

impl CredentialResponse {
    /// As JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// From JSON; an immediate response must carry at least one credential.
    pub fn from_json(json: &str) -> crate::Result<Self> {
        let response: CredentialResponse = from_json("credential response", json)?;
        if response.credentials.is_empty() && response.transaction_id.is_none() {
            return Err(invalid("credential response", "no credentials and no transaction_id"));
        }
        Ok(response)
    }
}

// ---- errors (§6.3, §8.3.1, RFC 6749 §5.2) ---------------------------------------------------

/// The error codes of the token and credential endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `invalid_request` (RFC 6749).
    InvalidRequest,
    /// `invalid_client` (RFC 6749).
    InvalidClient,
    /// `invalid_grant`: unknown, expired or used code, or a wrong PIN (§6.3).
    InvalidGrant,
    /// `unsupported_grant_type` (RFC 6749).
    UnsupportedGrantType,
    /// `invalid_token`: the access token is unknown or expired (RFC 6750).
    InvalidToken,
    /// `invalid_credential_request`.
    InvalidCredentialRequest,
    /// `unknown_credential_configuration`.
    UnknownCredentialConfiguration,
    /// `unknown_credential_identifier`.
    UnknownCredentialIdentifier,
    /// `invalid_proof`.
    InvalidProof,
    /// `invalid_nonce`: get a fresh one from the nonce endpoint.
    InvalidNonce,
    /// `invalid_encryption_parameters`.
    InvalidEncryptionParameters,
    /// `credential_request_denied`.
    CredentialRequestDenied,
    /// `invalid_dpop_proof` (RFC 9449 §7.1): the DPoP proof is malformed, replayed or does not
    /// match the request.
    InvalidDpopProof,
    /// `use_dpop_nonce` (RFC 9449 §8): retry with the nonce of the `DPoP-Nonce` header.
    UseDpopNonce,
    /// `invalid_scope` (RFC 6749 §4.1.2.1, §5.2): a scope names no credential the issuer has.
    InvalidScope,
    /// `access_denied` (RFC 6749 §4.1.2.1): the person (or the issuer) said no.
    AccessDenied,
    /// `invalid_authorization_details` (RFC 9396 §5): an `authorization_details` entry is
    /// malformed or names an unknown credential configuration.
    InvalidAuthorizationDetails,
    /// Any other code.
    Other(String),
}

impl ErrorCode {
    /// The code as sent.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InvalidCredentialRequest => "invalid_credential_request",
            ErrorCode::UnknownCredentialConfiguration => "unknown_credential_configuration",
            ErrorCode::UnknownCredentialIdentifier => "unknown_credential_identifier",
            ErrorCode::InvalidProof => "invalid_proof",
            ErrorCode::InvalidNonce => "invalid_nonce",
            ErrorCode::InvalidEncryptionParameters => "invalid_encryption_parameters",
            ErrorCode::CredentialRequestDenied => "credential_request_denied",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidAuthorizationDetails => "invalid_authorization_details",
            ErrorCode::Other(code) => code,
        }
    }

    fn parse(code: &str) -> Self {
        [
            ErrorCode::InvalidRequest,
            ErrorCode::InvalidClient,
            ErrorCode::InvalidGrant,
            ErrorCode::UnsupportedGrantType,
            ErrorCode::InvalidToken,
            ErrorCode::InvalidCredentialRequest,
            ErrorCode::UnknownCredentialConfiguration,
            ErrorCode::UnknownCredentialIdentifier,
            ErrorCode::InvalidProof,
            ErrorCode::InvalidNonce,
            ErrorCode::InvalidEncryptionParameters,
            ErrorCode::CredentialRequestDenied,
            ErrorCode::InvalidDpopProof,
            ErrorCode::UseDpopNonce,
            ErrorCode::InvalidScope,
            ErrorCode::AccessDenied,
            ErrorCode::InvalidAuthorizationDetails,
        ]
        .into_iter()
        .find(|known| known.as_str() == code)
        .unwrap_or_else(|| ErrorCode::Other(code.to_owned()))
    }

    /// The HTTP status to answer with: 401 for `invalid_client` and `invalid_token`, 400
    /// otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            _ => 400,
        }
    }
}

/// An error response of the token or credential endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The code.
    pub error: ErrorCode,
    /// Words for a developer (never secrets or claim values).
    pub error_description: Option<String>,
}

impl ErrorResponse {
    /// An error with a description.
    pub fn new(error: ErrorCode, description: impl Into<String>) -> Self {
        ErrorResponse { error, error_description: Some(description.into()) }
    }

    /// As JSON.
    pub fn to_json(&self) -> String {
        let mut object = serde_json::Map::new();
        object.insert("error".into(), Value::String(self.error.as_str().to_owned()));
        if let Some(description) = &self.error_description {
            object.insert("error_description".into(), Value::String(description.clone()));
        }
        Value::Object(object).to_string()
    }

    /// From JSON.
    pub fn from_json(json: &str) -> crate::Result<Self> {
        let value: Value = from_json("error response", json)?;
        let error = value.get("error").and_then(Value::as_str).ok_or_else(|| invalid("error response", "no error"))?;
        Ok(ErrorResponse {
            error: ErrorCode::parse(error),
            error_description: value.get("error_description").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

impl From<&crate::Error> for ErrorResponse {
    fn from(error: &crate::Error) -> Self {
        let code = match error {
            crate::Error::Oid4vci(inner) => inner.error_code(),
            _ => ErrorCode::InvalidCredentialRequest,
        };
        ErrorResponse::new(code, error.to_string())
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error_description {
            Some(description) => write!(f, "{}: {description}", self.error.as_str()),
            None => f.write_str(self.error.as_str()),
        }
    }
}
