//! The one JSON parser for everything that arrives from outside: strict where `serde_json` is
//! lenient.
//!
//! `serde_json` takes the *last* value of a member named twice and reads an integer literal
//! beyond 64 bits (`18446744073709551616`) as a rounded `f64`. Two parsers can then read one
//! signed credential differently (RFC 8259 §4 leaves duplicate names to the implementation;
//! RFC 7515 §5.2 and RFC 9901 §7 let a verifier refuse them, and I-JSON, RFC 7493 §2.3, forbids
//! them). Every JWS header and payload, KB-JWT, disclosure, request object, trust list,
//! status-list token, DID document, guardian approval, withdrawal and OpenID4VCI/VP message is
//! therefore read through this module, which refuses:
//!
//! - a member name that appears twice in one object, at any depth, compared after unescaping
//!   (`{"a":1,"\u0061":2}` is a duplicate) — [`Error::DuplicateMember`];
//! - an integer literal (no fraction, no exponent) outside `i64`/`u64`, instead of rounding it
//!   to floating point — [`Error::IntegerOutOfRange`] (RFC 7493 §2.2 asks for exactly
//!   representable numbers; a number with a fraction or exponent is a float and stays one);
//! - nesting deeper than [`MAX_DEPTH`] — [`Error::TooDeep`], before any value is built;
//! - anything that is not JSON, or not the JSON the caller's type expects — [`Error::Invalid`],
//!   whose message gives only a line and column, never the offending value.
//!
//! serde_json's `arbitrary_precision` feature is deliberately not used: Cargo unifies features
//! across a user's whole build, so it would change how *their* code reads numbers.
//!
//! ```
//! use schooltas_did::strict_json::{self, Error};
//! let value: serde_json::Value = strict_json::from_str(r#"{"a":[1,2.5,{"b":null}]}"#)?;
//! assert_eq!(value["a"][0], 1);
//! assert!(matches!(strict_json::to_value(br#"{"a":1,"a":2}"#), Err(Error::DuplicateMember { .. })));
//! assert!(matches!(strict_json::to_value(b"18446744073709551616"), Err(Error::IntegerOutOfRange)));
//! # Ok::<(), Error>(())
//! ```

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The deepest nesting of arrays and objects accepted. No message this library reads needs
/// more than a dozen levels; 64 leaves room for nested selectively disclosable claims while
/// keeping recursion (here and in every visitor after) shallow.
pub const MAX_DEPTH: usize = 64;

/// The longest member name quoted in [`Error::DuplicateMember`]. Member names are not claim
/// values, but they are outside input, so a message quotes only the start of one.
const MAX_NAME_IN_MESSAGE: usize = 32;

/// Why strict parsing refused a JSON text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An object has two members with the same name (after unescaping). Which one counts
    /// would depend on the parser, so neither does.
    #[error(
        "the JSON has the member name {name:?} twice in one object; duplicate names are refused so that every \
         parser reads the same document"
    )]
    DuplicateMember {
        /// The repeated name (its first 32 characters).
        name: String,
    },
    /// An integer literal is outside the 64-bit range (below `i64::MIN` or above `u64::MAX`),
    /// so it cannot be read exactly.
    #[error(
        "the JSON has an integer beyond the 64-bit range; it is refused rather than rounded to a floating-point \
         number"
    )]
    IntegerOutOfRange,
    /// Arrays and objects nest deeper than the limit.
    #[error("the JSON nests arrays and objects deeper than {limit} levels")]
    TooDeep {
        /// The limit, [`MAX_DEPTH`].
        limit: usize,
    },
    /// Not JSON, or not the JSON the caller expected (a missing member, a wrong type). The
    /// message gives the position only; the underlying error is the [`source`](std::error::Error::source).
    #[error("not valid JSON of the expected shape (at line {line}, column {column})", line = .0.line(), column = .0.column())]
    Invalid(#[source] serde_json::Error),
}

impl Error {
    /// Whether this is a strictness refusal (duplicate, out-of-range integer, depth) rather
    /// than JSON that is merely malformed or of another shape.
    pub fn is_strictness(&self) -> bool {
        !matches!(self, Error::Invalid(_))
    }
}

/// Parses `bytes` strictly into `T`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let value = to_value(bytes)?;
    T::deserialize(value).map_err(Error::Invalid)
}

/// Parses `text` strictly into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    from_slice(text.as_bytes())
}

/// Parses `bytes` strictly into a [`Value`].
pub fn to_value(bytes: &[u8]) -> Result<Value, Error> {
    prescan(bytes)?;
    let StrictValue(value) = serde_json::from_slice(bytes).map_err(|error| {
        // The visitor reports a duplicate through serde's custom error; give it back its type.
        match take_duplicate(&error) {
            Some(name) => Error::DuplicateMember { name },
            None => Error::Invalid(error),
        }
    })?;
    Ok(value)
}

