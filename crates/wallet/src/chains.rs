//! Keys through X.509 certificate chains (HAIP 1.0): an issuer named by an `https` identifier
//! and a verifier with an `x509_hash` / `x509_san_dns` client id are trusted only through the
//! `x5c` chain of what they signed, validated to the X.509 trust anchors of the trust list at
//! the wallet's clock. A DID-named issuer's key comes from its DID, never from a chain beside it.
//!
//! The refusals name the rule that failed, never a certificate's contents.

use schooltas_did::jws::Header;
use schooltas_did::{Resolver, VerifyingKey};
use schooltas_oid4vc::oid4vp::ClientId;
use schooltas_school::trust_list::{CurrentTrustList, VerifiedTrustList};
use schooltas_sd_jwt::Error as SdJwtError;
use schooltas_x509::{CertificateChain, TrustAnchors, Usage, ValidatedChain, X509Error, validate};
use serde_json::Value;

/// `x5c` validated to the anchors of `trust_list` at `now` (no extended key usage is asked:
/// HAIP defines none for issuer or request-signing certificates).
pub(crate) fn validate_to_trust_list(
    x5c: &Value,
    trust_list: &CurrentTrustList<'_>,
    now: i64,
) -> Result<ValidatedChain, X509Error> {
    let chain = CertificateChain::from_x5c(x5c)?;
    let anchors = TrustAnchors::from_der(trust_list.x509_trust_anchors())?;
    validate(&chain, &anchors, now, Usage::Any)
}

/// The key of the issuer named `iss` of a credential with `header`, as the trust list vouches
/// for it: the issuer must be listed; a DID is resolved (and an `x5c` beside it refused); an
/// `https` identifier needs an `x5c` chain to the list's anchors whose leaf names it.
pub(crate) fn issuer_key(
    header: &Header,
    iss: Option<&str>,
    trust_list: &VerifiedTrustList,
    resolver: &Resolver,
    now: i64,
) -> schooltas_sd_jwt::Result<VerifyingKey> {
    let refuse = |reason| SdJwtError::IssuerKey { reason };
    let iss = iss.filter(|iss| !iss.is_empty()).ok_or(refuse("the credential names no issuer (iss)"))?;
    let current = trust_list.at(now).map_err(|_| refuse("the trust list expired (or is not yet valid): refresh it"))?;
    if current.issuer_named(iss).is_none() {
        return Err(refuse("the issuer is not listed in the trust list"));
    }
    let x5c = header.get("x5c");
    if iss.starts_with("did:") {
        if x5c.is_some() {
            return Err(refuse(
                "the credential carries an x5c chain but names a DID issuer: its key must come from the DID",
            ));
        }
        return schooltas_sd_jwt::issuer_key_via_did(resolver, header, Some(iss));
    }
    if !iss.starts_with("https://") {
        return Err(refuse("the issuer is neither a DID nor an https identifier"));
    }
    let x5c = x5c.ok_or(refuse(
        "the issuer is named by an https identifier and its credential carries no x5c chain to trust it by",
    ))?;
    let validated = validate_to_trust_list(x5c, &current, now).map_err(|error| refuse(issuer_chain_reason(&error)))?;
    if !validated.matches_https_issuer(iss) {
        return Err(refuse("the issuer's certificate does not name the credential's issuer (iss)"));
    }
    Ok(validated.verifying_key().clone())
}

/// The key a verifier with an X.509 client id (`x509_hash` / `x509_san_dns`, OpenID4VP 1.0
/// §5.9.3) signs its request objects with: the leaf key of the request object's `x5c`, once
/// the client id is registered in the trust list, the chain leads to the list's X.509 anchors
/// at `now` and, for `x509_san_dns`, the leaf names that host. (That an `x509_hash` is the
/// leaf's hash is checked by the request object's verification.)
pub(crate) fn verifier_key(
    header: &Header,
    client_id: &ClientId,
    trust_list: &VerifiedTrustList,
    now: i64,
) -> crate::error::Result<VerifyingKey> {
    use crate::error::Error;
    let current = trust_list.at(now)?;
    let named = client_id.to_string();
    if current.verifier_for_client(&named).is_none() {
        return Err(Error::VerifierNotRegistered { did: named.chars().take(200).collect() });
    }
    let x5c = header.get("x5c").ok_or(Error::UntrustedVerifierCertificate(X509Error::EmptyChain))?;
    let validated = validate_to_trust_list(x5c, &current, now).map_err(Error::UntrustedVerifierCertificate)?;
    match client_id {
        ClientId::X509SanDns(host) if !validated.matches_dns(host) => Err(Error::VerifierCertificateNameMismatch),
        ClientId::Did(_) => Err(Error::InvalidInput {
            reason: "a verifier named by a DID signs with its DID's key, not a certificate".into(),
        }),
        _ => Ok(validated.verifying_key().clone()),
    }
}

/// The reason an issuer's chain was refused, by the rule.
fn issuer_chain_reason(error: &X509Error) -> &'static str {
    match error {
        X509Error::NoTrustAnchors => "the trust list names no X.509 trust anchors for the issuer's x5c chain",
        X509Error::UnknownAnchor => "the issuer's certificate chain does not lead to a trust anchor of the trust list",
        X509Error::Expired { .. } => "a certificate in the issuer's chain has expired",
        X509Error::NotYetValid { .. } => "a certificate in the issuer's chain is not yet valid",
        X509Error::BadSignature => "a certificate signature in the issuer's chain does not verify",
        X509Error::EmptyChain
        | X509Error::ChainTooLong { .. }
        | X509Error::X5cNotArray
        | X509Error::X5cBase64 { .. }
        | X509Error::CertificateTooLarge { .. }
        | X509Error::Malformed { .. } => "the issuer's x5c is not a well-formed certificate chain",
        _ => "the issuer's certificate chain was refused",
    }
}
