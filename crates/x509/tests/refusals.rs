//! One test per refused chain shape, each asserting the specific error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use rcgen::{BasicConstraints, CustomExtension, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SanType};
use schooltas_did::{Algorithm, Signer as _, SigningKey};
use schooltas_x509::{CertificateAuthority, CertificateChain, TrustAnchors, Usage, X509Error, validate};
use serde_json::json;

const ISS: &str = "https://school.example/issuer";
const ROOT_O: &str = "Stichting Schooltas";
const ROOT_CN: &str = "Schooltas Root CA";

fn anchors_of(ca: &CertificateAuthority<SigningKey>) -> TrustAnchors {
    TrustAnchors::from_der(vec![ca.certificate_der().to_vec()]).unwrap()
}

fn chain(ders: &[&[u8]]) -> CertificateChain {
    CertificateChain::new(ders.iter().map(|d| d.to_vec()).collect()).unwrap()
}

fn school_leaf(ca: &CertificateAuthority<SigningKey>, from_days: i64, to_days: i64) -> CertificateChain {
    ca.issue_issuer_certificate(
        key(Algorithm::Es256).verifying_key(),
        ISS,
        &subject("OBS", "OBS"),
        validity(from_days, to_days),
    )
    .unwrap()
    .into_chain()
}

/// A leaf signed by `root` directly with rcgen, after `mutate` changes its parameters.
fn custom_leaf(root: &CertificateAuthority<SigningKey>, mutate: impl FnOnce(&mut rcgen::CertificateParams)) -> Vec<u8> {
    let mut params = params("OBS", "OBS");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.subject_alt_names = vec![SanType::DnsName("school.example".try_into().unwrap())];
    mutate(&mut params);
    sign_with(&params, key(Algorithm::Es256).verifying_key(), root.signer(), ROOT_O, ROOT_CN)
}

#[test]
fn expired_leaf() {
    let root = root(Algorithm::Es256, None);
    let err = validate(&school_leaf(&root, -30, -1), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::Expired { position: 0, now: NOW, .. }), "{err:?}");
}

#[test]
fn not_yet_valid_leaf() {
    let root = root(Algorithm::Es256, None);
    let err = validate(&school_leaf(&root, 1, 30), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::NotYetValid { position: 0, now: NOW, .. }), "{err:?}");
}

#[test]
fn expired_anchor() {
    let root = root(Algorithm::Es256, None);
    let leaf = school_leaf(&root, -1, 30);
    // The root is valid from NOW-10d to NOW+3650d: validating later than that refuses the anchor.
    let later = NOW + 3651 * DAY;
    let leaf_later = school_leaf(&root, 3640, 3700);
    let err = validate(&leaf_later, &anchors_of(&root), later, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::Expired { position: 1, .. }), "{err:?}");
    assert!(validate(&leaf, &anchors_of(&root), NOW, Usage::Any).is_ok());
}

#[test]
fn unknown_anchor() {
    let root = root(Algorithm::Es256, None);
    let other = CertificateAuthority::root(
        key(Algorithm::Es256),
        subject("Other", "Other Root"),
        validity(-10, 100),
        None,
        schooltas_x509::Profile::Haip,
    )
    .unwrap();
    let err = validate(&school_leaf(&root, -1, 30), &anchors_of(&other), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::UnknownAnchor), "{err:?}");
}

#[test]
fn same_name_different_key_anchor_is_unknown() {
    // An anchor with the right name but another key: the signature does not chain.
    let root = root(Algorithm::Es256, None);
    let impostor = common::root(Algorithm::Es256, None);
    let err = validate(&school_leaf(&root, -1, 30), &anchors_of(&impostor), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::BadSignature), "{err:?}");
}

#[test]
fn tampered_signature() {
    let root = root(Algorithm::Es256, None);
    let mut der = school_leaf(&root, -1, 30).leaf().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01; // the last byte of the signature's s
    let err = validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::BadSignature), "{err:?}");
}

#[test]
fn tampered_eddsa_signature() {
    let root = root(Algorithm::EdDsa, None);
    let mut der = school_leaf(&root, -1, 30).leaf().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x80;
    let err = validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::BadSignature), "{err:?}");
}

