//! The Digital Credentials Query Language (OpenID4VP 1.0 §6): typed queries, the validation
//! rules of §6.1–§6.3, and a builder for verifiers.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Oid4vpError;
use schooltas_sd_jwt::ClaimPath;

/// The only Credential Format Identifier this library supports: IETF SD-JWT VC
/// (OpenID4VP 1.0 Appendix B.3.1).
pub const SD_JWT_VC_FORMAT: &str = "dc+sd-jwt";

/// A DCQL query (OpenID4VP 1.0 §6): which credentials, and which of their claims, a verifier
/// asks for.
///
/// Parse one received from elsewhere with [`DcqlQuery::parse`] (JSON text, validated) or build
/// one with [`DcqlQuery::builder`]. A value built by hand from the public fields is checked with
/// [`DcqlQuery::validate`]; every function of this module that receives a query from outside
/// validates it first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The Credential Queries (§6.1). Never empty in a valid query.
    pub credentials: Vec<CredentialQuery>,
    /// Constraints on which Credential Queries to answer (§6.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// `aki` (§6.1.1.1): the base64url `KeyIdentifier` of an `AuthorityKeyIdentifier` (RFC 5280
/// §4.2.1.1) of a certificate in the credential's chain.
pub const TRUSTED_AUTHORITY_AKI: &str = "aki";
/// `etsi_tl` (§6.1.1.2): the URL of an ETSI trusted list.
pub const TRUSTED_AUTHORITY_ETSI_TL: &str = "etsi_tl";
/// `openid_federation` (§6.1.1.3): the Entity Identifier of an OpenID Federation trust anchor.
pub const TRUSTED_AUTHORITY_OPENID_FEDERATION: &str = "openid_federation";

/// One entry of `trusted_authorities` (OpenID4VP 1.0 §6.1.1): a `type` and its non-empty
/// `values`. Types this library does not know are kept (a wallet reports them as not
/// evaluated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedAuthoritiesQuery {
    /// `aki`, `etsi_tl`, `openid_federation`, or another type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The authorities of that type, any of which the verifier accepts.
    pub values: Vec<String>,
}

/// One Credential Query (OpenID4VP 1.0 §6.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Names the credential in the response and in `credential_sets`: non-empty, ASCII
    /// alphanumerics, `_` and `-`, unique within the query.
    pub id: String,
    /// The Credential Format Identifier; only [`SD_JWT_VC_FORMAT`] is supported.
    pub format: String,
    /// Whether more than one credential may answer this query (default `false`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// Metadata constraints; for `dc+sd-jwt`, `vct_values` is required (Appendix B.3.5).
    pub meta: CredentialMeta,
    /// Trusted authorities (§6.1.1): the issuers (by their certificate chain, trust list or
    /// federation) the verifier will accept. The wallet's matcher evaluates `aki`
    /// ([`TRUSTED_AUTHORITY_AKI`]); other types are reported as not evaluated
    /// ([`super::matching::QueryMatch::unevaluated_authorities`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_authorities: Option<Vec<TrustedAuthoritiesQuery>>,
    /// Whether a key-binding proof is required (default `true`).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub require_cryptographic_holder_binding: bool,
    /// The requested claims (§6.3). Absent: no selectively disclosable claim is requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Alternative combinations of claim ids, most preferred first (§6.4.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

/// The `meta` object of a Credential Query.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialMeta {
    /// The accepted SD-JWT VC types (`vct`), Appendix B.3.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
    /// Any other member, kept as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One Claims Query (OpenID4VP 1.0 §6.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// Names the claim in `claim_sets`; required when `claim_sets` is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The claims path pointer (§7).
    pub path: ClaimPath,
    /// The accepted values; the claim matches when its type and value equal one of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<ClaimValue>>,
}

/// A value in a Claims Query's `values`: a string, an integer or a boolean (§6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClaimValue {
    /// A JSON string.
    String(String),
    /// A JSON integer.
    Integer(i64),
    /// A JSON boolean.
    Bool(bool),
}

impl ClaimValue {
    /// Whether `value` has this type and this value exactly (§6.3: `"1"` does not match `1`).
    pub fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (ClaimValue::String(expected), Value::String(found)) => expected == found,
            (ClaimValue::Integer(expected), Value::Number(found)) => found.as_i64() == Some(*expected),
            (ClaimValue::Bool(expected), Value::Bool(found)) => expected == found,
            _ => false,
        }
    }
}

impl From<&str> for ClaimValue {
    fn from(value: &str) -> Self {
        ClaimValue::String(value.to_owned())
    }
}

