//! did:key (W3C CCG did:key v0.9) for Ed25519, P-256 and X25519 keys.
//!
//! ```
//! use schooltas_did::{Algorithm, SigningKey, Signer, did_key, PublicKey};
//! let key = SigningKey::generate(Algorithm::EdDsa)?;
//! let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
//! assert!(did.as_str().starts_with("did:key:z6Mk"));
//! assert_eq!(did_key::public_key(&did)?, PublicKey::Verifying(key.verifying_key().clone()));
//! // An Ed25519 did:key also lists the X25519 key derived from it, for key agreement.
//! let doc = did_key::document(&did, did_key::KeyFormat::Multikey)?;
//! assert_eq!(doc.key_agreement.len(), 1);
//! # Ok::<(), schooltas_did::Error>(())
//! ```

use serde_json::json;

use crate::did::Did;
use crate::document::{DidDocument, MethodReference, VerificationMethod};
use crate::error::{Error, Result};
use crate::key::{PublicKey, X25519PublicKey};
use crate::multicodec;

/// How the verification methods of a generated did:key document carry their keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFormat {
    /// `Multikey` with `publicKeyMultibase` (the did:key spec's default).
    #[default]
    Multikey,
    /// `JsonWebKey2020` with `publicKeyJwk` (the spec's `publicKeyFormat` option).
    JsonWebKey2020,
}

/// The did:key for a public key.
pub fn did_for(key: &PublicKey) -> Did {
    // The base58btc alphabet is a subset of the DID id characters.
    Did::from_generated("key", &multicodec::encode_multibase_key(key))
}

/// The public key a did:key encodes.
pub fn public_key(did: &Did) -> Result<PublicKey> {
    if did.method() != "key" {
        return Err(Error::InvalidDid { did: did.to_string(), reason: "not a did:key" });
    }
    let id = did.method_specific_id();
    // did:key v0.9 §3.1.3: optional "version:" prefix is only ever "1"; no other colons.
    if id.contains(':') {
        return Err(Error::InvalidDid { did: did.to_string(), reason: "a did:key has no ':' in its key part" });
    }
    multicodec::decode_multibase_key(id)
}

/// The DID document of a did:key (did:key v0.9 §3.1.2 "Document Creation Algorithm").
///
/// The signature key (the fragment is the multibase value) is listed under authentication,
/// assertionMethod, capabilityInvocation and capabilityDelegation; an Ed25519 key also gets
/// its derived X25519 key under keyAgreement; an X25519 key is only a keyAgreement key.
pub fn document(did: &Did, format: KeyFormat) -> Result<DidDocument> {
    let key = public_key(did)?;
    let fragment = did.method_specific_id();
    let vm_id = format!("{did}#{fragment}");
    let mut doc = DidDocument {
        context: None,
        id: did.clone(),
        verification_method: vec![method(did, &vm_id, &key, format)],
        authentication: vec![],
        assertion_method: vec![],
        key_agreement: vec![],
        capability_invocation: vec![],
        capability_delegation: vec![],
        other: Default::default(),
    };
    let reference = || MethodReference::Reference(vm_id.clone());
    match &key {
        PublicKey::Verifying(verifying) => {
            doc.authentication.push(reference());
            doc.assertion_method.push(reference());
            doc.capability_invocation.push(reference());
            doc.capability_delegation.push(reference());
            if let Some(x25519) = X25519PublicKey::from_ed25519(verifying) {
                let x_key = PublicKey::X25519(x25519);
                let x_id = format!("{did}#{}", multicodec::encode_multibase_key(&x_key));
                doc.verification_method.push(method(did, &x_id, &x_key, format));
                doc.key_agreement.push(MethodReference::Reference(x_id));
            } else {
                // did:key v0.9: a P-256 key may also be used for ECDH key agreement.
                doc.key_agreement.push(reference());
            }
        }
        PublicKey::X25519(_) => doc.key_agreement.push(reference()),
    }
    doc.context = Some(match format {
        KeyFormat::Multikey => json!(["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]),
        KeyFormat::JsonWebKey2020 => {
            json!(["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"])
        }
    });
    Ok(doc)
}

fn method(did: &Did, id: &str, key: &PublicKey, format: KeyFormat) -> VerificationMethod {
    let mut vm = VerificationMethod {
        id: id.to_owned(),
        method_type: String::new(),
        controller: did.to_string(),
        public_key_jwk: None,
        public_key_multibase: None,
        public_key_base58: None,
        other: Default::default(),
    };
    match format {
        KeyFormat::Multikey => {
            vm.method_type = "Multikey".into();
            vm.public_key_multibase = Some(multicodec::encode_multibase_key(key));
        }
        KeyFormat::JsonWebKey2020 => {
            vm.method_type = "JsonWebKey2020".into();
            vm.public_key_jwk = Some(key.to_jwk());
        }
    }
    vm
}
