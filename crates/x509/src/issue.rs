//! Issuance: a certificate authority (the trust-list operator's root, optionally an
//! intermediate) that issues the certificates of schools (issuers) and verifiers.
//!
//! rcgen encodes the certificates; every signature comes from our own
//! [`schooltas_did::Signer`] through rcgen's `SigningKey` trait, so a CA key can live wherever a
//! `Signer` lives (file, HSM) and there is no second key type. Every certificate gets:
//! a random 127-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B Forum asks
//! ≥ 64 bits of randomness), a subjectKeyIdentifier (RFC 7093 §2 method 1: leftmost 160 bits
//! of the SHA-256 of the SubjectPublicKeyInfo), an authorityKeyIdentifier below the root,
//! critical basicConstraints and critical keyUsage (RFC 5280 §4.2.1.3, §4.2.1.9).

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose,
    PublicKeyData, SanType, SerialNumber,
};
use schooltas_did::{Algorithm, Signer, VerifyingKey};
use sha2::Digest as _;

use crate::{CertificateChain, Subject, Usage, Validity, X509Error};

/// Which extended key usage an issuer (school) certificate carries.
///
/// HAIP 1.0 and draft-ietf-oauth-sd-jwt-vc define none for SD-JWT VC issuer certificates, and
/// our verifier and wallet ask for none ([`Usage::Any`]), so the default is none: a certificate
/// without extendedKeyUsage is usable for any purpose (RFC 5280 §4.2.1.12). MinBZK/nl-wallet,
/// however, refuses an SD-JWT whose issuer certificate lacks the mdoc Document Signer EKU, so a
/// school whose credentials must be accepted there asks for [`IssuerEku::MdocDocumentSigner`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssuerEku {
    /// No extendedKeyUsage extension (the default).
    #[default]
    None,
    /// extendedKeyUsage = ISO/IEC 18013-5 `id-mdl-kp-mdlDS` ([`Usage::MDOC_DOCUMENT_SIGNER_OID`]).
    MdocDocumentSigner,
}

/// Which keys a CA accepts, for itself and in the certificates it issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// HAIP 1.0 (the EU wallets' profile): ES256 on P-256 for every CA and leaf.
    Haip,
    /// ES256 or EdDSA (Ed25519), for deployments outside the EU profile.
    Permissive,
}

impl Profile {
    fn check(self, algorithm: Algorithm) -> Result<(), X509Error> {
        match (self, algorithm) {
            (Profile::Haip, Algorithm::EdDsa) => {
                Err(X509Error::KeyNotAllowed { algorithm, reason: "HAIP 1.0 requires ES256 (P-256) keys" })
            }
            _ => Ok(()),
        }
    }
}

/// A certificate authority: its certificate, its signer, and the certificates between it and
/// the root (empty for the root itself).
pub struct CertificateAuthority<S: Signer> {
    signer: S,
    subject: Subject,
    profile: Profile,
    certificate: Vec<u8>,
    key_id: Vec<u8>,
    /// This CA's certificate and the intermediates above it, without the root: what follows a
    /// leaf in `x5c` (the root is the verifier's trust anchor, RFC 7515 §4.1.6 allows leaving
    /// it out and HAIP expects it left out).
    chain_above_leaf: Vec<Vec<u8>>,
}

impl<S: Signer> std::fmt::Debug for CertificateAuthority<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("subject", &self.subject)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl<S: Signer> CertificateAuthority<S> {
    /// A self-signed root CA for `signer`'s key. `path_len` limits how many intermediates may
    /// sit below it (`None`: no limit; `Some(0)`: it issues leaves only).
    pub fn root(
        signer: S,
        subject: Subject,
        validity: Validity,
        path_len: Option<u8>,
        profile: Profile,
    ) -> Result<Self, X509Error> {
        let public = RcgenPublicKey::new(signer.verifying_key(), profile)?;
        let key_id = key_identifier(&public);
        let params = ca_params(&subject, validity, path_len, key_id.clone(), false)?;
        let key = RcgenSigner::new(&signer, &public);
        let certificate = params.self_signed(&key).map_err(|error| key.error(error))?.der().to_vec();
        Ok(CertificateAuthority { signer, subject, profile, certificate, key_id, chain_above_leaf: Vec::new() })
    }

