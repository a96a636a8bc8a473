//! Holder keys in the phone's secure element: the app implements [`ForeignKeyStore`] (Android
//! Keystore, iOS Secure Enclave; a Python class in the tests) and the wallet signs key proofs,
//! key-binding JWTs, guardian approvals and withdrawals through it. The private keys never
//! enter this library; the wallet file records each key's reference and public key.

use std::sync::Arc;

use schooltas_did::{Algorithm, Signature, Signer, VerifyingKey};
use schooltas_wallet::keys::{BoxedSigner, ExternalKey, HolderKey, HolderKeys};

use crate::error::{StoreFailure, WalletError};

/// A signature algorithm for holder keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (what secure elements make).
    Es256,
    /// Ed25519.
    EdDsa,
}

impl From<KeyAlgorithm> for Algorithm {
    fn from(algorithm: KeyAlgorithm) -> Self {
        match algorithm {
            KeyAlgorithm::Es256 => Algorithm::Es256,
            KeyAlgorithm::EdDsa => Algorithm::EdDsa,
        }
    }
}

impl TryFrom<Algorithm> for KeyAlgorithm {
    type Error = WalletError;

    fn try_from(algorithm: Algorithm) -> Result<Self, WalletError> {
        match algorithm {
            Algorithm::Es256 => Ok(KeyAlgorithm::Es256),
            Algorithm::EdDsa => Ok(KeyAlgorithm::EdDsa),
            #[allow(unreachable_patterns)] // the algorithm list may grow
            _ => Err(WalletError::input("an algorithm the bindings do not offer")),
        }
    }
}

/// A key the app's store made: its name there and its public key.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ForeignKey {
    /// The store's name for the key (a Keystore alias, a Secure Enclave tag); not secret.
    pub reference: String,
    /// The public key as a JWK (JSON text: `{"kty":"EC","crv":"P-256","x":…,"y":…}`).
    pub public_jwk: String,
}

/// The app's holder key store, implemented in Kotlin, Swift or Python.
///
/// Called from the wallet's (blocking) calls, on their thread. `sign` returns the JWS form of
/// the signature: for ES256 the raw 64 bytes `r ‖ s`, **not** the DER that Android's
/// `Signature` and iOS' `SecKeyCreateSignature` return (convert it). The message is the JWS
/// signing input; the store hashes it with SHA-256 as ECDSA P-256 does (`SHA256withECDSA`,
/// `ecdsaSignatureMessageX962SHA256`). A failure (the user cancelled, the key is gone) is
/// reported as `WalletError.Signer` with a message. The store must not call the wallet back
/// (the wallet is busy with the call that asked for the signature).
#[uniffi::export(with_foreign)]
pub trait ForeignKeyStore: Send + Sync {
    /// The algorithms the store makes keys for, the preferred first (a secure element: ES256).
    fn algorithms(&self) -> Vec<KeyAlgorithm>;
    /// Makes a new key.
    fn generate(&self, algorithm: KeyAlgorithm) -> Result<ForeignKey, WalletError>;
    /// Signs `message` with the key `reference`.
    fn sign(&self, reference: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError>;
}

/// The app's store as the wallet's [`HolderKeys`].
pub(crate) struct ForeignHolderKeys(pub(crate) Arc<dyn ForeignKeyStore>);

fn store_failed(error: WalletError) -> schooltas_wallet::Error {
    schooltas_wallet::Error::Did(StoreFailure::boxed(error))
}

impl HolderKeys for ForeignHolderKeys {
    fn algorithms(&self) -> Vec<Algorithm> {
        self.0.algorithms().into_iter().map(Algorithm::from).collect()
    }

    fn generate(&self, algorithm: Algorithm) -> schooltas_wallet::Result<HolderKey> {
        let asked = KeyAlgorithm::try_from(algorithm).map_err(store_failed)?;
        let made = self.0.generate(asked).map_err(store_failed)?;
        let jwk: serde_json::Map<String, serde_json::Value> = schooltas_did::strict_json::from_str(&made.public_jwk)
            .map_err(|_| schooltas_wallet::Error::HolderKeyUnavailable {
                reason: "the key store's public JWK is not a JSON object".into(),
            })?;
        let public_key = VerifyingKey::from_jwk(&jwk).map_err(|_| schooltas_wallet::Error::HolderKeyUnavailable {
            reason: "the key store's public JWK is not a public key this wallet uses".into(),
        })?;
        if public_key.algorithm() != algorithm {
            return Err(schooltas_wallet::Error::HolderKeyUnavailable {
                reason: "the key store made a key of another algorithm than the one asked for".into(),
            });
        }
        Ok(HolderKey::External(ExternalKey::new(made.reference, public_key)))
    }

    fn signer(&self, key: &ExternalKey) -> schooltas_wallet::Result<BoxedSigner> {
        Ok(Box::new(ForeignSigner {
            store: Arc::clone(&self.0),
            reference: key.reference.clone(),
            public_key: key.public_key.clone(),
        }))
    }
}

/// One key of the app's store as a [`Signer`].
struct ForeignSigner {
    store: Arc<dyn ForeignKeyStore>,
    reference: String,
    public_key: VerifyingKey,
}

impl Signer for ForeignSigner {
    fn algorithm(&self) -> Algorithm {
        self.public_key.algorithm()
    }

    fn verifying_key(&self) -> &VerifyingKey {
        &self.public_key
    }

