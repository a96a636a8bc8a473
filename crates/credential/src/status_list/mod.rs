//! IETF Token Status List (draft-ietf-oauth-status-list-20): revocation, suspension and consent
//! withdrawal for issued credentials, without telling the issuer who checks.
//!
//! - [`StatusList`]: the packed list of 1, 2, 4 or 8-bit entries, ZLIB-compressed in JSON (§4);
//! - [`StatusListToken`]: the signed `statuslist+jwt` a school publishes (§5.1), checked by
//!   [`UnverifiedStatusListToken::verify`];
//! - [`StatusReference`]: a credential's `status.status_list {idx, uri}` claim (§6.2);
//! - [`StatusListCache`]: the verifier's lookup through a [`StatusListFetcher`], kept for the
//!   token's `ttl` (§8.3, §13.7).

mod cache;
mod list;
mod reference;
mod token;

pub use cache::{CachePolicy, FetchError, InMemoryStatusLists, StatusListCache, StatusListFetcher};
pub use list::{Bits, DecodeLimits, StatusList, StatusValue};
pub use reference::{StatusListUri, StatusReference};
pub use token::{
    STATUS_LIST_JWT_MEDIA_TYPE, STATUS_LIST_JWT_TYP, StatusListToken, StatusListTokenOptions, UnverifiedStatusListToken,
};
