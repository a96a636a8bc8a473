//! Validation of a chain to the trust anchors at an injected time.
//!
//! Two layers (docs/decisions/0019): x509-cert parses every certificate first and applies this
//! profile's rules with typed refusals (algorithms, validity, basicConstraints and pathLen,
//! keyUsage, critical extensions, name chaining); then rustls-webpki — the path validator
//! rustls itself trusts — builds the path and verifies every signature, and checks validity,
//! basicConstraints, name constraints and EKU again. A chain passes only if both accept it.

use schooltas_did::VerifyingKey;
use webpki::{ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter};
use x509_cert::Certificate;
use x509_cert::der::Decode as _;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

use crate::chain::x509_hash;
use crate::{CertificateChain, TrustAnchors, X509Error};

/// `ecdsa-with-SHA256` (RFC 5758 §3.2) and `id-Ed25519` (RFC 8410 §3).
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
const ED25519: &str = "1.3.101.112";
/// `id-ecPublicKey` (RFC 5480 §2.1.1) and `secp256r1` (RFC 5480 §2.1.1.1).
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const SECP256R1: &str = "1.2.840.10045.3.1.7";

const BASIC_CONSTRAINTS: &str = "2.5.29.19";
const KEY_USAGE: &str = "2.5.29.15";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";
const EXT_KEY_USAGE: &str = "2.5.29.37";
/// The extensions understood here and by webpki; any other marked critical is refused
/// (RFC 5280 §4.2: "A certificate-using system MUST reject the certificate if it encounters a
/// critical extension it does not recognize").
const UNDERSTOOD: [&str; 6] = [
    KEY_USAGE,
    SUBJECT_ALT_NAME,
    BASIC_CONSTRAINTS,
    "2.5.29.30", // nameConstraints
    "2.5.29.31", // cRLDistributionPoints
    EXT_KEY_USAGE,
];

/// Which extended key usage the chain must allow.
///
/// As in rustls-webpki (and browsers), the rule applies to every certificate of the path that
/// has an extendedKeyUsage extension, intermediates included, not only the leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Usage {
    /// No requirement (HAIP defines no EKU for issuer or request-signing certificates).
    Any,
    /// If a certificate has an extendedKeyUsage extension, it must list this OID.
    RequiredIfPresent(ObjectIdentifier),
    /// The leaf must have an extendedKeyUsage extension that lists this OID (RFC 5280
    /// §4.2.1.12: the issuer delegates exactly this purpose); an intermediate that has an
    /// extendedKeyUsage extension must list it too, one without the extension passes.
    Required(ObjectIdentifier),
}

impl Usage {
    /// `id-kp-oauthStatusSigning`, the KeyPurposeId that delegates Status List Token signing
    /// (draft-ietf-oauth-status-list §"X.509 Certificate Extended Key Usage Extension").
    ///
    /// **Placeholder**: the draft still writes `{ id-kp TBD }` (IANA has not assigned the
    /// number). This is `id-kp` (1.3.6.1.5.5.7.3) `.127`, the value MinBZK/nl-wallet uses for
    /// the same purpose (`wallet_core/lib/crypto/src/x509/usage.rs`, "made up, the real child
    /// node is TBD"), so that status list certificates interoperate with it until IANA assigns
    /// the real one; then this constant changes (docs/decisions/0021).
    pub const STATUS_LIST_SIGNING_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.127");

    /// ISO/IEC 18013-5 `id-mdl-kp-mdlDS` (1.0.18013.5.1.2), the mdoc Document Signer EKU.
    /// HAIP defines no EKU for SD-JWT VC issuer certificates, but MinBZK/nl-wallet requires this
    /// one on them too (`wallet_core/lib/sd_jwt/src/sd_jwt.rs`, `CertificateUsage::Mdl`); see
    /// [`crate::IssuerEku`].
    pub const MDOC_DOCUMENT_SIGNER_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.0.18013.5.1.2");

    /// The usage a status list token's certificate must allow when its key is not the
    /// credential's own: [`Usage::Required`] with [`Usage::STATUS_LIST_SIGNING_OID`].
    pub fn status_list_signing() -> Usage {
        Usage::Required(Self::STATUS_LIST_SIGNING_OID)
    }

