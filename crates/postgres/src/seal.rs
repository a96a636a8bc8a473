//! Sealing what a row must give back but nobody reading the database may read: AES-256-GCM
//! under a key derived (HKDF-SHA256, an info string per use) from key material every instance
//! of the school already shares, with the row's tenant and key as associated data — a sealed
//! value moved to another row or another school does not open.
//!
//! ring provides both (already the workspace's, for the issuer's HMACs); no new dependency.

use std::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// A 256-bit key that seals rows at rest. Every instance of a school derives the same one from
/// the school's shared key material ([`SealingKey::derive`]); `Debug` prints nothing of it.
///
/// ```
/// use schooltas_postgres::SealingKey;
/// let key = SealingKey::derive(b"the school's shared key material", "schooltas verifier request store v1");
/// assert_eq!(format!("{key:?}"), "SealingKey(..)");
/// ```
#[derive(Clone)]
pub struct SealingKey(Zeroizing<[u8; 32]>);

impl SealingKey {
    /// The key HKDF-SHA256 (RFC 5869) derives from `material` for `info` (one info string per
    /// use, so one secret never serves two purposes).
    pub fn derive(material: &[u8], info: &str) -> Self {
        struct Len;
        impl hkdf::KeyType for Len {
            fn len(&self) -> usize {
                32
            }
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"schooltas-postgres sealing").extract(material);
        let mut out = Zeroizing::new([0u8; 32]);
        let info = [info.as_bytes()];
        // `expand` fails only for an output longer than 255 hash lengths, `fill` only for a
        // length other than the one asked for: neither for 32 bytes of SHA-256.
        if let Ok(okm) = prk.expand(&info, Len) {
            let _ = okm.fill(out.as_mut());
        }
        SealingKey(out)
    }

    /// A key given as its 32 bytes (from a secret store, or a test).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SealingKey(Zeroizing::new(bytes))
    }

    fn aead(&self) -> Option<LessSafeKey> {
        UnboundKey::new(&AES_256_GCM, self.0.as_ref()).ok().map(LessSafeKey::new)
    }

    /// `plaintext` sealed for the row `aad` names: a random 96-bit nonce, then the ciphertext
    /// and its tag. `None` only when the system's random number generator fails.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut sealed = Zeroizing::new(plaintext.to_vec());
        self.aead()?
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut *sealed)
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// What [`SealingKey::seal`] sealed for `aad`; `None` for another key, another row, or a
    /// changed value.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let length = self.aead()?.open_in_place(nonce, Aad::from(aad), &mut buffer).ok()?.len();
        buffer.truncate(length);
        Some(buffer)
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn seals_and_opens_only_for_the_same_key_and_row() {
        let key = SealingKey::derive(b"material", "one use");
        let sealed = key.seal(b"tenant-a/row-1", b"the secret").unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"the secret"));
        assert_eq!(key.open(b"tenant-a/row-1", &sealed).unwrap().as_slice(), b"the secret");
        assert!(key.open(b"tenant-b/row-1", &sealed).is_none(), "another row's associated data");
        assert!(SealingKey::derive(b"material", "another use").open(b"tenant-a/row-1", &sealed).is_none());
        let mut changed = sealed.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert!(key.open(b"tenant-a/row-1", &changed).is_none());
        assert!(key.open(b"tenant-a/row-1", &sealed[..5]).is_none());
    }
}
