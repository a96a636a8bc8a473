//! JWS compact serialization (RFC 7515 §3.1, §5) with EdDSA and ES256.
//!
//! Signing takes a [`Signer`]; the `alg` header always comes from the signer, never from the
//! caller. Verification parses into a [`CompactJws`], which exposes the header but keeps the
//! payload behind [`CompactJws::verify`]: only a [`VerifiedJws`] hands out the payload (except
//! through the deliberately named [`CompactJws::dangerous_unverified_payload`]).
//!
//! ```
//! use schooltas_did::{Algorithm, SigningKey, Signer, jws};
//! let key = SigningKey::generate(Algorithm::EdDsa)?;
//! let token = jws::sign_compact(&jws::Header::new().with_typ("example+jwt"), br#"{"a":1}"#, &key)?;
//! let verified = jws::CompactJws::parse(&token)?.verify(key.verifying_key())?;
//! assert_eq!(verified.payload(), br#"{"a":1}"#);
//! assert_eq!(verified.header().typ(), Some("example+jwt"));
//! # Ok::<(), schooltas_did::Error>(())
//! ```

use std::fmt;

use serde_json::{Map, Value};

use crate::algorithm::{Algorithm, truncate_for_message};
use crate::base64url;
use crate::error::{Error, Result};
use crate::key::VerifyingKey;
use crate::signature::{Signature, Signer};

/// The largest compact JWS [`CompactJws::parse`] accepts (1 MiB). Use
/// [`CompactJws::parse_with_limit`] for other limits.
pub const DEFAULT_MAX_JWS_LEN: usize = 1 << 20;

/// The largest protected header accepted (8 KiB of base64url).
pub const MAX_HEADER_LEN: usize = 8 << 10;

/// Header parameters this library understands when listed in `crit` (RFC 7515 §4.1.11).
/// Only `b64` (RFC 7797), and only so that `b64: false` can be refused by name.
const UNDERSTOOD_CRITICAL: &[&str] = &["b64"];

/// Parameters defined by RFC 7515/7516 that must not appear in `crit` (RFC 7515 §4.1.11).
const REGISTERED_PARAMETERS: &[&str] =
    &["alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc", "zip"];

/// A JWS protected header: the validated algorithm plus every member as given.
#[derive(Clone, PartialEq)]
pub struct Header {
    alg: Option<Algorithm>,
    members: Map<String, Value>,
}

impl Header {
    /// An empty header for signing; `alg` is filled in from the signer.
    pub fn new() -> Self {
        Header { alg: None, members: Map::new() }
    }

    /// Sets `typ` (RFC 7515 §4.1.9).
    pub fn with_typ(mut self, typ: impl Into<String>) -> Self {
        self.members.insert("typ".into(), Value::String(typ.into()));
        self
    }

