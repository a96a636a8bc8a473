//! The verification pipeline (ARCHITECTURE.md): a response to a request we built → a
//! [`Verdict`] with the disclosed claims per credential query, or every failed check by name.
//!
//! Per presentation: issuer signature (key from the issuer's DID, algorithm pinned), `typ`,
//! validity period with bounded skew, disclosures, key binding (`sd_hash`, our nonce, our
//! client id as audience, fresh `iat`, key = `cnf`), transaction data hashes, issuer accredited
//! for the type in the trust list, status via the status list cache. Then the DCQL query: every
//! required claim present (else a failure), nothing more (extra claims are dropped and
//! reported). Then the consent rule: a guardian approval, valid, when a consent-based query is
//! answered and the subject is not shown to be 16 or over.
//!
//! Replay (the nonce issued by us, unexpired, used once) is the caller's first step — see
//! the verifier's request store — because only the caller knows which requests it issued.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use schooltas_credential::catalog::Catalog;
use schooltas_credential::consent::{
    AGE_OF_CONSENT, ApprovalContext, UnverifiedGuardianApproval, VerifiedGuardianApproval,
};
use schooltas_credential::date::CalendarDate;
use schooltas_credential::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, ExtraClaim, LegalBasis, PresentedCredential, transaction_data_hash,
};
use schooltas_credential::sd_jwt::{
    KeyBinding, PathElement, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions, issuer_key_via_did,
};
use schooltas_credential::status_list::StatusListCache;
use schooltas_credential::trust_list::VerifiedTrustList;
use schooltas_credential::{ClaimPath, Error as CredentialError};
use schooltas_did::{Did, Resolver, VerifyingKey};

/// What to do when a credential's status cannot be fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnknownStatus {
    /// Refuse the presentation ("status unknown" is a failed check). The default.
    #[default]
    Refuse,
    /// Accept it and list the query in [`Verdict::status_unknown`].
    Accept,
}

/// What the verifier trusts and how strict it is.
pub struct VerificationContext<'a> {
    /// Accredited issuers (and our own registration); checked for expiry at `now` at each
    /// lookup, so a list that expires while the service runs stops vouching for anyone.
    pub trust_list: &'a VerifiedTrustList,
    /// DID resolution for issuer keys.
    pub resolver: &'a Resolver,
    /// Status lists, cached with their TTL.
    pub status: &'a StatusListCache,
    /// The verifier's clock (Unix seconds).
    pub now: i64,
    /// When a status cannot be fetched.
    pub unknown_status: UnknownStatus,
    /// How old a guardian approval may be (seconds).
    pub guardian_approval_max_age: i64,
    /// Allowed clock difference (seconds).
    pub skew: i64,
}

impl<'a> VerificationContext<'a> {
    /// A strict context: status must be known, approvals at most 10 minutes old, 60 s skew.
    pub fn new(
        trust_list: &'a VerifiedTrustList,
        resolver: &'a Resolver,
        status: &'a StatusListCache,
        now: i64,
    ) -> Self {
        VerificationContext {
            trust_list,
            resolver,
            status,
            now,
            unknown_status: UnknownStatus::Refuse,
            guardian_approval_max_age: 600,
            skew: 60,
        }
    }
}

/// The checks of the pipeline, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Check {
    /// The response body parses (form or JSON, size limits).
    Response,
    /// `state` is the request's.
    State,
    /// The nonce was issued by us, is unexpired and was not used before.
    Replay,
    /// The presentation parses and its disclosures are sound.
    Presentation,
    /// The issuer's signature verifies with a key of the issuer's DID.
    IssuerSignature,
    /// `iat`, `nbf`, `exp` with bounded skew.
    Validity,
    /// The key-binding JWT: present, signed by `cnf`, `sd_hash`, fresh `iat`.
    KeyBinding,
    /// The key binding's nonce is the request's.
    Nonce,
    /// The key binding's audience is our client id.
    Audience,
    /// The key binding signs the request's transaction data.
    TransactionData,
    /// The issuer is accredited for this credential type in the trust list.
    IssuerAccredited,
    /// The credential is not revoked or suspended.
    Status,
    /// The credential's status could not be fetched.
    StatusUnknown,
    /// The guardian approval a child under 16 needs for consent.
    GuardianApproval,
    /// The disclosed claims are those requested (required ones present).
    DisclosedClaims,
}

