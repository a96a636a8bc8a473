//! The store conformance suite against the embedded SQLite stores (always runs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use conformance::Deployment;
use schooltas_issuer::store::{IssuerStore, SqliteStore};
use schooltas_verifier::register::{ConsentStore, SqliteConsentStore};

/// One folder of SQLite files, one per school and component, removed when dropped.
struct SqliteDeployment(PathBuf);

impl SqliteDeployment {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("schooltas-conformance-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        SqliteDeployment(dir)
    }
}

impl Drop for SqliteDeployment {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Deployment for SqliteDeployment {
    fn issuer(&self, school: &str) -> Box<dyn IssuerStore> {
        Box::new(SqliteStore::open(self.0.join(format!("{school}-issuer.sqlite"))).unwrap())
    }

    fn consent(&self, school: &str) -> Box<dyn ConsentStore> {
        Box::new(SqliteConsentStore::open(self.0.join(format!("{school}-consent.sqlite"))).unwrap())
    }
}

fn deployment() -> Option<Box<dyn Deployment>> {
    Some(Box::new(SqliteDeployment::new()))
}

conformance_suite!(deployment());
