//! The verification pipeline (ARCHITECTURE.md): a response to a request we built → a
//! [`Verdict`] with the disclosed claims per credential query, or every failed check by name.
//!
//! Per presentation: **trust before network** — the unverified `iss` must be accredited for the
//! unverified `vct` in the trust list before any DID is resolved or any status list fetched, so
//! a stranger's credential cannot make the verifier fetch what it names (issue 12 item 3) —
//! then issuer signature (key from the issuer's DID, algorithm pinned), `typ`, validity period
//! with bounded skew, disclosures, key binding (`sd_hash`, our nonce, our client id as
//! audience, fresh `iat`, key = `cnf`), transaction data hashes, the accreditation again on the
//! verified values, status via the status list cache. Then the DCQL query: every required claim
//! present (else a failure), nothing more (extra claims are dropped and reported).
//!
//! Then the consent rule (docs/protocol/guardian-approval.md):
//!
//! 1. **The legal basis comes from the registration.** Each credential query rests on the
//!    stricter of the basis the request states and the basis the verifier's own registration in
//!    the trust list gives its purpose and the types it accepts; consent is stricter than any
//!    other basis, and a query the registration does not cover is treated as consent
//!    ([`Check::LegalBasis`] flags both mismatches). A request cannot talk its way out of the
//!    parent's approval by stating `legal_obligation`.
//! 2. **One child per consent.** Every presentation answering a consent query discloses the
//!    child link `sub` ([`Check::ChildLink`]), all of them the same one ([`Check::OneChild`]).
//!    `sub` is an opaque string (a per-copy pseudonym), compared for equality only.
//! 3. Age evidence (`age_over_16: true`, a birth date 16 or more years ago) counts only from
//!    presentations of that child; otherwise a valid guardian approval for that child
//!    (`child_id` = the one subject) is required ([`Check::GuardianApproval`]).
//!
//! Failure reasons name the rule, never a claim value, a `sub`, a fetched URL's error or
//! other connection details: they may be shown to the sender.
//!
//! Replay (the nonce issued by us, unexpired, used once) is the caller's business — see
//! [`crate::Verifier::receive`], which spends the nonce only on an accepted answer — because
//! only the caller knows which requests it issued.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use schooltas_did::jws::Header;
use schooltas_did::{Algorithm, Resolver, VerifyingKey};
use schooltas_jwe::EncryptionKey;
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, ExtraClaim, PresentedCredential, transaction_data_hash,
};
use schooltas_oid4vc::oid4vp::{Oid4vpError, decrypt_jwt_form};
use schooltas_school::Error as CredentialError;
use schooltas_school::catalog::Catalog;
use schooltas_school::consent::{
    self, AGE_OF_CONSENT, ApprovalContext, ChildPresentation, UnverifiedGuardianApproval, VerifiedGuardianApproval,
};
use schooltas_school::date::CalendarDate;
use schooltas_school::trust_list::{CurrentTrustList, RegisteredPurpose, VerifiedTrustList};
use schooltas_school::{LegalBasis, SchooltasExtension};
use schooltas_sd_jwt::{ClaimPath, Error as SdJwtError};
use schooltas_sd_jwt::{KeyBinding, PathElement, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions, issuer_key_via_did};
use schooltas_status_list::{Error as StatusListError, StatusListCache};

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
    /// How JWT VC Issuer Metadata (SD-JWT VC §5) is fetched, for an issuer named by an
    /// `https` identifier whose credential carries no `x5c`; `None` refuses such credentials.
    pub issuer_metadata: Option<&'a dyn IssuerMetadataFetcher>,
}

/// Fetches an `https` issuer's JWT VC Issuer Metadata and JWK sets: the production one is
/// [`crate::HttpsStatusListFetcher`] (the same guarded HTTPS client). Called only for an issuer
/// the trust list accredits (trust before network).
pub trait IssuerMetadataFetcher: Send + Sync {
    /// The body at `url` (an `https` URL), served as `application/json`.
    fn fetch_json(&self, url: &str) -> crate::Result<Vec<u8>>;
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
            issuer_metadata: None,
        }
    }

    /// Finds the keys of issuers named by an `https` identifier through their JWT VC Issuer
    /// Metadata, fetched with `fetcher`.
    pub fn with_issuer_metadata(mut self, fetcher: &'a dyn IssuerMetadataFetcher) -> Self {
        self.issuer_metadata = Some(fetcher);
        self
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
    /// The status list token's signer is trusted for the credential: without `x5c`, the
    /// credential's own key; with `x5c`, a chain to the trust list's X.509 anchors whose leaf
    /// names the credential's `iss` and, for a key other than the credential's, carries the
    /// status list signing EKU (`schooltas_status_list::status_list_signer_key`).
    StatusListSigner,
    /// The guardian approval a child under 16 needs for consent.
    GuardianApproval,
    /// The disclosed claims are those requested (required ones present).
    DisclosedClaims,
    /// A presentation answering a consent query discloses the child link (`sub`) that binds it
    /// to the guardian approval and to the consent record.
    ChildLink,
    /// All presentations answering consent queries are about one and the same child.
    OneChild,
    /// The basis the request states agrees with the verifier's registration in the trust list
    /// (a query the registration puts on consent, or does not cover, is treated as consent).
    LegalBasis,
    /// The response is encrypted as the request asked (`direct_post.jwt`, OpenID4VP 1.0 §8.3):
    /// a JWE to our key, with a content encryption we offered, that decrypts; and a plaintext
    /// response to a request that asked for an encrypted one is refused.
    Encryption,
    /// Over the Digital Credentials API (OpenID4VP 1.0 Appendix A): the origin the page saw
    /// is an https origin and one of the request's expected origins.
    Origin,
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
            Check::StatusListSigner => "status_list_signer",
            Check::GuardianApproval => "guardian_approval",
            Check::DisclosedClaims => "disclosed_claims",
            Check::ChildLink => "child_link",
            Check::OneChild => "one_child",
            Check::LegalBasis => "legal_basis",
            Check::Encryption => "encryption",
            Check::Origin => "origin",
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
    pub guardianship_status: Option<schooltas_status_list::StatusReference>,
    /// The guardianship credential's issuer and verified key, whose signer rule a later check
    /// of `guardianship_status` applies (set with it).
    pub guardianship_issuer: Option<crate::register::StatusIssuer>,
    /// Whether a guardian approval was required.
    pub guardian_approval_required: bool,
    /// Queries accepted with an unknown status ([`UnknownStatus::Accept`]).
    pub status_unknown: Vec<String>,
    /// The child the response is about: in a response resting on consent, the one `sub` every
    /// consent presentation discloses ([`Check::ChildLink`], [`Check::OneChild`]); otherwise the
    /// `sub` the presentations disclose when they all agree. An opaque string.
    pub subject: Option<String>,
    /// The legal basis each credential query rests on for this verifier: the stricter of the
    /// request's statement and the verifier's registration (consent when either says so, or when
    /// the registration does not cover the query). [`crate::Verifier::record_consent`] records
    /// the queries on consent.
    pub legal_bases: BTreeMap<String, LegalBasis>,
}

