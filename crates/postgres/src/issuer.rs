//! The issuer's store on PostgreSQL: the same rows as [`SqliteStore`](schooltas_issuer::store::SqliteStore),
//! each with its school's tenant key, in `SERIALIZABLE` transactions.

use postgres::Row;
use postgres::types::FromSql;
use schooltas_issuer::store::{
    AccessTokenRow, AuthorizationCodeRow, CredentialRow, IssuerStore, IssuerTx, OfferReferenceRow, OfferRow,
    PendingAuthorizationRow, StatusListRow,
};
use schooltas_issuer::{Error, Result};

use crate::migrations;
use crate::pool::{DbFailure, Pool, Session, serializable};
use crate::tenant::Tenant;

/// The issuer's store of one school (tenant) in a PostgreSQL database shared by many.
///
/// Every operation is one `SERIALIZABLE` transaction on a pooled connection, re-run when it
/// loses a serialization conflict, so of two requests that read and spend the same code, token
/// or nonce exactly one succeeds, also across processes. Every query names the tenant, and
/// the tables' row-level-security policy admits only the tenant the transaction set.
///
/// ```no_run
/// use schooltas_issuer::store::in_transaction;
/// use schooltas_postgres::{PostgresIssuerStore, Tenant, connect};
///
/// let pool = connect("postgres://schooltas@127.0.0.1:5432/schooltas", 8)?;
/// let store = PostgresIssuerStore::open(pool, Tenant::new("00AA")?)?;
/// let lists = in_transaction(&store, |tx| tx.all_status_lists())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PostgresIssuerStore {
    pool: Pool,
    tenant: Tenant,
}

impl PostgresIssuerStore {
    /// The store of `tenant` on `pool`'s database: brings the issuer's tables to the newest
    /// schema version (creating them in an empty database; a no-op when they are current) and
    /// refuses a role that bypasses row-level security.
    pub fn open(pool: Pool, tenant: Tenant) -> crate::Result<Self> {
        migrations::prepare(&pool, "issuer", migrations::ISSUER)?;
        migrations::prepare(&pool, "issuer-shared", migrations::ISSUER_SHARED)?;
        Ok(PostgresIssuerStore { pool, tenant })
    }

    /// The school this handle reads and writes.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }
}

impl std::fmt::Debug for PostgresIssuerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresIssuerStore").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

impl IssuerStore for PostgresIssuerStore {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<()>) -> Result<()> {
        serializable(&self.pool, &self.tenant, &mut |session| work(&mut PgIssuerTx { session }), |reason| {
            Error::Storage { reason }
        })
    }
}

struct PgIssuerTx<'s, 'c> {
    session: &'s mut Session<'c>,
}

fn storage(failure: DbFailure) -> Error {
    Error::Storage { reason: failure.reason }
}

fn corrupt(reason: impl Into<String>) -> Error {
    Error::CorruptStore { reason: reason.into() }
}

fn col<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T> {
    row.try_get(index).map_err(|e| corrupt(format!("column {index}: {e}")))
}

fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Storage { reason: format!("{value} does not fit a database integer") })
}

fn to_u64(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| corrupt(format!("negative count or index {value}")))
}

fn to_i32(value: u32) -> Result<i32> {
    i32::try_from(value).map_err(|_| Error::Storage { reason: format!("{value} does not fit a database integer") })
}

fn to_u32(value: i32) -> Result<u32> {
    u32::try_from(value).map_err(|_| corrupt(format!("negative count {value}")))
}

fn to_u8(value: i32, what: &str) -> Result<u8> {
    u8::try_from(value).map_err(|_| corrupt(format!("{what} {value}")))
}

fn digest(blob: Vec<u8>) -> Result<[u8; 32]> {
    blob.try_into().map_err(|_| corrupt("a stored digest is not 32 bytes"))
}

fn optional_digest(blob: Option<Vec<u8>>) -> Result<Option<[u8; 32]>> {
    blob.map(digest).transpose()
}

// `allocated` is a counter kept by `allocate` (version 6), not a count of the entries: a
// count is a read of the whole list, O(entries) and, under SERIALIZABLE, a predicate lock that
// every concurrent allocation in the list conflicts with. It moves just after the commit, so
// within one transaction it does not yet include that transaction's own allocations.
const LIST_COLUMNS: &str = "SELECT l.id, l.purpose, l.uri, l.bits, l.capacity, l.allocated
    FROM issuer_status_list l WHERE l.tenant = $1";

