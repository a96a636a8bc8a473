//! The consent register's store on PostgreSQL: the same records as
//! [`SqliteConsentStore`](schooltas_verifier::register::SqliteConsentStore), each with its
//! school's tenant key, in `SERIALIZABLE` transactions.

use postgres::Row;
use postgres::types::FromSql;
use schooltas_school::LegalBasis;
use schooltas_status_list::{StatusListUri, StatusReference};
use schooltas_verifier::register::{ConsentId, ConsentRecord, ConsentStore, ConsentTx, Evidence, Withdrawal};
use schooltas_verifier::{Error, Result};
use serde_json::Value;

use crate::migrations;
use crate::pool::{DbFailure, Pool, Session, serializable};
use crate::tenant::Tenant;

/// The consent register's store of one school (tenant) in a PostgreSQL database shared by
/// many: every operation one `SERIALIZABLE` transaction, every query naming the tenant, and
/// the table's row-level-security policy as the second wall.
///
/// ```no_run
/// use schooltas_postgres::{PostgresConsentStore, Tenant, connect};
/// use schooltas_verifier::ConsentRegister;
///
/// let pool = connect("host=/run/postgresql user=schooltas dbname=schooltas", 8)?;
/// let register = ConsentRegister::new(PostgresConsentStore::open(pool, Tenant::new("00AA")?)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PostgresConsentStore {
    pool: Pool,
    tenant: Tenant,
}

impl PostgresConsentStore {
    /// The store of `tenant` on `pool`'s database: brings the register's table to the newest
    /// schema version (creating it in an empty database) and refuses a role that bypasses
    /// row-level security.
    pub fn open(pool: Pool, tenant: Tenant) -> crate::Result<Self> {
        migrations::prepare(&pool, "consent", migrations::CONSENT)?;
        Ok(PostgresConsentStore { pool, tenant })
    }

    /// The school this handle reads and writes.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }
}

impl std::fmt::Debug for PostgresConsentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConsentStore").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

impl ConsentStore for PostgresConsentStore {
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn ConsentTx) -> Result<()>) -> Result<()> {
        serializable(&self.pool, &self.tenant, &mut |session| work(&mut PgConsentTx { session }), |reason| {
            Error::Storage { reason }
        })
    }
}

struct PgConsentTx<'s, 'c> {
    session: &'s mut Session<'c>,
}

fn storage(failure: DbFailure) -> Error {
    Error::Storage { reason: failure.reason }
}

fn corrupt(reason: &str) -> Error {
    Error::CorruptStore { reason: reason.to_owned() }
}

fn col<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T> {
    row.try_get(index).map_err(|e| Error::CorruptStore { reason: format!("column {index}: {e}") })
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

const COLUMNS: &str = "SELECT id, verifier, subject, purpose, object, channel, legal_basis, granted_at, valid_until,
    approver_jwk, request_nonce, evidence, status_uri, status_idx, withdrawn_at, withdrawal_evidence,
    status_issuer FROM consent_record WHERE tenant = $1";

fn to_record(row: &Row) -> Result<ConsentRecord> {
    let status = match (col::<Option<String>>(row, 12)?, col::<Option<i64>>(row, 13)?) {
        (Some(uri), Some(idx)) => {
            let uri = StatusListUri::new(uri).map_err(|_| corrupt("a stored status list URI is not valid"))?;
            let idx = u64::try_from(idx).map_err(|_| corrupt("a stored status index is negative"))?;
            Some(StatusReference::new(uri, idx))
        }
        (None, None) => None,
        _ => return Err(corrupt("a stored status reference is half present")),
    };
    let withdrawn = match (col::<Option<i64>>(row, 14)?, col::<Option<String>>(row, 15)?) {
        (Some(at), Some(evidence)) => Some(Withdrawal { at, evidence }),
        (None, None) => None,
        _ => return Err(corrupt("a stored withdrawal is half present")),
    };
    let id: String = col(row, 0)?;
    let legal_basis: String = col(row, 6)?;
    let approver_jwk: String = col(row, 9)?;
    let evidence: String = col(row, 11)?;
    let status_issuer: Option<String> = col(row, 16)?;
    Ok(ConsentRecord {
        id: ConsentId::parse(&id).map_err(|_| corrupt("a stored consent id is not valid"))?,
        verifier: col(row, 1)?,
        subject: col(row, 2)?,
        purpose: col(row, 3)?,
        object: col(row, 4)?,
        channel: col(row, 5)?,
        legal_basis: serde_json::from_value(Value::String(legal_basis))
            .map_err(|_| corrupt("a stored legal basis is not one this library knows"))?,
        granted_at: col(row, 7)?,
        valid_until: col(row, 8)?,
        approver_jwk: from_text(&approver_jwk, "approver key")?,
        request_nonce: col(row, 10)?,
        evidence: from_text::<Evidence>(&evidence, "evidence")?,
        status,
        status_issuer: status_issuer.as_deref().map(|text| from_text(text, "status issuer")).transpose()?,
        withdrawn,
    })
}

impl PgConsentTx<'_, '_> {
    fn records(&mut self, condition: &str, params: &[&str]) -> Result<Vec<ConsentRecord>> {
        let tenant = self.session.tenant();
        // `COLLATE "C"`: ids sort by their bytes, as SQLite sorts text, whatever the locale.
        let sql = format!("{COLUMNS} AND {condition} ORDER BY granted_at, id COLLATE \"C\"");
        let mut all: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&tenant];
        all.extend(params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)));
        let rows = self.session.query(&sql, &all).map_err(storage)?;
        rows.iter().map(to_record).collect()
    }
}

