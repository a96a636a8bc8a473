//! Guardian approval: a parent's signed yes to a presentation by a child under 16. (Being built.)

/// Why a guardian approval was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardianError {}
