//! Keys: the recipient's [`EncryptionKey`] (secret, zeroized) and the sender's view of it,
//! [`RecipientKey`], read from a JWK (RFC 7517, RFC 7518 §6.2.1).

use std::fmt;

use p256::elliptic_curve::sec1::ToSec1Point;
use schooltas_did::base64url;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::error::{JweError, shorten};

/// The `alg` of every key and JWE here (RFC 7518 §4.6, direct key agreement).
pub const ALG_ECDH_ES: &str = "ECDH-ES";

/// A P-256 key pair for receiving JWEs (ECDH-ES), with the `kid` its public JWK carries.
///
/// The secret is a `p256::SecretKey`, which zeroizes itself on drop; `Debug` shows the `kid`
/// only.
#[derive(Clone)]
pub struct EncryptionKey {
    secret: p256::SecretKey,
    kid: String,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate(kid: impl Into<String>) -> Result<Self, JweError> {
        let kid = kid.into();
        let mut scalar = Zeroizing::new([0u8; 32]);
        loop {
            getrandom::fill(scalar.as_mut()).map_err(|_| JweError::RandomnessUnavailable)?;
            // A uniformly random 32-byte string is a valid scalar unless it is zero or ≥ n
            // (probability about 2^-32); draw again then.
            if let Ok(secret) = p256::SecretKey::from_slice(scalar.as_ref()) {
                return Ok(Self { secret, kid });
            }
        }
    }

    /// A key from its 32-byte secret scalar (the JWK `d`, big-endian), e.g. from a sealed key
    /// file. [`JweError::InvalidSecretKey`] when it is zero or not below the group order.
    pub fn from_scalar_bytes(scalar: &[u8; 32], kid: impl Into<String>) -> Result<Self, JweError> {
        let secret = p256::SecretKey::from_slice(scalar).map_err(|_| JweError::InvalidSecretKey)?;
        Ok(Self { secret, kid: kid.into() })
    }

    /// The 32-byte secret scalar, for storing the key sealed.
    pub fn to_scalar_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.secret.to_bytes());
        out
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, to encrypt to.
    pub fn recipient(&self) -> RecipientKey {
        RecipientKey { public: self.secret.public_key(), kid: Some(self.kid.clone()) }
    }

    /// The public JWK for `client_metadata.jwks`: `kty` EC, `crv` P-256, `x`, `y`, `use` enc,
    /// `alg` ECDH-ES, `kid`.
    pub fn public_jwk(&self) -> Map<String, Value> {
        self.recipient().to_jwk()
    }

    pub(crate) fn secret(&self) -> &p256::SecretKey {
        &self.secret
    }
}

/// A recipient's public key for ECDH-ES on P-256, as a sender reads it from a JWK.
#[derive(Clone, PartialEq, Eq)]
pub struct RecipientKey {
    public: p256::PublicKey,
    kid: Option<String>,
}

impl fmt::Debug for RecipientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl RecipientKey {
    /// Reads a public JWK: `kty` EC, `crv` P-256, `x` and `y` of 32 bytes each forming a point
    /// on the curve; `use`, if present, must be `enc`; `alg`, if present, must be `ECDH-ES`;
    /// `kid` optional; a private `d` is refused (a public key set must not carry one).
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<Self, JweError> {
        let text = |name: &str| -> Result<Option<&str>, JweError> {
            match jwk.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(JweError::UnusableRecipientKey { reason: "a JWK member is not a string" }),
            }
        };
        if text("kty")? != Some("EC") {
            return Err(JweError::UnusableRecipientKey { reason: "\"kty\" is not EC" });
        }
        if text("crv")? != Some("P-256") {
            return Err(JweError::UnusableRecipientKey { reason: "\"crv\" is not P-256" });
        }
        if matches!(text("use")?, Some(u) if u != "enc") {
            return Err(JweError::UnusableRecipientKey { reason: "\"use\" is not enc" });
        }
        if matches!(text("alg")?, Some(a) if a != ALG_ECDH_ES) {
            return Err(JweError::UnusableRecipientKey { reason: "\"alg\" is not ECDH-ES" });
        }
        if jwk.contains_key("d") {
            return Err(JweError::UnusableRecipientKey { reason: "the JWK carries a private key (\"d\")" });
        }
        let x = text("x")?.ok_or(JweError::UnusableRecipientKey { reason: "\"x\" is missing" })?;
        let y = text("y")?.ok_or(JweError::UnusableRecipientKey { reason: "\"y\" is missing" })?;
        let public = point_from_coordinates(x, y).map_err(|reason| JweError::UnusableRecipientKey { reason })?;
        Ok(Self { public, kid: text("kid")?.map(str::to_owned) })
    }

    /// The key's `kid`, if its JWK has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public JWK, with `use` enc and `alg` ECDH-ES.
    pub fn to_jwk(&self) -> Map<String, Value> {
        let mut jwk = point_to_jwk(&self.public);
        jwk.insert("use".into(), "enc".into());
        jwk.insert("alg".into(), ALG_ECDH_ES.into());
        if let Some(kid) = &self.kid {
            jwk.insert("kid".into(), kid.clone().into());
        }
        jwk
    }

    pub(crate) fn public(&self) -> &p256::PublicKey {
        &self.public
    }
}

/// `kty`, `crv`, `x`, `y` of a P-256 point (RFC 7518 §6.2.1).
pub(crate) fn point_to_jwk(public: &p256::PublicKey) -> Map<String, Value> {
    let point = public.as_affine().to_sec1_point(false);
    let mut jwk = Map::new();
    jwk.insert("kty".into(), "EC".into());
    jwk.insert("crv".into(), "P-256".into());
    // An uncompressed, non-identity point always has both coordinates.
    if let (Some(x), Some(y)) = (point.x(), point.y()) {
        jwk.insert("x".into(), base64url::encode(x).into());
        jwk.insert("y".into(), base64url::encode(y).into());
    }
    jwk
}

/// A point from base64url `x` and `y`; RFC 7518 §6.2.1.2/3: full 32-byte coordinates. The
/// point must be on the curve and not the identity (p256 checks both).
pub(crate) fn point_from_coordinates(x: &str, y: &str) -> Result<p256::PublicKey, &'static str> {
    let x = base64url::decode_array::<32>(x).ok_or("\"x\" is not 32 bytes of base64url")?;
    let y = base64url::decode_array::<32>(y).ok_or("\"y\" is not 32 bytes of base64url")?;
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..33].copy_from_slice(&x);
    sec1[33..].copy_from_slice(&y);
    p256::PublicKey::from_sec1_bytes(&sec1).map_err(|_| "the point is not on the P-256 curve")
}

/// `kid` values are outside input in error messages; shortened.
pub(crate) fn shorten_kid(kid: &str) -> String {
    shorten(kid)
}