    /// [`Usage::Required`] with [`Usage::MDOC_DOCUMENT_SIGNER_OID`]: what nl-wallet asks of an
    /// SD-JWT issuer certificate (ours accept [`Usage::Any`]).
    pub fn mdoc_document_signer() -> Usage {
        Usage::Required(Self::MDOC_DOCUMENT_SIGNER_OID)
    }

    /// The leaf-only part of [`Usage::Required`]; webpki applies the if-present rule to the
    /// whole path.
    fn check_leaf(&self, extensions: &Extensions) -> Result<(), X509Error> {
        match self {
            Usage::Required(oid) if !extensions.extended_key_usage.as_ref().is_some_and(|eku| eku.0.contains(oid)) => {
                Err(X509Error::RequiredEkuMissing)
            }
            _ => Ok(()),
        }
    }
}

impl ExtendedKeyUsageValidator for Usage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let mut present = false;
        let mut found = false;
        for purpose in iter {
            let purpose = purpose?;
            present = true;
            if let Usage::RequiredIfPresent(oid) | Usage::Required(oid) = self {
                // Compared as DER content bytes: webpki 0.103's `to_decoded_oid` shifts each
                // base-128 digit by 8 bits, so it decodes any arc above 127 wrongly (18013 of
                // the mdoc EKU, for one).
                found |= purpose == KeyPurposeId::new(oid.as_bytes());
            }
        }
        match self {
            // The context variant has private fields; webpki's own KeyUsage returns this one too.
            #[allow(deprecated)]
            Usage::RequiredIfPresent(_) | Usage::Required(_) if present && !found => {
                Err(webpki::Error::RequiredEkuNotFound)
            }
            _ => Ok(()),
        }
    }
}

/// A chain that [`validate`] accepted: the leaf's key and names, and the anchor it leads to.
#[derive(Clone, Debug)]
pub struct ValidatedChain {
    verifying_key: VerifyingKey,
    san_uris: Vec<String>,
    san_dns_names: Vec<String>,
    organization: Option<String>,
    common_name: Option<String>,
    x509_hash: String,
    anchor_index: usize,
}

impl ValidatedChain {
    /// The leaf's public key, to verify the JWS that carried the chain.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }

    /// The leaf's subjectAltName URIs.
    pub fn san_uris(&self) -> &[String] {
        &self.san_uris
    }

    /// The leaf's subjectAltName DNS names.
    pub fn san_dns_names(&self) -> &[String] {
        &self.san_dns_names
    }

    /// The leaf's subject organisation (O), if any.
    pub fn organization(&self) -> Option<&str> {
        self.organization.as_deref()
    }

    /// The leaf's subject common name (CN), if any.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// OpenID4VP 1.0 §5.9.3 `x509_hash` of the leaf.
    pub fn leaf_x509_hash(&self) -> &str {
        &self.x509_hash
    }

    /// Which of the [`TrustAnchors`] the chain leads to (index in `TrustAnchors::certificates`).
    pub fn anchor_index(&self) -> usize {
        self.anchor_index
    }

    /// Whether `iss` (an https URL) names this leaf. Follows draft-ietf-oauth-sd-jwt-vc's
    /// X.509 rule (§ "Issuer-signed JWT Verification Key Validation", since -04): other than a
    /// DNS URI (RFC 4501), "the `iss` value MUST match a `uniformResourceIdentifier` SAN entry
    /// of the leaf certificate" — an exact, case-sensitive comparison. Our issuer certificates
    /// also carry the host as a dNSName, for verifiers that follow HAIP's older FQDN text.
    pub fn matches_https_issuer(&self, iss: &str) -> bool {
        iss.starts_with("https://") && self.san_uris.iter().any(|uri| uri == iss)
    }

    /// Whether `dns` is one of the leaf's dNSName SANs (ASCII case-insensitive, RFC 4343);
    /// OpenID4VP 1.0 §5.9.3 `x509_san_dns`. No wildcard matching.
    pub fn matches_dns(&self, dns: &str) -> bool {
        self.san_dns_names.iter().any(|name| name.eq_ignore_ascii_case(dns))
    }
}

