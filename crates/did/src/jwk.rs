//! Reading JWK members (RFC 7517, RFC 7518 §6.2, RFC 8037 §2) into typed keys.

use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::{Error, Result};
use crate::key::{PublicKey, VerifyingKey, X25519PublicKey};

/// The members of a JWK that decide which key it is. Borrowed from the caller's map.
pub(crate) struct Members<'a> {
    kty: &'a str,
    crv: Option<&'a str>,
    x: Option<&'a str>,
    y: Option<&'a str>,
    alg: Option<&'a str>,
    use_: Option<&'a str>,
}

fn string_member<'a>(jwk: &'a Map<String, Value>, name: &'static str) -> Result<Option<&'a str>> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::InvalidJwk { reason: member_not_string(name) }),
    }
}

fn member_not_string(name: &'static str) -> &'static str {
    match name {
        "kty" => "member \"kty\" must be a string",
        "crv" => "member \"crv\" must be a string",
        "x" => "member \"x\" must be a string",
        "y" => "member \"y\" must be a string",
        "d" => "member \"d\" must be a string",
        "alg" => "member \"alg\" must be a string",
        "use" => "member \"use\" must be a string",
        _ => "a member has the wrong type",
    }
}

impl<'a> Members<'a> {
    pub(crate) fn from_map(jwk: &'a Map<String, Value>) -> Result<Self> {
        let kty = string_member(jwk, "kty")?.ok_or(Error::InvalidJwk { reason: "member \"kty\" is missing" })?;
        Ok(Members {
            kty,
            crv: string_member(jwk, "crv")?,
            x: string_member(jwk, "x")?,
            y: string_member(jwk, "y")?,
            alg: string_member(jwk, "alg")?,
            use_: string_member(jwk, "use")?,
        })
    }

    fn unsupported(&self) -> Error {
        Error::UnsupportedKeyType { kty: self.kty.to_owned(), crv: self.crv.map(str::to_owned) }
    }

    pub(crate) fn curve(&self) -> Result<Curve> {
        match (self.kty, self.crv) {
            ("OKP", Some("Ed25519")) => Ok(Curve::Ed25519),
            ("OKP", Some("X25519")) => Ok(Curve::X25519),
            ("EC", Some("P-256")) => Ok(Curve::P256),
            (_, None) if self.kty == "OKP" || self.kty == "EC" => {
                Err(Error::InvalidJwk { reason: "member \"crv\" is missing" })
            }
            _ => Err(self.unsupported()),
        }
    }

    fn coordinate(value: Option<&str>, missing: &'static str, bad: &'static str) -> Result<[u8; 32]> {
        let text = value.ok_or(Error::InvalidJwk { reason: missing })?;
        base64url::decode_array::<32>(text).ok_or(Error::InvalidJwk { reason: bad })
    }

    pub(crate) fn public_key(&self) -> Result<PublicKey> {
        match self.curve()? {
            Curve::Ed25519 => {
                let x = Self::coordinate(self.x, "member \"x\" is missing", "\"x\" must be 32 bytes of base64url")?;
                VerifyingKey::from_ed25519_bytes(&x).map(PublicKey::Verifying)
            }
            Curve::X25519 => {
                let x = Self::coordinate(self.x, "member \"x\" is missing", "\"x\" must be 32 bytes of base64url")?;
                Ok(PublicKey::X25519(X25519PublicKey::from_bytes(x)))
            }
            Curve::P256 => {
                // RFC 7518 §6.2.1.2/3: x and y are the full 32-byte coordinates, never shortened.
                let x = Self::coordinate(self.x, "member \"x\" is missing", "\"x\" must be 32 bytes of base64url")?;
                let y = Self::coordinate(self.y, "member \"y\" is missing", "\"y\" must be 32 bytes of base64url")?;
                let mut sec1 = [0u8; 65];
                sec1[0] = 0x04;
                sec1[1..33].copy_from_slice(&x);
                sec1[33..].copy_from_slice(&y);
                VerifyingKey::from_p256_sec1(&sec1).map(PublicKey::Verifying)
            }
        }
    }

    /// RFC 7517 §4.2/§4.4: a signature key must not be marked for encryption, and an `alg`
    /// member must name the algorithm the key is for.
    pub(crate) fn check_alg_and_use(&self, alg: Algorithm) -> Result<()> {
        if let Some(named) = self.alg {
            let parsed = Algorithm::from_jws_alg(named)?;
            if parsed != alg {
                return Err(Error::AlgorithmMismatch { header_alg: named.to_owned(), key_alg: alg });
            }
        }
        if self.use_ == Some("enc") {
            return Err(Error::InvalidJwk {
                reason: "the key is marked \"use\": \"enc\" and cannot verify signatures",
            });
        }
        Ok(())
    }
}

/// The curves this library reads from JWKs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    Ed25519,
    X25519,
    P256,
}

