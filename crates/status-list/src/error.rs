//! The one error type of this crate.
//!
//! Every variant names the rule that failed. None carries a claim value; URIs, indexes and
//! numbers are fine.

/// Everything that can go wrong while building, signing, verifying or looking up status lists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key, JWS or DID problem from `schooltas-did` (bad signature, refused algorithm, …).
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),

    /// The status list token's signer is not trusted for the credential it is checked for
    /// (its `x5c` chain, the issuer it names, or its extended key usage); see
    /// [`crate::status_list_signer_key`].
    #[error("the status list token's signer is not trusted for this credential: {refusal}")]
    UntrustedStatusSigner {
        /// Which rule failed.
        refusal: crate::StatusSignerRefusal,
    },

    /// A status list (`{"bits", "lst"}`, draft §4) is malformed or over a limit.
    #[error("invalid status list: {reason}")]
    InvalidStatusList {
        /// What is wrong.
        reason: String,
    },
    /// A status value does not fit in the list's bits per entry.
    #[error("status value {value:#04x} does not fit in a status list of {bits} bit(s) per entry")]
    StatusValueTooWide {
        /// The value.
        value: u8,
        /// The list's bits per entry.
        bits: u8,
    },
    /// An index beyond the end of a status list.
    #[error("status index {index} is beyond the end of the list ({len} entries)")]
    StatusIndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The number of entries in the list.
        len: usize,
    },
    /// The `status` claim of a credential is malformed (draft §6.2), or its index is beyond the
    /// list it points at: no statement about its status can be made.
    #[error("invalid status reference: {reason}")]
    InvalidStatusReference {
        /// What is wrong.
        reason: String,
    },
    /// The status list token's `typ` is not `statuslist+jwt` (draft §5.1).
    #[error("wrong typ {}: expected {expected}", found.as_deref().map_or_else(|| "(none)".to_owned(), |t| format!("{t:?}")))]
    WrongTyp {
        /// What the header says (None when absent).
        found: Option<String>,
        /// What was expected.
        expected: String,
    },
    /// A status list token (`statuslist+jwt`, draft §5.1) lacks a claim or has a malformed one.
    #[error("invalid status list token: {reason}")]
    InvalidStatusListToken {
        /// What is wrong.
        reason: String,
    },
    /// The status list token's `exp` has passed: it must not be relied upon (draft §13.7).
    #[error("the status list token at {uri} expired at {expired_at}")]
    StatusListExpired {
        /// The list's URI.
        uri: String,
        /// Its `exp`.
        expired_at: i64,
    },
    /// The status list token's `sub` is not the URI the credential points at (draft §8.3 4a).
    #[error("the status list token fetched from {expected} is for {found}")]
    StatusListSubjectMismatch {
        /// The URI in the credential.
        expected: String,
        /// The token's `sub`.
        found: String,
    },
    /// The status list could not be fetched: the credential's status is unknown. Whether to
    /// refuse the credential or accept it with a warning is the caller's policy.
    #[error("status unknown: the status list at {uri} could not be fetched: {reason}")]
    StatusUnavailable {
        /// The list's URI.
        uri: String,
        /// Why the fetch failed.
        reason: String,
    },
    /// The credential has been revoked (status `INVALID`).
    #[error("the credential is revoked (entry {index} of the status list at {uri} is INVALID)")]
    Revoked {
        /// The list's URI.
        uri: String,
        /// The credential's entry.
        index: u64,
    },
    /// The credential is suspended (status `SUSPENDED`); it may be reinstated later.
    #[error("the credential is suspended (entry {index} of the status list at {uri} is SUSPENDED)")]
    Suspended {
        /// The list's URI.
        uri: String,
        /// The credential's entry.
        index: u64,
    },
    /// The credential's status is neither VALID, INVALID nor SUSPENDED.
    #[error("the credential's status is {status} (entry {index} of the status list at {uri}), not VALID")]
    StatusNotValid {
        /// The list's URI.
        uri: String,
        /// The credential's entry.
        index: u64,
        /// The status, named.
        status: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A strict-JSON refusal (duplicate member name, integer beyond 64 bits, nesting too deep)
/// is a `schooltas-did` error, so that it has one place whichever layer parsed the JSON:
/// match it as `Error::Did(schooltas_did::Error::Json(..))`.
impl From<schooltas_did::strict_json::Error> for Error {
    fn from(error: schooltas_did::strict_json::Error) -> Self {
        Error::Did(schooltas_did::Error::Json(error))
    }
}
