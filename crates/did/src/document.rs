//! DID documents (W3C DID Core §5) and their verification methods.
//!
//! Reading is tolerant of members this library does not use (services, `alsoKnownAs`, …), which
//! are kept and written back unchanged; it is strict about everything that decides which key
//! verifies what.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::did::{Did, DidUrl};
use crate::error::{Error, Result};
use crate::key::{PublicKey, VerifyingKey, X25519PublicKey};
use crate::multicodec;

/// The largest DID document accepted, in bytes (did:web responses are cut off here too).
pub const MAX_DOCUMENT_LEN: usize = 256 << 10;

/// The verification relationships of DID Core §5.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerificationRelationship {
    /// `authentication`: proving control of the DID (a holder's key binding).
    Authentication,
    /// `assertionMethod`: issuing claims (a school signing a credential).
    AssertionMethod,
    /// `keyAgreement`: establishing shared secrets (encryption).
    KeyAgreement,
    /// `capabilityInvocation`.
    CapabilityInvocation,
    /// `capabilityDelegation`.
    CapabilityDelegation,
}

impl VerificationRelationship {
    /// All five, in DID Core order.
    pub const ALL: [VerificationRelationship; 5] = [
        VerificationRelationship::Authentication,
        VerificationRelationship::AssertionMethod,
        VerificationRelationship::KeyAgreement,
        VerificationRelationship::CapabilityInvocation,
        VerificationRelationship::CapabilityDelegation,
    ];

    /// The member name in a DID document.
    pub const fn as_str(self) -> &'static str {
        match self {
            VerificationRelationship::Authentication => "authentication",
            VerificationRelationship::AssertionMethod => "assertionMethod",
            VerificationRelationship::KeyAgreement => "keyAgreement",
            VerificationRelationship::CapabilityInvocation => "capabilityInvocation",
            VerificationRelationship::CapabilityDelegation => "capabilityDelegation",
        }
    }
}

/// A verification method (DID Core §5.2) with its key material as given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerificationMethod {
    /// The method's id: an absolute DID URL or a relative `#fragment`.
    pub id: String,
    /// The method type (`Multikey`, `JsonWebKey2020`, `Ed25519VerificationKey2018`, …).
    #[serde(rename = "type")]
    pub method_type: String,
    /// The DID that controls the key.
    pub controller: String,
    /// `publicKeyJwk`, if the key is given as a JWK.
    #[serde(rename = "publicKeyJwk", default, skip_serializing_if = "Option::is_none")]
    pub public_key_jwk: Option<Map<String, Value>>,
    /// `publicKeyMultibase`, if the key is given as a multibase string.
    #[serde(rename = "publicKeyMultibase", default, skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
    /// `publicKeyBase58` (the 2018/2019 suites), if the key is given as raw base58 bytes.
    #[serde(rename = "publicKeyBase58", default, skip_serializing_if = "Option::is_none")]
    pub public_key_base58: Option<String>,
    /// Any other members, kept as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl VerificationMethod {
    /// The public key this method carries, read according to its type.
    pub fn public_key(&self) -> Result<PublicKey> {
        let bad =
            |reason: &str| Error::VerificationMethodNotFound { did_url: self.id.clone(), reason: reason.to_owned() };
        if let Some(jwk) = &self.public_key_jwk {
            if !matches!(
                self.method_type.as_str(),
                "JsonWebKey2020" | "JsonWebKey" | "EcdsaSecp256r1VerificationKey2019"
            ) {
                return Err(bad("publicKeyJwk is only read for the JsonWebKey2020 and JsonWebKey types"));
            }
            return PublicKey::from_jwk(jwk);
        }
        if let Some(multibase) = &self.public_key_multibase {
            let decoded = multicodec::decode_multibase_key(multibase)?;
            let type_fits = match (&decoded, self.method_type.as_str()) {
                (_, "Multikey") => true,
                (PublicKey::Verifying(k), "Ed25519VerificationKey2020") => k.algorithm() == Algorithm::EdDsa,
                (PublicKey::Verifying(k), "EcdsaSecp256r1VerificationKey2019") => k.algorithm() == Algorithm::Es256,
                (PublicKey::X25519(_), "X25519KeyAgreementKey2020") => true,
                _ => false,
            };
            return if type_fits {
                Ok(decoded)
            } else {
                Err(bad("the publicKeyMultibase key does not match the method type"))
            };
        }
        if let Some(base58) = &self.public_key_base58 {
            let raw: [u8; 32] = bs58::decode(base58)
                .into_vec()
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| bad("publicKeyBase58 is not 32 bytes of base58"))?;
            return match self.method_type.as_str() {
                "Ed25519VerificationKey2018" => VerifyingKey::from_ed25519_bytes(&raw).map(PublicKey::Verifying),
                "X25519KeyAgreementKey2019" => Ok(PublicKey::X25519(X25519PublicKey::from_bytes(raw))),
                _ => Err(bad(
                    "publicKeyBase58 is only read for Ed25519VerificationKey2018 and X25519KeyAgreementKey2019",
                )),
            };
        }
        Err(bad("the method has no key material this library reads"))
    }
}

