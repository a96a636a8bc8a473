//! The one error type of this crate: what can go wrong while connecting, migrating and
//! opening a store. (Inside a transaction the stores answer with the issuer's or the consent
//! register's own error type, as the traits they implement require.)
//!
//! No variant carries a connection URL (it may hold a password), a digest or a claim value.

/// Everything that can go wrong before a PostgreSQL store is open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tenant (school) key breaks a rule of [`Tenant::new`](crate::Tenant::new).
    #[error("invalid tenant key: {reason}")]
    InvalidTenant {
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The connection URL is not one rust-postgres reads (it is not repeated here: it may hold
    /// a password).
    #[error(
        "the PostgreSQL connection URL cannot be read; use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE or key=value pairs"
    )]
    InvalidUrl,
    /// No connection could be had from the pool (server down, wrong credentials, pool exhausted
    /// for longer than its time-out).
    #[error("no PostgreSQL connection: {reason}")]
    Connection {
        /// What the pool or the server reported.
        reason: String,
    },
    /// A statement of a migration or of the start-up checks failed; the migration was rolled
    /// back whole.
    #[error("PostgreSQL refused a statement while opening the store: {reason}")]
    Database {
        /// The SQLSTATE and the server's message (never its detail, which can quote values).
        reason: String,
    },
    /// The database holds a newer schema than this library knows: a newer version of it wrote
    /// the tables.
    #[error(
        "the {component} tables are at schema version {found}; this library knows versions up to {known}: upgrade it before it opens this database"
    )]
    NewerSchema {
        /// `issuer` or `consent`.
        component: &'static str,
        /// The version recorded in the database.
        found: i32,
        /// The newest version this library has migrations for.
        known: i32,
    },
    /// The role the pool connects as ignores row-level security (a superuser, or a role with
    /// `BYPASSRLS`), so one school's rows would be kept from another's by the queries alone.
    #[error(
        "database role {role:?} bypasses row-level security (superuser or BYPASSRLS): connect as a plain role that owns the schema, so the tenant policy is the second wall between schools"
    )]
    RowSecurityBypassed {
        /// The role's name.
        role: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The SQLSTATE and message of a server error, or the client's description of any other
/// failure. A server error's detail (`Key (id)=(…) already exists`) is left out: it quotes
/// stored values.
pub(crate) fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("SQLSTATE {}: {}", db.code().code(), db.message()),
        None => error.to_string(),
    }
}
