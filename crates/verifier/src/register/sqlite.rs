//! The embedded store: one SQLite file (bundled SQLite, nothing to install), WAL journal,
//! `synchronous = FULL`, every operation one `BEGIN IMMEDIATE` transaction.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use schooltas_school::LegalBasis;
use schooltas_status_list::{StatusListUri, StatusReference};
use serde_json::Value;

use super::record::{ConsentId, ConsentRecord, Evidence, Withdrawal};
use super::store::{ConsentStore, ConsentTx};
use crate::error::{Error, Result};

/// Version 1: the consent table. Version 2: `status_issuer` (whose status entry it is, as
/// JSON `{"iss", "key"}`), NULL in rows written by version 1.
const SCHEMA_VERSION: i64 = 2;

// A rowid table, not WITHOUT ROWID: rows carry kilobytes of evidence, and SQLite advises
// WITHOUT ROWID only for rows well under a twentieth of a page.
const SCHEMA: &str = "
CREATE TABLE consent (
    id TEXT PRIMARY KEY,
    verifier TEXT NOT NULL,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    object TEXT,
    channel TEXT,
    legal_basis TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    approver_jwk TEXT NOT NULL,
    request_nonce TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status_uri TEXT,
    status_idx INTEGER,
    withdrawn_at INTEGER,
    withdrawal_evidence TEXT,
    UNIQUE (verifier, request_nonce),
    CHECK ((status_uri IS NULL) = (status_idx IS NULL)),
    CHECK ((withdrawn_at IS NULL) = (withdrawal_evidence IS NULL))
);
CREATE INDEX consent_subject_purpose ON consent (subject, purpose, granted_at);
";

/// From version 1 to 2, in the same transaction as the version bump.
const MIGRATE_1_TO_2: &str = "ALTER TABLE consent ADD COLUMN status_issuer TEXT;";

const COLUMNS: &str = "SELECT id, verifier, subject, purpose, object, channel, legal_basis, granted_at, valid_until,
    approver_jwk, request_nonce, evidence, status_uri, status_idx, withdrawn_at, withdrawal_evidence, status_issuer
    FROM consent";

/// The consent register's embedded SQLite store.
///
/// ```
/// use schooltas_verifier::register::{SqliteConsentStore, in_transaction};
/// let store = SqliteConsentStore::in_memory()?;
/// let records = in_transaction(&store, |tx| tx.of_subject("did:jwk:…"))?;
/// assert!(records.is_empty());
/// # Ok::<(), schooltas_verifier::Error>(())
/// ```
pub struct SqliteConsentStore {
    connection: Mutex<Connection>,
}

impl SqliteConsentStore {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        Self::init(connection)
    }

    /// A database in memory, for tests and examples.
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(connection: Connection) -> Result<Self> {
        // An acknowledged consent (or withdrawal) must survive a power cut: it is the school's
        // proof under GDPR art. 7(1).
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        match version {
            0 => {
                connection.execute_batch(&format!(
                    "BEGIN IMMEDIATE; {SCHEMA} {MIGRATE_1_TO_2} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))?;
            }
            1 => {
                // Re-read under the write lock: another process may have migrated meanwhile.
                connection.execute_batch("BEGIN IMMEDIATE;")?;
                let again: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
                let migrated = match again {
                    1 => connection
                        .execute_batch(&format!("{MIGRATE_1_TO_2} PRAGMA user_version = {SCHEMA_VERSION};"))
                        .map_err(Error::from),
                    SCHEMA_VERSION => Ok(()),
                    other => Err(Error::CorruptStore {
                        reason: format!("schema version {other}; this library reads version {SCHEMA_VERSION}"),
                    }),
                };
                match migrated {
                    Ok(()) => connection.execute_batch("COMMIT;")?,
                    Err(error) => {
                        let _ = connection.execute_batch("ROLLBACK;");
                        return Err(error);
                    }
                }
            }
            SCHEMA_VERSION => {}
            other => {
                return Err(Error::CorruptStore {
                    reason: format!("schema version {other}; this library reads version {SCHEMA_VERSION}"),
                });
            }
        }
        Ok(SqliteConsentStore { connection: Mutex::new(connection) })
    }
}

impl std::fmt::Debug for SqliteConsentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConsentStore").finish_non_exhaustive()
    }
}