    /// A CA issued earlier (by [`CertificateAuthority::root`] or
    /// [`CertificateAuthority::issue_intermediate`]) back from its stored certificate, with its
    /// signer: for the trust-list operator between runs. `intermediates_above` are the
    /// intermediates between it and the root, nearest first (empty for a root or for an
    /// intermediate issued by the root).
    ///
    /// Refused unless the certificate parses, is a CA, has the subject shape this crate writes
    /// (`O`, then `CN`, UTF-8) and carries `signer`'s public key.
    pub fn from_certificate(
        signer: S,
        certificate_der: Vec<u8>,
        intermediates_above: Vec<Vec<u8>>,
        profile: Profile,
    ) -> Result<Self, X509Error> {
        use x509_cert::der::Decode as _;
        use x509_cert::ext::pkix::{BasicConstraints, SubjectKeyIdentifier};

        let public = RcgenPublicKey::new(signer.verifying_key(), profile)?;
        let certificate =
            x509_cert::Certificate::from_der(&certificate_der).map_err(|_| X509Error::Malformed { position: 0 })?;
        let tbs = certificate.tbs_certificate();
        if tbs.subject_public_key_info().subject_public_key.as_bytes() != Some(public.key_bits.as_slice()) {
            return Err(X509Error::KeyMismatch);
        }
        let is_ca = tbs.get_extension::<BasicConstraints>().ok().flatten().is_some_and(|(_, bc)| bc.ca);
        if !is_ca {
            return Err(X509Error::IssuerNotCa { position: 0 });
        }
        let subject = subject_written_here(tbs.subject()).ok_or(X509Error::InvalidSubject {
            field: "organization",
            reason: "not the O, CN (UTF-8) subject this crate writes",
        })?;
        let key_id = match tbs.get_extension::<SubjectKeyIdentifier>().ok().flatten() {
            Some((_, ski)) => ski.0.as_bytes().to_vec(),
            None => key_identifier(&public),
        };
        let chain_above_leaf = if tbs.subject() == tbs.issuer() {
            Vec::new()
        } else {
            let mut chain = vec![certificate_der.clone()];
            chain.extend(intermediates_above);
            chain
        };
        Ok(CertificateAuthority { signer, subject, profile, certificate: certificate_der, key_id, chain_above_leaf })
    }

    /// An intermediate CA for `signer`'s key, issued by this CA, with the same profile.
    pub fn issue_intermediate<T: Signer>(
        &self,
        signer: T,
        subject: Subject,
        validity: Validity,
        path_len: Option<u8>,
    ) -> Result<CertificateAuthority<T>, X509Error> {
        let public = RcgenPublicKey::new(signer.verifying_key(), self.profile)?;
        let key_id = key_identifier(&public);
        let params = ca_params(&subject, validity, path_len, key_id.clone(), true)?;
        let certificate = self.sign(&params, &public)?;
        let mut chain_above_leaf = vec![certificate.clone()];
        chain_above_leaf.extend(self.chain_above_leaf.iter().cloned());
        Ok(CertificateAuthority { signer, subject, profile: self.profile, certificate, key_id, chain_above_leaf })
    }

    /// The certificate of a school (credential issuer) whose issuer identifier is the https
    /// URL `issuer_identifier` (`iss` of its credentials): SAN URI = the identifier, SAN DNS =
    /// its host, subject O/CN = `subject`, for the school's key `key`.
    pub fn issue_issuer_certificate(
        &self,
        key: &VerifyingKey,
        issuer_identifier: &str,
        subject: &Subject,
        validity: Validity,
    ) -> Result<IssuedCertificate, X509Error> {
        self.issue_issuer_certificate_with_eku(key, issuer_identifier, subject, validity, IssuerEku::None)
    }

    /// [`Self::issue_issuer_certificate`] with the extended key usage `eku` (see [`IssuerEku`]
    /// for when a school needs one).
    pub fn issue_issuer_certificate_with_eku(
        &self,
        key: &VerifyingKey,
        issuer_identifier: &str,
        subject: &Subject,
        validity: Validity,
        eku: IssuerEku,
    ) -> Result<IssuedCertificate, X509Error> {
        let names = issuer_names(issuer_identifier)?;
        let ekus = match eku {
            IssuerEku::None => Vec::new(),
            IssuerEku::MdocDocumentSigner => vec![eku_purpose(&Usage::MDOC_DOCUMENT_SIGNER_OID)],
        };
        self.issue_leaf(key, names, ekus, subject, validity)
    }

