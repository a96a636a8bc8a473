//! `application/x-www-form-urlencoded` (WHATWG URL standard §5): the encoding of OAuth token
//! requests, OpenID4VP `direct_post` bodies and offer / request URIs.

/// Encodes one component: ALPHA, DIGIT and `*-._` as is, space as `+`, every other byte as
/// `%XX` of its UTF-8.
pub(crate) fn encode_component(text: &str, out: &mut String) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            other => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(other >> 4)]));
                out.push(char::from(HEX[usize::from(other & 0xf)]));
            }
        }
    }
}

/// `name=value&name=value`.
pub(crate) fn encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (n, (name, value)) in pairs.iter().enumerate() {
        if n > 0 {
            out.push('&');
        }
        encode_component(name, &mut out);
        out.push('=');
        encode_component(value, &mut out);
    }
    out
}

/// Decodes one component strictly: `+` is a space, `%XX` needs two hex digits, and the
/// result must be UTF-8.
pub(crate) fn decode_component(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| char::from(b).to_digit(16);
                let (Some(high), Some(low)) =
                    (bytes.get(at + 1).copied().and_then(hex), bytes.get(at + 2).copied().and_then(hex))
                else {
                    return Err("an invalid %-escape");
                };
                out.push((high * 16 + low) as u8);
                at += 2;
            }
            other => out.push(other),
        }
        at += 1;
    }
    String::from_utf8(out).map_err(|_| "bytes that are not UTF-8")
}

/// Decodes `name=value&…`, refusing a repeated name.
pub(crate) fn decode(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in text.split('&').filter(|part| !part.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = decode_component(name).map_err(|e| format!("a parameter name has {e}"))?;
        let value = decode_component(value).map_err(|e| format!("parameter {name} has {e}"))?;
        if pairs.iter().any(|(seen, _)| *seen == name) {
            return Err(format!("parameter {name} appears more than once"));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_bad_input() {
        let text = encode(&[("a b", "ü&=+%"), ("json", r#"{"x":[1]}"#)]);
        assert_eq!(text, "a+b=%C3%BC%26%3D%2B%25&json=%7B%22x%22%3A%5B1%5D%7D");
        assert_eq!(
            decode(&text).unwrap(),
            [("a b".to_owned(), "ü&=+%".to_owned()), ("json".to_owned(), r#"{"x":[1]}"#.to_owned())]
        );
        assert!(decode("a=1&a=2").is_err());
        assert!(decode("a=%G1").is_err());
        assert!(decode("a=%C3").is_err());
        assert!(decode("a=%4").is_err());
    }
}
