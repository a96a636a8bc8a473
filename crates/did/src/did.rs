//! DIDs and DID URLs as validated newtypes (W3C DID Core §3.1, §3.2).

use std::fmt;
use std::str::FromStr;

use crate::algorithm::truncate_for_message;
use crate::error::{Error, Result};

/// The longest DID or DID URL accepted, in bytes. Generous for did:jwk (a P-256 key is about
/// 180 bytes) while keeping hostile input bounded.
pub const MAX_DID_LEN: usize = 4096;

/// A syntactically valid DID: `did:<method>:<method-specific-id>` (DID Core §3.1).
///
/// ```
/// use schooltas_did::Did;
/// let did: Did = "did:web:school.example:schools:12AB00".parse()?;
/// assert_eq!(did.method(), "web");
/// assert_eq!(did.method_specific_id(), "school.example:schools:12AB00");
/// assert!(matches!("did:web:".parse::<Did>(), Err(schooltas_did::Error::InvalidDid { .. })));
/// # Ok::<(), schooltas_did::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Did {
    text: String,
    method_end: usize,
}

fn invalid(input: &str, reason: &'static str) -> Error {
    Error::InvalidDid { did: truncate_for_message(input), reason }
}

fn is_pct_encoded(bytes: &[u8], i: usize) -> bool {
    bytes.len() > i + 2 && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit()
}

impl Did {
    /// Parses and validates a DID (no path, query or fragment).
    pub fn parse(input: &str) -> Result<Self> {
        if input.len() > MAX_DID_LEN {
            return Err(invalid(input, "longer than 4096 bytes"));
        }
        let rest = input.strip_prefix("did:").ok_or_else(|| invalid(input, "must start with \"did:\""))?;
        let colon = rest.find(':').ok_or_else(|| invalid(input, "missing ':' after the method name"))?;
        let method = &rest[..colon];
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return Err(invalid(input, "the method name must be lowercase letters and digits"));
        }
        let id = &rest[colon + 1..];
        if id.is_empty() || id.ends_with(':') {
            return Err(invalid(input, "the method-specific id must not be empty or end with ':'"));
        }
        let bytes = id.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b':' => i += 1,
                b'%' if is_pct_encoded(bytes, i) => i += 3,
                _ => {
                    return Err(invalid(
                        input,
                        "the method-specific id has a character outside ALPHA / DIGIT / . - _ : %XX",
                    ));
                }
            }
        }
        Ok(Did { text: input.to_owned(), method_end: 4 + colon })
    }

    /// Builds a DID from parts this crate produced itself (a multibase or base64url key), whose
    /// characters are all valid method-specific-id characters.
    pub(crate) fn from_generated(method: &'static str, id: &str) -> Self {
        let text = format!("did:{method}:{id}");
        debug_assert!(Did::parse(&text).is_ok(), "generated DID must be valid: {text}");
        Did { text, method_end: 4 + method.len() }
    }

    /// The method name (`key`, `jwk`, `web`, …).
    pub fn method(&self) -> &str {
        &self.text[4..self.method_end]
    }

    /// Everything after `did:<method>:`.
    pub fn method_specific_id(&self) -> &str {
        &self.text[self.method_end + 1..]
    }

    /// The DID as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A DID URL naming a fragment of this DID's document (`did:…#fragment`).
    pub fn with_fragment(&self, fragment: &str) -> Result<DidUrl> {
        DidUrl::parse(&format!("{}#{}", self.text, fragment))
    }
}

impl FromStr for Did {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Did::parse(s)
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Did({})", self.text)
    }
}

