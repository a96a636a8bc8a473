//! Versioned migrations: each component's schema history as numbered steps, recorded in
//! `schooltas_schema` (component, version, name, when), applied in order, each version once.
//!
//! The issuer's versions 1 to 5 mirror its SQLite store's (`crates/issuer/src/store/sqlite.rs`),
//! so "version 5" means the same tables on both; version 6 (a status list's allocation counter)
//! is PostgreSQL's own. No PostgreSQL store ever held a version 1
//! plaintext nonce, so version 1 here stores nonce digests from the start.
//!
//! Every table has a `tenant` column in its primary key and in its foreign keys (a foreign key
//! check bypasses row-level security, so a reference must name the tenant to stay inside it),
//! and a row-level-security policy, forced on the table's owner too, that admits only the rows
//! of the tenant the transaction set in `app.tenant`.

use postgres::Client;

use crate::error::{Error, Result, describe};

/// One step of a component's schema history.
pub(crate) struct Migration {
    /// Its version: the schema's version once applied.
    pub(crate) version: i32,
    /// What it does, recorded beside the version.
    pub(crate) name: &'static str,
    /// Its statements.
    pub(crate) sql: &'static str,
    /// The tables it creates, which get the tenant policy.
    pub(crate) new_tables: &'static [&'static str],
}

/// The issuer's schema history.
pub(crate) const ISSUER: &[Migration] = &[
    Migration {
        version: 1,
        name: "status lists, credentials, status entries, offers, access tokens, nonces (by digest)",
        sql: "
CREATE TABLE issuer_status_list (
    tenant TEXT NOT NULL,
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    purpose TEXT NOT NULL,
    uri TEXT NOT NULL,
    bits INTEGER NOT NULL CHECK (bits IN (1, 2, 4, 8)),
    capacity BIGINT NOT NULL CHECK (capacity > 0),
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, uri)
);
CREATE TABLE issuer_credential (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    config_id TEXT NOT NULL,
    subject_ref TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT,
    copies INTEGER NOT NULL CHECK (copies >= 0),
    PRIMARY KEY (tenant, id)
);
CREATE INDEX issuer_credential_subject ON issuer_credential (tenant, subject_ref);
CREATE TABLE issuer_status_entry (
    tenant TEXT NOT NULL,
    list_id BIGINT NOT NULL,
    idx BIGINT NOT NULL CHECK (idx >= 0),
    credential_id TEXT NOT NULL,
    status INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 255),
    PRIMARY KEY (tenant, list_id, idx),
    FOREIGN KEY (tenant, list_id) REFERENCES issuer_status_list (tenant, id),
    FOREIGN KEY (tenant, credential_id) REFERENCES issuer_credential (tenant, id)
);
CREATE INDEX issuer_status_entry_credential ON issuer_status_entry (tenant, credential_id);
CREATE TABLE issuer_offer (
    tenant TEXT NOT NULL,
    code_digest BYTEA NOT NULL CHECK (octet_length(code_digest) = 32),
    tx_code_digest BYTEA CHECK (octet_length(tx_code_digest) = 32),
    subject_ref TEXT NOT NULL,
    config_ids TEXT[] NOT NULL,
    expires_at BIGINT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    redeemed BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, code_digest)
);
CREATE TABLE issuer_access_token (
    tenant TEXT NOT NULL,
    token_digest BYTEA NOT NULL CHECK (octet_length(token_digest) = 32),
    subject_ref TEXT NOT NULL,
    config_ids TEXT[] NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, token_digest)
);
CREATE TABLE issuer_nonce (
    tenant TEXT NOT NULL,
    nonce_digest BYTEA NOT NULL CHECK (octet_length(nonce_digest) = 32),
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, nonce_digest)
);
",
        new_tables: &[
            "issuer_status_list",
            "issuer_credential",
            "issuer_status_entry",
            "issuer_offer",
            "issuer_access_token",
            "issuer_nonce",
        ],
    },
    Migration {
        version: 2,
        name: "configurations fetched per access token; expiry indexes for the purge",
        sql: "
ALTER TABLE issuer_access_token ADD COLUMN used_config_ids TEXT[] NOT NULL DEFAULT '{}';
CREATE INDEX issuer_offer_expiry ON issuer_offer (tenant, expires_at);
CREATE INDEX issuer_access_token_expiry ON issuer_access_token (tenant, expires_at);
CREATE INDEX issuer_nonce_expiry ON issuer_nonce (tenant, expires_at);
",
        new_tables: &[],
    },
    Migration {
        version: 3,
        name: "access tokens bound to DPoP keys",
        sql: "ALTER TABLE issuer_access_token ADD COLUMN dpop_jkt TEXT;",
        new_tables: &[],
    },
    Migration {
        version: 4,
        name: "the authorization code flow: pending authorizations and codes",
        sql: "
CREATE TABLE issuer_pending_authorization (
    tenant TEXT NOT NULL,
    request_uri_digest BYTEA NOT NULL CHECK (octet_length(request_uri_digest) = 32),
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    state TEXT,
    config_ids TEXT[] NOT NULL,
    issuer_state TEXT,
    dpop_jkt TEXT,
    expires_at BIGINT NOT NULL,
    handle_digest BYTEA CHECK (octet_length(handle_digest) = 32),
    completed BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, request_uri_digest),
    UNIQUE (tenant, handle_digest)
);
CREATE INDEX issuer_pending_authorization_expiry ON issuer_pending_authorization (tenant, expires_at);
CREATE TABLE issuer_authorization_code (
    tenant TEXT NOT NULL,
    code_digest BYTEA NOT NULL CHECK (octet_length(code_digest) = 32),
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    dpop_jkt TEXT,
    subject_ref TEXT NOT NULL,
    config_ids TEXT[] NOT NULL,
    expires_at BIGINT NOT NULL,
    redeemed BOOLEAN NOT NULL DEFAULT false,
    access_token_digest BYTEA CHECK (octet_length(access_token_digest) = 32),
    PRIMARY KEY (tenant, code_digest)
);
CREATE INDEX issuer_authorization_code_expiry ON issuer_authorization_code (tenant, expires_at);
",
        new_tables: &["issuer_pending_authorization", "issuer_authorization_code"],
    },
    Migration {
        version: 5,
        name: "configurations asked for by authorization_details; credential identifiers of access tokens",
        sql: "
ALTER TABLE issuer_pending_authorization ADD COLUMN detail_config_ids TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE issuer_authorization_code ADD COLUMN detail_config_ids TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE issuer_access_token ADD COLUMN credential_identifiers TEXT[] NOT NULL DEFAULT '{}';
",
        new_tables: &[],
    },
    Migration {
        version: 6,
        name: "a status list's allocated entries counted in its row",
        // Filled in for existing lists with the policy lifted for the table's owner, inside
        // this migration's transaction (without `app.tenant` the policy admits no rows).
        sql: "
ALTER TABLE issuer_status_list ADD COLUMN allocated BIGINT NOT NULL DEFAULT 0 CHECK (allocated >= 0);
ALTER TABLE issuer_status_list NO FORCE ROW LEVEL SECURITY;
ALTER TABLE issuer_status_entry NO FORCE ROW LEVEL SECURITY;
UPDATE issuer_status_list l SET allocated =
    (SELECT count(*) FROM issuer_status_entry e WHERE e.tenant = l.tenant AND e.list_id = l.id);
ALTER TABLE issuer_status_list FORCE ROW LEVEL SECURITY;
ALTER TABLE issuer_status_entry FORCE ROW LEVEL SECURITY;
",
        new_tables: &[],
    },
];

