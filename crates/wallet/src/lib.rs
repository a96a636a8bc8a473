//! # schooltas-wallet
//!
//! What runs on a family's phone: the child's and the parent's wallet. This crate is being
//! built; so far it holds the encrypted [`vault`] every wallet record lives in and the
//! hash-chained [`log`] of everything that happened.
#![forbid(unsafe_code)]

mod error;
pub mod log;
pub mod receive;
pub mod vault;

pub use error::{Error, Result};
