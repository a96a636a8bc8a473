//! Consent messages: the guardian approval (a parent's signed yes to a child's presentation) and the signed withdrawal of a consent. (Being built.)

/// Why a guardian approval or a withdrawal was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {}
