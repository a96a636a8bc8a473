//! Transaction data (OpenID4VP 1.0 §5.1 `transaction_data`, §8.4, Appendix B.3.3): typed
//! details of what the End-User authorizes, bound into the key-binding JWT by hash.

use schooltas_did::base64url;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::Oid4vpError;
use super::dcql::is_valid_id;

/// The largest encoded transaction data object accepted (16 KiB).
pub const MAX_TRANSACTION_DATA_LEN: usize = 16 << 10;

/// The hash algorithm of `transaction_data_hashes` when the request names none, and the only
/// one this library computes (Appendix B.3.3.1).
pub const DEFAULT_HASH_ALG: &str = "sha-256";

/// One transaction data object (§5.1): its `type`, the Credential Queries that may authorize
/// it, and the type-specific members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionData {
    /// `type`: which kind of transaction; determines the other members.
    #[serde(rename = "type")]
    pub type_: String,
    /// `credential_ids`: ids of Credential Queries whose credential may authorize it.
    pub credential_ids: Vec<String>,
    /// Every other member (type-specific, and `transaction_data_hashes_alg`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TransactionData {
    /// Transaction data of type `type_`, authorizable by the given Credential Queries.
    pub fn new<I, S>(type_: impl Into<String>, credential_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TransactionData {
            type_: type_.into(),
            credential_ids: credential_ids.into_iter().map(Into::into).collect(),
            extra: Map::new(),
        }
    }

    /// Adds a type-specific member.
    pub fn with_member(mut self, name: impl Into<String>, value: Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// The string sent in `transaction_data`: base64url (no padding) of the JSON object.
    pub fn encode(&self) -> Result<String, Oid4vpError> {
        self.validate()?;
        let json = serde_json::to_vec(self).map_err(|e| Oid4vpError::malformed_json("transaction data", &e))?;
        Ok(base64url::encode(json))
    }

    /// Decodes one `transaction_data` string: strict base64url, a JSON object, then the rules of
    /// §5.1 (`type` a non-empty string, `credential_ids` a non-empty array of ids) and of
    /// Appendix B.3.3.1 (`transaction_data_hashes_alg`, when present, must offer `sha-256`).
    pub fn decode(encoded: &str) -> Result<Self, Oid4vpError> {
        if encoded.len() > MAX_TRANSACTION_DATA_LEN {
            return Err(Oid4vpError::TooLarge {
                what: "transaction data",
                len: encoded.len(),
                limit: MAX_TRANSACTION_DATA_LEN,
            });
        }
        let bytes = base64url::decode(encoded)
            .ok_or(Oid4vpError::InvalidTransactionData { reason: "not canonical base64url without padding" })?;
        let value: Value = schooltas_did::strict_json::from_slice_or(&bytes, |_| {
            Oid4vpError::InvalidTransactionData { reason: "not JSON" }
        })?;
        let Value::Object(object) = &value else {
            return Err(Oid4vpError::InvalidTransactionData { reason: "not a JSON object" });
        };
        if !object.get("type").is_some_and(Value::is_string) {
            return Err(Oid4vpError::InvalidTransactionData { reason: "type is missing or not a string" });
        }
        let ids_are_strings =
            object.get("credential_ids").and_then(Value::as_array).is_some_and(|ids| ids.iter().all(Value::is_string));
        if !ids_are_strings {
            return Err(Oid4vpError::InvalidTransactionData {
                reason: "credential_ids is missing or not an array of strings",
            });
        }
        let data: TransactionData = serde::Deserialize::deserialize(&value)
            .map_err(|_| Oid4vpError::InvalidTransactionData { reason: "unexpected structure" })?;
        data.validate()?;
        Ok(data)
    }

    fn validate(&self) -> Result<(), Oid4vpError> {
        if self.type_.is_empty() {
            return Err(Oid4vpError::InvalidTransactionData { reason: "type is empty" });
        }
        if self.credential_ids.is_empty() {
            return Err(Oid4vpError::InvalidTransactionData { reason: "credential_ids is empty" });
        }
        if !self.credential_ids.iter().all(|id| is_valid_id(id)) {
            return Err(Oid4vpError::InvalidTransactionData { reason: "credential_ids holds an invalid id" });
        }
        if let Some(algs) = self.extra.get("transaction_data_hashes_alg") {
            let algs = algs.as_array().filter(|a| !a.is_empty()).ok_or(Oid4vpError::InvalidTransactionData {
                reason: "transaction_data_hashes_alg is not a non-empty array",
            })?;
            if !algs.iter().any(|a| a.as_str() == Some(DEFAULT_HASH_ALG)) {
                return Err(Oid4vpError::UnsupportedTransactionDataHashAlg);
            }
        }
        Ok(())
    }
}

/// The hash of one `transaction_data` string for `transaction_data_hashes`.
///
/// Appendix B.3.3.1: "Each of these hashes is calculated using a hash function over the string
/// received in the `transaction_data` request parameter (base64url decoding is not performed
/// before hashing)". So the input is the ASCII bytes of the encoded string exactly as sent, and
/// the output is base64url (no padding) of its SHA-256 digest.
pub fn transaction_data_hash(encoded: &str) -> String {
    base64url::encode(Sha256::digest(encoded.as_bytes()))
}

/// `transaction_data_hashes` for all the strings of a request's `transaction_data`, in order.
pub fn transaction_data_hashes(encoded: &[String]) -> Vec<String> {
    encoded.iter().map(|e| transaction_data_hash(e)).collect()
}
