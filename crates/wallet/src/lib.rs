//! # schooltas-wallet
//!
//! What runs on a family's phone: the child's and the parent's wallet. This crate is being
//! built; so far it holds the encrypted [`vault`] every wallet record lives in and the
//! hash-chained [`log`] of everything that happened.
//!
//! # Layers
//!
//! Each module uses only the modules before it in this list, so no two modules import each
//! other (test `tests/layering.rs` reads the sources and refuses an upward `crate::` path):
//!
//! Layers, lowest first: `error` → `wiped` → `ids` → `keys` → `x5c` → `chains` → `vault` → `log` → `owner` → `http` → `copies` → `wallet_attestation` → `receive` → `authorize` → `policy` → `wallet` → `consents` → `request` → `guardian` → `issuer_http` → `relay`.
//!
//! The [`vault`] stores sealed records; [`copies`] keeps credential copies and their sealed
//! index on top of it; `wallet` is the handle that owns them; consents, requests and guardian
//! approvals are what a wallet does, each built on the ones below.
#![forbid(unsafe_code)]

pub mod authorize;
mod chains;
pub mod consents;
pub mod copies;
mod error;
pub mod guardian;
pub mod http;
mod ids;
pub mod issuer_http;
pub mod keys;
pub mod log;
mod owner;
mod policy;
pub mod receive;
pub mod relay;
pub mod request;
pub mod vault;
mod wallet;
pub mod wallet_attestation;
mod wiped;
mod x5c;

pub use consents::{Approver, ConsentGiven, WithdrawalMessage};
pub use error::{AuthorizationResponseRefusal, Error, Result};
pub use guardian::{GuardianPrompt, GuardianPromptItem};
pub use owner::{AgeBand, Owner, Role};
pub use request::{
    Candidate, ConsentPrompt, Decision, GuardianAnswer, GuardianRequest, Outcome, PromptClaim, PromptItem,
    ResponseToSend, Verifiers, WhoDecides,
};
pub use wallet::{CredentialSummary, Wallet, dotted};
