//! The one error type of the command: each variant says which file or argument was wrong and
//! why, in words a school administrator can act on.

use std::path::Path;

/// Why a command failed. [`CliError::exit_code`] maps it to the process exit status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// A file (or standard input) could not be read or is not what it should be.
    #[error("cannot read {what} {path}: {reason}")]
    Read {
        /// What the file is for ("claims file", "issuer key file", …).
        what: &'static str,
        /// The path as given (`-` for standard input).
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A file could not be written.
    #[error("cannot write {what} {path}: {reason}")]
    Write {
        /// What the file is for.
        what: &'static str,
        /// The path as given.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The output file exists and `--force` was not given.
    #[error("{what} {path} already exists; pass --force to replace it")]
    AlreadyExists {
        /// What the file is for.
        what: &'static str,
        /// The path as given.
        path: String,
    },
    /// An argument's value is refused by the library (a claim path, a URI, a DID, …).
    #[error("invalid {argument}: {source}")]
    InvalidArgument {
        /// The argument, as `--name`.
        argument: &'static str,
        /// The library's reason.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Key binding was not turned off, but its arguments are missing.
    #[error("{needed} are required unless --no-kb is given")]
    MissingKeyBinding {
        /// The arguments key binding needs.
        needed: &'static str,
    },
    /// The claims and arguments do not give a credential type.
    #[error("no credential type: pass --vct URI or put a \"vct\" string in the claims file")]
    MissingVct,
    /// Issuing or presenting failed in the library.
    #[error("{action} failed: {source}")]
    Credential {
        /// What was being done ("issuing", "presenting", …).
        action: &'static str,
        /// The library's reason.
        #[source]
        source: schooltas_school::Error,
    },
    /// Key generation or DID resolution failed in the library.
    #[error("{action} failed: {source}")]
    Did {
        /// What was being done.
        action: &'static str,
        /// The library's reason.
        #[source]
        source: schooltas_did::Error,
    },
    /// The presentation did not verify: the message is the rule that failed.
    #[error("verification failed: {0}")]
    Verification(#[source] schooltas_school::Error),
    /// The issuer's key could not be found from the credential's iss DID and header kid.
    #[error("verification failed: {0}; pass --issuer-jwk PUB.jwk when the issuer's key is not found from its DID")]
    IssuerKeyNotFound(#[source] schooltas_school::Error),
    /// `--status-list` was given but the credential names no status list entry.
    #[error("verification failed: --status-list was given but the credential has no status.status_list reference")]
    NoStatusReference,
    /// No key to check the status list token with (give --status-key).
    #[error("no key to check the status list token with; pass --status-key PUB.jwk")]
    NoStatusKey,
    /// A status change that the entry's current status does not allow.
    #[error("cannot {action} entry {index} of {path}: it is {current}")]
    StatusTransition {
        /// `revoke`, `suspend` or `reinstate`.
        action: &'static str,
        /// The entry.
        index: u64,
        /// The status list file.
        path: String,
        /// The entry's current status.
        current: String,
    },
    /// The school's server or roster failed or refused (configuration, key file, import).
    #[error("{action} failed: {source}")]
    School {
        /// What was being done.
        action: &'static str,
        /// The library's reason.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No `--config` was given.
    #[error("pass --config school.toml")]
    MissingConfig,
    /// No key passphrase was given.
    #[error("set the key passphrase in SCHOOLTAS_KEY_PASSPHRASE or pass --passphrase-stdin")]
    MissingKeyPassphrase,
    /// A wallet operation failed in the library (a wrong passphrase, an unknown consent, …).
    #[error("{action} failed: {source}")]
    Wallet {
        /// What was being done.
        action: &'static str,
        /// The library's reason.
        #[source]
        source: schooltas_wallet::Error,
    },
    /// A verifier operation failed in the library.
    #[error("{action} failed: {source}")]
    Verifier {
        /// What was being done.
        action: &'static str,
        /// The library's reason.
        #[source]
        source: schooltas_verifier::Error,
    },
    /// The wallet passphrase was not given.
    #[error("set the wallet passphrase in the environment variable SCHOOLTAS_PASSPHRASE (it is never a flag)")]
    MissingPassphrase,
    /// The trust list does not verify, or it does not accredit the credential's issuer.
    #[error("trust list {path}: {source}")]
    TrustList {
        /// The trust list file.
        path: String,
        /// The library's reason.
        #[source]
        source: schooltas_school::Error,
    },
    /// A presentation response was refused: every failed check, by name.
    #[error("the response was refused: {}", failures.join("; "))]
    Refused {
        /// Each failed check as `check (query): reason`.
        failures: Vec<String>,
    },
    /// `wallet complete --handover`: the parent has not answered yet (exit status 3, so a
    /// script can wait and ask again).
    #[error("the parent has not answered yet; ask again in a moment (the hand-over stays open until it expires)")]
    AnswerPending,
    /// The system clock is before 1970.
    #[error("the system clock is before 1970; pass the time explicitly")]
    Clock,
    /// Standard output could not be written (a closed pipe, say).
    #[error("cannot write to standard output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The process exit status: 3 while a parent's answer is pending, 1 for every failure
    /// (clap itself exits with 2 on usage errors).
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::AnswerPending => 3,
            _ => 1,
        }
    }

    pub(crate) fn read(what: &'static str, path: &Path, reason: impl ToString) -> Self {
        CliError::Read { what, path: show(path), reason: reason.to_string() }
    }

    pub(crate) fn write(what: &'static str, path: &Path, reason: impl ToString) -> Self {
        CliError::Write { what, path: show(path), reason: reason.to_string() }
    }

    pub(crate) fn argument(argument: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        CliError::InvalidArgument { argument, source: Box::new(source) }
    }
}

/// A path as the user typed it.
pub(crate) fn show(path: &Path) -> String {
    path.display().to_string()
}

/// `Result` with [`CliError`].
pub type Result<T, E = CliError> = std::result::Result<T, E>;
