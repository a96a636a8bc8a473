//! The key of a status list token fetched on its own — not beside the credential that points
//! to it, as when the consent register asks again, later, whether a guardianship is still
//! valid: the token's signer must be an issuer the trust list accredits, found through a DID
//! (`kid`, a DID URL of an accredited issuer) or, in the EU profile, through an `x5c` chain to
//! the trust list's X.509 anchors whose leaf names an accredited issuer's `https` identifier.

use schooltas_did::jws::Header;
use schooltas_did::{DidUrl, Resolver, VerificationRelationship, VerifyingKey};
use schooltas_school::trust_list::VerifiedTrustList;
use schooltas_status_list::Error as StatusError;

use crate::register::StatusIssuer;

/// The verifying key of a status list token with `header`, as the trust list (at `now`)
/// vouches for it; every refusal is [`StatusError::InvalidStatusListToken`] naming the rule.
///
/// A token with an `x5c` header is trusted only through that chain (its `kid`, if any, is then
/// just a hint), whose leaf must name the token's `iss` when it has one, and an accredited
/// issuer in any case; a token without one only through its `kid`, a DID URL of an accredited
/// issuer. (Beside a credential, [`schooltas_status_list::status_list_signer_key`] applies the
/// stricter rule that knows the credential's issuer and key.)
pub fn status_list_token_key(
    header: &Header,
    iss: Option<&str>,
    trust_list: &VerifiedTrustList,
    resolver: &Resolver,
    now: i64,
) -> Result<VerifyingKey, StatusError> {
    let refused = |reason: &str| StatusError::InvalidStatusListToken { reason: reason.into() };
    let current = trust_list.at(now).map_err(|_| refused("the trust list is not current: refresh it"))?;
    if let Some(x5c) = header.get("x5c") {
        let chain = schooltas_x509::CertificateChain::from_x5c(x5c)
            .map_err(|_| refused("the status list token's x5c is not a well-formed certificate chain"))?;
        let anchors = schooltas_x509::TrustAnchors::from_der(current.x509_trust_anchors())
            .map_err(|_| refused("the trust list names no X.509 trust anchors for the status list token's x5c"))?;
        let validated =
            schooltas_x509::validate(&chain, &anchors, now, schooltas_x509::Usage::Any).map_err(|error| {
                refused(match error {
                    schooltas_x509::X509Error::UnknownAnchor => {
                        "the status list token's certificate chain does not lead to a trust anchor of the trust list"
                    }
                    schooltas_x509::X509Error::Expired { .. } => "a certificate of the status list token has expired",
                    schooltas_x509::X509Error::NotYetValid { .. } => {
                        "a certificate of the status list token is not yet valid"
                    }
                    _ => "the status list token's certificate chain was refused",
                })
            })?;
        if let Some(iss) = iss.filter(|iss| iss.starts_with("https://"))
            && !validated.matches_https_issuer(iss)
        {
            return Err(refused("the status list token's certificate does not name its issuer (iss)"));
        }
        let accredited = validated.san_uris().iter().any(|uri| {
            uri.starts_with("https://") && iss.is_none_or(|iss| iss == uri) && current.issuer_named(uri).is_some()
        });
        if !accredited {
            return Err(refused("the status list token's certificate names no issuer the trust list accredits"));
        }
        let key = validated.verifying_key().clone();
        if header.alg() != Some(key.algorithm()) {
            return Err(refused("the status list token's alg is not its certificate key's"));
        }
        return Ok(key);
    }
    let kid = header.kid().ok_or_else(|| refused("the status list token names no key (kid) and has no x5c"))?;
    let url = DidUrl::parse(kid).map_err(|_| refused("the kid is not a DID URL and there is no x5c"))?;
    if current.issuer(url.did()).is_none() {
        return Err(refused("the status list token is signed by an issuer the trust list does not accredit"));
    }
    let alg = header.alg().ok_or_else(|| refused("the status list token has no supported alg"))?;
    Ok(resolver.verifying_key(&url, VerificationRelationship::AssertionMethod, alg)?)
}

/// The key of a status list token a consent's status entry points at, for
/// [`crate::StatusCheck::resolved_by`]: the signer rule of the verification that recorded the
/// consent, applied again.
///
/// With the record's [`StatusIssuer`] (every record since schema version 2), the credential's
/// issuer must still be accredited by the trust list at `now`, and the token must be signed as
/// [`schooltas_status_list::status_list_signer_key`] allows for a credential of that issuer and
/// key: with the credential's key, or through an `x5c` chain to the trust list's anchors whose
/// leaf names that issuer (and carries the status signing EKU if its key is another). So a
/// status list served at the credential's URI but signed by another accredited school, or by a
/// certificate of the same school without the EKU, is refused. Without it (older records), the
/// weaker [`status_list_token_key`] rule: any accredited issuer.
pub fn consent_status_key(
    header: &Header,
    iss: Option<&str>,
    issuer: Option<&StatusIssuer>,
    trust_list: &VerifiedTrustList,
    resolver: &Resolver,
    now: i64,
) -> Result<VerifyingKey, StatusError> {
    let Some(issuer) = issuer else {
        return status_list_token_key(header, iss, trust_list, resolver, now);
    };
    let refused = |reason: &str| StatusError::InvalidStatusListToken { reason: reason.into() };
    let current = trust_list.at(now).map_err(|_| refused("the trust list is not current: refresh it"))?;
    let accredited = if issuer.iss.starts_with("did:") {
        schooltas_did::Did::parse(&issuer.iss).ok().is_some_and(|did| current.issuer(&did).is_some())
    } else {
        current.issuer_named(&issuer.iss).is_some()
    };
    if !accredited {
        return Err(refused("the credential's issuer is no longer accredited by the trust list"));
    }
    let key = issuer.verifying_key().ok_or_else(|| refused("the consent's recorded issuer key is not a valid JWK"))?;
    schooltas_status_list::status_list_signer_key(header, &issuer.iss, &key, || current.x509_trust_anchors(), now)
}
