//! DPoP proofs (RFC 9449): sender-constrained access tokens, as HAIP 1.0 asks of the token
//! and credential endpoints.
//!
//! A client proves, with each request, that it holds the private key its access token is
//! bound to. The proof is a JWT with `typ` `dpop+jwt`, the public key in its `jwk` header, and
//! the claims `jti` (unique), `htm` and `htu` (the request's method and URL), `iat`, and,
//! where the server asks, `nonce` (the server's latest `DPoP-Nonce`) and `ath` (the hash of
//! the access token presented with it).
//!
//! - [`sign_dpop_proof`] makes a proof (the wallet);
//! - [`verify_dpop_proof`] checks one strictly and returns its key's RFC 7638 thumbprint
//!   (`jkt`), to which the server binds the token (the issuer). Replay of a `jti` and the
//!   freshness of a `nonce` are the server's to decide, with what [`VerifiedDpop`] returns.
//!
//! ```
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//! use schooltas_oid4vc::dpop::{DpopPolicy, sign_dpop_proof, verify_dpop_proof};
//!
//! let key = SigningKey::generate(Algorithm::Es256)?;
//! let url = "https://school.example/oid4vci/credential";
//! let proof = sign_dpop_proof(&key, "POST", url, Some("the-access-token"), Some("n-1"), 1_800_000_000)?;
//! let verified = verify_dpop_proof(&proof, "POST", url, Some("the-access-token"), &DpopPolicy::default(), 1_800_000_010)?;
//! assert_eq!(verified.jkt, key.verifying_key().thumbprint());
//! assert_eq!(verified.nonce.as_deref(), Some("n-1"));
//! // Another URL, or the same proof with another token: refused.
//! assert!(verify_dpop_proof(&proof, "POST", "https://school.example/oid4vci/token", Some("the-access-token"), &DpopPolicy::default(), 1_800_000_010).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use schooltas_did::jws::{CompactJws, Header, sign_compact_json};
use schooltas_did::{Algorithm, Signer, VerifyingKey, base64url};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_TYP: &str = "dpop+jwt";
/// The HTTP header that carries a proof, and the authorization scheme of a bound token.
pub const DPOP_HEADER: &str = "DPoP";
/// The HTTP header in which a server gives its nonce (RFC 9449 §8).
pub const DPOP_NONCE_HEADER: &str = "DPoP-Nonce";
/// The longest proof accepted, in bytes.
pub const MAX_DPOP_LEN: usize = 4096;
/// The longest `jti` accepted, in bytes.
pub const MAX_JTI_LEN: usize = 256;

/// Why a DPoP proof was refused. [`DpopError::UseNonce`] is the one a client recovers from by
/// retrying with the server's `DPoP-Nonce`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// The proof is malformed or does not verify (RFC 9449 §7.1 `invalid_dpop_proof`).
    #[error("invalid DPoP proof: {0}")]
    InvalidProof(String),
    /// The proof carries no nonce, or not the server's current one: retry with the nonce of
    /// the `DPoP-Nonce` header (RFC 9449 §8, `use_dpop_nonce`).
    #[error("the DPoP proof must carry the server's current nonce: retry with the DPoP-Nonce header's value")]
    UseNonce,
    /// A proof (`jti`) was presented a second time.
    #[error("the DPoP proof was used before: make a new proof for every request")]
    Replayed,
    /// The proof's key is not the one the access token is bound to, or the token is bound and
    /// no proof came with it (`invalid_token`).
    #[error("the access token is bound to another DPoP key, or was presented without its DPoP proof")]
    KeyMismatch,
}

impl DpopError {
    /// The OAuth error code of this refusal (RFC 9449 §7.1, §8; RFC 6750 §3.1).
    pub fn error_code(&self) -> &'static str {
        match self {
            DpopError::InvalidProof(_) | DpopError::Replayed => "invalid_dpop_proof",
            DpopError::UseNonce => "use_dpop_nonce",
            DpopError::KeyMismatch => "invalid_token",
        }
    }
}

/// What a server accepts of a proof's `iat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DpopPolicy {
    /// The oldest `iat` accepted, in seconds before now.
    pub max_age: i64,
    /// Seconds of clock difference tolerated for an `iat` in the future.
    pub clock_skew: i64,
}

impl Default for DpopPolicy {
    /// Proofs at most 5 minutes old, 60 s of skew.
    fn default() -> Self {
        DpopPolicy { max_age: 300, clock_skew: 60 }
    }
}

/// A proof that passed [`verify_dpop_proof`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedDpop {
    /// The RFC 7638 JWK SHA-256 thumbprint of the proof's key (`jkt`, RFC 9449 §6.1).
    pub jkt: String,
    /// The proof's key.
    pub key: VerifyingKey,
    /// `jti`: the server refuses a second proof with it while `iat` is within its window.
    pub jti: String,
    /// `iat`.
    pub issued_at: i64,
    /// `nonce`, if the proof carries one: the server checks it is its current one.
    pub nonce: Option<String>,
}

/// `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the access token's ASCII.
pub fn access_token_hash(access_token: &str) -> String {
    base64url::encode(Sha256::digest(access_token.as_bytes()))
}

/// The `htu` of a request URL (RFC 9449 §4.2, §4.3): without query and fragment, the scheme
/// and host lowercased, a default port (443 for https, 80 for http) left out. `None` for a URL
/// that is not `http(s)://host…`.
pub fn htu(url: &str) -> Option<String> {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}{path}"))
}

