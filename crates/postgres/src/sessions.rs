//! The verifier front end's sessions on PostgreSQL: [`SessionStore`] shared by every server
//! process of a school, so a session opened on one instance is served, answered and read on
//! any.
//!
//! A row per session: the SHA-256 digests of its id (the key), `state` and nonce (the two
//! lookups), its expiry, whether it is accepted, and everything else — the request, the
//! outcome with the disclosed claims, the response code — **sealed** ([`SealingKey`], the
//! tenant and id digest as associated data). Each change is a read, a rule and a write in one
//! `SERIALIZABLE` transaction: an accepted outcome is set once, also when two instances race.

use std::collections::BTreeMap;

use postgres::Row;
use schooltas_did::VerifyingKey;
use schooltas_oid4vc::oid4vp::AuthorizationRequest;
use schooltas_school::LegalBasis;
use schooltas_verifier::register::ConsentId;
use schooltas_verifier::sessions::{SessionError, SessionOutcome, SessionRecord, SessionStore};
use schooltas_verifier::{Check, DisclosedCredential, Failure, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::migrations;
use crate::pool::{DbFailure, Pool, Session, serializable};
use crate::requests::digest;
use crate::seal::SealingKey;
use crate::tenant::Tenant;

/// The HKDF info string of the key that seals the sessions' rows.
pub const SESSION_SEALING_INFO: &str = "schooltas verifier session store v1";

/// How many expired rows one opening purges (at most).
const PURGE_PER_OPEN: i64 = 256;

/// A school's (tenant's) verifier sessions in a PostgreSQL database shared by many schools
/// and by every server process of each.
///
/// What a shared store does not keep of an accepted verdict: the parsed guardian approval
/// (its JWT is kept, as evidence), the dropped extra claims and the guardianship's status
/// entry — the consent register keeps what a consent needs, recorded before the outcome is set.
///
/// ```no_run
/// use schooltas_postgres::{PostgresSessionStore, SESSION_SEALING_INFO, SealingKey, Tenant, connect};
///
/// let pool = connect("postgres://schooltas@127.0.0.1:5432/schooltas", 8)?;
/// let key = SealingKey::derive(b"the school's shared key material", SESSION_SEALING_INFO);
/// let sessions = PostgresSessionStore::open(pool, Tenant::new("00AA")?, key)?;
/// // `VerifierService::with_session_store(sessions)` keeps a front end's sessions here.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PostgresSessionStore {
    pool: Pool,
    tenant: Tenant,
    sealing: SealingKey,
}

impl std::fmt::Debug for PostgresSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSessionStore").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredFailure {
    check: String,
    query_id: Option<String>,
    reason: String,
}

#[derive(Serialize, Deserialize)]
struct StoredCredential {
    query_id: String,
    issuer: String,
    vct: String,
    claims: Map<String, Value>,
    holder_key: Option<Map<String, Value>>,
    presentation: String,
}

