//! # Schooltas
//!
//! A child carries their own school data in their own wallet; a parent decides for a child
//! under 16; a school or app sees only what it asked for, after an explicit yes.
//!
//! This facade re-exports the Schooltas crates, one module per crate and one Cargo feature per
//! role. The four below `school` are generic (any SD-JWT VC issuer, wallet or verifier can use
//! them); `school` is the Schooltas profile on top:
//!
//! | module | crate | feature | what it is for |
//! |---|---|---|---|
//! | [`did`] | `schooltas-did` | always | keys, signers, JWS, did:key / did:jwk / did:web, strict JSON |
//! | [`status_list`] | `schooltas-status-list` | always | Token Status List: lists, tokens, the verifier's cache |
//! | [`sd_jwt`] | `schooltas-sd-jwt` | always | SD-JWT (RFC 9901) and SD-JWT VC: issue, present, verify |
//! | [`oid4vc`] | `schooltas-oid4vc` | always | OpenID4VCI and OpenID4VP messages, DCQL, key proofs |
//! | [`school`] | `schooltas-school` | always | catalog, guardian approval, trust lists, the `schooltas` request extension |
//! | [`x509`] | `schooltas-x509` | always | X.509 for the EU profile: the trust-list operator's CA, `x5c` chains validated to trust anchors |
//! | `issuer` | `schooltas-issuer` | `issuer` | a school issuing and revoking credentials |
//! | `wallet` | `schooltas-wallet` | `wallet` | the child's and the parent's wallet |
//! | `verifier` | `schooltas-verifier` | `verifier` | asking for and checking presentations |
//!
//! A school server enables `issuer` and `verifier`; a phone app enables `wallet`:
//!
//! ```toml
//! schooltas = { version = "0.1", default-features = false, features = ["wallet"] }
//! ```
//!
//! ```
//! use schooltas::did::{Algorithm, PublicKey, Signer, SigningKey, did_key};
//! let key = SigningKey::generate(Algorithm::EdDsa)?;
//! let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
//! assert!(did.as_str().starts_with("did:key:z6Mk"));
//! # Ok::<(), schooltas::did::Error>(())
//! ```
#![forbid(unsafe_code)]

pub use schooltas_did as did;
#[cfg(feature = "issuer")]
pub use schooltas_issuer as issuer;
pub use schooltas_oid4vc as oid4vc;
pub use schooltas_school as school;
pub use schooltas_sd_jwt as sd_jwt;
pub use schooltas_status_list as status_list;
#[cfg(feature = "verifier")]
pub use schooltas_verifier as verifier;
#[cfg(feature = "wallet")]
pub use schooltas_wallet as wallet;
pub use schooltas_x509 as x509;

/// The README's code blocks, compiled and run as doc tests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