    /// The certificate of a school's separate status list signing key (draft-ietf-oauth-status-list
    /// §"Key Resolution and Trust Management": the CA delegates Status List Token signing with
    /// the `id-kp-oauthStatusSigning` EKU, [`Usage::STATUS_LIST_SIGNING_OID`]): keyUsage
    /// digitalSignature, that EKU alone, and the same names as the school's issuer certificate
    /// (SAN URI = `issuer_identifier`, the `iss` of the credentials whose status it signs; SAN
    /// DNS = its host), which is how a verifier ties the status list to the credential.
    ///
    /// Give it the same `subject` as the school's issuer certificate: MinBZK/nl-wallet ties a
    /// status list certificate to the credential's by equal subject distinguished names.
    pub fn issue_status_list_certificate(
        &self,
        key: &VerifyingKey,
        issuer_identifier: &str,
        subject: &Subject,
        validity: Validity,
    ) -> Result<IssuedCertificate, X509Error> {
        let names = issuer_names(issuer_identifier)?;
        let ekus = vec![eku_purpose(&Usage::STATUS_LIST_SIGNING_OID)];
        self.issue_leaf(key, names, ekus, subject, validity)
    }

    /// The certificate of a wallet provider whose identifier is the https URL
    /// `provider_identifier` (`iss` of its wallet attestations, OpenID4VCI 1.0 Appendix E,
    /// HAIP 1.0 §4.4.1): SAN URI = the identifier, SAN DNS = its host, for the key `key` that
    /// signs the attestations. The same shape as a school's certificate, under the anchors an
    /// issuer configures for wallet providers.
    pub fn issue_wallet_provider_certificate(
        &self,
        key: &VerifyingKey,
        provider_identifier: &str,
        subject: &Subject,
        validity: Validity,
    ) -> Result<IssuedCertificate, X509Error> {
        self.issue_issuer_certificate(key, provider_identifier, subject, validity)
    }

    /// The certificate of a verifier (relying party) known by `dns_name` (OpenID4VP 1.0 §5.9.3
    /// `x509_san_dns:<dns_name>`): SAN DNS = `dns_name`, for the verifier's key `key`.
    pub fn issue_verifier_certificate(
        &self,
        key: &VerifyingKey,
        dns_name: &str,
        subject: &Subject,
        validity: Validity,
    ) -> Result<IssuedCertificate, X509Error> {
        check_dns_name(dns_name)?;
        self.issue_leaf(key, vec![dns_san(dns_name)?], Vec::new(), subject, validity)
    }

    /// This CA's certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }

    /// This CA's certificate, PEM.
    pub fn certificate_pem(&self) -> String {
        crate::pem::encode_certificate(&self.certificate)
    }

    /// This CA's subject.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// The CA's signer.
    pub fn signer(&self) -> &S {
        &self.signer
    }

    fn issue_leaf(
        &self,
        key: &VerifyingKey,
        subject_alt_names: Vec<SanType>,
        extended_key_usages: Vec<ExtendedKeyUsagePurpose>,
        subject: &Subject,
        validity: Validity,
    ) -> Result<IssuedCertificate, X509Error> {
        let public = RcgenPublicKey::new(key, self.profile)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = subject.to_distinguished_name();
        params.subject_alt_names = subject_alt_names;
        // ExplicitNoCa: a critical basicConstraints with cA false, and the subjectKeyIdentifier.
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = extended_key_usages;
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(&public));
        params.serial_number = Some(random_serial()?);
        apply_validity(&validity, &mut params)?;
        let der = self.sign(&params, &public)?;
        let mut chain = vec![der];
        chain.extend(self.chain_above_leaf.iter().cloned());
        Ok(IssuedCertificate { chain: CertificateChain::new(chain)? })
    }

    fn sign(&self, params: &CertificateParams, public: &RcgenPublicKey) -> Result<Vec<u8>, X509Error> {
        let own_public = RcgenPublicKey::new(self.signer.verifying_key(), self.profile)?;
        let key = RcgenSigner::new(&self.signer, &own_public);
        let mut issuer_params = CertificateParams::default();
        issuer_params.distinguished_name = self.subject.to_distinguished_name();
        issuer_params.key_identifier_method = KeyIdMethod::PreSpecified(self.key_id.clone());
        issuer_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = Issuer::new(issuer_params, &key);
        Ok(params.signed_by(public, &issuer).map_err(|error| key.error(error))?.der().to_vec())
    }
}

