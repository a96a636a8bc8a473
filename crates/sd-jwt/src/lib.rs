//! # schooltas-sd-jwt
//!
//! SD-JWT (RFC 9901) with key binding, and the SD-JWT VC rules on top of it: issue, present,
//! verify, in the compact and the JSON serialization. Built on `schooltas-did` for keys, JWS
//! and DIDs; a credential's `status` claim is read as a `schooltas-status-list` reference. It
//! knows nothing of schools: any issuer and verifier can use it.
//!
//! - [`SdJwtBuilder`] conceals chosen claims behind salted digests and signs (issuer);
//! - [`HolderSdJwt`] selects claims by [`ClaimPath`] and adds a key-binding JWT (holder);
//! - [`UnverifiedSdJwt`] → [`VerifiedSdJwt`] runs the whole of RFC 9901 §7 (verifier);
//! - [`Vct`], [`NEVER_DISCLOSABLE`], [`issuer_key_via_did`]: the SD-JWT VC rules;
//! - [`JsonSdJwt`]: the JSON serialization (RFC 9901 §8).
//!
//! The whole life of a credential — an issuer issues, a holder presents three of ten claims to
//! a verifier, the verifier checks:
//!
//! ```
//! use schooltas_sd_jwt::{
//!     ClaimPath,
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
//! # Ok::<(), schooltas_sd_jwt::Error>(())
//! ```
#![forbid(unsafe_code)]

mod disclosure;
mod error;
mod issue;
mod json;
mod path;
mod present;
pub mod type_metadata;
mod vc;
mod verify;

pub use disclosure::Disclosure;
pub use error::{Error, Result};
pub use issue::{FixedSalts, IssuedSdJwt, RandomSalts, SaltSource, SdJwtBuilder};
pub use json::{JsonSdJwt, MAX_SIGNATURES, parse_json_serialization};
pub use path::{ClaimPath, PathElement};
pub use present::{HolderSdJwt, KeyBindingInput, key_binding_jwt, key_binding_jwt_with_claims};
pub use vc::{
    IssuerMetadataKeys, NEVER_DISCLOSABLE, Vct, issuer_key_via_did, issuer_metadata_keys, jwt_vc_issuer_metadata_url,
    key_from_jwk_set,
};
pub use verify::{
    KeyBinding, KeyBindingClaims, KeyBindingPolicy, Limits, TypPolicy, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions,
};
