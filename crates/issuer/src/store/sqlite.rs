//! The embedded store: one SQLite file (bundled SQLite, nothing to install), WAL journal,
//! `synchronous = FULL`, every operation one `BEGIN IMMEDIATE` transaction.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    AccessTokenRow, AuthorizationCodeRow, CredentialRow, IssuerStore, IssuerTx, OfferReferenceRow, OfferRow,
    PendingAuthorizationRow, StatusListRow,
};
use crate::error::{Error, Result};

/// Version 2: access tokens record which offered configurations were fetched with them;
/// nonces are stored as SHA-256 digests like codes and tokens; expiry indexes for the purge
/// every OpenID4VCI write makes. Version 3: access tokens bound to DPoP keys. Version 4: the
/// authorization code flow's pending authorizations and codes. Version 5: which configurations
/// were asked for by `authorization_details`, and the credential identifiers of access tokens.
/// Version 6: state shared by a school's server instances (issue 17): proofs used (DPoP,
/// wallet attestation PoPs) and offers by reference, sealed.
const SCHEMA_VERSION: i64 = 6;

/// The tables version 6 adds: the digests of proofs used, and offers by reference (the offer
/// JSON sealed by the server, never readable here), each with an expiry for the purge.
const SHARED_TABLES: &str = "
CREATE TABLE proof_used (
    proof_digest BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX proof_used_expiry ON proof_used (expires_at);
CREATE TABLE offer_reference (
    id_digest BLOB PRIMARY KEY,
    code_digest BLOB NOT NULL,
    sealed BLOB NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX offer_reference_code ON offer_reference (code_digest);
CREATE INDEX offer_reference_expiry ON offer_reference (expires_at);
";

/// The columns version 5 adds (OpenID4VCI 1.0 §6.2 credential identifiers); rows from before
/// came from scope-only requests or pre-authorized codes, so none has identifiers.
const DETAIL_COLUMNS: &str = "
ALTER TABLE pending_authorization ADD COLUMN detail_config_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE authorization_code ADD COLUMN detail_config_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE access_token ADD COLUMN credential_identifiers TEXT NOT NULL DEFAULT '[]';
";

/// The tables version 4 adds (the authorization code flow), by digests only.
const AUTHORIZATION_TABLES: &str = "
CREATE TABLE pending_authorization (
    request_uri_digest BLOB PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    state TEXT,
    config_ids TEXT NOT NULL,
    issuer_state TEXT,
    dpop_jkt TEXT,
    expires_at INTEGER NOT NULL,
    handle_digest BLOB UNIQUE,
    completed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX pending_authorization_expiry ON pending_authorization (expires_at);
CREATE TABLE authorization_code (
    code_digest BLOB PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    dpop_jkt TEXT,
    subject_ref TEXT NOT NULL,
    config_ids TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    redeemed INTEGER NOT NULL DEFAULT 0,
    access_token_digest BLOB
) WITHOUT ROWID;
CREATE INDEX authorization_code_expiry ON authorization_code (expires_at);
";

const SCHEMA: &str = "
CREATE TABLE status_list (
    id INTEGER PRIMARY KEY,
    purpose TEXT NOT NULL,
    uri TEXT NOT NULL UNIQUE,
    bits INTEGER NOT NULL CHECK (bits IN (1, 2, 4, 8)),
    capacity INTEGER NOT NULL CHECK (capacity > 0)
);
CREATE TABLE credential (
    id TEXT PRIMARY KEY,
    config_id TEXT NOT NULL,
    subject_ref TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER,
    copies INTEGER NOT NULL
);
CREATE INDEX credential_subject ON credential (subject_ref);
CREATE TABLE status_entry (
    list_id INTEGER NOT NULL REFERENCES status_list (id),
    idx INTEGER NOT NULL,
    credential_id TEXT NOT NULL REFERENCES credential (id),
    status INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 255),
    PRIMARY KEY (list_id, idx)
) WITHOUT ROWID;
CREATE INDEX status_entry_credential ON status_entry (credential_id);
CREATE TABLE offer (
    code_digest BLOB PRIMARY KEY,
    tx_code_digest BLOB,
    subject_ref TEXT NOT NULL,
    config_ids TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    redeemed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE access_token (
    token_digest BLOB PRIMARY KEY,
    subject_ref TEXT NOT NULL,
    config_ids TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_config_ids TEXT NOT NULL DEFAULT '[]',
    dpop_jkt TEXT
) WITHOUT ROWID;
CREATE TABLE nonce (
    nonce_digest BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX offer_expiry ON offer (expires_at);
CREATE INDEX access_token_expiry ON access_token (expires_at);
CREATE INDEX nonce_expiry ON nonce (expires_at);
";

/// The issuer's embedded SQLite store.
///
/// ```
/// use schooltas_issuer::store::{IssuerStore, SqliteStore, in_transaction};
/// let store = SqliteStore::in_memory()?;
/// let lists = in_transaction(&store, |tx| tx.all_status_lists())?;
/// assert!(lists.is_empty());
/// # Ok::<(), schooltas_issuer::Error>(())
/// ```
pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl SqliteStore {
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

    fn init(mut connection: Connection) -> Result<Self> {
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        match version {
            0 => {
                connection.execute_batch(&format!(
                    "BEGIN IMMEDIATE; {SCHEMA} {AUTHORIZATION_TABLES} {DETAIL_COLUMNS} {SHARED_TABLES} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))?;
            }
            1..=5 => {
                // Each step re-reads the version in its own write transaction and does nothing
                // when another process has already taken the store past it.
                migrate_from_v1(connection.transaction_with_behavior(TransactionBehavior::Immediate)?)?;
                migrate_from_v2(connection.transaction_with_behavior(TransactionBehavior::Immediate)?)?;
                migrate_from_v3(connection.transaction_with_behavior(TransactionBehavior::Immediate)?)?;
                migrate_from_v4(connection.transaction_with_behavior(TransactionBehavior::Immediate)?)?;
                migrate_from_v5(connection.transaction_with_behavior(TransactionBehavior::Immediate)?)?;
            }
            SCHEMA_VERSION => {}
            other => {
                return Err(Error::CorruptStore {
                    reason: format!("schema version {other}; this library reads version {SCHEMA_VERSION}"),
                });
            }
        }
        Ok(SqliteStore { connection: Mutex::new(connection) })
    }
}

/// Brings a version 5 store to version 6 in one transaction: the tables of state shared by
/// instances, empty.
fn migrate_from_v5(tx: rusqlite::Transaction<'_>) -> Result<()> {
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != 5 {
        return Ok(());
    }
    tx.execute_batch(SHARED_TABLES)?;
    tx.pragma_update(None, "user_version", 6)?;
    tx.commit()?;
    Ok(())
}

/// Brings a version 4 store to version 5 in one transaction: the credential identifier columns.
fn migrate_from_v4(tx: rusqlite::Transaction<'_>) -> Result<()> {
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != 4 {
        return Ok(());
    }
    tx.execute_batch(DETAIL_COLUMNS)?;
    tx.pragma_update(None, "user_version", 5)?;
    tx.commit()?;
    Ok(())
}

/// Brings a version 3 store to version 4 in one transaction: the authorization code flow's
/// tables, empty.
fn migrate_from_v3(tx: rusqlite::Transaction<'_>) -> Result<()> {
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != 3 {
        return Ok(());
    }
    tx.execute_batch(AUTHORIZATION_TABLES)?;
    tx.pragma_update(None, "user_version", 4)?;
    tx.commit()?;
    Ok(())
}

/// Brings a version 2 store to version 3 in one transaction: access tokens may be bound to a
/// DPoP key (`dpop_jkt`); the tokens issued before stay Bearer tokens.
fn migrate_from_v2(tx: rusqlite::Transaction<'_>) -> Result<()> {
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != 2 {
        return Ok(());
    }
    tx.execute_batch("ALTER TABLE access_token ADD COLUMN dpop_jkt TEXT;")?;
    tx.pragma_update(None, "user_version", 3)?;
    tx.commit()?;
    Ok(())
}

/// Brings a version 1 store to version 2 in one transaction (all of it or nothing).
fn migrate_from_v1(tx: rusqlite::Transaction<'_>) -> Result<()> {
    // Re-read the version inside the write lock: another process may have migrated meanwhile.
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != 1 {
        return Ok(());
    }
    // Tokens issued before version 2 were reusable; mark none as used, so each may still fetch
    // each of its configurations once.
    // Version 1 kept nonces in plaintext: replace each by its digest, so that the nonces a
    // wallet holds right now still work, and none stays readable in the file.
    let nonces: Vec<(String, i64)> = tx
        .prepare("SELECT nonce, expires_at FROM nonce")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    tx.execute_batch(
        "ALTER TABLE access_token ADD COLUMN used_config_ids TEXT NOT NULL DEFAULT '[]';
         DROP TABLE nonce;
         CREATE TABLE nonce (nonce_digest BLOB PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
         CREATE INDEX offer_expiry ON offer (expires_at);
         CREATE INDEX access_token_expiry ON access_token (expires_at);
         CREATE INDEX nonce_expiry ON nonce (expires_at);",
    )?;
    for (nonce, expires_at) in nonces {
        tx.execute(
            "INSERT OR IGNORE INTO nonce (nonce_digest, expires_at) VALUES (?1, ?2)",
            params![&crate::offers::digest(&nonce)[..], expires_at],
        )?;
    }
    tx.pragma_update(None, "user_version", 2)?;
    tx.commit()?;
    Ok(())
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl IssuerStore for SqliteStore {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<()>) -> Result<()> {
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

fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Storage { reason: format!("{value} does not fit a database integer") })
}

fn to_u64(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error::CorruptStore { reason: format!("negative count or index {value}") })
}

fn digest(blob: Vec<u8>) -> Result<[u8; 32]> {
    blob.try_into().map_err(|_| Error::CorruptStore { reason: "a stored digest is not 32 bytes".into() })
}

fn ids_to_text(ids: &[String]) -> Result<String> {
    serde_json::to_string(ids).map_err(|e| Error::Storage { reason: e.to_string() })
}

fn ids_from_text(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|_| Error::CorruptStore { reason: "stored configuration ids are not a list".into() })
}

const LIST_COLUMNS: &str = "SELECT l.id, l.purpose, l.uri, l.bits, l.capacity,
    (SELECT count(*) FROM status_entry e WHERE e.list_id = l.id) FROM status_list l";

fn list_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, i64, i64, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn to_list(
    (id, purpose, uri, bits, capacity, allocated): (i64, String, String, i64, i64, i64),
) -> Result<StatusListRow> {
    let bits = u8::try_from(bits).map_err(|_| Error::CorruptStore { reason: format!("bits {bits}") })?;
    Ok(StatusListRow { id, purpose, uri, bits, capacity: to_u64(capacity)?, allocated: to_u64(allocated)? })
}

type CredentialTuple = (String, String, String, i64, Option<i64>, i64);

fn credential_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CredentialTuple> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn to_credential(
    (id, config_id, subject_ref, issued_at, expires_at, copies): CredentialTuple,
) -> Result<CredentialRow> {
    let copies = u32::try_from(copies).map_err(|_| Error::CorruptStore { reason: format!("copies {copies}") })?;
    Ok(CredentialRow { id, config_id, subject_ref, issued_at, expires_at, copies })
}

const PENDING_COLUMNS: &str = "SELECT request_uri_digest, client_id, redirect_uri, code_challenge, state,
    config_ids, issuer_state, dpop_jkt, expires_at, handle_digest, completed, detail_config_ids FROM pending_authorization";

type PendingTuple = (
    (Vec<u8>, String, String, String),
    (Option<String>, String, Option<String>, Option<String>),
    (i64, Option<Vec<u8>>, bool, String),
);

fn pending_tuple(row: &rusqlite::Row<'_>) -> rusqlite::Result<PendingTuple> {
    Ok((
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?),
        (row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?),
        (row.get(8)?, row.get(9)?, row.get(10)?, row.get(11)?),
    ))
}

fn to_pending(
    (
        (request_uri_digest, client_id, redirect_uri, code_challenge),
        (state, config_ids, issuer_state, dpop_jkt),
        (expires_at, handle_digest, completed, detail_config_ids),
    ): PendingTuple,
) -> Result<PendingAuthorizationRow> {
    Ok(PendingAuthorizationRow {
        request_uri_digest: digest(request_uri_digest)?,
        client_id,
        redirect_uri,
        code_challenge,
        state,
        config_ids: ids_from_text(&config_ids)?,
        detail_config_ids: ids_from_text(&detail_config_ids)?,
        issuer_state,
        dpop_jkt,
        expires_at,
        handle_digest: handle_digest.map(digest).transpose()?,
        completed,
    })
}

const CREDENTIAL_COLUMNS: &str = "SELECT id, config_id, subject_ref, issued_at, expires_at, copies FROM credential";

impl IssuerTx for SqliteTx<'_> {
    fn status_lists(&mut self, purpose: &str) -> Result<Vec<StatusListRow>> {
        let mut statement = self.tx.prepare_cached(&format!("{LIST_COLUMNS} WHERE l.purpose = ?1 ORDER BY l.id"))?;
        let rows = statement.query_map([purpose], list_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_list).collect()
    }

    fn status_list(&mut self, id: i64) -> Result<Option<StatusListRow>> {
        let mut statement = self.tx.prepare_cached(&format!("{LIST_COLUMNS} WHERE l.id = ?1"))?;
        statement.query_row([id], list_row).optional()?.map(to_list).transpose()
    }

    fn all_status_lists(&mut self) -> Result<Vec<StatusListRow>> {
        let mut statement = self.tx.prepare_cached(&format!("{LIST_COLUMNS} ORDER BY l.id"))?;
        let rows = statement.query_map([], list_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_list).collect()
    }

    fn insert_status_list(&mut self, list: &StatusListRow) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO status_list (purpose, uri, bits, capacity) VALUES (?1, ?2, ?3, ?4)",
            params![list.purpose, list.uri, list.bits, to_i64(list.capacity)?],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    fn is_allocated(&mut self, list_id: i64, index: u64) -> Result<bool> {
        let mut statement = self.tx.prepare_cached("SELECT 1 FROM status_entry WHERE list_id = ?1 AND idx = ?2")?;
        Ok(statement.exists(params![list_id, to_i64(index)?])?)
    }

    fn allocate(&mut self, list_id: i64, index: u64, credential_id: &str) -> Result<()> {
        let mut statement =
            self.tx.prepare_cached("INSERT INTO status_entry (list_id, idx, credential_id) VALUES (?1, ?2, ?3)")?;
        statement.execute(params![list_id, to_i64(index)?, credential_id])?;
        Ok(())
    }

    fn entries_of(&mut self, credential_id: &str) -> Result<Vec<(i64, u64)>> {
        let mut statement = self
            .tx
            .prepare_cached("SELECT list_id, idx FROM status_entry WHERE credential_id = ?1 ORDER BY list_id, idx")?;
        let rows = statement
            .query_map([credential_id], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|(list, index)| Ok((list, to_u64(index)?))).collect()
    }

    fn status(&mut self, list_id: i64, index: u64) -> Result<u8> {
        let mut statement =
            self.tx.prepare_cached("SELECT status FROM status_entry WHERE list_id = ?1 AND idx = ?2")?;
        let value: Option<i64> = statement.query_row(params![list_id, to_i64(index)?], |row| row.get(0)).optional()?;
        let value =
            value.ok_or_else(|| Error::CorruptStore { reason: format!("no entry {index} in list {list_id}") })?;
        u8::try_from(value).map_err(|_| Error::CorruptStore { reason: format!("status {value}") })
    }

    fn set_status(&mut self, list_id: i64, index: u64, value: u8) -> Result<()> {
        let mut statement =
            self.tx.prepare_cached("UPDATE status_entry SET status = ?3 WHERE list_id = ?1 AND idx = ?2")?;
        if statement.execute(params![list_id, to_i64(index)?, value])? != 1 {
            return Err(Error::CorruptStore { reason: format!("no entry {index} in list {list_id}") });
        }
        Ok(())
    }

    fn non_valid(&mut self, list_id: i64) -> Result<Vec<(u64, u8)>> {
        let mut statement =
            self.tx.prepare_cached("SELECT idx, status FROM status_entry WHERE list_id = ?1 AND status != 0")?;
        let rows = statement
            .query_map([list_id], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(index, value)| {
                let value =
                    u8::try_from(value).map_err(|_| Error::CorruptStore { reason: format!("status {value}") })?;
                Ok((to_u64(index)?, value))
            })
            .collect()
    }

    fn insert_credential(&mut self, row: &CredentialRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO credential (id, config_id, subject_ref, issued_at, expires_at, copies)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![row.id, row.config_id, row.subject_ref, row.issued_at, row.expires_at, row.copies],
        )?;
        Ok(())
    }

    fn credential(&mut self, id: &str) -> Result<Option<CredentialRow>> {
        let mut statement = self.tx.prepare_cached(&format!("{CREDENTIAL_COLUMNS} WHERE id = ?1"))?;
        statement.query_row([id], credential_row).optional()?.map(to_credential).transpose()
    }

    fn credentials_of(&mut self, subject_ref: &str) -> Result<Vec<CredentialRow>> {
        let mut statement =
            self.tx.prepare_cached(&format!("{CREDENTIAL_COLUMNS} WHERE subject_ref = ?1 ORDER BY issued_at, id"))?;
        let rows = statement.query_map([subject_ref], credential_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_credential).collect()
    }

    fn insert_offer(&mut self, row: &OfferRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO offer (code_digest, tx_code_digest, subject_ref, config_ids, expires_at, failed_attempts, redeemed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                &row.code_digest[..],
                row.tx_code_digest.as_ref().map(|d| &d[..]),
                row.subject_ref,
                ids_to_text(&row.config_ids)?,
                row.expires_at,
                row.failed_attempts,
                row.redeemed
            ],
        )?;
        Ok(())
    }

    fn offer(&mut self, code_digest: &[u8; 32]) -> Result<Option<OfferRow>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT tx_code_digest, subject_ref, config_ids, expires_at, failed_attempts, redeemed
             FROM offer WHERE code_digest = ?1",
        )?;
        let row = statement
            .query_row([&code_digest[..]], |row| {
                Ok((
                    row.get::<_, Option<Vec<u8>>>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, u32>(4)?,
                    row.get::<_, bool>(5)?,
                ))
            })
            .optional()?;
        let Some((tx_code, subject_ref, config_ids, expires_at, failed_attempts, redeemed)) = row else {
            return Ok(None);
        };
        Ok(Some(OfferRow {
            code_digest: *code_digest,
            tx_code_digest: tx_code.map(digest).transpose()?,
            subject_ref,
            config_ids: ids_from_text(&config_ids)?,
            expires_at,
            failed_attempts,
            redeemed,
        }))
    }

    fn update_offer(&mut self, row: &OfferRow) -> Result<()> {
        self.tx.execute(
            "UPDATE offer SET failed_attempts = ?2, redeemed = ?3 WHERE code_digest = ?1",
            params![&row.code_digest[..], row.failed_attempts, row.redeemed],
        )?;
        Ok(())
    }

    fn insert_access_token(&mut self, row: &AccessTokenRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO access_token (token_digest, subject_ref, config_ids, expires_at, used_config_ids, dpop_jkt,
                 credential_identifiers)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                &row.token_digest[..],
                row.subject_ref,
                ids_to_text(&row.config_ids)?,
                row.expires_at,
                ids_to_text(&row.used_config_ids)?,
                row.dpop_jkt,
                ids_to_text(&row.credential_identifiers)?
            ],
        )?;
        Ok(())
    }

    fn access_token(&mut self, token_digest: &[u8; 32]) -> Result<Option<AccessTokenRow>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT subject_ref, config_ids, expires_at, used_config_ids, dpop_jkt, credential_identifiers
             FROM access_token WHERE token_digest = ?1",
        )?;
        let row = statement
            .query_row([&token_digest[..]], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, String>(5)?,
                ))
            })
            .optional()?;
        row.map(|(subject_ref, config_ids, expires_at, used_config_ids, dpop_jkt, credential_identifiers)| {
            Ok(AccessTokenRow {
                token_digest: *token_digest,
                subject_ref,
                config_ids: ids_from_text(&config_ids)?,
                used_config_ids: ids_from_text(&used_config_ids)?,
                expires_at,
                dpop_jkt,
                credential_identifiers: ids_from_text(&credential_identifiers)?,
            })
        })
        .transpose()
    }

    fn update_access_token(&mut self, row: &AccessTokenRow) -> Result<()> {
        let changed = self.tx.execute(
            "UPDATE access_token SET used_config_ids = ?2 WHERE token_digest = ?1",
            params![&row.token_digest[..], ids_to_text(&row.used_config_ids)?],
        )?;
        if changed != 1 {
            return Err(Error::CorruptStore { reason: "the access token to update is not stored".into() });
        }
        Ok(())
    }

    fn delete_access_token(&mut self, token_digest: &[u8; 32]) -> Result<()> {
        self.tx.execute("DELETE FROM access_token WHERE token_digest = ?1", [&token_digest[..]])?;
        Ok(())
    }

    fn insert_nonce(&mut self, nonce_digest: &[u8; 32], expires_at: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO nonce (nonce_digest, expires_at) VALUES (?1, ?2)",
            params![&nonce_digest[..], expires_at],
        )?;
        Ok(())
    }

    fn consume_nonce(&mut self, nonce_digest: &[u8; 32], now: i64) -> Result<bool> {
        let expires_at: Option<i64> = self
            .tx
            .query_row("DELETE FROM nonce WHERE nonce_digest = ?1 RETURNING expires_at", [&nonce_digest[..]], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(expires_at.is_some_and(|expires_at| now < expires_at))
    }

    fn first_use_of_proof(&mut self, proof_digest: &[u8; 32], expires_at: i64, now: i64) -> Result<bool> {
        // The primary key decides: a row that is there and unexpired means a replay; an
        // expired one (not purged yet) is taken over.
        let changed = self.tx.execute(
            "INSERT INTO proof_used (proof_digest, expires_at) VALUES (?1, ?2)
             ON CONFLICT (proof_digest) DO UPDATE SET expires_at = excluded.expires_at
             WHERE proof_used.expires_at <= ?3",
            params![&proof_digest[..], expires_at, now],
        )?;
        Ok(changed == 1)
    }

    fn insert_offer_reference(&mut self, row: &OfferReferenceRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO offer_reference (id_digest, code_digest, sealed, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![&row.id_digest[..], &row.code_digest[..], row.sealed, row.expires_at],
        )?;
        Ok(())
    }

    fn offer_reference(&mut self, id_digest: &[u8; 32], now: i64) -> Result<Option<OfferReferenceRow>> {
        let row: Option<(Vec<u8>, Vec<u8>, i64)> = self
            .tx
            .query_row(
                "SELECT code_digest, sealed, expires_at FROM offer_reference WHERE id_digest = ?1 AND expires_at > ?2",
                params![&id_digest[..], now],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        row.map(|(code_digest, sealed, expires_at)| {
            let code_digest = code_digest
                .try_into()
                .map_err(|_| Error::CorruptStore { reason: "a stored digest is not 32 bytes".into() })?;
            Ok(OfferReferenceRow { id_digest: *id_digest, code_digest, sealed, expires_at })
        })
        .transpose()
    }

    fn pending_offer_references(&mut self, now: i64) -> Result<u64> {
        let count: i64 =
            self.tx.query_row("SELECT count(*) FROM offer_reference WHERE expires_at > ?1", [now], |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn delete_offer_references(&mut self, code_digest: &[u8; 32]) -> Result<()> {
        self.tx.execute("DELETE FROM offer_reference WHERE code_digest = ?1", [&code_digest[..]])?;
        Ok(())
    }

    fn insert_pending_authorization(&mut self, row: &PendingAuthorizationRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO pending_authorization (request_uri_digest, client_id, redirect_uri, code_challenge, state,
                 config_ids, issuer_state, dpop_jkt, expires_at, handle_digest, completed, detail_config_ids)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                &row.request_uri_digest[..],
                row.client_id,
                row.redirect_uri,
                row.code_challenge,
                row.state,
                ids_to_text(&row.config_ids)?,
                row.issuer_state,
                row.dpop_jkt,
                row.expires_at,
                row.handle_digest.as_ref().map(|d| &d[..]),
                row.completed,
                ids_to_text(&row.detail_config_ids)?
            ],
        )?;
        Ok(())
    }

    fn pending_authorization(&mut self, request_uri_digest: &[u8; 32]) -> Result<Option<PendingAuthorizationRow>> {
        let mut statement = self.tx.prepare_cached(&format!("{PENDING_COLUMNS} WHERE request_uri_digest = ?1"))?;
        statement.query_row([&request_uri_digest[..]], pending_tuple).optional()?.map(to_pending).transpose()
    }

    fn pending_authorization_by_handle(&mut self, handle_digest: &[u8; 32]) -> Result<Option<PendingAuthorizationRow>> {
        let mut statement = self.tx.prepare_cached(&format!("{PENDING_COLUMNS} WHERE handle_digest = ?1"))?;
        statement.query_row([&handle_digest[..]], pending_tuple).optional()?.map(to_pending).transpose()
    }

    fn update_pending_authorization(&mut self, row: &PendingAuthorizationRow) -> Result<()> {
        let changed = self.tx.execute(
            "UPDATE pending_authorization SET expires_at = ?2, handle_digest = ?3, completed = ?4
             WHERE request_uri_digest = ?1",
            params![
                &row.request_uri_digest[..],
                row.expires_at,
                row.handle_digest.as_ref().map(|d| &d[..]),
                row.completed
            ],
        )?;
        if changed != 1 {
            return Err(Error::CorruptStore { reason: "the pending authorization to update is not stored".into() });
        }
        Ok(())
    }

    fn insert_authorization_code(&mut self, row: &AuthorizationCodeRow) -> Result<()> {
        self.tx.execute(
            "INSERT INTO authorization_code (code_digest, client_id, redirect_uri, code_challenge, dpop_jkt,
                 subject_ref, config_ids, expires_at, redeemed, access_token_digest, detail_config_ids)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                &row.code_digest[..],
                row.client_id,
                row.redirect_uri,
                row.code_challenge,
                row.dpop_jkt,
                row.subject_ref,
                ids_to_text(&row.config_ids)?,
                row.expires_at,
                row.redeemed,
                row.access_token_digest.as_ref().map(|d| &d[..]),
                ids_to_text(&row.detail_config_ids)?
            ],
        )?;
        Ok(())
    }

    fn authorization_code(&mut self, code_digest: &[u8; 32]) -> Result<Option<AuthorizationCodeRow>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT client_id, redirect_uri, code_challenge, dpop_jkt, subject_ref, config_ids, expires_at, redeemed,
                 access_token_digest, detail_config_ids
             FROM authorization_code WHERE code_digest = ?1",
        )?;
        let row = statement
            .query_row([&code_digest[..]], |row| {
                Ok((
                    (row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?),
                    (row.get::<_, Option<String>>(3)?, row.get::<_, String>(4)?, row.get::<_, String>(5)?),
                    (row.get::<_, i64>(6)?, row.get::<_, bool>(7)?, row.get::<_, Option<Vec<u8>>>(8)?),
                    row.get::<_, String>(9)?,
                ))
            })
            .optional()?;
        let Some((
            (client_id, redirect_uri, code_challenge),
            (dpop_jkt, subject_ref, config_ids),
            (expires_at, redeemed, token),
            detail_config_ids,
        )) = row
        else {
            return Ok(None);
        };
        Ok(Some(AuthorizationCodeRow {
            code_digest: *code_digest,
            client_id,
            redirect_uri,
            code_challenge,
            dpop_jkt,
            subject_ref,
            config_ids: ids_from_text(&config_ids)?,
            detail_config_ids: ids_from_text(&detail_config_ids)?,
            expires_at,
            redeemed,
            access_token_digest: token.map(digest).transpose()?,
        }))
    }

    fn update_authorization_code(&mut self, row: &AuthorizationCodeRow) -> Result<()> {
        let changed = self.tx.execute(
            "UPDATE authorization_code SET expires_at = ?2, redeemed = ?3, access_token_digest = ?4
             WHERE code_digest = ?1",
            params![
                &row.code_digest[..],
                row.expires_at,
                row.redeemed,
                row.access_token_digest.as_ref().map(|d| &d[..])
            ],
        )?;
        if changed != 1 {
            return Err(Error::CorruptStore { reason: "the authorization code to update is not stored".into() });
        }
        Ok(())
    }

    fn purge_expired(&mut self, now: i64, limit: u32) -> Result<u64> {
        // Each DELETE walks the `expires_at` index from its start: cost proportional to what
        // it removes, not to the table.
        let mut purged = 0u64;
        for (table, key) in [
            ("offer", "code_digest"),
            ("access_token", "token_digest"),
            ("nonce", "nonce_digest"),
            ("pending_authorization", "request_uri_digest"),
            ("authorization_code", "code_digest"),
            ("proof_used", "proof_digest"),
            ("offer_reference", "id_digest"),
        ] {
            let mut statement = self.tx.prepare_cached(&format!(
                "DELETE FROM {table} WHERE {key} IN
                 (SELECT {key} FROM {table} WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)"
            ))?;
            purged = purged.saturating_add(statement.execute(params![now, limit])? as u64);
        }
        Ok(purged)
    }
}
