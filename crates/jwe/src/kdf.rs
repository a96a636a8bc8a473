//! The Concat KDF of NIST SP 800-56A §5.8.1 as RFC 7518 §4.6.2 uses it, over SHA-256.
//!
//! Twenty lines over `sha2` instead of a crate: JWE needs at most 256 bits, so one round.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Derives `N` bytes (N ≤ 32) from the shared secret `z` for the algorithm `algorithm_id`
/// (the `enc` value with ECDH-ES direct key agreement), `apu` and `apv` (raw bytes).
pub(crate) fn concat_kdf<const N: usize>(z: &[u8], algorithm_id: &str, apu: &[u8], apv: &[u8]) -> Zeroizing<[u8; N]> {
    const { assert!(N <= 32, "one SHA-256 round gives at most 32 bytes") };
    let mut hash = Sha256::new();
    // Round counter 1 (32-bit big-endian), then Z, then OtherInfo (RFC 7518 §4.6.2):
    // AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo, each datalen-prefixed except
    // SuppPubInfo, which is the key length in bits.
    hash.update(1u32.to_be_bytes());
    hash.update(z);
    for part in [algorithm_id.as_bytes(), apu, apv] {
        // Header values are bounded by the JWE's length, far below 4 GiB; saturate rather
        // than wrap if one ever were not.
        hash.update(u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        hash.update(part);
    }
    // N ≤ 32, so N * 8 fits.
    hash.update(((N * 8) as u32).to_be_bytes());
    let digest = Zeroizing::new(hash.finalize());
    let mut out = Zeroizing::new([0u8; N]);
    out.copy_from_slice(&digest[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7518_appendix_c_concat_kdf_from_z() {
        // RFC 7518 Appendix C: Z and the derived key.
        let z = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128,
            106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let key = concat_kdf::<16>(&z, "A128GCM", b"Alice", b"Bob");
        assert_eq!(*key, [86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26]);
    }
}