impl ConsentStore for SqliteConsentStore {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn ConsentTx) -> Result<()>) -> Result<()> {
        // A panic inside `work` drops the transaction, which rolls back: the connection is
        // consistent even if the lock was poisoned.
        let mut connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut tx = SqliteTx { tx: &transaction };
        work(&mut tx)?;
        transaction.commit()?;
        Ok(())
    }
}

struct SqliteTx<'c> {
    tx: &'c rusqlite::Transaction<'c>,
}

fn to_text(value: &impl serde::Serialize, what: &str) -> Result<String> {
    serde_json::to_string(value).map_err(|_| Error::Storage { reason: format!("{what} cannot be written as JSON") })
}

fn from_text<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    // serde's message could quote stored content; name the column only.
    serde_json::from_str(text).map_err(|_| Error::CorruptStore { reason: format!("stored {what} is not valid") })
}

fn basis_to_text(basis: LegalBasis) -> Result<String> {
    match serde_json::to_value(basis) {
        Ok(Value::String(text)) => Ok(text),
        _ => Err(Error::Storage { reason: "a legal basis cannot be written".into() }),
    }
}

struct Row {
    id: String,
    verifier: String,
    subject: String,
    purpose: String,
    object: Option<String>,
    channel: Option<String>,
    legal_basis: String,
    granted_at: i64,
    valid_until: i64,
    approver_jwk: String,
    request_nonce: String,
    evidence: String,
    status_uri: Option<String>,
    status_idx: Option<i64>,
    withdrawn_at: Option<i64>,
    withdrawal_evidence: Option<String>,
    status_issuer: Option<String>,
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: row.get(0)?,
        verifier: row.get(1)?,
        subject: row.get(2)?,
        purpose: row.get(3)?,
        object: row.get(4)?,
        channel: row.get(5)?,
        legal_basis: row.get(6)?,
        granted_at: row.get(7)?,
        valid_until: row.get(8)?,
        approver_jwk: row.get(9)?,
        request_nonce: row.get(10)?,
        evidence: row.get(11)?,
        status_uri: row.get(12)?,
        status_idx: row.get(13)?,
        withdrawn_at: row.get(14)?,
        withdrawal_evidence: row.get(15)?,
        status_issuer: row.get(16)?,
    })
}

impl Row {
    fn into_record(self) -> Result<ConsentRecord> {
        let corrupt = |reason: &str| Error::CorruptStore { reason: reason.to_owned() };
        let status = match (self.status_uri, self.status_idx) {
            (Some(uri), Some(idx)) => {
                let uri = StatusListUri::new(uri).map_err(|_| corrupt("a stored status list URI is not valid"))?;
                let idx = u64::try_from(idx).map_err(|_| corrupt("a stored status index is negative"))?;
                Some(StatusReference::new(uri, idx))
            }
            (None, None) => None,
            _ => return Err(corrupt("a stored status reference is half present")),
        };
        let withdrawn = match (self.withdrawn_at, self.withdrawal_evidence) {
            (Some(at), Some(evidence)) => Some(Withdrawal { at, evidence }),
            (None, None) => None,
            _ => return Err(corrupt("a stored withdrawal is half present")),
        };
        Ok(ConsentRecord {
            id: ConsentId::parse(&self.id).map_err(|_| corrupt("a stored consent id is not valid"))?,
            verifier: self.verifier,
            subject: self.subject,
            purpose: self.purpose,
            object: self.object,
            channel: self.channel,
            legal_basis: serde_json::from_value(Value::String(self.legal_basis))
                .map_err(|_| corrupt("a stored legal basis is not one this library knows"))?,
            granted_at: self.granted_at,
            valid_until: self.valid_until,
            approver_jwk: from_text(&self.approver_jwk, "approver key")?,
            request_nonce: self.request_nonce,
            evidence: from_text::<Evidence>(&self.evidence, "evidence")?,
            status,
            status_issuer: self.status_issuer.as_deref().map(|text| from_text(text, "status issuer")).transpose()?,
            withdrawn,
        })
    }
}

