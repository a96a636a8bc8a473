//! # schooltas-wallet
//!
//! What runs on a family's phone: the child's and the parent's wallet. This crate is being
//! built; so far it holds the encrypted [`vault`] every wallet record lives in and the
//! hash-chained [`log`] of everything that happened.
#![forbid(unsafe_code)]

pub mod consents;
pub mod copies;
mod error;
pub mod guardian;
pub mod http;
mod ids;
pub mod log;
mod owner;
mod policy;
pub mod receive;
pub mod request;
pub mod vault;
mod wallet;
mod wiped;

pub use consents::{Approver, ConsentGiven, WithdrawalMessage};
pub use error::{Error, Result};
pub use guardian::{GuardianPrompt, GuardianPromptItem};
pub use owner::{AgeBand, Owner, Role};
pub use request::{
    Candidate, ConsentPrompt, Decision, GuardianAnswer, GuardianRequest, Outcome, PromptClaim, PromptItem,
    ResponseToSend, Verifiers, WhoDecides,
};
pub use wallet::{CredentialSummary, Wallet, dotted};
