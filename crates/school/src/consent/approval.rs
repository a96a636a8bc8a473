//! The guardian approval JWT: build and sign (parent's wallet), parse and verify (verifier).

use std::collections::BTreeMap;

use schooltas_did::jws::{self, CompactJws, Header};
use schooltas_did::{Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ConsentError, GUARDIAN_APPROVAL_TYP, MAX_CONSENT_MESSAGE_LEN, check_fresh};
use crate::date::CalendarDate;
use crate::error::Result;
use crate::extension::LegalBasis;
use schooltas_sd_jwt::{UnverifiedSdJwt, VerifiedSdJwt};

const WHAT: &str = "guardian approval";

/// One child presentation the parent approves: which credential query it answers and its
/// `sd_hash` (which pins the exact disclosures). An approval lists one entry per presentation
/// in the response, so a query with `multiple: true` has one entry per presentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedPresentation {
    /// The DCQL credential query id the presentation answers.
    pub credential_query_id: String,
    /// `sd_hash` of the presentation (RFC 9901 §4.3.1), see [`UnverifiedSdJwt::sd_hash`].
    pub sd_hash: String,
}

/// The claims of a guardian approval.
///
/// ```json
/// {"aud": "decentralized_identifier:did:web:school.example", "nonce": "…", "iat": 1800000000,
///  "purpose": "newsletter", "legal_basis": "consent", "child_id": "Xq3…(one-time child link)",
///  "presentations": [{"credential_query_id": "enrolment", "sd_hash": "…"}],
///  "transaction_data_hashes": ["…"],
///  "guardianship": "<SD-JWT VC presentation of the guardianship credential, with KB-JWT>"}
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianApproval {
    /// The verifier's `client_id`.
    #[serde(rename = "aud")]
    pub audience: String,
    /// The request's nonce.
    pub nonce: String,
    /// When the parent approved.
    #[serde(rename = "iat")]
    pub issued_at: i64,
    /// The request's purpose code.
    pub purpose: String,
    /// The request's legal basis (always consent: other bases need no approval).
    pub legal_basis: LegalBasis,
    /// The child, as named by the guardianship copy's `child_id`: the copy's one-time child
    /// link, which the child's presentations disclose as `sub` (not a stable identifier).
    pub child_id: String,
    /// The child's presentations approved.
    pub presentations: Vec<ApprovedPresentation>,
    /// Hashes of the request's transaction data the parent saw (e.g. the photo), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transaction_data_hashes: Vec<String>,
    /// The parent's guardianship credential, presented with key binding to `aud` and `nonce`.
    pub guardianship: String,
}

impl std::fmt::Debug for GuardianApproval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardianApproval")
            .field("audience", &self.audience)
            .field("purpose", &self.purpose)
            .field("issued_at", &self.issued_at)
            .field("presentations", &self.presentations)
            .finish_non_exhaustive()
    }
}

impl GuardianApproval {
    /// Signs the approval with the parent's key — the key the guardianship credential is bound
    /// to. Header: `alg` and `typ` only; the verifier takes the key from the credential.
    pub fn sign(&self, guardian: &(impl Signer + ?Sized)) -> Result<String> {
        if self.presentations.is_empty() {
            return Err(ConsentError::malformed(WHAT, "it approves no presentation").into());
        }
        if self.audience.is_empty() || self.nonce.is_empty() || self.purpose.is_empty() || self.child_id.is_empty() {
            return Err(ConsentError::malformed(WHAT, "aud, nonce, purpose and child_id must not be empty").into());
        }
        let guardianship = UnverifiedSdJwt::parse(&self.guardianship)?;
        if !guardianship.has_key_binding() {
            return Err(ConsentError::GuardianshipNotBound.into());
        }
        Ok(jws::sign_compact_json(&Header::new().with_typ(GUARDIAN_APPROVAL_TYP), self, guardian)?)
    }
}