    /// Sets `kid` (RFC 7515 §4.1.4).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.members.insert("kid".into(), Value::String(kid.into()));
        self
    }

    /// Sets any other member. `alg`, `crit` and `b64` cannot be set this way: `alg` comes from
    /// the signer, and this library produces no critical extensions.
    pub fn with_member(mut self, name: impl Into<String>, value: Value) -> Self {
        let name = name.into();
        if !matches!(name.as_str(), "alg" | "crit" | "b64") {
            self.members.insert(name, value);
        }
        self
    }

    /// The algorithm of a parsed header.
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// `typ`, if present and a string.
    pub fn typ(&self) -> Option<&str> {
        self.members.get("typ").and_then(Value::as_str)
    }

    /// `kid`, if present and a string.
    pub fn kid(&self) -> Option<&str> {
        self.members.get("kid").and_then(Value::as_str)
    }

    /// Any member by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }

    /// All members, as given.
    pub fn members(&self) -> &Map<String, Value> {
        &self.members
    }

    /// Parses and checks a decoded protected header (RFC 7515 §5.2 steps 2–5).
    fn parse(json: &[u8]) -> Result<Self> {
        // Strict: a duplicate name at any depth, or an integer beyond 64 bits, is refused with
        // its own error (RFC 7515 §5.2 step 4 allows rejecting duplicates; we do, so that two
        // parsers can never read two different headers).
        // `to_value`, not `from_slice::<Value>`, which would build the tree twice.
        let members = match crate::strict_json::to_value(json) {
            Ok(Value::Object(members)) => members,
            Ok(_) => return Err(Error::InvalidHeader { reason: "the header is not a JSON object".into() }),
            Err(error) if error.is_strictness() => return Err(Error::Json(error)),
            Err(error) => {
                return Err(Error::InvalidHeader { reason: format!("the header is not a JSON object ({error})") });
            }
        };
        let alg = match members.get("alg") {
            Some(Value::String(alg)) => Algorithm::from_jws_alg(alg)?,
            Some(_) => return Err(Error::InvalidHeader { reason: "\"alg\" must be a string".into() }),
            None => return Err(Error::InvalidHeader { reason: "\"alg\" is missing".into() }),
        };
        match members.get("b64") {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Err(Error::UnencodedPayload),
            Some(_) => return Err(Error::InvalidHeader { reason: "\"b64\" must be a boolean".into() }),
        }
        if let Some(crit) = members.get("crit") {
            check_crit(crit, &members)?;
        }
        Ok(Header { alg: Some(alg), members })
    }

    fn to_json(&self, alg: Algorithm) -> String {
        // `alg` first for readability; the order has no meaning to a verifier.
        let mut out = String::with_capacity(64);
        out.push_str("{\"alg\":\"");
        out.push_str(alg.as_str());
        out.push('"');
        for (name, value) in &self.members {
            if name == "alg" {
                continue;
            }
            out.push(',');
            out.push_str(&Value::String(name.clone()).to_string());
            out.push(':');
            out.push_str(&value.to_string());
        }
        out.push('}');
        out
    }
}

impl Default for Header {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header").field("alg", &self.alg).field("typ", &self.typ()).field("kid", &self.kid()).finish()
    }
}

/// RFC 7515 §4.1.11: `crit` is a non-empty array of names, each present in the header, none
/// defined by the JWS/JWE specifications, and every one understood — otherwise reject.
fn check_crit(crit: &Value, members: &Map<String, Value>) -> Result<()> {
    let names = match crit {
        Value::Array(names) if !names.is_empty() => names,
        _ => return Err(Error::InvalidHeader { reason: "\"crit\" must be a non-empty array of strings".into() }),
    };
    for name in names {
        let name = name
            .as_str()
            .ok_or_else(|| Error::InvalidHeader { reason: "\"crit\" must be a non-empty array of strings".into() })?;
        if REGISTERED_PARAMETERS.contains(&name) {
            return Err(Error::InvalidHeader {
                reason: format!("\"crit\" must not list the registered parameter {name:?}"),
            });
        }
        if !UNDERSTOOD_CRITICAL.contains(&name) {
            return Err(Error::UnknownCriticalHeader { name: truncate_for_message(name) });
        }
        if !members.contains_key(name) {
            return Err(Error::InvalidHeader {
                reason: format!("\"crit\" lists {name:?}, which the header does not contain"),
            });
        }
    }
    Ok(())
}

/// Signs `payload` into a compact JWS. The header's `alg` is the signer's algorithm.
pub fn sign_compact(header: &Header, payload: &[u8], signer: &(impl Signer + ?Sized)) -> Result<String> {
    let header_json = header.to_json(signer.algorithm());
    let mut token = String::with_capacity((header_json.len() + payload.len()) * 4 / 3 + 100);
    base64url::encode_into(header_json.as_bytes(), &mut token);
    token.push('.');
    base64url::encode_into(payload, &mut token);
    let signature = signer.sign(token.as_bytes())?;
    token.push('.');
    base64url::encode_into(signature.as_bytes(), &mut token);
    Ok(token)
}

/// Signs a JSON-serializable payload into a compact JWS.
pub fn sign_compact_json<T: serde::Serialize + ?Sized>(
    header: &Header,
    claims: &T,
    signer: &(impl Signer + ?Sized),
) -> Result<String> {
    let payload = serde_json::to_vec(claims).map_err(Error::InvalidPayload)?;
    sign_compact(header, &payload, signer)
}

