//! Consent messages: the **guardian approval** (a parent's signed yes to a child's
//! presentation) and the signed **withdrawal** of a consent.
//!
//! The protocol is written up in `docs/protocol/guardian-approval.md`. In short:
//!
//! - A child under 16 answers a consent-based request with an ordinary OpenID4VP response
//!   (SD-JWT VC presentations with key binding to the verifier's nonce and audience). The
//!   parent's wallet then signs a [`GuardianApproval`] (`typ: schooltas-guardian-approval+jwt`)
//!   with the key its **guardianship credential** is bound to. The approval names the verifier
//!   (`aud`), the request (`nonce`, purpose), the child (`child_id`, as in the guardianship
//!   credential and the `sub` the child's presentation discloses) and each child presentation
//!   by its `sd_hash` — so it approves exactly those disclosures and nothing else — and carries
//!   the parent's guardianship presentation (with its own key binding to the same nonce and
//!   audience). It travels as the response parameter [`GUARDIAN_APPROVAL_PARAMETER`].
//! - A verifier verifies the guardianship presentation like any credential (issuer signature,
//!   accreditation for the guardianship type, status), then [`UnverifiedGuardianApproval::verify`]
//!   checks the approval against it.
//! - A [`ConsentWithdrawal`] (`typ: schooltas-consent-withdrawal+jwt`) is signed with the key
//!   that gave the consent (the parent's guardianship key below 16, the pupil's own key from
//!   16) and names the consent by the verifier and the request nonce.
//!
//! ```
//! use schooltas_school::consent::{ApprovedPresentation, ConsentWithdrawal, UnverifiedWithdrawal};
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//!
//! let parent = SigningKey::generate(Algorithm::EdDsa)?;
//! let withdrawal = ConsentWithdrawal::new("decentralized_identifier:did:web:school.example", "n-5f2c8a0d9e1b4c3a", "newsletter", 1_800_000_000);
//! let jwt = withdrawal.sign(&parent)?;
//! let received = UnverifiedWithdrawal::parse(&jwt)?;
//! // The register finds the consent by (audience, nonce), then checks the approver's key.
//! assert_eq!(received.unverified_nonce(), "n-5f2c8a0d9e1b4c3a");
//! let checked = received.verify(parent.verifying_key(), "decentralized_identifier:did:web:school.example", 1_800_000_010, 60)?;
//! assert_eq!(checked.purpose, "newsletter");
//! # let _ = ApprovedPresentation { credential_query_id: String::new(), sd_hash: String::new() };
//! # Ok::<(), schooltas_school::Error>(())
//! ```

mod approval;
mod withdrawal;

use schooltas_oid4vc::oid4vp::{AuthorizationResponse, Oid4vpError};

pub use approval::{
    ApprovalContext, ApprovedPresentation, ChildPresentation, GuardianApproval, UnverifiedGuardianApproval,
    VerifiedGuardianApproval,
};
pub use withdrawal::{ConsentWithdrawal, UnverifiedWithdrawal};

/// The `typ` of a guardian approval JWT.
pub const GUARDIAN_APPROVAL_TYP: &str = "schooltas-guardian-approval+jwt";

/// The `typ` of a consent withdrawal JWT.
pub const WITHDRAWAL_TYP: &str = "schooltas-consent-withdrawal+jwt";

/// The Authorization Response parameter that carries a guardian approval next to `vp_token`.
pub const GUARDIAN_APPROVAL_PARAMETER: &str = "guardian_approval";

/// The guardian approval a response carries ([`GUARDIAN_APPROVAL_PARAMETER`]), if any. A
/// response read with [`response_from_form`] or [`response_from_json`] keeps it; the generic
/// readers of `schooltas-oid4vc` drop parameters nobody asked for.
pub fn guardian_approval(response: &AuthorizationResponse) -> Option<&str> {
    response.parameter(GUARDIAN_APPROVAL_PARAMETER)
}

/// `response` with `approval` (a signed [`GuardianApproval`]) as its
/// [`GUARDIAN_APPROVAL_PARAMETER`].
pub fn with_guardian_approval(response: AuthorizationResponse, approval: impl Into<String>) -> AuthorizationResponse {
    response.with_parameter(GUARDIAN_APPROVAL_PARAMETER, approval)
}