fn to_list(row: &Row) -> Result<StatusListRow> {
    Ok(StatusListRow {
        id: col(row, 0)?,
        purpose: col(row, 1)?,
        uri: col(row, 2)?,
        bits: to_u8(col(row, 3)?, "bits")?,
        capacity: to_u64(col(row, 4)?)?,
        allocated: to_u64(col(row, 5)?)?,
    })
}

// `COLLATE "C"`: ids sort by their bytes, as SQLite sorts text, whatever the database's locale.
const CREDENTIAL_COLUMNS: &str =
    "SELECT id, config_id, subject_ref, issued_at, expires_at, copies FROM issuer_credential WHERE tenant = $1";

fn to_credential(row: &Row) -> Result<CredentialRow> {
    Ok(CredentialRow {
        id: col(row, 0)?,
        config_id: col(row, 1)?,
        subject_ref: col(row, 2)?,
        issued_at: col(row, 3)?,
        expires_at: col(row, 4)?,
        copies: to_u32(col(row, 5)?)?,
    })
}

const PENDING_COLUMNS: &str = "SELECT request_uri_digest, client_id, redirect_uri, code_challenge, state,
    config_ids, issuer_state, dpop_jkt, expires_at, handle_digest, completed, detail_config_ids
    FROM issuer_pending_authorization WHERE tenant = $1";

fn to_pending(row: &Row) -> Result<PendingAuthorizationRow> {
    Ok(PendingAuthorizationRow {
        request_uri_digest: digest(col(row, 0)?)?,
        client_id: col(row, 1)?,
        redirect_uri: col(row, 2)?,
        code_challenge: col(row, 3)?,
        state: col(row, 4)?,
        config_ids: col(row, 5)?,
        issuer_state: col(row, 6)?,
        dpop_jkt: col(row, 7)?,
        expires_at: col(row, 8)?,
        handle_digest: optional_digest(col(row, 9)?)?,
        completed: col(row, 10)?,
        detail_config_ids: col(row, 11)?,
    })
}

impl PgIssuerTx<'_, '_> {
    fn lists(&mut self, condition: &str, param: Option<&str>) -> Result<Vec<StatusListRow>> {
        let tenant = self.session.tenant();
        let sql = format!("{LIST_COLUMNS}{condition} ORDER BY l.id");
        let rows = match param {
            Some(param) => self.session.query(&sql, &[&tenant, &param]),
            None => self.session.query(&sql, &[&tenant]),
        }
        .map_err(storage)?;
        rows.iter().map(to_list).collect()
    }
}

impl IssuerTx for PgIssuerTx<'_, '_> {
    fn status_lists(&mut self, purpose: &str) -> Result<Vec<StatusListRow>> {
        self.lists(" AND l.purpose = $2", Some(purpose))
    }

    fn status_list(&mut self, id: i64) -> Result<Option<StatusListRow>> {
        let tenant = self.session.tenant();
        let row = self.session.query_opt(&format!("{LIST_COLUMNS} AND l.id = $2"), &[&tenant, &id]).map_err(storage)?;
        row.as_ref().map(to_list).transpose()
    }

    fn all_status_lists(&mut self) -> Result<Vec<StatusListRow>> {
        self.lists("", None)
    }

