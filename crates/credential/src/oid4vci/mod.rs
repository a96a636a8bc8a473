//! OpenID for Verifiable Credential Issuance 1.0 messages — being implemented.

/// A malformed or refused OpenID4VCI message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Oid4vciError {
    /// Placeholder until the module lands.
    #[error("invalid OpenID4VCI message: {0}")]
    Invalid(String),
}
