//! The store conformance suite against PostgreSQL, and what only PostgreSQL has: versioned
//! migrations in a shared database, row-level security as the second wall between schools,
//! the refusal of roles that bypass it.
//!
//! Runs when `SCHOOLTAS_TEST_POSTGRES` holds a connection URL of a plain (not superuser) role
//! that owns its database (`crates/postgres/ci.sh` starts such a server); without it, each
//! test says SKIPPED and passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use std::str::FromStr;
use std::sync::OnceLock;

use conformance::Deployment;
use postgres::error::SqlState;
use schooltas_issuer::store::IssuerStore;
use schooltas_postgres::{Config, Error, Pool, PostgresConsentStore, PostgresIssuerStore, Tenant, connect, pool_with};
use schooltas_verifier::register::{ConsentId, ConsentStore};

const URL_VARIABLE: &str = "SCHOOLTAS_TEST_POSTGRES";

fn url() -> Option<String> {
    std::env::var(URL_VARIABLE).ok().filter(|url| !url.is_empty())
}

/// The pool every test of this process shares (enough connections for the races).
fn pool() -> Option<&'static Pool> {
    static POOL: OnceLock<Option<Pool>> = OnceLock::new();
    POOL.get_or_init(|| url().map(|url| connect(&url, 2 * conformance::RACERS as u32 + 4).unwrap())).as_ref()
}

fn skipped(test: &str) {
    eprintln!(
        "SKIPPED: {test}: set {URL_VARIABLE}=postgres://USER:PASSWORD@HOST:PORT/DATABASE (crates/postgres/ci.sh)"
    );
}

/// A random label, so each test's schools are new tenants in the shared database.
fn fresh() -> String {
    ConsentId::random().as_str()[..12].to_owned()
}

/// Schools as tenants `<random>-<school>` of the one shared database.
struct PostgresDeployment {
    pool: Pool,
    prefix: String,
}

impl PostgresDeployment {
    fn tenant(&self, school: &str) -> Tenant {
        Tenant::new(&format!("{}-{school}", self.prefix)).unwrap()
    }
}

impl Deployment for PostgresDeployment {
    fn issuer(&self, school: &str) -> Box<dyn IssuerStore> {
        Box::new(PostgresIssuerStore::open(self.pool.clone(), self.tenant(school)).unwrap())
    }

    fn consent(&self, school: &str) -> Box<dyn ConsentStore> {
        Box::new(PostgresConsentStore::open(self.pool.clone(), self.tenant(school)).unwrap())
    }
}

fn deployment() -> Option<Box<dyn Deployment>> {
    Some(Box::new(PostgresDeployment { pool: pool()?.clone(), prefix: fresh() }))
}

conformance_suite!(deployment());

/// A pool whose connections work in a new, empty schema of the shared database.
fn empty_schema() -> Option<(Pool, String)> {
    let shared = pool()?;
    let schema = format!("migrations_{}", fresh());
    shared.get().unwrap().batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
    let mut config = Config::from_str(&url()?).unwrap();
    config.options(&format!("-c search_path={schema}"));
    Some((pool_with(config, 4).unwrap(), schema))
}

fn versions(pool: &Pool, component: &str) -> Vec<i32> {
    pool.get()
        .unwrap()
        .query("SELECT version FROM schooltas_schema WHERE component = $1 ORDER BY version", &[&component])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn migrations_build_an_empty_schema_record_each_version_and_run_once() {
    let Some((pool, _schema)) = empty_schema() else { return skipped("migrations") };
    let tenant = Tenant::new("00AA").unwrap();
    // Two servers starting at once on an empty database: each step is applied once.
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                PostgresIssuerStore::open(pool.clone(), tenant.clone()).unwrap();
                PostgresConsentStore::open(pool.clone(), tenant.clone()).unwrap();
            });
        }
    });
    assert_eq!(versions(&pool, "issuer"), [1, 2, 3, 4, 5, 6], "the SQLite store's version history, then the counter");
    assert_eq!(versions(&pool, "consent"), [1, 2]);
    let store = PostgresIssuerStore::open(pool.clone(), tenant.clone()).unwrap();
    schooltas_issuer::store::in_transaction(&store, |tx| tx.insert_nonce(&[1; 32], 500)).unwrap();
    // Re-opening is a no-op: nothing re-applied, the rows kept.
    let store = PostgresIssuerStore::open(pool.clone(), tenant).unwrap();
    assert_eq!(versions(&pool, "issuer"), [1, 2, 3, 4, 5, 6]);
    assert!(schooltas_issuer::store::in_transaction(&store, |tx| tx.consume_nonce(&[1; 32], 400)).unwrap());
}