impl ConsentTx for PgConsentTx<'_, '_> {
    fn insert(&mut self, record: &ConsentRecord) -> Result<()> {
        let status_idx = match &record.status {
            Some(status) => Some(
                i64::try_from(status.index())
                    .map_err(|_| Error::InvalidRecord { reason: "the status index does not fit a database integer" })?,
            ),
            None => None,
        };
        let tenant = self.session.tenant();
        self.session
            .execute(
                "INSERT INTO consent_record (tenant, id, verifier, subject, purpose, object, channel, legal_basis,
                     granted_at, valid_until, approver_jwk, request_nonce, evidence, status_uri, status_idx,
                     withdrawn_at, withdrawal_evidence, status_issuer)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
                &[
                    &tenant,
                    &record.id.as_str(),
                    &record.verifier,
                    &record.subject,
                    &record.purpose,
                    &record.object,
                    &record.channel,
                    &basis_to_text(record.legal_basis)?,
                    &record.granted_at,
                    &record.valid_until,
                    &to_text(&record.approver_jwk, "the approver key")?,
                    &record.request_nonce,
                    &to_text(&record.evidence, "the evidence")?,
                    &record.status.as_ref().map(|s| s.uri().as_str()),
                    &status_idx,
                    &record.withdrawn.as_ref().map(|w| w.at),
                    &record.withdrawn.as_ref().map(|w| w.evidence.as_str()),
                    &record.status_issuer.as_ref().map(|issuer| to_text(issuer, "the status issuer")).transpose()?,
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn get(&mut self, id: &ConsentId) -> Result<Option<ConsentRecord>> {
        let tenant = self.session.tenant();
        let row =
            self.session.query_opt(&format!("{COLUMNS} AND id = $2"), &[&tenant, &id.as_str()]).map_err(storage)?;
        row.as_ref().map(to_record).transpose()
    }

    fn id_for_request(&mut self, verifier: &str, request_nonce: &str) -> Result<Option<ConsentId>> {
        let tenant = self.session.tenant();
        let row = self
            .session
            .query_opt(
                "SELECT id FROM consent_record WHERE tenant = $1 AND verifier = $2 AND request_nonce = $3",
                &[&tenant, &verifier, &request_nonce],
            )
            .map_err(storage)?;
        row.map(|row| {
            let id: String = col(&row, 0)?;
            ConsentId::parse(&id).map_err(|_| corrupt("a stored consent id is not valid"))
        })
        .transpose()
    }

    fn find(&mut self, subject: &str, purpose: &str) -> Result<Vec<ConsentRecord>> {
        self.records("subject = $2 AND purpose = $3", &[subject, purpose])
    }

    fn of_subject(&mut self, subject: &str) -> Result<Vec<ConsentRecord>> {
        self.records("subject = $2", &[subject])
    }

    fn set_withdrawal(&mut self, id: &ConsentId, withdrawal: &Withdrawal) -> Result<bool> {
        let tenant = self.session.tenant();
        let changed = self
            .session
            .execute(
                "UPDATE consent_record SET withdrawn_at = $3, withdrawal_evidence = $4
                 WHERE tenant = $1 AND id = $2 AND withdrawn_at IS NULL",
                &[&tenant, &id.as_str(), &withdrawal.at, &withdrawal.evidence],
            )
            .map_err(storage)?;
        Ok(changed == 1)
    }
}
