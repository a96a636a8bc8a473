//! Chains made by an independent implementation, OpenSSL (`fixtures/make.sh`), validate through
//! our own signature algorithms (`src/algorithms.rs`): DER ECDSA signatures with low and high
//! `s` (leaf 1's `s` is above n/2), Ed25519, and a flipped signature bit is `BadSignature`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use schooltas_x509::{CertificateChain, TrustAnchors, Usage, X509Error, validate};

/// 2027-01-15, inside the fixtures' validity (2026-12-03 to 2126).
const NOW: i64 = 1_800_000_000;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
}

fn chain(leaf: &[u8]) -> CertificateChain {
    CertificateChain::new(vec![leaf.to_vec()]).unwrap()
}

#[test]
fn openssl_p256_chains_validate_with_low_and_high_s() {
    let anchors = TrustAnchors::from_der(vec![fixture("openssl-p256-root.der")]).unwrap();
    for i in 1..=4 {
        let validated = validate(&chain(&fixture(&format!("openssl-p256-leaf-{i}.der"))), &anchors, NOW, Usage::Any)
            .unwrap_or_else(|error| panic!("leaf {i}: {error}"));
        assert!(validated.matches_https_issuer("https://school.example/issuer"));
        assert!(validated.matches_dns("school.example"));
        assert_eq!(validated.verifying_key().algorithm(), schooltas_did::Algorithm::Es256);
    }
}

#[test]
fn openssl_ed25519_chain_validates() {
    let anchors = TrustAnchors::from_der(vec![fixture("openssl-ed25519-root.der")]).unwrap();
    let validated = validate(&chain(&fixture("openssl-ed25519-leaf-1.der")), &anchors, NOW, Usage::Any).unwrap();
    assert_eq!(validated.verifying_key().algorithm(), schooltas_did::Algorithm::EdDsa);
}

#[test]
fn a_flipped_signature_bit_is_a_bad_signature() {
    for (root, leaf) in [
        ("openssl-p256-root.der", "openssl-p256-leaf-1.der"),
        ("openssl-ed25519-root.der", "openssl-ed25519-leaf-1.der"),
    ] {
        let anchors = TrustAnchors::from_der(vec![fixture(root)]).unwrap();
        let mut der = fixture(leaf);
        // The signature BIT STRING ends the certificate: its last byte is part of `s` (ECDSA)
        // or of `S` (Ed25519).
        let last = der.len() - 1;
        der[last] ^= 0x01;
        assert!(matches!(validate(&chain(&der), &anchors, NOW, Usage::Any), Err(X509Error::BadSignature)), "{leaf}");
    }
}

#[test]
fn a_leaf_is_refused_under_the_other_root() {
    let anchors = TrustAnchors::from_der(vec![fixture("openssl-ed25519-root.der")]).unwrap();
    let refused = validate(&chain(&fixture("openssl-p256-leaf-2.der")), &anchors, NOW, Usage::Any);
    assert!(matches!(refused, Err(X509Error::UnknownAnchor)), "{refused:?}");
}