/// Reads a `direct_post` body ([`AuthorizationResponse::from_form`]), keeping its guardian
/// approval.
pub fn response_from_form(body: &str) -> Result<AuthorizationResponse, Oid4vpError> {
    AuthorizationResponse::from_form_with(body, &[GUARDIAN_APPROVAL_PARAMETER])
}

/// Reads the JSON form of a response ([`AuthorizationResponse::from_json`]), keeping its
/// guardian approval; one that is not a string is refused.
pub fn response_from_json(text: &str) -> Result<AuthorizationResponse, Oid4vpError> {
    AuthorizationResponse::from_json_with(text, &[GUARDIAN_APPROVAL_PARAMETER])
}

/// The Dutch age of digital consent (UAVG art. 5): below it, a parent decides.
pub const AGE_OF_CONSENT: u32 = 16;

/// The largest approval or withdrawal accepted (64 KiB: an approval carries a presentation).
pub const MAX_CONSENT_MESSAGE_LEN: usize = 64 << 10;

/// Why a guardian approval or a withdrawal was refused. Messages name the rule, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The message is not a well-formed JWT of the expected shape.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which message.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The JWT `typ` is not the one this message must have.
    #[error("a {what} must have typ {expected}, found {found:?}")]
    WrongTyp {
        /// Which message.
        what: &'static str,
        /// The required `typ`.
        expected: &'static str,
        /// The `typ` found.
        found: Option<String>,
    },
    /// `aud` is not this verifier.
    #[error("the {what} is addressed to another verifier")]
    WrongAudience {
        /// Which message.
        what: &'static str,
    },
    /// The approval's `nonce` is not the request's.
    #[error("the guardian approval is for another request (nonce mismatch)")]
    NonceMismatch,
    /// The approval's purpose is not the request's.
    #[error("the guardian approval is for another purpose")]
    PurposeMismatch,
    /// `iat` is too old or in the future.
    #[error("the {what} was signed at {iat}, outside the accepted window around {now}")]
    NotFresh {
        /// Which message.
        what: &'static str,
        /// Its `iat`.
        iat: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// The guardianship credential was presented without a holder key or key binding.
    #[error("the guardianship credential must be bound to the parent's key and presented with key binding")]
    GuardianshipNotBound,
    /// The guardianship presentation's key binding is for another request or verifier.
    #[error("the guardianship presentation is bound to another request or verifier")]
    GuardianshipKeyBindingMismatch,
    /// The guardianship credential lacks a claim the approval needs.
    #[error("the guardianship credential has no valid {claim:?} claim")]
    GuardianshipClaimMissing {
        /// The claim name.
        claim: &'static str,
    },
    /// The guardianship credential's consent authority has ended.
    #[error("the guardianship ended on {valid_until}; the parent can no longer approve for this child")]
    GuardianshipEnded {
        /// Its `valid_until`.
        valid_until: String,
    },
    /// The child's presentation does not disclose the subject identifier the guardianship names.
    #[error("the child's presentation does not disclose `sub`, so the approval cannot be linked to the child")]
    ChildNotIdentified,
    /// The approval, the guardianship credential and the child's presentation name different children.
    #[error("the guardian approval is for another child")]
    ChildMismatch,
    /// A child presentation in the response is not covered by the approval.
    #[error("the presentation for credential query {query_id:?} is not covered by the guardian approval")]
    PresentationNotApproved {
        /// The DCQL credential query id.
        query_id: String,
    },
    /// The approval lists the same presentation twice.
    #[error("the guardian approval lists a presentation for credential query {query_id:?} twice")]
    DuplicateApprovedPresentation {
        /// The DCQL credential query id.
        query_id: String,
    },
    /// The approval covers a presentation the response does not contain (a changed response).
    #[error("the guardian approval covers a presentation for {query_id:?} that the response does not contain")]
    ApprovedPresentationMissing {
        /// The DCQL credential query id.
        query_id: String,
    },
}

impl ConsentError {
    pub(crate) fn malformed(what: &'static str, reason: impl std::fmt::Display) -> Self {
        ConsentError::Malformed { what, reason: reason.to_string() }
    }
}

/// `iat` must lie in `[now − max_age − skew, now + skew]`.
pub(crate) fn check_fresh(what: &'static str, iat: i64, now: i64, max_age: i64, skew: i64) -> Result<(), ConsentError> {
    if iat > now.saturating_add(skew) || iat < now.saturating_sub(max_age).saturating_sub(skew) {
        return Err(ConsentError::NotFresh { what, iat, now });
    }
    Ok(())
}
