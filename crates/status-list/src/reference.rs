//! The referenced token's side: `status.status_list {idx, uri}` (draft §6.2).

use std::fmt;

use serde_json::{Map, Value, json};

use crate::{Error, Result};

/// The URI of a status list token (`uri` in a referenced token, `sub` in the status list
/// token): an absolute URI (RFC 3986 §4.3) without whitespace, control characters or a fragment.
///
/// ```
/// use schooltas_status_list::StatusListUri;
/// assert!(StatusListUri::new("https://school.example/status/consent/3").is_ok());
/// assert!(StatusListUri::new("/status/3").is_err()); // relative
/// assert!(StatusListUri::new("https://school.example/a b").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusListUri(String);

impl StatusListUri {
    /// The longest URI accepted.
    pub const MAX_LEN: usize = 2048;

    /// Validates an absolute URI.
    pub fn new(uri: impl Into<String>) -> Result<Self> {
        let uri = uri.into();
        let refuse = |reason: &str| Error::InvalidStatusReference { reason: format!("uri {reason}") };
        if uri.len() > Self::MAX_LEN {
            return Err(refuse("is longer than 2048 bytes"));
        }
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Err(refuse("is not an absolute URI (no scheme)"));
        };
        let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(refuse("has no valid scheme"));
        }
        if rest.is_empty() {
            return Err(refuse("has nothing after the scheme"));
        }
        if uri.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(refuse("contains whitespace, control or non-ASCII characters"));
        }
        if uri.contains('#') {
            return Err(refuse("has a fragment"));
        }
        Ok(StatusListUri(uri))
    }

    /// The URI.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StatusListUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StatusListUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusListUri({})", self.0)
    }
}

/// Where a credential's status lives: entry `index` of the status list at `uri`.
///
/// ```
/// use schooltas_status_list::{StatusListUri, StatusReference};
/// use serde_json::json;
/// let reference = StatusReference::new(StatusListUri::new("https://school.example/status/1")?, 42);
/// let claim = reference.to_status_claim();
/// assert_eq!(claim, json!({"status_list": {"idx": 42, "uri": "https://school.example/status/1"}}));
/// assert_eq!(StatusReference::from_status_claim(&claim)?, Some(reference));
/// # Ok::<(), schooltas_status_list::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatusReference {
    uri: StatusListUri,
    index: u64,
}

impl StatusReference {
    /// Entry `index` of the list at `uri`.
    pub fn new(uri: StatusListUri, index: u64) -> Self {
        StatusReference { uri, index }
    }

    /// The status list token's URI.
    pub fn uri(&self) -> &StatusListUri {
        &self.uri
    }

    /// The entry's index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The value of the referenced token's `status` claim: `{"status_list": {"idx", "uri"}}`.
    pub fn to_status_claim(&self) -> Value {
        json!({ "status_list": { "idx": self.index, "uri": self.uri.as_str() } })
    }

    /// Reads the `status` claim (draft §6.2, §8.3 step 1). `Ok(None)` when the claim names
    /// another status mechanism only; an error when it is not an object or `status_list` is
    /// malformed (missing or non-integer `idx`, missing or invalid `uri`).
    pub fn from_status_claim(status: &Value) -> Result<Option<Self>> {
        let refuse = |reason: &str| Error::InvalidStatusReference { reason: reason.into() };
        let status = status.as_object().ok_or_else(|| refuse("the status claim is not a JSON object"))?;
        let Some(list) = status.get("status_list") else {
            return Ok(None);
        };
        let list: &Map<String, Value> = list.as_object().ok_or_else(|| refuse("status_list is not a JSON object"))?;
        let index = list.get("idx").ok_or_else(|| refuse("status_list.idx is missing"))?;
        let index = index.as_u64().ok_or_else(|| refuse("status_list.idx is not a non-negative integer"))?;
        let uri = list.get("uri").ok_or_else(|| refuse("status_list.uri is missing"))?;
        let uri = uri.as_str().ok_or_else(|| refuse("status_list.uri is not a string"))?;
        Ok(Some(StatusReference { uri: StatusListUri::new(uri)?, index }))
    }
}