impl Verdict {
    /// No check failed.
    pub fn is_accepted(&self) -> bool {
        self.failures.is_empty()
    }

    /// The Credential Query ids of the presentations that rest on consent: the bases the
    /// pipeline established ([`Verdict::legal_bases`], the stricter of the request's and the
    /// registration's), a query without one counting as consent. What
    /// [`crate::Verifier::record_consent`] records, and what a service asks before recording.
    pub fn consent_queries(&self) -> Vec<&str> {
        self.credentials
            .iter()
            .map(|c| c.query_id.as_str())
            .filter(|id| self.legal_bases.get(*id).is_none_or(|basis| *basis == LegalBasis::Consent))
            .collect()
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
        // Strict JSON (a member named twice, an integer beyond 64 bits) anywhere in the
        // presentation, its disclosures or its key binding: it does not parse soundly.
        E::Did(schooltas_did::Error::Json(_)) => Check::Presentation,
        E::Did(_) => Check::IssuerSignature,
        E::SdJwt(error) => classify_sd_jwt(error),
        E::StatusList(error) => classify_status(error),
        _ => Check::Presentation,
    }
}

/// Which check an SD-JWT error belongs to.
fn classify_sd_jwt(error: &SdJwtError) -> Check {
    use SdJwtError as E;
    match error {
        E::Did(schooltas_did::Error::Json(_)) => Check::Presentation,
        E::Did(_) | E::IssuerKey { .. } => Check::IssuerSignature,
        E::Expired { .. } | E::NotYetValid { .. } | E::IssuedInFuture { .. } => Check::Validity,
        E::NonceMismatch => Check::Nonce,
        E::AudienceMismatch { .. } => Check::Audience,
        E::MissingKeyBinding
        | E::MissingHolderKey
        | E::InvalidHolderKey { .. }
        | E::InvalidKeyBinding { .. }
        | E::KeyBindingSignature { .. }
        | E::SdHashMismatch
        | E::KeyBindingStale { .. } => Check::KeyBinding,
        E::StatusList(error) => classify_status(error),
        _ => Check::Presentation,
    }
}

/// Which check a status-list error belongs to.
fn classify_status(error: &StatusListError) -> Check {
    use StatusListError as S;
    match error {
        S::Did(schooltas_did::Error::Json(_)) => Check::Presentation,
        S::Did(_) => Check::IssuerSignature,
        S::Revoked { .. } | S::Suspended { .. } | S::StatusNotValid { .. } => Check::Status,
        S::StatusUnavailable { .. } => Check::StatusUnknown,
        S::UntrustedStatusSigner { .. } => Check::StatusListSigner,
        _ => Check::Presentation,
    }
}

/// A reason for a person that names the rule, never a claim value or connection details.
///
/// Most errors of the credential crate name only rules, digests, numbers and limits; the few
/// that carry something the sender controls or something about our network (a fetched URL's
/// error, an audience found, a `typ` found, a serde message that may quote a value, a
/// guardianship's end date) are replaced by a fixed sentence. The verdict may be shown to
/// the sender, so it must not become an oracle for the verifier's network (issue 12 item 3).
fn describe(error: &CredentialError) -> String {
    use CredentialError as E;
    match error {
        E::Did(error) => describe_did(error).to_owned(),
        E::Catalog(_) => "the credential's claims do not fit its type in the catalog".into(),
        E::Consent(error) => describe_consent(error),
        E::TrustList(_) => "the trust list refuses it".into(),
        E::StatusList(error) => describe_status(error),
        E::SdJwt(error) => describe_sd_jwt(error),
        // The rest carry rule names, numbers and paths only.
        other => other.to_string(),
    }
}

