//! Connections: an r2d2 pool of rust-postgres clients, and the serializable transaction every
//! store operation runs in, re-run when PostgreSQL reports a serialization failure.

use std::str::FromStr;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{IsolationLevel, NoTls, Row};
use r2d2_postgres::PostgresConnectionManager;

use crate::error::{Error, Result, describe};
use crate::tenant::Tenant;

/// A pool of connections to one PostgreSQL database, shared by the stores of every school
/// (tenant) in it. Cloning it is cheap and shares the connections.
///
/// Without TLS: connect over a Unix socket or loopback, or through a local TLS-terminating
/// proxy (a TLS connector on rustls is a later option; OpenSSL is not used).
pub type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// rust-postgres' connection settings, for [`pool_with`] (host, port, user, `options`, …).
pub use postgres::Config;

/// How long [`connect`] and each checkout wait for a connection, unless the config says.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a transaction is run before a persistent serialization conflict is reported.
pub(crate) const MAX_ATTEMPTS: u32 = 10;

/// A pool of at most `max_connections` connections to the database at `url`
/// (`postgres://user[:password]@host[:port]/database`, or `host=/run/postgresql user=…`).
///
/// It connects once before it returns, so a wrong URL, password or unreachable server is
/// reported here rather than at the first request.
pub fn connect(url: &str, max_connections: u32) -> Result<Pool> {
    let config = Config::from_str(url).map_err(|_| Error::InvalidUrl)?;
    pool_with(config, max_connections)
}

/// A pool of at most `max_connections` connections made with `config`. The config's
/// `connect_timeout`, if set, is also how long a checkout waits for a connection (10 seconds
/// otherwise).
pub fn pool_with(config: Config, max_connections: u32) -> Result<Pool> {
    let timeout = config.get_connect_timeout().copied().unwrap_or(CONNECTION_TIMEOUT);
    r2d2::Pool::builder()
        .max_size(max_connections.max(1))
        .min_idle(Some(1))
        .connection_timeout(timeout)
        .build(PostgresConnectionManager::new(config, NoTls))
        .map_err(|e| Error::Connection { reason: e.to_string() })
}

/// A statement failed: what to report, and whether it was a serialization conflict (the
/// transaction is then re-run from the start).
#[derive(Debug)]
pub(crate) struct DbFailure {
    pub(crate) reason: String,
}

/// One transaction of one tenant: every statement goes through it, so it knows whether any of
/// them lost a serialization conflict (after which the whole closure is re-run, whatever the
/// closure made of the error).
pub(crate) struct Session<'c> {
    tx: postgres::Transaction<'c>,
    tenant: &'c str,
    conflict: bool,
    /// Increments to make after the commit: (statement, id) → amount. See
    /// [`Session::add_after_commit`].
    after_commit: std::collections::BTreeMap<(&'static str, i64), i64>,
}

fn is_conflict(error: &postgres::Error) -> bool {
    // 40001 serialization_failure, 40P01 deadlock_detected: the transaction did nothing and
    // may succeed when run again.
    matches!(error.code(), Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED)
}

