//! # schooltas-wallet
//!
//! What runs on a family's phone: the child's and the parent's wallet. This crate is being
//! built; so far it holds the encrypted [`vault`] every wallet record lives in.
#![forbid(unsafe_code)]

mod error;
pub mod vault;

pub use error::{Error, Result};