/// The schema history of the issuer's state shared by a school's server instances (issue 17):
/// the digests of proofs used (DPoP proofs, wallet attestation PoPs) and offers by reference,
/// sealed. Its own component (`issuer-shared`) beside `issuer`; version 1 here holds what the
/// SQLite store's version 6 added.
pub(crate) const ISSUER_SHARED: &[Migration] = &[Migration {
    version: 1,
    name: "proofs used (by digest) and offers by reference (sealed), each with an expiry",
    sql: "
CREATE TABLE issuer_proof_used (
    tenant TEXT NOT NULL,
    proof_digest BYTEA NOT NULL CHECK (octet_length(proof_digest) = 32),
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, proof_digest)
);
CREATE INDEX issuer_proof_used_expiry ON issuer_proof_used (tenant, expires_at);
CREATE TABLE issuer_offer_reference (
    tenant TEXT NOT NULL,
    id_digest BYTEA NOT NULL CHECK (octet_length(id_digest) = 32),
    code_digest BYTEA NOT NULL CHECK (octet_length(code_digest) = 32),
    sealed BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id_digest)
);
CREATE INDEX issuer_offer_reference_code ON issuer_offer_reference (tenant, code_digest);
CREATE INDEX issuer_offer_reference_expiry ON issuer_offer_reference (tenant, expires_at);
",
    new_tables: &["issuer_proof_used", "issuer_offer_reference"],
}];

/// The consent register's schema history (its SQLite store's versions: 1 the table, 2 the
/// status issuer of each record).
pub(crate) const CONSENT: &[Migration] = &[
    Migration {
        version: 1,
        name: "consent records with their evidence and withdrawals",
        sql: "
CREATE TABLE consent_record (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL CHECK (id ~ '^[0-9a-f]{32}$'),
    verifier TEXT NOT NULL,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    object TEXT,
    channel TEXT,
    legal_basis TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    approver_jwk TEXT NOT NULL,
    request_nonce TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status_uri TEXT,
    status_idx BIGINT CHECK (status_idx >= 0),
    withdrawn_at BIGINT,
    withdrawal_evidence TEXT,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, verifier, request_nonce),
    CHECK ((status_uri IS NULL) = (status_idx IS NULL)),
    CHECK ((withdrawn_at IS NULL) = (withdrawal_evidence IS NULL))
);
CREATE INDEX consent_record_subject_purpose ON consent_record (tenant, subject, purpose, granted_at);
",
        new_tables: &["consent_record"],
    },
    Migration {
        version: 2,
        name: "whose status entry a record rests on (iss and key, JSON), checked with the signer rule",
        sql: "ALTER TABLE consent_record ADD COLUMN status_issuer TEXT;",
        new_tables: &[],
    },
];

