//! # schooltas-issuer
//!
//! What a school runs to issue credentials. **Not built yet**: this crate will own the school
//! profile (name, BRIN and location code, DID, signing keys with rotation), issuance and batch
//! issuance of SD-JWT VCs, the status registry (random index allocation, revoke / suspend /
//! reinstate, one status list per purpose), its storage, and the OpenID4VCI pre-authorized
//! code flow as transport-free messages.
#![forbid(unsafe_code)]
