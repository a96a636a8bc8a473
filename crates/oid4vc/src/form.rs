//! `application/x-www-form-urlencoded` (WHATWG URL Standard §5), strict on input.
//!
//! Encoding follows the standard exactly: ASCII alphanumerics and `*-._` stay, a space becomes
//! `+`, every other byte of the UTF-8 text becomes `%XX`. Decoding follows it too, except where
//! the standard is lenient and this module refuses: a `%` not followed by two hex digits,
//! percent-decoded bytes that are not UTF-8, and a parameter name given twice (an attacker's
//! second `client_id` or `vp_token` must not silently win or lose). Empty sequences between
//! `&` are skipped, as the standard says. Error messages never quote a value.

use crate::oid4vp::Oid4vpError;

/// The form encoding of `pairs`, in order.
///
/// ```
/// use schooltas_oid4vc::form;
/// assert_eq!(form::encode(&[("a b", "x&y=z"), ("ü", "*-._~")]), "a+b=x%26y%3Dz&%C3%BC=*-._%7E");
/// ```
pub fn encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(name, &mut out);
        out.push('=');
        encode_into(value, &mut out);
    }
    out
}

/// Appends the form encoding of one name or value to `out`.
pub fn encode_into(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0x0f)]));
            }
        }
    }
}

/// The most parameters [`decode`] accepts.
pub const MAX_PARAMETERS: usize = 64;

/// Decodes a form body or query string into its name/value pairs, in order.
pub fn decode(input: &str) -> Result<Vec<(String, String)>, Oid4vpError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for sequence in input.split('&').filter(|s| !s.is_empty()) {
        // A bound keeps the duplicate check below cheap on hostile input.
        if pairs.len() == MAX_PARAMETERS {
            return Err(Oid4vpError::TooLarge {
                what: "number of form parameters",
                len: pairs.len() + 1,
                limit: MAX_PARAMETERS,
            });
        }
        let (name, value) = sequence.split_once('=').unwrap_or((sequence, ""));
        let name = decode_component(name)?;
        let value = decode_component(value)?;
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(Oid4vpError::DuplicateParameter { name: crate::oid4vp::dcql::truncate(&name) });
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// Decodes one name or value: `+` is a space, `%XX` a byte, and the result must be UTF-8.
pub fn decode_component(text: &str) -> Result<String, Oid4vpError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    // Copy the runs between escapes whole; only `+` and `%XX` are looked at byte by byte.
    while let Some(at) = rest.iter().position(|&b| b == b'+' || b == b'%') {
        out.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            out.push(b' ');
            rest = &rest[at + 1..];
            continue;
        }
        let hex = |i: usize| rest.get(at + i).and_then(|b| char::from(*b).to_digit(16));
        let (Some(high), Some(low)) = (hex(1), hex(2)) else {
            return Err(Oid4vpError::InvalidFormEncoding { reason: "'%' is not followed by two hex digits" });
        };
        // Two hex digits make at most 0xff.
        out.push(u8::try_from(high * 16 + low).unwrap_or(u8::MAX));
        rest = &rest[at + 3..];
    }
    out.extend_from_slice(rest);
    String::from_utf8(out).map_err(|_| Oid4vpError::InvalidFormEncoding { reason: "the decoded bytes are not UTF-8" })
}

/// The value of parameter `name` in decoded `pairs`.
pub(crate) fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_decode_plus_and_escapes_anywhere_and_refuse_broken_ones() {
        let cases = [
            ("", ""),
            ("plain", "plain"),
            ("a+b", "a b"),
            ("+", " "),
            ("%41", "A"),
            ("%7B%22vp%22%3A1%7D", "{\"vp\":1}"),
            ("x%2By+z%25", "x+y z%"),
            ("caf%C3%A9", "café"),
            ("%e2%82%ac", "€"),
        ];
        for (encoded, decoded) in cases {
            assert_eq!(decode_component(encoded).unwrap(), decoded, "{encoded}");
        }
        for broken in ["%", "%4", "a%4", "%G1", "%1G", "ab%"] {
            assert!(
                matches!(decode_component(broken), Err(Oid4vpError::InvalidFormEncoding { reason }) if reason.contains("two hex")),
                "{broken}"
            );
        }
        assert!(matches!(
            decode_component("%C3"),
            Err(Oid4vpError::InvalidFormEncoding { reason }) if reason.contains("UTF-8")
        ));
    }
}
