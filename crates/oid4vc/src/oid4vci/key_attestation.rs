//! Key attestations (OpenID4VCI 1.0 Appendix D, HAIP 1.0 §4.5.1): a JWT by which a wallet
//! provider (or the key store itself) vouches that holder keys live in a key store of a stated
//! attack resistance. A wallet sends one in the `key_attestation` header of a `jwt` proof, or
//! alone as the `attestation` proof type; an issuer whose policy asks for them checks the
//! signature with the provider's key, the freshness (`nonce` = its `c_nonce`, `exp`), the
//! levels, and that every key it binds a credential to is attested.
//!
//! ```
//! use schooltas_did::jws::Header;
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//! use schooltas_oid4vc::oid4vci::key_attestation::{KeyAttestation, KeyAttestationPolicy, UnverifiedKeyAttestation};
//! let provider = SigningKey::generate(Algorithm::Es256)?;
//! let holder = SigningKey::generate(Algorithm::Es256)?;
//! let jwt = KeyAttestation::new(vec![holder.verifying_key().clone()], 1_800_000_000)
//!     .expires_at(1_800_086_400)
//!     .key_storage(["iso_18045_high"])
//!     .nonce("c-nonce-1")
//!     .sign(&provider, Header::new().with_kid("provider-1"))?;
//! let policy = KeyAttestationPolicy::new().key_storage(["iso_18045_high"]).nonce("c-nonce-1");
//! let attestation = UnverifiedKeyAttestation::parse(&jwt)?.verify(provider.verifying_key(), &policy, 1_800_000_010)?;
//! assert_eq!(attestation.attested_keys, [holder.verifying_key().clone()]);
//! # Ok::<(), schooltas_oid4vc::Error>(())
//! ```

use serde_json::{Map, Value};

use schooltas_did::jws::{CompactJws, Header, sign_compact_json};
use schooltas_did::{Signer, VerifyingKey};

use super::Oid4vciError;

/// The JOSE `typ` of a key attestation.
pub const KEY_ATTESTATION_TYP: &str = "key-attestation+jwt";

/// The longest key attestation accepted (an `x5c` chain makes them a few KiB).
pub const MAX_KEY_ATTESTATION_LEN: usize = 16 << 10;

/// The most keys one attestation may attest.
pub const MAX_ATTESTED_KEYS: usize = 64;

fn refuse(reason: impl Into<String>) -> crate::Error {
    Oid4vciError::InvalidProof(format!("key attestation: {}", reason.into())).into()
}