#[derive(Serialize, Deserialize)]
struct StoredVerdict {
    credentials: Vec<StoredCredential>,
    failures: Vec<StoredFailure>,
    guardian_approval_jwt: Option<String>,
    guardian_approval_required: bool,
    status_unknown: Vec<String>,
    subject: Option<String>,
    legal_bases: BTreeMap<String, LegalBasis>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum StoredOutcome {
    Pending { last_refusal: Option<Vec<StoredFailure>> },
    Declined { error: String },
    Accepted { verdict: Box<StoredVerdict>, consent: Option<String> },
}

#[derive(Serialize, Deserialize)]
struct StoredSession {
    id: String,
    request_object: String,
    request: AuthorizationRequest,
    state: String,
    nonce: String,
    redirect_uri: Option<String>,
    response_code: Option<String>,
    outcome: StoredOutcome,
}

fn damaged() -> SessionError {
    SessionError::Storage {
        reason: "a stored session does not open under this school's sealing key (another key, or a changed row)".into(),
    }
}

fn failures_to_stored(failures: &[Failure]) -> Vec<StoredFailure> {
    failures
        .iter()
        .map(|f| StoredFailure {
            check: f.check.name().to_owned(),
            query_id: f.query_id.clone(),
            reason: f.reason.clone(),
        })
        .collect()
}

fn failures_from_stored(failures: Vec<StoredFailure>) -> Result<Vec<Failure>, SessionError> {
    failures
        .into_iter()
        .map(|f| {
            let check = Check::from_name(&f.check).ok_or_else(damaged)?;
            Ok(Failure { check, query_id: f.query_id, reason: f.reason })
        })
        .collect()
}

fn verdict_to_stored(verdict: &Verdict) -> StoredVerdict {
    StoredVerdict {
        credentials: verdict
            .credentials
            .iter()
            .map(|c| StoredCredential {
                query_id: c.query_id.clone(),
                issuer: c.issuer.clone(),
                vct: c.vct.clone(),
                claims: c.claims.clone(),
                holder_key: c.holder_key.as_ref().map(VerifyingKey::to_jwk),
                presentation: c.presentation.clone(),
            })
            .collect(),
        failures: failures_to_stored(&verdict.failures),
        guardian_approval_jwt: verdict.guardian_approval_jwt.clone(),
        guardian_approval_required: verdict.guardian_approval_required,
        status_unknown: verdict.status_unknown.clone(),
        subject: verdict.subject.clone(),
        legal_bases: verdict.legal_bases.clone(),
    }
}

fn verdict_from_stored(stored: StoredVerdict) -> Result<Verdict, SessionError> {
    let mut verdict = Verdict::default();
    for c in stored.credentials {
        let holder_key = match c.holder_key {
            Some(jwk) => Some(VerifyingKey::from_jwk(&jwk).map_err(|_| damaged())?),
            None => None,
        };
        verdict.credentials.push(DisclosedCredential {
            query_id: c.query_id,
            issuer: c.issuer,
            vct: c.vct,
            claims: c.claims,
            holder_key,
            presentation: c.presentation,
        });
    }
    verdict.failures = failures_from_stored(stored.failures)?;
    verdict.guardian_approval_jwt = stored.guardian_approval_jwt;
    verdict.guardian_approval_required = stored.guardian_approval_required;
    verdict.status_unknown = stored.status_unknown;
    verdict.subject = stored.subject;
    verdict.legal_bases = stored.legal_bases;
    Ok(verdict)
}

fn to_stored(session: &SessionRecord) -> StoredSession {
    let outcome = match &session.outcome {
        SessionOutcome::Declined { error } => StoredOutcome::Declined { error: error.clone() },
        SessionOutcome::Accepted { verdict, consent } => StoredOutcome::Accepted {
            verdict: Box::new(verdict_to_stored(verdict)),
            consent: consent.as_ref().map(|id| id.as_str().to_owned()),
        },
        SessionOutcome::Pending { last_refusal } => {
            StoredOutcome::Pending { last_refusal: last_refusal.as_deref().map(failures_to_stored) }
        }
        // An outcome this version does not know is kept as pending (nothing accepted).
        _ => StoredOutcome::Pending { last_refusal: None },
    };
    StoredSession {
        id: session.id.clone(),
        request_object: session.request_object.clone(),
        request: session.request.clone(),
        state: session.state.clone(),
        nonce: session.nonce.clone(),
        redirect_uri: session.redirect_uri.clone(),
        response_code: session.response_code.clone(),
        outcome,
    }
}

fn from_stored(stored: StoredSession, expires_at: i64) -> Result<SessionRecord, SessionError> {
    let outcome = match stored.outcome {
        StoredOutcome::Pending { last_refusal } => {
            SessionOutcome::Pending { last_refusal: last_refusal.map(failures_from_stored).transpose()? }
        }
        StoredOutcome::Declined { error } => SessionOutcome::Declined { error },
        StoredOutcome::Accepted { verdict, consent } => SessionOutcome::Accepted {
            verdict: Box::new(verdict_from_stored(*verdict)?),
            consent: consent.map(|id| ConsentId::parse(&id).map_err(|_| damaged())).transpose()?,
        },
    };
    Ok(SessionRecord {
        id: stored.id,
        request_object: stored.request_object,
        request: stored.request,
        state: stored.state,
        nonce: stored.nonce,
        expires_at,
        redirect_uri: stored.redirect_uri,
        response_code: stored.response_code,
        outcome,
    })
}

fn storage(failure: DbFailure) -> SessionError {
    SessionError::Storage { reason: failure.reason }
}

fn col<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, SessionError> {
    row.try_get(index).map_err(|e| SessionError::Storage { reason: format!("column {index}: {e}") })
}

impl PostgresSessionStore {
    /// The store of `tenant` on `pool`'s database, sealing rows with `sealing` (the same key in
    /// every instance of the school): migrates the verifier's tables and refuses a role that
    /// bypasses row-level security.
    pub fn open(pool: Pool, tenant: Tenant, sealing: SealingKey) -> crate::Result<Self> {
        migrations::prepare(&pool, "verifier", migrations::VERIFIER)?;
        Ok(PostgresSessionStore { pool, tenant, sealing })
    }