#[test]
fn version_6_counts_the_entries_of_lists_written_before_it_in_every_school() {
    let Some((pool, _schema)) = empty_schema() else { return skipped("version 6") };
    let (a, b) = (Tenant::new("00AA").unwrap(), Tenant::new("11BB").unwrap());
    let mut lists = Vec::new();
    for (tenant, entries) in [(&a, 3u64), (&b, 1)] {
        let store = PostgresIssuerStore::open(pool.clone(), tenant.clone()).unwrap();
        let list = schooltas_issuer::store::in_transaction(&store, |tx| {
            let list = tx.insert_status_list(&schooltas_issuer::store::StatusListRow {
                id: 0,
                purpose: "revocation".into(),
                uri: format!("https://{}.example/status/1", tenant.as_str()),
                bits: 2,
                capacity: 1024,
                allocated: 0,
            })?;
            tx.insert_credential(&schooltas_issuer::store::CredentialRow {
                id: "c".into(),
                config_id: "pupil_enrolment".into(),
                subject_ref: "pupil-1".into(),
                issued_at: 1,
                expires_at: None,
                copies: entries as u32,
            })?;
            for index in 0..entries {
                tx.allocate(list, index * 7, "c")?;
            }
            Ok(list)
        })
        .unwrap();
        lists.push((store, list, entries));
    }
    // The database as version 5 left it: no counter column, no version 6 row.
    pool.get()
        .unwrap()
        .batch_execute(
            "ALTER TABLE issuer_status_list DROP COLUMN allocated;
             DELETE FROM schooltas_schema WHERE component = 'issuer' AND version = 6;",
        )
        .unwrap();
    PostgresIssuerStore::open(pool.clone(), a.clone()).unwrap();
    assert_eq!(versions(&pool, "issuer"), [1, 2, 3, 4, 5, 6]);
    for (store, list, entries) in lists {
        let row = schooltas_issuer::store::in_transaction(&store, |tx| tx.status_list(list)).unwrap().unwrap();
        assert_eq!(row.allocated, entries, "each school's own entries, counted through the lifted policy");
    }
    // The policy is forced again: without a tenant the owner sees no list.
    assert_eq!(as_tenant(&pool, None, "SELECT count(*) FROM issuer_status_list"), Ok(vec![0]));
}

#[test]
fn a_schema_written_by_a_newer_library_is_refused() {
    let Some((pool, _schema)) = empty_schema() else { return skipped("newer schema") };
    let tenant = Tenant::new("00AA").unwrap();
    PostgresConsentStore::open(pool.clone(), tenant.clone()).unwrap();
    pool.get()
        .unwrap()
        .batch_execute(
            "INSERT INTO schooltas_schema (component, version, name) VALUES ('consent', 3, 'from the future')",
        )
        .unwrap();
    let refused = PostgresConsentStore::open(pool.clone(), tenant.clone()).unwrap_err();
    assert!(matches!(refused, Error::NewerSchema { component: "consent", found: 3, known: 2 }), "{refused:?}");
    // The issuer's tables are another component, still free to migrate.
    PostgresIssuerStore::open(pool, tenant).unwrap();
}