impl From<String> for ClaimValue {
    fn from(value: String) -> Self {
        ClaimValue::String(value)
    }
}

impl From<i64> for ClaimValue {
    fn from(value: i64) -> Self {
        ClaimValue::Integer(value)
    }
}

impl From<bool> for ClaimValue {
    fn from(value: bool) -> Self {
        ClaimValue::Bool(value)
    }
}

/// One Credential Set Query (OpenID4VP 1.0 §6.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialSetQuery {
    /// Alternative sets of Credential Query ids, most preferred first.
    pub options: Vec<Vec<String>>,
    /// Whether the set must be satisfied (default `true`).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub required: bool,
}

impl CredentialSetQuery {
    /// A set that must be satisfied by one of `options`.
    pub fn required<O, I, S>(options: O) -> Self
    where
        O: IntoIterator<Item = I>,
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CredentialSetQuery { options: collect_options(options), required: true }
    }

    /// A set the wallet may leave unanswered.
    pub fn optional<O, I, S>(options: O) -> Self
    where
        O: IntoIterator<Item = I>,
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CredentialSetQuery { options: collect_options(options), required: false }
    }
}

fn collect_options<O, I, S>(options: O) -> Vec<Vec<String>>
where
    O: IntoIterator<Item = I>,
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    options.into_iter().map(|option| option.into_iter().map(Into::into).collect()).collect()
}

fn default_true() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The largest DCQL query text [`DcqlQuery::parse`] accepts (64 KiB).
pub const MAX_DCQL_LEN: usize = 64 << 10;

impl DcqlQuery {
    /// Starts building a query; [`DcqlQueryBuilder::build`] validates it.
    pub fn builder() -> DcqlQueryBuilder {
        DcqlQueryBuilder::default()
    }

    /// Parses and validates the JSON text of a query.
    pub fn parse(text: &str) -> Result<Self, Oid4vpError> {
        if text.len() > MAX_DCQL_LEN {
            return Err(Oid4vpError::TooLarge { what: "DCQL query", len: text.len(), limit: MAX_DCQL_LEN });
        }
        let value: Value =
            schooltas_did::strict_json::from_str_or(text, |e| Oid4vpError::malformed_json("DCQL query", &e))?;
        Self::from_json(&value)
    }

    /// Reads and validates a query from a JSON value (for example the `dcql_query` member of a
    /// request object).
    ///
    /// Claims paths and `values` are checked before the structure is read, so that a bad path
    /// or value is refused with its own error variant rather than a generic JSON error.
    pub fn from_json(value: &Value) -> Result<Self, Oid4vpError> {
        precheck_claims(value)?;
        let query: DcqlQuery = serde::Deserialize::deserialize(value)
            .map_err(|e: serde_json::Error| Oid4vpError::malformed_json("DCQL query", &e))?;
        query.validate()?;
        Ok(query)
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        // Serializing these types cannot fail: every map key is a string.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The Credential Query with this id.
    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }

    /// Checks the rules of OpenID4VP 1.0 §6.1–§6.3 and Appendix B.3.5, and that the format is
    /// `dc+sd-jwt`, the only one this library supports.
    pub fn validate(&self) -> Result<(), Oid4vpError> {
        // §6: `credentials` is a non-empty array.
        if self.credentials.is_empty() {
            return Err(Oid4vpError::EmptyCredentials);
        }
        let mut ids = BTreeSet::new();
        for credential in &self.credentials {
            // §6.1: ids are non-empty alphanumerics, `_`, `-`, and unique within the request.
            if !is_valid_id(&credential.id) {
                return Err(Oid4vpError::InvalidCredentialId { id: truncate(&credential.id) });
            }
            if !ids.insert(credential.id.as_str()) {
                return Err(Oid4vpError::DuplicateCredentialId { id: credential.id.clone() });
            }
            credential.validate()?;
        }
        if let Some(sets) = &self.credential_sets {
            // §6: `credential_sets` is a non-empty array when present.
            if sets.is_empty() {
                return Err(Oid4vpError::EmptyCredentialSets);
            }
            for (set_index, set) in sets.iter().enumerate() {
                // §6.2: `options` is non-empty, and so is every option in it.
                if set.options.is_empty() || set.options.iter().any(Vec::is_empty) {
                    return Err(Oid4vpError::EmptyCredentialSetOption { set_index });
                }
                for id in set.options.iter().flatten() {
                    if !ids.contains(id.as_str()) {
                        return Err(Oid4vpError::UnknownCredentialId { id: truncate(id) });
                    }
                }
            }
        }
        Ok(())
    }
}

