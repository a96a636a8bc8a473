//! # schooltas-credential
//!
//! The credential format every Schooltas party speaks: SD-JWT (RFC 9901) with key binding,
//! SD-JWT VC, and the IETF Token Status List. Built on `schooltas-did` for keys, JWS and DIDs.
#![forbid(unsafe_code)]

mod error;
pub mod sd_jwt;
pub mod status_list;

pub use error::{Error, Result};
pub use sd_jwt::ClaimPath;
