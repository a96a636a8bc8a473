//! The Authorization Response (OpenID4VP 1.0 §8.1) and its `direct_post` form (§8.2).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Oid4vpError;
use super::dcql::{is_valid_id, truncate};
use super::form;

/// The largest response body accepted (4 MiB: several SD-JWTs with many disclosures).
pub const MAX_RESPONSE_LEN: usize = 4 << 20;

/// An Authorization Response carrying a VP Token.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizationResponse {
    /// §8.1: Credential Query id → one or more presentations (SD-JWT VC presentations are
    /// strings).
    pub vp_token: BTreeMap<String, Vec<String>>,
    /// The request's `state`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Additional string parameters a profile adds (§8.1 lets a response carry them; a verifier
    /// ignores those it does not know). Reading keeps only the names the caller asks for
    /// ([`AuthorizationResponse::from_form_with`]); `vp_token` and `state` are never taken
    /// from here.
    #[serde(flatten)]
    pub parameters: BTreeMap<String, String>,
}

/// The parameters [`AuthorizationResponse`] models itself: never additional parameters.
const MODELLED_PARAMETERS: [&str; 2] = ["vp_token", "state"];

impl std::fmt::Debug for AuthorizationResponse {
    // Presentations hold personal data: ids and counts only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts: BTreeMap<&String, usize> = self.vp_token.iter().map(|(k, v)| (k, v.len())).collect();
        f.debug_struct("AuthorizationResponse")
            .field("vp_token", &counts)
            .field("state", &self.state)
            .field("parameters", &self.parameters.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl AuthorizationResponse {
    /// A response with `vp_token` and `state` and no additional parameters.
    pub fn new(vp_token: BTreeMap<String, Vec<String>>, state: Option<String>) -> Self {
        AuthorizationResponse { vp_token, state, parameters: BTreeMap::new() }
    }

    /// Adds the additional parameter `name`. `vp_token` and `state` are the response's own and
    /// are never sent from here.
    pub fn with_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.insert(name.into(), value.into());
        self
    }

    /// The additional parameter `name`, if the response has it.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).map(String::as_str)
    }

    /// The additional parameters that are sent: all but the modelled names.
    fn sent_parameters(&self) -> impl Iterator<Item = (&str, &str)> {
        self.parameters
            .iter()
            .filter(|(name, _)| !MODELLED_PARAMETERS.contains(&name.as_str()))
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The JSON form (`{"vp_token": {...}, "state": ..., <parameters>}`).
    pub fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        // Serializing string maps cannot fail.
        object.insert("vp_token".into(), serde_json::to_value(&self.vp_token).unwrap_or(Value::Null));
        if let Some(state) = &self.state {
            object.insert("state".into(), Value::String(state.clone()));
        }
        for (name, value) in self.sent_parameters() {
            object.insert(name.to_owned(), Value::String(value.to_owned()));
        }
        Value::Object(object)
    }

    /// Reads the JSON form; additional parameters are ignored (§8.1).
    pub fn from_json(text: &str) -> Result<Self, Oid4vpError> {
        Self::from_json_with(text, &[])
    }

    /// Reads the JSON form, keeping the additional string parameters named in `parameters`
    /// (one that is present but not a string is refused with
    /// [`Oid4vpError::ParameterNotAString`]); others are ignored (§8.1).
    pub fn from_json_with(text: &str, parameters: &[&str]) -> Result<Self, Oid4vpError> {
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
        for &name in parameters.iter().filter(|name| !MODELLED_PARAMETERS.contains(name)) {
            match value.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => {
                    response.parameters.insert(name.to_owned(), s.clone());
                }
                Some(_) => return Err(Oid4vpError::ParameterNotAString { name: truncate(name) }),
            }
        }
        Ok(response)
    }

    /// The `direct_post` body (§8.2): form-encoded, `vp_token` as JSON text.
    pub fn to_form(&self) -> String {
        let vp_token = serde_json::to_string(&self.vp_token).unwrap_or_default();
        let mut pairs = vec![("vp_token", vp_token.as_str())];
        if let Some(state) = &self.state {
            pairs.push(("state", state.as_str()));
        }
        pairs.extend(self.sent_parameters());
        form::encode(&pairs)
    }

    /// Reads a `direct_post` body. An error response (`error=...`) is refused with
    /// [`Oid4vpError::ErrorResponse`]; additional parameters are ignored (§8.1).
    pub fn from_form(body: &str) -> Result<Self, Oid4vpError> {
        Self::from_form_with(body, &[])
    }

    /// [`AuthorizationResponse::from_form`], keeping the additional parameters named in
    /// `parameters`; others are ignored (§8.1).
    pub fn from_form_with(body: &str, parameters: &[&str]) -> Result<Self, Oid4vpError> {
        check_len(body)?;
        let pairs = form::decode(body)?;
        if let Some(error) = form::get(&pairs, "error") {
            return Err(Oid4vpError::ErrorResponse { error: super::dcql::truncate(error) });
        }
        let vp_token = form::get(&pairs, "vp_token").ok_or(Oid4vpError::MissingParameter { name: "vp_token" })?;
        let vp_token: Value =
            schooltas_did::strict_json::from_str_or(vp_token, |e| Oid4vpError::malformed_json("vp_token", &e))?;
        let mut response = Self::from_parts(&vp_token, form::get(&pairs, "state").map(str::to_owned))?;
        for &name in parameters.iter().filter(|name| !MODELLED_PARAMETERS.contains(name)) {
            if let Some(value) = form::get(&pairs, name) {
                response.parameters.insert(name.to_owned(), value.to_owned());
            }
        }
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
        Ok(AuthorizationResponse::new(out, state))
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