impl SqliteTx<'_> {
    fn records(&mut self, condition: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<ConsentRecord>> {
        let mut statement = self.tx.prepare_cached(&format!("{COLUMNS} WHERE {condition} ORDER BY granted_at, id"))?;
        let rows = statement.query_map(args, read_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(Row::into_record).collect()
    }
}

impl ConsentTx for SqliteTx<'_> {
    fn insert(&mut self, record: &ConsentRecord) -> Result<()> {
        let status_idx = match &record.status {
            Some(status) => Some(
                i64::try_from(status.index())
                    .map_err(|_| Error::InvalidRecord { reason: "the status index does not fit a database integer" })?,
            ),
            None => None,
        };
        self.tx.execute(
            "INSERT INTO consent (id, verifier, subject, purpose, object, channel, legal_basis, granted_at, valid_until,
                approver_jwk, request_nonce, evidence, status_uri, status_idx, withdrawn_at, withdrawal_evidence,
                status_issuer)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                record.id.as_str(),
                record.verifier,
                record.subject,
                record.purpose,
                record.object,
                record.channel,
                basis_to_text(record.legal_basis)?,
                record.granted_at,
                record.valid_until,
                to_text(&record.approver_jwk, "the approver key")?,
                record.request_nonce,
                to_text(&record.evidence, "the evidence")?,
                record.status.as_ref().map(|s| s.uri().as_str()),
                status_idx,
                record.withdrawn.as_ref().map(|w| w.at),
                record.withdrawn.as_ref().map(|w| w.evidence.as_str()),
                record.status_issuer.as_ref().map(|issuer| to_text(issuer, "the status issuer")).transpose()?,
            ],
        )?;
        Ok(())
    }

    fn get(&mut self, id: &ConsentId) -> Result<Option<ConsentRecord>> {
        let mut statement = self.tx.prepare_cached(&format!("{COLUMNS} WHERE id = ?1"))?;
        statement.query_row([id.as_str()], read_row).optional()?.map(Row::into_record).transpose()
    }

    fn id_for_request(&mut self, verifier: &str, request_nonce: &str) -> Result<Option<ConsentId>> {
        let mut statement =
            self.tx.prepare_cached("SELECT id FROM consent WHERE verifier = ?1 AND request_nonce = ?2")?;
        let id: Option<String> = statement.query_row([verifier, request_nonce], |row| row.get(0)).optional()?;
        id.map(|id| {
            ConsentId::parse(&id).map_err(|_| Error::CorruptStore { reason: "a stored consent id is not valid".into() })
        })
        .transpose()
    }

    fn find(&mut self, subject: &str, purpose: &str) -> Result<Vec<ConsentRecord>> {
        self.records("subject = ?1 AND purpose = ?2", &[&subject, &purpose])
    }

    fn of_subject(&mut self, subject: &str) -> Result<Vec<ConsentRecord>> {
        self.records("subject = ?1", &[&subject])
    }

    fn set_withdrawal(&mut self, id: &ConsentId, withdrawal: &Withdrawal) -> Result<bool> {
        let changed = self.tx.execute(
            "UPDATE consent SET withdrawn_at = ?2, withdrawal_evidence = ?3 WHERE id = ?1 AND withdrawn_at IS NULL",
            params![id.as_str(), withdrawal.at, withdrawal.evidence],
        )?;
        Ok(changed == 1)
    }
}