impl serde::Serialize for Did {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Did {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Did::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A DID URL: a DID with an optional path, query and fragment (DID Core §3.2).
///
/// ```
/// use schooltas_did::DidUrl;
/// let url: DidUrl = "did:web:school.example#key-1".parse()?;
/// assert_eq!(url.did().as_str(), "did:web:school.example");
/// assert_eq!(url.fragment(), Some("key-1"));
/// # Ok::<(), schooltas_did::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DidUrl {
    did: Did,
    text: String,
    path_query: Option<(usize, usize)>,
    fragment_start: Option<usize>,
}

impl DidUrl {
    /// Parses and validates a DID URL.
    pub fn parse(input: &str) -> Result<Self> {
        if input.len() > MAX_DID_LEN {
            return Err(invalid(input, "longer than 4096 bytes"));
        }
        let did_end = input.find(['/', '?', '#']).unwrap_or(input.len());
        let did = Did::parse(&input[..did_end])?;
        let fragment_start = input.find('#').map(|i| i + 1);
        let pq_end = fragment_start.map_or(input.len(), |f| f - 1);
        for (i, b) in input.bytes().enumerate().skip(did_end) {
            // RFC 3986 pchar / "/" / "?" (and "#" only as the fragment separator)
            let ok = b.is_ascii_alphanumeric()
                || b"-._~!$&'()*+,;=:@/?".contains(&b)
                || (b == b'%' && is_pct_encoded(input.as_bytes(), i))
                || (b == b'#' && Some(i + 1) == fragment_start);
            if !ok {
                return Err(invalid(input, "the path, query or fragment has a character not allowed in a URL"));
            }
        }
        if let Some(f) = fragment_start {
            if input[f..].contains('#') {
                return Err(invalid(input, "more than one '#'"));
            }
            if f == input.len() {
                return Err(invalid(input, "empty fragment"));
            }
        }
        let path_query = (did_end < pq_end).then_some((did_end, pq_end));
        Ok(DidUrl { did, text: input.to_owned(), path_query, fragment_start })
    }

    /// The DID part.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The fragment, without `#`.
    pub fn fragment(&self) -> Option<&str> {
        self.fragment_start.map(|f| &self.text[f..])
    }

    /// The path and query, if any (for example `/path?service=files`).
    pub fn path_and_query(&self) -> Option<&str> {
        self.path_query.map(|(s, e)| &self.text[s..e])
    }

    /// The DID URL as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<Did> for DidUrl {
    fn from(did: Did) -> Self {
        DidUrl { text: did.text.clone(), did, path_query: None, fragment_start: None }
    }
}

impl FromStr for DidUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DidUrl::parse(s)
    }
}

impl fmt::Display for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DidUrl({})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_dids() {
        for ok in [
            "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
            "did:web:example.com",
            "did:web:example.com%3A8443:user:alice",
            "did:example:123:456",
        ] {
            Did::parse(ok).unwrap();
        }
    }

    #[test]
    fn refuses_invalid_dids_with_reasons() {
        for bad in [
            "",
            "did:",
            "did:web",
            "did:web:",
            "did:Web:example.com",
            "did:web:exa mple.com",
            "did:web:example.com:",
            "did:web:%zz",
            "urn:web:example.com",
            "did:web:example.com#frag",
        ] {
            assert!(matches!(Did::parse(bad), Err(Error::InvalidDid { .. })), "{bad}");
        }
        assert!(matches!(
            Did::parse(&format!("did:web:{}", "a".repeat(5000))),
            Err(Error::InvalidDid { reason, .. }) if reason == "longer than 4096 bytes"
        ));
    }

    #[test]
    fn parses_did_urls() {
        let url = DidUrl::parse("did:web:example.com/path?x=1#key-1").unwrap();
        assert_eq!(url.did().as_str(), "did:web:example.com");
        assert_eq!(url.path_and_query(), Some("/path?x=1"));
        assert_eq!(url.fragment(), Some("key-1"));
        let bare = DidUrl::parse("did:web:example.com").unwrap();
        assert_eq!(bare.fragment(), None);
        assert_eq!(bare.path_and_query(), None);
        const NOT_IN_A_URL: &str = "the path, query or fragment has a character not allowed in a URL";
        for (bad, expected) in [
            ("did:web:example.com#", "empty fragment"),
            // The second '#' is not the fragment separator, so the character check refuses it.
            ("did:web:example.com#a#b", NOT_IN_A_URL),
            ("did:web:example.com#a b", NOT_IN_A_URL),
        ] {
            assert!(matches!(DidUrl::parse(bad), Err(Error::InvalidDid { reason, .. }) if reason == expected), "{bad}");
        }
    }
}
