//! Content encryption with AES-GCM (RFC 7518 §5.3): A128GCM and A256GCM, 96-bit IV, 128-bit tag.

use std::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce, Tag};

use crate::error::{JweError, shorten};

/// RFC 7518 §5.3: the IV is 96 bits.
pub const IV_LEN: usize = 12;
/// RFC 7518 §5.3: the authentication tag is 128 bits.
pub const TAG_LEN: usize = 16;

/// A JWE content encryption algorithm (`enc`, RFC 7518 §5.1) this crate supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentEncryption {
    /// `A128GCM`: AES-GCM with a 128-bit key. OpenID4VP 1.0 §8.3's default when the verifier
    /// names no `encrypted_response_enc_values_supported`.
    A128Gcm,
    /// `A256GCM`: AES-GCM with a 256-bit key.
    A256Gcm,
}

impl ContentEncryption {
    /// Every supported value, in the order of [`ContentEncryption::as_str`].
    pub const ALL: [ContentEncryption; 2] = [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

    /// The `enc` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentEncryption::A128Gcm => "A128GCM",
            ContentEncryption::A256Gcm => "A256GCM",
        }
    }

    /// Reads an `enc` value; anything but A128GCM and A256GCM is
    /// [`JweError::UnsupportedEncryption`].
    pub fn from_enc(enc: &str) -> Result<Self, JweError> {
        match enc {
            "A128GCM" => Ok(ContentEncryption::A128Gcm),
            "A256GCM" => Ok(ContentEncryption::A256Gcm),
            other => Err(JweError::UnsupportedEncryption { enc: shorten(other) }),
        }
    }

    /// The key length in bytes (16 or 32).
    pub fn key_len(self) -> usize {
        match self {
            ContentEncryption::A128Gcm => 16,
            ContentEncryption::A256Gcm => 32,
        }
    }
}

impl fmt::Display for ContentEncryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Encrypts `buffer` in place under `key` (of [`ContentEncryption::key_len`] bytes) and returns
/// the tag. RFC 7516 §5.1 steps 14–15.
pub fn seal(
    enc: ContentEncryption,
    key: &[u8],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    buffer: &mut [u8],
) -> Result<[u8; TAG_LEN], JweError> {
    let nonce = Nonce::from_slice(iv);
    let tag = match enc {
        ContentEncryption::A128Gcm => Aes128Gcm::new_from_slice(key)
            .map_err(|_| JweError::InvalidSecretKey)?
            .encrypt_in_place_detached(nonce, aad, buffer),
        ContentEncryption::A256Gcm => Aes256Gcm::new_from_slice(key)
            .map_err(|_| JweError::InvalidSecretKey)?
            .encrypt_in_place_detached(nonce, aad, buffer),
    }
    // aes-gcm refuses only plaintexts beyond 2^36 bytes, which no caller has.
    .map_err(|_| JweError::Malformed { reason: "the plaintext is too long for AES-GCM" })?;
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&tag);
    Ok(out)
}

/// Decrypts `buffer` in place, or [`JweError::DecryptionFailed`] when the tag does not verify
/// (the buffer is then not plaintext and must not be used). RFC 7516 §5.2 steps 14–16.
pub fn open(
    enc: ContentEncryption,
    key: &[u8],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), JweError> {
    let nonce = Nonce::from_slice(iv);
    let tag = Tag::from_slice(tag);
    match enc {
        ContentEncryption::A128Gcm => Aes128Gcm::new_from_slice(key)
            .map_err(|_| JweError::InvalidSecretKey)?
            .decrypt_in_place_detached(nonce, aad, buffer, tag),
        ContentEncryption::A256Gcm => Aes256Gcm::new_from_slice(key)
            .map_err(|_| JweError::InvalidSecretKey)?
            .decrypt_in_place_detached(nonce, aad, buffer, tag),
    }
    .map_err(|_| JweError::DecryptionFailed)
}