/// [`describe`] for an SD-JWT error.
fn describe_sd_jwt(error: &SdJwtError) -> String {
    use SdJwtError as E;
    match error {
        E::Did(error) => describe_did(error).to_owned(),
        E::StatusList(error) => describe_status(error),
        E::AudienceMismatch { .. } => "the key-binding JWT is addressed to another verifier".into(),
        E::WrongTyp { expected, .. } => format!("wrong typ: expected {expected}"),
        E::UnsupportedHashAlgorithm { .. } => "unsupported _sd_alg: only sha-256 is supported".into(),
        E::InvalidPayload { .. } => "the issuer-signed payload is malformed".into(),
        E::InvalidHolderKey { .. } => "the credential's cnf claim is not a usable holder key".into(),
        E::KeyBindingSignature { source } => format!(
            "the key-binding JWT's signature does not verify with the credential's holder key: {}",
            describe_did(source)
        ),
        E::ReservedClaimName { digest, .. } => format!("disclosure {digest} uses a reserved claim name"),
        E::ClaimCollision { digest, .. } => format!("disclosure {digest} would overwrite an existing claim"),
        // The rest carry rule names, digests, numbers, limits and paths only.
        other => other.to_string(),
    }
}

fn describe_status(error: &StatusListError) -> String {
    use StatusListError as S;
    match error {
        S::Did(error) => describe_did(error).to_owned(),
        S::StatusUnavailable { .. } => {
            "the status list could not be fetched: the credential's status is unknown".into()
        }
        S::StatusListExpired { .. } => "the status list token has expired: the credential's status is unknown".into(),
        S::StatusListSubjectMismatch { .. } => "the status list token is for another list than the credential's".into(),
        S::InvalidStatusList { .. } | S::InvalidStatusListToken { .. } => "the status list token is invalid".into(),
        S::InvalidStatusReference { .. } => "the credential's status claim is invalid".into(),
        S::Revoked { index, .. } => format!("the credential is revoked (status entry {index} is INVALID)"),
        S::Suspended { index, .. } => format!("the credential is suspended (status entry {index} is SUSPENDED)"),
        S::StatusNotValid { index, .. } => format!("the credential's status (entry {index}) is not VALID"),
        S::WrongTyp { expected, .. } => format!("wrong typ: expected {expected}"),
        // The rest carry rule names, numbers and limits only.
        other => other.to_string(),
    }
}

fn describe_did(error: &schooltas_did::Error) -> &'static str {
    use schooltas_did::Error as E;
    match error {
        // A key-binding JWT's signature has its own error (`KeyBindingSignature`); here it is
        // the issuer's JWT (or, for an approval, the parent's signature).
        E::InvalidSignature => "a signature does not verify with the signer's key",
        E::AlgNone | E::HmacAlgorithm { .. } | E::UnsupportedAlgorithm { .. } | E::AlgorithmMismatch { .. } => {
            "the JWS algorithm is refused or does not fit the key"
        }
        E::Fetch { .. } => "the issuer's DID document could not be fetched",
        E::UnsupportedDidMethod { .. } => "the issuer's DID method is not supported by this verifier",
        E::InvalidDidDocument { .. } | E::VerificationMethodNotFound { .. } => {
            "the issuer's DID document has no usable key for this credential"
        }
        E::TooLarge { .. } => "a JWS is larger than allowed",
        // Strict JSON (issue 12 item 10); the member name is the sender's, so it is not echoed.
        E::Json(schooltas_did::strict_json::Error::DuplicateMember { .. }) => {
            "a signed JSON object names a member twice (it could read differently in two parsers)"
        }
        E::Json(schooltas_did::strict_json::Error::IntegerOutOfRange) => {
            "a signed JSON text has an integer beyond 64 bits"
        }
        E::Json(schooltas_did::strict_json::Error::TooDeep { .. }) => "a signed JSON text is nested too deeply",
        _ => "a JWS, key or DID is malformed",
    }
}

fn describe_consent(error: &schooltas_school::consent::ConsentError) -> String {
    use schooltas_school::consent::ConsentError as E;
    match error {
        E::Malformed { what, .. } => format!("malformed {what}"),
        E::WrongTyp { what, expected, .. } => format!("a {what} must have typ {expected}"),
        E::GuardianshipEnded { .. } => {
            "the guardianship has ended; the parent can no longer approve for this child".into()
        }
        other => other.to_string(),
    }
}

/// Verifies a `direct_post` response body (form-encoded, or JSON) to `request`.
///
/// A request that asked for an encrypted response (`direct_post.jwt`) fails
/// [`Check::Encryption`] here: its body goes to [`verify_encrypted_response`].
pub fn verify_response(request: &AuthorizationRequest, body: &str, context: &VerificationContext<'_>) -> Verdict {
    if request.wants_encrypted_response() {
        let mut verdict = Verdict::default();
        verdict.fail(Check::Encryption, None, "the request asked for an encrypted response (direct_post.jwt)");
        return verdict;
    }
    verify_plaintext(request, body, context)
}

/// Verifies a `direct_post.jwt` body (`response=<JWE>`, OpenID4VP 1.0 §8.3) to `request`,
/// decrypting with `key` and accepting only the content encryptions the request offered. A
/// plaintext body, a JWE to another key, a changed JWE or an encryption not offered fails
/// [`Check::Encryption`]; so does a request that did not ask for encryption.
pub fn verify_encrypted_response(
    request: &AuthorizationRequest,
    body: &str,
    key: &EncryptionKey,
    context: &VerificationContext<'_>,
) -> Verdict {
    match decrypt_response(request, body, key) {
        Ok(plaintext) => verify_plaintext(request, &plaintext, context),
        Err((check, reason)) => {
            let mut verdict = Verdict::default();
            verdict.fail(check, None, reason);
            verdict
        }
    }
}