impl CredentialQuery {
    /// A query for an SD-JWT VC of one of the types `vct_values`, asking for no claims yet.
    pub fn sd_jwt_vc<I, S>(id: impl Into<String>, vct_values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CredentialQuery {
            id: id.into(),
            format: SD_JWT_VC_FORMAT.to_owned(),
            multiple: false,
            meta: CredentialMeta {
                vct_values: Some(vct_values.into_iter().map(Into::into).collect()),
                other: Map::new(),
            },
            trusted_authorities: None,
            require_cryptographic_holder_binding: true,
            claims: None,
            claim_sets: None,
        }
    }

    /// Asks for the claim at `path`.
    pub fn claim(self, path: ClaimPath) -> Self {
        self.push_claim(ClaimsQuery { id: None, path, values: None })
    }

    /// Asks for the claim at `path`, naming it `id` for use in [`CredentialQuery::claim_set`].
    pub fn claim_with_id(self, id: impl Into<String>, path: ClaimPath) -> Self {
        self.push_claim(ClaimsQuery { id: Some(id.into()), path, values: None })
    }

    /// Asks for the claim at `path` only if its value is one of `values`.
    pub fn claim_with_values<I, V>(self, path: ClaimPath, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<ClaimValue>,
    {
        self.push_claim(ClaimsQuery { id: None, path, values: Some(values.into_iter().map(Into::into).collect()) })
    }

    /// Adds a Claims Query as given.
    pub fn push_claim(mut self, claim: ClaimsQuery) -> Self {
        self.claims.get_or_insert_with(Vec::new).push(claim);
        self
    }

    /// Adds an alternative combination of claim ids (the first added is the most preferred).
    pub fn claim_set<I, S>(mut self, claim_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.claim_sets.get_or_insert_with(Vec::new).push(claim_ids.into_iter().map(Into::into).collect());
        self
    }

    /// Allows (or forbids) more than one credential in the answer.
    pub fn multiple(mut self, multiple: bool) -> Self {
        self.multiple = multiple;
        self
    }

    /// Sets `require_cryptographic_holder_binding` (default `true`).
    pub fn require_holder_binding(mut self, required: bool) -> Self {
        self.require_cryptographic_holder_binding = required;
        self
    }

    /// The accepted `vct` values (empty when absent).
    pub fn vct_values(&self) -> &[String] {
        self.meta.vct_values.as_deref().unwrap_or_default()
    }

    fn validate(&self) -> Result<(), Oid4vpError> {
        let credential_id = || self.id.clone();
        if self.format != SD_JWT_VC_FORMAT {
            return Err(Oid4vpError::UnsupportedFormat {
                credential_id: credential_id(),
                format: truncate(&self.format),
            });
        }
        // Appendix B.3.5: `vct_values` is a required non-empty array of type identifiers.
        let vct_values = self.meta.vct_values.as_deref().unwrap_or_default();
        if vct_values.is_empty() || vct_values.iter().any(|v| schooltas_sd_jwt::Vct::new(v.as_str()).is_err()) {
            return Err(Oid4vpError::MissingVctValues { credential_id: credential_id() });
        }
        if let Some(authorities) = &self.trusted_authorities
            && (authorities.is_empty()
                || authorities
                    .iter()
                    .any(|a| a.kind.is_empty() || a.values.is_empty() || a.values.iter().any(String::is_empty)))
        {
            return Err(Oid4vpError::EmptyTrustedAuthorities { credential_id: credential_id() });
        }
        let Some(claims) = &self.claims else {
            // §6.4.1: `claim_sets` must not be present if `claims` is absent.
            if self.claim_sets.is_some() {
                return Err(Oid4vpError::ClaimSetsWithoutClaims { credential_id: credential_id() });
            }
            return Ok(());
        };
        // §6.1: `claims` is a non-empty array.
        if claims.is_empty() {
            return Err(Oid4vpError::EmptyClaims { credential_id: credential_id() });
        }
        let mut claim_ids = BTreeSet::new();
        let mut paths = BTreeSet::new();
        for claim in claims {
            if let Some(id) = &claim.id {
                // §6.3: claim ids follow the id syntax and are unique within `claims`.
                if !is_valid_id(id) {
                    return Err(Oid4vpError::InvalidClaimId { credential_id: credential_id(), claim_id: truncate(id) });
                }
                if !claim_ids.insert(id.as_str()) {
                    return Err(Oid4vpError::DuplicateClaimId { credential_id: credential_id(), claim_id: id.clone() });
                }
            } else if self.claim_sets.is_some() {
                // §6.3: `id` is required when `claim_sets` is present.
                return Err(Oid4vpError::ClaimWithoutId {
                    credential_id: credential_id(),
                    path: claim.path.to_string(),
                });
            }
            // §6.1: a verifier must not point to the same claim more than once.
            if !paths.insert(&claim.path) {
                return Err(Oid4vpError::DuplicateClaimPath {
                    credential_id: credential_id(),
                    path: claim.path.to_string(),
                });
            }
            // §6.3: `values` is a non-empty array when present.
            if claim.values.as_ref().is_some_and(Vec::is_empty) {
                return Err(Oid4vpError::EmptyValues { credential_id: credential_id(), path: claim.path.to_string() });
            }
        }
        if let Some(sets) = &self.claim_sets {
            // §6.1: `claim_sets` is a non-empty array of arrays of ids from `claims`.
            if sets.is_empty() || sets.iter().any(Vec::is_empty) {
                return Err(Oid4vpError::EmptyClaimSet { credential_id: credential_id() });
            }
            for id in sets.iter().flatten() {
                if !claim_ids.contains(id.as_str()) {
                    return Err(Oid4vpError::UnknownClaimId { credential_id: credential_id(), claim_id: truncate(id) });
                }
            }
        }
        Ok(())
    }
}

/// Builds a [`DcqlQuery`]; see [`DcqlQuery::builder`].
#[derive(Clone, Debug, Default)]
pub struct DcqlQueryBuilder {
    credentials: Vec<CredentialQuery>,
    credential_sets: Vec<CredentialSetQuery>,
}

impl DcqlQueryBuilder {
    /// Adds a Credential Query.
    pub fn credential(mut self, credential: CredentialQuery) -> Self {
        self.credentials.push(credential);
        self
    }

