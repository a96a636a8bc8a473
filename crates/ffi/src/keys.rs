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
/// reported as `WalletError.Signer` with a message.
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
