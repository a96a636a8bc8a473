//! The Schooltas credential catalog — being implemented.

/// Why a set of claims does not fit a catalog type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// Placeholder until the catalog lands.
    #[error("unknown credential type {0}")]
    UnknownType(String),
}
