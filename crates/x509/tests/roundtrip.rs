//! Issuance and validation round trips: root → leaf and root → intermediate → leaf, ES256 and
//! EdDSA, school (issuer) and verifier certificates, x5c in a JWS header.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use schooltas_did::jws::{CompactJws, Header, sign_compact};
use schooltas_did::{Algorithm, Signer as _};
use schooltas_x509::{CertificateChain, Profile, TrustAnchors, Usage, X509Error, validate};
use x509_cert::Certificate;
use x509_cert::der::Decode as _;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier};

const ISS: &str = "https://school.example/issuer";

fn anchors_of(der: &[u8]) -> TrustAnchors {
    TrustAnchors::from_der(vec![der.to_vec()]).unwrap()
}

#[test]
fn root_to_school_leaf_es256_round_trip() {
    let root = root(Algorithm::Es256, Some(0));
    let school = key(Algorithm::Es256);
    let issued = root
        .issue_issuer_certificate(
            school.verifying_key(),
            ISS,
            &subject("OBS De Linde", "OBS De Linde issuer"),
            validity(-1, 365),
        )
        .unwrap();
    assert_eq!(issued.chain().len(), 1, "the root is left out of x5c");
    let chain = CertificateChain::from_x5c(&issued.chain().to_x5c()).unwrap();
    assert_eq!(&chain, issued.chain());

    let validated = validate(&chain, &anchors_of(root.certificate_der()), NOW, Usage::Any).unwrap();
    assert_eq!(validated.verifying_key(), school.verifying_key());
    assert_eq!(validated.san_uris(), [ISS.to_owned()]);
    assert_eq!(validated.san_dns_names(), ["school.example".to_owned()]);
    assert_eq!(validated.organization(), Some("OBS De Linde"));
    assert_eq!(validated.common_name(), Some("OBS De Linde issuer"));
    assert_eq!(validated.leaf_x509_hash(), chain.leaf_x509_hash());
    assert_eq!(validated.anchor_index(), 0);
    assert!(validated.matches_https_issuer(ISS));
    assert!(!validated.matches_https_issuer("https://school.example/other"));
    assert!(!validated.matches_https_issuer("https://School.example/issuer"));
    assert!(!validated.matches_https_issuer("http://school.example/issuer"));
    assert!(validated.matches_dns("school.example"));
    assert!(validated.matches_dns("SCHOOL.example"));
    assert!(!validated.matches_dns("evil.example"));
}

#[test]
fn root_to_intermediate_to_verifier_leaf_es256() {
    let root = root(Algorithm::Es256, Some(1));
    let intermediate = root
        .issue_intermediate(
            key(Algorithm::Es256),
            subject("Stichting Schooltas", "Schooltas Verifiers CA"),
            validity(-5, 1000),
            Some(0),
        )
        .unwrap();
    let verifier = key(Algorithm::Es256);
    let issued = intermediate
        .issue_verifier_certificate(
            verifier.verifying_key(),
            "verifier.example",
            &subject("Sportclub", "Sportclub RP"),
            validity(-1, 90),
        )
        .unwrap();
    assert_eq!(issued.chain().len(), 2);
    assert_eq!(issued.chain().certificates()[1], intermediate.certificate_der());
    let validated = validate(issued.chain(), &anchors_of(root.certificate_der()), NOW, Usage::Any).unwrap();
    assert_eq!(validated.verifying_key(), verifier.verifying_key());
    assert!(validated.matches_dns("verifier.example"));
    assert!(validated.san_uris().is_empty());
    assert!(!validated.matches_https_issuer("https://verifier.example"));
}

#[test]
fn root_to_intermediate_to_leaf_eddsa() {
    let root = root(Algorithm::EdDsa, None);
    let intermediate = root
        .issue_intermediate(
            key(Algorithm::EdDsa),
            subject("Stichting Schooltas", "Schooltas Schools CA"),
            validity(-5, 1000),
            None,
        )
        .unwrap();
    let school = key(Algorithm::EdDsa);
    let issued = intermediate
        .issue_issuer_certificate(
            school.verifying_key(),
            "https://school.example:8443",
            &subject("OBS", "OBS"),
            validity(-1, 90),
        )
        .unwrap();
    let validated = validate(issued.chain(), &anchors_of(root.certificate_der()), NOW, Usage::Any).unwrap();
    assert_eq!(validated.verifying_key(), school.verifying_key());
    assert_eq!(validated.san_dns_names(), ["school.example".to_owned()]);
    assert!(validated.matches_https_issuer("https://school.example:8443"));
}

#[test]
fn mixed_algorithms_eddsa_root_signs_es256_leaf() {
    let root = root(Algorithm::EdDsa, None);
    let school = key(Algorithm::Es256);
    let issued =
        root.issue_issuer_certificate(school.verifying_key(), ISS, &subject("O", "CN"), validity(-1, 9)).unwrap();
    let validated = validate(issued.chain(), &anchors_of(root.certificate_der()), NOW, Usage::Any).unwrap();
    assert_eq!(validated.verifying_key(), school.verifying_key());
}

