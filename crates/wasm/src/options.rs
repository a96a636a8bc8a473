//! Reading the options objects JavaScript passes (as JSON): each option by name, with a refusal
//! that names the option and never repeats its value (an option may be a key or a nonce).

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::{Error, Result};

/// An options object, read one named member at a time.
pub(crate) struct Options<'a> {
    members: &'a Map<String, Value>,
}

impl<'a> Options<'a> {
    pub(crate) fn new(value: &'a Value) -> Result<Self> {
        match value {
            Value::Object(members) => Ok(Options { members }),
            _ => Err(Error::InvalidOption { name: "options", reason: "must be an object" }),
        }
    }

    /// The member, `None` when absent or `null`/`undefined`.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.members.get(name).filter(|value| !value.is_null())
    }

    pub(crate) fn string(&self, name: &'static str) -> Result<String> {
        match self.get(name) {
            Some(Value::String(text)) => Ok(text.clone()),
            None => Err(Error::InvalidOption { name, reason: "is required" }),
            Some(_) => Err(Error::InvalidOption { name, reason: "must be a string" }),
        }
    }

    pub(crate) fn integer(&self, name: &'static str) -> Result<i64> {
        self.optional_integer(name)?.ok_or(Error::InvalidOption { name, reason: "is required" })
    }

    pub(crate) fn optional_integer(&self, name: &'static str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => value.as_i64().map(Some).ok_or(Error::InvalidOption {
                name,
                reason: "must be an integer number of seconds (Unix time for `now`)",
            }),
        }
    }

    pub(crate) fn list(&self, name: &'static str) -> Result<&'a [Value]> {
        match self.get(name) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(Error::InvalidOption { name, reason: "must be an array" }),
        }
    }

    pub(crate) fn string_list(&self, name: &'static str) -> Result<Vec<&'a str>> {
        self.list(name)?
            .iter()
            .map(|item| item.as_str().ok_or(Error::InvalidOption { name, reason: "must be an array of strings" }))
            .collect()
    }

    pub(crate) fn object_list(&self, name: &'static str) -> Result<Vec<Value>> {
        self.list(name)?
            .iter()
            .map(|item| match item {
                Value::Object(_) => Ok(item.clone()),
                _ => Err(Error::InvalidOption { name, reason: "must be an array of JWK objects" }),
            })
            .collect()
    }
}

/// A list of DER certificates given as standard base64 (as `x5c` entries are).
pub(crate) fn base64_der_list(options: &Options<'_>, name: &'static str) -> Result<Vec<Vec<u8>>> {
    options
        .string_list(name)?
        .into_iter()
        .map(|entry| {
            base64::engine::general_purpose::STANDARD.decode(entry).map_err(|_| Error::InvalidOption {
                name,
                reason: "every entry must be standard base64 of a DER certificate",
            })
        })
        .collect()
}
