//! Status list signing certificates (draft-ietf-oauth-status-list, `id-kp-oauthStatusSigning`)
//! and the issuer EKU option: what they carry, and which usages accept or refuse them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use schooltas_did::{Algorithm, Signer as _};
use schooltas_x509::{IssuerEku, TrustAnchors, Usage, X509Error, validate};
use x509_cert::Certificate;
use x509_cert::der::Decode as _;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};

const ISS: &str = "https://school.example/issuer";

fn anchors_of(der: &[u8]) -> TrustAnchors {
    TrustAnchors::from_der(vec![der.to_vec()]).unwrap()
}

fn extended_key_usage(der: &[u8]) -> Option<ExtendedKeyUsage> {
    let certificate = Certificate::from_der(der).unwrap();
    certificate.tbs_certificate().get_extension::<ExtendedKeyUsage>().unwrap().map(|(_, eku)| eku)
}

#[test]
fn status_list_certificate_carries_the_status_eku_and_validates_for_status_usage() {
    let root = root(Algorithm::Es256, Some(0));
    let status_key = key(Algorithm::Es256);
    let issued = root
        .issue_status_list_certificate(
            status_key.verifying_key(),
            ISS,
            &subject("OBS De Linde", "OBS De Linde issuer"),
            validity(-1, 30),
        )
        .unwrap();
    let eku = extended_key_usage(issued.der()).expect("an extendedKeyUsage extension");
    assert_eq!(eku.0, vec![Usage::STATUS_LIST_SIGNING_OID]);
    assert_eq!(Usage::STATUS_LIST_SIGNING_OID.to_string(), "1.3.6.1.5.5.7.3.127");
    let certificate = Certificate::from_der(issued.der()).unwrap();
    let (_, key_usage) = certificate.tbs_certificate().get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(key_usage.digital_signature());

    let validated = validate(issued.chain(), &anchors_of(root.certificate_der()), NOW, Usage::status_list_signing())
        .expect("a status list certificate validates for status list signing");
    assert_eq!(validated.verifying_key(), status_key.verifying_key());
    assert!(validated.matches_https_issuer(ISS));
    // It is an ordinary signing certificate otherwise: Any accepts it, a usage it lacks does not.
    assert!(validate(issued.chain(), &anchors_of(root.certificate_der()), NOW, Usage::Any).is_ok());
    let err =
        validate(issued.chain(), &anchors_of(root.certificate_der()), NOW, Usage::mdoc_document_signer()).unwrap_err();
    assert!(matches!(err, X509Error::RequiredEkuMissing), "{err:?}");
}

#[test]
fn status_list_certificate_through_an_intermediate_validates() {
    let root = root(Algorithm::Es256, Some(1));
    let intermediate = root
        .issue_intermediate(
            key(Algorithm::Es256),
            subject("Stichting Schooltas", "Schooltas Issuing CA"),
            validity(-5, 900),
            Some(0),
        )
        .unwrap();
    let status_key = key(Algorithm::Es256);
    let issued = intermediate
        .issue_status_list_certificate(
            status_key.verifying_key(),
            ISS,
            &subject("OBS De Linde", "status"),
            validity(-1, 30),
        )
        .unwrap();
    assert_eq!(issued.chain().len(), 2);
    let validated =
        validate(issued.chain(), &anchors_of(root.certificate_der()), NOW, Usage::status_list_signing()).unwrap();
    assert_eq!(validated.verifying_key(), status_key.verifying_key());
}

#[test]
fn issuer_certificate_without_the_status_eku_is_refused_for_status_usage() {
    let root = root(Algorithm::Es256, Some(0));
    let school = key(Algorithm::Es256);
    let issued = root
        .issue_issuer_certificate(school.verifying_key(), ISS, &subject("OBS De Linde", "issuer"), validity(-1, 30))
        .unwrap();
    assert!(extended_key_usage(issued.der()).is_none(), "issuer certificates carry no EKU by default");
    let err =
        validate(issued.chain(), &anchors_of(root.certificate_der()), NOW, Usage::status_list_signing()).unwrap_err();
    assert!(matches!(err, X509Error::RequiredEkuMissing), "{err:?}");
    // The if-present rule lets a certificate without any EKU through: Required is the stricter one.
    assert!(
        validate(
            issued.chain(),
            &anchors_of(root.certificate_der()),
            NOW,
            Usage::RequiredIfPresent(Usage::STATUS_LIST_SIGNING_OID)
        )
        .is_ok()
    );
}