impl Check {
    /// The check's name (`issuer_signature`, `guardian_approval`, …).
    pub fn name(self) -> &'static str {
        match self {
            Check::Response => "response",
            Check::State => "state",
            Check::Replay => "replay",
            Check::Presentation => "presentation",
            Check::IssuerSignature => "issuer_signature",
            Check::Validity => "validity",
            Check::KeyBinding => "key_binding",
            Check::Nonce => "nonce",
            Check::Audience => "audience",
            Check::TransactionData => "transaction_data",
            Check::IssuerAccredited => "issuer_accredited",
            Check::Status => "status",
            Check::StatusUnknown => "status_unknown",
            Check::GuardianApproval => "guardian_approval",
            Check::DisclosedClaims => "disclosed_claims",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Which check.
    pub check: Check,
    /// The credential query it concerns, if one.
    pub query_id: Option<String>,
    /// What failed, for a person (never a claim value).
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.query_id {
            Some(id) => write!(f, "{} ({id}): {}", self.check, self.reason),
            None => write!(f, "{}: {}", self.check, self.reason),
        }
    }
}

/// A verified credential from the response.
#[derive(Clone)]
pub struct DisclosedCredential {
    /// The credential query it answers.
    pub query_id: String,
    /// The issuer's DID.
    pub issuer: String,
    /// Its type.
    pub vct: String,
    /// The disclosed claims (extra ones removed), with the registered claims.
    pub claims: Map<String, Value>,
    /// The holder's key (`cnf`): who presented it.
    pub holder_key: Option<VerifyingKey>,
    /// The presentation as received (evidence).
    pub presentation: String,
}

impl fmt::Debug for DisclosedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DisclosedCredential")
            .field("query_id", &self.query_id)
            .field("issuer", &self.issuer)
            .field("vct", &self.vct)
            .field("claim_names", &self.claims.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The outcome of verifying a response.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// The verified credentials (also when other checks failed, for diagnosis; use only when
    /// [`Verdict::is_accepted`]).
    pub credentials: Vec<DisclosedCredential>,
    /// Claims disclosed beyond the request, dropped from `credentials`.
    pub dropped_claims: Vec<ExtraClaim>,
    /// Every failed check.
    pub failures: Vec<Failure>,
    /// The guardian approval, when one was required and valid.
    pub guardian_approval: Option<VerifiedGuardianApproval>,
    /// The guardian approval JWT as received (evidence), when it was valid.
    pub guardian_approval_jwt: Option<String>,
    /// The status entry of the guardianship credential behind the approval: revoking it (the
    /// parent lost authority) ends the consents it gave.
    pub guardianship_status: Option<schooltas_credential::status_list::StatusReference>,
    /// Whether a guardian approval was required.
    pub guardian_approval_required: bool,
    /// Queries accepted with an unknown status ([`UnknownStatus::Accept`]).
    pub status_unknown: Vec<String>,
    /// The subject (`sub`) the child's presentations disclose, if any.
    pub subject: Option<String>,
}

impl Verdict {
    /// No check failed.
    pub fn is_accepted(&self) -> bool {
        self.failures.is_empty()
    }

    /// Whether `check` failed.
    pub fn failed(&self, check: Check) -> bool {
        self.failures.iter().any(|f| f.check == check)
    }

    /// The disclosed claims answering `query_id` (the first presentation).
    pub fn claims(&self, query_id: &str) -> Option<&Map<String, Value>> {
        self.credentials.iter().find(|c| c.query_id == query_id).map(|c| &c.claims)
    }

    pub(crate) fn fail(&mut self, check: Check, query_id: Option<&str>, reason: impl Into<String>) {
        self.failures.push(Failure { check, query_id: query_id.map(str::to_owned), reason: reason.into() });
    }
}