/// The decrypted JSON text of a `direct_post.jwt` body, or the check that refuses it and why.
fn decrypt_response(
    request: &AuthorizationRequest,
    body: &str,
    key: &EncryptionKey,
) -> std::result::Result<String, (Check, String)> {
    if !request.wants_encrypted_response() {
        return Err((Check::Encryption, "an encrypted response to a request that did not ask for one".into()));
    }
    let offered = request
        .offered_response_encs()
        .map_err(|error| (Check::Encryption, format!("our own request's client_metadata: {error}")))?;
    decrypt_jwt_form(body, key, &offered).map_err(|error| match error {
        // The holder declined (a plaintext `error=`): reported as a response.
        Oid4vpError::ErrorResponse { .. } => (Check::Response, error.to_string()),
        other => (Check::Encryption, other.to_string()),
    })
}

pub(crate) fn verify_plaintext(
    request: &AuthorizationRequest,
    body: &str,
    context: &VerificationContext<'_>,
) -> Verdict {
    verify_plaintext_for(request, &request.client_id, body, context)
}

/// [`verify_plaintext`] with the key-binding (and guardian approval) audience given: the
/// request's `client_id` for redirect flows, `origin:<origin>` over the Digital Credentials
/// API (OpenID4VP 1.0 Appendix A.4).
pub(crate) fn verify_plaintext_for(
    request: &AuthorizationRequest,
    audience: &str,
    body: &str,
    context: &VerificationContext<'_>,
) -> Verdict {
    let mut verdict = Verdict::default();
    let parsed = if body.trim_start().starts_with('{') {
        consent::response_from_json(body)
    } else {
        consent::response_from_form(body)
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
    let mut options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, audience));
    options.clock_skew = context.skew;
    let transaction_data = match request.decoded_transaction_data() {
        Ok(decoded) => request.transaction_data.iter().cloned().zip(decoded).collect::<Vec<_>>(),
        Err(error) => {
            verdict.fail(Check::Response, None, format!("our own request's transaction data: {error}"));
            Vec::new()
        }
    };

    let mut presented: BTreeMap<String, Vec<PresentedCredential>> = BTreeMap::new();
    let mut verified: Vec<Verified<'_>> = Vec::new();
    // Issuer keys are resolved once per response: one school's key serves its children's
    // credentials and the parent's guardianship credential alike.
    let keys = IssuerKeys::default();
    for (query_id, presentations) in &response.vp_token {
        for presentation in presentations {
            let Some(one) = verify_presentation(query_id, presentation, &options, context, &keys, &mut verdict) else {
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
            verified.push((query_id.as_str(), one, presentation.as_str()));
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
    // The verifier built the request with a checked extension; a standard request without one
    // rests on the one registered purpose that covers it, as the wallets read it. Read once for
    // both rules.
    let extension = SchooltasExtension::from_request(request).ok().flatten().or_else(|| {
        let registration = context.trust_list.at(context.now).ok()?.verifier_for_client(&request.client_id)?;
        SchooltasExtension::of_request(request, registration).ok().flatten().map(|(extension, _)| extension)
    });
    legal_bases(request, extension.as_ref(), &response, context.trust_list, context.now, &mut verdict);
    check_consent(request, audience, extension.as_ref(), &response, &verified, context, &keys, &mut verdict);

    // The verified credentials go into the verdict last, moved rather than copied: the consent
    // rule above still reads them.
    let mut index_in_query: BTreeMap<&str, usize> = BTreeMap::new();
    for (query_id, one, presentation) in verified {
        let index = index_in_query.entry(query_id).or_insert(0);
        let (issuer, vct) = (one.issuer().unwrap_or_default().to_owned(), one.vct().unwrap_or_default().to_owned());
        let holder_key = one.holder_key().cloned();
        let mut claims = one.into_claims();
        for extra in verdict.dropped_claims.iter().filter(|e| e.query_id == query_id && e.index == *index) {
            remove_path(&mut claims, &extra.path);
        }
        *index += 1;
        verdict.credentials.push(DisclosedCredential {
            query_id: query_id.to_owned(),
            issuer,
            vct,
            claims,
            holder_key,
            presentation: presentation.to_owned(),
        });
    }
    verdict
}

/// A verified presentation: the query it answers, the result, the text as received.
type Verified<'r> = (&'r str, VerifiedSdJwt, &'r str);

/// Whether the trust list accredits `iss` for `vct`. The reason never echoes either value:
/// both come from the sender.
fn accredited(trust_list: &VerifiedTrustList, now: i64, iss: &str, vct: &str) -> Result<(), &'static str> {
    // Trust lists are re-checked for expiry at each use (issue 12 item 9).
    let trust_list = trust_list.at(now).map_err(|_| "the trust list expired (or is not yet valid): refresh it")?;
    trust_list
        .check_iss(iss, vct)
        .map(|_| ())
        .map_err(|_| "the issuer is not accredited for this credential type in the trust list")
}

/// Issuer keys found while verifying one response, by (`iss`, `kid`, `alg`): a response about
/// one school's pupil carries several of its credentials (the child's, the parent's
/// guardianship), and its DID is resolved for the first only.
#[derive(Default)]
struct IssuerKeys(std::cell::RefCell<Vec<(String, String, Algorithm, VerifyingKey)>>);

impl IssuerKeys {
    fn get(&self, context: &VerificationContext<'_>, header: &Header, iss: &str) -> Result<VerifyingKey, SdJwtError> {
        // A key from an x5c chain is validated per credential, never taken from the cache.
        let (Some(kid), Some(alg), None) = (header.kid(), header.alg(), header.get("x5c")) else {
            return find_issuer_key(context, header, iss);
        };
        let found = self.0.borrow().iter().find(|(i, k, a, _)| i == iss && k == kid && *a == alg).map(|e| e.3.clone());
        if let Some(key) = found {
            return Ok(key);
        }
        let key = find_issuer_key(context, header, iss)?;
        self.0.borrow_mut().push((iss.to_owned(), kid.to_owned(), alg, key.clone()));
        Ok(key)
    }
}

/// The issuer's key by the mechanism its identifier calls for (SD-JWT VC §3.5): a DID is
/// resolved; an `https` identifier's `x5c` chain (HAIP 1.0) is validated to the trust list's
/// X.509 anchors, or, without `x5c`, its JWT VC Issuer Metadata is fetched.
fn find_issuer_key(context: &VerificationContext<'_>, header: &Header, iss: &str) -> Result<VerifyingKey, SdJwtError> {
    if iss.starts_with("did:") {
        if header.get("x5c").is_some() {
            // A DID issuer's key comes from its DID document; a chain beside it would be a
            // second, unrelated source of trust.
            return Err(SdJwtError::IssuerKey {
                reason: "the credential carries an x5c chain but names a DID issuer: its key must come from the DID",
            });
        }
        return issuer_key_via_did(context.resolver, header, Some(iss));
    }
    if let Some(x5c) = header.get("x5c") {
        return issuer_key_via_x5c(context, x5c, iss);
    }
    let fetcher = context.issuer_metadata.ok_or(SdJwtError::IssuerKey {
        reason: "the issuer is named by an https identifier and this verifier fetches no JWT VC Issuer Metadata",
    })?;
    let unreachable = |_| SdJwtError::IssuerKey { reason: "the issuer's JWT VC Issuer Metadata could not be fetched" };
    let url = schooltas_sd_jwt::jwt_vc_issuer_metadata_url(iss)?;
    let metadata = fetcher.fetch_json(&url).map_err(unreachable)?;
    let jwks = match schooltas_sd_jwt::issuer_metadata_keys(&metadata, iss)? {
        schooltas_sd_jwt::IssuerMetadataKeys::Inline(jwks) => jwks,
        schooltas_sd_jwt::IssuerMetadataKeys::ByReference(uri) => {
            let body = fetcher.fetch_json(&uri).map_err(unreachable)?;
            schooltas_did::strict_json::to_value(&body)
                .map_err(|_| SdJwtError::IssuerKey { reason: "the issuer's JWK set is not strict JSON" })?
        }
    };
    schooltas_sd_jwt::key_from_jwk_set(&jwks, header)
}

/// The leaf key of an issuer's `x5c` chain, once the chain leads to one of the trust list's
/// X.509 anchors at `context.now` and the leaf names `iss` (SAN URI, or SAN DNS = its host).
/// Called only for an issuer the trust list accredits. The reasons name the rule, never the
/// certificate's contents.
fn issuer_key_via_x5c(context: &VerificationContext<'_>, x5c: &Value, iss: &str) -> Result<VerifyingKey, SdJwtError> {
    use schooltas_x509::X509Error as X;
    let refuse = |reason| SdJwtError::IssuerKey { reason };
    if !iss.starts_with("https://") {
        return Err(refuse("the credential carries an x5c chain but its issuer is not an https identifier"));
    }
    let chain = schooltas_x509::CertificateChain::from_x5c(x5c)
        .map_err(|_| refuse("the issuer's x5c is not a well-formed certificate chain"))?;
    let current = context.trust_list.at(context.now).map_err(|_| refuse("the trust list expired: refresh it"))?;
    let anchors = schooltas_x509::TrustAnchors::from_der(current.x509_trust_anchors())
        .map_err(|_| refuse("the trust list names no X.509 trust anchors for the issuer's x5c chain"))?;
    let validated = schooltas_x509::validate(&chain, &anchors, context.now, schooltas_x509::Usage::Any).map_err(
        |error| match error {
            X::UnknownAnchor => {
                refuse("the issuer's certificate chain does not lead to a trust anchor of the trust list")
            }
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

/// Why a presentation was refused before its issuer's key was looked up.
type Refusal = (Check, &'static str);

/// What the trust step saw and found: the payload's `iss` and `vct` as accredited, the key.
struct Found {
    iss: String,
    vct: String,
    key: VerifyingKey,
}

impl Found {
    /// Whether the verified credential names the issuer and type that were accredited. The
    /// payload is parsed strictly (no member twice) and SD-JWT VC forbids disclosing `iss` and
    /// `vct`, so this holds by construction; it is checked again because the accreditation is
    /// only as good as the values it was made for.
    fn matches(&self, one: &VerifiedSdJwt) -> bool {
        one.issuer() == Some(self.iss.as_str()) && one.vct() == Some(self.vct.as_str())
    }
}

/// The issuer-key step of `verify_with_payload`, with **trust before network**: the payload's
/// `iss` and `vct` — parsed, not yet verified — must be accredited in the trust list (and
/// `vct` be `expected_vct` when one is given) before the issuer's DID is resolved, so nothing is
/// fetched for an issuer the list does not accredit for the type the credential claims to be.
/// A refusal is left in `refusal` (the error returned only stops the verification); the key
/// found and the `iss` it was found for are left in `found`.
fn trusted_issuer_key<'a>(
    context: &'a VerificationContext<'_>,
    keys: &'a IssuerKeys,
    expected_vct: Option<&'a str>,
    found: &'a mut Option<Found>,
    refusal: &'a mut Option<Refusal>,
) -> impl FnOnce(&Header, &Map<String, Value>) -> Result<VerifyingKey, SdJwtError> + 'a {
    move |header, payload| {
        let mut refuse = |check: Check, reason: &'static str| {
            *refusal = Some((check, reason));
            Err(SdJwtError::IssuerKey { reason })
        };
        let text = |name: &str| payload.get(name).and_then(Value::as_str).filter(|s| !s.is_empty());
        let Some(iss) = text("iss") else {
            return refuse(Check::IssuerAccredited, "the credential names no issuer (iss)");
        };
        let Some(vct) = text("vct") else {
            return refuse(Check::IssuerAccredited, "the credential names no type (vct)");
        };
        if expected_vct.is_some_and(|expected| expected != vct) {
            return refuse(Check::GuardianApproval, "the approval does not carry a guardianship credential");
        }
        if let Err(reason) = accredited(context.trust_list, context.now, iss, vct) {
            return refuse(Check::IssuerAccredited, reason);
        }
        let key = keys.get(context, header, iss)?;
        *found = Some(Found { iss: iss.to_owned(), vct: vct.to_owned(), key: key.clone() });
        Ok(key)
    }
}

/// Steps 1–7 for one presentation; `None` (with failures recorded) when it cannot be used.
fn verify_presentation(
    query_id: &str,
    presentation: &str,
    options: &VerifyOptions,
    context: &VerificationContext<'_>,
    keys: &IssuerKeys,
    verdict: &mut Verdict,
) -> Option<VerifiedSdJwt> {
    let parsed = match UnverifiedSdJwt::parse(presentation) {
        Ok(parsed) => parsed,
        Err(error) => {
            verdict.fail(classify_sd_jwt(&error), Some(query_id), describe_sd_jwt(&error));
            return None;
        }
    };
    let (mut found, mut refusal) = (None, None);
    let result = parsed.verify_with_payload(
        trusted_issuer_key(context, keys, None, &mut found, &mut refusal),
        options,
        context.now,
    );
    let one = match (result, refusal) {
        (_, Some((check, reason))) => {
            verdict.fail(check, Some(query_id), reason);
            return None;
        }
        (Ok(one), None) => one,
        (Err(error), None) => {
            verdict.fail(classify_sd_jwt(&error), Some(query_id), describe_sd_jwt(&error));
            return None;
        }
    };
    let Some(found) = found.filter(|found| found.matches(&one)) else {
        verdict.fail(
            Check::IssuerAccredited,
            Some(query_id),
            "the verified issuer or type is not the one checked against the trust list",
        );
        return None;
    };
    check_status(query_id, &one, Some(&found.key), context, verdict);
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
            verdict.fail(Check::Status, Some(query_id), describe_sd_jwt(&error));
            return;
        }
    };
    let Some(key) = issuer_key else { return };
    let iss = one.issuer().unwrap_or_default();
    // A token with its own x5c is validated on its own (chain, issuer, EKU); one without must
    // verify with the credential's key, as before.
    let anchors = || context.trust_list.at(context.now).map(|current| current.x509_trust_anchors()).unwrap_or_default();
    let key_for = |header: &Header, _: Option<&str>| {
        schooltas_status_list::status_list_signer_key(header, iss, key, anchors, context.now)
    };
    match context.status.check_with(&reference, key_for, context.now).map_err(CredentialError::from) {
        Ok(()) => {}
        Err(error) if classify(&error) == Check::StatusUnknown && context.unknown_status == UnknownStatus::Accept => {
            verdict.status_unknown.push(query_id.to_owned());
        }
        Err(error) => {
            let check = match classify(&error) {
                Check::StatusUnknown => Check::StatusUnknown,
                Check::StatusListSigner => Check::StatusListSigner,
                _ => Check::Status,
            };
            verdict.fail(check, Some(query_id), describe(&error));
        }
    }
}

