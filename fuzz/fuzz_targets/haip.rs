//! The EU profile's (HAIP 1.0) parsers, as an issuer, a wallet or a verifier meets them from
//! the outside: pushed authorization requests and token requests (forms), the authorization
//! response a browser hands the wallet (a redirect URL), the authorization endpoint's query,
//! `x5c` chains (JSON and PEM) validated to a fixed anchor, DPoP proofs (as sent, and signed
//! by the harness with any header and payload), encrypted responses (JWE compact, decrypted
//! with a fixed key, also after the harness encrypts), and wallet attestations with their PoP.
//!
//! Modes (first byte `mod 10`): 0 PAR form, 1 token request form (either grant), 2 redirect
//! URL, 3 authorization query, 4 `x5c` JSON, 5 PEM, 6 a DPoP proof as text, 7 a DPoP proof the
//! harness signs with the holder key (field 0 extra header members, `"$JWK"` → the holder's
//! public JWK; field 1 the payload, `"$NOW"`), 8 a JWE as text and the JWE of field 0, 9 a
//! wallet attestation (field 0) and its PoP (field 1).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_fuzz::{NOW, bounded, expand, field, header, holder, sign_raw, split};
use schooltas_jwe::{ContentEncryption, Encryption, EncryptionKey};
use schooltas_oid4vc::client_attestation::{ClientAttestationPolicy, UnverifiedClientAttestation};
use schooltas_oid4vc::dpop::{DpopPolicy, verify_dpop_proof};
use schooltas_oid4vc::oid4vci::authorization::{
    AuthorizationRequestReference, AuthorizationResponse, PushedAuthorizationRequest, TokenGrant,
};
use schooltas_x509::{
    CertificateAuthority, CertificateChain, Profile, Subject, TrustAnchors, Usage, Validity, validate,
};

const ISSUER: &str = "https://school.example";
const TOKEN_URL: &str = "https://school.example/token";
const OFFERED: [ContentEncryption; 2] = [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

/// A root CA made once (ES256, fixed key), its anchors, and a leaf it certified.
fn pki() -> &'static (TrustAnchors, CertificateChain) {
    static PKI: OnceLock<(TrustAnchors, CertificateChain)> = OnceLock::new();
    PKI.get_or_init(|| {
        let build = || -> Result<(TrustAnchors, CertificateChain), Box<dyn std::error::Error>> {
            let mut d = [0u8; 32];
            d[31] = 0x35;
            d[0] = 0x21;
            let ca = CertificateAuthority::root(
                SigningKey::from_p256_scalar(&d)?,
                Subject::new("Fuzz Operator", "Fuzz Root")?,
                Validity::new(NOW - 86_400, NOW + 86_400 * 365)?,
                Some(0),
                Profile::Haip,
            )?;
            let leaf = ca.issue_issuer_certificate(
                schooltas_fuzz::p256().verifying_key(),
                ISSUER,
                &Subject::new("Fuzz School", "school.example")?,
                Validity::new(NOW - 3600, NOW + 86_400)?,
            )?;
            Ok((TrustAnchors::from_der(vec![ca.certificate_der().to_vec()])?, leaf.into_chain()))
        };
        match build() {
            Ok(pki) => pki,
            Err(e) => panic!("the fixed CA could not be made: {e}"),
        }
    })
}

fn encryption_key() -> &'static EncryptionKey {
    static KEY: OnceLock<EncryptionKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut d = [0u8; 32];
        d[31] = 0x17;
        match EncryptionKey::from_scalar_bytes(&d, "fuzz-enc") {
            Ok(key) => key,
            Err(e) => panic!("fixed encryption key refused: {e}"),
        }
    })
}