/// Which check an error from the credential crate belongs to.
fn classify(error: &CredentialError) -> Check {
    use CredentialError as E;
    match error {
        E::Did(_) | E::IssuerKey { .. } => Check::IssuerSignature,
        E::Expired { .. } | E::NotYetValid { .. } | E::IssuedInFuture { .. } => Check::Validity,
        E::NonceMismatch => Check::Nonce,
        E::AudienceMismatch { .. } => Check::Audience,
        E::MissingKeyBinding
        | E::MissingHolderKey
        | E::InvalidHolderKey { .. }
        | E::InvalidKeyBinding { .. }
        | E::SdHashMismatch
        | E::KeyBindingStale { .. } => Check::KeyBinding,
        E::Revoked { .. } | E::Suspended { .. } | E::StatusNotValid { .. } => Check::Status,
        E::StatusUnavailable { .. } => Check::StatusUnknown,
        _ => Check::Presentation,
    }
}

/// Verifies a `direct_post` response body (form-encoded, or JSON) to `request`.
pub fn verify_response(request: &AuthorizationRequest, body: &str, context: &VerificationContext<'_>) -> Verdict {
    let mut verdict = Verdict::default();
    let parsed = if body.trim_start().starts_with('{') {
        AuthorizationResponse::from_json(body)
    } else {
        AuthorizationResponse::from_form(body)
    };
    let response = match parsed {
        Ok(response) => response,
        Err(error) => {
            verdict.fail(Check::Response, None, error.to_string());
            return verdict;
        }
    };
    if !response.state_matches(request.state.as_deref()) {
        verdict.fail(Check::State, None, "the response's state is not the request's");
    }
    let mut options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, &request.client_id));
    options.clock_skew = context.skew;
    let transaction_data = match request.decoded_transaction_data() {
        Ok(decoded) => request.transaction_data.iter().cloned().zip(decoded).collect::<Vec<_>>(),
        Err(error) => {
            verdict.fail(Check::Response, None, format!("our own request's transaction data: {error}"));
            Vec::new()
        }
    };

    let mut presented: BTreeMap<String, Vec<PresentedCredential>> = BTreeMap::new();
    let mut verified: Vec<(String, VerifiedSdJwt, String)> = Vec::new();
    for (query_id, presentations) in &response.vp_token {
        for presentation in presentations {
            let Some(one) = verify_presentation(query_id, presentation, &options, context, &mut verdict) else {
                continue;
            };
            // Transaction data bound to this query must be signed in the key binding.
            let expected: Vec<String> = transaction_data
                .iter()
                .filter(|(_, data)| data.credential_ids.iter().any(|id| id == query_id))
                .map(|(encoded, _)| transaction_data_hash(encoded))
                .collect();
            let signed = one.key_binding().map(|kb| kb.transaction_data_hashes.clone()).unwrap_or_default();
            if !expected.iter().all(|hash| signed.contains(hash)) {
                verdict.fail(
                    Check::TransactionData,
                    Some(query_id),
                    "the key binding does not sign the request's transaction data",
                );
            }
            presented.entry(query_id.clone()).or_default().push(PresentedCredential::from_verified(&one));
            verified.push((query_id.clone(), one, presentation.clone()));
        }
    }

    // The DCQL query: required claims present, extra ones dropped and reported.
    match request.dcql_query.check_response(&presented) {
        Ok(report) => {
            // A query whose presentation already failed is not reported again as unanswered.
            let failed_queries: Vec<String> = verdict.failures.iter().filter_map(|f| f.query_id.clone()).collect();
            for failure in &report.failures {
                if failure.query_id().is_some_and(|id| failed_queries.iter().any(|f| f == id)) {
                    continue;
                }
                verdict.fail(Check::DisclosedClaims, failure.query_id(), failure.to_string());
            }
            verdict.dropped_claims = report.extra_claims;
        }
        Err(error) => verdict.fail(Check::DisclosedClaims, None, error.to_string()),
    }
    let mut index_in_query: BTreeMap<&str, usize> = BTreeMap::new();
    for (query_id, one, presentation) in &verified {
        let index = index_in_query.entry(query_id.as_str()).or_insert(0);
        let mut claims = one.claims().clone();
        for extra in verdict.dropped_claims.iter().filter(|e| &e.query_id == query_id && e.index == *index) {
            remove_path(&mut claims, &extra.path);
        }
        *index += 1;
        verdict.credentials.push(DisclosedCredential {
            query_id: query_id.clone(),
            issuer: one.issuer().unwrap_or_default().to_owned(),
            vct: one.vct().unwrap_or_default().to_owned(),
            claims,
            holder_key: one.holder_key().cloned(),
            presentation: presentation.clone(),
        });
    }
    verdict.subject =
        verdict.credentials.iter().find_map(|c| c.claims.get("sub").and_then(Value::as_str).map(str::to_owned));

    check_guardian(request, &response, &verified, context, &mut verdict);
    verdict
}

