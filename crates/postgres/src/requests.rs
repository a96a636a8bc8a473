//! The verifier's open requests on PostgreSQL: [`RequestStore`] shared by every verifier
//! process of a school, so a response is accepted once whichever instance it reaches.
//!
//! A row per request: the SHA-256 digests of its nonce (the key) and of its response key's
//! `kid` (the lookup of a `direct_post.jwt` body, whose nonce is inside the ciphertext), its
//! times, when it was spent, and the request with its key **sealed** ([`SealingKey`], the
//! tenant and nonce digest as associated data): the database holds neither a nonce nor a
//! private key in the clear.

use postgres::Row;
use schooltas_oid4vc::oid4vp::AuthorizationRequest;
use schooltas_verifier::{EncryptionKey, Nonce, NonceError, OpenRequest, RequestStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::migrations;
use crate::pool::{DbFailure, Pool, Session, serializable};
use crate::seal::SealingKey;
use crate::tenant::Tenant;

/// How many expired rows one registration purges (at most): the table stays bounded by the
/// requests open at once, also when requests are opened as fast as they can be.
const PURGE_PER_REGISTER: i64 = 256;

/// The HKDF info string of the key that seals this table's rows.
pub const REQUEST_SEALING_INFO: &str = "schooltas verifier request store v1";

/// A school's (tenant's) open verifier requests in a PostgreSQL database shared by many
/// schools and by every verifier process of each: every operation one `SERIALIZABLE`
/// transaction; [`consume`](RequestStore::consume) a conditional `UPDATE`, so of two
/// processes spending one nonce exactly one wins.
///
/// ```no_run
/// use schooltas_postgres::{PostgresRequestStore, REQUEST_SEALING_INFO, SealingKey, Tenant, connect};
/// use schooltas_verifier::{Nonce, NonceError, RequestStore};
///
/// let pool = connect("postgres://schooltas@127.0.0.1:5432/schooltas", 8)?;
/// let key = SealingKey::derive(b"the school's shared key material", REQUEST_SEALING_INFO);
/// let store = PostgresRequestStore::open(pool, Tenant::new("00AA")?, key)?;
/// // `Verifier::with_request_store(store)` keeps a verifier's requests here.
/// assert_eq!(store.peek(Nonce::random().as_str(), 1_800_000_000).err(), Some(NonceError::Unknown));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct PostgresRequestStore {
    pool: Pool,
    tenant: Tenant,
    sealing: SealingKey,
}

impl PostgresRequestStore {
    /// The store of `tenant` on `pool`'s database, sealing rows with `sealing` (the same key in
    /// every instance of the school): migrates the table and refuses a role that bypasses
    /// row-level security.
    pub fn open(pool: Pool, tenant: Tenant, sealing: SealingKey) -> crate::Result<Self> {
        migrations::prepare(&pool, "verifier", migrations::VERIFIER)?;
        Ok(PostgresRequestStore { pool, tenant, sealing })
    }

    /// The school this handle reads and writes.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    fn run(&self, work: &mut dyn FnMut(&mut Session<'_>) -> Result<(), NonceError>) -> Result<(), NonceError> {
        serializable(&self.pool, &self.tenant, work, |reason| NonceError::Storage { reason })
    }

    /// The associated data of a row: the table, the tenant and the nonce digest.
    fn aad(&self, nonce_digest: &[u8]) -> Vec<u8> {
        let mut aad = b"verifier_request\0".to_vec();
        aad.extend_from_slice(self.tenant.as_str().as_bytes());
        aad.push(0);
        aad.extend_from_slice(nonce_digest);
        aad
    }

    fn unseal(&self, nonce_digest: &[u8], sealed: &[u8]) -> Result<OpenRequest, NonceError> {
        let damaged = || NonceError::Storage {
            reason: "a stored request does not open under this school's sealing key (another key, or a changed row)"
                .into(),
        };
        let plain = self.sealing.open(&self.aad(nonce_digest), sealed).ok_or_else(damaged)?;
        let mut stored: Stored = serde_json::from_slice(&plain).map_err(|_| damaged())?;
        let response_key = match stored.key.as_mut() {
            Some(key) => {
                let opened = EncryptionKey::from_scalar_bytes(&key.d, key.kid.clone()).map_err(|_| damaged());
                key.d.zeroize();
                Some(opened?)
            }
            None => None,
        };
        Ok(OpenRequest { request: stored.request, response_key })
    }
}

impl std::fmt::Debug for PostgresRequestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRequestStore").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

/// What a row seals.
#[derive(Serialize, Deserialize)]
struct Stored {
    request: AuthorizationRequest,
    key: Option<StoredKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    d: [u8; 32],
}