#[test]
fn issuer_certificate_with_the_mdoc_signer_eku_for_nl_wallet() {
    let root = root(Algorithm::Es256, Some(0));
    let school = key(Algorithm::Es256);
    let issued = root
        .issue_issuer_certificate_with_eku(
            school.verifying_key(),
            ISS,
            &subject("OBS De Linde", "issuer"),
            validity(-1, 30),
            IssuerEku::MdocDocumentSigner,
        )
        .unwrap();
    assert_eq!(extended_key_usage(issued.der()).unwrap().0, vec![Usage::MDOC_DOCUMENT_SIGNER_OID]);
    let anchors = anchors_of(root.certificate_der());
    validate(issued.chain(), &anchors, NOW, Usage::mdoc_document_signer()).unwrap();
    assert!(validate(issued.chain(), &anchors, NOW, Usage::Any).is_ok());
    let err = validate(issued.chain(), &anchors, NOW, Usage::status_list_signing()).unwrap_err();
    assert!(matches!(err, X509Error::RequiredEkuMissing), "{err:?}");
}

#[test]
fn intermediate_whose_eku_excludes_status_signing_is_refused() {
    // An intermediate restricted by EKU to another purpose cannot pass status signing on
    // (webpki's rule for every certificate of the path that has the extension).
    use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};
    let root = root(Algorithm::Es256, None);
    let middle_key = key(Algorithm::Es256);
    let mut middle = params("Middle", "TLS-only CA");
    middle.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    middle.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    middle.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let middle_der =
        sign_with(&middle, middle_key.verifying_key(), root.signer(), "Stichting Schooltas", "Schooltas Root CA");
    let mut leaf = params("OBS", "status");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let status_arcs: Vec<u64> = Usage::STATUS_LIST_SIGNING_OID.arcs().map(u64::from).collect();
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(status_arcs)];
    let leaf_der = sign_with(&leaf, key(Algorithm::Es256).verifying_key(), &middle_key, "Middle", "TLS-only CA");
    let chain = schooltas_x509::CertificateChain::new(vec![leaf_der, middle_der]).unwrap();
    let err = validate(&chain, &anchors_of(root.certificate_der()), NOW, Usage::status_list_signing()).unwrap_err();
    assert!(matches!(err, X509Error::RequiredEkuMissing), "{err:?}");
}

#[test]
fn status_list_certificate_refuses_a_bad_identifier() {
    let root = root(Algorithm::Es256, Some(0));
    let err = root
        .issue_status_list_certificate(
            key(Algorithm::Es256).verifying_key(),
            "http://school.example/issuer",
            &subject("OBS De Linde", "status"),
            validity(-1, 30),
        )
        .unwrap_err();
    assert!(matches!(err, X509Error::InvalidIssuerIdentifier { .. }), "{err:?}");
}

#[test]
fn a_key_holder_reads_its_own_leaf_key_and_validity() {
    let root = root(Algorithm::Es256, Some(0));
    let status_key = key(Algorithm::Es256);
    let issued = root
        .issue_status_list_certificate(
            status_key.verifying_key(),
            ISS,
            &subject("OBS De Linde", "status"),
            validity(-1, 30),
        )
        .unwrap();
    assert_eq!(&issued.chain().unvalidated_leaf_key().unwrap(), status_key.verifying_key());
    let read = issued.chain().unvalidated_leaf_validity().unwrap();
    assert_eq!(read, validity(-1, 30));
    let garbage = schooltas_x509::CertificateChain::new(vec![vec![0x30, 0x03, 0x02, 0x01, 0x00]]).unwrap();
    assert!(matches!(garbage.unvalidated_leaf_key(), Err(X509Error::Malformed { position: 0 })));
}
