//! Holder keys: where the private half of each credential copy's key lives, and who signs with it.
//!
//! Every copy is bound to a key of its own (`cnf`), which signs the copy's key-binding JWT, a
//! parent's guardian approval and a withdrawal. By default the wallet makes software keys
//! ([`SoftwareHolderKeys`]) and keeps each private key sealed in its copy's record, as it always
//! has. A phone app can instead keep them in the platform's secure element (Android Keystore,
//! iOS Secure Enclave) through a [`HolderKeys`] store of its own: the copy then records only
//! the store's reference to the key and its public half ([`ExternalKey`]), and every signature
//! is made by the store. Secure elements make P-256 keys only, so such a store offers
//! [`Algorithm::Es256`] and the wallet asks the issuer for ES256 proofs.
//!
//! The stored form ([`HolderKey`]) stays compatible with wallet files written before stores
//! existed: a software key is the private JWK text, as before; an external key is an object.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use schooltas_did::{Algorithm, PrivateJwk, Signature, Signer, SigningKey, VerifyingKey};

use crate::error::{Error, Result};

/// A signer an app's key store hands out (thread-safe, as the store is).
pub type BoxedSigner = Box<dyn Signer + Send + Sync>;

/// Where a wallet's holder keys are made and used.
///
/// Object safe and `Send + Sync`, so an app passes one store to every wallet handle. An
/// implementation backed by a secure element returns [`HolderKey::External`] from
/// [`HolderKeys::generate`] and signs in [`HolderKeys::signer`]; its failures are
/// [`schooltas_did::Error::Signer`] (or any [`Error`]), never panics.
///
/// ```
/// use schooltas_did::{Algorithm, Signer as _};
/// use schooltas_wallet::keys::{HolderKey, HolderKeys, SoftwareHolderKeys};
///
/// let store = SoftwareHolderKeys;
/// assert_eq!(store.algorithms(), vec![Algorithm::EdDsa, Algorithm::Es256]);
/// let key = store.generate(Algorithm::Es256)?;
/// assert!(matches!(key, HolderKey::Software(_)));
/// let signer = schooltas_wallet::keys::signer_for(&store, &key)?;
/// let signature = signer.sign(b"kb-jwt signing input")?;
/// signer.verifying_key().verify(Algorithm::Es256, b"kb-jwt signing input", &signature)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait HolderKeys: Send + Sync {
    /// The algorithms this store makes keys for, the preferred first (a secure element: ES256).
    fn algorithms(&self) -> Vec<Algorithm>;

    /// Makes a new key for one credential copy.
    fn generate(&self, algorithm: Algorithm) -> Result<HolderKey>;

    /// A signer for a key this store made ([`HolderKey::External`]); its public key must be the
    /// one recorded (the wallet checks).
    fn signer(&self, key: &ExternalKey) -> Result<BoxedSigner>;
}

/// The built-in store: software keys, each sealed in its copy's record.
#[derive(Clone, Copy, Debug, Default)]
pub struct SoftwareHolderKeys;

impl HolderKeys for SoftwareHolderKeys {
    fn algorithms(&self) -> Vec<Algorithm> {
        vec![Algorithm::EdDsa, Algorithm::Es256]
    }

    fn generate(&self, algorithm: Algorithm) -> Result<HolderKey> {
        Ok(HolderKey::Software(SigningKey::generate(algorithm)?.to_private_jwk()))
    }

    fn signer(&self, _key: &ExternalKey) -> Result<BoxedSigner> {
        Err(Error::HolderKeyUnavailable {
            reason: "the key is held by an app's key store, and this wallet was opened without one".into(),
        })
    }
}

/// A copy's holder key as stored.
#[derive(Clone)]
pub enum HolderKey {
    /// A software key: the private JWK (sealed in the vault, wiped on drop, never printed).
    Software(PrivateJwk),
    /// A key in an app's store: its reference there and its public key.
    External(ExternalKey),
}

impl PartialEq for HolderKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HolderKey::Software(a), HolderKey::Software(b)) => a.as_str() == b.as_str(),
            (HolderKey::External(a), HolderKey::External(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for HolderKey {}

impl HolderKey {
    /// The public key.
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        match self {
            HolderKey::Software(jwk) => Ok(jwk.to_signing_key()?.verifying_key().clone()),
            HolderKey::External(key) => Ok(key.public_key.clone()),
        }
    }

    /// Whether the private key is held outside the wallet file.
    pub fn is_external(&self) -> bool {
        matches!(self, HolderKey::External(_))
    }
}

impl From<PrivateJwk> for HolderKey {
    fn from(jwk: PrivateJwk) -> Self {
        HolderKey::Software(jwk)
    }
}

impl fmt::Debug for HolderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HolderKey::Software(_) => f.write_str("HolderKey::Software(<redacted>)"),
            HolderKey::External(key) => f.debug_tuple("HolderKey::External").field(key).finish(),
        }
    }
}