/// SHA-256 of a nonce or `kid`: the row's lookup key.
pub(crate) fn digest(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

fn storage(failure: DbFailure) -> NonceError {
    NonceError::Storage { reason: failure.reason }
}

fn col<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, NonceError> {
    row.try_get(index).map_err(|e| NonceError::Storage { reason: format!("column {index}: {e}") })
}

/// Why the row of a nonce is not open at `now`: [`NonceError::Unknown`] without a row.
fn refusal(row: Option<&Row>, now: i64) -> Result<NonceError, NonceError> {
    let Some(row) = row else { return Ok(NonceError::Unknown) };
    let expires_at: i64 = col(row, 0)?;
    Ok(match col::<Option<i64>>(row, 1)? {
        Some(used_at) => NonceError::AlreadyUsed { used_at },
        None if now >= expires_at => NonceError::Expired { expired_at: expires_at, now },
        None => NonceError::Storage { reason: "an open request could not be spent".into() },
    })
}

impl RequestStore for PostgresRequestStore {
    fn register(&self, nonce: &Nonce, open: OpenRequest, now: i64, expires_at: i64) -> Result<(), NonceError> {
        if expires_at <= now {
            return Err(NonceError::InvalidLifetime { expires_at, now });
        }
        let nonce_digest = digest(nonce.as_str());
        let kid_digest = open.response_key.as_ref().map(|key| digest(key.kid()));
        let mut stored = Stored {
            request: open.request,
            key: open
                .response_key
                .as_ref()
                .map(|key| StoredKey { kid: key.kid().to_owned(), d: *key.to_scalar_bytes() }),
        };
        let plain = serde_json::to_vec(&stored).map(Zeroizing::new);
        if let Some(key) = stored.key.as_mut() {
            key.d.zeroize();
        }
        let plain =
            plain.map_err(|_| NonceError::Storage { reason: "the request cannot be written as JSON".into() })?;
        let sealed = self
            .sealing
            .seal(&self.aad(&nonce_digest), &plain)
            .ok_or_else(|| NonceError::Storage { reason: "no randomness to seal the request with".into() })?;
        self.run(&mut |session| {
            let tenant = session.tenant();
            // A duplicate is answered as one, not as a database error: ON CONFLICT inserts nothing.
            let inserted = session
                .execute(
                    "INSERT INTO verifier_request (tenant, nonce_digest, kid_digest, issued_at, expires_at, sealed)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    &[&tenant, &nonce_digest, &kid_digest, &now, &expires_at, &sealed],
                )
                .map_err(storage)?;
            if inserted != 1 {
                return Err(NonceError::Duplicate);
            }
            Ok(())
        })?;
        // Bounded growth: every registration clears some expired rows (its own transaction, so
        // a conflict over the purge never fails the registration).
        let _ = self.purge_limited(now, PURGE_PER_REGISTER);
        Ok(())
    }

    fn peek(&self, nonce: &str, now: i64) -> Result<OpenRequest, NonceError> {
        let nonce_digest = digest(nonce);
        let mut found = None;
        self.run(&mut |session| {
            let row = session
                .query_opt(
                    "SELECT expires_at, used_at, sealed FROM verifier_request WHERE tenant = $1 AND nonce_digest = $2",
                    &[&session.tenant(), &nonce_digest],
                )
                .map_err(storage)?;
            found = row;
            Ok(())
        })?;
        let open_at = |row: &Row| -> Result<bool, NonceError> {
            Ok(col::<Option<i64>>(row, 1)?.is_none() && now < col::<i64>(row, 0)?)
        };
        match found {
            Some(row) if open_at(&row)? => self.unseal(&nonce_digest, &col::<Vec<u8>>(&row, 2)?),
            row => Err(refusal(row.as_ref(), now)?),
        }
    }

    fn consume(&self, nonce: &str, now: i64) -> Result<(), NonceError> {
        let nonce_digest = digest(nonce);
        self.run(&mut |session| {
            let tenant = session.tenant();
            // The decision is this one statement: the row is spent by whoever's UPDATE finds it
            // open; under SERIALIZABLE a concurrent loser is re-run and then finds it spent.
            let spent = session
                .execute(
                    "UPDATE verifier_request SET used_at = $3
                     WHERE tenant = $1 AND nonce_digest = $2 AND used_at IS NULL AND expires_at > $3",
                    &[&tenant, &nonce_digest, &now],
                )
                .map_err(storage)?;
            if spent == 1 {
                return Ok(());
            }
            let row = session
                .query_opt(
                    "SELECT expires_at, used_at FROM verifier_request WHERE tenant = $1 AND nonce_digest = $2",
                    &[&tenant, &nonce_digest],
                )
                .map_err(storage)?;
            Err(refusal(row.as_ref(), now)?)
        })
    }

    fn response_key(&self, kid: &str, now: i64) -> Result<Option<EncryptionKey>, NonceError> {
        let kid_digest = digest(kid);
        let mut found = None;
        self.run(&mut |session| {
            found = session
                .query_opt(
                    "SELECT nonce_digest, sealed FROM verifier_request
                     WHERE tenant = $1 AND kid_digest = $2 AND expires_at >= $3",
                    &[&session.tenant(), &kid_digest, &now],
                )
                .map_err(storage)?;
            Ok(())
        })?;
        match found {
            Some(row) => {
                let open = self.unseal(&col::<Vec<u8>>(&row, 0)?, &col::<Vec<u8>>(&row, 1)?)?;
                Ok(open.response_key.filter(|key| key.kid() == kid))
            }
            None => Ok(None),
        }
    }

    fn purge_expired(&self, now: i64) -> Result<usize, NonceError> {
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

impl PostgresRequestStore {
    /// Deletes at most `limit` rows expired at `now` (oldest first, along the expiry index).
    fn purge_limited(&self, now: i64, limit: i64) -> Result<usize, NonceError> {
        let mut purged = 0u64;
        self.run(&mut |session| {
            purged = session
                .execute(
                    "DELETE FROM verifier_request WHERE tenant = $1 AND nonce_digest IN
                     (SELECT nonce_digest FROM verifier_request WHERE tenant = $1 AND expires_at <= $2
                      ORDER BY expires_at LIMIT $3)",
                    &[&session.tenant(), &now, &limit],
                )
                .map_err(storage)?;
            Ok(())
        })?;
        Ok(usize::try_from(purged).unwrap_or(usize::MAX))
    }
}
