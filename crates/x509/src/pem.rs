//! PEM armour for certificates (RFC 7468 §5): `-----BEGIN CERTIFICATE-----`, standard base64
//! in 64-character lines. Written here rather than with a PEM crate: one label, a few lines.

use base64::Engine as _;

use crate::X509Error;

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

/// `der` as a PEM `CERTIFICATE` block, newline-terminated.
pub(crate) fn encode_certificate(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 60);
    out.push_str(BEGIN);
    out.push('\n');
    for line in body.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// Every `CERTIFICATE` block of `pem`, DER (other blocks are skipped); none is an error.
pub(crate) fn decode_certificates(pem: &str) -> Result<Vec<Vec<u8>>, X509Error> {
    let mut certificates = Vec::new();
    let mut body: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        match &mut body {
            None if line == BEGIN => body = Some(String::new()),
            None => {}
            Some(text) if line == END => {
                let der =
                    base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).map_err(|_| X509Error::Pem)?;
                certificates.push(der);
                body = None;
            }
            Some(text) => text.push_str(line),
        }
    }
    if body.is_some() || certificates.is_empty() {
        return Err(X509Error::Pem);
    }
    Ok(certificates)
}
