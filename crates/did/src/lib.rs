//! # schooltas-did
//!
//! The lowest layer of Schooltas: keys, signers, JWS, and the three DID methods a school wallet
//! needs.
//!
//! - **Keys**: Ed25519 ([`Algorithm::EdDsa`]) and P-256 ([`Algorithm::Es256`]); generate, import
//!   and export as JWK (RFC 7517, RFC 8037), JWK thumbprints (RFC 7638). Secret material is
//!   wiped on drop and never printed.
//! - **[`Signer`]**: a synchronous trait, so a secure enclave or HSM can stand in for
//!   [`SigningKey`].
//! - **[`jws`]**: compact serialization (RFC 7515). The algorithm is pinned to the key; `none`,
//!   HMAC, unknown algorithms, unknown `crit` entries and `b64: false` are refused, each with its
//!   own [`Error`] variant.
//! - **[`net`]**: the guarded HTTPS client behind every fetch: internal addresses are refused
//!   after DNS resolution, and only the vetted address is dialled.
//! - **[`strict_json`]**: the one JSON parser for outside input: duplicate member names,
//!   integers beyond 64 bits and deep nesting are refused, each with its own error.
//! - **DIDs**: [`did_key`], [`did_jwk`] (offline) and [`did_web`] (through a
//!   [`did_web::DocumentFetcher`]), and a [`Resolver`] that turns a DID URL into a key.
//!
//! ## Cargo features
//!
//! - **`https`** (default): the HTTP client (ureq with rustls on ring) behind
//!   [`net::GuardedClient`] and [`did_web::HttpsFetcher`]. A verifier that resolves only did:key
//!   and did:jwk, or brings its own [`did_web::DocumentFetcher`], can turn it off
//!   (`default-features = false`) and build without ureq, rustls and webpki-roots. The types
//!   stay, so callers compile the same; every fetch then fails with [`Error::HttpsNotBuilt`]
//!   ([`net::NetError::HttpsNotBuilt`] from the client), before anything is resolved or sent.
//! - **`ring`** (part of `https`): ES256 signatures are verified with `ring`, about 4× faster
//!   than with `p256`, which verifies them in a build without it. Both backends give the same
//!   answer on every signature; only the speed and six crates differ (decision 0002).
//!
//! ```
//! use schooltas_did::{Algorithm, DidUrl, PublicKey, Resolver, Signer, SigningKey, VerificationRelationship, did_key, jws};
//!
//! // A school generates its key and publishes the did:key.
//! let school_key = SigningKey::generate(Algorithm::EdDsa)?;
//! let did = did_key::did_for(&PublicKey::Verifying(school_key.verifying_key().clone()));
//! let kid = format!("{did}#{}", did.method_specific_id());
//!
//! // It signs a JWS naming that key.
//! let header = jws::Header::new().with_typ("example+jwt").with_kid(kid.as_str());
//! let token = jws::sign_compact(&header, br#"{"hello":"school"}"#, &school_key)?;
//!
//! // A verifier resolves the kid to a key and checks the signature.
//! let parsed = jws::CompactJws::parse(&token)?;
//! let kid = DidUrl::parse(parsed.header().kid().unwrap_or_default())?;
//! let key = Resolver::offline().verifying_key(&kid, VerificationRelationship::AssertionMethod, parsed.algorithm())?;
//! let verified = parsed.verify(&key)?;
//! assert_eq!(verified.payload(), br#"{"hello":"school"}"#);
//! # Ok::<(), schooltas_did::Error>(())
//! ```
#![forbid(unsafe_code)]

mod algorithm;
pub mod base64url;
mod did;
pub mod did_jwk;
pub mod did_key;
pub mod did_web;
mod document;
mod ed25519_strict;
mod error;
mod jwk;
pub mod jws;
mod key;
mod multicodec;
pub mod net;
mod p256_backend;
mod resolver;
mod signature;
mod signing_key;
pub mod strict_json;

pub use algorithm::Algorithm;
pub use did::{Did, DidUrl, MAX_DID_LEN};
pub use document::{DidDocument, MAX_DOCUMENT_LEN, MethodReference, VerificationMethod, VerificationRelationship};
pub use error::{Error, Result};
pub use jwk::{PrivateJwk, X25519SecretKey};
pub use key::{PublicKey, VerifyingKey, X25519PublicKey};
pub use resolver::Resolver;
pub use signature::{Signature, Signer};
pub use signing_key::SigningKey;