#[test]
fn issuer_not_a_ca() {
    let root = root(Algorithm::Es256, None);
    let middle_key = key(Algorithm::Es256);
    let mut middle = params("Middle", "Not a CA");
    middle.is_ca = IsCa::ExplicitNoCa;
    middle.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let middle_der = sign_with(&middle, middle_key.verifying_key(), root.signer(), ROOT_O, ROOT_CN);
    let mut leaf = params("OBS", "OBS");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf_der = sign_with(&leaf, key(Algorithm::Es256).verifying_key(), &middle_key, "Middle", "Not a CA");
    let err = validate(&chain(&[&leaf_der, &middle_der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::IssuerNotCa { position: 1 }), "{err:?}");
}

#[test]
fn issuer_without_key_cert_sign() {
    let root = root(Algorithm::Es256, None);
    let middle_key = key(Algorithm::Es256);
    let mut middle = params("Middle", "CA without keyCertSign");
    middle.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    middle.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let middle_der = sign_with(&middle, middle_key.verifying_key(), root.signer(), ROOT_O, ROOT_CN);
    let mut leaf = params("OBS", "OBS");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf_der =
        sign_with(&leaf, key(Algorithm::Es256).verifying_key(), &middle_key, "Middle", "CA without keyCertSign");
    let err = validate(&chain(&[&leaf_der, &middle_der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::MissingKeyCertSign { position: 1 }), "{err:?}");
}

#[test]
fn path_len_exceeded() {
    // A root that may issue leaves only (pathLen 0) issued an intermediate anyway.
    let root = root(Algorithm::Es256, Some(0));
    let intermediate = root
        .issue_intermediate(key(Algorithm::Es256), subject(ROOT_O, "Intermediate"), validity(-5, 100), None)
        .unwrap();
    let leaf = intermediate
        .issue_issuer_certificate(key(Algorithm::Es256).verifying_key(), ISS, &subject("OBS", "OBS"), validity(-1, 30))
        .unwrap();
    let err = validate(leaf.chain(), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::PathLenExceeded { position: 2, path_len: 0, below: 1 }), "{err:?}");

    // The intermediate's own pathLen 0 with another intermediate below it.
    let root = common::root(Algorithm::Es256, None);
    let first =
        root.issue_intermediate(key(Algorithm::Es256), subject(ROOT_O, "First"), validity(-5, 100), Some(0)).unwrap();
    let second =
        first.issue_intermediate(key(Algorithm::Es256), subject(ROOT_O, "Second"), validity(-5, 100), None).unwrap();
    let leaf = second
        .issue_issuer_certificate(key(Algorithm::Es256).verifying_key(), ISS, &subject("OBS", "OBS"), validity(-1, 30))
        .unwrap();
    assert_eq!(leaf.chain().len(), 3);
    let err = validate(leaf.chain(), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::PathLenExceeded { position: 2, path_len: 0, below: 1 }), "{err:?}");
}

#[test]
fn leaf_is_a_ca() {
    let root = root(Algorithm::Es256, None);
    let intermediate = root
        .issue_intermediate(key(Algorithm::Es256), subject(ROOT_O, "Intermediate"), validity(-5, 100), None)
        .unwrap();
    let as_leaf = chain(&[intermediate.certificate_der()]);
    let err = validate(&as_leaf, &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::LeafIsCa), "{err:?}");

    // A CA leaf that also has digitalSignature.
    let der = custom_leaf(&root, |p| {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign];
    });
    let err = validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::LeafIsCa), "{err:?}");
}

#[test]
fn leaf_without_digital_signature() {
    let root = root(Algorithm::Es256, None);
    let der = custom_leaf(&root, |p| p.key_usages = vec![KeyUsagePurpose::KeyEncipherment]);
    let err = validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::MissingDigitalSignature), "{err:?}");
    let der = custom_leaf(&root, |p| p.key_usages = Vec::new());
    let err = validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::MissingDigitalSignature), "{err:?}");
}

#[test]
fn unknown_critical_extension() {
    let root = root(Algorithm::Es256, None);
    let der = custom_leaf(&root, |p| {
        let mut extension = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00]);
        extension.set_criticality(true);
        p.custom_extensions.push(extension);
    });
    let err = validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    match err {
        X509Error::UnknownCriticalExtension { position: 0, oid } => assert_eq!(oid, "1.3.6.1.4.1.99999.1"),
        other => panic!("unexpected {other:?}"),
    }
    // The same extension, not critical, is ignored.
    let der = custom_leaf(&root, |p| {
        p.custom_extensions.push(CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00]));
    });
    assert!(validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).is_ok());
}

