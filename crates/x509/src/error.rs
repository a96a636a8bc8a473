//! The one error type of this crate: every refusal names the rule that failed and, for a chain,
//! the position of the certificate (0 = the leaf, as in `x5c`).

/// Why a certificate could not be issued, or a chain was refused.
///
/// Never carries key material or certificate contents beyond OIDs, positions and times.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum X509Error {
    /// A `Subject` field is empty, too long (RFC 5280 upper bounds: 64) or has control characters.
    #[error("subject {field} is not usable: {reason}")]
    InvalidSubject {
        /// `organization` or `common_name`.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The issuer identifier is not an `https://host[:port][/path]` URL with a DNS host.
    #[error("issuer identifier is not an https URL with a DNS host name: {reason}")]
    InvalidIssuerIdentifier {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The DNS name is not a valid host name (letters, digits, hyphens, dots; at most 253).
    #[error("not a valid DNS host name: {reason}")]
    InvalidDnsName {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The validity period is empty or reversed, or outside what X.509 can express.
    #[error("validity period is not usable: not_before {not_before}, not_after {not_after}")]
    InvalidValidity {
        /// Start, unix seconds.
        not_before: i64,
        /// End, unix seconds.
        not_after: i64,
    },
    /// The key cannot sign certificates in this profile (e.g. an Ed25519 key for a HAIP CA).
    #[error("key algorithm {algorithm} is not allowed here: {reason}")]
    KeyNotAllowed {
        /// The key's algorithm (`EdDSA` or `ES256`).
        algorithm: schooltas_did::Algorithm,
        /// Which rule refuses it.
        reason: &'static str,
    },
    /// The CA's signer failed to sign the certificate.
    #[error("the CA's signer failed")]
    Signer(#[source] schooltas_did::Error),
    /// rcgen could not encode the certificate (e.g. a name it cannot write).
    #[error("the certificate could not be encoded")]
    Issuance(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored CA certificate does not carry the given signer's public key.
    #[error("the CA certificate's public key is not the signer's")]
    KeyMismatch,
    /// No randomness for a serial number.
    #[error("no operating-system randomness for a certificate serial number")]
    Randomness,

    /// A chain needs at least one certificate.
    #[error("certificate chain is empty")]
    EmptyChain,
    /// More certificates than a chain may hold.
    #[error("certificate chain has {count} certificates, at most {max} are accepted")]
    ChainTooLong {
        /// Certificates given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// `x5c` is not a JSON array of strings.
    #[error("x5c is not a JSON array of strings")]
    X5cNotArray,
    /// An `x5c` entry is not standard base64 with padding (RFC 7515 §4.1.6; base64url is refused).
    #[error("x5c entry {position} is not standard base64 with padding")]
    X5cBase64 {
        /// Index in the array.
        position: usize,
    },
    /// A certificate is larger than accepted.
    #[error("certificate {position} is {len} bytes, at most {max} are accepted")]
    CertificateTooLarge {
        /// Index in the chain.
        position: usize,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A certificate is not DER X.509.
    #[error("certificate {position} is not a DER X.509 certificate")]
    Malformed {
        /// Index in the chain (or in the anchor list, for anchors).
        position: usize,
    },
    /// A PEM input holds no certificate, or a malformed one.
    #[error("PEM input holds no usable CERTIFICATE block")]
    Pem,
    /// No trust anchors were given.
    #[error("no trust anchors given")]
    NoTrustAnchors,

    /// A signature or key algorithm outside ecdsa-with-SHA256 on P-256 and Ed25519.
    #[error(
        "certificate {position} uses weak or unsupported algorithm {oid} (only ecdsa-with-SHA256 on P-256 and Ed25519 are accepted)"
    )]
    UnsupportedAlgorithm {
        /// Index in the chain.
        position: usize,
        /// The refused OID, dotted.
        oid: String,
    },
    /// `now` is before a certificate's notBefore.
    #[error("certificate {position} is not yet valid: notBefore {not_before}, now {now}")]
    NotYetValid {
        /// Index in the chain (the anchor counts after the chain).
        position: usize,
        /// notBefore, unix seconds.
        not_before: i64,
        /// The time validated at.
        now: i64,
    },
    /// `now` is after a certificate's notAfter.
    #[error("certificate {position} has expired: notAfter {not_after}, now {now}")]
    Expired {
        /// Index in the chain (the anchor counts after the chain).
        position: usize,
        /// notAfter, unix seconds.
        not_after: i64,
        /// The time validated at.
        now: i64,
    },
    /// A critical extension this validator does not understand (RFC 5280 §4.2).
    #[error("certificate {position} has unknown critical extension {oid}")]
    UnknownCriticalExtension {
        /// Index in the chain.
        position: usize,
        /// The extension's OID, dotted.
        oid: String,
    },
    /// An extension appears twice or does not parse.
    #[error("certificate {position} has a malformed or repeated extension {oid}")]
    MalformedExtension {
        /// Index in the chain.
        position: usize,
        /// The extension's OID, dotted.
        oid: String,
    },
    /// The leaf is a CA certificate (basicConstraints cA true).
    #[error("the leaf certificate is a CA certificate")]
    LeafIsCa,
    /// The leaf has no keyUsage digitalSignature.
    #[error("the leaf certificate lacks keyUsage digitalSignature")]
    MissingDigitalSignature,
    /// An issuing certificate is not a CA (basicConstraints missing or cA false).
    #[error("certificate {position} issues another but is not a CA (basicConstraints)")]
    IssuerNotCa {
        /// Index in the chain (the anchor counts after the chain).
        position: usize,
    },
    /// An issuing certificate lacks keyUsage keyCertSign.
    #[error("certificate {position} issues another but lacks keyUsage keyCertSign")]
    MissingKeyCertSign {
        /// Index in the chain (the anchor counts after the chain).
        position: usize,
    },
    /// More intermediates below a CA than its pathLenConstraint allows.
    #[error("certificate {position} allows {path_len} intermediates below it, the chain has {below}")]
    PathLenExceeded {
        /// Index in the chain (the anchor counts after the chain).
        position: usize,
        /// Its pathLenConstraint.
        path_len: u8,
        /// Intermediates below it.
        below: usize,
    },
    /// A certificate's issuer name is not the next certificate's subject.
    #[error("certificate {position}'s issuer is not the subject of the certificate after it")]
    BrokenChain {
        /// Index in the chain.
        position: usize,
    },
    /// The chain does not end at (or just below) any configured trust anchor.
    #[error("the chain does not lead to any configured trust anchor")]
    UnknownAnchor,
    /// A signature in the path does not verify.
    #[error("a certificate signature in the chain does not verify")]
    BadSignature,
    /// The leaf lacks the extended key usage asked for, while having an EKU extension.
    #[error("the leaf's extended key usage does not include the one required")]
    RequiredEkuMissing,
    /// The leaf's public key is not usable as a Schooltas verifying key.
    #[error("the leaf certificate's public key is not a valid P-256 or Ed25519 key")]
    LeafKey,
    /// The path validator refused the chain for another reason.
    #[error("certificate path refused: {reason}")]
    PathRefused {
        /// The validator's reason.
        reason: &'static str,
    },
}
