//! Software signing keys: Ed25519 and P-256, generated here or imported from a private JWK.

use std::fmt;

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::{Error, Result};
use crate::jwk::{self, Curve, Members, PrivateJwk, X25519SecretKey};

/// Room for the longest private JWK this library writes (P-256: 176 bytes).
const PRIVATE_JWK_CAPACITY: usize = 256;
/// Room for a base64url `d` of 32 bytes (43 characters).
const D_CAPACITY: usize = 64;
use crate::key::{VerifyingInner, VerifyingKey};
use crate::p256_backend::P256KeyPair;
use crate::signature::{Signature, Signer};

/// A private key held in memory, ready to sign.
///
/// The key is expanded once, when it is created: for Ed25519 the SHA-512 expansion of the seed
/// (RFC 8032 §5.1.5) is kept, so a signature costs one hash of the message and one scalar
/// multiplication, not a re-expansion of the key. All secret material is wiped when the key is
/// dropped, and neither `Debug` nor any error ever shows it.
///
/// ```
/// use schooltas_did::{Algorithm, Signer, SigningKey};
/// let key = SigningKey::generate(Algorithm::Es256)?;
/// let jwk = key.to_private_jwk();          // a PrivateJwk: wiped when dropped, never printed
/// let again = SigningKey::from_jwk(&serde_json::from_str(&jwk).unwrap())?;
/// assert_eq!(key.verifying_key(), again.verifying_key());
/// assert!(!format!("{key:?}").contains("\"d\""));
/// # Ok::<(), schooltas_did::Error>(())
/// ```
pub struct SigningKey {
    inner: SigningInner,
    verifying: VerifyingKey,
}

enum SigningInner {
    Ed25519 {
        /// The 32-byte seed, kept only for export.
        seed: Zeroizing<[u8; 32]>,
        /// The expanded secret (scalar and nonce prefix); `ExpandedSecretKey` zeroizes on drop.
        expanded: Box<ExpandedSecretKey>,
    },
    P256(P256KeyPair),
}

