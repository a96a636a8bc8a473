//! Proofs of possession of a holder key: the `jwt` proof type (OpenID4VCI 1.0 Appendix F.1).
//!
//! The wallet signs a JWT with `typ: openid4vci-proof+jwt`, its public key in the `jwk` header
//! (or a `kid` that is a did:key / did:jwk DID URL), `aud` = the credential issuer, `iat`, and
//! the issuer's `nonce`. The issuer binds the credential to that key.
//!
//! ```
//! use schooltas_oid4vc::oid4vci::proof::{ProofPolicy, sign_proof, verify_proof};
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//! let holder = SigningKey::generate(Algorithm::EdDsa)?;
//! let jwt = sign_proof(&holder, "https://delinde.example", Some("n-1"), 1_800_000_000, None)?;
//! let proof = verify_proof(&jwt, &ProofPolicy::new("https://delinde.example"), 1_800_000_005)?;
//! assert_eq!(&proof.holder_key, holder.verifying_key());
//! assert_eq!(proof.nonce.as_deref(), Some("n-1"));
//! # Ok::<(), schooltas_oid4vc::Error>(())
//! ```

use serde_json::{Map, Value};

use schooltas_did::jws::{CompactJws, Header, sign_compact_json};
use schooltas_did::{DidUrl, Resolver, Signer, VerificationRelationship, VerifyingKey};

use super::Oid4vciError;

/// The JOSE `typ` of a proof JWT.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";

/// The longest proof JWT accepted.
pub const MAX_PROOF_LEN: usize = 8 << 10;

/// Signs a proof of possession of `signer`'s key for `audience` (the credential issuer).
pub fn sign_proof(
    signer: &(impl Signer + ?Sized),
    audience: &str,
    nonce: Option<&str>,
    issued_at: i64,
    client_id: Option<&str>,
) -> crate::Result<String> {
    let header = Header::new().with_typ(PROOF_TYP).with_member("jwk", Value::Object(signer.verifying_key().to_jwk()));
    let mut claims = Map::new();
    claims.insert("aud".into(), Value::String(audience.to_owned()));
    claims.insert("iat".into(), Value::from(issued_at));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), Value::String(nonce.to_owned()));
    }
    if let Some(client_id) = client_id {
        claims.insert("iss".into(), Value::String(client_id.to_owned()));
    }
    Ok(sign_compact_json(&header, &claims, signer)?)
}

/// [`sign_proof`] with a key attestation (Appendix D) in the `key_attestation` header; the
/// signer's key must be one it attests, and its `nonce` the issuer's `c_nonce`.
pub fn sign_proof_with_key_attestation(
    signer: &(impl Signer + ?Sized),
    audience: &str,
    nonce: Option<&str>,
    issued_at: i64,
    key_attestation: &str,
) -> crate::Result<String> {
    let header = Header::new()
        .with_typ(PROOF_TYP)
        .with_member("jwk", Value::Object(signer.verifying_key().to_jwk()))
        .with_member("key_attestation", Value::String(key_attestation.to_owned()));
    let mut claims = Map::new();
    claims.insert("aud".into(), Value::String(audience.to_owned()));
    claims.insert("iat".into(), Value::from(issued_at));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), Value::String(nonce.to_owned()));
    }
    Ok(sign_compact_json(&header, &claims, signer)?)
}

/// What the issuer accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofPolicy {
    /// The credential issuer identifier `aud` must name.
    pub audience: String,
    /// Whether a `nonce` must be present (an issuer with a nonce endpoint requires one).
    pub require_nonce: bool,
    /// The oldest `iat` accepted, in seconds before now.
    pub max_age: i64,
    /// Seconds of clock difference tolerated for a future `iat`.
    pub clock_skew: i64,
}

impl ProofPolicy {
    /// Proofs for `audience` with a nonce, at most 5 minutes old, 60 s skew.
    pub fn new(audience: impl Into<String>) -> Self {
        ProofPolicy { audience: audience.into(), require_nonce: true, max_age: 300, clock_skew: 60 }
    }
}

/// A proof that passed [`verify_proof`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The key the credential is to be bound to.
    pub holder_key: VerifyingKey,
    /// The nonce it carries (the issuer checks it is one it issued, unused).
    pub nonce: Option<String>,
    /// `iat`.
    pub issued_at: i64,
    /// `iss` (the wallet's client id), if present.
    pub client_id: Option<String>,
    /// The `key_attestation` header (Appendix D), **not verified here**: the issuer verifies
    /// it with its wallet providers' keys and policy
    /// ([`super::key_attestation::UnverifiedKeyAttestation`]); the proof's key is one of the
    /// keys it attests.
    pub key_attestation: Option<String>,
}

fn refuse(reason: impl Into<String>) -> crate::Error {
    Oid4vciError::InvalidProof(reason.into()).into()
}

