//! The one error type of this crate. No variant carries plaintext, key material or the
//! protected header's text; names from outside input (`alg`, `enc`, `kid`) are shortened.

use crate::ContentEncryption;

/// The longest outside name (`alg`, `enc`, `kid`) quoted in an error message.
const MAX_NAME_IN_MESSAGE: usize = 40;

/// Shortens a name taken from outside input before it goes into an error.
pub(crate) fn shorten(name: &str) -> String {
    name.chars().take(MAX_NAME_IN_MESSAGE).collect()
}

/// Why a JWE could not be made, read or decrypted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JweError {
    /// RFC 7516 §7.1: a compact JWE is five base64url parts separated by dots.
    #[error("not a compact JWE: {reason}")]
    Malformed {
        /// Which structural rule failed.
        reason: &'static str,
    },
    /// The protected header is not strict JSON (a duplicate member, not an object, …).
    #[error("the JWE protected header is not valid JSON: {0}")]
    HeaderJson(#[from] schooltas_did::strict_json::Error),
    /// A header member is missing or has the wrong type.
    #[error("the JWE protected header is invalid: {reason}")]
    InvalidHeader {
        /// Which member, and what is wrong with it.
        reason: &'static str,
    },
    /// Only `alg: ECDH-ES` (RFC 7518 §4.6, direct key agreement) is supported.
    #[error("unsupported JWE key management algorithm {alg:?}: only ECDH-ES is supported")]
    UnsupportedAlgorithm {
        /// The `alg` found (shortened).
        alg: String,
    },
    /// Only `enc` A128GCM and A256GCM (RFC 7518 §5.3) are supported.
    #[error("unsupported JWE content encryption {enc:?}: only A128GCM and A256GCM are supported")]
    UnsupportedEncryption {
        /// The `enc` found (shortened).
        enc: String,
    },
    /// The `enc` is one this crate supports, but not one the recipient offered.
    #[error("the JWE uses content encryption {enc}, which the recipient did not offer")]
    EncryptionNotOffered {
        /// The `enc` used.
        enc: ContentEncryption,
    },
    /// RFC 7516 §4.1.3: compression before encryption leaks plaintext length patterns; refused.
    #[error("the JWE header asks for compression (\"zip\"), which is refused")]
    CompressionRefused,
    /// RFC 7516 §4.1.13: this crate understands no extension, so any `crit` is refused.
    #[error("the JWE header lists critical extensions (\"crit\") that are not understood")]
    CriticalExtension,
    /// RFC 7518 §4.6: with direct key agreement the JWE Encrypted Key is empty.
    #[error("the JWE has an encrypted key, which ECDH-ES (direct key agreement) does not use")]
    EncryptedKeyPresent,
    /// The `epk` is not an uncompressed P-256 public key on the curve.
    #[error("the JWE ephemeral public key (\"epk\") is invalid: {reason}")]
    InvalidEphemeralKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The recipient key (a JWK from `client_metadata.jwks`) cannot be used for ECDH-ES on P-256.
    #[error("the recipient key cannot be used for ECDH-ES on P-256: {reason}")]
    UnusableRecipientKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The JWE names (`kid`) a key other than the one it was given to decrypt with.
    #[error("the JWE is encrypted to key {found:?}, not to this key ({expected:?})")]
    KeyIdMismatch {
        /// The decryption key's `kid`.
        expected: String,
        /// The header's `kid` (shortened).
        found: String,
    },
    /// The authentication tag does not verify: the JWE was changed (header, IV, ciphertext or
    /// tag) or encrypted to another key. Nothing of the plaintext is released.
    #[error("the JWE does not decrypt: it was altered or encrypted to another key")]
    DecryptionFailed,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator is unavailable")]
    RandomnessUnavailable,
    /// A key's secret scalar is zero or not below the P-256 group order.
    #[error("the secret key is not a valid P-256 scalar")]
    InvalidSecretKey,
}
