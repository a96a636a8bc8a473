//! # schooltas-verifier
//!
//! What a school, photographer or learning-app vendor runs to receive data: presentation
//! requests that stay within the verifier's registration ([`RequestBuilder`], signed with
//! [`SignedRequest`]), and the full verification pipeline ([`verify_response`] → [`Verdict`]).
#![forbid(unsafe_code)]

pub mod request;
pub mod verify;

pub use request::{RequestBuilder, SignedRequest};
pub use verify::{Check, DisclosedCredential, Failure, UnknownStatus, Verdict, VerificationContext, verify_response};