#[test]
fn extended_key_usage_required_when_present() {
    let root = root(Algorithm::Es256, None);
    let client_auth: x509_cert::der::asn1::ObjectIdentifier = "1.3.6.1.5.5.7.3.2".parse().unwrap();
    let der = custom_leaf(&root, |p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]);
    let err = validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::RequiredIfPresent(client_auth)).unwrap_err();
    assert!(matches!(err, X509Error::RequiredEkuMissing), "{err:?}");
    assert!(validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).is_ok());
    // With the EKU listed, or with no EKU extension at all, it passes.
    let der = custom_leaf(&root, |p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]);
    assert!(validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::RequiredIfPresent(client_auth)).is_ok());
    let der = custom_leaf(&root, |_| {});
    assert!(validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::RequiredIfPresent(client_auth)).is_ok());
}

#[test]
fn broken_chain_names() {
    let root = root(Algorithm::Es256, None);
    let a = root.issue_intermediate(key(Algorithm::Es256), subject(ROOT_O, "A"), validity(-5, 100), None).unwrap();
    let b = root.issue_intermediate(key(Algorithm::Es256), subject(ROOT_O, "B"), validity(-5, 100), None).unwrap();
    let leaf = a
        .issue_issuer_certificate(key(Algorithm::Es256).verifying_key(), ISS, &subject("OBS", "OBS"), validity(-1, 30))
        .unwrap();
    let err = validate(&chain(&[leaf.der(), b.certificate_der()]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::BrokenChain { position: 0 }), "{err:?}");
}

