//! The wallet's side of DCQL (OpenID4VP 1.0 §6.4, §7): which of the holder's credentials answer
//! which Credential Query, and exactly which claims to disclose.
//!
//! The disclosure list never holds a claim the query did not ask for: each entry is a requested
//! path, or — for a path with `null` and a `values` constraint — the concrete array elements
//! whose values match.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Oid4vpError;
use super::dcql::{ClaimsQuery, CredentialQuery, DcqlQuery, TRUSTED_AUTHORITY_AKI, truncate};

use schooltas_sd_jwt::{ClaimPath, PathElement};

/// One credential the holder has, as the matcher sees it.
#[derive(Clone, Copy)]
pub struct WalletCredential<'a> {
    /// The caller's handle for the credential (an index into its store, say).
    pub handle: usize,
    /// The credential's `vct`.
    pub vct: &'a str,
    /// All its claims as the holder sees them (processed: every disclosure applied), including
    /// `cnf` when the credential is bound to the holder's key.
    pub claims: &'a Value,
    /// The `KeyIdentifier`s of the `AuthorityKeyIdentifier`s in the credential's certificate
    /// chain (its `x5c`), raw bytes: what an `aki` trusted authority is compared with. Empty
    /// for a credential signed without a chain (a DID key): it matches no `aki`.
    pub authority_key_ids: &'a [Vec<u8>],
}

impl<'a> WalletCredential<'a> {
    /// A credential with its handle, type and processed claims, without a certificate chain.
    pub fn new(handle: usize, vct: &'a str, claims: &'a Value) -> Self {
        WalletCredential { handle, vct, claims, authority_key_ids: &[] }
    }

    /// The credential with the authority key identifiers of its certificate chain.
    pub fn with_authority_key_ids(mut self, authority_key_ids: &'a [Vec<u8>]) -> Self {
        self.authority_key_ids = authority_key_ids;
        self
    }
}

impl std::fmt::Debug for WalletCredential<'_> {
    // Claim values are personal data: the handle and type only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletCredential").field("handle", &self.handle).field("vct", &self.vct).finish_non_exhaustive()
    }
}

/// A credential that satisfies a Credential Query, and the claims to disclose for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialMatch {
    /// The credential's handle ([`WalletCredential::handle`]).
    pub handle: usize,
    /// The paths to pass to [`schooltas_sd_jwt::HolderSdJwt::present`]; empty when the query asks
    /// for no claims (only the mandatory parts are presented).
    pub disclose: Vec<ClaimPath>,
}

/// The candidates for one Credential Query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryMatch {
    /// The Credential Query's id.
    pub query_id: String,
    /// Every credential that satisfies it, in the order given.
    pub candidates: Vec<CredentialMatch>,
    /// The `trusted_authorities` types of the query this matcher cannot evaluate
    /// (`etsi_tl`, `openid_federation`, unknown ones): a credential is left out only when every
    /// entry could be evaluated and none matched, so with these the candidates may include
    /// credentials the verifier will not accept. A wallet says so.
    pub unevaluated_authorities: Vec<String>,
}

/// The outcome of matching a query against the holder's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DcqlMatch {
    /// Every Credential Query, in query order, with its candidates.
    pub queries: Vec<QueryMatch>,
    /// The ids of the Credential Queries no credential satisfies, in query order.
    pub unsatisfied: Vec<String>,
    /// The default answer: for each Credential Query to answer, the credentials to present
    /// (all candidates when `multiple` is true, else the first). It honours `credential_sets`
    /// (every required set by its first satisfiable option, optional sets when they can be
    /// satisfied). `None` when the required part cannot be met: then nothing may be returned
    /// (§6.4.2).
    pub answer: Option<BTreeMap<String, Vec<CredentialMatch>>>,
}

impl DcqlMatch {
    /// The candidates for the Credential Query `query_id` (empty if unknown).
    pub fn candidates(&self, query_id: &str) -> &[CredentialMatch] {
        self.queries.iter().find(|q| q.query_id == query_id).map(|q| q.candidates.as_slice()).unwrap_or_default()
    }

