//! Encrypted responses: `response_mode=direct_post.jwt` (OpenID4VP 1.0 §8.3, HAIP 1.0).
//!
//! The verifier puts its encryption public key(s) in `client_metadata.jwks` and the content
//! encryptions it accepts in `client_metadata.encrypted_response_enc_values_supported` (A128GCM
//! when absent, §8.3). The wallet encrypts the response parameters as one JSON object to one of
//! those keys (JWE, ECDH-ES on P-256: [`schooltas_jwe`]) and posts `response=<jwe>`. A request
//! that asks for `direct_post.jwt` with no key the wallet can use is refused when it is read;
//! there is no fallback to a plaintext response.

use schooltas_jwe::{ContentEncryption, Encryption, EncryptionKey, RecipientKey};
use serde_json::{Map, Value};

use super::Oid4vpError;
use super::form;
use super::request::AuthorizationRequest;
use super::response::AuthorizationResponse;

/// `response_mode` for an encrypted response posted to `response_uri` (§8.3).
pub const RESPONSE_MODE_DIRECT_POST_JWT: &str = "direct_post.jwt";

/// The `client_metadata` member listing the accepted content encryptions (§8.3).
pub const ENC_VALUES_SUPPORTED: &str = "encrypted_response_enc_values_supported";

/// The content encryption a wallet uses when the verifier lists none (§8.3).
pub const DEFAULT_RESPONSE_ENC: ContentEncryption = ContentEncryption::A128Gcm;

/// What the wallet encrypts to: the verifier's key chosen from `client_metadata.jwks` and the
/// content encryption chosen from those it offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseEncryption {
    key: RecipientKey,
    enc: ContentEncryption,
}

impl ResponseEncryption {
    /// The verifier's key.
    pub fn key(&self) -> &RecipientKey {
        &self.key
    }

    /// The content encryption.
    pub fn enc(&self) -> ContentEncryption {
        self.enc
    }

    /// The `direct_post.jwt` body for any response parameters (an error response, say):
    /// `response=<JWE>` whose plaintext is `parameters` as one JSON object.
    pub fn encrypt_parameters(&self, parameters: &Map<String, Value>) -> Result<String, Oid4vpError> {
        let jwe = self.encrypt_to_jwe(parameters)?;
        Ok(form::encode(&[("response", jwe.as_str())]))
    }

    /// The JWE (compact) whose plaintext is `parameters` as one JSON object: the value of
    /// `response` in a `direct_post.jwt` body or a `dc_api.jwt` response object.
    pub fn encrypt_to_jwe(&self, parameters: &Map<String, Value>) -> Result<String, Oid4vpError> {
        let payload =
            serde_json::to_vec(parameters).map_err(|e| Oid4vpError::malformed_json("authorization response", &e))?;
        Ok(Encryption::new(self.enc).encrypt(&self.key, &payload)?)
    }
}

impl AuthorizationRequest {
    /// Asks for an encrypted response (`direct_post.jwt`) to `keys` (public JWKs, e.g.
    /// [`EncryptionKey::public_jwk`]), with the content encryptions `encs` (in order of
    /// preference; empty means the default, A128GCM). Other `client_metadata` members are kept.
    pub fn with_encrypted_response(mut self, keys: Vec<Map<String, Value>>, encs: &[ContentEncryption]) -> Self {
        self.response_mode = if self.is_dc_api() {
            super::dc_api::RESPONSE_MODE_DC_API_JWT.to_owned()
        } else {
            RESPONSE_MODE_DIRECT_POST_JWT.to_owned()
        };
        let mut metadata = match self.client_metadata.take() {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let keys: Vec<Value> = keys.into_iter().map(Value::Object).collect();
        let mut jwks = Map::new();
        jwks.insert("keys".into(), Value::Array(keys));
        metadata.insert("jwks".into(), Value::Object(jwks));
        if encs.is_empty() {
            metadata.remove(ENC_VALUES_SUPPORTED);
        } else {
            let values = encs.iter().map(|e| Value::String(e.as_str().into())).collect();
            metadata.insert(ENC_VALUES_SUPPORTED.into(), Value::Array(values));
        }
        self.client_metadata = Some(Value::Object(metadata));
        self
    }

    /// Whether the request asks for an encrypted response (`direct_post.jwt`, or `dc_api.jwt`
    /// over the Digital Credentials API).
    pub fn wants_encrypted_response(&self) -> bool {
        self.response_mode == RESPONSE_MODE_DIRECT_POST_JWT
            || self.response_mode == super::dc_api::RESPONSE_MODE_DC_API_JWT
    }

    /// The content encryptions the verifier accepts: `encrypted_response_enc_values_supported`
    /// that this library supports, in the verifier's order, or A128GCM when the member is
    /// absent (§8.3). Unknown values are skipped; a member that is not an array of strings is
    /// [`Oid4vpError::InvalidClientMetadata`].
    pub fn offered_response_encs(&self) -> Result<Vec<ContentEncryption>, Oid4vpError> {
        let Some(values) = self.client_metadata.as_ref().and_then(|m| m.get(ENC_VALUES_SUPPORTED)) else {
            return Ok(vec![DEFAULT_RESPONSE_ENC]);
        };
        let values = values.as_array().ok_or(Oid4vpError::InvalidClientMetadata {
            reason: "encrypted_response_enc_values_supported is not an array",
        })?;
        let mut out = Vec::new();
        for value in values {
            let name = value.as_str().ok_or(Oid4vpError::InvalidClientMetadata {
                reason: "encrypted_response_enc_values_supported holds a non-string",
            })?;
            if let Ok(enc) = ContentEncryption::from_enc(name)
                && !out.contains(&enc)
            {
                out.push(enc);
            }
        }
        Ok(out)
    }

    /// For a `direct_post.jwt` request, the key and content encryption the wallet uses: the
    /// first key in `client_metadata.jwks.keys` usable for ECDH-ES on P-256 (`use` enc or
    /// absent, `alg` ECDH-ES or absent), and the first offered content encryption this library
    /// supports. `None` for `direct_post`. Refused with
    /// [`Oid4vpError::NoUsableEncryptionKey`] or [`Oid4vpError::NoSupportedResponseEncryption`].
    pub fn response_encryption(&self) -> Result<Option<ResponseEncryption>, Oid4vpError> {
        if !self.wants_encrypted_response() {
            return Ok(None);
        }
        let keys = self
            .client_metadata
            .as_ref()
            .and_then(|m| m.get("jwks"))
            .and_then(|jwks| jwks.get("keys"))
            .and_then(Value::as_array)
            .ok_or(Oid4vpError::NoUsableEncryptionKey)?;
        let key = keys
            .iter()
            .filter_map(Value::as_object)
            .find_map(|jwk| RecipientKey::from_jwk(jwk).ok())
            .ok_or(Oid4vpError::NoUsableEncryptionKey)?;
        let enc = *self.offered_response_encs()?.first().ok_or(Oid4vpError::NoSupportedResponseEncryption)?;
        Ok(Some(ResponseEncryption { key, enc }))
    }
}

impl AuthorizationResponse {
    /// The `direct_post.jwt` body (§8.3): `response=<JWE>` whose plaintext is the JSON form
    /// ([`AuthorizationResponse::to_json`]: `vp_token` as an object, `state`, parameters).
    pub fn to_jwt_form(&self, encryption: &ResponseEncryption) -> Result<String, Oid4vpError> {
        match self.to_json() {
            Value::Object(parameters) => encryption.encrypt_parameters(&parameters),
            // to_json always gives an object.
            _ => Err(Oid4vpError::InvalidVpToken { reason: "the response is not a JSON object" }),
        }
    }

