//! Disclosures (RFC 9901 §4.2) and their digests.

use std::fmt;

use schooltas_did::base64url;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// The base64url SHA-256 digest of a disclosure's encoded text (RFC 9901 §4.2.3).
pub(crate) fn digest_of(encoded: &str) -> String {
    base64url::encode(Sha256::digest(encoded.as_bytes()))
}

/// Serializes `[salt, name, value]` / `[salt, value]` without copying the value.
struct AsArray<'a> {
    salt: &'a str,
    name: Option<&'a str>,
    value: &'a Value,
}

impl serde::Serialize for AsArray<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut seq = serializer.serialize_seq(Some(if self.name.is_some() { 3 } else { 2 }))?;
        seq.serialize_element(self.salt)?;
        if let Some(name) = self.name {
            seq.serialize_element(name)?;
        }
        seq.serialize_element(self.value)?;
        seq.end()
    }
}

/// A disclosure: a salt, for object properties a claim name, and a value.
///
/// Its digest is computed over the base64url text exactly as issued or presented, never over a
/// re-encoding, so the digest always matches what the issuer signed.
#[derive(Clone, PartialEq)]
pub struct Disclosure {
    encoded: String,
    digest: String,
    salt: String,
    name: Option<String>,
    value: Value,
}

impl Disclosure {
    /// Builds and encodes a disclosure: `[salt, name, value]` for an object property,
    /// `[salt, value]` for an array element.
    pub(crate) fn new(salt: String, name: Option<String>, value: Value) -> Self {
        let mut json = Vec::with_capacity(salt.len() + name.as_deref().map_or(0, str::len) + 32);
        // Serializing strings and a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut json, &AsArray { salt: &salt, name: name.as_deref(), value: &value });
        let mut encoded = String::with_capacity(json.len().div_ceil(3) * 4);
        base64url::encode_into(&json, &mut encoded);
        let digest = digest_of(&encoded);
        Disclosure { encoded, digest, salt, name, value }
    }

    /// Parses a disclosure from its base64url text (RFC 9901 §7.1 step 3).
    pub fn parse(encoded: &str) -> Result<Self> {
        let digest = digest_of(encoded);
        let malformed = |reason| Error::MalformedDisclosure { digest: digest.clone(), reason };
        let bytes = base64url::decode(encoded).ok_or_else(|| malformed("not base64url"))?;
        // Strict: a duplicate name inside an object value is refused (RFC 9901 §7.1 and §9.8:
        // every party must read one disclosure the same way).
        // `to_value` and a match, not `from_slice::<Vec<Value>>`, which would build the value
        // twice (once checked, once converted).
        let array = match schooltas_did::strict_json::to_value(&bytes) {
            Ok(Value::Array(array)) => array,
            Ok(_) | Err(schooltas_did::strict_json::Error::Invalid(_)) => return Err(malformed("not a JSON array")),
            Err(refusal) => return Err(refusal.into()),
        };
        let (salt, name, value) = match <[Value; 3]>::try_from(array) {
            Ok([salt, Value::String(name), value]) => (salt, Some(name), value),
            Ok(_) => return Err(malformed("the claim name is not a string")),
            Err(array) => match <[Value; 2]>::try_from(array) {
                Ok([salt, value]) => (salt, None, value),
                Err(_) => return Err(malformed("a disclosure has 2 or 3 elements")),
            },
        };
        let Value::String(salt) = salt else { return Err(malformed("the salt is not a string")) };
        if let Some(name) = &name {
            // RFC 9901 §7.1 step 3.c.ii.2: these names are reserved for the mechanism itself.
            if name == "_sd" || name == "..." {
                return Err(Error::ReservedClaimName { digest, name: name.clone() });
            }
        }
        Ok(Disclosure { encoded: encoded.to_owned(), digest, salt, name, value })
    }

    /// The base64url text.
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// Its digest (base64url SHA-256 of the text).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The salt.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The claim name, for an object-property disclosure; `None` for an array element.
    pub fn claim_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The disclosed value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    pub(crate) fn into_value(self) -> Value {
        self.value
    }
}

impl fmt::Debug for Disclosure {
    // The value is personal data: print the digest and name only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disclosure")
            .field("digest", &self.digest)
            .field("claim_name", &self.name)
            .finish_non_exhaustive()
    }
}