    fn insert_status_list(&mut self, list: &StatusListRow) -> Result<i64> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "INSERT INTO issuer_status_list (tenant, purpose, uri, bits, capacity) VALUES ($1, $2, $3, $4, $5)
                 RETURNING id",
                &[&tenant, &list.purpose, &list.uri, &i32::from(list.bits), &to_i64(list.capacity)?],
            )
            .map_err(storage)?
            .ok_or_else(|| Error::Storage { reason: "the new status list's id was not returned".into() })?;
        col(&row, 0)
    }

    fn is_allocated(&mut self, list_id: i64, index: u64) -> Result<bool> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "SELECT 1 FROM issuer_status_entry WHERE tenant = $1 AND list_id = $2 AND idx = $3",
                &[&tenant, &list_id, &to_i64(index)?],
            )
            .map_err(storage)?;
        Ok(row.is_some())
    }

    fn allocate(&mut self, list_id: i64, index: u64, credential_id: &str) -> Result<()> {
        if self.try_allocate(list_id, index, credential_id)? {
            Ok(())
        } else {
            Err(Error::Storage { reason: format!("entry {index} of status list {list_id} is already handed out") })
        }
    }

    fn try_allocate(&mut self, list_id: i64, index: u64, credential_id: &str) -> Result<bool> {
        let tenant = self.session.tenant();
        // One statement and no read: a probe (`is_allocated`) would take a predicate lock on
        // the index page, and every concurrent allocation into that page would then fail a
        // transaction. An index another transaction took but has not committed is a
        // serialization failure here, and the whole issuance is re-run.
        let taken = self
            .session
            .execute(
                "INSERT INTO issuer_status_entry (tenant, list_id, idx, credential_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant, list_id, idx) DO NOTHING",
                &[&tenant, &list_id, &to_i64(index)?, &credential_id],
            )
            .map_err(storage)?;
        if taken == 0 {
            return Ok(false);
        }
        // The list's fill counter moves after the commit (see `Session::add_after_commit`):
        // it only chooses when to open the next list; the primary key keeps an index single.
        self.session.add_after_commit(
            "UPDATE issuer_status_list SET allocated = allocated + $3 WHERE tenant = $1 AND id = $2",
            list_id,
            1,
        );
        Ok(true)
    }

    fn entries_of(&mut self, credential_id: &str) -> Result<Vec<(i64, u64)>> {
        let tenant = self.session.tenant();
        let rows = self
            .session
            .query(
                "SELECT list_id, idx FROM issuer_status_entry WHERE tenant = $1 AND credential_id = $2
                 ORDER BY list_id, idx",
                &[&tenant, &credential_id],
            )
            .map_err(storage)?;
        rows.iter().map(|row| Ok((col(row, 0)?, to_u64(col(row, 1)?)?))).collect()
    }

    fn status(&mut self, list_id: i64, index: u64) -> Result<u8> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "SELECT status FROM issuer_status_entry WHERE tenant = $1 AND list_id = $2 AND idx = $3",
                &[&tenant, &list_id, &to_i64(index)?],
            )
            .map_err(storage)?
            .ok_or_else(|| corrupt(format!("no entry {index} in list {list_id}")))?;
        to_u8(col(&row, 0)?, "status")
    }

    fn set_status(&mut self, list_id: i64, index: u64, value: u8) -> Result<()> {
        let tenant = self.session.tenant();
        let changed = self
            .session
            .execute(
                "UPDATE issuer_status_entry SET status = $4 WHERE tenant = $1 AND list_id = $2 AND idx = $3",
                &[&tenant, &list_id, &to_i64(index)?, &i32::from(value)],
            )
            .map_err(storage)?;
        if changed != 1 {
            return Err(corrupt(format!("no entry {index} in list {list_id}")));
        }
        Ok(())
    }

    fn non_valid(&mut self, list_id: i64) -> Result<Vec<(u64, u8)>> {
        let tenant = self.session.tenant();
        let rows = self
            .session
            .query(
                "SELECT idx, status FROM issuer_status_entry WHERE tenant = $1 AND list_id = $2 AND status != 0
                 ORDER BY idx",
                &[&tenant, &list_id],
            )
            .map_err(storage)?;
        rows.iter().map(|row| Ok((to_u64(col(row, 0)?)?, to_u8(col(row, 1)?, "status")?))).collect()
    }

    fn insert_credential(&mut self, row: &CredentialRow) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "INSERT INTO issuer_credential (tenant, id, config_id, subject_ref, issued_at, expires_at, copies)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &tenant,
                    &row.id,
                    &row.config_id,
                    &row.subject_ref,
                    &row.issued_at,
                    &row.expires_at,
                    &to_i32(row.copies)?,
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn credential(&mut self, id: &str) -> Result<Option<CredentialRow>> {
        let tenant = self.session.tenant();
        let row =
            self.session.query_opt(&format!("{CREDENTIAL_COLUMNS} AND id = $2"), &[&tenant, &id]).map_err(storage)?;
        row.as_ref().map(to_credential).transpose()
    }

    fn credentials_of(&mut self, subject_ref: &str) -> Result<Vec<CredentialRow>> {
        let tenant = self.session.tenant();
        let rows = self
            .session
            .query(
                &format!("{CREDENTIAL_COLUMNS} AND subject_ref = $2 ORDER BY issued_at, id COLLATE \"C\""),
                &[&tenant, &subject_ref],
            )
            .map_err(storage)?;
        rows.iter().map(to_credential).collect()
    }

    fn insert_offer(&mut self, row: &OfferRow) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "INSERT INTO issuer_offer (tenant, code_digest, tx_code_digest, subject_ref, config_ids, expires_at,
                     failed_attempts, redeemed)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &tenant,
                    &&row.code_digest[..],
                    &row.tx_code_digest.as_ref().map(|d| &d[..]),
                    &row.subject_ref,
                    &row.config_ids,
                    &row.expires_at,
                    &to_i32(row.failed_attempts)?,
                    &row.redeemed,
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn offer(&mut self, code_digest: &[u8; 32]) -> Result<Option<OfferRow>> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "SELECT tx_code_digest, subject_ref, config_ids, expires_at, failed_attempts, redeemed
                 FROM issuer_offer WHERE tenant = $1 AND code_digest = $2",
                &[&tenant, &&code_digest[..]],
            )
            .map_err(storage)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(OfferRow {
            code_digest: *code_digest,
            tx_code_digest: optional_digest(col(&row, 0)?)?,
            subject_ref: col(&row, 1)?,
            config_ids: col(&row, 2)?,
            expires_at: col(&row, 3)?,
            failed_attempts: to_u32(col(&row, 4)?)?,
            redeemed: col(&row, 5)?,
        }))
    }

    fn update_offer(&mut self, row: &OfferRow) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "UPDATE issuer_offer SET failed_attempts = $3, redeemed = $4 WHERE tenant = $1 AND code_digest = $2",
                &[&tenant, &&row.code_digest[..], &to_i32(row.failed_attempts)?, &row.redeemed],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn insert_access_token(&mut self, row: &AccessTokenRow) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "INSERT INTO issuer_access_token (tenant, token_digest, subject_ref, config_ids, expires_at,
                     used_config_ids, dpop_jkt, credential_identifiers)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &tenant,
                    &&row.token_digest[..],
                    &row.subject_ref,
                    &row.config_ids,
                    &row.expires_at,
                    &row.used_config_ids,
                    &row.dpop_jkt,
                    &row.credential_identifiers,
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn access_token(&mut self, token_digest: &[u8; 32]) -> Result<Option<AccessTokenRow>> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "SELECT subject_ref, config_ids, expires_at, used_config_ids, dpop_jkt, credential_identifiers
                 FROM issuer_access_token WHERE tenant = $1 AND token_digest = $2",
                &[&tenant, &&token_digest[..]],
            )
            .map_err(storage)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(AccessTokenRow {
            token_digest: *token_digest,
            subject_ref: col(&row, 0)?,
            config_ids: col(&row, 1)?,
            expires_at: col(&row, 2)?,
            used_config_ids: col(&row, 3)?,
            dpop_jkt: col(&row, 4)?,
            credential_identifiers: col(&row, 5)?,
        }))
    }

    fn update_access_token(&mut self, row: &AccessTokenRow) -> Result<()> {
        let tenant = self.session.tenant();
        let changed = self
            .session
            .execute(
                "UPDATE issuer_access_token SET used_config_ids = $3 WHERE tenant = $1 AND token_digest = $2",
                &[&tenant, &&row.token_digest[..], &row.used_config_ids],
            )
            .map_err(storage)?;
        if changed != 1 {
            return Err(corrupt("the access token to update is not stored"));
        }
        Ok(())
    }

    fn delete_access_token(&mut self, token_digest: &[u8; 32]) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "DELETE FROM issuer_access_token WHERE tenant = $1 AND token_digest = $2",
                &[&tenant, &&token_digest[..]],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn insert_nonce(&mut self, nonce_digest: &[u8; 32], expires_at: i64) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "INSERT INTO issuer_nonce (tenant, nonce_digest, expires_at) VALUES ($1, $2, $3)",
                &[&tenant, &&nonce_digest[..], &expires_at],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn consume_nonce(&mut self, nonce_digest: &[u8; 32], now: i64) -> Result<bool> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "DELETE FROM issuer_nonce WHERE tenant = $1 AND nonce_digest = $2 RETURNING expires_at",
                &[&tenant, &&nonce_digest[..]],
            )
            .map_err(storage)?;
        let expires_at: Option<i64> = row.as_ref().map(|row| col(row, 0)).transpose()?;
        Ok(expires_at.is_some_and(|expires_at| now < expires_at))
    }

    fn insert_pending_authorization(&mut self, row: &PendingAuthorizationRow) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "INSERT INTO issuer_pending_authorization (tenant, request_uri_digest, client_id, redirect_uri,
                     code_challenge, state, config_ids, issuer_state, dpop_jkt, expires_at, handle_digest, completed,
                     detail_config_ids)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                &[
                    &tenant,
                    &&row.request_uri_digest[..],
                    &row.client_id,
                    &row.redirect_uri,
                    &row.code_challenge,
                    &row.state,
                    &row.config_ids,
                    &row.issuer_state,
                    &row.dpop_jkt,
                    &row.expires_at,
                    &row.handle_digest.as_ref().map(|d| &d[..]),
                    &row.completed,
                    &row.detail_config_ids,
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn pending_authorization(&mut self, request_uri_digest: &[u8; 32]) -> Result<Option<PendingAuthorizationRow>> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(&format!("{PENDING_COLUMNS} AND request_uri_digest = $2"), &[&tenant, &&request_uri_digest[..]])
            .map_err(storage)?;
        row.as_ref().map(to_pending).transpose()
    }

    fn pending_authorization_by_handle(&mut self, handle_digest: &[u8; 32]) -> Result<Option<PendingAuthorizationRow>> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(&format!("{PENDING_COLUMNS} AND handle_digest = $2"), &[&tenant, &&handle_digest[..]])
            .map_err(storage)?;
        row.as_ref().map(to_pending).transpose()
    }

    fn update_pending_authorization(&mut self, row: &PendingAuthorizationRow) -> Result<()> {
        let tenant = self.session.tenant();
        let changed = self
            .session
            .execute(
                "UPDATE issuer_pending_authorization SET expires_at = $3, handle_digest = $4, completed = $5
                 WHERE tenant = $1 AND request_uri_digest = $2",
                &[
                    &tenant,
                    &&row.request_uri_digest[..],
                    &row.expires_at,
                    &row.handle_digest.as_ref().map(|d| &d[..]),
                    &row.completed,
                ],
            )
            .map_err(storage)?;
        if changed != 1 {
            return Err(corrupt("the pending authorization to update is not stored"));
        }
        Ok(())
    }

    fn insert_authorization_code(&mut self, row: &AuthorizationCodeRow) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "INSERT INTO issuer_authorization_code (tenant, code_digest, client_id, redirect_uri, code_challenge,
                     dpop_jkt, subject_ref, config_ids, expires_at, redeemed, access_token_digest, detail_config_ids)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[
                    &tenant,
                    &&row.code_digest[..],
                    &row.client_id,
                    &row.redirect_uri,
                    &row.code_challenge,
                    &row.dpop_jkt,
                    &row.subject_ref,
                    &row.config_ids,
                    &row.expires_at,
                    &row.redeemed,
                    &row.access_token_digest.as_ref().map(|d| &d[..]),
                    &row.detail_config_ids,
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn authorization_code(&mut self, code_digest: &[u8; 32]) -> Result<Option<AuthorizationCodeRow>> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "SELECT client_id, redirect_uri, code_challenge, dpop_jkt, subject_ref, config_ids, expires_at,
                     redeemed, access_token_digest, detail_config_ids
                 FROM issuer_authorization_code WHERE tenant = $1 AND code_digest = $2",
                &[&tenant, &&code_digest[..]],
            )
            .map_err(storage)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(AuthorizationCodeRow {
            code_digest: *code_digest,
            client_id: col(&row, 0)?,
            redirect_uri: col(&row, 1)?,
            code_challenge: col(&row, 2)?,
            dpop_jkt: col(&row, 3)?,
            subject_ref: col(&row, 4)?,
            config_ids: col(&row, 5)?,
            expires_at: col(&row, 6)?,
            redeemed: col(&row, 7)?,
            access_token_digest: optional_digest(col(&row, 8)?)?,
            detail_config_ids: col(&row, 9)?,
        }))
    }

    fn update_authorization_code(&mut self, row: &AuthorizationCodeRow) -> Result<()> {
        let tenant = self.session.tenant();
        let changed = self
            .session
            .execute(
                "UPDATE issuer_authorization_code SET expires_at = $3, redeemed = $4, access_token_digest = $5
                 WHERE tenant = $1 AND code_digest = $2",
                &[
                    &tenant,
                    &&row.code_digest[..],
                    &row.expires_at,
                    &row.redeemed,
                    &row.access_token_digest.as_ref().map(|d| &d[..]),
                ],
            )
            .map_err(storage)?;
        if changed != 1 {
            return Err(corrupt("the authorization code to update is not stored"));
        }
        Ok(())
    }

    fn first_use_of_proof(&mut self, proof_digest: &[u8; 32], expires_at: i64, now: i64) -> Result<bool> {
        let tenant = self.session.tenant();
        // The primary key decides; a concurrent transaction inserting the same digest makes
        // this one wait for it and then lose (a serialization failure, re-run: it sees the row).
        let changed = self
            .session
            .execute(
                "INSERT INTO issuer_proof_used (tenant, proof_digest, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant, proof_digest) DO UPDATE SET expires_at = EXCLUDED.expires_at
                 WHERE issuer_proof_used.expires_at <= $4",
                &[&tenant, &&proof_digest[..], &expires_at, &now],
            )
            .map_err(storage)?;
        Ok(changed == 1)
    }

    fn insert_offer_reference(&mut self, row: &OfferReferenceRow) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "INSERT INTO issuer_offer_reference (tenant, id_digest, code_digest, sealed, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&tenant, &&row.id_digest[..], &&row.code_digest[..], &row.sealed, &row.expires_at],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn offer_reference(&mut self, id_digest: &[u8; 32], now: i64) -> Result<Option<OfferReferenceRow>> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "SELECT code_digest, sealed, expires_at FROM issuer_offer_reference
                 WHERE tenant = $1 AND id_digest = $2 AND expires_at > $3",
                &[&tenant, &&id_digest[..], &now],
            )
            .map_err(storage)?;
        row.map(|row| {
            Ok(OfferReferenceRow {
                id_digest: *id_digest,
                code_digest: digest(col(&row, 0)?)?,
                sealed: col(&row, 1)?,
                expires_at: col(&row, 2)?,
            })
        })
        .transpose()
    }

    fn pending_offer_references(&mut self, now: i64) -> Result<u64> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "SELECT count(*) FROM issuer_offer_reference WHERE tenant = $1 AND expires_at > $2",
                &[&tenant, &now],
            )
            .map_err(storage)?
            .ok_or_else(|| Error::Storage { reason: "a count returned no row".into() })?;
        to_u64(col(&row, 0)?)
    }

    fn delete_offer_references(&mut self, code_digest: &[u8; 32]) -> Result<()> {
        let tenant = self.session.tenant();
        self.session
            .execute(
                "DELETE FROM issuer_offer_reference WHERE tenant = $1 AND code_digest = $2",
                &[&tenant, &&code_digest[..]],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn purge_expired(&mut self, now: i64, limit: u32) -> Result<u64> {
        let tenant = self.session.tenant();
        let limit = i64::from(limit);
        // Each DELETE walks the (tenant, expires_at) index from its start: cost proportional
        // to what it removes, not to the table, and never another school's rows.
        let mut purged = 0u64;
        for (table, key) in [
            ("issuer_offer", "code_digest"),
            ("issuer_access_token", "token_digest"),
            ("issuer_nonce", "nonce_digest"),
            ("issuer_pending_authorization", "request_uri_digest"),
            ("issuer_authorization_code", "code_digest"),
            ("issuer_proof_used", "proof_digest"),
            ("issuer_offer_reference", "id_digest"),
        ] {
            let changed = self
                .session
                .execute(
                    &format!(
                        "DELETE FROM {table} WHERE tenant = $1 AND {key} IN
                         (SELECT {key} FROM {table} WHERE tenant = $1 AND expires_at <= $2
                          ORDER BY expires_at LIMIT $3)"
                    ),
                    &[&tenant, &now, &limit],
                )
                .map_err(storage)?;
            purged = purged.saturating_add(changed);
        }
        Ok(purged)
    }
}
