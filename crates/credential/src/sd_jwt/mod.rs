//! SD-JWT (RFC 9901) and SD-JWT VC: issue, present, verify.
//!
//! - [`SdJwtBuilder`] conceals chosen claims behind salted digests and signs (issuer);
//! - [`HolderSdJwt`] selects claims by path and adds a key-binding JWT (holder);
//! - [`UnverifiedSdJwt`] → [`VerifiedSdJwt`] runs the whole of RFC 9901 §7 (verifier).

mod disclosure;
mod issue;
mod json;
mod path;
mod present;
mod vc;
mod verify;

pub use disclosure::Disclosure;
pub use issue::{FixedSalts, IssuedSdJwt, RandomSalts, SaltSource, SdJwtBuilder};
pub use json::{JsonSdJwt, MAX_SIGNATURES, parse_json_serialization};
pub use path::{ClaimPath, PathElement};
pub use present::{HolderSdJwt, KeyBindingInput, key_binding_jwt, key_binding_jwt_with_claims};
pub use vc::{NEVER_DISCLOSABLE, Vct, issuer_key_via_did};
pub use verify::{
    KeyBinding, KeyBindingClaims, KeyBindingPolicy, Limits, TypPolicy, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions,
};
