//! The one error type of this crate.
//!
//! No variant carries a claim value or a presentation: identifiers, claim paths, types, URIs
//! and positions only.

use crate::oid4vci::Oid4vciError;
use crate::oid4vp::Oid4vpError;

/// Everything that can go wrong while building, reading or checking an OpenID4VCI or OpenID4VP
/// message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key, JWS or DID problem from `schooltas-did` (bad signature, refused algorithm, …).
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),

    /// A refused SD-JWT (a presentation checked against a query, a key proof's claims).
    #[error(transparent)]
    SdJwt(schooltas_sd_jwt::Error),

    /// A malformed or refused OpenID4VCI message (offer, token, proof, credential request).
    #[error(transparent)]
    Oid4vci(#[from] Oid4vciError),

    /// A malformed or refused OpenID4VP message or DCQL query.
    #[error(transparent)]
    Oid4vp(#[from] Oid4vpError),
    /// A DPoP proof (RFC 9449).
    #[error(transparent)]
    Dpop(#[from] crate::dpop::DpopError),
    /// A client (wallet) attestation or its proof of possession.
    #[error(transparent)]
    ClientAttestation(#[from] crate::client_attestation::ClientAttestationError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An SD-JWT error; its key, JWS and strict-JSON problems are kept as [`Error::Did`].
impl From<schooltas_sd_jwt::Error> for Error {
    fn from(error: schooltas_sd_jwt::Error) -> Self {
        match error {
            schooltas_sd_jwt::Error::Did(did) => Error::Did(did),
            other => Error::SdJwt(other),
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
