//! The verifier's side of DCQL: does what came back answer what was asked, and nothing more?
//!
//! This runs after every presentation has been verified as an SD-JWT VC (signature, key
//! binding, status); it sees only the `vct` and the disclosed claims of each.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Oid4vpError;
use super::dcql::{ClaimsQuery, CredentialQuery, DcqlQuery};
use super::matching::process_path;
use schooltas_sd_jwt::{ClaimPath, PathElement, VerifiedSdJwt};

/// Top-level claims that are not requested through DCQL and are never reported as extra: they
/// describe the credential rather than its subject.
pub const REGISTERED_CLAIMS: [&str; 9] = ["iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "sub"];

/// One verified presentation as the DCQL check sees it.
#[derive(Clone, PartialEq)]
pub struct PresentedCredential {
    /// The credential's `vct`.
    pub vct: String,
    /// The claims the verifier received (after SD-JWT verification: disclosures applied).
    pub claims: Value,
}

impl PresentedCredential {
    /// A presented credential from its type and claims.
    pub fn new(vct: impl Into<String>, claims: Value) -> Self {
        PresentedCredential { vct: vct.into(), claims }
    }

    /// From a verified SD-JWT VC (a missing `vct` becomes the empty string, which matches no
    /// query).
    pub fn from_verified(verified: &VerifiedSdJwt) -> Self {
        PresentedCredential {
            vct: verified.vct().unwrap_or_default().to_owned(),
            claims: Value::Object(verified.claims().clone()),
        }
    }
}

impl std::fmt::Debug for PresentedCredential {
    // Claim values are personal data: type and claim names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&String> = self.claims.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        f.debug_struct("PresentedCredential").field("vct", &self.vct).field("claim_names", &names).finish()
    }
}

/// A rule a response broke. None carries a claim value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseFailure {
    /// The response answers a Credential Query id the query does not have.
    #[error("the response answers {query_id:?}, which is not a Credential Query of the request")]
    UnknownCredentialQuery {
        /// The id in the response.
        query_id: String,
    },
    /// An entry with no presentation (§8.1: one or more).
    #[error("the response for {query_id:?} holds no presentation")]
    EmptyPresentationList {
        /// The Credential Query id.
        query_id: String,
    },
    /// More than one presentation for a query without `multiple` (§8.1).
    #[error("the response for {query_id:?} holds {count} presentations but the query does not allow multiple")]
    MultipleNotAllowed {
        /// The Credential Query id.
        query_id: String,
        /// How many were presented.
        count: usize,
    },
    /// The presentation's `vct` is not one of the query's `vct_values`.
    #[error("presentation {index} for {query_id:?} has vct {vct:?}, which the query does not accept")]
    WrongVct {
        /// The Credential Query id.
        query_id: String,
        /// The presentation's position in the response.
        index: usize,
        /// The presented type.
        vct: String,
    },
    /// A requested claim is absent.
    #[error("presentation {index} for {query_id:?} lacks the requested claim {path}")]
    MissingClaim {
        /// The Credential Query id.
        query_id: String,
        /// The presentation's position.
        index: usize,
        /// The claim's path.
        path: ClaimPath,
    },
    /// A requested claim is present but its value is not one of the query's `values`.
    #[error("presentation {index} for {query_id:?}: claim {path} does not have one of the requested values")]
    ValueMismatch {
        /// The Credential Query id.
        query_id: String,
        /// The presentation's position.
        index: usize,
        /// The claim's path.
        path: ClaimPath,
    },
    /// No option of the query's `claim_sets` is satisfied.
    #[error("presentation {index} for {query_id:?} satisfies none of the query's claim sets")]
    ClaimSetUnsatisfied {
        /// The Credential Query id.
        query_id: String,
        /// The presentation's position.
        index: usize,
    },
    /// A Credential Query that had to be answered (no `credential_sets`) was not.
    #[error("the required Credential Query {query_id:?} is not answered")]
    MissingCredential {
        /// The Credential Query id.
        query_id: String,
    },
    /// A required Credential Set Query is satisfied by none of its options.
    #[error("the required credential set {set_index} is satisfied by none of its options")]
    CredentialSetUnsatisfied {
        /// The set's position in `credential_sets`.
        set_index: usize,
    },
}

