//! Verifying a presentation (what `verifyPresentation` runs): SD-JWT VC with key binding, the
//! issuer's key from one of three trust paths, and the credential's status entry.
//!
//! The trust paths, tried in this order for the credential's header and (not yet verified) `iss`:
//!
//! 1. an `x5c` header: the chain must lead to one of `trustAnchors` and its leaf name `iss`
//!    (an `https` issuer, HAIP 1.0) — as `schooltas-verifier` checks it;
//! 2. `iss` is a DID listed in `trustedDids`: the key is the DID's `assertionMethod` key that
//!    `kid` names, resolved offline (did:key, did:jwk; no HTTPS in this module);
//! 3. `issuerKeys`: the caller's JWKs, chosen by `kid` or algorithm
//!    ([`schooltas_sd_jwt::key_from_jwk_set`]).
//!
//! A credential none of them vouches for is refused (`IssuerKey`). Nothing from the payload is
//! returned unless its signature verified with the key so found.

use schooltas_did::jws::Header;
use schooltas_did::{Did, Resolver, VerifyingKey};
use schooltas_sd_jwt::{KeyBinding, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions};
use schooltas_status_list::{InMemoryStatusLists, StatusListCache, StatusListUri, status_list_signer_key};
use serde_json::{Map, Value, json};

use crate::options::{Options, base64_der_list};
use crate::{Error, Result};

/// What `verifyPresentation` is told to expect and to trust (its options object).
#[derive(Clone, Debug)]
pub struct VerifyRequest {
    /// The verifier's identifier: the KB-JWT `aud` must be it.
    pub audience: String,
    /// The nonce the verifier issued: the KB-JWT `nonce` must be it.
    pub nonce: String,
    /// The verifier's clock, Unix seconds (given, never read from the platform).
    pub now: i64,
    /// How old (seconds) the KB-JWT may be; 300 when not given.
    pub max_age: i64,
    /// Issuer keys the caller vouches for (public JWKs).
    pub issuer_keys: Vec<Value>,
    /// Issuer DIDs whose keys are trusted when `iss` is one of them.
    pub trusted_dids: Vec<Did>,
    /// X.509 trust anchors (DER) for issuers that send an `x5c` chain.
    pub trust_anchors: Vec<Vec<u8>>,
    /// Status list tokens by their URI; `None`: the status entry is reported, not checked.
    pub status_lists: Option<Vec<(StatusListUri, String)>>,
}

