//! The Authorization Response (OpenID4VP 1.0 §8.1) and its `direct_post` form (§8.2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Oid4vpError;
use super::dcql::is_valid_id;
use super::form;

/// The largest response body accepted (4 MiB: several SD-JWTs with many disclosures).
pub const MAX_RESPONSE_LEN: usize = 4 << 20;

/// An Authorization Response carrying a VP Token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationResponse {
    /// §8.1: Credential Query id → one or more presentations (SD-JWT VC presentations are
    /// strings).
    pub vp_token: BTreeMap<String, Vec<String>>,
    /// The request's `state`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// A Schooltas guardian approval (`guardian_approval`, see [`crate::consent`]): a parent's
    /// signed yes to the presentations of a child under 16. Other verifiers ignore it (§8.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_approval: Option<String>,
}

impl std::fmt::Debug for AuthorizationResponse {
    // Presentations hold personal data: ids and counts only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts: BTreeMap<&String, usize> = self.vp_token.iter().map(|(k, v)| (k, v.len())).collect();
        f.debug_struct("AuthorizationResponse")
            .field("vp_token", &counts)
            .field("state", &self.state)
            .field("guardian_approval", &self.guardian_approval.is_some())
            .finish()
    }
}

impl AuthorizationResponse {
    /// The JSON form (`{"vp_token": {...}, "state": ...}`).
    pub fn to_json(&self) -> Value {
        // Serializing string maps cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads the JSON form.
    pub fn from_json(text: &str) -> Result<Self, Oid4vpError> {
        check_len(text)?;
        let value: Value = schooltas_did::strict_json::from_str_or(text, |e| {
            Oid4vpError::malformed_json("authorization response", &e)
        })?;
        let vp_token = value.get("vp_token").ok_or(Oid4vpError::MissingParameter { name: "vp_token" })?;
        let state = match value.get("state") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(Oid4vpError::InvalidState),
        };
        let mut response = Self::from_parts(vp_token, state)?;
        response.guardian_approval = match value.get(crate::consent::GUARDIAN_APPROVAL_PARAMETER) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(Oid4vpError::InvalidVpToken { reason: "guardian_approval is not a string" }),
        };
        Ok(response)
    }

    /// The `direct_post` body (§8.2): form-encoded, `vp_token` as JSON text.
    pub fn to_form(&self) -> String {
        let vp_token = serde_json::to_string(&self.vp_token).unwrap_or_default();
        let mut pairs = vec![("vp_token", vp_token.as_str())];
        if let Some(state) = &self.state {
            pairs.push(("state", state.as_str()));
        }
        if let Some(approval) = &self.guardian_approval {
            pairs.push((crate::consent::GUARDIAN_APPROVAL_PARAMETER, approval.as_str()));
        }
        form::encode(&pairs)
    }

    /// Reads a `direct_post` body. An error response (`error=...`) is refused with
    /// [`Oid4vpError::ErrorResponse`]; unknown parameters are ignored (§8.1).
    pub fn from_form(body: &str) -> Result<Self, Oid4vpError> {
        check_len(body)?;
        let pairs = form::decode(body)?;
        if let Some(error) = form::get(&pairs, "error") {
            return Err(Oid4vpError::ErrorResponse { error: super::dcql::truncate(error) });
        }
        let vp_token = form::get(&pairs, "vp_token").ok_or(Oid4vpError::MissingParameter { name: "vp_token" })?;
        let vp_token: Value =
            schooltas_did::strict_json::from_str_or(vp_token, |e| Oid4vpError::malformed_json("vp_token", &e))?;
        let mut response = Self::from_parts(&vp_token, form::get(&pairs, "state").map(str::to_owned))?;
        response.guardian_approval = form::get(&pairs, crate::consent::GUARDIAN_APPROVAL_PARAMETER).map(str::to_owned);
        Ok(response)
    }

    fn from_parts(vp_token: &Value, state: Option<String>) -> Result<Self, Oid4vpError> {
        let object = vp_token.as_object().ok_or(Oid4vpError::InvalidVpToken { reason: "not a JSON object" })?;
        let mut out = BTreeMap::new();
        for (id, presentations) in object {
            if !is_valid_id(id) {
                return Err(Oid4vpError::InvalidVpToken { reason: "a key is not a Credential Query id" });
            }
            let list = presentations
                .as_array()
                .ok_or(Oid4vpError::InvalidVpToken { reason: "an entry is not an array of presentations" })?;
            // §8.1: an array of one or more presentations.
            if list.is_empty() {
                return Err(Oid4vpError::InvalidVpToken { reason: "an entry holds no presentation" });
            }
            let strings = list
                .iter()
                .map(|p| p.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(Oid4vpError::InvalidVpToken { reason: "a presentation is not a string (dc+sd-jwt)" })?;
            out.insert(id.clone(), strings);
        }
        if out.is_empty() {
            return Err(Oid4vpError::InvalidVpToken { reason: "no Credential Query is answered" });
        }
        Ok(AuthorizationResponse { vp_token: out, state, guardian_approval: None })
    }

    /// Whether `state` is the one the verifier sent (both absent counts as equal).
    pub fn state_matches(&self, expected: Option<&str>) -> bool {
        self.state.as_deref() == expected
    }
}

fn check_len(text: &str) -> Result<(), Oid4vpError> {
    if text.len() > MAX_RESPONSE_LEN {
        return Err(Oid4vpError::TooLarge { what: "authorization response", len: text.len(), limit: MAX_RESPONSE_LEN });
    }
    Ok(())
}