/// One presentation of the child in the response, as the approval must list it.
#[derive(Clone, Copy)]
pub struct ChildPresentation<'a> {
    /// The DCQL credential query id it answers.
    pub query_id: &'a str,
    /// The presentation as received (compact SD-JWT with its KB-JWT).
    pub presentation: &'a str,
    /// Its `sd_hash`, when the caller has verified the presentation already and has it
    /// ([`KeyBindingClaims::sd_hash`](schooltas_sd_jwt::KeyBindingClaims::sd_hash)); `None`:
    /// computed from `presentation`, which must then parse as an SD-JWT.
    pub sd_hash: Option<&'a str>,
}

impl<'a> ChildPresentation<'a> {
    /// A presentation answering `query_id`; its `sd_hash` is computed when needed.
    pub fn new(query_id: &'a str, presentation: &'a str) -> Self {
        ChildPresentation { query_id, presentation, sd_hash: None }
    }

    /// The same, with the `sd_hash` its verification already checked: the approval check then
    /// does not parse and hash the presentation again. The value must be the one verified for
    /// this presentation; the approval trusts it.
    pub fn with_sd_hash(mut self, sd_hash: &'a str) -> Self {
        self.sd_hash = Some(sd_hash);
        self
    }
}

impl std::fmt::Debug for ChildPresentation<'_> {
    // The presentation carries the child's disclosures: its query id and length only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildPresentation")
            .field("query_id", &self.query_id)
            .field("presentation_len", &self.presentation.len())
            .field("sd_hash", &self.sd_hash)
            .finish()
    }
}

/// What the verifier expects an approval to match.
#[derive(Clone, Copy, Debug)]
pub struct ApprovalContext<'a> {
    /// The verifier's `client_id`.
    pub audience: &'a str,
    /// The nonce of the request.
    pub nonce: &'a str,
    /// The purpose code of the request.
    pub purpose: &'a str,
    /// The child's presentations in the response, every one of them.
    pub child_presentations: &'a [ChildPresentation<'a>],
    /// The `sub` the child's verified presentations disclose (`None` if none does).
    pub child_id: Option<&'a str>,
    /// The verifier's clock (Unix seconds).
    pub now: i64,
    /// How old an approval may be, in seconds.
    pub max_age: i64,
    /// Allowed clock difference, in seconds.
    pub skew: i64,
}

/// A checked approval: what the consent register keeps as evidence.
#[derive(Clone, Debug)]
pub struct VerifiedGuardianApproval {
    /// The approval's claims.
    pub approval: GuardianApproval,
    /// The parent's key (the guardianship credential's `cnf`): a withdrawal must be signed by it.
    pub guardian_key: VerifyingKey,
    /// `relation` from the guardianship credential (`parent` or `guardian`).
    pub relation: String,
    /// The last day the guardianship gives consent authority.
    pub valid_until: CalendarDate,
}

/// A parsed approval whose signature has not been checked.
#[derive(Debug)]
pub struct UnverifiedGuardianApproval<'a> {
    jws: CompactJws<'a>,
    claims: GuardianApproval,
}

impl<'a> UnverifiedGuardianApproval<'a> {
    /// Parses an approval of at most [`MAX_CONSENT_MESSAGE_LEN`] bytes with `typ`
    /// `schooltas-guardian-approval+jwt`.
    pub fn parse(jwt: &'a str) -> Result<Self> {
        let jws = CompactJws::parse_with_limit(jwt, MAX_CONSENT_MESSAGE_LEN)?;
        if jws.header().typ() != Some(GUARDIAN_APPROVAL_TYP) {
            let found = jws.header().typ().map(|t| t.chars().take(64).collect());
            return Err(ConsentError::WrongTyp { what: WHAT, expected: GUARDIAN_APPROVAL_TYP, found }.into());
        }
        let claims = schooltas_did::strict_json::from_slice_or(&jws.dangerous_unverified_payload()?, |e| {
            crate::Error::from(ConsentError::malformed(WHAT, e))
        })?;
        Ok(UnverifiedGuardianApproval { jws, claims })
    }

    /// The guardianship presentation it carries — verify it as an SD-JWT VC with key binding
    /// to the request's nonce and the verifier's audience before calling
    /// [`UnverifiedGuardianApproval::verify`]. Not yet authenticated.
    pub fn guardianship(&self) -> &str {
        &self.claims.guardianship
    }