/// A reference from a verification relationship: a DID URL, or a method embedded in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MethodReference {
    /// A DID URL naming a method in `verificationMethod` (possibly relative: `#key-1`).
    Reference(String),
    /// A method that exists only inside this relationship.
    Embedded(Box<VerificationMethod>),
}

/// A DID document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DidDocument {
    /// `@context`, as given.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// The DID the document describes.
    pub id: Did,
    /// `verificationMethod`.
    #[serde(rename = "verificationMethod", default, skip_serializing_if = "Vec::is_empty")]
    pub verification_method: Vec<VerificationMethod>,
    /// `authentication`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authentication: Vec<MethodReference>,
    /// `assertionMethod`.
    #[serde(rename = "assertionMethod", default, skip_serializing_if = "Vec::is_empty")]
    pub assertion_method: Vec<MethodReference>,
    /// `keyAgreement`.
    #[serde(rename = "keyAgreement", default, skip_serializing_if = "Vec::is_empty")]
    pub key_agreement: Vec<MethodReference>,
    /// `capabilityInvocation`.
    #[serde(rename = "capabilityInvocation", default, skip_serializing_if = "Vec::is_empty")]
    pub capability_invocation: Vec<MethodReference>,
    /// `capabilityDelegation`.
    #[serde(rename = "capabilityDelegation", default, skip_serializing_if = "Vec::is_empty")]
    pub capability_delegation: Vec<MethodReference>,
    /// Any other members (`controller`, `service`, `alsoKnownAs`, …), kept as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl DidDocument {
    /// Parses a DID document from JSON (at most [`MAX_DOCUMENT_LEN`] bytes).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        if json.len() > MAX_DOCUMENT_LEN {
            return Err(Error::TooLarge { what: "DID document", len: json.len(), limit: MAX_DOCUMENT_LEN });
        }
        // Strict (duplicate names, integers beyond 64 bits): two resolvers must never read two
        // different key sets from one document.
        crate::strict_json::from_slice_or(json, |e| Error::InvalidDidDocument {
            did: "(unknown)".into(),
            reason: format!("not a DID document: {e}"),
        })
    }

    /// The document as JSON.
    pub fn to_json(&self) -> Value {
        // Serializing plain data into a Value cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The references listed under one relationship.
    pub fn relationship(&self, relationship: VerificationRelationship) -> &[MethodReference] {
        match relationship {
            VerificationRelationship::Authentication => &self.authentication,
            VerificationRelationship::AssertionMethod => &self.assertion_method,
            VerificationRelationship::KeyAgreement => &self.key_agreement,
            VerificationRelationship::CapabilityInvocation => &self.capability_invocation,
            VerificationRelationship::CapabilityDelegation => &self.capability_delegation,
        }
    }

    /// Resolves a possibly relative method id (`#key-1`) against this document's DID.
    pub fn absolute_id(&self, id: &str) -> String {
        if id.starts_with('#') { format!("{}{}", self.id, id) } else { id.to_owned() }
    }

    /// Finds a verification method by its absolute DID URL, in `verificationMethod` or embedded
    /// in a relationship.
    pub fn method(&self, url: &DidUrl) -> Option<&VerificationMethod> {
        let wanted = url.as_str();
        self.verification_method
            .iter()
            .chain(VerificationRelationship::ALL.iter().flat_map(|r| {
                self.relationship(*r).iter().filter_map(|m| match m {
                    MethodReference::Embedded(m) => Some(&**m),
                    MethodReference::Reference(_) => None,
                })
            }))
            .find(|m| self.absolute_id(&m.id) == wanted)
    }

    /// Whether the method with this absolute id is listed under `relationship`.
    pub fn is_authorized(&self, method_id: &str, relationship: VerificationRelationship) -> bool {
        self.relationship(relationship).iter().any(|r| {
            let id = match r {
                MethodReference::Reference(id) => id,
                MethodReference::Embedded(m) => &m.id,
            };
            self.absolute_id(id) == method_id
        })
    }

    /// Checks that the document describes `did` (DID Core §7.1.2: the resolved document's `id`
    /// must be the DID that was resolved); the first rule a fetched did:web document must pass.
    pub fn check_subject(&self, did: &Did) -> Result<()> {
        if &self.id != did {
            return Err(Error::InvalidDidDocument {
                did: did.to_string(),
                reason: format!("the document's id is {}, not the DID that was resolved", self.id),
            });
        }
        Ok(())
    }

    /// The signature key named by `url` that may be used for `relationship` with `alg`.
    ///
    /// Without a fragment, the document must have exactly one method for that relationship
    /// and algorithm; with several, the caller must say which (`kid`), so a signer cannot pick
    /// a key the verifier did not intend.
    pub fn verifying_key(
        &self,
        url: &DidUrl,
        relationship: VerificationRelationship,
        alg: Algorithm,
    ) -> Result<VerifyingKey> {
        let not_found = |reason: String| Error::VerificationMethodNotFound { did_url: url.to_string(), reason };
        if url.did() != &self.id {
            return Err(not_found(format!("the DID URL is not about {}", self.id)));
        }
        if url.fragment().is_some() {
            let method = self.method(url).ok_or_else(|| not_found("no verification method has this id".into()))?;
            if !self.is_authorized(url.as_str(), relationship) {
                return Err(not_found(format!("the method is not listed under {}", relationship.as_str())));
            }
            return signature_key(method, alg).map_err(|e| match e {
                Error::VerificationMethodNotFound { reason, .. } => not_found(reason),
                other => other,
            });
        }
        let mut candidates = self.relationship(relationship).iter().filter_map(|r| {
            let method = match r {
                MethodReference::Reference(id) => {
                    let absolute = DidUrl::parse(&self.absolute_id(id)).ok()?;
                    self.method(&absolute)?
                }
                MethodReference::Embedded(m) => m,
            };
            signature_key(method, alg).ok()
        });
        match (candidates.next(), candidates.next()) {
            (Some(key), None) => Ok(key),
            (None, _) => Err(not_found(format!("no {alg} key is listed under {}", relationship.as_str()))),
            (Some(_), Some(_)) => Err(not_found(format!(
                "several {alg} keys are listed under {}; name one with a fragment (kid)",
                relationship.as_str()
            ))),
        }
    }
}

/// The method's key, if it is a signature key for `alg`.
fn signature_key(method: &VerificationMethod, alg: Algorithm) -> Result<VerifyingKey> {
    match method.public_key()? {
        PublicKey::Verifying(key) if key.algorithm() == alg => Ok(key),
        PublicKey::Verifying(key) => Err(Error::VerificationMethodNotFound {
            did_url: method.id.clone(),
            reason: format!("the key is of type {}, not one for {alg}", key.key_type()),
        }),
        PublicKey::X25519(_) => Err(Error::VerificationMethodNotFound {
            did_url: method.id.clone(),
            reason: "the key is an X25519 key-agreement key and cannot verify signatures".into(),
        }),
    }
}