impl ResponseFailure {
    /// The Credential Query the failure concerns (`None` for a credential set).
    pub fn query_id(&self) -> Option<&str> {
        match self {
            ResponseFailure::UnknownCredentialQuery { query_id }
            | ResponseFailure::EmptyPresentationList { query_id }
            | ResponseFailure::MultipleNotAllowed { query_id, .. }
            | ResponseFailure::WrongVct { query_id, .. }
            | ResponseFailure::MissingClaim { query_id, .. }
            | ResponseFailure::ValueMismatch { query_id, .. }
            | ResponseFailure::ClaimSetUnsatisfied { query_id, .. }
            | ResponseFailure::MissingCredential { query_id } => Some(query_id),
            ResponseFailure::CredentialSetUnsatisfied { .. } => None,
        }
    }
}

/// A claim that was disclosed although no query asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraClaim {
    /// The Credential Query the presentation answered.
    pub query_id: String,
    /// The presentation's position.
    pub index: usize,
    /// The outermost unrequested path (`["birth_date"]`, not every leaf inside it).
    pub path: ClaimPath,
}

/// What [`DcqlQuery::check_response`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseReport {
    /// The Credential Query ids answered with presentations that all passed, in query order.
    pub answered: Vec<String>,
    /// Hard failures: the response does not answer the query.
    pub failures: Vec<ResponseFailure>,
    /// Claims disclosed beyond the request (over-disclosure, or claims the issuer made always
    /// visible). Not a failure of the response; the verifier must not keep them.
    pub extra_claims: Vec<ExtraClaim>,
}

impl ResponseReport {
    /// Whether the response answers the query (extra claims aside).
    pub fn is_satisfied(&self) -> bool {
        self.failures.is_empty()
    }
}

impl DcqlQuery {
    /// Checks presented credentials (keyed by Credential Query id) against this query: every
    /// required query answered, `vct` accepted, requested claims present with accepted values;
    /// and lists the extra claims separately.
    ///
    /// `values` are checked as stated, but OpenID4VP 1.0 §6.4.1 warns that they are a privacy
    /// aid, not a security check.
    pub fn check_response(
        &self,
        presented: &BTreeMap<String, Vec<PresentedCredential>>,
    ) -> Result<ResponseReport, Oid4vpError> {
        self.validate()?;
        let mut report = ResponseReport::default();
        let mut answered = BTreeSet::new();
        for (query_id, credentials) in presented {
            let Some(query) = self.credential(query_id) else {
                report.failures.push(ResponseFailure::UnknownCredentialQuery { query_id: query_id.clone() });
                continue;
            };
            if credentials.is_empty() {
                report.failures.push(ResponseFailure::EmptyPresentationList { query_id: query_id.clone() });
                continue;
            }
            let failures_before = report.failures.len();
            if credentials.len() > 1 && !query.multiple {
                report
                    .failures
                    .push(ResponseFailure::MultipleNotAllowed { query_id: query_id.clone(), count: credentials.len() });
            }
            for (index, credential) in credentials.iter().enumerate() {
                check_one(query, index, credential, &mut report);
            }
            if report.failures.len() == failures_before {
                answered.insert(query_id.as_str());
            }
        }
        // §6.4.2: without credential_sets every query is requested; with them, every required
        // set by one of its options.
        match &self.credential_sets {
            None => {
                for query in &self.credentials {
                    if !presented.contains_key(&query.id) {
                        report.failures.push(ResponseFailure::MissingCredential { query_id: query.id.clone() });
                    }
                }
            }
            Some(sets) => {
                for (set_index, set) in sets.iter().enumerate() {
                    let satisfied =
                        set.options.iter().any(|option| option.iter().all(|id| answered.contains(id.as_str())));
                    if set.required && !satisfied {
                        report.failures.push(ResponseFailure::CredentialSetUnsatisfied { set_index });
                    }
                }
            }
        }
        report.answered =
            self.credentials.iter().filter(|c| answered.contains(c.id.as_str())).map(|c| c.id.clone()).collect();
        Ok(report)
    }
}