/// A key in an app's key store: what the wallet file records of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalKey {
    /// The store's name for the key (a Keystore alias, a Secure Enclave key's tag): not secret.
    pub reference: String,
    /// Its public key.
    pub public_key: VerifyingKey,
}

impl ExternalKey {
    /// A key `reference` in an app's store with public key `public_key`.
    pub fn new(reference: impl Into<String>, public_key: VerifyingKey) -> Self {
        ExternalKey { reference: reference.into(), public_key }
    }
}

/// A signer for `key`: a software key signs itself, an external one through `store`, whose
/// signer must have the recorded public key.
pub fn signer_for(store: &dyn HolderKeys, key: &HolderKey) -> Result<BoxedSigner> {
    match key {
        HolderKey::Software(jwk) => Ok(Box::new(jwk.to_signing_key()?)),
        HolderKey::External(external) => {
            let signer = store.signer(external)?;
            if signer.verifying_key() != &external.public_key {
                return Err(Error::HolderKeyUnavailable {
                    reason: "the key store's key is not the one the credential is bound to".into(),
                });
            }
            Ok(Box::new(CheckedSigner(signer)))
        }
    }
}

/// An external signer whose signatures are checked before use: a secure element answering with
/// a DER signature, another key's signature or garbage fails here, with a typed error, instead
/// of at the verifier.
struct CheckedSigner(BoxedSigner);

impl Signer for CheckedSigner {
    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }

    fn verifying_key(&self) -> &VerifyingKey {
        self.0.verifying_key()
    }

    fn sign(&self, message: &[u8]) -> schooltas_did::Result<Signature> {
        let signature = self.0.sign(message)?;
        self.0.verifying_key().verify(self.0.algorithm(), message, &signature).map_err(|_| {
            schooltas_did::Error::Signer("the key store's signature does not verify with its public key".into())
        })?;
        Ok(signature)
    }
}

/// The stored object form of an external key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalRecord {
    reference: String,
    jwk: Map<String, Value>,
}

impl Serialize for HolderKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            // The format of every wallet file before key stores: the private JWK's text.
            HolderKey::Software(jwk) => jwk.serialize(serializer),
            HolderKey::External(key) => {
                ExternalRecord { reference: key.reference.clone(), jwk: key.public_key.to_jwk() }.serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for HolderKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        // A visitor, not `#[serde(untagged)]`: that would buffer the private key in a copy
        // nobody wipes.
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = HolderKey;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a private JWK's text or an external key record")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<HolderKey, E> {
                Ok(HolderKey::Software(PrivateJwk::from_text(Zeroizing::new(text.to_owned()))))
            }

            fn visit_string<E: de::Error>(self, text: String) -> std::result::Result<HolderKey, E> {
                Ok(HolderKey::Software(PrivateJwk::from_text(Zeroizing::new(text))))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<HolderKey, A::Error> {
                let record = ExternalRecord::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let public_key = VerifyingKey::from_jwk(&record.jwk)
                    .map_err(|_| de::Error::custom("an external holder key's public JWK is not a usable key"))?;
                Ok(HolderKey::External(ExternalKey { reference: record.reference, public_key }))
            }
        }

        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_software_key_is_stored_as_the_private_jwk_text_as_before() {
        let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let jwk = key.to_private_jwk();
        let before = serde_json::to_string(&jwk).unwrap();
        let stored = HolderKey::Software(jwk);
        assert_eq!(serde_json::to_string(&stored).unwrap(), before);
        let back: HolderKey = serde_json::from_str(&before).unwrap();
        assert_eq!(&back.verifying_key().unwrap(), key.verifying_key());
        assert_eq!(format!("{back:?}"), "HolderKey::Software(<redacted>)");
    }

    #[test]
    fn an_external_key_round_trips_with_its_reference_and_public_key() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let stored = HolderKey::External(ExternalKey::new("keystore-alias-7", key.verifying_key().clone()));
        let json = serde_json::to_value(&stored).unwrap();
        assert_eq!(json["reference"], "keystore-alias-7");
        assert!(json["jwk"].get("d").is_none());
        let back: HolderKey = serde_json::from_value(json).unwrap();
        assert_eq!(back, stored);
    }

    #[test]
    fn an_external_record_with_a_private_jwk_is_refused() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let private: Map<String, Value> = serde_json::from_str(key.to_private_jwk().as_str()).unwrap();
        let json = serde_json::json!({"reference": "x", "jwk": private});
        let err = serde_json::from_value::<HolderKey>(json).unwrap_err();
        assert!(err.to_string().contains("not a usable key"), "{err}");
    }

    #[test]
    fn the_software_store_cannot_sign_with_an_external_key() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let external = HolderKey::External(ExternalKey::new("alias", key.verifying_key().clone()));
        let err = signer_for(&SoftwareHolderKeys, &external).err().unwrap();
        assert!(matches!(err, Error::HolderKeyUnavailable { .. }), "{err}");
    }
}
