//! The over-asking check: does a request stay within the verifier's registration?
//!
//! A wallet runs it to warn the family before anything is shown for approval; a verifier's
//! request builder runs it to refuse a request before it is sent
//! ([`TrustList::check_request`]).

use std::fmt;

use super::{CurrentTrustList, RegisteredPurpose, TrustListError, VerifierRegistration};
use crate::error::Result;
use crate::extension::{LegalBasis, SchooltasExtension};
use schooltas_oid4vc::oid4vp::truncate;
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, ClientId, DcqlQuery};
use schooltas_sd_jwt::ClaimPath;

/// One way a request asks for more than the verifier is registered for.
///
/// Every finding names the Credential Query, type or path at fault; none carries a claim
/// value. Its `Display` is a sentence in plain English.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverAsking {
    /// The request comes from another verifier than the registration checked against.
    OtherVerifier {
        /// The request's `client_id`.
        client_id: String,
    },
    /// The request has no Schooltas extension, so it names no purpose.
    NoPurpose,
    /// The request's purpose code is not registered for this verifier.
    UnregisteredPurpose {
        /// The purpose code of the request.
        code: String,
    },
    /// The request keeps what it receives longer than the purpose allows.
    RetentionTooLong {
        /// The retention of the request, in days.
        requested: u32,
        /// The purpose's maximum, in days.
        allowed: u32,
    },
    /// A Credential Query accepts a credential type the purpose does not allow.
    CredentialTypeNotAllowed {
        /// The Credential Query's id.
        query_id: String,
        /// The type not allowed.
        vct: String,
    },
    /// A Credential Query asks for a claim the purpose does not allow for a type it accepts.
    ClaimNotAllowed {
        /// The Credential Query's id.
        query_id: String,
        /// The credential type the claim is not allowed for.
        vct: String,
        /// The claim's path.
        path: ClaimPath,
    },
    /// A Credential Query lists no `claims`. Always flagged: OpenID4VP drafts before 1.0 read
    /// this as "every claim" (wallets built on them disclose everything), and 1.0 (§6.4.1) as
    /// "only the claims the issuer made always visible" — in either reading what is disclosed
    /// is not declared in the request, so it cannot be checked against the registration.
    AllClaimsRequested {
        /// The Credential Query's id.
        query_id: String,
    },
    /// A Credential Query rests on another legal basis than the one registered for its type.
    BasisMismatch {
        /// The Credential Query's id.
        query_id: String,
        /// The credential type.
        vct: String,
        /// The registered basis.
        registered: LegalBasis,
        /// The basis in the request.
        requested: LegalBasis,
    },
}

impl fmt::Display for OverAsking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OverAsking::OtherVerifier { client_id } => {
                write!(f, "the request comes from {client_id}, not from the registered verifier")
            }
            OverAsking::NoPurpose => f.write_str("the request names no purpose (it has no Schooltas extension)"),
            OverAsking::UnregisteredPurpose { code } => {
                write!(f, "the purpose {code:?} is not registered for this verifier")
            }
            OverAsking::RetentionTooLong { requested, allowed } => write!(
                f,
                "the request keeps the data for {requested} days, the registered purpose allows at most {allowed}"
            ),
            OverAsking::CredentialTypeNotAllowed { query_id, vct } => write!(
                f,
                "credential query {query_id:?} accepts credential type {vct}, which the purpose does not allow"
            ),
            OverAsking::ClaimNotAllowed { query_id, vct, path } => write!(
                f,
                "credential query {query_id:?} asks for claim {path} of {vct}, which the purpose does not allow"
            ),
            OverAsking::AllClaimsRequested { query_id } => write!(
                f,
                "credential query {query_id:?} lists no claims, which wallets built on OpenID4VP drafts read as \
                 every claim; the request must list the registered claims it needs"
            ),
            OverAsking::BasisMismatch { query_id, vct, registered, requested } => write!(
                f,
                "credential query {query_id:?} asks for {vct} on the legal basis {}, but it is registered on {}",
                basis_name(*requested),
                basis_name(*registered)
            ),
        }
    }
}

/// The JSON name of a legal basis, for messages.
fn basis_name(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Consent => "consent",
        LegalBasis::LegalObligation => "legal_obligation",
        LegalBasis::PublicTask => "public_task",
        LegalBasis::Contract => "contract",
    }
}

impl VerifierRegistration {
    /// Everything in `request` beyond this registration; empty when it stays within.
    ///
    /// Reads the Schooltas extension (purpose, retention, legal basis per query) and the DCQL
    /// query, and checks them with [`VerifierRegistration::over_asking_query`]. Also flags a
    /// request whose `client_id` is not this verifier's DID ([`OverAsking::OtherVerifier`]),
    /// and one without a well-formed extension ([`OverAsking::NoPurpose`]: nothing else can be
    /// checked then).
    pub fn over_asking(&self, request: &AuthorizationRequest) -> Vec<OverAsking> {
        let mut findings = Vec::new();
        if !self.is_named_by(&request.client_id) {
            findings.push(OverAsking::OtherVerifier { client_id: truncate(&request.client_id) });
        }
        // A malformed extension states no purpose that can be checked: it counts as none. A
        // request without one rests on the one registered purpose that covers it, if any.
        match SchooltasExtension::of_request(request, self).ok().flatten() {
            None => findings.push(OverAsking::NoPurpose),
            Some((extension, _)) => findings.extend(self.over_asking_query(
                &extension.purpose.code,
                extension.retention_days,
                |query_id| extension.basis_for(query_id),
                &request.dcql_query,
            )),
        }
        findings
    }