/// The subject of a certificate this crate wrote: exactly two RDNs, O then CN, each one
/// UTF8String attribute — so that the names of certificates it issues next encode identically.
fn subject_written_here(name: &x509_cert::name::Name) -> Option<Subject> {
    const ORGANIZATION: &str = "2.5.4.10";
    const COMMON_NAME: &str = "2.5.4.3";
    let rdns: Vec<_> = name.iter_rdn().collect();
    let [organization, common_name] = rdns.as_slice() else { return None };
    let value = |rdn: &x509_cert::name::RelativeDistinguishedName, oid: &str| {
        let [attribute] = rdn.as_ref().as_slice() else { return None };
        if attribute.oid.to_string() != oid {
            return None;
        }
        attribute.value.decode_as::<String>().ok()
    };
    Subject::new(&value(organization, ORGANIZATION)?, &value(common_name, COMMON_NAME)?).ok()
}

/// A leaf certificate and the intermediates up to (not including) the root.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    chain: CertificateChain,
}

impl IssuedCertificate {
    /// The leaf certificate, DER.
    pub fn der(&self) -> &[u8] {
        self.chain.leaf()
    }

    /// The leaf certificate, PEM.
    pub fn pem(&self) -> String {
        crate::pem::encode_certificate(self.chain.leaf())
    }

    /// Leaf first, then the intermediates: what goes in `x5c`.
    pub fn chain(&self) -> &CertificateChain {
        &self.chain
    }

    /// The chain, owned.
    pub fn into_chain(self) -> CertificateChain {
        self.chain
    }
}

fn ca_params(
    subject: &Subject,
    validity: Validity,
    path_len: Option<u8>,
    key_id: Vec<u8>,
    authority_key_id: bool,
) -> Result<CertificateParams, X509Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject.to_distinguished_name();
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.key_identifier_method = KeyIdMethod::PreSpecified(key_id);
    params.use_authority_key_identifier_extension = authority_key_id;
    params.serial_number = Some(random_serial()?);
    apply_validity(&validity, &mut params)?;
    Ok(params)
}

/// SAN URI = an https issuer identifier, SAN DNS = its host.
fn issuer_names(issuer_identifier: &str) -> Result<Vec<SanType>, X509Error> {
    let host = https_host(issuer_identifier)?;
    let uri = rcgen::string::Ia5String::try_from(issuer_identifier)
        .map_err(|_| X509Error::InvalidIssuerIdentifier { reason: "not ASCII" })?;
    Ok(vec![SanType::URI(uri), dns_san(host)?])
}

fn eku_purpose(oid: &x509_cert::der::asn1::ObjectIdentifier) -> ExtendedKeyUsagePurpose {
    ExtendedKeyUsagePurpose::Other(oid.arcs().map(u64::from).collect())
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the SubjectPublicKeyInfo.
fn key_identifier(public: &RcgenPublicKey) -> Vec<u8> {
    let digest = sha2::Sha256::digest(public.subject_public_key_info());
    digest[..20].to_vec()
}

fn random_serial() -> Result<SerialNumber, X509Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| X509Error::Randomness)?;
    // Positive (top bit clear) and exactly 16 octets (second bit set): 126 random bits.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn dns_san(host: &str) -> Result<SanType, X509Error> {
    rcgen::string::Ia5String::try_from(host.to_ascii_lowercase())
        .map(SanType::DnsName)
        .map_err(|_| X509Error::InvalidDnsName { reason: "not ASCII" })
}

/// The host of an `https://host[:port][/path]` issuer identifier (no userinfo, query or
/// fragment: OpenID4VCI 1.0 §12.2.1 / RFC 8414 §2 issuer identifiers have none).
pub(crate) fn https_host(identifier: &str) -> Result<&str, X509Error> {
    let invalid = |reason| X509Error::InvalidIssuerIdentifier { reason };
    let rest = identifier.strip_prefix("https://").ok_or(invalid("does not start with https://"))?;
    if identifier.contains(['?', '#']) {
        return Err(invalid("has a query or fragment"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(invalid("has user information"));
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
                return Err(invalid("has an invalid port"));
            }
            host
        }
        None => authority,
    };
    check_dns_name(host).map_err(|_| invalid("host is not a DNS name"))?;
    Ok(host)
}

/// RFC 1123 host names: labels of 1 to 63 letters, digits and hyphens (not at either end),
/// at most 253 in all, and not an IPv4 address (the last label is not numeric).
pub(crate) fn check_dns_name(name: &str) -> Result<(), X509Error> {
    let invalid = |reason| X509Error::InvalidDnsName { reason };
    if name.is_empty() || name.len() > 253 {
        return Err(invalid("empty or longer than 253 characters"));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(invalid("a label is empty or longer than 63 characters"));
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(invalid("only letters, digits, hyphens and dots are allowed"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("a label starts or ends with a hyphen"));
        }
    }
    if name.rsplit('.').next().is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid("an IP address, not a host name"));
    }
    Ok(())
}

