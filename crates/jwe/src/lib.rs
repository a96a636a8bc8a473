//! # schooltas-jwe
//!
//! JSON Web Encryption (RFC 7516) in its compact serialization, with exactly the algorithms
//! that OpenID4VP 1.0 §8.3 and HAIP 1.0 ask for an encrypted response (`direct_post.jwt`):
//! key agreement `ECDH-ES` on P-256 (RFC 7518 §4.6, direct: no key wrapping) and content
//! encryption `A128GCM` or `A256GCM` (RFC 7518 §5.3). Built on RustCrypto's `p256` and
//! `aes-gcm`, no OpenSSL (docs/decisions/0020).
//!
//! - [`EncryptionKey`]: the recipient's key pair (secret zeroized, `Debug` shows the `kid`),
//!   whose [`public_jwk`](EncryptionKey::public_jwk) goes into `client_metadata.jwks`;
//! - [`RecipientKey`]: the sender's view of it, read from that JWK;
//! - [`Encryption`]: makes a JWE; [`ParsedJwe`] / [`decrypt`]: read one strictly and decrypt.
//!
//! Errors ([`JweError`]) never carry plaintext or key material; a JWE that fails its tag is
//! [`JweError::DecryptionFailed`] and releases nothing.
//!
//! ```
//! use schooltas_jwe::{ContentEncryption, Encryption, EncryptionKey, JweError, RecipientKey, decrypt};
//!
//! // The verifier's key; its public JWK travels in the request's client_metadata.
//! let verifier = EncryptionKey::generate("response-key-1")?;
//! let jwk = verifier.public_jwk();
//! assert_eq!(jwk["use"], "enc");
//!
//! // The wallet encrypts the response to it.
//! let recipient = RecipientKey::from_jwk(&jwk)?;
//! let jwe = Encryption::new(ContentEncryption::A128Gcm).encrypt(&recipient, br#"{"state":"s"}"#)?;
//!
//! // The verifier decrypts, accepting only what it offered.
//! let plaintext = decrypt(&jwe, &verifier, &[ContentEncryption::A128Gcm])?;
//! assert_eq!(plaintext.as_slice(), br#"{"state":"s"}"#);
//! assert!(matches!(
//!     decrypt(&jwe, &verifier, &[ContentEncryption::A256Gcm]),
//!     Err(JweError::EncryptionNotOffered { .. })
//! ));
//! # Ok::<(), JweError>(())
//! ```
#![forbid(unsafe_code)]

mod compact;
pub mod content;
mod error;
mod kdf;
mod key;

pub use compact::{Encryption, Header, ParsedJwe, Randomness, decrypt, derive_key};
pub use content::ContentEncryption;
pub use error::JweError;
pub use key::{ALG_ECDH_ES, EncryptionKey, RecipientKey};
