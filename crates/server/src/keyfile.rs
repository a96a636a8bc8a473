//! The school's keys at rest: its signing key(s), the issuer's child-link key and the
//! verifier's request-signing key in one file, sealed with XChaCha20-Poly1305 under a key
//! derived from a passphrase with Argon2id (as the wallet's vault does; see
//! `docs/decisions/0009-wallet-encryption.md`).
//!
//! The file is JSON with only public parameters outside the ciphertext:
//! `{"format":"schooltas-keys-v1","kdf":{"memory_kib","iterations","parallelism"},"salt","nonce","ciphertext"}`
//! (base64url). The whole header is the AEAD's associated data, so a changed parameter fails
//! to open like a wrong passphrase does. The plaintext has one key a line:
//! `school-key <kid> <private JWK>`, `child-link <base64url>`, `verifier-key <private JWK>`.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngExt as _;
use schooltas_did::{Algorithm, SigningKey, base64url};
use schooltas_issuer::ChildLinkKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

const FORMAT: &str = "schooltas-keys-v1";

/// Argon2id costs of a key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFileKdf {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KeyFileKdf {
    /// 64 MiB, 3 passes, 1 lane (the wallet's default; above OWASP's minimum).
    fn default() -> Self {
        KeyFileKdf { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 }
    }
}

impl KeyFileKdf {
    /// Cheap costs for tests only.
    pub const INSECURE_FOR_TESTS: KeyFileKdf = KeyFileKdf { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn check(&self) -> Result<(), KeyFileError> {
        let ok = (1..=16).contains(&self.parallelism)
            && (1..=16).contains(&self.iterations)
            && (8 * self.parallelism..=1024 * 1024).contains(&self.memory_kib);
        if ok { Ok(()) } else { Err(KeyFileError::Malformed { reason: "Argon2id parameters out of bounds" }) }
    }
}

/// Why a key file could not be made, read or opened. No variant carries key material or the
/// passphrase.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file exists; `init` never overwrites keys.
    #[error("the key file {path} already exists; refusing to overwrite the school's keys")]
    Exists {
        /// The path.
        path: String,
    },
    /// Reading or writing failed.
    #[error("key file {path}: {reason}")]
    Io {
        /// The path.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// Wrong passphrase, or the file was changed.
    #[error("the key file cannot be opened: wrong passphrase, or the file was changed")]
    WrongPassphrase,
    /// The file is not a key file of this version.
    #[error("not a schooltas key file: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The passphrase is too short.
    #[error("the key passphrase must have at least 12 characters")]
    WeakPassphrase,
    /// A key could not be made or read.
    #[error("key: {0}")]
    Key(#[from] schooltas_did::Error),
}

/// The school's secret keys, as one unit.
pub struct SchoolSecrets {
    /// Signing keys by kid, the active one last.
    pub school_keys: Vec<(String, SigningKey)>,
    /// The issuer's child-link key.
    pub child_link: ChildLinkKey,
    /// The verifier's request-signing key (its did:key is the verifier's client id).
    pub verifier_key: SigningKey,
}

impl fmt::Debug for SchoolSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.school_keys.iter().map(|(kid, _)| kid.as_str()).collect();
        f.debug_struct("SchoolSecrets").field("kids", &kids).finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    format: String,
    kdf: KeyFileKdf,
    salt: String,
    nonce: String,
    ciphertext: String,
}

impl Sealed {
    fn aad(&self) -> Vec<u8> {
        format!(
            "{}\0{}\0{}\0{}\0{}\0{}",
            self.format, self.kdf.memory_kib, self.kdf.iterations, self.kdf.parallelism, self.salt, self.nonce
        )
        .into_bytes()
    }
}

fn derive(passphrase: &str, salt: &[u8], kdf: &KeyFileKdf) -> Result<XChaCha20Poly1305, KeyFileError> {
    kdf.check()?;
    let params = argon2::Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|_| KeyFileError::Malformed { reason: "Argon2id parameters refused" })?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut key[..])
        .map_err(|_| KeyFileError::Malformed { reason: "Argon2id refused the salt" })?;
    XChaCha20Poly1305::new_from_slice(&key[..]).map_err(|_| KeyFileError::Malformed { reason: "key length" })
}

impl SchoolSecrets {
    /// Fresh keys: one Ed25519 school key `key-1`, a child-link key and an Ed25519 verifier key.
    pub fn generate() -> Result<Self, KeyFileError> {
        Self::generate_with(Algorithm::EdDsa)
    }

    /// Fresh keys with school and verifier keys of `algorithm`: ES256 for the EU profile
    /// (HAIP 1.0, `identity = "https"`), whose certificates the operator's CA makes.
    pub fn generate_with(algorithm: Algorithm) -> Result<Self, KeyFileError> {
        Ok(SchoolSecrets {
            school_keys: vec![("key-1".to_owned(), SigningKey::generate(algorithm)?)],
            child_link: ChildLinkKey::generate(),
            verifier_key: SigningKey::generate(algorithm)?,
        })
    }