    /// Whether the wallet can answer the request.
    pub fn is_satisfiable(&self) -> bool {
        self.answer.is_some()
    }
}

impl DcqlQuery {
    /// Matches the holder's credentials against this query (after validating it).
    pub fn match_credentials(&self, credentials: &[WalletCredential<'_>]) -> Result<DcqlMatch, Oid4vpError> {
        self.validate()?;
        let queries: Vec<QueryMatch> = self
            .credentials
            .iter()
            .map(|query| QueryMatch {
                query_id: query.id.clone(),
                candidates: credentials.iter().filter_map(|c| match_credential(query, c)).collect(),
                unevaluated_authorities: unevaluated_authorities(query),
            })
            .collect();
        let unsatisfied =
            queries.iter().filter(|q| q.candidates.is_empty()).map(|q| q.query_id.clone()).collect::<Vec<_>>();
        let satisfiable = |id: &str| queries.iter().any(|q| q.query_id == id && !q.candidates.is_empty());

        // §6.4.2: without credential_sets every Credential Query is requested; with them, every
        // required set and optionally the others, each by one of its options (in order of
        // preference).
        let chosen: Option<Vec<&str>> = match &self.credential_sets {
            None => unsatisfied.is_empty().then(|| self.credentials.iter().map(|c| c.id.as_str()).collect()),
            Some(sets) => {
                let mut chosen = Vec::new();
                let mut complete = true;
                for set in sets {
                    match set.options.iter().find(|option| option.iter().all(|id| satisfiable(id))) {
                        Some(option) => chosen.extend(option.iter().map(String::as_str)),
                        None if set.required => complete = false,
                        None => {}
                    }
                }
                complete.then_some(chosen)
            }
        };
        let answer = chosen.map(|ids| {
            let mut answer = BTreeMap::new();
            for id in ids {
                let (Some(query), Some(found)) = (self.credential(id), queries.iter().find(|q| q.query_id == id))
                else {
                    continue;
                };
                let take = if query.multiple { found.candidates.len() } else { 1 };
                answer.insert(id.to_owned(), found.candidates.iter().take(take).cloned().collect());
            }
            answer
        });
        Ok(DcqlMatch { queries, unsatisfied, answer })
    }
}

/// Whether `credential` satisfies `query`, and if so what to disclose (§6.4.1).
fn match_credential(query: &CredentialQuery, credential: &WalletCredential<'_>) -> Option<CredentialMatch> {
    if !query.vct_values().iter().any(|v| v == credential.vct) {
        return None;
    }
    // Appendix B.3: when holder binding is required (the default), an SD-JWT without a `cnf`
    // claim cannot be returned.
    if query.require_cryptographic_holder_binding && credential.claims.get("cnf").is_none() {
        return None;
    }
    if !trusted_authorities_allow(query, credential) {
        return None;
    }
    let disclose = select_claims(query, credential.claims)?;
    Some(CredentialMatch { handle: credential.handle, disclose })
}

/// §6.1.1: with `trusted_authorities`, a credential should match one of the entries. An `aki`
/// entry matches when one of its values (base64url) is the `KeyIdentifier` of an
/// `AuthorityKeyIdentifier` in the credential's chain. A credential is refused only when every
/// entry is of a type evaluated here and none matches; an entry of another type might match,
/// and the caller reports it ([`QueryMatch::unevaluated_authorities`]).
fn trusted_authorities_allow(query: &CredentialQuery, credential: &WalletCredential<'_>) -> bool {
    let Some(authorities) = &query.trusted_authorities else { return true };
    let mut all_evaluated = true;
    for authority in authorities {
        if authority.kind != TRUSTED_AUTHORITY_AKI {
            all_evaluated = false;
            continue;
        }
        let matches = authority.values.iter().any(|value| {
            schooltas_did::base64url::decode(value).is_some_and(|wanted| credential.authority_key_ids.contains(&wanted))
        });
        if matches {
            return true;
        }
    }
    !all_evaluated
}

fn unevaluated_authorities(query: &CredentialQuery) -> Vec<String> {
    let mut kinds: Vec<String> = query
        .trusted_authorities
        .iter()
        .flatten()
        .filter(|authority| authority.kind != TRUSTED_AUTHORITY_AKI)
        .map(|authority| truncate(&authority.kind))
        .collect();
    kinds.dedup();
    kinds
}

/// §6.4.1: no `claims` asks for nothing selectively disclosable; `claims` without `claim_sets`
/// asks for all of them; with `claim_sets`, for the first option that can be satisfied.
pub(crate) fn select_claims(query: &CredentialQuery, claims: &Value) -> Option<Vec<ClaimPath>> {
    let Some(requested) = &query.claims else { return Some(Vec::new()) };
    let chosen: Vec<&ClaimsQuery> = match &query.claim_sets {
        None => requested.iter().collect(),
        Some(sets) => {
            return sets.iter().find_map(|option| {
                let claims_of_option = option
                    .iter()
                    .map(|id| requested.iter().find(|c| c.id.as_deref() == Some(id.as_str())))
                    .collect::<Option<Vec<_>>>()?;
                disclosures(&claims_of_option, claims)
            });
        }
    };
    disclosures(&chosen, claims)
}

fn disclosures(queries: &[&ClaimsQuery], claims: &Value) -> Option<Vec<ClaimPath>> {
    let mut out: Vec<ClaimPath> = Vec::new();
    for query in queries {
        for path in select_claim(query, claims)? {
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
    Some(out)
}

/// The paths to disclose for one Claims Query, or `None` when the credential cannot satisfy it.
fn select_claim(query: &ClaimsQuery, claims: &Value) -> Option<Vec<ClaimPath>> {
    let selected = process_path(claims, &query.path)?;
    let Some(values) = &query.values else { return Some(vec![query.path.clone()]) };
    // §6.4.1: a claim whose value does not match is treated as if it did not exist. For a path
    // selecting several elements only the matching ones are disclosed.
    let matching: Vec<ClaimPath> = selected
        .into_iter()
        .filter(|(_, value)| values.iter().any(|v| v.matches(value)))
        .filter_map(|(concrete, _)| ClaimPath::new(concrete).ok())
        .collect();
    if matching.is_empty() {
        None
    } else if query.path.elements().contains(&PathElement::AllElements) {
        Some(matching)
    } else {
        Some(vec![query.path.clone()])
    }
}

/// Processes a claims path pointer against JSON claims (OpenID4VP 1.0 §7.1.1): the selected
/// elements with their concrete paths, or `None` where processing "returns an error" (a step
/// meets the wrong type, or nothing is selected).
pub(crate) fn process_path<'a>(root: &'a Value, path: &ClaimPath) -> Option<Vec<(Vec<PathElement>, &'a Value)>> {
    // Step 1: the root element.
    let mut selection: Vec<(Vec<PathElement>, &Value)> = vec![(Vec::new(), root)];
    for component in path.elements() {
        let mut next = Vec::with_capacity(selection.len());
        for (at, value) in selection {
            match component {
                // Step 2.1: a key; any selected non-object is an error; missing keys drop out.
                PathElement::Key(name) => {
                    let object = value.as_object()?;
                    if let Some(child) = object.get(name) {
                        next.push((extend(&at, component.clone()), child));
                    }
                }
                // Step 2.2: null selects every element; any selected non-array is an error.
                PathElement::AllElements => {
                    for (i, child) in value.as_array()?.iter().enumerate() {
                        next.push((extend(&at, PathElement::Index(i)), child));
                    }
                }
                // Step 2.3: an index; non-arrays are an error, missing indices drop out.
                PathElement::Index(i) => {
                    if let Some(child) = value.as_array()?.get(*i) {
                        next.push((extend(&at, component.clone()), child));
                    }
                }
            }
        }
        selection = next;
    }
    // Step 3: an empty selection is an error.
    (!selection.is_empty()).then_some(selection)
}

fn extend(path: &[PathElement], element: PathElement) -> Vec<PathElement> {
    let mut out = Vec::with_capacity(path.len() + 1);
    out.extend_from_slice(path);
    out.push(element);
    out
}