fn refused_algorithm(fixture_name: &str, expected_oid: &str) {
    let root = root(Algorithm::Es256, None);
    let der = fixture(fixture_name);
    let err = validate(&chain(&[&der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    match err {
        X509Error::UnsupportedAlgorithm { position: 0, oid } => assert_eq!(oid, expected_oid, "{fixture_name}"),
        other => panic!("{fixture_name}: unexpected {other:?}"),
    }
    // Also refused as a trust anchor's certificate in a chain position above the leaf.
    let leaf = school_leaf(&root, -1, 30);
    let err = validate(&chain(&[leaf.leaf(), &der]), &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::UnsupportedAlgorithm { position: 1, .. }), "{fixture_name}: {err:?}");
}

#[test]
fn rsa_certificate_refused() {
    refused_algorithm("rsa-sha256.der", "1.2.840.113549.1.1.11");
}

#[test]
fn p384_certificate_refused() {
    refused_algorithm("p384-sha384.der", "1.2.840.10045.4.3.3");
    refused_algorithm("p384-sha256.der", "1.3.132.0.34");
}

#[test]
fn sha1_certificate_refused() {
    refused_algorithm("p256-sha1.der", "1.2.840.10045.4.1");
}

#[test]
fn x5c_refusals() {
    let root = root(Algorithm::Es256, None);
    let leaf = school_leaf(&root, -1, 30);
    let standard = leaf.to_x5c()[0].as_str().unwrap().to_owned();

    assert!(matches!(CertificateChain::from_x5c(&json!("abc")), Err(X509Error::X5cNotArray)));
    assert!(matches!(CertificateChain::from_x5c(&json!([1])), Err(X509Error::X5cNotArray)));
    assert!(matches!(CertificateChain::from_x5c(&json!([])), Err(X509Error::EmptyChain)));
    assert!(matches!(CertificateChain::from_x5c(&json!(["!!!!"])), Err(X509Error::X5cBase64 { position: 0 })));
    assert!(matches!(
        CertificateChain::from_x5c(&json!([standard, "a b="])),
        Err(X509Error::X5cBase64 { position: 1 })
    ));
    // url-safe base64 (RFC 7515 §4.1.6 says standard): find a certificate whose base64 has '+'
    // or '/' and send it url-safe; and unpadded.
    let mut url_safe = None;
    for _ in 0..64 {
        let text = school_leaf(&root, -1, 30).to_x5c()[0].as_str().unwrap().to_owned();
        if text.contains(['+', '/']) {
            url_safe = Some(text.replace('+', "-").replace('/', "_"));
            break;
        }
    }
    let url_safe = url_safe.expect("some certificate's base64 has + or /");
    assert!(matches!(CertificateChain::from_x5c(&json!([url_safe])), Err(X509Error::X5cBase64 { position: 0 })));
    // Padding is required: "MIIBAA" is "MIIBAA==" without it.
    assert!(CertificateChain::from_x5c(&json!(["MIIBAA=="])).is_ok());
    assert!(matches!(CertificateChain::from_x5c(&json!(["MIIBAA"])), Err(X509Error::X5cBase64 { position: 0 })));

    // Too many, too large.
    let six: Vec<_> = (0..6).map(|_| standard.clone()).collect();
    assert!(matches!(CertificateChain::from_x5c(&json!(six)), Err(X509Error::ChainTooLong { count: 6, max: 5 })));
    let huge = "A".repeat(40_000);
    assert!(matches!(
        CertificateChain::from_x5c(&json!([huge])),
        Err(X509Error::CertificateTooLarge { position: 0, .. })
    ));
    assert!(matches!(CertificateChain::new(Vec::new()), Err(X509Error::EmptyChain)));
    assert!(matches!(
        CertificateChain::new(vec![vec![0; 20_000]]),
        Err(X509Error::CertificateTooLarge { position: 0, len: 20_000, .. })
    ));

    // Valid base64 of garbage: refused at validation as malformed.
    let garbage = CertificateChain::from_x5c(&json!(["AAECAwQF"])).unwrap();
    let err = validate(&garbage, &anchors_of(&root), NOW, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::Malformed { position: 0 }), "{err:?}");
}

/// Truncated and bit-flipped certificates only ever yield errors (or, for flips in parts no
/// rule reads, a validation), never a panic.
#[test]
fn mangled_der_never_panics() {
    let root = root(Algorithm::Es256, None);
    let anchors = anchors_of(&root);
    let intermediate = root
        .issue_intermediate(key(Algorithm::Es256), subject(ROOT_O, "Intermediate"), validity(-5, 100), None)
        .unwrap();
    let leaf = intermediate
        .issue_issuer_certificate(key(Algorithm::Es256).verifying_key(), ISS, &subject("OBS", "OBS"), validity(-1, 30))
        .unwrap();
    let leaf_der = leaf.der().to_vec();
    let middle_der = intermediate.certificate_der().to_vec();
    let mut accepted_flips = 0;
    for (which, der) in [(0, &leaf_der), (1, &middle_der)] {
        for len in 0..der.len() {
            let mut ders = vec![leaf_der.clone(), middle_der.clone()];
            ders[which] = der[..len].to_vec();
            let Ok(chain) = CertificateChain::new(ders) else { continue };
            assert!(validate(&chain, &anchors, NOW, Usage::Any).is_err(), "truncated to {len} accepted");
        }
        for byte in 0..der.len() {
            for bit in [0u8, 3, 7] {
                let mut mangled = der.clone();
                mangled[byte] ^= 1 << bit;
                let mut ders = vec![leaf_der.clone(), middle_der.clone()];
                ders[which] = mangled;
                if validate(&CertificateChain::new(ders).unwrap(), &anchors, NOW, Usage::Any).is_ok() {
                    accepted_flips += 1;
                }
            }
        }
    }
    // Every byte is covered by a signature or checked against a signed copy (the outer
    // signature algorithm must equal the inner one), so no flip may pass.
    assert_eq!(accepted_flips, 0);
    // Anchors made of mangled bytes: errors too.
    let root_der = root.certificate_der().to_vec();
    for len in 0..root_der.len() {
        assert!(TrustAnchors::from_der(vec![root_der[..len].to_vec()]).is_err() || len == root_der.len());
    }
}

#[test]
fn negative_time_is_refused() {
    let root = root(Algorithm::Es256, None);
    let err = validate(&school_leaf(&root, -1, 30), &anchors_of(&root), -1, Usage::Any).unwrap_err();
    assert!(matches!(err, X509Error::NotYetValid { position: 0, now: -1, .. }), "{err:?}");
}

#[test]
fn signer_trait_used_is_the_ca_key() {
    // The CA certificate carries the signer's own public key.
    let root = root(Algorithm::Es256, None);
    let anchors = anchors_of(&root);
    let root_as_chain = chain(&[root.certificate_der()]);
    // A root alone is a CA: refused as a leaf.
    assert!(matches!(validate(&root_as_chain, &anchors, NOW, Usage::Any), Err(X509Error::LeafIsCa)));
    assert_eq!(root.signer().algorithm(), Algorithm::Es256);
}
