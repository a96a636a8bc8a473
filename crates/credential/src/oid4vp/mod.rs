//! OpenID for Verifiable Presentations 1.0 with DCQL — being implemented.

/// A malformed or refused OpenID4VP message or DCQL query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Oid4vpError {
    /// Placeholder until the module lands.
    #[error("invalid OpenID4VP message: {0}")]
    Invalid(String),
}