/// Steps 1–7 for one presentation; `None` (with failures recorded) when it cannot be used.
fn verify_presentation(
    query_id: &str,
    presentation: &str,
    options: &VerifyOptions,
    context: &VerificationContext<'_>,
    verdict: &mut Verdict,
) -> Option<VerifiedSdJwt> {
    let mut issuer_key = None;
    let result = UnverifiedSdJwt::parse(presentation).and_then(|parsed| {
        parsed.verify_with(
            |header, iss| {
                let key = issuer_key_via_did(context.resolver, header, iss)?;
                issuer_key = Some(key.clone());
                Ok(key)
            },
            options,
            context.now,
        )
    });
    let one = match result {
        Ok(one) => one,
        Err(error) => {
            verdict.fail(classify(&error), Some(query_id), error.to_string());
            return None;
        }
    };
    let vct = one.vct().unwrap_or_default().to_owned();
    let accredited = Did::parse(one.issuer().unwrap_or_default()).map_err(|e| e.to_string()).and_then(|issuer| {
        let list = context.trust_list.at(context.now).map_err(|e| e.to_string())?;
        list.check_issuer(&issuer, &vct).map(|_| ()).map_err(|e| e.to_string())
    });
    if let Err(reason) = accredited {
        verdict.fail(Check::IssuerAccredited, Some(query_id), reason);
    }
    check_status(query_id, &one, issuer_key.as_ref(), context, verdict);
    Some(one)
}

fn check_status(
    query_id: &str,
    one: &VerifiedSdJwt,
    issuer_key: Option<&VerifyingKey>,
    context: &VerificationContext<'_>,
    verdict: &mut Verdict,
) {
    let reference = match one.status_reference() {
        Ok(Some(reference)) => reference,
        Ok(None) => return,
        Err(error) => {
            verdict.fail(Check::Status, Some(query_id), error.to_string());
            return;
        }
    };
    let Some(key) = issuer_key else { return };
    match context.status.check(&reference, key, context.now) {
        Ok(()) => {}
        Err(error) if classify(&error) == Check::StatusUnknown && context.unknown_status == UnknownStatus::Accept => {
            verdict.status_unknown.push(query_id.to_owned());
        }
        Err(error) => {
            let check = match classify(&error) {
                Check::StatusUnknown => Check::StatusUnknown,
                _ => Check::Status,
            };
            verdict.fail(check, Some(query_id), error.to_string());
        }
    }
}

/// The consent rule: a consent-based answer about someone not shown to be 16 or over needs a
/// valid guardian approval.
fn check_guardian(
    request: &AuthorizationRequest,
    response: &AuthorizationResponse,
    verified: &[(String, VerifiedSdJwt, String)],
    context: &VerificationContext<'_>,
    verdict: &mut Verdict,
) {
    let Some(extension) = &request.schooltas else { return };
    let consent_answered =
        response.vp_token.keys().any(|query_id| extension.basis_for(query_id) == LegalBasis::Consent);
    if !consent_answered || verified.is_empty() || proven_sixteen(verified, context.now) {
        return;
    }
    verdict.guardian_approval_required = true;
    let Some(jwt) = response.guardian_approval.as_deref() else {
        verdict.fail(
            Check::GuardianApproval,
            None,
            "missing: the request rests on consent and the subject is not shown to be 16 or over",
        );
        return;
    };
    match verify_guardian(request, jwt, response, verdict.subject.as_deref(), context) {
        Ok((approval, status)) => {
            verdict.guardian_approval = Some(approval);
            verdict.guardian_approval_jwt = Some(jwt.to_owned());
            verdict.guardianship_status = status;
        }
        Err(reason) => verdict.fail(Check::GuardianApproval, None, reason),
    }
}