/// The private member `d` of a JWK, decoded into a buffer that is wiped when dropped.
pub(crate) fn private_scalar(jwk: &Map<String, Value>) -> Result<Zeroizing<[u8; 32]>> {
    let text = match jwk.get("d") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(Error::InvalidJwk { reason: member_not_string("d") }),
        None => return Err(Error::InvalidPrivateKey { reason: "the JWK has no private member \"d\"" }),
    };
    let mut decoded = base64url::decode_array::<32>(text)
        .ok_or(Error::InvalidPrivateKey { reason: "\"d\" must be 32 bytes of base64url" })?;
    let out = Zeroizing::new(decoded);
    decoded.zeroize();
    Ok(out)
}

/// A private JWK as JSON text (RFC 7517; `d` per RFC 8037 §2 or RFC 7518 §6.2.2): what a
/// wallet stores to sign with a holder key later.
///
/// The text is wiped from memory when the value is dropped, and neither `Debug` nor anything
/// else prints it: `{:?}` shows `PrivateJwk(<redacted>)`. There is deliberately no `Display`,
/// so a private key cannot slip into a log line through `{}`. It (de)serializes as a JSON
/// string, for records that are sealed as a whole (the wallet's vault).
///
/// ```
/// use schooltas_did::{Algorithm, Signer, SigningKey};
/// let key = SigningKey::generate(Algorithm::EdDsa)?;
/// let jwk = key.to_private_jwk();
/// assert_eq!(format!("{jwk:?}"), "PrivateJwk(<redacted>)");
/// assert_eq!(jwk.to_signing_key()?.verifying_key(), key.verifying_key());
/// # Ok::<(), schooltas_did::Error>(())
/// ```
#[derive(Clone)]
pub struct PrivateJwk(pub(crate) Zeroizing<String>);

impl PrivateJwk {
    /// Wraps private JWK text (not checked here: [`PrivateJwk::to_signing_key`] checks it).
    pub fn from_text(text: Zeroizing<String>) -> Self {
        PrivateJwk(text)
    }

    /// The JSON text, to write to protected storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The signing key it holds ([`crate::SigningKey::from_jwk_json`]).
    pub fn to_signing_key(&self) -> Result<crate::SigningKey> {
        crate::SigningKey::from_jwk_json(&self.0)
    }
}

impl std::ops::Deref for PrivateJwk {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PrivateJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateJwk(<redacted>)")
    }
}

impl serde::Serialize for PrivateJwk {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PrivateJwk {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| PrivateJwk(Zeroizing::new(text)))
    }
}

/// An X25519 private key (RFC 7748), wiped on drop and never printed.
pub struct X25519SecretKey(pub(crate) Zeroizing<[u8; 32]>);

impl X25519SecretKey {
    /// The 32 scalar bytes (clamped, RFC 7748 §5).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for X25519SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("X25519SecretKey(<redacted>)")
    }
}