/// Validates `chain` (leaf first) to one of `anchors` at `now` (unix seconds), for `usage`.
///
/// A trailing copy of an anchor in the chain is tolerated and ignored. Every refusal is a
/// specific [`X509Error`] variant naming the certificate's position (0 = leaf).
pub fn validate(
    chain: &CertificateChain,
    anchors: &TrustAnchors,
    now: i64,
    usage: Usage,
) -> Result<ValidatedChain, X509Error> {
    let mut ders: Vec<&[u8]> = chain.certificates().iter().map(Vec::as_slice).collect();
    if ders.len() > 1 && ders.last().is_some_and(|last| anchors.certificates().iter().any(|a| a.as_slice() == *last)) {
        ders.pop();
    }
    let certificates = ders
        .iter()
        .enumerate()
        .map(|(position, der)| Certificate::from_der(der).map_err(|_| X509Error::Malformed { position }))
        .collect::<Result<Vec<_>, _>>()?;

    // Algorithms first, over the whole chain: a weak certificate anywhere is named as such,
    // whatever else is wrong with the chain.
    for (position, certificate) in certificates.iter().enumerate() {
        check_algorithms(position, certificate)?;
    }
    for (position, certificate) in certificates.iter().enumerate() {
        check_validity(position, certificate, now)?;
        let extensions = Extensions::read(position, certificate)?;
        if position == 0 {
            if extensions.basic_constraints.as_ref().is_some_and(|bc| bc.ca) {
                return Err(X509Error::LeafIsCa);
            }
            if !extensions.key_usage.is_some_and(|ku| ku.digital_signature()) {
                return Err(X509Error::MissingDigitalSignature);
            }
            usage.check_leaf(&extensions)?;
        } else {
            check_issuer(position, &extensions)?;
        }
        if let Some(issuer) = certificates.get(position + 1)
            && certificate.tbs_certificate().issuer() != issuer.tbs_certificate().subject()
        {
            return Err(X509Error::BrokenChain { position });
        }
    }

    // The top certificate must be issued by an anchor (by name here; by signature below).
    let top = certificates.last().ok_or(X509Error::EmptyChain)?;
    let parsed_anchors = anchors.certificates().iter().map(|der| Certificate::from_der(der).ok()).collect::<Vec<_>>();
    if !parsed_anchors
        .iter()
        .flatten()
        .any(|anchor| anchor.tbs_certificate().subject() == top.tbs_certificate().issuer())
    {
        return Err(X509Error::UnknownAnchor);
    }

    let anchor_index = verify_path(&ders, anchors, now, &usage)?;
    let anchor_position = certificates.len();
    let anchor = parsed_anchors.get(anchor_index).and_then(Option::as_ref).ok_or(X509Error::UnknownAnchor)?;
    check_algorithms(anchor_position, anchor)?;
    check_validity(anchor_position, anchor, now)?;
    check_issuer(anchor_position, &Extensions::read(anchor_position, anchor)?)?;

    let leaf = certificates.first().ok_or(X509Error::EmptyChain)?;
    let (san_uris, san_dns_names) = subject_alt_names(leaf)?;
    let subject = leaf.tbs_certificate().subject();
    let organization = subject.organization().ok().flatten().map(String::from);
    let common_name = subject.common_name().ok().flatten().map(String::from);
    Ok(ValidatedChain {
        verifying_key: leaf_key(leaf)?,
        san_uris,
        san_dns_names,
        organization,
        common_name,
        x509_hash: x509_hash(ders.first().copied().unwrap_or_default()),
        anchor_index,
    })
}