fn check_one(query: &CredentialQuery, index: usize, credential: &PresentedCredential, report: &mut ResponseReport) {
    let query_id = || query.id.clone();
    if !query.vct_values().contains(&credential.vct) {
        report.failures.push(ResponseFailure::WrongVct { query_id: query_id(), index, vct: credential.vct.clone() });
    }
    let requested: Vec<&ClaimsQuery> = match (&query.claims, &query.claim_sets) {
        (None, _) => Vec::new(),
        (Some(claims), None) => {
            for claim in claims {
                if let Some(failure) = check_claim(query, index, claim, &credential.claims) {
                    report.failures.push(failure);
                }
            }
            claims.iter().collect()
        }
        (Some(claims), Some(sets)) => {
            // The first option the presentation satisfies is the one it answers.
            let satisfied = sets.iter().find_map(|option| {
                let of_option = option
                    .iter()
                    .map(|id| claims.iter().find(|c| c.id.as_deref() == Some(id.as_str())))
                    .collect::<Option<Vec<_>>>()?;
                of_option
                    .iter()
                    .all(|claim| check_claim(query, index, claim, &credential.claims).is_none())
                    .then_some(of_option)
            });
            match satisfied {
                Some(of_option) => of_option,
                None => {
                    report.failures.push(ResponseFailure::ClaimSetUnsatisfied { query_id: query_id(), index });
                    claims.iter().collect()
                }
            }
        }
    };
    let patterns: Vec<&[PathElement]> = requested.iter().map(|c| c.path.elements()).collect();
    let mut extra = Vec::new();
    if let Some(object) = credential.claims.as_object() {
        for (name, value) in object {
            if REGISTERED_CLAIMS.contains(&name.as_str()) {
                continue;
            }
            find_extra(value, &mut vec![PathElement::Key(name.clone())], &patterns, &mut extra);
        }
    }
    report.extra_claims.extend(extra.into_iter().map(|path| ExtraClaim { query_id: query_id(), index, path }));
}

fn check_claim(query: &CredentialQuery, index: usize, claim: &ClaimsQuery, claims: &Value) -> Option<ResponseFailure> {
    let Some(selected) = process_path(claims, &claim.path) else {
        return Some(ResponseFailure::MissingClaim { query_id: query.id.clone(), index, path: claim.path.clone() });
    };
    if let Some(values) = &claim.values
        && !selected.iter().any(|(_, value)| values.iter().any(|v| v.matches(value)))
    {
        return Some(ResponseFailure::ValueMismatch { query_id: query.id.clone(), index, path: claim.path.clone() });
    }
    None
}

/// Collects the outermost paths under `at` that no requested path covers.
fn find_extra(value: &Value, at: &mut Vec<PathElement>, patterns: &[&[PathElement]], out: &mut Vec<ClaimPath>) {
    // Covered: a requested path is a prefix of this one (the whole subtree was asked for).
    if patterns.iter().any(|p| p.len() <= at.len() && matches_prefix(p, &at[..p.len()])) {
        return;
    }
    // On the way to a requested path: look inside.
    let on_the_way = patterns.iter().any(|p| p.len() > at.len() && matches_prefix(&p[..at.len()], at));
    let children: Vec<(PathElement, &Value)> = match value {
        Value::Object(map) if on_the_way => map.iter().map(|(k, v)| (PathElement::Key(k.clone()), v)).collect(),
        Value::Array(items) if on_the_way => {
            items.iter().enumerate().map(|(i, v)| (PathElement::Index(i), v)).collect()
        }
        _ => Vec::new(),
    };
    if !on_the_way || children.is_empty() {
        if !on_the_way && let Ok(path) = ClaimPath::new(at.clone()) {
            out.push(path);
        }
        return;
    }
    for (element, child) in children {
        at.push(element);
        find_extra(child, at, patterns, out);
        at.pop();
    }
}

/// Whether the concrete `path` matches `pattern` element by element (`null` matches any index).
fn matches_prefix(pattern: &[PathElement], path: &[PathElement]) -> bool {
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(path)
            .all(|(p, c)| p == c || (*p == PathElement::AllElements && matches!(c, PathElement::Index(_))))
}
