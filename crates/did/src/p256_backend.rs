//! P-256 / ES256 behind one small internal interface, so the backend can change without
//! touching the public API. See docs/decisions/0002-es256-backend.md for the choice.

use p256::ecdsa::signature::Signer as _;

use crate::error::{Error, Result};
use crate::signature::Signature;

/// A validated P-256 public key, parsed once.
///
/// The point is checked with `p256` when the key is created (on the curve, not the identity;
/// compressed points are decompressed there, which `ring` cannot do) and kept in uncompressed
/// SEC1 form, which is what `ring` verifies against.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct P256PublicKey {
    uncompressed: [u8; 65],
}

impl P256PublicKey {
    pub(crate) fn from_sec1(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 33 && bytes.len() != 65 {
            return Err(Error::InvalidPublicKey { key_type: "P-256", reason: "a SEC1 point is 33 or 65 bytes" });
        }
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map_err(|_| Error::InvalidPublicKey { key_type: "P-256", reason: "not a valid curve point" })?;
        Ok(Self::from_verifying(&key))
    }

    fn from_verifying(key: &p256::ecdsa::VerifyingKey) -> Self {
        let point = key.to_sec1_point(false);
        let mut uncompressed = [0u8; 65];
        uncompressed.copy_from_slice(point.as_bytes());
        P256PublicKey { uncompressed }
    }

    pub(crate) fn coordinates(&self) -> (&[u8], &[u8]) {
        (&self.uncompressed[1..33], &self.uncompressed[33..])
    }

    /// SEC1 §2.3.3 compression: the x coordinate with the parity of y in the prefix byte.
    pub(crate) fn to_compressed(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = 0x02 | (self.uncompressed[64] & 1);
        out[1..].copy_from_slice(&self.uncompressed[1..33]);
        out
    }

    /// ES256 verification (RFC 7518 §3.4: raw `r ‖ s`) with `ring`, about 4× faster than `p256`
    /// here; only public data reaches `ring`.
    pub(crate) fn verify(&self, message: &[u8], signature: &Signature) -> Result<()> {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &self.uncompressed)
            .verify(message, signature.as_bytes())
            .map_err(|_| Error::InvalidSignature)
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
        let public = P256PublicKey::from_verifying(secret.verifying_key());
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

    /// ES256 signing with `p256`, whose key type wipes the scalar on drop (`ring` keeps no
    /// such promise; see the decision record).
    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        // RFC 6979 deterministic nonces: no dependence on a random number generator at
        // signing time.
        let sig: p256::ecdsa::Signature = self.secret.sign(message);
        let mut out = [0u8; 64];
        out.copy_from_slice(&sig.to_bytes());
        Signature::from_bytes(out)
    }
}
