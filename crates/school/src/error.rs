//! The one error type of this crate.
//!
//! Every variant names the rule that failed. No variant carries a claim value: a child's data
//! must never reach a log or telemetry through an error message. Digests, claim *names*, paths,
//! numbers and URIs are fine.

/// Everything that can go wrong in the Schooltas profile, and every error of the crates below
/// it, each in one place: a key or JWS problem is [`Error::Did`] whichever layer found it, an
/// SD-JWT problem [`Error::SdJwt`], a status problem [`Error::StatusList`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key, JWS or DID problem from `schooltas-did` (bad signature, refused algorithm, …).
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),

    /// Claims that do not fit their credential type in the catalog (unknown, missing or
    /// wrongly typed claims).
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),

    /// A malformed or refused OpenID4VCI message (offer, token, proof, credential request).
    #[error(transparent)]
    Oid4vci(#[from] schooltas_oid4vc::oid4vci::Oid4vciError),

    /// A malformed or refused OpenID4VP message or DCQL query.
    #[error(transparent)]
    Oid4vp(#[from] schooltas_oid4vc::oid4vp::Oid4vpError),

    /// An OpenID4VC error of a kind added to `schooltas-oid4vc` after this version: every kind
    /// it has today is kept as [`Error::Oid4vci`], [`Error::Oid4vp`], [`Error::SdJwt`] or
    /// [`Error::Did`].
    #[error(transparent)]
    Oid4vc(schooltas_oid4vc::Error),

    /// A refused trust list, or an issuer or verifier it does not list for what was asked.
    #[error(transparent)]
    TrustList(#[from] crate::trust_list::TrustListError),

    /// The request's `"schooltas"` member breaks a rule of
    /// [`SchooltasExtension`](crate::SchooltasExtension) (an empty purpose code, a legal basis for a
    /// Credential Query the request does not have).
    #[error("invalid schooltas extension: {reason}")]
    InvalidSchooltasExtension {
        /// What is wrong.
        reason: &'static str,
    },

    /// A refused guardian approval or consent withdrawal.
    #[error(transparent)]
    Consent(#[from] crate::consent::ConsentError),

    /// A refused status list, status list token or status reference, or a credential whose
    /// status is not VALID (revoked, suspended, unknown).
    #[error(transparent)]
    StatusList(schooltas_status_list::Error),

    /// A refused SD-JWT, SD-JWT VC or key-binding JWT, or an unusable claim path.
    #[error(transparent)]
    SdJwt(schooltas_sd_jwt::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A status-list error; its key, JWS and strict-JSON problems are kept as [`Error::Did`], so
/// a bad signature is matched the same way whichever layer found it.
impl From<schooltas_status_list::Error> for Error {
    fn from(error: schooltas_status_list::Error) -> Self {
        match error {
            schooltas_status_list::Error::Did(did) => Error::Did(did),
            other => Error::StatusList(other),
        }
    }
}

/// An SD-JWT error; its key, JWS and strict-JSON problems are kept as [`Error::Did`] and its
/// status-list problems as [`Error::StatusList`], whichever layer found them.
impl From<schooltas_sd_jwt::Error> for Error {
    fn from(error: schooltas_sd_jwt::Error) -> Self {
        match error {
            schooltas_sd_jwt::Error::Did(did) => Error::Did(did),
            schooltas_sd_jwt::Error::StatusList(status) => status.into(),
            other => Error::SdJwt(other),
        }
    }
}

/// An OpenID4VCI / OpenID4VP error, kept in the variant of its kind ([`Error::Oid4vci`],
/// [`Error::Oid4vp`], [`Error::SdJwt`], [`Error::Did`]) whichever layer found it.
impl From<schooltas_oid4vc::Error> for Error {
    fn from(error: schooltas_oid4vc::Error) -> Self {
        match error {
            schooltas_oid4vc::Error::Did(did) => Error::Did(did),
            schooltas_oid4vc::Error::SdJwt(sd_jwt) => sd_jwt.into(),
            schooltas_oid4vc::Error::Oid4vci(oid4vci) => Error::Oid4vci(oid4vci),
            schooltas_oid4vc::Error::Oid4vp(oid4vp) => Error::Oid4vp(oid4vp),
            other => Error::Oid4vc(other),
        }
    }
}

/// A strict-JSON refusal (duplicate member name, integer beyond 64 bits, nesting too deep)
/// is a `schooltas-did` error, so that it has one place whichever layer parsed the JSON:
/// match it as `Error::Did(schooltas_did::Error::Json(..))`.
impl From<schooltas_did::strict_json::Error> for Error {
    fn from(error: schooltas_did::strict_json::Error) -> Self {
        Error::Did(schooltas_did::Error::Json(error))
    }
}
