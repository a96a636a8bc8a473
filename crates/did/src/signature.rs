//! Raw signatures and the [`Signer`] trait.

use std::fmt;

use crate::algorithm::Algorithm;
use crate::error::Result;
use crate::key::VerifyingKey;

/// A raw JWS signature: 64 bytes for both EdDSA (R ‖ S, RFC 8032) and ES256 (r ‖ s, RFC 7518
/// §3.4; never DER).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// The length of every signature this library produces or accepts.
    pub const LENGTH: usize = 64;

    /// Wraps 64 raw signature bytes.
    pub const fn from_bytes(bytes: [u8; 64]) -> Self {
        Signature(bytes)
    }

    /// Wraps raw signature bytes, `None` unless there are exactly 64.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 64]>::try_from(bytes).ok().map(Signature)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", crate::base64url::encode(self.0))
    }
}

/// Something that signs with one key: a software key ([`crate::SigningKey`]), or a phone's
/// secure enclave, an HSM or a remote signing service implementing this trait.
///
/// The trait is synchronous and object-safe. Implementations must return signatures in the JWS
/// form (raw `r ‖ s` for ES256, not DER).
///
/// ```
/// use schooltas_did::{Algorithm, Signer, SigningKey};
/// let key = SigningKey::generate(Algorithm::EdDsa)?;
/// let signature = key.sign(b"hello")?;
/// key.verifying_key().verify(key.algorithm(), b"hello", &signature)?;
/// # Ok::<(), schooltas_did::Error>(())
/// ```
pub trait Signer {
    /// The algorithm this signer's key signs with.
    fn algorithm(&self) -> Algorithm;

    /// The public half of the signing key.
    fn verifying_key(&self) -> &VerifyingKey;

    /// Signs `message`. A software key never fails; external signers report their failure as
    /// [`crate::Error::Signer`].
    fn sign(&self, message: &[u8]) -> Result<Signature>;
}

/// A reference or smart pointer to a signer is a signer.
macro_rules! forward_signer {
    ($($pointer:ty),*) => {$(
        impl<S: Signer + ?Sized> Signer for $pointer {
            fn algorithm(&self) -> Algorithm {
                (**self).algorithm()
            }
            fn verifying_key(&self) -> &VerifyingKey {
                (**self).verifying_key()
            }
            fn sign(&self, message: &[u8]) -> Result<Signature> {
                (**self).sign(message)
            }
        }
    )*};
}

forward_signer!(&S, Box<S>, std::sync::Arc<S>);
