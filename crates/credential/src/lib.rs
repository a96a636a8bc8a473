//! # schooltas-credential
//!
//! The credential format every Schooltas party speaks: SD-JWT (RFC 9901) with key binding,
//! SD-JWT VC, and the IETF Token Status List. Built on `schooltas-did` for keys, JWS and DIDs.
//!
//! The whole life of a credential — a school issues, a child presents three of ten claims to a
//! photographer, the photographer verifies:
//!
//! ```
//! use schooltas_sd_jwt::ClaimPath;
//! use schooltas_sd_jwt::{
//!     HolderSdJwt, KeyBinding, KeyBindingInput, RandomSalts, SdJwtBuilder, UnverifiedSdJwt, VerifyOptions,
//! };
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//! use serde_json::json;
//!
//! let now = 1_800_000_000;
//! let school = SigningKey::generate(Algorithm::EdDsa)?;
//! let child = SigningKey::generate(Algorithm::EdDsa)?;
//!
//! // Issue: every personal claim selectively disclosable, bound to the child's key.
//! let claims = json!({
//!     "iss": "did:web:basisschool.example", "vct": "https://schooltas.example/credentials/enrolment",
//!     "iat": now - 60, "exp": now + 86_400,
//!     "given_name": "Sanne", "birth_date": "2014-03-01", "age_over_12": true, "group": "7B",
//! });
//! let mut builder = SdJwtBuilder::new(claims.as_object().cloned().unwrap_or_default());
//! for name in ["given_name", "birth_date", "age_over_12", "group"] {
//!     builder = builder.disclosable(ClaimPath::claim(name));
//! }
//! let issued = builder.holder_key(child.verifying_key()).issue(&school, &mut RandomSalts)?.to_string();
//!
//! // Present: only the group and the age predicate, bound to the verifier's nonce.
//! let kb = KeyBindingInput { nonce: "n-81f2".into(), audience: "https://photo.example".into(), issued_at: now };
//! let wanted = [ClaimPath::claim("group"), ClaimPath::claim("age_over_12")];
//! let presentation = HolderSdJwt::parse(&issued)?.present(&wanted, Some((&child, &kb)))?;
//!
//! // Verify: signatures, disclosures, key binding, validity period.
//! let options = VerifyOptions::sd_jwt_vc(KeyBinding::new("n-81f2", "https://photo.example"));
//! let verified = UnverifiedSdJwt::parse(&presentation)?.verify(school.verifying_key(), &options, now)?;
//! assert_eq!(verified.claims()["group"], "7B");
//! assert!(verified.claims().get("birth_date").is_none()); // never left the wallet
//! # Ok::<(), schooltas_credential::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod catalog;
pub mod consent;
pub mod date;
mod error;
pub mod extension;
pub use schooltas_sd_jwt as sd_jwt;
pub use schooltas_status_list as status_list;
pub mod trust_list;

pub use error::{Error, Result};
pub use extension::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
pub use schooltas_sd_jwt::ClaimPath;

/// Text the sender chose (an identifier, a purpose code) in an error: bounded, never more.
pub(crate) fn truncate(text: &str) -> String {
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