    /// The plaintext lines.
    fn encode(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(4096));
        for (kid, key) in &self.school_keys {
            text.push_str("school-key ");
            text.push_str(kid);
            text.push(' ');
            text.push_str(key.to_private_jwk().as_str());
            text.push('\n');
        }
        text.push_str("child-link ");
        base64url::encode_into(&self.child_link.to_bytes()[..], &mut text);
        text.push('\n');
        text.push_str("verifier-key ");
        text.push_str(self.verifier_key.to_private_jwk().as_str());
        text.push('\n');
        text
    }

    fn decode(text: &str) -> Result<Self, KeyFileError> {
        let malformed = |reason| KeyFileError::Malformed { reason };
        let (mut school_keys, mut child_link, mut verifier_key) = (Vec::new(), None, None);
        for line in text.lines() {
            let (kind, rest) = line.split_once(' ').ok_or(malformed("a line without a key"))?;
            match kind {
                "school-key" => {
                    let (kid, jwk) = rest.split_once(' ').ok_or(malformed("a school key without kid"))?;
                    school_keys.push((kid.to_owned(), SigningKey::from_jwk_json(jwk)?));
                }
                "child-link" => {
                    let bytes = Zeroizing::new(base64url::decode(rest).ok_or(malformed("child-link key encoding"))?);
                    let bytes: [u8; 32] =
                        bytes.as_slice().try_into().map_err(|_| malformed("child-link key length"))?;
                    child_link = Some(ChildLinkKey::from_bytes(bytes));
                }
                "verifier-key" => verifier_key = Some(SigningKey::from_jwk_json(rest)?),
                _ => return Err(malformed("an unknown kind of key")),
            }
        }
        if school_keys.is_empty() {
            return Err(malformed("no school key"));
        }
        Ok(SchoolSecrets {
            school_keys,
            child_link: child_link.ok_or(malformed("no child-link key"))?,
            verifier_key: verifier_key.ok_or(malformed("no verifier key"))?,
        })
    }

    /// Seals the keys under `passphrase` into a new file at `path` (mode 0600), refusing to
    /// overwrite one ([`KeyFileError::Exists`]).
    pub fn seal_to(&self, path: &Path, passphrase: &str, kdf: KeyFileKdf) -> Result<(), KeyFileError> {
        if passphrase.chars().count() < 12 {
            return Err(KeyFileError::WeakPassphrase);
        }
        let salt: [u8; 16] = rand::rng().random();
        let nonce: [u8; 24] = rand::rng().random();
        let mut sealed = Sealed {
            format: FORMAT.to_owned(),
            kdf,
            salt: base64url::encode(salt),
            nonce: base64url::encode(nonce),
            ciphertext: String::new(),
        };
        let cipher = derive(passphrase, &salt, &kdf)?;
        let plaintext = self.encode();
        let aad = sealed.aad();
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: &aad })
            .map_err(|_| KeyFileError::Malformed { reason: "encryption failed" })?;
        sealed.ciphertext = base64url::encode(&ciphertext);
        let json = serde_json::to_vec(&sealed).map_err(|_| KeyFileError::Malformed { reason: "encoding failed" })?;
        let io =
            |error: std::io::Error| KeyFileError::Io { path: path.display().to_string(), reason: error.to_string() };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|error| {
            if error.kind() == std::io::ErrorKind::AlreadyExists {
                KeyFileError::Exists { path: path.display().to_string() }
            } else {
                io(error)
            }
        })?;
        file.write_all(&json).and_then(|()| file.sync_all()).map_err(io)
    }

    /// Opens the key file at `path` with `passphrase`.
    pub fn open(path: &Path, passphrase: &str) -> Result<Self, KeyFileError> {
        let bytes = std::fs::read(path)
            .map_err(|error| KeyFileError::Io { path: path.display().to_string(), reason: error.to_string() })?;
        if bytes.len() > 1 << 20 {
            return Err(KeyFileError::Malformed { reason: "larger than 1 MiB" });
        }
        let sealed: Sealed = serde_json::from_slice(&bytes)
            .map_err(|_| KeyFileError::Malformed { reason: "not the key file's JSON" })?;
        if sealed.format != FORMAT {
            return Err(KeyFileError::Malformed { reason: "unknown format version" });
        }
        let decode = |text: &str| base64url::decode(text).ok_or(KeyFileError::Malformed { reason: "base64url" });
        let (salt, nonce, ciphertext) = (decode(&sealed.salt)?, decode(&sealed.nonce)?, decode(&sealed.ciphertext)?);
        if nonce.len() != 24 || !(8..=64).contains(&salt.len()) {
            return Err(KeyFileError::Malformed { reason: "salt or nonce length" });
        }
        let cipher = derive(passphrase, &salt, &sealed.kdf)?;
        let aad = sealed.aad();
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: &aad })
                .map_err(|_| KeyFileError::WrongPassphrase)?,
        );
        let text = std::str::from_utf8(&plaintext).map_err(|_| KeyFileError::Malformed { reason: "plaintext" })?;
        Self::decode(text)
    }
}
