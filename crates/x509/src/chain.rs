//! Certificate chains as they travel in a JOSE header (`x5c`, RFC 7515 §4.1.6: a JSON array of
//! standard-base64 — not base64url — DER certificates, leaf first) and the trust anchors they
//! are validated against.

use base64::Engine as _;
use serde_json::Value;
use sha2::Digest as _;

use crate::X509Error;

/// The most certificates a chain may hold: leaf, up to three intermediates, and a copy of the
/// root (tolerated, RFC 7515 §4.1.6 lets it be sent).
pub const MAX_CHAIN_LEN: usize = 5;

/// The largest certificate accepted, bytes. Ours are about 600; EU issuers' under 4 KiB.
pub const MAX_CERTIFICATE_LEN: usize = 16 * 1024;

/// A non-empty list of DER certificates, leaf first, each followed by its issuer.
///
/// Only structure is checked here (count, size); [`crate::validate`] checks the rest.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateChain {
    certificates: Vec<Vec<u8>>,
}

impl std::fmt::Debug for CertificateChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateChain").field("len", &self.certificates.len()).finish_non_exhaustive()
    }
}

impl CertificateChain {
    /// A chain of DER certificates, leaf first: 1 to [`MAX_CHAIN_LEN`] certificates of at most
    /// [`MAX_CERTIFICATE_LEN`] bytes.
    pub fn new(certificates: Vec<Vec<u8>>) -> Result<Self, X509Error> {
        if certificates.is_empty() {
            return Err(X509Error::EmptyChain);
        }
        if certificates.len() > MAX_CHAIN_LEN {
            return Err(X509Error::ChainTooLong { count: certificates.len(), max: MAX_CHAIN_LEN });
        }
        for (position, der) in certificates.iter().enumerate() {
            if der.len() > MAX_CERTIFICATE_LEN {
                return Err(X509Error::CertificateTooLarge { position, len: der.len(), max: MAX_CERTIFICATE_LEN });
            }
        }
        Ok(CertificateChain { certificates })
    }

    /// Reads an `x5c` header value strictly: a JSON array of 1 to [`MAX_CHAIN_LEN`] strings,
    /// each standard base64 with padding (RFC 4648 §4; base64url, missing padding and
    /// whitespace are refused) of at most [`MAX_CERTIFICATE_LEN`] bytes.
    pub fn from_x5c(value: &Value) -> Result<Self, X509Error> {
        let entries = value.as_array().ok_or(X509Error::X5cNotArray)?;
        if entries.is_empty() {
            return Err(X509Error::EmptyChain);
        }
        if entries.len() > MAX_CHAIN_LEN {
            return Err(X509Error::ChainTooLong { count: entries.len(), max: MAX_CHAIN_LEN });
        }
        // Base64 is 4/3 of the bytes: anything longer than this decodes to too large a certificate.
        let max_text = MAX_CERTIFICATE_LEN.div_ceil(3) * 4;
        let mut certificates = Vec::with_capacity(entries.len());
        for (position, entry) in entries.iter().enumerate() {
            let text = entry.as_str().ok_or(X509Error::X5cNotArray)?;
            if text.len() > max_text {
                return Err(X509Error::CertificateTooLarge {
                    position,
                    len: text.len() / 4 * 3,
                    max: MAX_CERTIFICATE_LEN,
                });
            }
            let der = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| X509Error::X5cBase64 { position })?;
            if der.is_empty() {
                return Err(X509Error::Malformed { position });
            }
            certificates.push(der);
        }
        CertificateChain::new(certificates)
    }

    /// The `x5c` header value: standard base64 with padding, leaf first.
    pub fn to_x5c(&self) -> Value {
        Value::Array(
            self.certificates
                .iter()
                .map(|der| Value::String(base64::engine::general_purpose::STANDARD.encode(der)))
                .collect(),
        )
    }

    /// The leaf certificate, DER.
    pub fn leaf(&self) -> &[u8] {
        // `new` refuses an empty chain.
        self.certificates.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// All certificates, leaf first.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }

    /// How many certificates.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Always false: a chain has a leaf.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// OpenID4VP 1.0 §5.9.3 `x509_hash`: base64url (no padding) SHA-256 of the leaf's DER.
    pub fn leaf_x509_hash(&self) -> String {
        x509_hash(self.leaf())
    }

    /// A chain from PEM `CERTIFICATE` blocks, leaf first (as a CA hands a certificate back:
    /// the leaf, then the intermediates; the root may be left out). Other PEM blocks are
    /// skipped; no certificate at all is [`X509Error::Pem`].
    pub fn from_pem(pem: &str) -> Result<Self, X509Error> {
        CertificateChain::new(crate::pem::decode_certificates(pem)?)
    }

    /// The chain as PEM, leaf first.
    pub fn to_pem(&self) -> String {
        self.certificates.iter().map(|der| crate::pem::encode_certificate(der)).collect()
    }

    /// The public key the leaf certifies, read without validating anything: for a key holder
    /// checking its own configuration (does this chain belong to my key?). A relying party
    /// uses [`crate::validate`] and [`crate::ValidatedChain::verifying_key`].
    pub fn unvalidated_leaf_key(&self) -> Result<schooltas_did::VerifyingKey, X509Error> {
        crate::validate::leaf_key(&parse_leaf(self.leaf())?)
    }

    /// The leaf's validity period (notBefore, notAfter), read without validating anything:
    /// for a key holder checking at start that its certificate has not expired.
    pub fn unvalidated_leaf_validity(&self) -> Result<crate::Validity, X509Error> {
        let leaf = parse_leaf(self.leaf())?;
        let validity = leaf.tbs_certificate().validity();
        let seconds =
            |time: x509_cert::time::Time| i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        crate::Validity::new(seconds(validity.not_before), seconds(validity.not_after))
    }
}

fn parse_leaf(der: &[u8]) -> Result<x509_cert::Certificate, X509Error> {
    use x509_cert::der::Decode as _;
    x509_cert::Certificate::from_der(der).map_err(|_| X509Error::Malformed { position: 0 })
}

pub(crate) fn x509_hash(der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der))
}

/// The CA certificates a validator trusts (for Schooltas: the trust-list operator's roots).
#[derive(Clone, PartialEq, Eq)]
pub struct TrustAnchors {
    certificates: Vec<Vec<u8>>,
}

impl std::fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustAnchors").field("len", &self.certificates.len()).finish_non_exhaustive()
    }
}

impl TrustAnchors {
    /// Anchors from DER certificates; each must parse as a certificate that can serve as an
    /// anchor (`X509Error::Malformed { position }` names the one that does not).
    pub fn from_der(certificates: Vec<Vec<u8>>) -> Result<Self, X509Error> {
        if certificates.is_empty() {
            return Err(X509Error::NoTrustAnchors);
        }
        for (position, der) in certificates.iter().enumerate() {
            let der_ref = rustls_pki_types::CertificateDer::from(der.as_slice());
            webpki::anchor_from_trusted_cert(&der_ref).map_err(|_| X509Error::Malformed { position })?;
        }
        Ok(TrustAnchors { certificates })
    }

    /// Anchors from the `CERTIFICATE` blocks of a PEM text (one or more).
    pub fn from_pem(pem: &str) -> Result<Self, X509Error> {
        TrustAnchors::from_der(crate::pem::decode_certificates(pem)?)
    }

    /// The anchors' certificates, DER, in the order given.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }
}
