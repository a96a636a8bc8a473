//! A CA stored as its certificate and reloaded with its signer issues chains that validate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use schooltas_did::{Algorithm, Signer as _, SigningKey};
use schooltas_x509::{CertificateAuthority, Profile, TrustAnchors, Usage, X509Error, validate};

const ISS: &str = "https://school.example/issuer";

fn private_copy(key: &SigningKey) -> SigningKey {
    key.to_private_jwk().to_signing_key().unwrap()
}

#[test]
fn reloaded_root_and_intermediate_issue_valid_chains() {
    let root = root(Algorithm::Es256, None);
    let intermediate_key = key(Algorithm::Es256);
    let intermediate = root
        .issue_intermediate(
            private_copy(&intermediate_key),
            subject("Stichting Schooltas", "Schools CA"),
            validity(-5, 100),
            Some(0),
        )
        .unwrap();

    let root_again = CertificateAuthority::from_certificate(
        private_copy(root.signer()),
        root.certificate_der().to_vec(),
        Vec::new(),
        Profile::Haip,
    )
    .unwrap();
    assert_eq!(root_again.subject(), root.subject());
    let intermediate_again = CertificateAuthority::from_certificate(
        intermediate_key,
        intermediate.certificate_der().to_vec(),
        Vec::new(),
        Profile::Haip,
    )
    .unwrap();

    let anchors = TrustAnchors::from_der(vec![root.certificate_der().to_vec()]).unwrap();
    for ca in [&root_again, &intermediate_again] {
        let school = key(Algorithm::Es256);
        let issued =
            ca.issue_issuer_certificate(school.verifying_key(), ISS, &subject("OBS", "OBS"), validity(-1, 30)).unwrap();
        let validated = validate(issued.chain(), &anchors, NOW, Usage::Any).unwrap();
        assert_eq!(validated.verifying_key(), school.verifying_key());
    }
}

#[test]
fn reload_refuses_another_key_a_leaf_and_garbage() {
    let root = root(Algorithm::Es256, None);
    let err = CertificateAuthority::from_certificate(
        key(Algorithm::Es256),
        root.certificate_der().to_vec(),
        Vec::new(),
        Profile::Haip,
    )
    .unwrap_err();
    assert!(matches!(err, X509Error::KeyMismatch), "{err:?}");

    let leaf_key = key(Algorithm::Es256);
    let leaf = root
        .issue_verifier_certificate(leaf_key.verifying_key(), "rp.example", &subject("RP", "RP"), validity(-1, 9))
        .unwrap();
    let err =
        CertificateAuthority::from_certificate(leaf_key, leaf.der().to_vec(), Vec::new(), Profile::Haip).unwrap_err();
    assert!(matches!(err, X509Error::IssuerNotCa { position: 0 }), "{err:?}");

    let err = CertificateAuthority::from_certificate(key(Algorithm::Es256), vec![1, 2, 3], Vec::new(), Profile::Haip)
        .unwrap_err();
    assert!(matches!(err, X509Error::Malformed { position: 0 }), "{err:?}");
}

#[test]
fn debug_of_a_ca_shows_no_key_material() {
    let root = root(Algorithm::Es256, None);
    let jwk: serde_json::Value = serde_json::from_str(root.signer().to_private_jwk().as_str()).unwrap();
    let d = jwk["d"].as_str().unwrap().to_owned();
    let shown = format!("{root:?}");
    assert!(shown.contains("Schooltas Root CA"));
    assert!(!shown.contains(&d));
}

/// A signer whose key is unavailable (an HSM that is offline, say).
struct OfflineSigner(SigningKey);

impl schooltas_did::Signer for OfflineSigner {
    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
    fn verifying_key(&self) -> &schooltas_did::VerifyingKey {
        self.0.verifying_key()
    }
    fn sign(&self, _message: &[u8]) -> schooltas_did::Result<schooltas_did::Signature> {
        Err(schooltas_did::Error::Signer("offline".into()))
    }
}

#[test]
fn a_failing_signer_is_reported_as_such() {
    let err = CertificateAuthority::root(
        OfflineSigner(key(Algorithm::Es256)),
        subject("O", "CN"),
        validity(-1, 9),
        None,
        Profile::Haip,
    )
    .unwrap_err();
    assert!(matches!(err, X509Error::Signer(schooltas_did::Error::Signer(_))), "{err:?}");
}