/// The purpose the verifier is registered for under the request's purpose code, if any.
fn registered_purpose<'t>(
    request: &AuthorizationRequest,
    extension: Option<&SchooltasExtension>,
    trust_list: CurrentTrustList<'t>,
) -> Option<&'t RegisteredPurpose> {
    let extension = extension?;
    trust_list.verifier_for_client(&request.client_id)?.purpose(&extension.purpose.code)
}

/// The basis the registration gives a credential query: consent if any type it accepts is
/// registered on consent, else the (first) registered basis; `None` when the registration does
/// not cover every type the query accepts (or the query names none).
fn registered_basis(purpose: &RegisteredPurpose, vcts: &[String]) -> Option<LegalBasis> {
    let mut basis: Option<LegalBasis> = None;
    for vct in vcts {
        let registered = purpose.basis_for(vct)?;
        basis = match basis {
            Some(LegalBasis::Consent) => Some(LegalBasis::Consent),
            _ if registered == LegalBasis::Consent => Some(LegalBasis::Consent),
            Some(earlier) => Some(earlier),
            None => Some(registered),
        };
    }
    basis
}

/// Issue 12 item 2: the basis of each answered query is the stricter of the stated one and the
/// registered one (AVG art. 6(1): only consent needs the parent below 16, so "stricter" means
/// "consent if either says consent"). A query the registration does not cover — no purpose,
/// an unregistered verifier or purpose, a type the purpose does not allow — rests on consent:
/// the verifier cannot show another basis. Both mismatches fail [`Check::LegalBasis`]; the
/// approval is then demanded as for any consent query.
fn legal_bases(
    request: &AuthorizationRequest,
    extension: Option<&SchooltasExtension>,
    response: &AuthorizationResponse,
    trust_list: &VerifiedTrustList,
    now: i64,
    verdict: &mut Verdict,
) {
    // An expired list gives no registration: every query then rests on consent. The expiry
    // itself is reported once, as `issuer_accredited`, not again per query.
    let Ok(current) = trust_list.at(now) else {
        for query_id in response.vp_token.keys() {
            verdict.legal_bases.insert(query_id.clone(), LegalBasis::Consent);
        }
        return;
    };
    let purpose = registered_purpose(request, extension, current);
    let mut query_ids: BTreeSet<&str> = request.dcql_query.credentials.iter().map(|q| q.id.as_str()).collect();
    query_ids.extend(response.vp_token.keys().map(String::as_str));
    for query_id in query_ids {
        let stated = extension.map(|extension| extension.basis_for(query_id));
        let query = request.dcql_query.credentials.iter().find(|q| q.id == query_id);
        let registered = purpose.zip(query).and_then(|(purpose, query)| registered_basis(purpose, query.vct_values()));
        let answered = response.vp_token.get(query_id).is_some_and(|list| !list.is_empty());
        let effective = match (stated, registered) {
            (Some(stated), Some(registered)) => {
                if registered == LegalBasis::Consent && stated != LegalBasis::Consent && answered {
                    verdict.fail(
                        Check::LegalBasis,
                        Some(query_id),
                        "the request states another legal basis than consent, but the verifier's registration in \
                         the trust list puts this query on consent: the guardian approval rule applies",
                    );
                }
                if registered == LegalBasis::Consent { LegalBasis::Consent } else { stated }
            }
            _ => {
                if answered {
                    verdict.fail(
                        Check::LegalBasis,
                        Some(query_id),
                        "the verifier's registration in the trust list does not cover this query (purpose or \
                         credential type), so it is treated as resting on consent",
                    );
                }
                LegalBasis::Consent
            }
        };
        verdict.legal_bases.insert(query_id.to_owned(), effective);
    }
}

