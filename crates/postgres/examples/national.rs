//! National-scale figures on a local PostgreSQL (issue 17): a measurement, not a test.
//!
//! ```sh
//! SCHOOLTAS_BENCH_POSTGRES=postgres://schooltas:…@127.0.0.1:5432/schooltas \
//!     cargo run --release -p schooltas-postgres --example national -- issue [threads] [batches]
//! # … -- status-list            a 2^23-entry list: populate, then publish (compress + sign)
//! # … -- may-use [records]      the consent register with 10 million records: p50/p99
//! ```
//!
//! `crates/postgres/bench.sh` starts a throwaway server and runs all three; the figures and
//! what they mean are in `docs/benchmarks.md` and `docs/scaling.md`. Every run uses fresh
//! tenants (schools), so runs do not see each other's rows; the bulk rows are written with
//! `INSERT … SELECT generate_series` on the server (the point is the query at that size, not
//! the time to load it), the measured operations go through the stores as a server does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::time::{Duration, Instant};

use schooltas_did::{Did, Signer, SigningKey, VerifyingKey};
use schooltas_issuer::{Brin, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_postgres::{Pool, PostgresConsentStore, PostgresIssuerStore, Tenant, connect};
use schooltas_school::catalog::Catalog;
use schooltas_verifier::ConsentRegister;
use schooltas_verifier::register::{UseAnswer, UseQuery};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;

fn pool(connections: u32) -> Pool {
    let url = std::env::var("SCHOOLTAS_BENCH_POSTGRES")
        .expect("set SCHOOLTAS_BENCH_POSTGRES to a database URL (crates/postgres/bench.sh does)");
    connect(&url, connections).expect("connect")
}

fn fresh_tenant(what: &str) -> Tenant {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    Tenant::new(&format!("bench-{what}-{stamp:x}")).unwrap()
}

fn issuer(store: PostgresIssuerStore, policy: StatusPolicy) -> Issuer<PostgresIssuerStore> {
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse("did:web:delinde.example").unwrap(),
        "https://delinde.example",
        SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
    )
    .unwrap();
    Issuer::new(profile, Catalog::standard(), store, policy)
}

fn enrolment(n: usize) -> Map<String, Value> {
    json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
           "school_year": "2026-2027", "group": format!("{}", 1 + n % 8), "given_name": format!("Pupil {n}"),
           "family_name": "de Vries", "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
    .as_object()
    .cloned()
    .unwrap()
}

