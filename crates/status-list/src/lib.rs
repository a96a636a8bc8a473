//! # schooltas-status-list
//!
//! IETF Token Status List (draft-ietf-oauth-status-list-20): revocation, suspension and consent
//! withdrawal for issued credentials, without telling the issuer who checks. Built on
//! `schooltas-did` for keys and JWS; it knows nothing of SD-JWT or of schools.
//!
//! - [`StatusList`]: the packed list of 1, 2, 4 or 8-bit entries, ZLIB-compressed in JSON (§4);
//! - [`StatusListToken`]: the signed `statuslist+jwt` a school publishes (§5.1), checked by
//!   [`UnverifiedStatusListToken::verify`];
//! - [`StatusReference`]: a credential's `status.status_list {idx, uri}` claim (§6.2);
//! - [`StatusListCache`]: the verifier's lookup through a [`StatusListFetcher`], kept for the
//!   token's `ttl` (§8.3, §13.7);
//! - [`status_list_signer_key`]: whom a token may be signed by — the credential's own key, or
//!   a separate key whose `x5c` chain carries the status list signing EKU (draft §"Key
//!   Resolution and Trust Management").
//!
//! A school revokes entry 12 and publishes its list; a verifier looks two credentials up:
//!
//! ```
//! use std::sync::Arc;
//! use schooltas_status_list::{
//!     Bits, Error, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri,
//!     StatusReference, StatusValue,
//! };
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//!
//! let school = SigningKey::generate(Algorithm::EdDsa)?;
//! let uri = StatusListUri::new("https://school.example/status/enrolment")?;
//! let mut list = StatusList::new(Bits::One, 1 << 16)?;
//! list.set(12, StatusValue::INVALID)?;
//! let published = Arc::new(InMemoryStatusLists::new());
//! published.publish(uri.clone(), StatusListToken::new(uri.clone(), 1_800_000_000, list).sign(&school, None)?);
//!
//! let cache = StatusListCache::new(published.clone());
//! let now = 1_800_000_010;
//! cache.check(&StatusReference::new(uri.clone(), 11), school.verifying_key(), now)?;
//! let revoked = cache.check(&StatusReference::new(uri, 12), school.verifying_key(), now);
//! assert!(matches!(revoked, Err(Error::Revoked { index: 12, .. })));
//! # Ok::<(), Error>(())
//! ```
#![forbid(unsafe_code)]

mod cache;
mod error;
mod list;
mod reference;
mod signer;
mod token;

pub use cache::{CachePolicy, FetchError, InMemoryStatusLists, StatusListCache, StatusListFetcher};
pub use error::{Error, Result};
pub use list::{Bits, DecodeLimits, StatusList, StatusValue};
pub use reference::{StatusListUri, StatusReference};
pub use signer::{StatusSignerRefusal, status_list_signer_key};
pub use token::{
    STATUS_LIST_JWT_MEDIA_TYPE, STATUS_LIST_JWT_TYP, StatusListToken, StatusListTokenOptions, UnverifiedStatusListToken,
};
