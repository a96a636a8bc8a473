//! P-256 / ES256 behind one small internal interface, so the backend can change without
//! touching the public API. See docs/decisions/0003-es256-backend.md for the choice.

use p256::ecdsa::signature::{Signer as _, Verifier as _};

use crate::error::{Error, Result};
use crate::signature::Signature;

/// A validated P-256 public key, parsed once.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct P256PublicKey {
    key: p256::ecdsa::VerifyingKey,
    /// Uncompressed SEC1 encoding, kept for JWK export without re-encoding.
    uncompressed: [u8; 65],
}

impl P256PublicKey {
    pub(crate) fn from_sec1(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 33 && bytes.len() != 65 {
            return Err(Error::InvalidPublicKey { key_type: "P-256", reason: "a SEC1 point is 33 or 65 bytes" });
        }
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map_err(|_| Error::InvalidPublicKey { key_type: "P-256", reason: "not a valid curve point" })?;
        Ok(Self::from_verifying(key))
    }

    fn from_verifying(key: p256::ecdsa::VerifyingKey) -> Self {
        let point = key.to_sec1_point(false);
        let mut uncompressed = [0u8; 65];
        uncompressed.copy_from_slice(point.as_bytes());
        P256PublicKey { key, uncompressed }
    }

    pub(crate) fn coordinates(&self) -> (&[u8], &[u8]) {
        (&self.uncompressed[1..33], &self.uncompressed[33..])
    }

    pub(crate) fn to_compressed(&self) -> [u8; 33] {
        let point = self.key.to_sec1_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(point.as_bytes());
        out
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &Signature) -> Result<()> {
        let sig = p256::ecdsa::Signature::from_slice(signature.as_bytes()).map_err(|_| Error::InvalidSignature)?;
        self.key.verify(message, &sig).map_err(|_| Error::InvalidSignature)
    }
}

/// A P-256 private key with its public key. The scalar is wiped on drop by `p256` itself.
pub(crate) struct P256KeyPair {
    secret: p256::ecdsa::SigningKey,
    public: P256PublicKey,
}

impl P256KeyPair {
    pub(crate) fn from_scalar(d: &[u8; 32]) -> Result<Self> {
        let secret = p256::ecdsa::SigningKey::from_slice(d)
            .map_err(|_| Error::InvalidPrivateKey { reason: "\"d\" is not a valid P-256 scalar" })?;
        let public = P256PublicKey::from_verifying(*secret.verifying_key());
        Ok(P256KeyPair { secret, public })
    }

    pub(crate) fn public(&self) -> &P256PublicKey {
        &self.public
    }

    pub(crate) fn scalar_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        let mut bytes = self.secret.to_bytes();
        out.copy_from_slice(&bytes);
        zeroize::Zeroize::zeroize(bytes.as_mut_slice());
        out
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        // RFC 6979 deterministic nonces: no dependence on a random number generator at
        // signing time.
        let sig: p256::ecdsa::Signature = self.secret.sign(message);
        let mut out = [0u8; 64];
        out.copy_from_slice(&sig.to_bytes());
        Signature::from_bytes(out)
    }
}
