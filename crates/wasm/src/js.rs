//! The JavaScript surface (wasm-bindgen): `verifyPresentation`, `HeldCredential`, `StatusList`.
//!
//! Thin by design: each export turns its JS arguments into the typed requests of
//! [`crate::VerifyRequest`], [`crate::PresentRequest`] and [`crate::VerifiedStatusList`], and a refusal into a JS `Error`
//! with `code` ([`crate::Error::code`]) and the Rust message. The TypeScript types of the
//! options and results are declared below and named on each export.

use js_sys::{JSON, Reflect};
use schooltas_did::{SigningKey, VerifyingKey};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::{Error, present, status, verify};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A JSON Web Key (RFC 7517), public or (for holderKey) private. */
export type Jwk = Record<string, unknown>;
/** A DCQL claims path: claim names, array indices, null for every element. */
export type ClaimPath = (string | number | null)[];

/** What verifyPresentation expects and trusts. At least one of issuerKeys, trustedDids, trustAnchors. */
export interface VerifyPresentationOptions {
  /** The verifier's identifier: the key-binding JWT's aud must be it. */
  audience: string;
  /** The nonce the verifier issued: the key-binding JWT's nonce must be it. */
  nonce: string;
  /** The verifier's clock, Unix seconds. */
  now: number;
  /** How old the key-binding JWT may be, seconds (default 300). */
  maxAge?: number;
  /** Issuer public keys the caller vouches for (chosen by kid, or by algorithm). */
  issuerKeys?: Jwk[];
  /** Issuer DIDs (did:key, did:jwk) whose keys are trusted when iss is one of them. */
  trustedDids?: string[];
  /** X.509 trust anchors (standard base64 DER) for issuers that send an x5c chain. */
  trustAnchors?: string[];
  /** Status list tokens by URI. Without it the status entry is reported with checked: false. */
  statusLists?: Record<string, string>;
}

/** The credential's status entry. */
export interface CredentialStatus { uri: string; idx: number; checked: boolean; valid?: true }

/** A presentation that verified. */
export interface VerifiedPresentation {
  /** The disclosed claims with the always-visible ones (iss, vct, iat, …). */
  claims: Record<string, unknown>;
  vct: string | null;
  iss: string | null;
  /** The holder's key (cnf.jwk) the key-binding JWT verified with. */
  holderKey: Jwk | null;
  status: CredentialStatus | null;
}

/** What HeldCredential.present binds the presentation to. */
export interface PresentOptions {
  /** The claims to disclose. */
  claims: ClaimPath[];
  audience: string;
  nonce: string;
  /** The key-binding JWT's iat, Unix seconds. */
  now: number;
  /** The holder's private key (the credential's cnf key), as a JWK. */
  holderKey: Jwk;
}

/** What StatusList.verify checks the token against. */
export interface StatusListOptions {
  /** The status issuer's public key. */
  issuerKey: Jwk;
  /** The verifier's clock, Unix seconds. */
  now: number;
}

/** A refusal: code is the Rust error variant (e.g. "NonceMismatch", "Did.InvalidSignature"). */
export interface SchooltasError extends Error { name: "SchooltasError"; code: string }
"#;

/// The JS `Error` for a refusal: `name` `SchooltasError`, `code` the variant, `message` the
/// Rust message (free of claim values and secrets).
fn js_error(error: &Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name("SchooltasError");
    // Setting a property on a fresh Error object cannot fail; if it did, the message remains.
    let _ = Reflect::set(&js, &JsValue::from_str("code"), &JsValue::from_str(&error.code()));
    js.into()
}

/// A JS value as JSON (through `JSON.stringify`), in a buffer zeroized when dropped.
fn to_json_text(value: &JsValue, name: &'static str) -> Result<Zeroizing<String>, Error> {
    JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .map(Zeroizing::new)
        .ok_or(Error::InvalidOption { name, reason: "must be a JSON-serializable object" })
}

fn to_json(value: &JsValue, name: &'static str) -> Result<Value, Error> {
    let text = to_json_text(value, name)?;
    serde_json::from_str(&text).map_err(|_| Error::InvalidOption { name, reason: "must be a JSON-serializable object" })
}