    /// The school this handle reads and writes.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    fn run(&self, work: &mut dyn FnMut(&mut Session<'_>) -> Result<(), SessionError>) -> Result<(), SessionError> {
        serializable(&self.pool, &self.tenant, work, |reason| SessionError::Storage { reason })
    }

    fn aad(&self, id_digest: &[u8]) -> Vec<u8> {
        let mut aad = b"verifier_session\0".to_vec();
        aad.extend_from_slice(self.tenant.as_str().as_bytes());
        aad.push(0);
        aad.extend_from_slice(id_digest);
        aad
    }

    fn seal(&self, id_digest: &[u8], session: &SessionRecord) -> Result<Vec<u8>, SessionError> {
        let plain = serde_json::to_vec(&to_stored(session))
            .map(Zeroizing::new)
            .map_err(|_| SessionError::Storage { reason: "the session cannot be written as JSON".into() })?;
        self.sealing
            .seal(&self.aad(id_digest), &plain)
            .ok_or_else(|| SessionError::Storage { reason: "no randomness to seal the session with".into() })
    }

    fn unseal(&self, id_digest: &[u8], sealed: &[u8], expires_at: i64) -> Result<SessionRecord, SessionError> {
        let plain = self.sealing.open(&self.aad(id_digest), sealed).ok_or_else(damaged)?;
        let stored: StoredSession = serde_json::from_slice(&plain).map_err(|_| damaged())?;
        from_stored(stored, expires_at)
    }

    /// The live row of `column = digest`: (id digest, session).
    fn find(
        &self,
        session: &mut Session<'_>,
        column: &str,
        key: &[u8],
        now: i64,
    ) -> Result<Option<(Vec<u8>, SessionRecord)>, SessionError> {
        let row = session
            .query_opt(
                &format!(
                    "SELECT id_digest, sealed, expires_at FROM verifier_session
                     WHERE tenant = $1 AND {column} = $2 AND expires_at > $3"
                ),
                &[&session.tenant(), &key, &now],
            )
            .map_err(storage)?;
        match row {
            Some(row) => {
                let id_digest: Vec<u8> = col(&row, 0)?;
                let record = self.unseal(&id_digest, &col::<Vec<u8>>(&row, 1)?, col(&row, 2)?)?;
                Ok(Some((id_digest, record)))
            }
            None => Ok(None),
        }
    }

    /// Reads session `id`, lets `change` change it (`false`: leave it), writes it back: one
    /// transaction. Whether it changed.
    fn update(
        &self,
        id: &str,
        now: i64,
        change: &mut dyn FnMut(&mut SessionRecord) -> bool,
    ) -> Result<bool, SessionError> {
        let id_digest = digest(id);
        let mut changed = false;
        self.run(&mut |session| {
            changed = false;
            let Some((_, mut record)) = self.find(session, "id_digest", &id_digest, now)? else { return Ok(()) };
            if !change(&mut record) {
                return Ok(());
            }
            let sealed = self.seal(&id_digest, &record)?;
            let accepted = matches!(record.outcome, SessionOutcome::Accepted { .. });
            session
                .execute(
                    "UPDATE verifier_session SET sealed = $3, expires_at = $4, accepted = $5
                     WHERE tenant = $1 AND id_digest = $2",
                    &[&session.tenant(), &id_digest, &sealed, &record.expires_at, &accepted],
                )
                .map_err(storage)?;
            changed = true;
            Ok(())
        })?;
        Ok(changed)
    }

    fn id_by(&self, column: &str, key: &str, now: i64) -> Result<Option<String>, SessionError> {
        let key = digest(key);
        let mut found = None;
        self.run(&mut |session| {
            found = self.find(session, column, &key, now)?.map(|(_, record)| record.id);
            Ok(())
        })?;
        Ok(found)
    }