/// A key attestation's claims (Appendix D.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAttestation {
    /// `iss`: who attests (the wallet provider), when stated.
    pub issuer: Option<String>,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`: when the attestation and its keys expire (required with the `jwt` proof type).
    pub expires_at: Option<i64>,
    /// `attested_keys`: the keys, all in one key store.
    pub attested_keys: Vec<VerifyingKey>,
    /// `key_storage`: the key store's attack potential resistance (`iso_18045_high`, …).
    pub key_storage: Vec<String>,
    /// `user_authentication`: the resistance of the user authentication guarding the keys.
    pub user_authentication: Vec<String>,
    /// `certification`: a URL of the key store's certification.
    pub certification: Option<String>,
    /// `nonce`: the issuer's `c_nonce`, proving freshness.
    pub nonce: Option<String>,
}

impl KeyAttestation {
    /// An attestation of `keys`, issued at `issued_at`.
    pub fn new(keys: Vec<VerifyingKey>, issued_at: i64) -> Self {
        KeyAttestation {
            issuer: None,
            issued_at,
            expires_at: None,
            attested_keys: keys,
            key_storage: Vec::new(),
            user_authentication: Vec::new(),
            certification: None,
            nonce: None,
        }
    }

    /// Sets `exp`.
    pub fn expires_at(mut self, exp: i64) -> Self {
        self.expires_at = Some(exp);
        self
    }

    /// Sets `iss`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets `key_storage`.
    pub fn key_storage<S: Into<String>>(mut self, levels: impl IntoIterator<Item = S>) -> Self {
        self.key_storage = levels.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `user_authentication`.
    pub fn user_authentication<S: Into<String>>(mut self, levels: impl IntoIterator<Item = S>) -> Self {
        self.user_authentication = levels.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `nonce`.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// Signs it with `typ: key-attestation+jwt` and the members of `header` (`x5c` or `kid`
    /// naming the provider's key).
    pub fn sign(&self, signer: &(impl Signer + ?Sized), header: Header) -> crate::Result<String> {
        let mut claims = Map::new();
        if let Some(issuer) = &self.issuer {
            claims.insert("iss".into(), Value::String(issuer.clone()));
        }
        claims.insert("iat".into(), Value::from(self.issued_at));
        if let Some(exp) = self.expires_at {
            claims.insert("exp".into(), Value::from(exp));
        }
        claims.insert(
            "attested_keys".into(),
            Value::Array(self.attested_keys.iter().map(|key| Value::Object(key.to_jwk())).collect()),
        );
        let strings = |values: &[String]| Value::Array(values.iter().cloned().map(Value::String).collect());
        if !self.key_storage.is_empty() {
            claims.insert("key_storage".into(), strings(&self.key_storage));
        }
        if !self.user_authentication.is_empty() {
            claims.insert("user_authentication".into(), strings(&self.user_authentication));
        }
        if let Some(certification) = &self.certification {
            claims.insert("certification".into(), Value::String(certification.clone()));
        }
        if let Some(nonce) = &self.nonce {
            claims.insert("nonce".into(), Value::String(nonce.clone()));
        }
        Ok(sign_compact_json(&header.with_typ(KEY_ATTESTATION_TYP), &claims, signer)?)
    }
}

/// What an issuer requires of a key attestation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyAttestationPolicy {
    /// `key_storage` must contain one of these (empty: any, or none).
    pub key_storage: Vec<String>,
    /// `user_authentication` must contain one of these (empty: any, or none).
    pub user_authentication: Vec<String>,
    /// The `nonce` it must carry (the issuer's `c_nonce`), when the issuer has a nonce endpoint.
    pub nonce: Option<String>,
    /// Whether `exp` must be present (the `jwt` proof type requires it).
    pub require_exp: bool,
    /// Seconds of clock difference tolerated.
    pub clock_skew: i64,
}

impl KeyAttestationPolicy {
    /// Any levels, no nonce, `exp` required, 60 s skew.
    pub fn new() -> Self {
        KeyAttestationPolicy { require_exp: true, clock_skew: 60, ..KeyAttestationPolicy::default() }
    }

    /// Requires one of these `key_storage` levels.
    pub fn key_storage<S: Into<String>>(mut self, levels: impl IntoIterator<Item = S>) -> Self {
        self.key_storage = levels.into_iter().map(Into::into).collect();
        self
    }

    /// Requires one of these `user_authentication` levels.
    pub fn user_authentication<S: Into<String>>(mut self, levels: impl IntoIterator<Item = S>) -> Self {
        self.user_authentication = levels.into_iter().map(Into::into).collect();
        self
    }

    /// Requires this `nonce`.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }
}

/// A key attestation parsed, nothing trusted yet: the header tells the issuer how to find the
/// provider's key (`x5c`, `kid`); the attested keys may be read to find which one a `jwt`
/// proof names, but nothing else until [`UnverifiedKeyAttestation::verify`].
pub struct UnverifiedKeyAttestation<'a> {
    jws: CompactJws<'a>,
    claims: Map<String, Value>,
    keys: Vec<VerifyingKey>,
}

impl std::fmt::Debug for UnverifiedKeyAttestation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnverifiedKeyAttestation").field("attested_keys", &self.keys.len()).finish_non_exhaustive()
    }
}

impl<'a> UnverifiedKeyAttestation<'a> {
    /// Parses a key attestation: at most [`MAX_KEY_ATTESTATION_LEN`] bytes, `typ` exactly
    /// `key-attestation+jwt`, a strict JSON payload with 1 to [`MAX_ATTESTED_KEYS`] public keys
    /// (a private member refuses it).
    pub fn parse(jwt: &'a str) -> crate::Result<Self> {
        let jws = CompactJws::parse_with_limit(jwt, MAX_KEY_ATTESTATION_LEN).map_err(|e| refuse(e.to_string()))?;
        if jws.header().typ() != Some(KEY_ATTESTATION_TYP) {
            return Err(refuse(format!("typ must be {KEY_ATTESTATION_TYP}")));
        }
        let payload = jws.dangerous_unverified_payload().map_err(|e| refuse(e.to_string()))?;
        let Ok(Value::Object(claims)) = schooltas_did::strict_json::to_value(&payload) else {
            return Err(refuse("the payload is not a strict JSON object"));
        };
        let Some(Value::Array(keys)) = claims.get("attested_keys") else {
            return Err(refuse("attested_keys is missing or not an array"));
        };
        if keys.is_empty() || keys.len() > MAX_ATTESTED_KEYS {
            return Err(refuse(format!("attested_keys holds 1 to {MAX_ATTESTED_KEYS} keys")));
        }
        let keys = keys
            .iter()
            .map(|jwk| {
                let jwk = jwk.as_object().ok_or_else(|| refuse("an attested key is not a JWK object"))?;
                if jwk.contains_key("d") {
                    return Err(refuse("an attested key holds a private key"));
                }
                VerifyingKey::from_jwk(jwk).map_err(|e| refuse(format!("an attested key: {e}")))
            })
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(UnverifiedKeyAttestation { jws, claims, keys })
    }

    /// The protected header (how the provider's key is found).
    pub fn header(&self) -> &Header {
        self.jws.header()
    }

    /// The attested keys, **not yet verified**: only to find the key a `jwt` proof names.
    pub fn unverified_attested_keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// Verifies the signature with the provider's `key` (its algorithm pinned to the key),
    /// then `iat` not in the future, `exp` (required by `policy.require_exp`) not passed, the
    /// `nonce` `policy` names, and the levels `policy` asks for.
    pub fn verify(self, key: &VerifyingKey, policy: &KeyAttestationPolicy, now: i64) -> crate::Result<KeyAttestation> {
        self.jws.verify(key).map_err(|e| refuse(e.to_string()))?;
        let claims = &self.claims;
        let number = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(value) => value.as_i64().map(Some).ok_or_else(|| refuse(format!("{name} is not a number"))),
        };
        let issued_at = number("iat")?.ok_or_else(|| refuse("iat is missing"))?;
        if issued_at > now.saturating_add(policy.clock_skew) {
            return Err(refuse("iat is in the future"));
        }
        let expires_at = number("exp")?;
        match expires_at {
            None if policy.require_exp => return Err(refuse("exp is missing; it is required with a jwt proof")),
            Some(exp) if exp <= now.saturating_sub(policy.clock_skew) => {
                return Err(refuse("it has expired, and with it the keys it attests"));
            }
            _ => {}
        }
        let text = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(refuse(format!("{name} is not a string"))),
        };
        let strings = |name: &str| -> crate::Result<Vec<String>> {
            match claims.get(name) {
                None => Ok(Vec::new()),
                Some(Value::Array(values)) if !values.is_empty() => values
                    .iter()
                    .map(|value| {
                        value.as_str().map(str::to_owned).ok_or_else(|| refuse(format!("{name} holds a non-string")))
                    })
                    .collect(),
                Some(_) => Err(refuse(format!("{name} is not a non-empty array of strings"))),
            }
        };
        let nonce = text("nonce")?;
        if let Some(expected) = &policy.nonce
            && nonce.as_ref() != Some(expected)
        {
            return Err(refuse("its nonce is not this issuer's c_nonce: make a fresh one"));
        }
        let key_storage = strings("key_storage")?;
        if !policy.key_storage.is_empty() && !key_storage.iter().any(|level| policy.key_storage.contains(level)) {
            return Err(refuse(format!(
                "the key storage is not of a level this issuer accepts ({})",
                policy.key_storage.join(", ")
            )));
        }
        let user_authentication = strings("user_authentication")?;
        if !policy.user_authentication.is_empty()
            && !user_authentication.iter().any(|level| policy.user_authentication.contains(level))
        {
            return Err(refuse(format!(
                "the user authentication is not of a level this issuer accepts ({})",
                policy.user_authentication.join(", ")
            )));
        }
        Ok(KeyAttestation {
            issuer: text("iss")?,
            issued_at,
            expires_at,
            attested_keys: self.keys,
            key_storage,
            user_authentication,
            certification: text("certification")?,
            nonce,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use schooltas_did::{Algorithm, SigningKey};

    const NOW: i64 = 1_800_000_000;

    fn reason(result: crate::Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(crate::Error::Oid4vci(Oid4vciError::InvalidProof(reason))) => reason,
            other => format!("unexpected: {other:?}"),
        }
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        let provider = SigningKey::generate(Algorithm::Es256).unwrap();
        let holder = SigningKey::generate(Algorithm::Es256).unwrap();
        let keys = vec![holder.verifying_key().clone()];
        let policy = KeyAttestationPolicy::new();
        let verify = |jwt: &str, policy: &KeyAttestationPolicy| {
            UnverifiedKeyAttestation::parse(jwt).and_then(|ka| ka.verify(provider.verifying_key(), policy, NOW))
        };
        // Without exp, with the jwt proof type.
        let jwt = KeyAttestation::new(keys.clone(), NOW).sign(&provider, Header::new()).unwrap();
        assert!(reason(verify(&jwt, &policy)).contains("exp is missing"));
        let mut lenient = policy.clone();
        lenient.require_exp = false;
        assert!(verify(&jwt, &lenient).is_ok());
        // Expired; issued in the future.
        let jwt =
            KeyAttestation::new(keys.clone(), NOW - 100).expires_at(NOW - 61).sign(&provider, Header::new()).unwrap();
        assert!(reason(verify(&jwt, &policy)).contains("expired"));
        let jwt =
            KeyAttestation::new(keys.clone(), NOW + 61).expires_at(NOW + 600).sign(&provider, Header::new()).unwrap();
        assert!(reason(verify(&jwt, &policy)).contains("future"));
        // User authentication below what is asked.
        let jwt = KeyAttestation::new(keys.clone(), NOW)
            .expires_at(NOW + 600)
            .user_authentication(["iso_18045_basic"])
            .sign(&provider, Header::new())
            .unwrap();
        assert!(
            reason(verify(&jwt, &policy.clone().user_authentication(["iso_18045_high"])))
                .contains("user authentication")
        );
        // Another typ; an attested key with its private part; no keys.
        let jwt = schooltas_did::jws::sign_compact(&Header::new().with_typ("jwt"), br#"{"iat":1}"#, &provider).unwrap();
        assert!(reason(UnverifiedKeyAttestation::parse(&jwt)).contains("typ must be"));
        let mut private = holder.verifying_key().to_jwk();
        private.insert("d".into(), Value::String("AAAA".into()));
        let payload = serde_json::json!({"iat": NOW, "exp": NOW + 60, "attested_keys": [private]}).to_string();
        let jwt = schooltas_did::jws::sign_compact(
            &Header::new().with_typ(KEY_ATTESTATION_TYP),
            payload.as_bytes(),
            &provider,
        )
        .unwrap();
        assert!(reason(UnverifiedKeyAttestation::parse(&jwt)).contains("private key"));
        let payload = serde_json::json!({"iat": NOW, "exp": NOW + 60, "attested_keys": []}).to_string();
        let jwt = schooltas_did::jws::sign_compact(
            &Header::new().with_typ(KEY_ATTESTATION_TYP),
            payload.as_bytes(),
            &provider,
        )
        .unwrap();
        assert!(reason(UnverifiedKeyAttestation::parse(&jwt)).contains("1 to 64 keys"));
        // A member twice: strict JSON.
        let payload = format!(
            r#"{{"iat":{NOW},"exp":{},"attested_keys":[],"attested_keys":[{}]}}"#,
            NOW + 60,
            serde_json::Value::Object(holder.verifying_key().to_jwk())
        );
        let jwt = schooltas_did::jws::sign_compact(
            &Header::new().with_typ(KEY_ATTESTATION_TYP),
            payload.as_bytes(),
            &provider,
        )
        .unwrap();
        assert!(reason(UnverifiedKeyAttestation::parse(&jwt)).contains("strict JSON"));
    }
}
