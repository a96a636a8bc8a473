//! What a credential's certificate chain says about its issuer's authorities: the
//! `KeyIdentifier`s of the `AuthorityKeyIdentifier` extensions (RFC 5280 §4.2.1.1) of the
//! certificates in the issuer-signed JWT's `x5c` header, which DCQL `aki` trusted authorities
//! (OpenID4VP 1.0 §6.1.1.1) are compared with.
//!
//! Read once when a credential is stored and kept in its index record (base64url), so matching
//! a request reads no certificate. A credential signed with a DID key has no chain and no
//! identifiers: it matches no `aki`. A chain that does not parse contributes nothing either —
//! the credential then matches no `aki` rather than being refused: the chain is checked (or
//! not) by whoever trusts it, and this is only a filter.

use schooltas_did::base64url;
use serde_json::Value;
use x509_cert::Certificate;
use x509_cert::der::Decode as _;
use x509_cert::ext::pkix::AuthorityKeyIdentifier;

/// `id-ce-authorityKeyIdentifier` (RFC 5280 §4.2.1.1).
const AUTHORITY_KEY_IDENTIFIER: &str = "2.5.29.35";

/// The most certificates of a chain read (a chain is leaf, intermediates, rarely more).
const MAX_CHAIN: usize = 8;

/// The authority key identifiers of the chain in `sd_jwt`'s issuer-signed JWT header (`x5c`:
/// standard base64 DER certificates, RFC 7515 §4.1.6), as base64url; empty without one.
pub(crate) fn authority_key_ids(sd_jwt: &str) -> Vec<String> {
    let Some(header) = sd_jwt.split('.').next().and_then(base64url::decode) else { return Vec::new() };
    let Ok(header) = serde_json::from_slice::<Value>(&header) else { return Vec::new() };
    let Some(chain) = header.get("x5c").and_then(Value::as_array) else { return Vec::new() };
    let mut ids = Vec::new();
    for certificate in chain.iter().take(MAX_CHAIN) {
        let Some(der) = certificate.as_str().and_then(standard_base64) else { continue };
        if let Some(id) = authority_key_id(&der) {
            let id = base64url::encode(id);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The index record's identifiers back as bytes, for the matcher.
pub(crate) fn decoded(ids: &[String]) -> Vec<Vec<u8>> {
    ids.iter().filter_map(base64url::decode).collect()
}

fn authority_key_id(der: &[u8]) -> Option<Vec<u8>> {
    let certificate = Certificate::from_der(der).ok()?;
    let extension = certificate
        .tbs_certificate()
        .extensions()?
        .iter()
        .find(|extension| extension.extn_id.to_string() == AUTHORITY_KEY_IDENTIFIER)?;
    let aki = AuthorityKeyIdentifier::from_der(extension.extn_value.as_bytes()).ok()?;
    Some(aki.key_identifier?.as_bytes().to_vec())
}

/// RFC 4648 §4 base64 with padding (what `x5c` holds), by way of the base64url decoder.
fn standard_base64(text: &str) -> Option<Vec<u8>> {
    let url: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    base64url::decode(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server tests' CA-signed `localhost` certificate: its AuthorityKeyIdentifier names
    /// the CA's key (`openssl x509 -ext authorityKeyIdentifier`: 46:49:AE:…:3A:AF).
    const LOCALHOST_CHAIN: &str = include_str!("../../server/tests/tls/localhost-chain.pem");
    const CA_KEY_ID: [u8; 20] = [
        0x46, 0x49, 0xAE, 0x3A, 0x15, 0x7B, 0x05, 0x13, 0xC5, 0xBD, 0x0B, 0x37, 0x26, 0x09, 0xF8, 0xF5, 0x54, 0x65,
        0x3A, 0xAF,
    ];

    fn pem_bodies(pem: &str) -> Vec<String> {
        pem.split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .filter_map(|block| block.split("-----END CERTIFICATE-----").next())
            .map(|body| body.split_whitespace().collect())
            .collect()
    }

    #[test]
    fn the_authority_key_identifiers_of_an_x5c_chain_are_read() {
        let x5c = pem_bodies(LOCALHOST_CHAIN);
        assert_eq!(x5c.len(), 2, "leaf and CA");
        let header = serde_json::json!({"alg": "ES256", "typ": "dc+sd-jwt", "x5c": x5c});
        let jwt = format!("{}.e30.c2ln~", base64url::encode(header.to_string()));
        let ids = authority_key_ids(&jwt);
        // The leaf names the CA; a self-signed CA names itself: one identifier, once.
        assert_eq!(ids, [base64url::encode(CA_KEY_ID)]);
        assert_eq!(decoded(&ids), [CA_KEY_ID.to_vec()]);
    }

    #[test]
    fn no_header_no_chain_and_junk_give_no_identifiers() {
        assert!(authority_key_ids("").is_empty());
        assert!(authority_key_ids("not base64!.x.y~").is_empty());
        let header = base64url::encode(br#"{"alg":"EdDSA","kid":"did:web:school.example#key-1"}"#);
        assert!(authority_key_ids(&format!("{header}.e30.sig~")).is_empty());
        let junk = base64url::encode(br#"{"alg":"ES256","x5c":["AAAA", 7, "!!"]}"#);
        assert!(authority_key_ids(&format!("{junk}.e30.sig~")).is_empty());
    }
}