/// Parses `bytes` strictly into `T`; a strictness refusal becomes `E` through `From`, while
/// JSON that is malformed or of another shape goes to `otherwise`, so a call site keeps its own
/// error for that.
pub fn from_slice_or<T: DeserializeOwned, E: From<Error>>(
    bytes: &[u8],
    otherwise: impl FnOnce(serde_json::Error) -> E,
) -> Result<T, E> {
    match from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(Error::Invalid(error)) => Err(otherwise(error)),
        Err(refusal) => Err(E::from(refusal)),
    }
}

/// [`from_slice_or`] for text.
pub fn from_str_or<T: DeserializeOwned, E: From<Error>>(
    text: &str,
    otherwise: impl FnOnce(serde_json::Error) -> E,
) -> Result<T, E> {
    from_slice_or(text.as_bytes(), otherwise)
}

// ---- the lexical pre-pass -----------------------------------------------------------------------

/// One pass over the bytes, before serde sees them: nesting depth and integer literals. It
/// does not validate the grammar (serde_json does that next); it only has to know what is
/// inside a string, so that brackets and digits there are not counted.
fn prescan(bytes: &[u8]) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' => i = skip_string(bytes, i.saturating_add(1)),
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                if depth > MAX_DEPTH {
                    return Err(Error::TooDeep { limit: MAX_DEPTH });
                }
                i = i.saturating_add(1);
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i = i.saturating_add(1);
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while bytes.get(i).is_some_and(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
                    i = i.saturating_add(1);
                }
                check_number(bytes.get(start..i).unwrap_or_default())?;
            }
            _ => i = i.saturating_add(1),
        }
    }
    Ok(())
}

/// The index just past the closing quote of the string whose content starts at `i` (or the
/// end of input for an unterminated string, which serde_json then refuses).
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    // memchr2 finds the next quote or backslash a vector at a time: most of a credential's
    // bytes are inside strings (digests, salts, values).
    while let Some(at) = bytes.get(i..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) {
        let at = i.saturating_add(at);
        match bytes.get(at) {
            Some(b'"') => return at.saturating_add(1),
            _ => i = at.saturating_add(2),
        }
    }
    bytes.len()
}

/// Refuses an integer literal outside `i64`/`u64`. Floats (a `.` or an exponent) and tokens
/// that are not numbers at all are left to serde_json.
fn check_number(token: &[u8]) -> Result<(), Error> {
    let digits = token.strip_prefix(b"-").unwrap_or(token);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(());
    }
    // All ASCII digits (and a sign), so this is valid UTF-8.
    let Ok(text) = std::str::from_utf8(token) else { return Ok(()) };
    let fits = if token.first() == Some(&b'-') { text.parse::<i64>().is_ok() } else { text.parse::<u64>().is_ok() };
    if fits { Ok(()) } else { Err(Error::IntegerOutOfRange) }
}

// ---- the value visitor: duplicates at any depth -------------------------------------------------

/// The prefix of the custom serde error that carries a duplicate name out of the visitor.
const DUPLICATE_MARKER: &str = "schooltas-strict-json duplicate member: ";

