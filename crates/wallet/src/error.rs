//! The one error type of the wallet crate. No variant carries a claim value, a key or a
//! passphrase.

/// Everything that can go wrong in a wallet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A credential problem from `schooltas-credential`.
    #[error(transparent)]
    Credential(#[from] schooltas_credential::Error),
    /// A key, JWS or DID problem from `schooltas-did`.
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),
    /// The passphrase (or platform key) does not open this wallet.
    #[error("wrong passphrase: this wallet cannot be opened with it")]
    WrongPassphrase,
    /// Stored data failed its integrity check: a record was altered, moved or damaged on disk.
    /// Nothing of it is returned.
    #[error("the wallet's storage is corrupted ({what}); restore it from an export")]
    Corrupted {
        /// What failed the check.
        what: String,
    },
    /// The storage layer failed; the operation was rolled back.
    #[error("wallet storage failed (nothing was written): {reason}")]
    Storage {
        /// What the storage layer reported.
        reason: String,
    },
    /// The file is not a Schooltas wallet, or one of a newer version.
    #[error("not a Schooltas wallet: {reason}")]
    NotAWallet {
        /// Why.
        reason: String,
    },
    /// A wallet export could not be read.
    #[error("invalid wallet export: {reason}")]
    InvalidExport {
        /// Why.
        reason: String,
    },
    /// An issuer answered with an OpenID4VCI error.
    #[error("the issuer refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    IssuerRefused {
        /// The error code (`invalid_grant`, `invalid_proof`, …).
        error: String,
        /// Its description.
        description: Option<String>,
    },
    /// The verifier is not in the trust list: the wallet does not answer it.
    #[error("the verifier {did} is not registered in the trust list; the wallet does not answer it")]
    VerifierNotRegistered {
        /// The verifier's DID.
        did: String,
    },
    /// The request states no purpose and legal basis (the `schooltas` request extension).
    #[error("the request states no purpose and legal basis, so nobody can decide on it")]
    MissingPurpose,
    /// No request with this id is waiting in the wallet.
    #[error("no request {request_id} is waiting in this wallet")]
    UnknownRequest {
        /// The id given.
        request_id: String,
    },
    /// The request was already answered or refused.
    #[error("request {request_id} was already answered or refused")]
    RequestAlreadyAnswered {
        /// The id given.
        request_id: String,
    },
    /// The approved selection does not answer the request.
    #[error("the selection cannot be sent: {reason}")]
    SelectionIncomplete {
        /// Why.
        reason: String,
    },
    /// The wallet cannot act as this child's guardian.
    #[error("cannot approve for this child: {reason}")]
    NotGuardian {
        /// Why.
        reason: String,
    },
    /// The young person is 16 or over: the parent's view of their log has ended.
    #[error("the child turned 16 on {since}; from then on only they can read their log")]
    ParentViewEnded {
        /// The 16th birthday.
        since: String,
    },
    /// No consent with this id.
    #[error("no consent {consent_id} in this wallet")]
    UnknownConsent {
        /// The id given.
        consent_id: String,
    },
    /// The consent was already withdrawn.
    #[error("consent {consent_id} was already withdrawn")]
    AlreadyWithdrawn {
        /// The id given.
        consent_id: String,
    },
    /// The consent was given by a parent; it is withdrawn from the parent's wallet.
    #[error("this consent was given by a parent; withdraw it from the parent's wallet")]
    GivenByParent,
    /// A value given to the wallet is malformed.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<schooltas_credential::oid4vp::Oid4vpError> for Error {
    fn from(error: schooltas_credential::oid4vp::Oid4vpError) -> Self {
        Error::Credential(error.into())
    }
}

impl From<schooltas_credential::trust_list::TrustListError> for Error {
    fn from(error: schooltas_credential::trust_list::TrustListError) -> Self {
        Error::Credential(error.into())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
                Error::Corrupted { what: "the database file failed SQLite's own checks".into() }
            }
            Some(rusqlite::ErrorCode::NotADatabase) => {
                Error::NotAWallet { reason: "the file is not an SQLite database".into() }
            }
            _ => Error::Storage { reason: error.to_string() },
        }
    }
}

/// A strict-JSON refusal (duplicate member name, integer beyond 64 bits, nesting too deep) is
/// a `schooltas-did` error wherever it was found: match `Error::Did(schooltas_did::Error::Json(..))`.
impl From<schooltas_did::strict_json::Error> for Error {
    fn from(error: schooltas_did::strict_json::Error) -> Self {
        Error::Did(schooltas_did::Error::Json(error))
    }
}
