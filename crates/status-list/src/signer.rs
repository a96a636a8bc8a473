//! Who may sign the status list token a credential points at.
//!
//! The draft leaves key resolution to the ecosystem (draft-ietf-oauth-status-list §"Key
//! Resolution and Trust Management") and offers two ways: the status list token is signed with
//! the very key that signed the credential (the same `x5c`, `kid`, …), or the issuer's CA
//! delegates status list signing to another key through an X.509 certificate carrying the
//! `id-kp-oauthStatusSigning` extended key usage (§"X.509 Certificate Extended Key Usage
//! Extension"). [`status_list_signer_key`] applies our rule for both (docs/decisions/0021):
//!
//! - no `x5c` in the token's header: the token must verify with the credential's key, as
//!   before (the key is whatever the credential's own trust path — DID, `x5c`, metadata — found);
//! - an `x5c` for a DID issuer: refused, a DID issuer's keys come from its DID document;
//! - an `x5c` for an `https` issuer: the chain must lead to one of the trust anchors at `now`,
//!   and its leaf must name the credential's `iss` as a SAN URI (the same rule as the issuer's
//!   own certificate, draft-ietf-oauth-sd-jwt-vc); the leaf's key must be the credential's key
//!   (the issuer's own certificate, no EKU needed) or carry the status list signing EKU.
//!
//! MinBZK/nl-wallet ties the two certificates by equal subject distinguished names instead and
//! always asks for the EKU; a certificate from
//! `schooltas_x509::CertificateAuthority::issue_status_list_certificate` with the issuer
//! certificate's subject satisfies both rules.

use schooltas_did::VerifyingKey;
use schooltas_did::jws::Header;
use schooltas_x509::{CertificateChain, TrustAnchors, Usage, X509Error, validate};

use crate::{Error, Result};

/// Why a status list token's signer is not trusted for the credential it is checked for.
/// The messages say what the status issuer (or the trust list operator) must fix; none carries
/// a certificate's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusSignerRefusal {
    /// The credential's issuer is a DID, but the token carries an `x5c` chain.
    #[error(
        "the status list token carries an x5c chain but the credential's issuer is a DID: its keys come from the DID"
    )]
    DidIssuerWithX5c,
    /// The credential's issuer is neither a DID nor an `https` identifier.
    #[error("the status list token carries an x5c chain but the credential's issuer is not an https identifier")]
    NotHttpsIssuer,
    /// The `x5c` header is not a well-formed certificate chain.
    #[error("the status list token's x5c is not a well-formed certificate chain")]
    MalformedChain,
    /// The trust list names no X.509 trust anchors.
    #[error("the trust list names no X.509 trust anchors to check the status list token's x5c chain against")]
    NoTrustAnchors,
    /// The chain leads to none of the trust anchors.
    #[error("the status list token's certificate chain does not lead to a trust anchor of the trust list")]
    UnknownAnchor,
    /// A certificate of the chain has expired.
    #[error("a certificate in the status list token's chain has expired: the status issuer must renew it")]
    Expired,
    /// A certificate of the chain is not valid yet.
    #[error("a certificate in the status list token's chain is not yet valid")]
    NotYetValid,
    /// A signature in the chain does not verify.
    #[error("a certificate signature in the status list token's chain does not verify")]
    BadSignature,
    /// The chain was refused for another reason (keyUsage, basicConstraints, algorithms, …).
    #[error("the status list token's certificate chain was refused")]
    ChainRefused,
    /// The leaf certifies another key than the credential's, without the status list signing
    /// EKU.
    #[error(
        "the status list token is signed by another key than the credential and its certificate lacks the status list signing extended key usage (id-kp-oauthStatusSigning)"
    )]
    MissingStatusSigningEku,
    /// The leaf does not name the credential's issuer.
    #[error("the status list token's certificate does not name the credential's issuer (iss) as a SAN URI")]
    OtherIssuer,
}

impl From<StatusSignerRefusal> for Error {
    fn from(refusal: StatusSignerRefusal) -> Self {
        Error::UntrustedStatusSigner { refusal }
    }
}

/// The key a status list token with `header` must verify with, for a credential issued by
/// `credential_iss` whose signature verified with `credential_key`, given the trust list's
/// X.509 anchors (DER, asked for only when the token carries `x5c`) at `now` (unix seconds).
/// Every refusal is [`Error::UntrustedStatusSigner`]. The rule (docs/decisions/0021):
///
/// - no `x5c` in the token's header: the token must verify with the credential's key;
/// - an `x5c` for a DID issuer: refused, a DID issuer's keys come from its DID document;
/// - an `x5c` for an `https` issuer: the chain must lead to one of the trust anchors at `now`,
///   its leaf must name `credential_iss` as a SAN URI, and its key must be the credential's
///   key (the issuer's own certificate, no EKU needed) or the leaf must carry the status list
///   signing EKU (`schooltas_x509::Usage::STATUS_LIST_SIGNING_OID`).
///
/// Meant as the `key_for` of [`crate::StatusListCache::check_with`], which calls it again for
/// a cached token, so an expired status certificate is refused even while its list is cached.
pub fn status_list_signer_key(
    header: &Header,
    credential_iss: &str,
    credential_key: &VerifyingKey,
    x509_trust_anchors: impl FnOnce() -> Vec<Vec<u8>>,
    now: i64,
) -> Result<VerifyingKey> {
    let Some(x5c) = header.get("x5c") else {
        return Ok(credential_key.clone());
    };
    if credential_iss.starts_with("did:") {
        return Err(StatusSignerRefusal::DidIssuerWithX5c.into());
    }
    if !credential_iss.starts_with("https://") {
        return Err(StatusSignerRefusal::NotHttpsIssuer.into());
    }
    let chain = CertificateChain::from_x5c(x5c).map_err(|_| StatusSignerRefusal::MalformedChain)?;
    let anchors = TrustAnchors::from_der(x509_trust_anchors()).map_err(|_| StatusSignerRefusal::NoTrustAnchors)?;
    let validated = validate(&chain, &anchors, now, Usage::Any).map_err(refusal)?;
    let validated = if validated.verifying_key() == credential_key {
        validated
    } else {
        // draft §"Key Resolution and Trust Management": a different key is linked through the
        // PKI, its certificate "should utilize" the status signing EKU — we require it.
        validate(&chain, &anchors, now, Usage::status_list_signing()).map_err(refusal)?
    };
    if !validated.matches_https_issuer(credential_iss) {
        return Err(StatusSignerRefusal::OtherIssuer.into());
    }
    Ok(validated.verifying_key().clone())
}

fn refusal(error: X509Error) -> StatusSignerRefusal {
    match error {
        X509Error::UnknownAnchor => StatusSignerRefusal::UnknownAnchor,
        X509Error::Expired { .. } => StatusSignerRefusal::Expired,
        X509Error::NotYetValid { .. } => StatusSignerRefusal::NotYetValid,
        X509Error::BadSignature => StatusSignerRefusal::BadSignature,
        X509Error::RequiredEkuMissing => StatusSignerRefusal::MissingStatusSigningEku,
        X509Error::EmptyChain
        | X509Error::ChainTooLong { .. }
        | X509Error::X5cNotArray
        | X509Error::X5cBase64 { .. }
        | X509Error::CertificateTooLarge { .. }
        | X509Error::Malformed { .. } => StatusSignerRefusal::MalformedChain,
        _ => StatusSignerRefusal::ChainRefused,
    }
}