    fn purge_limited(&self, now: i64, limit: i64) -> Result<usize, SessionError> {
        let mut purged = 0u64;
        self.run(&mut |session| {
            purged = session
                .execute(
                    "DELETE FROM verifier_session WHERE tenant = $1 AND id_digest IN
                     (SELECT id_digest FROM verifier_session WHERE tenant = $1 AND expires_at <= $2
                      ORDER BY expires_at LIMIT $3)",
                    &[&session.tenant(), &now, &limit],
                )
                .map_err(storage)?;
            Ok(())
        })?;
        Ok(usize::try_from(purged).unwrap_or(usize::MAX))
    }
}

impl SessionStore for PostgresSessionStore {
    fn open(&self, record: SessionRecord, now: i64, limit: usize) -> Result<(), SessionError> {
        let _ = self.purge_limited(now, PURGE_PER_OPEN);
        let id_digest = digest(&record.id);
        let (state_digest, nonce_digest) = (digest(&record.state), digest(&record.nonce));
        let sealed = self.seal(&id_digest, &record)?;
        let limit_i64 = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(&mut |session| {
            let tenant = session.tenant();
            let row = session
                .query_opt(
                    "SELECT count(*) FROM verifier_session WHERE tenant = $1 AND expires_at > $2",
                    &[&tenant, &now],
                )
                .map_err(storage)?;
            let open: i64 = match &row {
                Some(row) => col(row, 0)?,
                None => 0,
            };
            if open >= limit_i64 {
                return Err(SessionError::Full { limit });
            }
            let inserted = session
                .execute(
                    "INSERT INTO verifier_session (tenant, id_digest, state_digest, nonce_digest, expires_at, accepted, sealed)
                     VALUES ($1, $2, $3, $4, $5, false, $6) ON CONFLICT DO NOTHING",
                    &[&tenant, &id_digest, &state_digest, &nonce_digest, &record.expires_at, &sealed],
                )
                .map_err(storage)?;
            if inserted != 1 {
                return Err(SessionError::Duplicate);
            }
            Ok(())
        })
    }

    fn get(&self, id: &str, now: i64) -> Result<Option<SessionRecord>, SessionError> {
        let id_digest = digest(id);
        let mut found = None;
        self.run(&mut |session| {
            found = self.find(session, "id_digest", &id_digest, now)?.map(|(_, record)| record);
            Ok(())
        })?;
        Ok(found)
    }

    fn id_by_state(&self, state: &str, now: i64) -> Result<Option<String>, SessionError> {
        self.id_by("state_digest", state, now)
    }

    fn id_by_nonce(&self, nonce: &str, now: i64) -> Result<Option<String>, SessionError> {
        self.id_by("nonce_digest", nonce, now)
    }

    fn decline(&self, id: &str, error: &str, now: i64) -> Result<bool, SessionError> {
        self.update(id, now, &mut |record| {
            if matches!(record.outcome, SessionOutcome::Accepted { .. }) {
                return false;
            }
            record.outcome = SessionOutcome::Declined { error: error.to_owned() };
            true
        })
    }

    fn refuse(&self, id: &str, failures: &[Failure], now: i64) -> Result<(), SessionError> {
        self.update(id, now, &mut |record| {
            if matches!(record.outcome, SessionOutcome::Accepted { .. }) {
                return false;
            }
            record.outcome = SessionOutcome::Pending { last_refusal: Some(failures.to_vec()) };
            true
        })
        .map(drop)
    }

    fn accept(
        &self,
        id: &str,
        verdict: Verdict,
        consent: Option<ConsentId>,
        response_code: Option<String>,
        until: i64,
        now: i64,
    ) -> Result<bool, SessionError> {
        self.update(id, now, &mut |record| {
            if matches!(record.outcome, SessionOutcome::Accepted { .. }) {
                return false;
            }
            record.outcome = SessionOutcome::Accepted { verdict: Box::new(verdict.clone()), consent: consent.clone() };
            record.response_code = response_code.clone();
            record.expires_at = until;
            true
        })
    }

    fn purge_expired(&self, now: i64) -> Result<usize, SessionError> {
        let mut total = 0usize;
        loop {
            let purged = self.purge_limited(now, 1_000)?;
            total = total.saturating_add(purged);
            if purged < 1_000 {
                return Ok(total);
            }
        }
    }
}