/// The verifier's schema history: its open requests (and their per-request response keys) and
/// its front end's sessions, shared by every verifier process of a school.
pub(crate) const VERIFIER: &[Migration] = &[Migration {
    version: 1,
    name: "open verifier requests (sealed, by nonce and kid digest) and sessions (sealed, by id, state and nonce digest)",
    sql: "
CREATE TABLE verifier_request (
    tenant TEXT NOT NULL,
    nonce_digest BYTEA NOT NULL CHECK (octet_length(nonce_digest) = 32),
    kid_digest BYTEA CHECK (octet_length(kid_digest) = 32),
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    sealed BYTEA NOT NULL,
    PRIMARY KEY (tenant, nonce_digest),
    UNIQUE (tenant, kid_digest)
);
CREATE INDEX verifier_request_expiry ON verifier_request (tenant, expires_at);
CREATE TABLE verifier_session (
    tenant TEXT NOT NULL,
    id_digest BYTEA NOT NULL CHECK (octet_length(id_digest) = 32),
    state_digest BYTEA NOT NULL CHECK (octet_length(state_digest) = 32),
    nonce_digest BYTEA NOT NULL CHECK (octet_length(nonce_digest) = 32),
    expires_at BIGINT NOT NULL,
    accepted BOOLEAN NOT NULL DEFAULT false,
    sealed BYTEA NOT NULL,
    PRIMARY KEY (tenant, id_digest),
    UNIQUE (tenant, state_digest),
    UNIQUE (tenant, nonce_digest)
);
CREATE INDEX verifier_session_expiry ON verifier_session (tenant, expires_at);
",
    new_tables: &["verifier_request", "verifier_session"],
}];

/// The statements that put the tenant wall on `table`: row-level security, forced on the
/// owner too, admitting only the rows whose tenant is the transaction's `app.tenant` (none
/// when it is not set: `current_setting(…, true)` is then NULL or empty).
fn tenant_policy(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
         CREATE POLICY {table}_tenant ON {table}
             USING (tenant = current_setting('app.tenant', true))
             WITH CHECK (tenant = current_setting('app.tenant', true));"
    )
}

fn database(error: postgres::Error) -> Error {
    Error::Database { reason: describe(&error) }
}

/// Brings `component`'s tables to the newest version of `history`, in one transaction under
/// an advisory lock (two processes starting at once apply each step once); the version the
/// schema is at. Refuses a database a newer library wrote.
pub(crate) fn migrate(client: &mut Client, component: &'static str, history: &[Migration]) -> Result<i32> {
    let known = history.last().map_or(0, |m| m.version);
    let mut tx = client.transaction().map_err(database)?;
    // One lock per schema, held to the end of this transaction.
    tx.execute("SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || '/schooltas_schema'))", &[])
        .map_err(database)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schooltas_schema (
            component TEXT NOT NULL,
            version INTEGER NOT NULL,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (component, version)
        )",
    )
    .map_err(database)?;
    let found: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schooltas_schema WHERE component = $1", &[&component])
        .and_then(|row| row.try_get(0))
        .map_err(database)?;
    if found > known {
        return Err(Error::NewerSchema { component, found, known });
    }
    for step in history.iter().filter(|m| m.version > found) {
        tx.batch_execute(step.sql).map_err(database)?;
        for table in step.new_tables {
            tx.batch_execute(&tenant_policy(table)).map_err(database)?;
        }
        tx.execute(
            "INSERT INTO schooltas_schema (component, version, name) VALUES ($1, $2, $3)",
            &[&component, &step.version, &step.name],
        )
        .map_err(database)?;
    }
    tx.commit().map_err(database)?;
    Ok(known)
}

/// Refuses a role that row-level security does not apply to.
pub(crate) fn check_row_security(client: &mut Client) -> Result<()> {
    let row = client
        .query_one(
            "SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .map_err(database)?;
    let role: String = row.try_get(0).map_err(database)?;
    let bypasses: bool = row.try_get(1).map_err(database)?;
    if bypasses {
        return Err(Error::RowSecurityBypassed { role });
    }
    Ok(())
}

/// Opens a connection of `pool`, migrates `component` and checks the role.
pub(crate) fn prepare(pool: &crate::Pool, component: &'static str, history: &[Migration]) -> Result<()> {
    let mut client = pool.get().map_err(|e| Error::Connection { reason: e.to_string() })?;
    check_row_security(&mut client)?;
    migrate(&mut client, component, history)?;
    Ok(())
}
