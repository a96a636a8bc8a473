//! Where the register keeps its records: a store that runs each operation as one transaction.

use super::record::{ConsentId, ConsentRecord, Withdrawal};
use crate::error::{Error, Result};

/// The operations available inside one transaction.
pub trait ConsentTx {
    /// Stores a new record.
    fn insert(&mut self, record: &ConsentRecord) -> Result<()>;
    /// The record with this id.
    fn get(&mut self, id: &ConsentId) -> Result<Option<ConsentRecord>>;
    /// The id of the record answering the request `request_nonce` of `verifier`.
    fn id_for_request(&mut self, verifier: &str, request_nonce: &str) -> Result<Option<ConsentId>>;
    /// The records about `subject` for `purpose`, oldest grant first.
    fn find(&mut self, subject: &str, purpose: &str) -> Result<Vec<ConsentRecord>>;
    /// Every record about `subject`, oldest grant first.
    fn of_subject(&mut self, subject: &str) -> Result<Vec<ConsentRecord>>;
    /// Sets the withdrawal of a record that has none yet; `false` if there is no such record.
    fn set_withdrawal(&mut self, id: &ConsentId, withdrawal: &Withdrawal) -> Result<bool>;
}

/// A store that runs closures as transactions: all of a closure's writes happen, or — if it
/// returns an error or the process dies — none.
pub trait ConsentStore: Send + Sync {
    /// Runs `work` in one transaction, committing when it returns `Ok`.
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn ConsentTx) -> Result<()>) -> Result<()>;
}

impl<T: ConsentStore + ?Sized> ConsentStore for std::sync::Arc<T> {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn ConsentTx) -> Result<()>) -> Result<()> {
        (**self).transaction(work)
    }
}

/// Runs `work` in one transaction of `store` and returns its value.
pub fn in_transaction<T>(
    store: &(impl ConsentStore + ?Sized),
    mut work: impl FnMut(&mut dyn ConsentTx) -> Result<T>,
) -> Result<T> {
    let mut out = None;
    store.transaction(&mut |tx| {
        out = Some(work(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| Error::Storage { reason: "the transaction produced no result".into() })
}