/// Runs `statements` in one transaction with `app.tenant` set as the stores set it (or not
/// at all), and returns the first column of the last one's rows, or the SQLSTATE it failed
/// with.
fn as_tenant(pool: &Pool, tenant: Option<&str>, statement: &str) -> Result<Vec<i64>, SqlState> {
    let mut client = pool.get().unwrap();
    let mut tx = client.transaction().unwrap();
    if let Some(tenant) = tenant {
        tx.query("SELECT set_config('app.tenant', $1, true)", &[&tenant]).unwrap();
    }
    let outcome = tx.query(statement, &[]);
    outcome.map(|rows| rows.iter().map(|row| row.get(0)).collect()).map_err(|e| e.code().unwrap().clone())
}

#[test]
fn row_level_security_walls_off_other_schools_even_without_a_tenant_in_the_query() {
    let Some(pool) = pool() else { return skipped("row-level security") };
    let prefix = fresh();
    let (a, b) = (format!("{prefix}-a"), format!("{prefix}-b"));
    let school_a = PostgresIssuerStore::open(pool.clone(), Tenant::new(&a).unwrap()).unwrap();
    let school_b = PostgresIssuerStore::open(pool.clone(), Tenant::new(&b).unwrap()).unwrap();
    schooltas_issuer::store::in_transaction(&school_a, |tx| {
        tx.insert_nonce(&[1; 32], 500)?;
        tx.insert_nonce(&[2; 32], 500)
    })
    .unwrap();
    schooltas_issuer::store::in_transaction(&school_b, |tx| tx.insert_nonce(&[3; 32], 500)).unwrap();
    PostgresConsentStore::open(pool.clone(), Tenant::new(&a).unwrap()).unwrap();

    // A query that forgets its WHERE sees only the transaction's school.
    let count =
        |tenant| as_tenant(pool, tenant, &format!("SELECT count(*) FROM issuer_nonce WHERE tenant LIKE '{prefix}-%'"));
    assert_eq!(count(Some(&a)), Ok(vec![2]));
    assert_eq!(count(Some(&b)), Ok(vec![1]));
    assert_eq!(count(None), Ok(vec![0]), "no tenant set: no rows at all");
    // Naming another school's tenant reads, changes and deletes nothing, and writes are refused.
    let on_a = |statement: &str| as_tenant(pool, Some(&b), &statement.replace("{a}", &a));
    assert_eq!(on_a("SELECT count(*) FROM issuer_nonce WHERE tenant = '{a}'"), Ok(vec![0]));
    assert_eq!(
        on_a("WITH gone AS (DELETE FROM issuer_nonce WHERE tenant = '{a}' RETURNING 1) SELECT count(*) FROM gone"),
        Ok(vec![0])
    );
    assert_eq!(
        on_a(
            "WITH changed AS (UPDATE issuer_nonce SET expires_at = 1 WHERE tenant = '{a}' RETURNING 1)
              SELECT count(*) FROM changed"
        ),
        Ok(vec![0])
    );
    let violation = SqlState::INSUFFICIENT_PRIVILEGE; // 42501: new row violates row-level security policy
    assert_eq!(
        on_a("INSERT INTO issuer_nonce (tenant, nonce_digest, expires_at) VALUES ('{a}', sha256('x'), 9) RETURNING 1"),
        Err(violation.clone())
    );
    assert_eq!(
        on_a("UPDATE issuer_nonce SET tenant = '{a}' WHERE nonce_digest = sha256('never') RETURNING 1"),
        Ok(vec![]),
    );
    assert_eq!(
        as_tenant(pool, Some(&b), &format!("UPDATE issuer_nonce SET tenant = '{a}' WHERE tenant = '{b}' RETURNING 1")),
        Err(violation.clone()),
        "a school cannot hand its rows to another"
    );
    assert_eq!(
        on_a(
            "INSERT INTO consent_record (tenant, id, verifier, subject, purpose, legal_basis, granted_at, valid_until,
                  approver_jwk, request_nonce, evidence)
              VALUES ('{a}', md5('x'), 'v', 's', 'p', 'consent', 1, 2, '{}', 'n', '{}') RETURNING 1"
        ),
        Err(violation)
    );
    // School a's rows are untouched.
    assert_eq!(count(Some(&a)), Ok(vec![2]));
}

