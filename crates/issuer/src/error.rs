//! The one error type of the issuer crate.
//!
//! Like the credential crate's errors, no variant carries a claim value or a secret (a
//! pre-authorized code, a PIN, an access token): messages name rules, identifiers and types.

/// Everything that can go wrong while a school issues, revokes or answers OpenID4VCI requests.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A credential, status list or catalog problem from `schooltas-school`.
    #[error(transparent)]
    Credential(#[from] schooltas_school::Error),
    /// A key, JWS or DID problem from `schooltas-did`.
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),
    /// The store failed; the operation was rolled back and nothing of it was written.
    #[error("issuer storage failed (nothing was written): {reason}")]
    Storage {
        /// What the storage layer reported.
        reason: String,
    },
    /// The stored data is not what this version of the library wrote.
    #[error("issuer storage holds unexpected data: {reason}")]
    CorruptStore {
        /// What is wrong.
        reason: String,
    },
    /// A school profile value is malformed (BRIN, location code, name, URL).
    #[error("invalid school profile: {reason}")]
    InvalidProfile {
        /// What is wrong.
        reason: String,
    },
    /// The certificate chain attached to key `kid` is not the key's, or is not usable now:
    /// replace the certificate (or the key) before the issuer starts.
    #[error("the certificate chain of key {kid:?} is refused: {problem}")]
    CertificateChain {
        /// The key id the chain is attached to.
        kid: String,
        /// What is wrong with it.
        problem: ChainProblem,
    },
    /// The catalog has no credential type with this configuration id.
    #[error("unknown credential type {config_id:?}: it is not in this school's catalog")]
    UnknownCredentialType {
        /// The configuration id asked for.
        config_id: String,
    },
    /// No credential with this id was issued by this school.
    #[error("no credential {id} was issued here")]
    UnknownCredential {
        /// The credential id.
        id: String,
    },
    /// The credential type has no status entry, so it cannot be revoked or suspended.
    #[error("credentials of type {config_id:?} carry no status entry and cannot change status")]
    NoStatus {
        /// The credential's type.
        config_id: String,
    },
    /// A status change that is not allowed (e.g. reinstating a revoked credential).
    #[error("cannot {action} credential {id}: it is {current}")]
    StatusTransition {
        /// The credential id.
        id: String,
        /// What was asked.
        action: &'static str,
        /// Its current status.
        current: String,
    },
    /// A batch must hold between 1 and the configured maximum of holder keys.
    #[error("a batch needs 1 to {max} holder keys, got {got}")]
    BatchSize {
        /// The number of holder keys given.
        got: usize,
        /// The most allowed.
        max: usize,
    },
    /// A pre-authorized code or PIN was refused.
    #[error(transparent)]
    Grant(#[from] crate::offers::GrantRefusal),
    /// The authorization endpoint or the portal's answer was refused (shown to the person,
    /// never redirected to the wallet).
    #[error(transparent)]
    Authorization(#[from] crate::authorization::AuthorizationRefusal),
    /// A credential request's access token or nonce was refused.
    #[error(transparent)]
    CredentialRequest(#[from] crate::offers::CredentialRequestRefusal),
    /// The same holder key appears twice in one batch, which would make two copies linkable.
    #[error("holder key {thumbprint} appears twice in one batch")]
    DuplicateHolderKey {
        /// The key's RFC 7638 thumbprint.
        thumbprint: String,
    },
    /// The claim that carries the child link (`sub`, or `child_id` in a guardianship) must hold
    /// the pupil reference as a non-empty string: the issuer replaces it by each copy's
    /// one-time link.
    #[error(
        "credential type {config_id:?}: claim {claim} must hold the pupil reference as a non-empty string of at most 1024 bytes"
    )]
    ChildLinkReference {
        /// The credential type.
        config_id: String,
        /// The claim (`sub` or `child_id`).
        claim: &'static str,
    },
    /// A representation credential (guardianship) whose disclosed validity would already be
    /// over: the authority ends this month or has ended (see [`crate::validity`]; in the final
    /// weeks before the child turns 16 no guardianship copy is issued). The dates are personal
    /// data and are not repeated here.
    #[error(
        "credential type {config_id:?}: the representation ends this month or has ended, so no copy can be issued; from the 1st of the month of the 16th birthday the young person decides alone"
    )]
    RepresentationEnded {
        /// The credential type.
        config_id: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Storage { reason: error.to_string() }
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

/// What is wrong with a certificate chain attached to one of the school's keys
/// ([`Error::CertificateChain`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainProblem {
    /// The leaf is not a certificate this library can read.
    #[error("the leaf is not a readable DER X.509 certificate")]
    Unreadable,
    /// The leaf certifies another public key than the key it is attached to.
    #[error("the leaf certificate certifies another key: attach the certificate issued for this key")]
    OtherKey,
    /// The leaf's notAfter has passed.
    #[error("the leaf certificate expired at {not_after} (now {now}): renew it with the trust list operator's CA")]
    Expired {
        /// The leaf's notAfter, unix seconds.
        not_after: i64,
        /// The time of the check.
        now: i64,
    },
    /// The leaf's notBefore is still to come.
    #[error("the leaf certificate is valid only from {not_before} (now {now})")]
    NotYetValid {
        /// The leaf's notBefore, unix seconds.
        not_before: i64,
        /// The time of the check.
        now: i64,
    },
}
