//! # schooltas-wallet
//!
//! The child's and the parent's wallet. **Not built yet**: this crate will own the encrypted
//! store (SQLite, AEAD per record, Argon2id), receiving credentials over OpenID4VCI, answering
//! OpenID4VP requests with DCQL, the consent prompt, the consent rule (a parent's approval while
//! the child is under 16), guardian approvals, withdrawals, and the hash-chained log.
#![forbid(unsafe_code)]