/// Signs a DPoP proof for a `method` request to `url` (the query and fragment are left out of
/// `htu`), with `ath` when an `access_token` goes with it and the server's `nonce` when it gave
/// one. `jti` is 128 random bits.
pub fn sign_dpop_proof(
    signer: &(impl Signer + ?Sized),
    method: &str,
    url: &str,
    access_token: Option<&str>,
    nonce: Option<&str>,
    issued_at: i64,
) -> crate::Result<String> {
    let htu = htu(url).ok_or_else(|| DpopError::InvalidProof("the request URL is not an http(s) URL".into()))?;
    let header = Header::new().with_typ(DPOP_TYP).with_member("jwk", Value::Object(signer.verifying_key().to_jwk()));
    let mut claims = Map::new();
    claims.insert("jti".into(), Value::String(crate::oid4vp::random_nonce()));
    claims.insert("htm".into(), Value::String(method.to_owned()));
    claims.insert("htu".into(), Value::String(htu));
    claims.insert("iat".into(), Value::from(issued_at));
    if let Some(token) = access_token {
        claims.insert("ath".into(), Value::String(access_token_hash(token)));
    }
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), Value::String(nonce.to_owned()));
    }
    Ok(sign_compact_json(&header, &claims, signer)?)
}

fn invalid(reason: impl Into<String>) -> DpopError {
    DpopError::InvalidProof(reason.into())
}

/// Verifies a DPoP proof for a `method` request to `url` (RFC 9449 §4.3):
///
/// - at most [`MAX_DPOP_LEN`] bytes, a compact JWS with `typ` exactly `dpop+jwt`, `alg` ES256
///   or EdDSA (asymmetric, pinned to the key), a public `jwk` (a private member, `kid`, `x5c`
///   refused) that verifies the signature;
/// - `jti` a non-empty string (at most [`MAX_JTI_LEN`] bytes), `htm` exactly `method`, `htu`
///   equal to `url` once both are normalised ([`htu`]), `iat` within the policy's window;
/// - `ath` present and equal to the hash of `access_token` when a token goes with the proof,
///   and absent when none does;
/// - `nonce`, when present, a string (the server compares it with its own).
///
/// Returns the key's thumbprint and what the server must still check (`jti` unused, `nonce`
/// current).
pub fn verify_dpop_proof(
    proof: &str,
    method: &str,
    url: &str,
    access_token: Option<&str>,
    policy: &DpopPolicy,
    now: i64,
) -> Result<VerifiedDpop, DpopError> {
    let jws = CompactJws::parse_with_limit(proof, MAX_DPOP_LEN).map_err(|e| invalid(e.to_string()))?;
    let header = jws.header();
    if header.typ() != Some(DPOP_TYP) {
        return Err(invalid(format!("typ must be {DPOP_TYP}")));
    }
    if !matches!(jws.algorithm(), Algorithm::Es256 | Algorithm::EdDsa) {
        return Err(invalid("alg must be ES256 or EdDSA"));
    }
    if header.kid().is_some() || header.get("x5c").is_some() {
        return Err(invalid("the key is given as jwk only (no kid, no x5c)"));
    }
    let key = match header.get("jwk") {
        Some(Value::Object(jwk)) if jwk.contains_key("d") => return Err(invalid("the jwk header holds a private key")),
        Some(Value::Object(jwk)) => VerifyingKey::from_jwk(jwk).map_err(|e| invalid(format!("the jwk header: {e}")))?,
        Some(_) => return Err(invalid("the jwk header is not an object")),
        None => return Err(invalid("the header has no jwk")),
    };
    let verified = jws.verify(&key).map_err(|e| invalid(e.to_string()))?;
    let claims: Map<String, Value> =
        verified.payload_json().map_err(|_| invalid("the payload is not a strict JSON object"))?;
    let string = |name: &str| match claims.get(name) {
        Some(Value::String(value)) => Ok(Some(value.as_str())),
        None => Ok(None),
        Some(_) => Err(invalid(format!("{name} is not a string"))),
    };
    let jti = string("jti")?.filter(|j| !j.is_empty()).ok_or_else(|| invalid("jti is missing"))?;
    if jti.len() > MAX_JTI_LEN {
        return Err(invalid("jti is too long"));
    }
    if string("htm")? != Some(method) {
        return Err(invalid("htm is not this request's method"));
    }
    let expected = htu(url).ok_or_else(|| invalid("the request URL is not an http(s) URL"))?;
    if string("htu")?.and_then(htu).as_deref() != Some(expected.as_str()) {
        return Err(invalid("htu is not this request's URL"));
    }
    let issued_at = match claims.get("iat") {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| invalid("iat is not an integer"))?,
        _ => return Err(invalid("iat is missing")),
    };
    if issued_at > now.saturating_add(policy.clock_skew) {
        return Err(invalid("iat is in the future"));
    }
    if issued_at < now.saturating_sub(policy.max_age) {
        return Err(invalid(format!("iat is more than {} s old", policy.max_age)));
    }
    match (string("ath")?, access_token) {
        (Some(ath), Some(token)) if ath == access_token_hash(token) => {}
        (Some(_), Some(_)) => return Err(invalid("ath is not the hash of the access token")),
        (None, Some(_)) => return Err(invalid("ath is missing: the proof must name the access token")),
        (Some(_), None) => return Err(invalid("ath names an access token, but none was presented")),
        (None, None) => {}
    }
    let nonce = string("nonce")?.map(str::to_owned);
    Ok(VerifiedDpop { jkt: key.thumbprint(), key, jti: jti.to_owned(), issued_at, nonce })
}