#[test]
fn a_role_that_bypasses_row_level_security_is_refused() {
    let Ok(superuser) = std::env::var("SCHOOLTAS_TEST_POSTGRES_SUPERUSER") else {
        return skipped("superuser refusal (set SCHOOLTAS_TEST_POSTGRES_SUPERUSER too)");
    };
    let pool = connect(&superuser, 1).unwrap();
    let refused = PostgresIssuerStore::open(pool.clone(), Tenant::new("00AA").unwrap()).unwrap_err();
    assert!(matches!(&refused, Error::RowSecurityBypassed { role } if role == "postgres"), "{refused:?}");
    let refused = PostgresConsentStore::open(pool, Tenant::new("00AA").unwrap()).unwrap_err();
    assert!(matches!(refused, Error::RowSecurityBypassed { .. }), "{refused:?}");
}

#[test]
fn storage_errors_name_the_rule_but_never_the_values() {
    let Some(pool) = pool() else { return skipped("storage errors") };
    let store = PostgresConsentStore::open(pool.clone(), Tenant::new(&fresh()).unwrap()).unwrap();
    let id = ConsentId::random();
    let insert = |id: &ConsentId| {
        schooltas_verifier::register::in_transaction(&store, |tx| {
            tx.insert(&schooltas_verifier::ConsentRecord {
                id: id.clone(),
                verifier: "v".into(),
                subject: "child-pairwise-subject-value".into(),
                purpose: "newsletter".into(),
                object: None,
                channel: None,
                legal_basis: schooltas_school::LegalBasis::Consent,
                granted_at: 1,
                valid_until: 2,
                approver_jwk: serde_json::json!({}),
                request_nonce: "request-nonce-value".into(),
                evidence: schooltas_verifier::Evidence::default(),
                status: None,
                status_issuer: None,
                withdrawn: None,
            })
        })
    };
    insert(&id).unwrap();
    let refused = insert(&id).unwrap_err();
    let schooltas_verifier::Error::Storage { reason } = &refused else { panic!("{refused:?}") };
    assert!(reason.contains("23505"), "the SQLSTATE (unique violation) is named: {reason}");
    for value in [id.as_str(), "child-pairwise-subject-value", "request-nonce-value"] {
        assert!(!reason.contains(value) && !refused.to_string().contains(value), "{reason}");
    }
}

#[test]
fn tenant_keys_are_checked() {
    for bad in ["", "00AA' OR '1'='1", "-leading-dash", "ü", &"x".repeat(64), "a b"] {
        assert!(matches!(Tenant::new(bad), Err(Error::InvalidTenant { .. })), "{bad:?}");
    }
    for good in ["00AA", "school.example", "brin_00AA-2", &"x".repeat(63)] {
        assert_eq!(Tenant::new(good).unwrap().as_str(), good);
    }
}

#[test]
fn a_bad_url_or_an_unreachable_server_is_reported_without_the_password() {
    let refused = connect("postgres://user:hunter2@[::1", 1).unwrap_err();
    assert!(matches!(refused, Error::InvalidUrl), "{refused:?}");
    assert!(!refused.to_string().contains("hunter2"));
    // A loopback port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = Config::new();
    config.host("127.0.0.1").port(port).user("schooltas").password("hunter2").dbname("schooltas");
    config.connect_timeout(std::time::Duration::from_secs(1));
    let refused = pool_with(config, 1).unwrap_err();
    assert!(matches!(&refused, Error::Connection { .. }), "{refused:?}");
    assert!(!refused.to_string().contains("hunter2") && !format!("{refused:?}").contains("hunter2"));
}