/// A public key as rcgen wants it: the SubjectPublicKeyInfo's key bits and algorithm.
struct RcgenPublicKey {
    /// Ed25519: the 32 key bytes; P-256: the uncompressed SEC1 point (RFC 5480 §2.2; webpki
    /// and ring accept only uncompressed points).
    key_bits: Vec<u8>,
    algorithm: &'static rcgen::SignatureAlgorithm,
}

impl RcgenPublicKey {
    fn new(key: &VerifyingKey, profile: Profile) -> Result<Self, X509Error> {
        profile.check(key.algorithm())?;
        match key.algorithm() {
            Algorithm::EdDsa => {
                Ok(RcgenPublicKey { key_bits: key.to_compressed_bytes(), algorithm: &rcgen::PKCS_ED25519 })
            }
            Algorithm::Es256 => {
                let jwk = key.to_jwk();
                let coordinate = |name: &str| {
                    jwk.get(name)
                        .and_then(serde_json::Value::as_str)
                        .and_then(|text| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok())
                        .filter(|bytes| bytes.len() == 32)
                        .ok_or(X509Error::KeyNotAllowed {
                            algorithm: Algorithm::Es256,
                            reason: "P-256 key without 32-byte coordinates",
                        })
                };
                let mut key_bits = vec![0x04];
                key_bits.extend(coordinate("x")?);
                key_bits.extend(coordinate("y")?);
                Ok(RcgenPublicKey { key_bits, algorithm: &rcgen::PKCS_ECDSA_P256_SHA256 })
            }
            other => Err(X509Error::KeyNotAllowed { algorithm: other, reason: "only ES256 and EdDSA keys" }),
        }
    }
}

impl PublicKeyData for RcgenPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.key_bits
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm
    }
}

/// Our `Signer` as rcgen's signing key. rcgen's `sign` can only return its own opaque
/// `RemoteKeyError`, so the signer's error is kept here and handed back by [`Self::error`].
struct RcgenSigner<'a, S: ?Sized> {
    signer: &'a S,
    public: &'a RcgenPublicKey,
    failure: std::cell::RefCell<Option<schooltas_did::Error>>,
}

impl<'a, S: Signer + ?Sized> RcgenSigner<'a, S> {
    fn new(signer: &'a S, public: &'a RcgenPublicKey) -> Self {
        RcgenSigner { signer, public, failure: std::cell::RefCell::new(None) }
    }

    /// The error to report for `error` from rcgen: the signer's own if it failed.
    fn error(&self, error: rcgen::Error) -> X509Error {
        match self.failure.borrow_mut().take() {
            Some(signer_error) => X509Error::Signer(signer_error),
            None => X509Error::Issuance(Box::new(error)),
        }
    }
}

impl<S: Signer + ?Sized> PublicKeyData for RcgenSigner<'_, S> {
    fn der_bytes(&self) -> &[u8] {
        self.public.der_bytes()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.public.algorithm
    }
}

impl<S: Signer + ?Sized> rcgen::SigningKey for RcgenSigner<'_, S> {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature = self.signer.sign(message).map_err(|error| {
            *self.failure.borrow_mut() = Some(error);
            rcgen::Error::RemoteKeyError
        })?;
        match self.signer.algorithm() {
            Algorithm::EdDsa => Ok(signature.as_bytes().to_vec()),
            // JWS carries r‖s (RFC 7518 §3.4); X.509 carries a DER Ecdsa-Sig-Value (RFC 3279 §2.2.3).
            Algorithm::Es256 => p256::ecdsa::Signature::from_slice(signature.as_bytes())
                .map(|signature| signature.to_der().as_bytes().to_vec())
                .map_err(|_| rcgen::Error::RemoteKeyError),
            _ => Err(rcgen::Error::RemoteKeyError),
        }
    }
}

/// Writes `validity` into rcgen's parameters.
fn apply_validity(validity: &Validity, params: &mut CertificateParams) -> Result<(), X509Error> {
    let invalid = |_| X509Error::InvalidValidity { not_before: validity.not_before(), not_after: validity.not_after() };
    params.not_before = time::OffsetDateTime::from_unix_timestamp(validity.not_before()).map_err(invalid)?;
    params.not_after = time::OffsetDateTime::from_unix_timestamp(validity.not_after()).map_err(invalid)?;
    Ok(())
}
