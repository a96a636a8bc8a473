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
    /// here; only public data reaches `ring`. `ring` is the cargo feature `ring` (part of
    /// `https`, whose TLS stack brings `ring` anyway).
    #[cfg(feature = "ring")]
    pub(crate) fn verify(&self, message: &[u8], signature: &Signature) -> Result<()> {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &self.uncompressed)
            .verify(message, signature.as_bytes())
            .map_err(|_| Error::InvalidSignature)
    }

    /// ES256 verification (RFC 7518 §3.4: raw `r ‖ s`) with `p256`, for a build without the
    /// cargo feature `ring`: the same acceptance rules as `ring`'s (`r` and `s` in `[1, n)`, high
    /// `s` accepted, the point checked at creation), about 4× slower; see
    /// docs/decisions/0002-es256-backend.md.
    #[cfg(not(feature = "ring"))]
    pub(crate) fn verify(&self, message: &[u8], signature: &Signature) -> Result<()> {
        p256_verify(&self.uncompressed, message, signature.as_bytes())
    }
}

/// ES256 with `p256`'s verifier: the backend without `ring`, and the cross-check of `ring`'s in
/// the tests of a build with both.
#[cfg(any(test, not(feature = "ring")))]
fn p256_verify(uncompressed: &[u8; 65], message: &[u8], signature: &[u8]) -> Result<()> {
    use p256::ecdsa::signature::Verifier as _;
    // The point was validated when the key was created; parsing it again is a few field
    // operations next to the verification's two scalar multiplications.
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(uncompressed).map_err(|_| Error::InvalidSignature)?;
    let signature = p256::ecdsa::Signature::from_slice(signature).map_err(|_| Error::InvalidSignature)?;
    key.verify(message, &signature).map_err(|_| Error::InvalidSignature)
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

#[cfg(all(test, feature = "ring"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// `ring` (the backend with the feature) and `p256` (the backend without it) accept and
    /// refuse the same signatures: valid ones, their high-`s` twins, `r`/`s` of zero or `n`,
    /// and every single-bit flip, over several keys and messages.
    #[test]
    fn ring_and_p256_backends_agree() {
        // n, the order of P-256 (SEC 2 §2.4.2), big-endian.
        const N: [u8; 32] = [
            0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
            0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
        ];
        let agree = |key: &P256PublicKey, message: &[u8], bytes: [u8; 64]| {
            let signature = Signature::from_bytes(bytes);
            let ours = key.verify(message, &signature).is_ok();
            let other = p256_verify(&key.uncompressed, message, &bytes).is_ok();
            assert_eq!(ours, other, "backends disagree on {}", crate::base64url::encode(bytes));
            ours
        };
        for seed in 1u8..=4 {
            let pair = P256KeyPair::from_scalar(&[seed; 32]).unwrap();
            let message = vec![seed; usize::from(seed) * 40];
            let good = *pair.sign(&message).as_bytes();
            assert!(agree(pair.public(), &message, good));
            // The high-s twin (n - s) is valid ECDSA: both accept it.
            let s = <p256::Scalar as p256::elliptic_curve::ff::PrimeField>::from_repr(
                <[u8; 32]>::try_from(&good[32..]).unwrap().into(),
            )
            .unwrap();
            let mut high = good;
            high[32..].copy_from_slice(&(-s).to_bytes());
            assert!(agree(pair.public(), &message, high));
            for (at, value) in [(0, [0u8; 32]), (32, [0u8; 32]), (0, N), (32, N)] {
                let mut bad = good;
                bad[at..at + 32].copy_from_slice(&value);
                assert!(!agree(pair.public(), &message, bad));
            }
            // Every fifth bit: all 64 bytes are hit, and a debug run stays under two seconds.
            for bit in (0..512).step_by(5) {
                let mut flipped = good;
                flipped[bit / 8] ^= 1 << (bit % 8);
                agree(pair.public(), &message, flipped);
            }
        }
    }
}
