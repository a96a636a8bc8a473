//! The one error type of the verifier crate.
//!
//! No variant carries a claim value, a presentation or a subject identifier: messages name the
//! rule that failed, consent ids, verifier client ids, URIs and times. A log of these errors
//! cannot tell anyone which child a consent was about.

use crate::nonces::NonceError;
use crate::register::ConsentId;

/// Everything that can go wrong while a verifier keeps nonces, records consents or fetches
/// status lists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A credential, status list or message problem from `schooltas-school`.
    #[error(transparent)]
    Credential(#[from] schooltas_school::Error),
    /// A nonce was refused (unknown, expired, replayed) or the nonce store is full.
    #[error(transparent)]
    Nonce(#[from] NonceError),
    /// The store failed; the operation was rolled back and nothing of it was written.
    #[error("consent register storage failed (nothing was written): {reason}")]
    Storage {
        /// What the storage layer reported.
        reason: String,
    },
    /// The stored data is not what this version of the library wrote.
    #[error("consent register storage holds unexpected data: {reason}")]
    CorruptStore {
        /// What is wrong.
        reason: String,
    },
    /// A consent id is not 32 lowercase hexadecimal characters.
    #[error("invalid consent id: {reason}")]
    InvalidConsentId {
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A consent record breaks a rule of [`ConsentRegister::record`](crate::ConsentRegister::record).
    #[error("invalid consent record: {reason}")]
    InvalidRecord {
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A consent for the same request (verifier and request nonce) is already recorded: one
    /// presentation answers one request, so it yields at most one consent.
    #[error(
        "a consent for this request of verifier {verifier:?} is already recorded as {existing}; \
         each request nonce records one consent"
    )]
    DuplicateConsent {
        /// The verifier's client id.
        verifier: String,
        /// The consent already recorded for that request.
        existing: ConsentId,
    },
    /// A withdrawal names a request no recorded consent answered.
    #[error("no consent was recorded for the request this withdrawal names")]
    NoConsentForRequest,
    /// A withdrawal is signed by a key that had no part in the consent it names: neither the
    /// key that approved it nor the key of a child presentation its guardian approval names
    /// (a sibling's, another family's). Nothing was withdrawn.
    #[error(
        "this withdrawal is not signed by the key that gave the consent, nor by the key of the child it \
         is about; nothing was withdrawn"
    )]
    WithdrawalNotByConsenter,
    /// The register holds no consent with this id.
    #[error("no consent {id} is recorded here")]
    UnknownConsent {
        /// The id asked for.
        id: ConsentId,
    },
    /// The consent was already withdrawn; its first withdrawal and evidence stay as recorded.
    #[error("consent {id} was already withdrawn at {at}; the first withdrawal stands")]
    AlreadyWithdrawn {
        /// The consent.
        id: ConsentId,
        /// When it was withdrawn.
        at: i64,
    },
    /// A withdrawal dated before the consent was granted.
    #[error("consent {id} cannot be withdrawn at {at}: it was granted later, at {granted_at}")]
    WithdrawalBeforeGrant {
        /// The consent.
        id: ConsentId,
        /// The withdrawal time given.
        at: i64,
        /// When the consent was granted.
        granted_at: i64,
    },
    /// A status list token could not be fetched over HTTP(S).
    #[error("fetching the status list token at {uri} failed: {reason}")]
    Fetch {
        /// The URI (bounded).
        uri: String,
        /// Why, in words for an operator.
        reason: String,
    },
    /// The host of a status list URI resolves to an internal address (loopback, private,
    /// link-local, …), so nothing was sent ([`schooltas_did::net`]). The address is not given back.
    #[error("the status list token at {uri} is not fetched: its host resolves to a {class} address")]
    ForbiddenAddress {
        /// The URI (bounded).
        uri: String,
        /// Which kind of address.
        class: schooltas_did::net::AddressClass,
    },
    /// A status list response body is larger than the fetcher's limit.
    #[error("the status list token at {uri} is {len} bytes or more, the limit is {limit}")]
    TooLarge {
        /// The URI (bounded).
        uri: String,
        /// The size seen (declared, or where reading stopped).
        len: u64,
        /// The limit.
        limit: usize,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Storage { reason: error.to_string() }
    }
}

/// At most 200 characters of `text`, for a message that echoes input.
pub(crate) fn bounded(text: &str) -> String {
    const LIMIT: usize = 200;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A status-list error is a credential error ([`Error::Credential`]), in the shape the
/// credential crate gives it.
impl From<schooltas_status_list::Error> for Error {
    fn from(error: schooltas_status_list::Error) -> Self {
        Error::Credential(error.into())
    }
}

/// An SD-JWT error is a credential error ([`Error::Credential`]), in the shape the credential
/// crate gives it.
impl From<schooltas_sd_jwt::Error> for Error {
    fn from(error: schooltas_sd_jwt::Error) -> Self {
        Error::Credential(error.into())
    }
}

/// An OpenID4VC error is a credential error ([`Error::Credential`]), in the shape the
/// credential crate gives it.
impl From<schooltas_oid4vc::Error> for Error {
    fn from(error: schooltas_oid4vc::Error) -> Self {
        Error::Credential(error.into())
    }
}
