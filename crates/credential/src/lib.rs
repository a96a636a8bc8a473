//! # schooltas-credential
//!
//! The credential format every Schooltas party speaks. **Not built yet**: this crate will own
//!
//! - SD-JWT (RFC 9901) issuance, presentation with Key Binding JWT, and strict verification;
//! - SD-JWT VC (`typ: dc+sd-jwt`) claims and checks;
//! - the IETF Token Status List (status list tokens, referenced-token lookups with a TTL cache);
//! - DCQL queries, the credential catalog (enrolment, guardianship, learning results, school
//!   advice, support needs, consent receipts, achievements), consent receipts and trust lists.
//!
//! It builds on `schooltas-did` for keys, JWS and DID resolution.
#![forbid(unsafe_code)]
