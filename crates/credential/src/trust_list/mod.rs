//! Trust lists: signed lists of accredited issuers and registered verifiers. (Being built.)

/// Why a trust list or a lookup in it was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustListError {}
