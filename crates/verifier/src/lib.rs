//! # schooltas-verifier
//!
//! What a school, photographer or learning-app vendor runs to receive data. **Not built yet**:
//! this crate will own presentation requests (DCQL, purpose, legal basis, retention, signed
//! request objects), verifier registrations and trust lists, the full verification pipeline with
//! a nonce replay cache and status checks, and the consent register.
#![forbid(unsafe_code)]
