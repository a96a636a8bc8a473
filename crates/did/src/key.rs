//! Public keys: verification keys (Ed25519, P-256) and X25519 key-agreement keys.
//!
//! A key is parsed once, at the edge (JWK, did:key bytes, SEC1 point), into its curve's
//! ready-to-use form; verification never re-parses it.

use std::fmt;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::{Error, Result};
use crate::jwk;
use crate::signature::Signature;

/// A public key that verifies JWS signatures: Ed25519 (EdDSA) or P-256 (ES256).
///
/// Each key is for exactly one algorithm; [`VerifyingKey::verify`] refuses any other, which is
/// how the algorithm is pinned to the key.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey(pub(crate) VerifyingInner);

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum VerifyingInner {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(crate::p256_backend::P256PublicKey),
}

impl VerifyingKey {
    /// An Ed25519 public key from its 32-byte encoding (RFC 8032 §5.1.5).
    ///
    /// Refuses points that are not on the curve and the small-order points, which would let
    /// one signature verify for many messages.
    pub fn from_ed25519_bytes(bytes: &[u8; 32]) -> Result<Self> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::InvalidPublicKey { key_type: "Ed25519", reason: "not a valid curve point" })?;
        if key.is_weak() {
            return Err(Error::InvalidPublicKey { key_type: "Ed25519", reason: "small-order (weak) point" });
        }
        Ok(VerifyingKey(VerifyingInner::Ed25519(key)))
    }

    /// A P-256 public key from a SEC1 point, compressed (33 bytes) or uncompressed (65 bytes).
    pub fn from_p256_sec1(bytes: &[u8]) -> Result<Self> {
        crate::p256_backend::P256PublicKey::from_sec1(bytes).map(|k| VerifyingKey(VerifyingInner::P256(k)))
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match &self.0 {
            VerifyingInner::Ed25519(_) => Algorithm::EdDsa,
            VerifyingInner::P256(_) => Algorithm::Es256,
        }
    }

    /// Verifies `signature` over `message` with `alg`, which must be this key's algorithm.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &Signature) -> Result<()> {
        if alg != self.algorithm() {
            return Err(Error::AlgorithmMismatch { header_alg: alg.as_str().to_owned(), key_alg: self.algorithm() });
        }
        match &self.0 {
            VerifyingInner::Ed25519(key) => {
                // verify_strict's rules (S < L, no small-order R or A, canonical R, the
                // cofactorless equation), so a signature cannot be mauled into a second valid
                // one, at the cost of plain verify: R is looked up in a table instead of being
                // decompressed (docs/decisions/0015).
                crate::ed25519_strict::verify(key, message, signature.as_bytes()).map_err(|_| Error::InvalidSignature)
            }
            VerifyingInner::P256(key) => key.verify(message, signature),
        }
    }

    /// The public key bytes as did:key encodes them: Ed25519's 32 bytes, or P-256's
    /// compressed SEC1 point (33 bytes).
    pub fn to_compressed_bytes(&self) -> Vec<u8> {
        match &self.0 {
            VerifyingInner::Ed25519(key) => key.to_bytes().to_vec(),
            VerifyingInner::P256(key) => key.to_compressed().to_vec(),
        }
    }

    /// The public JWK (RFC 7517; RFC 8037 for OKP), members in lexicographic order.
    pub fn to_jwk(&self) -> Map<String, Value> {
        let mut map = Map::new();
        match &self.0 {
            VerifyingInner::Ed25519(key) => {
                map.insert("crv".into(), "Ed25519".into());
                map.insert("kty".into(), "OKP".into());
                map.insert("x".into(), base64url::encode(key.as_bytes()).into());
            }
            VerifyingInner::P256(key) => {
                let (x, y) = key.coordinates();
                map.insert("crv".into(), "P-256".into());
                map.insert("kty".into(), "EC".into());
                map.insert("x".into(), base64url::encode(x).into());
                map.insert("y".into(), base64url::encode(y).into());
            }
        }
        map
    }

    /// Parses a public JWK. A JWK with a private member (`d`) is refused: see
    /// [`crate::SigningKey::from_jwk`] for private keys.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<Self> {
        match PublicKey::from_jwk(jwk)? {
            PublicKey::Verifying(key) => Ok(key),
            PublicKey::X25519(_) => Err(Error::NotASignatureKey { key_type: "X25519" }),
        }
    }

    /// The JWK thumbprint (RFC 7638) with SHA-256, base64url-encoded.
    pub fn thumbprint(&self) -> String {
        base64url::encode(Sha256::digest(self.canonical_jwk_json().as_bytes()))
    }

    /// The RFC 7638 §3 canonical JSON: required members only, lexicographic order, no spaces.
    fn canonical_jwk_json(&self) -> String {
        match &self.0 {
            VerifyingInner::Ed25519(key) => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, base64url::encode(key.as_bytes()))
            }
            VerifyingInner::P256(key) => {
                let (x, y) = key.coordinates();
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, base64url::encode(x), base64url::encode(y))
            }
        }
    }

    /// A short, stable name for messages: the key type.
    pub fn key_type(&self) -> &'static str {
        match &self.0 {
            VerifyingInner::Ed25519(_) => "Ed25519",
            VerifyingInner::P256(_) => "P-256",
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("type", &self.key_type())
            .field("jwk_thumbprint", &self.thumbprint())
            .finish()
    }
}

