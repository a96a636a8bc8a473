//! did:jwk (did-jwk spec, quartzjer/did-jwk): a DID that is a base64url-encoded public JWK.
//!
//! ```
//! use schooltas_did::{Algorithm, SigningKey, Signer, did_jwk, PublicKey};
//! let key = SigningKey::generate(Algorithm::Es256)?;
//! let did = did_jwk::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
//! assert!(did.as_str().starts_with("did:jwk:eyJ"));
//! let doc = did_jwk::document(&did)?;
//! assert_eq!(doc.verification_method[0].id, format!("{did}#0"));
//! # Ok::<(), schooltas_did::Error>(())
//! ```

use serde_json::{Map, Value, json};

use crate::base64url;
use crate::did::Did;
use crate::document::{DidDocument, MethodReference, VerificationMethod};
use crate::error::{Error, Result};
use crate::key::PublicKey;

/// The largest JWK accepted inside a did:jwk, in bytes after decoding.
const MAX_JWK_LEN: usize = 2048;

/// The did:jwk for a public key: the JWK's members in lexicographic order, base64url-encoded.
pub fn did_for(key: &PublicKey) -> Did {
    let json = Value::Object(key.to_jwk()).to_string();
    // base64url characters are all DID id characters.
    Did::from_generated("jwk", &base64url::encode(json))
}

/// The JWK inside a did:jwk, as given, after checking it is a public key this library reads.
pub fn jwk(did: &Did) -> Result<(Map<String, Value>, PublicKey)> {
    let invalid = |reason| Error::InvalidDid { did: did.to_string(), reason };
    if did.method() != "jwk" {
        return Err(invalid("not a did:jwk"));
    }
    let encoded = did.method_specific_id();
    if encoded.len() > MAX_JWK_LEN * 4 / 3 + 4 {
        return Err(invalid("the JWK is longer than 2048 bytes"));
    }
    let bytes = base64url::decode(encoded).ok_or_else(|| invalid("the key part is not base64url"))?;
    let map: Map<String, Value> =
        crate::strict_json::from_slice_or(&bytes, |_| invalid("the key part is not a JSON object"))?;
    // did-jwk §2: the JWK must not contain private key material.
    if map.contains_key("d") {
        return Err(Error::UnexpectedPrivateKey);
    }
    let key = PublicKey::from_jwk(&map)?;
    Ok((map, key))
}

/// The DID document of a did:jwk (did-jwk spec §2.4 "Read").
///
/// One method, `#0`, of type `JsonWebKey2020` with the JWK as given. Relationships follow
/// the JWK's `use`: `"sig"` → the four signature relationships, `"enc"` → keyAgreement only,
/// absent → all five. An X25519 key can only agree keys, so it gets keyAgreement alone whatever
/// `use` says (the spec leaves this case to the implementation).
pub fn document(did: &Did) -> Result<DidDocument> {
    let (jwk, key) = jwk(did)?;
    let vm_id = format!("{did}#0");
    let use_ = jwk.get("use").and_then(Value::as_str).map(str::to_owned);
    let signs = matches!(key, PublicKey::Verifying(_)) && use_.as_deref() != Some("enc");
    let agrees = use_.as_deref() != Some("sig");
    let refs = |on: bool| if on { vec![MethodReference::Reference(vm_id.clone())] } else { vec![] };
    Ok(DidDocument {
        context: Some(json!(["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"])),
        id: did.clone(),
        verification_method: vec![VerificationMethod {
            id: vm_id.clone(),
            method_type: "JsonWebKey2020".into(),
            controller: did.to_string(),
            public_key_jwk: Some(jwk),
            public_key_multibase: None,
            public_key_base58: None,
            other: Default::default(),
        }],
        assertion_method: refs(signs),
        authentication: refs(signs),
        capability_invocation: refs(signs),
        capability_delegation: refs(signs),
        key_agreement: refs(agrees),
        other: Default::default(),
    })
}
