//! Who may withdraw a consent: the keys a signed withdrawal is checked against.
//!
//! GDPR art. 7(3): withdrawing must be as easy as giving. A withdrawal only ever reduces
//! processing, so more than one key may sign it — but never a key that had no part in the
//! consent, or a sibling could end their brother's consent and another family anyone's.
//!
//! 1. The **approver key** recorded with the consent: the parent's guardianship key below 16,
//!    the young person's own presentation key from 16.
//! 2. For a consent a parent approved: the holder key (`cnf`) of each **child presentation the
//!    guardian approval names** (by `sd_hash`, docs/protocol/guardian-approval.md step 8). That
//!    is the key of the child the consent is about; from the 16th birthday the young person
//!    decides alone (UAVG art. 5) and withdraws with it. A presentation in the evidence that
//!    the approval does not name adds no key.
//!
//! The evidence was verified when the consent was recorded; here it is only read back. Evidence
//! that cannot be read back adds no child key; the approver key always counts.

use schooltas_did::VerifyingKey;
use schooltas_did::jws::CompactJws;
use schooltas_school::consent::GuardianApproval;
use schooltas_sd_jwt::UnverifiedSdJwt;
use serde_json::Value;

use super::ConsentRecord;
use crate::error::{Error, Result};

/// Whose key signed an accepted withdrawal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WithdrawnBy {
    /// The key that approved the consent (the parent's below 16, the pupil's own from 16).
    Approver,
    /// The key of a child presentation the guardian approval named: the young person
    /// themselves, withdrawing a consent their parent gave.
    Child,
}

/// The keys a withdrawal of `record` may be signed by, approver first.
pub(crate) fn withdrawal_keys(record: &ConsentRecord) -> Result<Vec<(WithdrawnBy, VerifyingKey)>> {
    let approver_jwk = record
        .approver_jwk
        .as_object()
        .ok_or(Error::InvalidRecord { reason: "the stored approver key is not a JWK" })?;
    let approver = VerifyingKey::from_jwk(approver_jwk).map_err(schooltas_school::Error::from)?;
    let mut keys = vec![(WithdrawnBy::Approver, approver)];
    // The child keys are a second way in, never a condition for the first: evidence this code
    // cannot read (another serialization, an older record) only means no child key, and the
    // approver key still works.
    let Some(approved) = record.evidence.guardian_approval.as_deref().and_then(approved_sd_hashes) else {
        return Ok(keys);
    };
    for presentation in &record.evidence.presentations {
        let Ok(parsed) = UnverifiedSdJwt::parse(presentation) else { continue };
        if !approved.contains(&parsed.sd_hash()) {
            continue;
        }
        if let Some(key) = holder_key(presentation) {
            keys.push((WithdrawnBy::Child, key));
        }
    }
    Ok(keys)
}

/// The `sd_hash` of each child presentation a stored guardian approval names.
fn approved_sd_hashes(approval: &str) -> Option<Vec<String>> {
    let jws = CompactJws::parse_with_limit(approval, schooltas_school::consent::MAX_CONSENT_MESSAGE_LEN).ok()?;
    let payload = jws.dangerous_unverified_payload().ok()?;
    let claims: GuardianApproval = serde_json::from_slice(&payload).ok()?;
    Some(claims.presentations.into_iter().map(|p| p.sd_hash).collect())
}

/// The holder key (`cnf.jwk`, never selectively disclosable in SD-JWT VC) of a stored
/// presentation.
fn holder_key(presentation: &str) -> Option<VerifyingKey> {
    let jwt = presentation.split('~').next().unwrap_or_default();
    let jws = CompactJws::parse(jwt).ok()?;
    let payload: Value = serde_json::from_slice(&jws.dangerous_unverified_payload().ok()?).ok()?;
    let jwk = payload.get("cnf").and_then(|cnf| cnf.get("jwk")).and_then(Value::as_object)?;
    VerifyingKey::from_jwk(jwk).ok()
}