/// Verifies a proof JWT: `typ` exactly `openid4vci-proof+jwt`; `alg` not `none` or HMAC and
/// pinned to the key; exactly one of `jwk` (public, no `d`) and `kid` (a did:key / did:jwk DID
/// URL, resolved offline); the signature; `aud` the issuer (a string or an array containing
/// it); `iat` present, not older than `max_age` nor in the future beyond the skew; `nonce`
/// present when required (else [`Oid4vciError::InvalidProof`], OpenID4VCI 1.0 §8.3.1.2).
pub fn verify_proof(jwt: &str, policy: &ProofPolicy, now: i64) -> crate::Result<VerifiedProof> {
    let jws = CompactJws::parse_with_limit(jwt, MAX_PROOF_LEN).map_err(|e| refuse(e.to_string()))?;
    let header = jws.header();
    if header.typ() != Some(PROOF_TYP) {
        return Err(refuse(format!("typ must be {PROOF_TYP}")));
    }
    let key_attestation = match header.get("key_attestation") {
        None => None,
        Some(Value::String(jwt)) => Some(super::key_attestation::UnverifiedKeyAttestation::parse(jwt)?),
        Some(_) => return Err(refuse("the key_attestation header is not a JWT string")),
    };
    if header.get("x5c").is_some() || header.get("trust_chain").is_some() {
        return Err(refuse("x5c and trust_chain proof keys are not supported: send the key as jwk"));
    }
    let key = match (header.get("jwk"), header.kid()) {
        (Some(_), Some(_)) => return Err(refuse("the header has both jwk and kid")),
        (None, None) => return Err(refuse("the header names no key (jwk or kid)")),
        // Appendix D example: with a key attestation, `kid` may name an attested key by its
        // position in `attested_keys`.
        (None, Some(kid))
            if key_attestation.is_some() && !kid.is_empty() && kid.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let keys = key_attestation.as_ref().map(|ka| ka.unverified_attested_keys()).unwrap_or_default();
            kid.parse::<usize>()
                .ok()
                .and_then(|index| keys.get(index))
                .cloned()
                .ok_or_else(|| refuse("kid names no key of the key attestation's attested_keys"))?
        }
        (Some(Value::Object(jwk)), None) => {
            if jwk.contains_key("d") {
                return Err(refuse("the jwk header holds a private key"));
            }
            VerifyingKey::from_jwk(jwk).map_err(|e| refuse(format!("the jwk header: {e}")))?
        }
        (Some(_), None) => return Err(refuse("the jwk header is not an object")),
        (None, Some(kid)) => {
            let url = DidUrl::parse(kid).map_err(|e| refuse(format!("kid: {e}")))?;
            Resolver::offline()
                .verifying_key(&url, VerificationRelationship::Authentication, jws.algorithm())
                .or_else(|_| {
                    Resolver::offline().verifying_key(&url, VerificationRelationship::AssertionMethod, jws.algorithm())
                })
                .map_err(|e| refuse(format!("kid: {e}")))?
        }
    };
    let verified = jws.verify(&key).map_err(|e| refuse(e.to_string()))?;
    let claims: Map<String, Value> = verified.payload_json().map_err(|e| match e {
        strict @ schooltas_did::Error::Json(_) => crate::Error::Did(strict),
        _ => refuse("the payload is not a JSON object"),
    })?;
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == policy.audience,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(policy.audience.as_str())),
        _ => false,
    };
    if !audience_ok {
        return Err(refuse("aud is not this credential issuer"));
    }
    let issued_at = claims.get("iat").and_then(Value::as_i64).ok_or_else(|| refuse("iat is missing"))?;
    if issued_at > now.saturating_add(policy.clock_skew) {
        return Err(refuse("iat is in the future"));
    }
    if issued_at < now.saturating_sub(policy.max_age) {
        return Err(refuse(format!("iat is more than {} s old", policy.max_age)));
    }
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(nonce)) => Some(nonce.clone()),
        Some(_) => return Err(refuse("nonce is not a string")),
    };
    // OpenID4VCI 1.0 §8.3.1.2: a key proof without a c_nonce is `invalid_proof`; a proof with
    // a wrong or used one is `invalid_nonce` (decided by the issuer's nonce store).
    if policy.require_nonce && nonce.is_none() {
        return Err(refuse("the proof carries no nonce; fetch one from the nonce endpoint"));
    }
    let client_id = claims.get("iss").and_then(Value::as_str).map(str::to_owned);
    if let Some(attestation) = &key_attestation
        && !attestation.unverified_attested_keys().contains(&key)
    {
        return Err(refuse("the proof is signed by a key its key attestation does not attest"));
    }
    let key_attestation = key_attestation.and(header.get("key_attestation").and_then(Value::as_str).map(str::to_owned));
    Ok(VerifiedProof { holder_key: key, nonce, issued_at, client_id, key_attestation })
}