    /// Checks the approval against the verified guardianship credential and the request:
    ///
    /// 1. the guardianship credential has a holder key and key binding to `aud` + `nonce`;
    /// 2. the approval's signature verifies with that holder key (algorithm pinned to it);
    /// 3. `aud`, `nonce`, `purpose` are the request's, the basis is consent, `iat` is fresh;
    /// 4. `child_id` is the guardianship credential's and the `sub` the child disclosed;
    /// 5. the guardianship's `valid_until` is today or later;
    /// 6. the approved presentations are exactly the child's presentations in the response:
    ///    the same (query id, `sd_hash`) pairs, several per query id allowed (`multiple: true`),
    ///    none listed twice, none missing, none added.
    pub fn verify(
        &self,
        guardianship: &VerifiedSdJwt,
        context: &ApprovalContext<'_>,
    ) -> Result<VerifiedGuardianApproval> {
        let key = guardianship.holder_key().ok_or(ConsentError::GuardianshipNotBound)?;
        let binding = guardianship.key_binding().ok_or(ConsentError::GuardianshipNotBound)?;
        if binding.nonce != context.nonce || binding.audience != context.audience {
            return Err(ConsentError::GuardianshipKeyBindingMismatch.into());
        }
        self.jws.verify(key)?;
        let claims = &self.claims;
        if claims.audience != context.audience {
            return Err(ConsentError::WrongAudience { what: WHAT }.into());
        }
        if claims.nonce != context.nonce {
            return Err(ConsentError::NonceMismatch.into());
        }
        if claims.purpose != context.purpose || claims.legal_basis != LegalBasis::Consent {
            return Err(ConsentError::PurposeMismatch.into());
        }
        check_fresh(WHAT, claims.issued_at, context.now, context.max_age, context.skew)?;

        let text = |claim: &'static str| {
            guardianship
                .claims()
                .get(claim)
                .and_then(Value::as_str)
                .ok_or(ConsentError::GuardianshipClaimMissing { claim })
        };
        if text("child_id")? != claims.child_id {
            return Err(ConsentError::ChildMismatch.into());
        }
        match context.child_id {
            None => return Err(ConsentError::ChildNotIdentified.into()),
            Some(child) if child != claims.child_id => return Err(ConsentError::ChildMismatch.into()),
            Some(_) => {}
        }
        let relation = text("relation")?.to_owned();
        let valid_until = CalendarDate::parse(text("valid_until")?)
            .map_err(|_| ConsentError::GuardianshipClaimMissing { claim: "valid_until" })?;
        if valid_until < CalendarDate::from_unix(context.now) {
            return Err(ConsentError::GuardianshipEnded { valid_until: valid_until.to_string() }.into());
        }

        // The approval lists every child presentation, several per credential query allowed
        // (a DCQL query with `multiple: true`, OpenID4VP 1.0 §6.1), so it is compared as a set of
        // (query id, `sd_hash`) pairs — never keyed by query id alone, which would make one
        // child's two answers to one query unapprovable. The set must be exactly the response's.
        let mut approved: BTreeMap<(&str, String), bool> = BTreeMap::new();
        for p in &claims.presentations {
            if approved.insert((p.credential_query_id.as_str(), p.sd_hash.clone()), false).is_some() {
                return Err(
                    ConsentError::DuplicateApprovedPresentation { query_id: p.credential_query_id.clone() }.into()
                );
            }
        }
        for child in context.child_presentations {
            let sd_hash = match child.sd_hash {
                Some(known) => known.to_owned(),
                None => UnverifiedSdJwt::parse(child.presentation)?.sd_hash(),
            };
            match approved.get_mut(&(child.query_id, sd_hash)) {
                // A pair already matched: the response repeats a presentation the approval
                // lists once, so the repeat is not covered.
                Some(matched) if !*matched => *matched = true,
                _ => return Err(ConsentError::PresentationNotApproved { query_id: child.query_id.to_owned() }.into()),
            }
        }
        if let Some(((missing, _), _)) = approved.iter().find(|(_, matched)| !**matched) {
            return Err(ConsentError::ApprovedPresentationMissing { query_id: (*missing).to_owned() }.into());
        }
        Ok(VerifiedGuardianApproval { approval: claims.clone(), guardian_key: key.clone(), relation, valid_until })
    }
}