/// The child link of a presentation: its disclosed `sub`, an opaque non-empty string (a
/// per-copy pseudonym, never parsed as a DID).
fn child_link(one: &VerifiedSdJwt) -> Option<&str> {
    one.claims().get("sub").and_then(Value::as_str).filter(|sub| !sub.is_empty())
}

/// The consent rule: every consent presentation is about one child, named by `sub`; a
/// consent-based answer about a child not shown (by that child's own presentations) to be 16
/// or over needs a valid guardian approval for that child.
#[allow(clippy::too_many_arguments)]
fn check_consent(
    request: &AuthorizationRequest,
    audience: &str,
    extension: Option<&SchooltasExtension>,
    response: &AuthorizationResponse,
    verified: &[Verified<'_>],
    context: &VerificationContext<'_>,
    keys: &IssuerKeys,
    verdict: &mut Verdict,
) {
    // `legal_bases` covers every query of the request and of the response; a missing entry
    // would be a bug, and is read as consent (the stricter).
    let is_consent =
        |query_id: &str| verdict.legal_bases.get(query_id).is_none_or(|basis| *basis == LegalBasis::Consent);
    let consent: Vec<&Verified<'_>> = verified.iter().filter(|(id, _, _)| is_consent(id)).collect();
    let consent_answered = response.vp_token.iter().any(|(id, list)| !list.is_empty() && is_consent(id));
    // A consent query whose every presentation failed verification has failed already; the
    // rest of the rule needs at least one verified consent presentation. No subject then:
    // the other presentations may be anyone's.
    if consent_answered && consent.is_empty() {
        return;
    }
    if !consent_answered {
        // Nothing rests on consent: the subject is the `sub` the presentations agree on, if any.
        let subjects: BTreeSet<&str> = verified.iter().filter_map(|(_, one, _)| child_link(one)).collect();
        verdict.subject = (subjects.len() == 1).then(|| subjects.first().map(|s| (*s).to_owned())).flatten();
        return;
    }

    let mut subjects: BTreeSet<&str> = BTreeSet::new();
    let mut every_one_linked = true;
    for (query_id, one, _) in &consent {
        match child_link(one) {
            Some(sub) => {
                subjects.insert(sub);
            }
            None => {
                every_one_linked = false;
                verdict.fail(
                    Check::ChildLink,
                    Some(query_id),
                    "a presentation answering a consent query must disclose the child link (sub) that binds it to \
                     the consent and to the guardian approval (the request must ask for sub, and the verifier's \
                     registration allow it)",
                );
            }
        }
    }
    if subjects.len() > 1 {
        verdict.fail(
            Check::OneChild,
            None,
            format!(
                "the consent presentations are about {} different children; one consent is given for one child",
                subjects.len()
            ),
        );
    }
    let subject = match (every_one_linked, subjects.len()) {
        (true, 1) => subjects.first().map(|s| (*s).to_owned()),
        _ => None,
    };
    verdict.subject = subject.clone();

    // Age evidence only from that child's own presentations (same `sub`): a sibling's answer
    // to the same request says nothing about this child.
    let own: Vec<&VerifiedSdJwt> = match &subject {
        Some(subject) => {
            verified.iter().map(|(_, one, _)| one).filter(|one| child_link(one) == Some(subject.as_str())).collect()
        }
        None => Vec::new(),
    };
    if proven_sixteen(&own, context.now) {
        return;
    }
    verdict.guardian_approval_required = true;
    let Some(jwt) = consent::guardian_approval(response) else {
        verdict.fail(
            Check::GuardianApproval,
            None,
            "missing: the answer rests on consent and the child is not shown to be 16 or over",
        );
        return;
    };
    let Some(subject) = subject else {
        verdict.fail(Check::GuardianApproval, None, "the guardian approval cannot be bound to one child");
        return;
    };
    let presentations = child_presentations(response, verified);
    match verify_guardian(request, audience, extension, jwt, &presentations, &subject, context, keys) {
        Ok((approval, status)) => {
            verdict.guardian_approval = Some(approval);
            verdict.guardian_approval_jwt = Some(jwt.to_owned());
            (verdict.guardianship_status, verdict.guardianship_issuer) = status.unzip();
        }
        Err((check, reason)) => {
            if check != Check::GuardianApproval {
                verdict.fail(check, None, reason.clone());
            }
            verdict.fail(Check::GuardianApproval, None, reason);
        }
    }
}

/// Every presentation of the response, with the `sd_hash` its verification checked where it
/// verified (the others are parsed and hashed by the approval check).
fn child_presentations<'r>(
    response: &'r AuthorizationResponse,
    verified: &'r [Verified<'r>],
) -> Vec<ChildPresentation<'r>> {
    let mut verified = verified.iter().peekable();
    let mut presentations = Vec::with_capacity(verified.len());
    for (query_id, list) in &response.vp_token {
        for presentation in list {
            let mut child = ChildPresentation::new(query_id, presentation);
            if let Some((_, one, _)) = verified.next_if(|(id, _, text)| id == query_id && text == presentation)
                && let Some(binding) = one.key_binding()
            {
                child = child.with_sd_hash(&binding.sd_hash);
            }
            presentations.push(child);
        }
    }
    presentations
}