impl VerifyRequest {
    /// Reads the options object (as JSON) that `verifyPresentation` was given.
    pub fn from_json(options: &Value) -> Result<Self> {
        let options = Options::new(options)?;
        let trusted_dids = options
            .string_list("trustedDids")?
            .iter()
            .map(|did| Did::parse(did))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Error::InvalidOption { name: "trustedDids", reason: "every entry must be a DID" })?;
        let status_lists = match options.get("statusLists") {
            None => None,
            Some(Value::Object(lists)) => Some(
                lists
                    .iter()
                    .map(|(uri, token)| {
                        let uri = StatusListUri::new(uri.as_str()).map_err(|_| Error::InvalidOption {
                            name: "statusLists",
                            reason: "every key must be a status list URI",
                        })?;
                        let token = token.as_str().ok_or(Error::InvalidOption {
                            name: "statusLists",
                            reason: "every value must be a status list token (a string)",
                        })?;
                        Ok((uri, token.to_owned()))
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            Some(_) => {
                return Err(Error::InvalidOption {
                    name: "statusLists",
                    reason: "must be an object of status list tokens by URI",
                });
            }
        };
        let request = VerifyRequest {
            audience: options.string("audience")?,
            nonce: options.string("nonce")?,
            now: options.integer("now")?,
            max_age: options.optional_integer("maxAge")?.unwrap_or(300),
            issuer_keys: options.object_list("issuerKeys")?,
            trusted_dids,
            trust_anchors: base64_der_list(&options, "trustAnchors")?,
            status_lists,
        };
        if request.issuer_keys.is_empty() && request.trusted_dids.is_empty() && request.trust_anchors.is_empty() {
            return Err(Error::InvalidOption {
                name: "issuerKeys",
                reason: "give issuerKeys, trustedDids or trustAnchors: without one no issuer is trusted",
            });
        }
        Ok(request)
    }
}

/// Verifies `presentation` (compact SD-JWT VC with a KB-JWT) as `request` says, and returns what
/// `verifyPresentation` hands JavaScript: `{ claims, vct, iss, holderKey, status }`.
///
/// The checks and their refusals are `schooltas-sd-jwt`'s (`VerifyOptions::sd_jwt_vc`), then the
/// status entry's (`schooltas-status-list`'s cache over the given tokens, signed by the
/// credential's key or a certificate that the status signer rule accepts).
pub fn verify_presentation(presentation: &str, request: &VerifyRequest) -> Result<Value> {
    let mut key_binding = KeyBinding::new(request.nonce.as_str(), request.audience.as_str());
    key_binding.max_age = request.max_age;
    let options = VerifyOptions::sd_jwt_vc(key_binding);
    let mut issuer_key = None;
    let verified = UnverifiedSdJwt::parse(presentation)?.verify_with(
        |header, iss| {
            let key = find_issuer_key(request, header, iss)?;
            issuer_key = Some(key.clone());
            Ok(key)
        },
        &options,
        request.now,
    )?;
    let issuer_key = issuer_key.ok_or(schooltas_sd_jwt::Error::IssuerKey { reason: "no issuer key was found" })?;
    let status = check_status(&verified, &issuer_key, request)?;
    Ok(json!({
        "claims": Value::Object(verified.claims().clone()),
        "vct": verified.vct(),
        "iss": verified.issuer(),
        "holderKey": verified.holder_key().map(|key| Value::Object(key.to_jwk())),
        "status": status,
    }))
}

fn find_issuer_key(
    request: &VerifyRequest,
    header: &Header,
    iss: Option<&str>,
) -> schooltas_sd_jwt::Result<VerifyingKey> {
    let refuse = |reason| schooltas_sd_jwt::Error::IssuerKey { reason };
    if let Some(x5c) = header.get("x5c") {
        return issuer_key_via_x5c(request, x5c, iss.ok_or(refuse("the credential has no iss"))?);
    }
    let trusted_did = iss.and_then(|iss| Did::parse(iss).ok()).filter(|did| request.trusted_dids.contains(did));
    if trusted_did.is_some() {
        return schooltas_sd_jwt::issuer_key_via_did(&Resolver::offline(), header, iss);
    }
    if request.issuer_keys.is_empty() {
        return Err(refuse("the issuer is neither in trustedDids nor vouched for by an x5c chain or issuerKeys"));
    }
    schooltas_sd_jwt::key_from_jwk_set(&json!({ "keys": request.issuer_keys }), header)
}

/// The leaf key of the issuer's `x5c`, once the chain leads to a trust anchor at `now` and the
/// leaf names `iss` (the rule of `schooltas-verifier`'s x5c trust path). The reasons name the
/// rule, never the certificate's contents.
fn issuer_key_via_x5c(request: &VerifyRequest, x5c: &Value, iss: &str) -> schooltas_sd_jwt::Result<VerifyingKey> {
    use schooltas_x509::X509Error as X;
    let refuse = |reason| schooltas_sd_jwt::Error::IssuerKey { reason };
    if !iss.starts_with("https://") {
        return Err(refuse("the credential carries an x5c chain but its issuer is not an https identifier"));
    }
    let chain = schooltas_x509::CertificateChain::from_x5c(x5c)
        .map_err(|_| refuse("the issuer's x5c is not a well-formed certificate chain"))?;
    let anchors = schooltas_x509::TrustAnchors::from_der(request.trust_anchors.clone())
        .map_err(|_| refuse("no trustAnchors were given for the issuer's x5c chain"))?;
    let validated = schooltas_x509::validate(&chain, &anchors, request.now, schooltas_x509::Usage::Any).map_err(
        |error| match error {
            X::UnknownAnchor => refuse("the issuer's certificate chain does not lead to one of trustAnchors"),
            X::Expired { .. } => refuse("a certificate in the issuer's chain has expired"),
            X::NotYetValid { .. } => refuse("a certificate in the issuer's chain is not yet valid"),
            X::BadSignature => refuse("a certificate signature in the issuer's chain does not verify"),
            _ => refuse("the issuer's certificate chain was refused"),
        },
    )?;
    if !validated.matches_https_issuer(iss) {
        return Err(refuse("the issuer's certificate does not name the credential's issuer (iss)"));
    }
    Ok(validated.verifying_key().clone())
}

/// The credential's status entry: `null` without one; `{ uri, idx, checked: false }` when the
/// caller gave no `statusLists`; else it is looked up in the given token (which must verify
/// with the key the status signer rule allows) and anything but VALID is refused
/// (`StatusList.Revoked`, `StatusList.Suspended`, `StatusList.StatusNotValid`; a list not given
/// is `StatusList.StatusUnavailable`).
fn check_status(verified: &VerifiedSdJwt, issuer_key: &VerifyingKey, request: &VerifyRequest) -> Result<Value> {
    let Some(reference) = verified.status_reference()? else {
        return Ok(Value::Null);
    };
    let mut status = Map::new();
    status.insert("uri".into(), Value::String(reference.uri().as_str().to_owned()));
    status.insert("idx".into(), Value::from(reference.index()));
    let Some(lists) = &request.status_lists else {
        status.insert("checked".into(), Value::Bool(false));
        return Ok(Value::Object(status));
    };
    let published = InMemoryStatusLists::new();
    for (uri, token) in lists {
        published.publish(uri.clone(), token.clone());
    }
    let iss = verified.issuer().unwrap_or_default();
    StatusListCache::new(published).check_with(
        &reference,
        |header, _| status_list_signer_key(header, iss, issuer_key, || request.trust_anchors.clone(), request.now),
        request.now,
    )?;
    status.insert("checked".into(), Value::Bool(true));
    status.insert("valid".into(), Value::Bool(true));
    Ok(Value::Object(status))
}