    /// Adds a Credential Set Query.
    pub fn credential_set(mut self, set: CredentialSetQuery) -> Self {
        self.credential_sets.push(set);
        self
    }

    /// The query, validated.
    pub fn build(self) -> Result<DcqlQuery, Oid4vpError> {
        let query = DcqlQuery {
            credentials: self.credentials,
            credential_sets: (!self.credential_sets.is_empty()).then_some(self.credential_sets),
        };
        query.validate()?;
        Ok(query)
    }
}

/// §6.1/§6.3: a non-empty string of ASCII alphanumerics, `_` and `-`.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Sender-chosen text (an identifier, a parameter or purpose name) as it may appear in an
/// error: at most 100 bytes, cut at a character boundary and marked with `…`. The school crate's
/// trust-list errors use the same bound.
pub fn truncate(text: &str) -> String {
    const LIMIT: usize = 100;
    if text.len() <= LIMIT {
        return text.to_owned();
    }
    let mut end = LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Refuses bad claims paths and `values` with their own variants before serde reads the
/// structure (serde would report them as generic JSON errors).
fn precheck_claims(value: &Value) -> Result<(), Oid4vpError> {
    let Some(credentials) = value.get("credentials").and_then(Value::as_array) else {
        return Ok(()); // serde reports the missing or mistyped member.
    };
    for credential in credentials {
        let credential_id = credential.get("id").and_then(Value::as_str).map(truncate).unwrap_or_default();
        let Some(claims) = credential.get("claims").and_then(Value::as_array) else { continue };
        for claim in claims {
            let Some(path) = claim.get("path") else { continue };
            // §6.3 / §7: a non-empty array of strings, nulls and non-negative integers.
            let path = ClaimPath::from_json(path).map_err(|e| match e {
                schooltas_sd_jwt::Error::InvalidClaimPath { path, reason } => {
                    Oid4vpError::InvalidClaimPath { credential_id: credential_id.clone(), path, reason }
                }
                _ => Oid4vpError::InvalidClaimPath {
                    credential_id: credential_id.clone(),
                    path: String::new(),
                    reason: "not a claims path",
                },
            })?;
            if let Some(values) = claim.get("values") {
                // §6.3: a non-empty array of strings, integers or booleans.
                let valid = values
                    .as_array()
                    .is_some_and(|items| items.iter().all(|v| v.is_string() || v.is_boolean() || v.is_i64()));
                if !valid {
                    return Err(Oid4vpError::InvalidClaimValue { credential_id, path: path.to_string() });
                }
            }
        }
    }
    Ok(())
}