fn from_json(value: &Value) -> JsValue {
    // serde_json always writes valid JSON, which JSON.parse reads.
    JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

fn member(object: &JsValue, name: &'static str) -> Result<JsValue, Error> {
    Reflect::get(object, &JsValue::from_str(name))
        .map_err(|_| Error::InvalidOption { name: "options", reason: "must be an object" })
}

fn public_key(jwk: &JsValue, name: &'static str) -> Result<VerifyingKey, Error> {
    match to_json(jwk, name)? {
        Value::Object(jwk) => Ok(VerifyingKey::from_jwk(&jwk)?),
        _ => Err(Error::InvalidOption { name, reason: "must be a public JWK" }),
    }
}

/// Verifies a compact SD-JWT VC presentation with its key-binding JWT (see
/// [`crate::verify_presentation`]). Throws a `SchooltasError` on refusal.
#[wasm_bindgen(js_name = verifyPresentation, unchecked_return_type = "VerifiedPresentation")]
pub fn verify_presentation(
    presentation: &str,
    #[wasm_bindgen(unchecked_param_type = "VerifyPresentationOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let run = || -> Result<Value, Error> {
        let request = verify::VerifyRequest::from_json(&to_json(&options, "options")?)?;
        verify::verify_presentation(presentation, &request)
    };
    run().map(|verified| from_json(&verified)).map_err(|error| js_error(&error))
}

/// A credential the holder keeps: parse it once, present from it many times.
#[wasm_bindgen(js_name = HeldCredential)]
pub struct HeldCredential {
    inner: present::HeldCredential,
}

#[wasm_bindgen(js_class = HeldCredential)]
impl HeldCredential {
    /// Parses a credential as issued (`<jwt>~<disclosure>~…~`).
    pub fn parse(issued: &str) -> Result<HeldCredential, JsValue> {
        present::HeldCredential::parse(issued).map(|inner| HeldCredential { inner }).map_err(|error| js_error(&error))
    }

    /// Presents the named claims with a key-binding JWT signed by `holderKey`.
    pub fn present(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PresentOptions")] options: JsValue,
    ) -> Result<String, JsValue> {
        let run = || -> Result<String, Error> {
            let request = present::PresentRequest::from_json(&to_json(&without_holder_key(&options)?, "options")?)?;
            let jwk = member(&options, "holderKey")?;
            if jwk.is_undefined() || jwk.is_null() {
                return Err(Error::InvalidOption { name: "holderKey", reason: "is required" });
            }
            let holder_key = SigningKey::from_jwk_json(&to_json_text(&jwk, "holderKey")?)?;
            self.inner.present(&request, &holder_key)
        };
        run().map_err(|error| js_error(&error))
    }
}

/// A shallow copy of the options without `holderKey`, so that the private key is read only
/// into a zeroized buffer.
fn without_holder_key(options: &JsValue) -> Result<JsValue, Error> {
    if !options.is_object() {
        return Err(Error::InvalidOption { name: "options", reason: "must be an object" });
    }
    let copy = js_sys::Object::assign(&js_sys::Object::new(), &js_sys::Object::from(options.clone()));
    let _ = Reflect::delete_property(&copy, &JsValue::from_str("holderKey"));
    Ok(copy.into())
}

/// A Token Status List whose signed token verified.
#[wasm_bindgen(js_name = StatusList)]
pub struct StatusList {
    inner: status::VerifiedStatusList,
}

#[wasm_bindgen(js_class = StatusList)]
impl StatusList {
    /// Verifies a `statuslist+jwt` token against `issuerKey` at `now`.
    pub fn verify(
        token: &str,
        #[wasm_bindgen(unchecked_param_type = "StatusListOptions")] options: JsValue,
    ) -> Result<StatusList, JsValue> {
        let run = || -> Result<StatusList, Error> {
            let key = public_key(&member(&options, "issuerKey")?, "issuerKey")?;
            let now = member(&options, "now")?.as_f64().filter(|now| now.fract() == 0.0 && now.abs() < 9.0e15).ok_or(
                Error::InvalidOption { name: "now", reason: "must be an integer number of seconds (Unix time)" },
            )?;
            #[allow(clippy::cast_possible_truncation)] // integral and within ±2^53, checked above
            let now = now as i64;
            Ok(StatusList { inner: status::VerifiedStatusList::verify(token, &key, now)? })
        };
        run().map_err(|error| js_error(&error))
    }

    /// The status value at `index` (0 valid, 1 invalid, 2 suspended).
    pub fn status(&self, index: u32) -> Result<u8, JsValue> {
        self.inner.status(u64::from(index)).map_err(|error| js_error(&error))
    }

    /// The list's URI (the token's `sub`).
    #[wasm_bindgen(getter)]
    pub fn subject(&self) -> String {
        self.inner.subject().to_owned()
    }

    /// How many entries the list has.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }
}