fn check_chain(chain: &CertificateChain) {
    let (anchors, _) = pki();
    if let Ok(validated) = validate(chain, anchors, NOW, Usage::Any) {
        let _ = validated.matches_https_issuer(ISSUER);
        let _ = (validated.san_uris(), validated.san_dns_names(), validated.leaf_x509_hash());
    }
    let _ = validate(chain, anchors, NOW, Usage::status_list_signing());
    let _ = (chain.unvalidated_leaf_key(), chain.unvalidated_leaf_validity(), chain.leaf_x509_hash());
    assert!(CertificateChain::from_x5c(&chain.to_x5c()).is_ok_and(|again| again == *chain), "x5c round trip");
    assert!(CertificateChain::from_pem(&chain.to_pem()).is_ok_and(|again| again == *chain), "PEM round trip");
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    let Ok(text) = std::str::from_utf8(data.get(1..).unwrap_or_default()) else { return };
    match mode % 10 {
        0 => {
            if let Ok(request) = PushedAuthorizationRequest::from_form(text) {
                let form = request.to_form();
                assert!(
                    PushedAuthorizationRequest::from_form(&form).is_ok_and(|again| again == request),
                    "PAR round trip"
                );
                let _ = format!("{request:?}");
            }
        }
        1 => {
            if let Ok(grant) = TokenGrant::from_form(text) {
                let _ = format!("{grant:?}");
            }
        }
        2 => {
            if let Ok(response) = AuthorizationResponse::from_redirect_url(text) {
                let _ = (response.state(), response.iss(), response.redirect_location("https://wallet.example/cb?x=1"));
            }
        }
        3 => {
            if let Ok(reference) = AuthorizationRequestReference::from_query(text) {
                let url = reference.to_url("https://school.example/authorize");
                let query = url.split_once('?').map(|(_, query)| query).unwrap_or_default();
                assert!(
                    AuthorizationRequestReference::from_query(query).is_ok_and(|again| again == reference),
                    "authorization query round trip"
                );
            }
        }
        4 => {
            if let Ok(value) = schooltas_did::strict_json::to_value(text.as_bytes())
                && let Ok(chain) = CertificateChain::from_x5c(&value)
            {
                check_chain(&chain);
            }
            // The fixed leaf always validates (the harness's own sanity).
            let (anchors, leaf) = pki();
            assert!(validate(leaf, anchors, NOW, Usage::Any).is_ok(), "the fixed leaf is refused");
        }
        5 => {
            if let Ok(chain) = CertificateChain::from_pem(text) {
                check_chain(&chain);
            }
            let _ = TrustAnchors::from_pem(text);
        }
        6 => {
            for token in [None, Some("an-access-token")] {
                let _ = verify_dpop_proof(text, "POST", TOKEN_URL, token, &DpopPolicy::default(), NOW);
            }
        }
        7 => {
            let jwk = serde_json::Value::Object(holder().verifying_key().to_jwk()).to_string();
            let extra = bounded(field(&fields, 0), 4096).replace("\"$JWK\"", &jwk);
            let header = header(holder(), "dpop+jwt", None, &extra);
            let payload = expand(field(&fields, 1));
            let proof = sign_raw(&header, payload.as_bytes(), holder());
            for token in [None, Some("an-access-token")] {
                if let Ok(verified) = verify_dpop_proof(&proof, "POST", TOKEN_URL, token, &DpopPolicy::default(), NOW) {
                    let _ = verified;
                }
            }
        }
        8 => {
            let _ = schooltas_jwe::decrypt(text, encryption_key(), &OFFERED);
            let plaintext = field(&fields, 0).as_bytes();
            for enc in OFFERED {
                if let Ok(jwe) = Encryption::new(enc).encrypt(&encryption_key().recipient(), plaintext) {
                    let opened = schooltas_jwe::decrypt(&jwe, encryption_key(), &OFFERED);
                    assert!(opened.is_ok_and(|bytes| bytes.as_slice() == plaintext), "JWE round trip");
                    // Only what was offered decrypts.
                    let other = if enc == ContentEncryption::A128Gcm {
                        ContentEncryption::A256Gcm
                    } else {
                        ContentEncryption::A128Gcm
                    };
                    assert!(
                        matches!(
                            schooltas_jwe::decrypt(&jwe, encryption_key(), &[other]),
                            Err(schooltas_jwe::JweError::EncryptionNotOffered { .. })
                        ),
                        "an unoffered enc decrypted"
                    );
                }
            }
        }
        _ => {
            let (attestation, pop) = (field(&fields, 0), field(&fields, 1));
            if let Ok(parsed) = UnverifiedClientAttestation::parse(attestation, pop) {
                let (anchors, _) = pki();
                let trust = |chain: &CertificateChain| {
                    validate(chain, anchors, NOW, Usage::Any).map(|v| v.verifying_key().clone())
                };
                let policy = ClientAttestationPolicy::new(ISSUER);
                if let Ok(verified) = parsed.verify(&policy, trust, NOW) {
                    assert_eq!(verified.instance_key.algorithm(), Algorithm::Es256, "a non-ES256 instance key passed");
                }
            }
        }
    }
});