/// An X25519 public key (RFC 7748) for key agreement: found in DID documents, never used to
/// verify a signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct X25519PublicKey([u8; 32]);

impl X25519PublicKey {
    /// Wraps the 32-byte Montgomery u-coordinate.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        X25519PublicKey(bytes)
    }

    /// The 32-byte Montgomery u-coordinate.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The X25519 key an Ed25519 key converts to (the birational map of RFC 7748 §4.1), as
    /// did:key derives its key-agreement key.
    pub fn from_ed25519(key: &VerifyingKey) -> Option<Self> {
        match &key.0 {
            VerifyingInner::Ed25519(k) => Some(X25519PublicKey(k.to_montgomery().to_bytes())),
            VerifyingInner::P256(_) => None,
        }
    }

    /// The public JWK (RFC 8037 §2).
    pub fn to_jwk(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("crv".into(), "X25519".into());
        map.insert("kty".into(), "OKP".into());
        map.insert("x".into(), base64url::encode(self.0).into());
        map
    }
}

impl fmt::Debug for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X25519PublicKey({})", base64url::encode(self.0))
    }
}

/// Any public key a DID can carry: one that verifies signatures, or an X25519 key-agreement key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// Ed25519 or P-256: verifies signatures.
    Verifying(VerifyingKey),
    /// X25519: key agreement only.
    X25519(X25519PublicKey),
}

impl PublicKey {
    /// Parses a public JWK (RFC 7517 §4, RFC 7518 §6.2.1, RFC 8037 §2).
    ///
    /// Refuses private JWKs, unknown `kty`/`crv`, coordinates of the wrong length, points not on
    /// the curve, an `alg` member that contradicts the key type, and an Ed25519/P-256 key marked
    /// `"use": "enc"`.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<Self> {
        if jwk.contains_key("d") {
            return Err(Error::UnexpectedPrivateKey);
        }
        let members = jwk::Members::from_map(jwk)?;
        let key = members.public_key()?;
        if let PublicKey::Verifying(ref verifying) = key {
            members.check_alg_and_use(verifying.algorithm())?;
        }
        Ok(key)
    }

    /// The public JWK.
    pub fn to_jwk(&self) -> Map<String, Value> {
        match self {
            PublicKey::Verifying(key) => key.to_jwk(),
            PublicKey::X25519(key) => key.to_jwk(),
        }
    }

    /// The key if it verifies signatures.
    pub fn as_verifying_key(&self) -> Option<&VerifyingKey> {
        match self {
            PublicKey::Verifying(key) => Some(key),
            PublicKey::X25519(_) => None,
        }
    }
}