fn take_duplicate(error: &serde_json::Error) -> Option<String> {
    if !error.is_data() {
        return None;
    }
    let text = error.to_string();
    let rest = text.strip_prefix(DUPLICATE_MARKER)?;
    // serde_json appends " at line L column C"; the name was written in {:?} form first.
    let end = rest.rfind(" at line ").unwrap_or(rest.len());
    Some(rest.get(..end).unwrap_or_default().to_owned())
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON without duplicate member names")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<StrictValue, E> {
        // serde_json refuses non-finite numbers itself; Value::from keeps a finite f64.
        Ok(StrictValue(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(StrictValue(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictValue, A::Error> {
        let mut members = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            // One search per member: the entry is either new or a duplicate.
            match members.entry(name) {
                serde_json::map::Entry::Occupied(taken) => {
                    let shown: String = taken.key().chars().take(MAX_NAME_IN_MESSAGE).collect();
                    return Err(de::Error::custom(format_args!("{DUPLICATE_MARKER}{shown}")));
                }
                serde_json::map::Entry::Vacant(slot) => {
                    let StrictValue(value) = access.next_value()?;
                    slot.insert(value);
                }
            }
        }
        Ok(StrictValue(Value::Object(members)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn accepts_ordinary_json_and_keeps_its_numbers() {
        let value = to_value(br#"{"a":[1,-2,2.5,1e3,-0,0.0],"b":{"c":"x\"[{"},"d":true,"e":null}"#).unwrap();
        assert_eq!(value["a"][0], 1);
        assert_eq!(value["a"][1], -2);
        assert_eq!(value["a"][2], 2.5);
        assert_eq!(value["a"][3], 1000.0);
        assert_eq!(value["b"]["c"], "x\"[{");
        // The extremes of both 64-bit ranges are exact.
        let value = to_value(b"[18446744073709551615,-9223372036854775808,9223372036854775807]").unwrap();
        assert_eq!(value[0].as_u64(), Some(u64::MAX));
        assert_eq!(value[1].as_i64(), Some(i64::MIN));
        assert_eq!(value[2].as_i64(), Some(i64::MAX));
    }

    #[test]
    fn refuses_a_duplicate_member_at_any_depth() {
        for json in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"x":{"b":{"a":1,"a":1}}}"#,
            r#"[0,[{"k":[],"k":{}}]]"#,
            r#"{"_sd":[],"_sd":["abc"]}"#,
        ] {
            let err = to_value(json.as_bytes()).unwrap_err();
            assert!(matches!(err, Error::DuplicateMember { .. }), "{json}: {err}");
            assert!(err.is_strictness());
        }
        let Error::DuplicateMember { name } = to_value(br#"{"iss":"a","iss":"b"}"#).unwrap_err() else { panic!() };
        assert_eq!(name, "iss");
        // A long name is cut in the error.
        let long = "n".repeat(500);
        let Error::DuplicateMember { name } = to_value(format!(r#"{{"{long}":1,"{long}":2}}"#).as_bytes()).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(name.len(), MAX_NAME_IN_MESSAGE);
    }

    #[test]
    fn refuses_an_integer_beyond_64_bits() {
        for json in [
            "18446744073709551616",
            "-9223372036854775809",
            r#"{"exp":18446744073709551616}"#,
            r#"[1,[99999999999999999999999999999]]"#,
        ] {
            let err = to_value(json.as_bytes()).unwrap_err();
            assert!(matches!(err, Error::IntegerOutOfRange), "{json}: {err}");
        }
        // Typed targets see the same refusal, not a rounded f64.
        let err = from_str::<Map<String, Value>>(r#"{"iat":18446744073709551616}"#).unwrap_err();
        assert!(matches!(err, Error::IntegerOutOfRange), "{err}");
        // Digits inside strings are text, and floats stay floats.
        assert!(to_value(br#"{"n":"18446744073709551616","f":1.8446744073709551616e19}"#).is_ok());
    }

    #[test]
    fn refuses_deep_nesting_before_building_anything() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(to_value(deep.as_bytes()), Err(Error::TooDeep { limit: MAX_DEPTH })));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(to_value(ok.as_bytes()).is_ok());
        // Brackets inside strings do not count; an escaped quote does not end a string.
        let text = format!(r#"["{}\"{}"]"#, "[".repeat(1000), "{".repeat(1000));
        assert!(to_value(text.as_bytes()).is_ok());
        // Unbalanced closers cannot underflow.
        assert!(matches!(to_value(b"]]]]"), Err(Error::Invalid(_))));
    }

    #[test]
    fn malformed_json_is_invalid_without_echoing_values() {
        for json in ["", "{", "{\"a\":}", "[1,]", "\"abc", "01", "-", "1.", "nul", "{\"a\":1}x", "\"\\"] {
            let err = to_value(json.as_bytes()).unwrap_err();
            assert!(matches!(err, Error::Invalid(_)), "{json:?}: {err}");
            assert!(!err.is_strictness());
        }
        // A type mismatch names the position only, not the (possibly personal) value.
        let err = from_str::<Vec<u64>>(r#"["Jantje de Vries"]"#).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)));
        assert!(!err.to_string().contains("Jantje"), "{err}");
    }

    #[test]
    fn from_slice_or_keeps_the_call_sites_error_for_malformed_json() {
        #[derive(Debug)]
        enum Mine {
            Strict(Error),
            Malformed,
        }
        impl From<Error> for Mine {
            fn from(e: Error) -> Self {
                Mine::Strict(e)
            }
        }
        let malformed = from_slice_or::<Value, Mine>(b"{", |_| Mine::Malformed).unwrap_err();
        assert!(matches!(malformed, Mine::Malformed));
        let dup = from_slice_or::<Value, Mine>(br#"{"a":1,"a":1}"#, |_| Mine::Malformed).unwrap_err();
        assert!(matches!(dup, Mine::Strict(Error::DuplicateMember { .. })));
    }

    #[test]
    fn never_panics_on_truncations_of_a_document() {
        let doc = br#"{"a":[1,{"b":"c\"d\\"},-18446744073709551616],"e":{"f":1e5}}"#;
        for end in 0..=doc.len() {
            let _ = to_value(&doc[..end]);
        }
    }
}
