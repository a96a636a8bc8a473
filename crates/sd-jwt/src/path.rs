//! Claims paths (OpenID4VP §7 / DCQL): `["address", "locality"]`, `["nationalities", 1]`,
//! `["degrees", null, "type"]` (null: every element of an array).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// One step of a claims path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// An object member by name.
    Key(String),
    /// An array element by position.
    Index(usize),
    /// Every element of an array (`null` in JSON).
    AllElements,
}

/// A non-empty claims path.
///
/// ```
/// use schooltas_sd_jwt::ClaimPath;
/// let path = ClaimPath::parse_dotted("address.locality")?;
/// assert_eq!(path.to_json().to_string(), r#"["address","locality"]"#);
/// let path = ClaimPath::parse_dotted("nationalities.1")?;
/// assert_eq!(path.to_json().to_string(), r#"["nationalities",1]"#);
/// # Ok::<(), schooltas_sd_jwt::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimPath(Vec<PathElement>);

impl ClaimPath {
    /// A path from its elements; refuses an empty path.
    pub fn new(elements: Vec<PathElement>) -> Result<Self> {
        if elements.is_empty() {
            return Err(Error::InvalidClaimPath { path: "[]".into(), reason: "a claims path is never empty" });
        }
        Ok(ClaimPath(elements))
    }

    /// A one-element path naming a top-level claim.
    pub fn claim(name: impl Into<String>) -> Self {
        ClaimPath(vec![PathElement::Key(name.into())])
    }

    /// Parses the JSON form: a non-empty array of strings, non-negative integers and nulls.
    pub fn from_json(value: &Value) -> Result<Self> {
        let invalid = |reason| Error::InvalidClaimPath { path: truncate(value.to_string()), reason };
        let items = value.as_array().ok_or_else(|| invalid("a claims path is a JSON array"))?;
        let elements = items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(PathElement::Key(s.clone())),
                Value::Null => Ok(PathElement::AllElements),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(PathElement::Index)
                    .ok_or_else(|| invalid("array indices are non-negative integers")),
                _ => Err(invalid("path elements are strings, non-negative integers or null")),
            })
            .collect::<Result<Vec<_>>>()?;
        ClaimPath::new(elements).map_err(|_| invalid("a claims path is never empty"))
    }

    /// Parses the dotted form the CLI uses: `address.locality`, `nationalities.1`,
    /// `degrees.*.type` (`*` for every element). A segment of digits is an array index.
    pub fn parse_dotted(text: &str) -> Result<Self> {
        let elements = text
            .split('.')
            .map(|segment| {
                if segment.is_empty() {
                    Err(Error::InvalidClaimPath { path: truncate(text.to_owned()), reason: "empty segment" })
                } else if segment == "*" {
                    Ok(PathElement::AllElements)
                } else if segment.bytes().all(|b| b.is_ascii_digit()) {
                    segment.parse().map(PathElement::Index).map_err(|_| Error::InvalidClaimPath {
                        path: truncate(text.to_owned()),
                        reason: "index too large",
                    })
                } else {
                    Ok(PathElement::Key(segment.to_owned()))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        ClaimPath::new(elements)
    }

    /// The elements.
    pub fn elements(&self) -> &[PathElement] {
        &self.0
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|e| match e {
                    PathElement::Key(k) => Value::String(k.clone()),
                    PathElement::Index(i) => Value::from(*i),
                    PathElement::AllElements => Value::Null,
                })
                .collect(),
        )
    }

    /// Whether `self` is `other` or lies inside it (`["a","b"]` is within `["a"]`).
    pub fn starts_with(&self, other: &ClaimPath) -> bool {
        other.0.len() <= self.0.len()
            && other
                .0
                .iter()
                .zip(&self.0)
                .all(|(o, s)| o == s || (*o == PathElement::AllElements && matches!(s, PathElement::Index(_))))
    }
}

fn truncate(mut s: String) -> String {
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl fmt::Debug for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimPath({})", self.to_json())
    }
}

impl Serialize for ClaimPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ClaimPath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        ClaimPath::from_json(&value).map_err(serde::de::Error::custom)
    }
}