#[test]
fn jws_with_x5c_header_verifies_with_the_validated_leaf_key() {
    let root = root(Algorithm::Es256, Some(0));
    let school = key(Algorithm::Es256);
    let issued = root
        .issue_issuer_certificate(school.verifying_key(), ISS, &subject("OBS", "OBS issuer"), validity(-1, 365))
        .unwrap();
    let header = Header::new().with_typ("dc+sd-jwt").with_member("x5c", issued.chain().to_x5c());
    let token = sign_compact(&header, br#"{"iss":"https://school.example/issuer"}"#, &school).unwrap();

    let jws = CompactJws::parse(&token).unwrap();
    let chain = CertificateChain::from_x5c(jws.header().get("x5c").unwrap()).unwrap();
    let validated = validate(&chain, &anchors_of(root.certificate_der()), NOW, Usage::Any).unwrap();
    let verified = jws.verify(validated.verifying_key()).unwrap();
    assert_eq!(verified.payload(), br#"{"iss":"https://school.example/issuer"}"#);
    assert!(validated.matches_https_issuer(ISS));

    // A JWS by another key with the same x5c does not verify with the chain's key.
    let other = key(Algorithm::Es256);
    let forged = sign_compact(&header, b"{}", &other).unwrap();
    let forged = CompactJws::parse(&forged).unwrap();
    assert!(matches!(forged.verify(validated.verifying_key()), Err(schooltas_did::Error::InvalidSignature)));
}

#[test]
fn several_anchors_report_the_one_matched() {
    let first = root(Algorithm::Es256, None);
    let second = root(Algorithm::Es256, None);
    let leaf_key = key(Algorithm::Es256);
    let issued =
        second.issue_issuer_certificate(leaf_key.verifying_key(), ISS, &subject("O", "CN"), validity(-1, 9)).unwrap();
    // Same subject name on both roots: the path builder must pick the one whose key signed.
    let anchors =
        TrustAnchors::from_der(vec![first.certificate_der().to_vec(), second.certificate_der().to_vec()]).unwrap();
    let validated = validate(issued.chain(), &anchors, NOW, Usage::Any).unwrap();
    assert_eq!(validated.anchor_index(), 1);
}

#[test]
fn trailing_copy_of_the_anchor_is_tolerated() {
    let root = root(Algorithm::Es256, None);
    let leaf_key = key(Algorithm::Es256);
    let issued =
        root.issue_issuer_certificate(leaf_key.verifying_key(), ISS, &subject("O", "CN"), validity(-1, 9)).unwrap();
    let chain = CertificateChain::new(vec![issued.der().to_vec(), root.certificate_der().to_vec()]).unwrap();
    let validated = validate(&chain, &anchors_of(root.certificate_der()), NOW, Usage::Any).unwrap();
    assert_eq!(validated.verifying_key(), leaf_key.verifying_key());
}

#[test]
fn pem_out_and_anchors_from_pem() {
    let first = root(Algorithm::Es256, None);
    let second = root(Algorithm::EdDsa, None);
    let pem = format!("{}{}", first.certificate_pem(), second.certificate_pem());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    let anchors = TrustAnchors::from_pem(&pem).unwrap();
    assert_eq!(anchors.certificates(), [first.certificate_der().to_vec(), second.certificate_der().to_vec()]);
    let leaf_key = key(Algorithm::Es256);
    let issued =
        second.issue_issuer_certificate(leaf_key.verifying_key(), ISS, &subject("O", "CN"), validity(-1, 9)).unwrap();
    assert!(issued.pem().contains("-----END CERTIFICATE-----"));
    assert_eq!(validate(issued.chain(), &anchors, NOW, Usage::Any).unwrap().anchor_index(), 1);
    assert!(matches!(TrustAnchors::from_pem("no pem here"), Err(X509Error::Pem)));
    assert!(matches!(TrustAnchors::from_der(Vec::new()), Err(X509Error::NoTrustAnchors)));
    assert!(matches!(TrustAnchors::from_der(vec![vec![0x30, 0x00]]), Err(X509Error::Malformed { position: 0 })));
}

#[test]
fn issued_leaf_has_the_profile_extensions() {
    let root = root(Algorithm::Es256, Some(0));
    let leaf_key = key(Algorithm::Es256);
    let a = root.issue_issuer_certificate(leaf_key.verifying_key(), ISS, &subject("O", "CN"), validity(-1, 9)).unwrap();
    let b = root.issue_issuer_certificate(leaf_key.verifying_key(), ISS, &subject("O", "CN"), validity(-1, 9)).unwrap();
    let leaf = Certificate::from_der(a.der()).unwrap();
    let root_cert = Certificate::from_der(root.certificate_der()).unwrap();
    let tbs = leaf.tbs_certificate();

    let (critical, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(critical && !bc.ca);
    let (critical, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(critical && ku.digital_signature() && !ku.key_cert_sign());
    let (_, ski) = tbs.get_extension::<SubjectKeyIdentifier>().unwrap().unwrap();
    let (_, aki) = tbs.get_extension::<AuthorityKeyIdentifier>().unwrap().unwrap();
    let (_, root_ski) = root_cert.tbs_certificate().get_extension::<SubjectKeyIdentifier>().unwrap().unwrap();
    assert_eq!(aki.key_identifier.unwrap(), root_ski.0);
    assert_eq!(ski.0.as_bytes().len(), 20);

    let (_, root_bc) = root_cert.tbs_certificate().get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(root_bc.ca);
    assert_eq!(root_bc.path_len_constraint, Some(0));

    // Random serials of 16 octets (≥ 64 bits of randomness), different each time.
    let serial_a = tbs.serial_number().as_bytes().to_vec();
    let serial_b = Certificate::from_der(b.der()).unwrap().tbs_certificate().serial_number().as_bytes().to_vec();
    assert_eq!(serial_a.len(), 16);
    assert_ne!(serial_a, serial_b);
}

#[test]
fn haip_profile_refuses_ed25519_keys() {
    let root = root(Algorithm::Es256, None);
    let ed = key(Algorithm::EdDsa);
    let err = root.issue_issuer_certificate(ed.verifying_key(), ISS, &subject("O", "CN"), validity(-1, 9)).unwrap_err();
    assert!(matches!(err, X509Error::KeyNotAllowed { algorithm: Algorithm::EdDsa, .. }), "{err:?}");
    let err = schooltas_x509::CertificateAuthority::root(ed, subject("O", "CN"), validity(-1, 9), None, Profile::Haip)
        .unwrap_err();
    assert!(matches!(err, X509Error::KeyNotAllowed { .. }), "{err:?}");
}

#[test]
fn issuance_refuses_bad_names_and_validity() {
    let root = root(Algorithm::Es256, None);
    let k = key(Algorithm::Es256);
    let s = subject("O", "CN");
    for bad in [
        "http://school.example",
        "https://school.example/?x=1",
        "https://school.example/#f",
        "https://user@school.example",
        "https://192.168.1.1",
        "https://",
        "https://-bad.example",
        "https://school.example:99999999",
        "https://sch ool.example",
    ] {
        let err = root.issue_issuer_certificate(k.verifying_key(), bad, &s, validity(-1, 9)).unwrap_err();
        assert!(matches!(err, X509Error::InvalidIssuerIdentifier { .. }), "{bad}: {err:?}");
    }
    for bad in ["", "a..b", "x_y.example", "10.0.0.1", &"a".repeat(64)] {
        let err = root.issue_verifier_certificate(k.verifying_key(), bad, &s, validity(-1, 9)).unwrap_err();
        assert!(matches!(err, X509Error::InvalidDnsName { .. }), "{bad}: {err:?}");
    }
    assert!(matches!(schooltas_x509::Validity::new(NOW, NOW), Err(X509Error::InvalidValidity { .. })));
    assert!(matches!(schooltas_x509::Validity::new(-5, NOW), Err(X509Error::InvalidValidity { .. })));
    assert!(matches!(
        schooltas_x509::Subject::new("", "CN"),
        Err(X509Error::InvalidSubject { field: "organization", .. })
    ));
    assert!(matches!(
        schooltas_x509::Subject::new("O", &"x".repeat(65)),
        Err(X509Error::InvalidSubject { field: "common_name", .. })
    ));
    assert!(matches!(schooltas_x509::Subject::new("O\n", "CN"), Err(X509Error::InvalidSubject { .. })));
}

#[test]
fn a_chain_round_trips_through_pem() {
    let root = root(Algorithm::Es256, Some(1));
    let intermediate =
        root.issue_intermediate(key(Algorithm::Es256), subject("Operator", "Issuing CA"), validity(-1, 730), Some(0));
    let intermediate = intermediate.unwrap();
    let school = key(Algorithm::Es256);
    let issued = intermediate
        .issue_issuer_certificate(school.verifying_key(), ISS, &subject("OBS De Linde", "issuer"), validity(-1, 365))
        .unwrap();
    let pem = issued.chain().to_pem();
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 2, "leaf and intermediate");
    let back = CertificateChain::from_pem(&format!("# a comment line\n{pem}")).unwrap();
    assert_eq!(&back, issued.chain());
    assert_eq!(&back.unvalidated_leaf_key().unwrap(), school.verifying_key());
    let validity = back.unvalidated_leaf_validity().unwrap();
    assert_eq!((validity.not_before(), validity.not_after()), (NOW - 86_400, NOW + 365 * 86_400));
    // Not PEM, or a truncated block.
    assert!(matches!(CertificateChain::from_pem("no certificate here"), Err(X509Error::Pem)));
    let truncated = pem.trim_end().trim_end_matches("-----END CERTIFICATE-----");
    assert!(matches!(CertificateChain::from_pem(truncated), Err(X509Error::Pem)));
}