    fn sign(&self, message: &[u8]) -> schooltas_did::Result<Signature> {
        let bytes = self.store.sign(self.reference.clone(), message.to_vec()).map_err(StoreFailure::boxed)?;
        let signer = |message: String| StoreFailure::boxed(WalletError::Signer { message });
        let signature = Signature::from_slice(&bytes).ok_or_else(|| {
            signer(format!(
                "the key store returned a {}-byte signature; a JWS signature is the raw 64 bytes r ‖ s (convert the \
                 platform's DER signature)",
                bytes.len()
            ))
        })?;
        self.public_key
            .verify(self.public_key.algorithm(), message, &signature)
            .map_err(|_| signer("the key store's signature does not verify with the key's public key".into()))?;
        Ok(signature)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use schooltas_did::SigningKey;
    use schooltas_wallet::keys::signer_for;

    use super::*;

    /// What the app's store answers.
    #[derive(Clone, Copy, PartialEq)]
    enum Answer {
        Raw,
        Der,
        OtherKey,
        EdDsaKey,
        NotJson,
        Cancel,
    }

    /// An app's store in Rust, with software P-256 keys.
    struct Store {
        answer: Mutex<Answer>,
        keys: Mutex<Vec<SigningKey>>,
    }

    impl Store {
        fn new(answer: Answer) -> Arc<Store> {
            Arc::new(Store { answer: Mutex::new(answer), keys: Mutex::default() })
        }

        fn answer(&self) -> Answer {
            *self.answer.lock().unwrap()
        }
    }

    impl ForeignKeyStore for Store {
        fn algorithms(&self) -> Vec<KeyAlgorithm> {
            vec![KeyAlgorithm::Es256]
        }

        fn generate(&self, algorithm: KeyAlgorithm) -> Result<ForeignKey, WalletError> {
            let key = SigningKey::generate(if self.answer() == Answer::EdDsaKey {
                Algorithm::EdDsa
            } else {
                algorithm.into()
            })
            .unwrap();
            let public_jwk = if self.answer() == Answer::NotJson {
                "not json".into()
            } else {
                serde_json::Value::Object(key.verifying_key().to_jwk()).to_string()
            };
            let mut keys = self.keys.lock().unwrap();
            keys.push(key);
            Ok(ForeignKey { reference: format!("alias-{}", keys.len()), public_jwk })
        }

        fn sign(&self, reference: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
            let index: usize = reference.trim_start_matches("alias-").parse().unwrap();
            let keys = self.keys.lock().unwrap();
            let key = &keys[index - 1];
            match self.answer() {
                Answer::Cancel => Err(WalletError::Signer { message: "the user cancelled".into() }),
                Answer::Der => Ok(vec![0x30; 71]),
                Answer::OtherKey => {
                    Ok(SigningKey::generate(Algorithm::Es256).unwrap().sign(&message).unwrap().as_bytes().to_vec())
                }
                _ => Ok(key.sign(&message).unwrap().as_bytes().to_vec()),
            }
        }
    }

    fn holder_keys(store: &Arc<Store>) -> ForeignHolderKeys {
        ForeignHolderKeys(Arc::clone(store) as Arc<dyn ForeignKeyStore>)
    }

    fn signed_with(answer: Answer) -> std::result::Result<Signature, WalletError> {
        let store = Store::new(Answer::Raw);
        let keys = holder_keys(&store);
        let key = keys.generate(Algorithm::Es256).unwrap();
        let signer = signer_for(&keys, &key).unwrap();
        *store.answer.lock().unwrap() = answer;
        signer.sign(b"header.payload").map_err(|e| schooltas_wallet::Error::Did(e).into())
    }

    #[test]
    fn a_store_key_is_recorded_by_reference_and_signs_verifiable_es256() {
        let store = Store::new(Answer::Raw);
        let keys = holder_keys(&store);
        assert_eq!(keys.algorithms(), vec![Algorithm::Es256]);
        let key = keys.generate(Algorithm::Es256).unwrap();
        let HolderKey::External(external) = &key else { panic!("a store's key is external") };
        assert_eq!(external.reference, "alias-1");
        assert_eq!(external.public_key.algorithm(), Algorithm::Es256);
        let signature = signed_with(Answer::Raw).unwrap();
        assert_eq!(signature.as_bytes().len(), 64);
        let signer = signer_for(&keys, &key).unwrap();
        let signature = signer.sign(b"header.payload").unwrap();
        external.public_key.verify(Algorithm::Es256, b"header.payload", &signature).unwrap();
    }

    #[test]
    fn a_der_signature_is_refused_with_what_to_do() {
        let err = signed_with(Answer::Der).unwrap_err();
        assert!(
            matches!(&err, WalletError::Signer { message } if message.contains("71-byte") && message.contains("r ‖ s")),
            "{err:?}"
        );
    }

    #[test]
    fn a_signature_by_another_key_is_refused() {
        let err = signed_with(Answer::OtherKey).unwrap_err();
        assert!(matches!(&err, WalletError::Signer { message } if message.contains("does not verify")), "{err:?}");
    }

    #[test]
    fn the_stores_own_failure_crosses_with_its_message() {
        let err = signed_with(Answer::Cancel).unwrap_err();
        assert!(matches!(&err, WalletError::Signer { message } if message.contains("the user cancelled")), "{err:?}");
    }

    #[test]
    fn a_key_of_another_algorithm_or_an_unreadable_jwk_is_refused() {
        for answer in [Answer::EdDsaKey, Answer::NotJson] {
            let err = holder_keys(&Store::new(answer)).generate(Algorithm::Es256).err().unwrap();
            assert!(matches!(err, schooltas_wallet::Error::HolderKeyUnavailable { .. }), "{err}");
            assert!(matches!(WalletError::from(err), WalletError::Signer { .. }));
        }
    }
}