impl<'c> Session<'c> {
    /// The tenant every query must name.
    pub(crate) fn tenant(&self) -> &'c str {
        self.tenant
    }

    fn failed(&mut self, error: &postgres::Error) -> DbFailure {
        if is_conflict(error) {
            self.conflict = true;
        }
        DbFailure { reason: describe(error) }
    }

    /// Rows of a query.
    pub(crate) fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, DbFailure> {
        match self.tx.query(sql, params) {
            Ok(rows) => Ok(rows),
            Err(error) => Err(self.failed(&error)),
        }
    }

    /// The row of a query that matches at most one.
    pub(crate) fn query_opt(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, DbFailure> {
        match self.tx.query_opt(sql, params) {
            Ok(row) => Ok(row),
            Err(error) => Err(self.failed(&error)),
        }
    }

    /// Adds `amount` to a counter once this transaction has committed, in a short
    /// `READ COMMITTED` transaction of the same tenant: `sql` takes the tenant as `$1`, `id` as
    /// `$2` and the summed amount as `$3`. For counters that steer but do not decide (a status
    /// list's fill): concurrent increments of one row then wait for each other instead of
    /// failing each other's `SERIALIZABLE` transactions, which a counter read and written by
    /// every issuance would. A crash between the commit and the increment leaves the counter
    /// short by what was in flight, never over.
    pub(crate) fn add_after_commit(&mut self, sql: &'static str, id: i64, amount: i64) {
        *self.after_commit.entry((sql, id)).or_insert(0) += amount;
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, DbFailure> {
        match self.tx.execute(sql, params) {
            Ok(changed) => Ok(changed),
            Err(error) => Err(self.failed(&error)),
        }
    }
}

/// Runs `work` as one `SERIALIZABLE` transaction of `tenant` on a connection of `pool`,
/// committing when it returns `Ok`; re-runs it (a bounded number of times, with a short random
/// pause) when PostgreSQL reports a serialization failure or a deadlock, in a statement or at
/// commit. `storage` turns a failure's description into the caller's error type.
///
/// This is what makes single use hold across connections and processes: of two transactions
/// that read and then spend the same row, PostgreSQL lets one commit and fails the other,
/// whose re-run then finds the row spent.
pub(crate) fn serializable<E>(
    pool: &Pool,
    tenant: &Tenant,
    work: &mut dyn FnMut(&mut Session<'_>) -> Result<(), E>,
    storage: impl Fn(String) -> E,
) -> Result<(), E> {
    let mut connection = pool.get().map_err(|e| storage(format!("no PostgreSQL connection: {e}")))?;
    for attempt in 1..=MAX_ATTEMPTS {
        let (committed, after_commit) = {
            let tx = connection
                .build_transaction()
                .isolation_level(IsolationLevel::Serializable)
                .start()
                .map_err(|e| storage(describe(&e)))?;
            let mut session = Session {
                tx,
                tenant: tenant.as_str(),
                conflict: false,
                after_commit: std::collections::BTreeMap::new(),
            };
            // The row-level-security policies compare each row with this setting; `true`: it
            // ends with the transaction, so a pooled connection never carries it to another school.
            session
                .query("SELECT set_config('app.tenant', $1, true)", &[&tenant.as_str()])
                .map_err(|f| storage(f.reason))?;
            let outcome = work(&mut session);
            let Session { tx, conflict, after_commit, .. } = session;
            let committed = match outcome {
                Ok(()) => match tx.commit() {
                    Ok(()) => true,
                    Err(error) if is_conflict(&error) => false,
                    Err(error) => return Err(storage(describe(&error))),
                },
                Err(error) => {
                    // Rolling back cannot lose anything; a connection that fails to is dropped by
                    // the pool's next health check.
                    let _ = tx.rollback();
                    if !conflict {
                        return Err(error);
                    }
                    false
                }
            };
            (committed, after_commit)
        };
        if committed {
            if !after_commit.is_empty() {
                // Committed is committed: a counter that could not be moved steers a little
                // worse, so this cannot fail the operation.
                let _ = increment(&mut connection, tenant, &after_commit);
            }
            return Ok(());
        }
        pause_before_retry(attempt);
    }
    Err(storage(format!(
        "the transaction lost a serialization conflict with concurrent ones {MAX_ATTEMPTS} times; nothing was written, try again"
    )))
}

fn increment(
    connection: &mut postgres::Client,
    tenant: &Tenant,
    counters: &std::collections::BTreeMap<(&'static str, i64), i64>,
) -> Result<(), postgres::Error> {
    let mut tx = connection.build_transaction().isolation_level(IsolationLevel::ReadCommitted).start()?;
    tx.execute("SELECT set_config('app.tenant', $1, true)", &[&tenant.as_str()])?;
    for ((sql, id), amount) in counters {
        tx.execute(*sql, &[&tenant.as_str(), id, amount])?;
    }
    tx.commit()
}

/// A short random pause, growing with the attempt, so conflicting transactions spread out.
fn pause_before_retry(attempt: u32) {
    use rand::RngExt as _;
    let ceiling = 2u64.saturating_pow(attempt.min(7)); // at most 128 ms
    let millis = rand::rng().random_range(0..=ceiling);
    std::thread::sleep(Duration::from_millis(millis));
}