    /// Reads a `direct_post.jwt` body: `response=<JWE>`, decrypted with `key` accepting only
    /// `offered`, then the JSON form with the named additional parameters. A body without
    /// `response` is [`Oid4vpError::UnencryptedResponse`]; an error response inside the JWE is
    /// [`Oid4vpError::ErrorResponse`].
    pub fn from_jwt_form_with(
        body: &str,
        key: &EncryptionKey,
        offered: &[ContentEncryption],
        parameters: &[&str],
    ) -> Result<Self, Oid4vpError> {
        let json = decrypt_jwt_form(body, key, offered)?;
        if let Some((error, _)) = error_response_of(&json) {
            return Err(Oid4vpError::ErrorResponse { error: super::dcql::truncate(&error) });
        }
        Self::from_json_with(&json, parameters)
    }
}

/// Decrypts a `direct_post.jwt` body (`response=<JWE>`) to the JSON text of the response
/// parameters (an encrypted error response too: see [`error_response_of`]). A plaintext
/// error response (`error=…`) is [`Oid4vpError::ErrorResponse`]; a body without `response`, or
/// with parameters beside it, is [`Oid4vpError::UnencryptedResponse`].
pub fn decrypt_jwt_form(body: &str, key: &EncryptionKey, offered: &[ContentEncryption]) -> Result<String, Oid4vpError> {
    if body.len() > super::MAX_RESPONSE_LEN {
        return Err(Oid4vpError::TooLarge {
            what: "authorization response",
            len: body.len(),
            limit: super::MAX_RESPONSE_LEN,
        });
    }
    let pairs = form::decode(body)?;
    if let Some(error) = form::get(&pairs, "error") {
        return Err(Oid4vpError::ErrorResponse { error: super::dcql::truncate(error) });
    }
    let Some(jwe) = form::get(&pairs, "response") else {
        return Err(Oid4vpError::UnencryptedResponse);
    };
    if pairs.len() != 1 {
        // §8.3: every response parameter is inside the JWE; one beside it was not encrypted.
        return Err(Oid4vpError::UnencryptedResponse);
    }
    let plaintext = schooltas_jwe::decrypt(jwe, key, offered)?;
    String::from_utf8(plaintext.to_vec())
        .map_err(|_| Oid4vpError::InvalidVpToken { reason: "the decrypted response is not UTF-8" })
}

/// The `kid` in the JWE header of a `direct_post.jwt` body (`response=<JWE>`), so that a
/// verifier with a key per request finds the key to decrypt with; `None` when the header has
/// none. A body that is not one encrypted response is refused as [`decrypt_jwt_form`] refuses
/// it.
pub fn jwt_form_kid(body: &str) -> Result<Option<String>, Oid4vpError> {
    if body.len() > super::MAX_RESPONSE_LEN {
        return Err(Oid4vpError::TooLarge {
            what: "authorization response",
            len: body.len(),
            limit: super::MAX_RESPONSE_LEN,
        });
    }
    let pairs = form::decode(body)?;
    let (Some(jwe), 1) = (form::get(&pairs, "response"), pairs.len()) else {
        return Err(Oid4vpError::UnencryptedResponse);
    };
    Ok(schooltas_jwe::ParsedJwe::parse(jwe)?.header().kid.clone())
}

/// The `error` and `state` of a decrypted response that is an error response (the holder
/// declined, §8.5), or `None` when it is not one.
pub fn error_response_of(json: &str) -> Option<(String, Option<String>)> {
    let Ok(Value::Object(object)) = schooltas_did::strict_json::from_str::<Value>(json) else {
        return None;
    };
    let Some(Value::String(error)) = object.get("error") else {
        return None;
    };
    let state = match object.get("state") {
        Some(Value::String(state)) => Some(state.clone()),
        _ => None,
    };
    Some((error.clone(), state))
}