/// Runs SQL as the tenant (row-level security admits only its rows), in one transaction.
fn as_tenant(pool: &Pool, tenant: &Tenant, sql: &str) -> u64 {
    let mut client = pool.get().unwrap();
    let mut tx = client.transaction().unwrap();
    tx.execute("SELECT set_config('app.tenant', $1, true)", &[&tenant.as_str()]).unwrap();
    let changed = tx.execute(sql, &[]).unwrap();
    tx.commit().unwrap();
    changed
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Credentials issued per second, each a batch of 3 copies (3 holder keys, 3 status entries,
/// one credential row, one SERIALIZABLE transaction), by `threads` issuers of one school.
fn issue(threads: usize, batches: usize) {
    let pool = pool(threads as u32 + 1);
    let tenant = fresh_tenant("issue");
    let keys: Vec<[VerifyingKey; 3]> = (0..64)
        .map(|n| {
            [0u8, 1, 2]
                .map(|i| SigningKey::from_ed25519_seed(&[(n * 3 + i as usize) as u8 + 1; 32]).verifying_key().clone())
        })
        .collect();
    // A warm-up batch creates the status list, as a school's first issuance does.
    let store = PostgresIssuerStore::open(pool.clone(), tenant.clone()).unwrap();
    issuer(store, StatusPolicy::new("https://delinde.example/status"))
        .issue_batch("pupil_enrolment", "pupil-warm-up", enrolment(0), &keys[0], NOW)
        .unwrap();
    let per_thread = batches / threads;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (pool, tenant, keys) = (pool.clone(), tenant.clone(), &keys);
            scope.spawn(move || {
                let store = PostgresIssuerStore::open(pool, tenant).unwrap();
                let issuer = issuer(store, StatusPolicy::new("https://delinde.example/status"));
                for n in 0..per_thread {
                    let subject = format!("pupil-{t}-{n}");
                    issuer.issue_batch("pupil_enrolment", &subject, enrolment(n), &keys[n % keys.len()], NOW).unwrap();
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let done = per_thread * threads;
    println!(
        "issue: {done} credentials × 3 copies by {threads} threads in {elapsed:.2} s: {:.0} credentials/s, {:.0} copies/s",
        done as f64 / elapsed,
        3.0 * done as f64 / elapsed
    );
}

/// A national status list: 2^23 entries of 2 bits, half allocated, one allocated entry in 64
/// revoked; the time to publish it (read the non-valid entries, build, compress, sign).
fn status_list() {
    let pool = pool(2);
    let tenant = fresh_tenant("status");
    let mut policy = StatusPolicy::new("https://delinde.example/status");
    policy.list_capacity = 1 << 23;
    let store = PostgresIssuerStore::open(pool.clone(), tenant.clone()).unwrap();
    let issuer = issuer(store, policy);
    let key = SigningKey::from_ed25519_seed(&[9; 32]).verifying_key().clone();
    issuer.issue("pupil_enrolment", "pupil-first", enrolment(0), &key, NOW).unwrap();
    let started = Instant::now();
    let allocated = 1u64 << 22;
    let credentials = as_tenant(
        &pool,
        &tenant,
        &format!(
            "INSERT INTO issuer_credential (tenant, id, config_id, subject_ref, issued_at, expires_at, copies)
             SELECT current_setting('app.tenant'), 'bulk-' || g, 'pupil_enrolment', 'pupil-' || g, {NOW}, NULL, 1
             FROM generate_series(1, {allocated}) g"
        ),
    );
    // g × an odd constant mod 2^23 is a bijection: distinct, scattered indices.
    let entries = as_tenant(
        &pool,
        &tenant,
        &format!(
            "INSERT INTO issuer_status_entry (tenant, list_id, idx, credential_id, status)
             SELECT current_setting('app.tenant'), (SELECT max(id) FROM issuer_status_list),
                    (g::bigint * 2654435761) % {capacity}, 'bulk-' || g, CASE WHEN g % 64 = 0 THEN 1 ELSE 0 END
             FROM generate_series(1, {allocated}) g
             ON CONFLICT DO NOTHING",
            capacity = 1u64 << 23
        ),
    );
    as_tenant(
        &pool,
        &tenant,
        "UPDATE issuer_status_list l SET allocated =
             (SELECT count(*) FROM issuer_status_entry e WHERE e.tenant = l.tenant AND e.list_id = l.id)",
    );
    println!(
        "status-list: loaded {credentials} credentials and {entries} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..7 {
        let started = Instant::now();
        let tokens = issuer.status_list_tokens(NOW).unwrap();
        times.push(started.elapsed());
        size = tokens.iter().map(|(_, token)| token.len()).max().unwrap_or(0);
    }
    times.sort();
    println!(
        "status-list: publish 2^23 entries (2 bits, {} revoked): median {:.0} ms (min {:.0} ms, max {:.0} ms), token {size} bytes",
        allocated / 64,
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}

const PURPOSES: [&str; 4] = ["photo_website", "photo_yearbook", "newsletter", "learning_app"];

/// The consent register with `records` records (4 purposes per child, so records / 4
/// children; one record in 16 withdrawn), then `may_use` for random children: p50 and p99
/// over 20,000 queries on one thread, and the throughput of 4 threads.
fn may_use(records: u64) {
    let pool = pool(5);
    let tenant = fresh_tenant("consent");
    let store = PostgresConsentStore::open(pool.clone(), tenant.clone()).unwrap();
    let started = Instant::now();
    let chunk = 1_000_000u64;
    let mut from = 0u64;
    while from < records {
        let to = (from + chunk).min(records);
        as_tenant(
            &pool,
            &tenant,
            &format!(
                "INSERT INTO consent_record (tenant, id, verifier, subject, purpose, object, channel, legal_basis,
                     granted_at, valid_until, approver_jwk, request_nonce, evidence, status_uri, status_idx,
                     withdrawn_at, withdrawal_evidence, status_issuer)
                 SELECT current_setting('app.tenant'), md5(g::text), 'x509_san_dns:delinde.example',
                     'urn:ietf:params:oauth:jwk-thumbprint:sha-256:child-' || (g / 4),
                     (ARRAY['photo_website', 'photo_yearbook', 'newsletter', 'learning_app'])[g % 4 + 1],
                     NULL, NULL, 'consent', {NOW} - 86400 - (g % 1000), {NOW} + 31536000,
                     '{{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}}',
                     'nonce-' || g,
                     '{{\"presentations\":[\"' || repeat(md5(g::text), 6) || '\"],\"guardian_approval\":\"' || md5('a' || g::text) || '\"}}',
                     'https://delinde.example/status/guardianship', g % 8388608,
                     CASE WHEN g % 16 = 0 THEN {NOW} - 3600 END,
                     CASE WHEN g % 16 = 0 THEN 'withdrawal-jws-' || g END,
                     NULL
                 FROM generate_series({from}, {last}) g",
                last = to - 1
            ),
        );
        from = to;
        println!("may-use: {to} records loaded ({:.0} s)", started.elapsed().as_secs_f64());
    }
    as_tenant(&pool, &tenant, "ANALYZE consent_record");
    let register = ConsentRegister::new(store);
    let children = records / 4;
    let query = |n: u64| {
        let child = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7) % children;
        let subject = format!("urn:ietf:params:oauth:jwk-thumbprint:sha-256:child-{child}");
        (subject, PURPOSES[(n % 4) as usize])
    };
    let mut times = Vec::with_capacity(20_000);
    let (mut yes, mut no) = (0, 0);
    for n in 0..20_000u64 {
        let (subject, purpose) = query(n);
        let started = Instant::now();
        let answer = register.may_use(UseQuery { subject: &subject, purpose, object: None }, NOW, None).unwrap();
        times.push(started.elapsed());
        match answer {
            UseAnswer::Yes { .. } => yes += 1,
            _ => no += 1,
        }
    }
    times.sort();
    println!(
        "may-use: {records} records, {children} children: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs (one thread; {yes} yes, {no} no)",
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times[times.len() - 1].as_secs_f64() * 1e6,
    );
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let register = &register;
            scope.spawn(move || {
                for n in 0..5_000u64 {
                    let (subject, purpose) = query(1_000_000 * (t + 1) + n);
                    register.may_use(UseQuery { subject: &subject, purpose, object: None }, NOW, None).unwrap();
                }
            });
        }
    });
    println!("may-use: 4 threads: {:.0} queries/s", 20_000.0 / started.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("issue") => issue(number(1, 4) as usize, number(2, 4_000) as usize),
        Some("status-list") => status_list(),
        Some("may-use") => may_use(number(1, 10_000_000)),
        _ => {
            eprintln!("usage: national issue [threads] [batches] | status-list | may-use [records]");
            std::process::exit(2);
        }
    }
}