/// A parsed compact JWS whose signature has not been checked yet.
#[derive(Clone)]
pub struct CompactJws<'a> {
    signing_input: &'a str,
    payload_b64: &'a str,
    header: Header,
    alg: Algorithm,
    signature: Signature,
}

impl<'a> CompactJws<'a> {
    /// Parses a compact JWS of at most [`DEFAULT_MAX_JWS_LEN`] bytes and checks its header.
    pub fn parse(token: &'a str) -> Result<Self> {
        Self::parse_with_limit(token, DEFAULT_MAX_JWS_LEN)
    }

    /// Parses a compact JWS of at most `max_len` bytes and checks its header.
    pub fn parse_with_limit(token: &'a str, max_len: usize) -> Result<Self> {
        if token.len() > max_len {
            return Err(Error::TooLarge { what: "JWS", len: token.len(), limit: max_len });
        }
        let mut parts = token.splitn(4, '.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::MalformedJws { reason: "a compact JWS has exactly three parts separated by '.'" });
        };
        if header_b64.len() > MAX_HEADER_LEN {
            return Err(Error::TooLarge { what: "JWS header", len: header_b64.len(), limit: MAX_HEADER_LEN });
        }
        let header_json = base64url::decode(header_b64).ok_or(Error::InvalidBase64 { part: "header" })?;
        let header = Header::parse(&header_json)?;
        let alg = header.alg.ok_or(Error::InvalidHeader { reason: "\"alg\" is missing".into() })?;
        let signature =
            base64url::decode_array::<64>(signature_b64).map(Signature::from_bytes).ok_or(Error::InvalidSignature)?;
        // A payload that is not base64url can never verify; refuse it before doing any crypto.
        if !base64url::is_alphabet(payload_b64) {
            return Err(Error::InvalidBase64 { part: "payload" });
        }
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        Ok(CompactJws { signing_input, payload_b64, header, alg, signature })
    }

    /// The checked protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The algorithm the header names.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The signature bytes (64 bytes, checked at parse time).
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The exact text the signature covers (`header.payload`).
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    /// Verifies the signature with `key`, whose algorithm must be the header's.
    pub fn verify(&self, key: &VerifyingKey) -> Result<VerifiedJws> {
        key.verify(self.alg, self.signing_input.as_bytes(), &self.signature)?;
        let payload = base64url::decode(self.payload_b64).ok_or(Error::InvalidBase64 { part: "payload" })?;
        Ok(VerifiedJws { header: self.header.clone(), payload })
    }

    /// The payload **before** its signature is checked. Only for finding the key to verify
    /// with (an `iss` claim, say); nothing read here may be trusted.
    pub fn dangerous_unverified_payload(&self) -> Result<Vec<u8>> {
        base64url::decode(self.payload_b64).ok_or(Error::InvalidBase64 { part: "payload" })
    }
}

impl fmt::Debug for CompactJws<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompactJws").field("header", &self.header).finish_non_exhaustive()
    }
}

/// A JWS whose signature has been verified.
#[derive(Clone)]
pub struct VerifiedJws {
    header: Header,
    payload: Vec<u8>,
}

impl VerifiedJws {
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The verified payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The verified payload parsed as JSON, strictly ([`crate::strict_json`]): a duplicate
    /// member name or an integer beyond 64 bits is [`Error::Json`], other malformed or
    /// unexpected JSON [`Error::InvalidPayload`].
    pub fn payload_json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        crate::strict_json::from_slice_or(&self.payload, Error::InvalidPayload)
    }

    /// Takes the payload bytes.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }
}

impl fmt::Debug for VerifiedJws {
    // The payload may hold a child's personal data: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedJws").field("header", &self.header).field("payload_len", &self.payload.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_multibyte_alg_is_a_typed_error_not_a_panic() {
        // Issue 12 item 12: the 21 bytes that crashed `schooltas verify`.
        let err = CompactJws::parse("eyJhbGciOiJtypRTIn0..").unwrap_err();
        assert!(matches!(err, Error::UnsupportedAlgorithm { .. }), "{err}");
    }
}
