//! # schooltas-wasm
//!
//! Schooltas' verifier core and the holder's presentation, compiled to `wasm32-unknown-unknown`
//! for browsers and Node as one ES module with TypeScript types (`crates/wasm/build.sh`):
//!
//! - `verifyPresentation(presentation, options)`: SD-JWT VC with key binding, the issuer's key
//!   from `issuerKeys`, `trustedDids` (did:key, did:jwk; no HTTPS) or an `x5c` chain to
//!   `trustAnchors`, and the credential's status entry in the given `statusLists`;
//! - `HeldCredential.parse(issued).present(options)`: present chosen claims with a key-binding JWT;
//! - `StatusList.verify(token, options).status(index)`: read a Token Status List.
//!
//! A refusal is a JS `Error` whose `code` names the Rust variant ([`Error::code`]), the same
//! one the Rust API gives. The Rust side of each export is public and tested natively:
//!
//! ```
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//! use schooltas_sd_jwt::{ClaimPath, RandomSalts, SdJwtBuilder};
//! use schooltas_wasm::{HeldCredential, PresentRequest, VerifyRequest, verify_presentation};
//! use serde_json::json;
//!
//! let school = SigningKey::generate(Algorithm::EdDsa)?;
//! let child = SigningKey::generate(Algorithm::EdDsa)?;
//! let claims = json!({"iss": "https://school.example", "vct": "https://schooltas.example/enrolment", "group": "7B"});
//! let issued = SdJwtBuilder::new(claims.as_object().cloned().unwrap_or_default())
//!     .disclosable(ClaimPath::claim("group"))
//!     .holder_key(child.verifying_key())
//!     .issue(&school, &mut RandomSalts)?
//!     .to_string();
//!
//! let now = 1_800_000_000;
//! let ask = json!({"claims": [["group"]], "audience": "https://photo.example", "nonce": "n-1", "now": now});
//! let presentation = HeldCredential::parse(&issued)?.present(&PresentRequest::from_json(&ask)?, &child)?;
//!
//! let trust = json!({"issuerKeys": [school.verifying_key().to_jwk()], "audience": "https://photo.example", "nonce": "n-1", "now": now});
//! let verified = verify_presentation(&presentation, &VerifyRequest::from_json(&trust)?)?;
//! assert_eq!(verified["claims"]["group"], "7B");
//!
//! let wrong_nonce = json!({"issuerKeys": [school.verifying_key().to_jwk()], "audience": "https://photo.example", "nonce": "n-2", "now": now});
//! let refusal = verify_presentation(&presentation, &VerifyRequest::from_json(&wrong_nonce)?).unwrap_err();
//! assert_eq!(refusal.code(), "NonceMismatch");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod error;
pub mod js;
mod options;
mod present;
mod status;
mod verify;

pub use error::{Error, Result, sd_jwt_code};
pub use present::{HeldCredential, PresentRequest};
pub use status::VerifiedStatusList;
pub use verify::{VerifyRequest, verify_presentation};
