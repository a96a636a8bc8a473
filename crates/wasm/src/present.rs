//! Presenting from a held credential (what `HeldCredential.present` runs): the claims at the
//! given paths and a key-binding JWT to the verifier's nonce and audience.

use schooltas_did::SigningKey;
use schooltas_sd_jwt::{ClaimPath, HolderSdJwt, KeyBindingInput};
use serde_json::Value;

use crate::options::Options;
use crate::{Error, Result};

/// A credential as the holder keeps it: parsed once, presented from many times.
#[derive(Clone)]
pub struct HeldCredential {
    held: HolderSdJwt,
}

impl std::fmt::Debug for HeldCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The claims are the child's data: never printed.
        f.debug_struct("HeldCredential").finish_non_exhaustive()
    }
}

/// What a presentation binds to, besides the claims (the `present` options without the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresentRequest {
    /// The claims to disclose, as DCQL claims paths.
    pub claims: Vec<ClaimPath>,
    /// The key-binding JWT's nonce, audience and time.
    pub key_binding: KeyBindingInput,
}

impl PresentRequest {
    /// Reads `{ claims, audience, nonce, now }` from the options object (as JSON; the holder's
    /// key is read separately, so that it never sits in a plain JSON value).
    pub fn from_json(options: &Value) -> Result<Self> {
        let options = Options::new(options)?;
        let claims =
            options.list("claims")?.iter().map(ClaimPath::from_json).collect::<schooltas_sd_jwt::Result<Vec<_>>>()?;
        if claims.is_empty() && options.get("claims").is_none() {
            return Err(Error::InvalidOption {
                name: "claims",
                reason: "is required (an empty array discloses nothing)",
            });
        }
        Ok(PresentRequest {
            claims,
            key_binding: KeyBindingInput {
                nonce: options.string("nonce")?,
                audience: options.string("audience")?,
                issued_at: options.integer("now")?,
            },
        })
    }
}

impl HeldCredential {
    /// Parses a credential as issued (`<jwt>~<disclosure>~…~`). Its signature is not checked
    /// here: a wallet verifies a credential when it receives it.
    pub fn parse(issued: &str) -> Result<Self> {
        Ok(HeldCredential { held: HolderSdJwt::parse(issued)? })
    }

    /// Presents the claims `request` names, bound with `holder_key` to its nonce and audience.
    pub fn present(&self, request: &PresentRequest, holder_key: &SigningKey) -> Result<String> {
        Ok(self.held.present(&request.claims, Some((holder_key, &request.key_binding)))?)
    }
}
