//! Shared test helpers: keys, CAs, and hostile certificates written with rcgen directly (the
//! crate's API cannot make them, by design), signed by our keys the way the crate signs.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use rcgen::{CertificateParams, Issuer, KeyIdMethod, PublicKeyData, SerialNumber};
use schooltas_did::{Algorithm, Signer, SigningKey, VerifyingKey};
use schooltas_x509::{CertificateAuthority, Profile, Subject, Validity};

/// A fixed "now" for the tests: 2027-01-15T08:00:00Z. Certificates are made relative to it.
pub const NOW: i64 = 1_800_000_000;
pub const DAY: i64 = 86_400;

pub fn validity(from_days: i64, to_days: i64) -> Validity {
    Validity::new(NOW + from_days * DAY, NOW + to_days * DAY).unwrap()
}

pub fn key(alg: Algorithm) -> SigningKey {
    SigningKey::generate(alg).unwrap()
}

pub fn subject(o: &str, cn: &str) -> Subject {
    Subject::new(o, cn).unwrap()
}

pub fn root(alg: Algorithm, path_len: Option<u8>) -> CertificateAuthority<SigningKey> {
    let profile = if alg == Algorithm::Es256 { Profile::Haip } else { Profile::Permissive };
    CertificateAuthority::root(
        key(alg),
        subject("Stichting Schooltas", "Schooltas Root CA"),
        validity(-10, 3650),
        path_len,
        profile,
    )
    .unwrap()
}

/// An rcgen public key for one of our keys (as the crate builds it).
pub struct TestPublic {
    bits: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl TestPublic {
    pub fn new(key: &VerifyingKey) -> Self {
        match key.algorithm() {
            Algorithm::EdDsa => TestPublic { bits: key.to_compressed_bytes(), alg: &rcgen::PKCS_ED25519 },
            _ => {
                let jwk = key.to_jwk();
                let c = |n: &str| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwk[n].as_str().unwrap()).unwrap()
                };
                let mut bits = vec![4];
                bits.extend(c("x"));
                bits.extend(c("y"));
                TestPublic { bits, alg: &rcgen::PKCS_ECDSA_P256_SHA256 }
            }
        }
    }
}

impl PublicKeyData for TestPublic {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

pub struct TestSigner<'a> {
    key: &'a SigningKey,
    public: TestPublic,
}

impl<'a> TestSigner<'a> {
    pub fn new(key: &'a SigningKey) -> Self {
        TestSigner { key, public: TestPublic::new(key.verifying_key()) }
    }
}

impl PublicKeyData for TestSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public.bits
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.public.alg
    }
}

impl rcgen::SigningKey for TestSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature = self.key.sign(msg).unwrap();
        Ok(match self.key.algorithm() {
            Algorithm::EdDsa => signature.as_bytes().to_vec(),
            _ => p256::ecdsa::Signature::from_slice(signature.as_bytes()).unwrap().to_der().as_bytes().to_vec(),
        })
    }
}

pub fn dn(o: &str, cn: &str) -> rcgen::DistinguishedName {
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::OrganizationName, o);
    name.push(rcgen::DnType::CommonName, cn);
    name
}

/// Params with our subject, a serial and validity around NOW; the caller sets the rest.
pub fn params(o: &str, cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(o, cn);
    params.serial_number = Some(SerialNumber::from_slice(&[0x42, 1, 2, 3, 4, 5, 6, 7, 8]));
    params.not_before = time::OffsetDateTime::from_unix_timestamp(NOW - 10 * DAY).unwrap();
    params.not_after = time::OffsetDateTime::from_unix_timestamp(NOW + 365 * DAY).unwrap();
    params.key_identifier_method = KeyIdMethod::PreSpecified(vec![1; 20]);
    params
}

/// Signs `params` for `subject_key` with `issuer_key`, the issuer named `issuer_o`/`issuer_cn`.
pub fn sign_with(
    params: &CertificateParams,
    subject_key: &VerifyingKey,
    issuer_key: &SigningKey,
    issuer_o: &str,
    issuer_cn: &str,
) -> Vec<u8> {
    let mut issuer_params = CertificateParams::default();
    issuer_params.distinguished_name = dn(issuer_o, issuer_cn);
    issuer_params.key_identifier_method = KeyIdMethod::PreSpecified(vec![2; 20]);
    let issuer = Issuer::new(issuer_params, TestSigner::new(issuer_key));
    params.signed_by(&TestPublic::new(subject_key), &issuer).unwrap().der().to_vec()
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}
