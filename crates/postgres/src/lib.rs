//! PostgreSQL behind the school's issuer and its consent register, many schools in one
//! database.
//!
//! [`PostgresIssuerStore`] implements the issuer's [`IssuerStore`](schooltas_issuer::store::IssuerStore)
//! and [`PostgresConsentStore`] the register's [`ConsentStore`](schooltas_verifier::register::ConsentStore):
//! the same rows as the embedded SQLite stores, so everything built on those traits runs
//! unchanged on either (one conformance suite, `tests/conformance/`, runs against both).
//! [`PostgresRequestStore`] and [`PostgresSessionStore`] share the verifier's open requests
//! and its front end's sessions among every process of a school (an answer posted to two
//! instances is accepted once), their rows sealed under a [`SealingKey`].
//!
//! - **Single use across processes.** Each operation is one `SERIALIZABLE` transaction, re-run
//!   (a bounded number of times) when PostgreSQL reports a serialization failure: of two
//!   servers that read and spend the same code, token or nonce, one commits, the other's
//!   re-run finds it spent.
//! - **One database, many schools.** A store handle is bound to one [`Tenant`] when opened;
//!   every row carries the tenant, every query names it, and a row-level-security policy,
//!   forced on the tables' owner too, admits only the tenant the transaction set
//!   (`app.tenant`). [`PostgresIssuerStore::open`] refuses a role that bypasses that policy.
//! - **Versioned migrations.** Opening a store brings its tables to the newest version
//!   (recorded in `schooltas_schema`), once, under an advisory lock; a database a newer library
//!   wrote is refused ([`Error::NewerSchema`]).
//! - **Digests, never secrets.** As on SQLite, codes, PINs, tokens and nonces are stored as
//!   SHA-256 digests; errors carry SQLSTATEs and server messages, never the detail that
//!   quotes values, nor the connection URL.
//!
//! ```no_run
//! use schooltas_issuer::store::in_transaction;
//! use schooltas_postgres::{PostgresConsentStore, PostgresIssuerStore, Tenant, connect};
//!
//! let pool = connect("postgres://schooltas@127.0.0.1:5432/schooltas", 16)?;
//! let school_a = PostgresIssuerStore::open(pool.clone(), Tenant::new("00AA")?)?;
//! let school_b = PostgresIssuerStore::open(pool.clone(), Tenant::new("11BB")?)?;
//! in_transaction(&school_a, |tx| tx.insert_nonce(&[7; 32], 1_900_000_000))?;
//! // School B's handle does not see school A's nonce, let alone spend it.
//! assert!(!in_transaction(&school_b, |tx| tx.consume_nonce(&[7; 32], 1_800_000_000))?);
//! let consents = PostgresConsentStore::open(pool, Tenant::new("00AA")?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Choices and evidence: `docs/decisions/0024-postgresql-stores.md`.
#![forbid(unsafe_code)]

mod consent;
mod error;
mod issuer;
mod migrations;
mod pool;
mod requests;
mod seal;
mod sessions;
mod tenant;

pub use consent::PostgresConsentStore;
pub use error::{Error, Result};
pub use issuer::PostgresIssuerStore;
pub use pool::{Config, Pool, connect, pool_with};
pub use requests::{PostgresRequestStore, REQUEST_SEALING_INFO};
pub use seal::SealingKey;
pub use sessions::{PostgresSessionStore, SESSION_SEALING_INFO};
pub use tenant::Tenant;