impl SigningKey {
    /// Generates a fresh key from the operating system's random number generator.
    pub fn generate(alg: Algorithm) -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        loop {
            getrandom::fill(seed.as_mut()).map_err(|_| Error::RandomnessUnavailable)?;
            match alg {
                Algorithm::EdDsa => return Ok(Self::from_ed25519_seed(&seed)),
                // A uniformly random 32-byte string is a valid P-256 scalar unless it is zero or
                // ≥ n (probability about 2^-32); draw again in that case.
                Algorithm::Es256 => {
                    if let Ok(key) = Self::from_p256_scalar(&seed) {
                        return Ok(key);
                    }
                }
            }
        }
    }

    /// An Ed25519 key from its 32-byte seed (the JWK `d`, RFC 8037 §2).
    pub fn from_ed25519_seed(seed: &[u8; 32]) -> Self {
        let expanded = Box::new(ExpandedSecretKey::from(seed));
        let public = ed25519_dalek::VerifyingKey::from(&*expanded);
        SigningKey {
            inner: SigningInner::Ed25519 { seed: Zeroizing::new(*seed), expanded },
            verifying: VerifyingKey(VerifyingInner::Ed25519(public)),
        }
    }

    /// A P-256 key from its 32-byte big-endian private scalar (the JWK `d`).
    pub fn from_p256_scalar(d: &[u8; 32]) -> Result<Self> {
        let pair = P256KeyPair::from_scalar(d)?;
        let verifying = VerifyingKey(VerifyingInner::P256(pair.public().clone()));
        Ok(SigningKey { inner: SigningInner::P256(pair), verifying })
    }

    /// Imports a private JWK (RFC 8037 §2 for Ed25519, RFC 7518 §6.2.2 for P-256).
    ///
    /// The public members must match the private key: a JWK whose `x`/`y` belong to another key
    /// is refused rather than silently signing under a key nobody expects.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<Self> {
        let members = Members::from_map(jwk)?;
        let d = jwk::private_scalar(jwk)?;
        let key = match members.curve()? {
            Curve::Ed25519 => Self::from_ed25519_seed(&d),
            Curve::P256 => Self::from_p256_scalar(&d)?,
            Curve::X25519 => return Err(Error::NotASignatureKey { key_type: "X25519" }),
        };
        let claimed = members.public_key()?;
        if claimed.as_verifying_key() != Some(&key.verifying) {
            return Err(Error::InvalidPrivateKey { reason: "the public members do not match the private key" });
        }
        members.check_alg_and_use(key.algorithm())?;
        Ok(key)
    }

    /// Imports a private JWK from its JSON text. The text buffer stays the caller's to wipe.
    pub fn from_jwk_json(json: &str) -> Result<Self> {
        let map: Zeroizing<JwkMap> = Zeroizing::new(
            serde_json::from_str(json).map_err(|_| Error::InvalidJwk { reason: "not a JSON object" }).map(JwkMap)?,
        );
        Self::from_jwk(&map.0)
    }

    /// The private JWK as JSON text, members in lexicographic order. The returned text is
    /// wiped when dropped and never printed; write it only to protected storage.
    pub fn to_private_jwk(&self) -> PrivateJwk {
        // Both buffers are allocated once, larger than their content can be (a P-256 JWK is
        // 176 bytes, an Ed25519 one less; `d` is 43): a String that grows frees its old buffer,
        // secret included, without wiping it — as the 160 bytes reserved here before did for
        // every P-256 key. A test checks the capacities stay.
        let mut out = Zeroizing::new(String::with_capacity(PRIVATE_JWK_CAPACITY));
        let mut public = self.verifying.to_jwk();
        let mut d = Zeroizing::new(String::with_capacity(D_CAPACITY));
        match &self.inner {
            SigningInner::Ed25519 { seed, .. } => base64url::encode_into(seed.as_ref(), &mut d),
            SigningInner::P256(pair) => base64url::encode_into(pair.scalar_bytes().as_ref(), &mut d),
        }
        // Written by hand so the secret never sits in a serde_json::Value that is not wiped.
        out.push('{');
        let crv = public.remove("crv");
        push_member(&mut out, "crv", crv.as_ref());
        out.push_str(",\"d\":\"");
        out.push_str(&d);
        out.push('"');
        for (name, value) in &public {
            out.push(',');
            push_member(&mut out, name, Some(value));
        }
        out.push('}');
        debug_assert_eq!((out.capacity(), d.capacity()), (PRIVATE_JWK_CAPACITY, D_CAPACITY));
        PrivateJwk::from_text(out)
    }

    /// The X25519 private key derived from an Ed25519 key, as did:key derives its key-agreement
    /// key: the first half of SHA-512 of the seed (RFC 8032 §5.1.5), clamped as RFC 7748 §5
    /// decodes X25519 scalars. Its public key is [`crate::X25519PublicKey::from_ed25519`].
    /// `None` for P-256.
    pub fn derive_x25519_secret(&self) -> Option<X25519SecretKey> {
        match &self.inner {
            SigningInner::Ed25519 { seed, .. } => {
                let key = ed25519_dalek::SigningKey::from_bytes(seed);
                let mut scalar = Zeroizing::new(key.to_scalar_bytes());
                scalar[0] &= 248;
                scalar[31] &= 127;
                scalar[31] |= 64;
                Some(X25519SecretKey(scalar))
            }
            SigningInner::P256(_) => None,
        }
    }
}

/// A map whose string values are wiped on drop (used while importing private JWKs).
struct JwkMap(Map<String, Value>);

impl Zeroize for JwkMap {
    fn zeroize(&mut self) {
        for value in self.0.values_mut() {
            if let Value::String(s) = value {
                s.zeroize();
            }
        }
    }
}

fn push_member(out: &mut String, name: &str, value: Option<&Value>) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
    // Serializing a plain string or number into a String cannot fail.
    out.push_str(&value.map(Value::to_string).unwrap_or_else(|| "null".to_owned()));
}

impl Signer for SigningKey {
    fn algorithm(&self) -> Algorithm {
        self.verifying.algorithm()
    }

    fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        Ok(match (&self.inner, &self.verifying.0) {
            (SigningInner::Ed25519 { expanded, .. }, VerifyingInner::Ed25519(public)) => {
                Signature::from_bytes(raw_sign::<sha2::Sha512>(expanded, message, public).to_bytes())
            }
            (SigningInner::P256(pair), _) => pair.sign(message),
            // The constructors pair each secret with its own public key.
            (SigningInner::Ed25519 { .. }, VerifyingInner::P256(_)) => {
                return Err(Error::InvalidPrivateKey { reason: "internal key mismatch" });
            }
        })
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .field("public", &self.verifying)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_jwks_are_written_without_reallocating_their_buffer() {
        for alg in [Algorithm::EdDsa, Algorithm::Es256] {
            let key = SigningKey::generate(alg).unwrap();
            let jwk = key.to_private_jwk();
            assert!(jwk.len() <= 200, "{alg:?}: {} bytes", jwk.len());
            assert_eq!(jwk.0.capacity(), PRIVATE_JWK_CAPACITY, "{alg:?}: the buffer never grew");
        }
    }
}