/// rustls-webpki: path building and every signature. Returns the anchor's index.
fn verify_path(ders: &[&[u8]], anchors: &TrustAnchors, now: i64, usage: &Usage) -> Result<usize, X509Error> {
    use rustls_pki_types::{CertificateDer, UnixTime};

    let anchor_ders: Vec<CertificateDer<'_>> =
        anchors.certificates().iter().map(|der| CertificateDer::from(der.as_slice())).collect();
    let trust_anchors = anchor_ders
        .iter()
        .enumerate()
        .map(|(position, der)| webpki::anchor_from_trusted_cert(der).map_err(|_| X509Error::Malformed { position }))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = CertificateDer::from(ders.first().copied().unwrap_or_default());
    let intermediates: Vec<CertificateDer<'_>> = ders.iter().skip(1).map(|der| CertificateDer::from(*der)).collect();
    let end_entity = webpki::EndEntityCert::try_from(&leaf).map_err(|_| X509Error::Malformed { position: 0 })?;
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(u64::try_from(now).unwrap_or(0)));
    let path = end_entity
        .verify_for_usage(crate::algorithms::ALL, &trust_anchors, &intermediates, time, usage, None, None)
        .map_err(webpki_error)?;
    let matched = path.anchor();
    trust_anchors
        .iter()
        .position(|anchor| {
            anchor.subject == matched.subject && anchor.subject_public_key_info == matched.subject_public_key_info
        })
        .ok_or(X509Error::UnknownAnchor)
}

fn webpki_error(error: webpki::Error) -> X509Error {
    use webpki::Error as E;
    match error {
        E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => X509Error::BadSignature,
        E::UnknownIssuer => X509Error::UnknownAnchor,
        E::CaUsedAsEndEntity => X509Error::LeafIsCa,
        #[allow(deprecated)]
        E::RequiredEkuNotFoundContext(_) | E::RequiredEkuNotFound => X509Error::RequiredEkuMissing,
        E::CertExpired { .. } | E::CertNotValidYet { .. } => X509Error::PathRefused { reason: "outside validity" },
        E::PathLenConstraintViolated => X509Error::PathRefused { reason: "pathLenConstraint violated" },
        E::EndEntityUsedAsCa => X509Error::PathRefused { reason: "end-entity certificate used as CA" },
        E::UnsupportedCriticalExtension => X509Error::PathRefused { reason: "unsupported critical extension" },
        E::NameConstraintViolation => X509Error::PathRefused { reason: "name constraint violated" },
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded => {
            X509Error::PathRefused { reason: "path too long or too many candidates" }
        }
        E::UnsupportedSignatureAlgorithmContext(_) | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            X509Error::PathRefused { reason: "unsupported signature algorithm" }
        }
        _ => X509Error::PathRefused { reason: "certificate refused by the path validator" },
    }
}

/// Only ecdsa-with-SHA256 over P-256 and Ed25519, for the signature and the subject key.
fn check_algorithms(position: usize, certificate: &Certificate) -> Result<(), X509Error> {
    let unsupported = |oid: String| X509Error::UnsupportedAlgorithm { position, oid };
    let signature = certificate.signature_algorithm();
    let signature_oid = signature.oid.to_string();
    if signature_oid != ECDSA_WITH_SHA256 && signature_oid != ED25519 {
        return Err(unsupported(signature_oid));
    }
    // RFC 5758 §3.2 / RFC 8410 §3: the parameters are absent; RFC 5280 §4.1.1.2: the outer
    // and inner algorithm identifiers are the same.
    if signature.parameters.is_some() || certificate.tbs_certificate().signature() != signature {
        return Err(X509Error::Malformed { position });
    }
    let spki = &certificate.tbs_certificate().subject_public_key_info().algorithm;
    match spki.oid.to_string().as_str() {
        ED25519 if spki.parameters.is_none() => Ok(()),
        EC_PUBLIC_KEY => {
            let curve = spki
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.decode_as::<ObjectIdentifier>().ok())
                .ok_or(X509Error::Malformed { position })?
                .to_string();
            if curve == SECP256R1 { Ok(()) } else { Err(unsupported(curve)) }
        }
        ED25519 => Err(X509Error::Malformed { position }),
        other => Err(unsupported(other.to_owned())),
    }
}