    /// The one registered purpose that allows every Credential Query of `query` — each type it
    /// accepts, each claim path it names (a query without `claims` asks for everything and is
    /// covered by none) — or `None` when none or more than one does: a standard OpenID4VP
    /// request names no purpose, and the wallet does not guess between two.
    pub fn purpose_covering(&self, query: &DcqlQuery) -> Option<&RegisteredPurpose> {
        let covers = |purpose: &RegisteredPurpose| {
            !query.credentials.is_empty()
                && query.credentials.iter().all(|credential_query| {
                    let vcts = credential_query.vct_values();
                    let Some(claims) = &credential_query.claims else { return false };
                    !vcts.is_empty()
                        && vcts.iter().all(|vct| {
                            purpose
                                .credential(vct)
                                .is_some_and(|allowed| claims.iter().all(|claim| allowed.allows(&claim.path)))
                        })
                })
        };
        let mut covering = self.purposes.iter().filter(|purpose| covers(purpose));
        match (covering.next(), covering.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// Everything in a query for `purpose_code` beyond this registration, for a verifier that
    /// checks its query before it builds the request. `retention_days` is how long it keeps
    /// the answer; `basis_for` gives the legal basis of each Credential Query by id.
    ///
    /// An unregistered purpose is the only finding (nothing else can be checked against it).
    /// Otherwise, per Credential Query: each type in `meta.vct_values` must be allowed; each
    /// claim path must be allowed for every allowed type ([`RegisteredPurpose::allows`]); a
    /// query without `claims` is flagged ([`OverAsking::AllClaimsRequested`]); the query's
    /// basis must be the one registered for each allowed type.
    pub fn over_asking_query(
        &self,
        purpose_code: &str,
        retention_days: u32,
        basis_for: impl Fn(&str) -> LegalBasis,
        query: &DcqlQuery,
    ) -> Vec<OverAsking> {
        let Some(purpose) = self.purpose(purpose_code) else {
            return vec![OverAsking::UnregisteredPurpose { code: truncate(purpose_code) }];
        };
        let mut findings = Vec::new();
        if retention_days > purpose.max_retention_days {
            findings
                .push(OverAsking::RetentionTooLong { requested: retention_days, allowed: purpose.max_retention_days });
        }
        for credential_query in &query.credentials {
            check_credential_query(purpose, credential_query, basis_for(&credential_query.id), &mut findings);
        }
        findings
    }
}

fn check_credential_query(
    purpose: &RegisteredPurpose,
    query: &schooltas_oid4vc::oid4vp::CredentialQuery,
    requested_basis: LegalBasis,
    findings: &mut Vec<OverAsking>,
) {
    let query_id = || query.id.clone();
    if query.claims.is_none() {
        findings.push(OverAsking::AllClaimsRequested { query_id: query_id() });
    }
    for vct in query.vct_values() {
        let Some(allowed) = purpose.credential(vct) else {
            findings.push(OverAsking::CredentialTypeNotAllowed { query_id: query_id(), vct: truncate(vct) });
            continue;
        };
        let registered = allowed.legal_basis.unwrap_or(purpose.legal_basis);
        if registered != requested_basis {
            findings.push(OverAsking::BasisMismatch {
                query_id: query_id(),
                vct: truncate(vct),
                registered,
                requested: requested_basis,
            });
        }
        // With claim_sets, any option may be chosen: every listed claim must be allowed.
        for claim in query.claims.iter().flatten() {
            if !allowed.allows(&claim.path) {
                findings.push(OverAsking::ClaimNotAllowed {
                    query_id: query_id(),
                    vct: truncate(vct),
                    path: claim.path.clone(),
                });
            }
        }
    }
}

impl<'a> CurrentTrustList<'a> {
    /// The verifier's check before sending `request`: the registration of the verifier in its
    /// `client_id`, if the request stays within it.
    ///
    /// Refused with [`TrustListError::VerifierNotListed`] when the list does not have the
    /// verifier, and with [`TrustListError::RequestExceedsRegistration`] (every finding of
    /// [`VerifierRegistration::over_asking`]) when the request over-asks. A wallet that only
    /// warns calls [`CurrentTrustList::verifier`] and [`VerifierRegistration::over_asking`]
    /// itself.
    pub fn check_request(&self, request: &AuthorizationRequest) -> Result<&'a VerifierRegistration> {
        let client = request.client()?;
        let registration = self.verifier_for_client(&request.client_id).ok_or_else(|| {
            let did = match &client {
                ClientId::Did(did) => did.to_string(),
                _ => truncate(&request.client_id),
            };
            TrustListError::VerifierNotListed { did }
        })?;
        let findings = registration.over_asking(request);
        if !findings.is_empty() {
            return Err(TrustListError::RequestExceedsRegistration { findings }.into());
        }
        Ok(registration)
    }
}