type GuardianOutcome =
    (VerifiedGuardianApproval, Option<(schooltas_status_list::StatusReference, crate::register::StatusIssuer)>);

#[allow(clippy::too_many_arguments)]
fn verify_guardian(
    request: &AuthorizationRequest,
    audience: &str,
    extension: Option<&SchooltasExtension>,
    jwt: &str,
    presentations: &[ChildPresentation<'_>],
    subject: &str,
    context: &VerificationContext<'_>,
    keys: &IssuerKeys,
) -> Result<GuardianOutcome, (Check, String)> {
    let refuse = |reason: String| (Check::GuardianApproval, reason);
    let approval = UnverifiedGuardianApproval::parse(jwt).map_err(|e| refuse(describe(&e)))?;
    // Trust before network, for the guardianship credential too: its unverified issuer must be
    // accredited for the guardianship type before its DID is resolved or its status fetched.
    let expected_vct = guardianship_vct().ok_or_else(|| refuse("the catalog has no guardianship type".into()))?;
    let mut options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, audience));
    options.clock_skew = context.skew;
    let (mut found, mut refusal) = (None, None);
    let result = UnverifiedSdJwt::parse(approval.guardianship()).and_then(|parsed| {
        parsed.verify_with_payload(
            trusted_issuer_key(context, keys, Some(expected_vct), &mut found, &mut refusal),
            &options,
            context.now,
        )
    });
    let guardianship = match (result, refusal) {
        (_, Some((Check::IssuerAccredited, reason))) => {
            return Err((Check::IssuerAccredited, format!("the guardianship credential: {reason}")));
        }
        (_, Some((check, reason))) => return Err((check, reason.to_owned())),
        (Ok(guardianship), None) => guardianship,
        (Err(e), None) => return Err(refuse(format!("the guardianship credential: {}", describe_sd_jwt(&e)))),
    };
    let Some(found) = found.filter(|found| found.matches(&guardianship)) else {
        return Err((
            Check::IssuerAccredited,
            "the guardianship credential's verified issuer or type is not the one checked against the trust list"
                .into(),
        ));
    };
    let status = guardianship
        .status_reference()
        .map_err(|e| refuse(format!("the guardianship credential's status: {}", describe_sd_jwt(&e))))?;
    if let Some(reference) = &status {
        // The same signer rule as for the presented credentials: a status list token with its
        // own x5c is validated on its own, one without verifies with the issuer's key.
        let anchors =
            || context.trust_list.at(context.now).map(|current| current.x509_trust_anchors()).unwrap_or_default();
        let key_for = |header: &Header, _: Option<&str>| {
            schooltas_status_list::status_list_signer_key(header, &found.iss, &found.key, anchors, context.now)
        };
        context
            .status
            .check_with(reference, key_for, context.now)
            .map_err(|e| refuse(format!("the guardianship credential's status: {}", describe_status(&e))))?;
    }
    let purpose = extension.map(|e| e.purpose.code.as_str()).unwrap_or_default();
    approval
        .verify(
            &guardianship,
            &ApprovalContext {
                audience,
                nonce: &request.nonce,
                purpose,
                child_presentations: presentations,
                // The one child every consent presentation is about (check_consent).
                child_id: Some(subject),
                now: context.now,
                max_age: context.guardian_approval_max_age,
                skew: context.skew,
            },
        )
        .map(|approval| {
            let issuer = crate::register::StatusIssuer::new(found.iss.clone(), &found.key);
            (approval, status.map(|reference| (reference, issuer)))
        })
        .map_err(|e| refuse(describe(&e)))
}

/// The guardianship type's `vct`, from the standard catalog (built once: this is a hot path).
fn guardianship_vct() -> Option<&'static str> {
    static VCT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    VCT.get_or_init(|| Catalog::standard().get("guardianship").map(|t| t.vct().as_str().to_owned())).as_deref()
}

/// Whether one of the child's own verified presentations shows them to be 16 or over:
/// `age_over_16: true`, or a birth date at least 16 years before today (UAVG art. 5).
fn proven_sixteen(own: &[&VerifiedSdJwt], now: i64) -> bool {
    let today = CalendarDate::from_unix(now);
    own.iter().any(|one| {
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
