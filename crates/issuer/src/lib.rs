//! # schooltas-issuer
//!
//! What a school runs to issue credentials: its [`SchoolProfile`] (name, BRIN and location,
//! DID, signing keys with rotation), issuance and batch issuance of SD-JWT VCs from the
//! credential catalog, a status registry (random index allocation, revoke / suspend /
//! reinstate, one status list per purpose), an embedded SQLite [`store`], and the OpenID4VCI
//! pre-authorized code flow and the authorization code flow (PKCE, PAR, `iss`) as plain functions
//! over typed messages.
#![forbid(unsafe_code)]

pub mod authorization;
pub mod child_link;
pub mod dpop;
mod error;
mod issue;
mod offers;
pub mod oid4vci;
mod school;
mod status;
pub mod store;
pub mod validity;
pub mod wallet_attestation;

pub use authorization::{AuthorizationPolicy, AuthorizationRefusal, AuthorizationStart, CodeRefusal};
pub use child_link::ChildLinkKey;
pub use dpop::DpopRequirement;
pub use error::{ChainProblem, Error, Result};
pub use issue::{DEFAULT_MAX_BATCH, IssuedBatch, Issuer};
pub use offers::{ClaimsSource, CredentialRequestRefusal, Grant, GrantRefusal, OfferPolicy, OfferSecrets};
pub use school::{Brin, SchoolKeys, SchoolLocation, SchoolProfile};
pub use status::{StatusChange, StatusPolicy};
pub use wallet_attestation::WalletAttestationRequirement;