fn check_validity(position: usize, certificate: &Certificate, now: i64) -> Result<(), X509Error> {
    let validity = certificate.tbs_certificate().validity();
    let seconds = |time: x509_cert::time::Time| i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let not_before = seconds(validity.not_before);
    let not_after = seconds(validity.not_after);
    if now < not_before {
        return Err(X509Error::NotYetValid { position, not_before, now });
    }
    if now > not_after {
        return Err(X509Error::Expired { position, not_after, now });
    }
    Ok(())
}

/// The extensions this profile reads; unknown critical ones and duplicates are refused.
struct Extensions {
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    extended_key_usage: Option<ExtendedKeyUsage>,
}

impl Extensions {
    fn read(position: usize, certificate: &Certificate) -> Result<Self, X509Error> {
        let mut seen: Vec<String> = Vec::new();
        let mut out = Extensions { basic_constraints: None, key_usage: None, extended_key_usage: None };
        for extension in certificate.tbs_certificate().extensions().map(Vec::as_slice).unwrap_or_default() {
            let oid = extension.extn_id.to_string();
            let malformed = || X509Error::MalformedExtension { position, oid: oid.clone() };
            if seen.contains(&oid) {
                return Err(malformed());
            }
            if extension.critical && !UNDERSTOOD.contains(&oid.as_str()) {
                return Err(X509Error::UnknownCriticalExtension { position, oid });
            }
            let value = extension.extn_value.as_bytes();
            match oid.as_str() {
                BASIC_CONSTRAINTS => {
                    out.basic_constraints = Some(BasicConstraints::from_der(value).map_err(|_| malformed())?);
                }
                KEY_USAGE => out.key_usage = Some(KeyUsage::from_der(value).map_err(|_| malformed())?),
                EXT_KEY_USAGE => {
                    out.extended_key_usage = Some(ExtendedKeyUsage::from_der(value).map_err(|_| malformed())?);
                }
                _ => {}
            }
            seen.push(oid);
        }
        Ok(out)
    }
}

/// An issuing certificate (chain position ≥ 1, or the anchor): a CA with keyCertSign, and no
/// more intermediates below it than its pathLenConstraint (RFC 5280 §4.2.1.9).
fn check_issuer(position: usize, extensions: &Extensions) -> Result<(), X509Error> {
    let Some(constraints) = extensions.basic_constraints.as_ref().filter(|bc| bc.ca) else {
        return Err(X509Error::IssuerNotCa { position });
    };
    if !extensions.key_usage.is_some_and(|ku| ku.key_cert_sign()) {
        return Err(X509Error::MissingKeyCertSign { position });
    }
    let below = position.saturating_sub(1);
    if let Some(path_len) = constraints.path_len_constraint
        && below > usize::from(path_len)
    {
        return Err(X509Error::PathLenExceeded { position, path_len, below });
    }
    Ok(())
}

fn subject_alt_names(leaf: &Certificate) -> Result<(Vec<String>, Vec<String>), X509Error> {
    let mut uris = Vec::new();
    let mut dns_names = Vec::new();
    let san = leaf
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .map_err(|_| X509Error::MalformedExtension { position: 0, oid: SUBJECT_ALT_NAME.to_owned() })?;
    if let Some((_, SubjectAltName(names))) = san {
        for name in names {
            match name {
                GeneralName::UniformResourceIdentifier(uri) => uris.push(uri.to_string()),
                GeneralName::DnsName(dns) => dns_names.push(dns.to_string()),
                _ => {}
            }
        }
    }
    Ok((uris, dns_names))
}

pub(crate) fn leaf_key(leaf: &Certificate) -> Result<VerifyingKey, X509Error> {
    let spki = leaf.tbs_certificate().subject_public_key_info();
    let bits = spki.subject_public_key.as_bytes().ok_or(X509Error::LeafKey)?;
    if spki.algorithm.oid.to_string() == ED25519 {
        let bytes: &[u8; 32] = bits.try_into().map_err(|_| X509Error::LeafKey)?;
        VerifyingKey::from_ed25519_bytes(bytes).map_err(|_| X509Error::LeafKey)
    } else {
        VerifyingKey::from_p256_sec1(bits).map_err(|_| X509Error::LeafKey)
    }
}