fn verify_guardian(
    request: &AuthorizationRequest,
    jwt: &str,
    response: &AuthorizationResponse,
    subject: Option<&str>,
    context: &VerificationContext<'_>,
) -> Result<(VerifiedGuardianApproval, Option<schooltas_credential::status_list::StatusReference>), String> {
    let approval = UnverifiedGuardianApproval::parse(jwt).map_err(|e| e.to_string())?;
    let mut options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, &request.client_id));
    options.clock_skew = context.skew;
    let mut issuer_key = None;
    let guardianship = UnverifiedSdJwt::parse(approval.guardianship())
        .and_then(|parsed| {
            parsed.verify_with(
                |header, iss| {
                    let key = issuer_key_via_did(context.resolver, header, iss)?;
                    issuer_key = Some(key.clone());
                    Ok(key)
                },
                &options,
                context.now,
            )
        })
        .map_err(|e| format!("the guardianship credential: {e}"))?;
    let vct = guardianship.vct().unwrap_or_default();
    if guardianship_vct() != Some(vct) {
        return Err("the approval does not carry a guardianship credential".into());
    }
    let issuer = Did::parse(guardianship.issuer().unwrap_or_default()).map_err(|e| e.to_string())?;
    context
        .trust_list
        .at(context.now)
        .and_then(|list| list.check_issuer(&issuer, vct).map(drop))
        .map_err(|e| format!("the guardianship credential: {e}"))?;
    let status = guardianship.status_reference().map_err(|e| format!("the guardianship credential's status: {e}"))?;
    if let (Some(reference), Some(key)) = (&status, issuer_key.as_ref()) {
        context
            .status
            .check(reference, key, context.now)
            .map_err(|e| format!("the guardianship credential's status: {e}"))?;
    }
    let purpose = request.schooltas.as_ref().map(|e| e.purpose.code.as_str()).unwrap_or_default();
    let presentations: Vec<(&str, &str)> =
        response.vp_token.iter().flat_map(|(id, list)| list.iter().map(move |p| (id.as_str(), p.as_str()))).collect();
    approval
        .verify(
            &guardianship,
            &ApprovalContext {
                audience: &request.client_id,
                nonce: &request.nonce,
                purpose,
                child_presentations: &presentations,
                child_id: subject,
                now: context.now,
                max_age: context.guardian_approval_max_age,
                skew: context.skew,
            },
        )
        .map(|approval| (approval, status))
        .map_err(|e| e.to_string())
}

/// The guardianship type's `vct`, from the standard catalog (built once: this is a hot path).
fn guardianship_vct() -> Option<&'static str> {
    static VCT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    VCT.get_or_init(|| Catalog::standard().get("guardianship").map(|t| t.vct().as_str().to_owned())).as_deref()
}

/// Whether a verified presentation shows the subject to be 16 or over: `age_over_16: true`,
/// or a birth date at least 16 years before today.
fn proven_sixteen(verified: &[(String, VerifiedSdJwt, String)], now: i64) -> bool {
    let today = CalendarDate::from_unix(now);
    verified.iter().any(|(_, one, _)| {
        let claims = one.claims();
        claims.get("age_over_16") == Some(&Value::Bool(true))
            || claims
                .get("birth_date")
                .and_then(Value::as_str)
                .and_then(|d| CalendarDate::parse(d).ok())
                .is_some_and(|birth| birth.age_on(today) >= AGE_OF_CONSENT)
    })
}

fn remove_path(claims: &mut Map<String, Value>, path: &ClaimPath) {
    fn remove(value: &mut Value, elements: &[PathElement]) {
        match (elements, value) {
            ([PathElement::Key(key)], Value::Object(map)) => {
                map.remove(key);
            }
            ([PathElement::Key(key), rest @ ..], Value::Object(map)) => {
                if let Some(child) = map.get_mut(key) {
                    remove(child, rest);
                }
            }
            ([PathElement::Index(index)], Value::Array(items)) => {
                if let Some(slot) = items.get_mut(*index) {
                    *slot = Value::Null;
                }
            }
            ([PathElement::Index(index), rest @ ..], Value::Array(items)) => {
                if let Some(child) = items.get_mut(*index) {
                    remove(child, rest);
                }
            }
            ([PathElement::AllElements, rest @ ..], Value::Array(items)) if !rest.is_empty() => {
                for child in items {
                    remove(child, rest);
                }
            }
            _ => {}
        }
    }
    let mut root = Value::Object(std::mem::take(claims));
    remove(&mut root, path.elements());
    if let Value::Object(map) = root {
        *claims = map;
    }
}
