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
    /// A value given to the wallet is malformed.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
