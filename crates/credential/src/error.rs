//! The one error type of this crate.
//!
//! Every variant names the rule that failed. No variant carries a claim value: a child's data
//! must never reach a log or telemetry through an error message. Digests, claim *names*, paths,
//! numbers and URIs are fine.

/// Everything that can go wrong while issuing, presenting or verifying credentials and
/// status lists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key, JWS or DID problem from `schooltas-did` (bad signature, refused algorithm, …).
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),

    // ---- Token Status List (draft-ietf-oauth-status-list) -------------------------------------
    // (status list variants are added below this line)

    // ---- SD-JWT (RFC 9901) and SD-JWT VC ------------------------------------------------------
    // (SD-JWT variants are added below this line)
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
