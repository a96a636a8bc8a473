//! The request store conformance suite against the verifier's in-memory store (always runs):
//! the default that a shared store must behave like.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use conformance::RequestDeployment;
use schooltas_verifier::{EncryptionKey, MemoryRequestStore, Nonce, NonceError, OpenRequest, RequestStore};

/// One process's memory: every handle of a school is the same store.
#[derive(Default)]
struct MemoryDeployment(Mutex<HashMap<String, Arc<MemoryRequestStore>>>);

/// A handle on a shared in-memory store.
struct Handle(Arc<MemoryRequestStore>);

impl RequestStore for Handle {
    fn register(&self, nonce: &Nonce, open: OpenRequest, now: i64, expires_at: i64) -> Result<(), NonceError> {
        self.0.register(nonce, open, now, expires_at)
    }
    fn peek(&self, nonce: &str, now: i64) -> Result<OpenRequest, NonceError> {
        self.0.peek(nonce, now)
    }
    fn consume(&self, nonce: &str, now: i64) -> Result<(), NonceError> {
        self.0.consume(nonce, now)
    }
    fn response_key(&self, kid: &str, now: i64) -> Result<Option<EncryptionKey>, NonceError> {
        self.0.response_key(kid, now)
    }
    fn purge_expired(&self, now: i64) -> Result<usize, NonceError> {
        self.0.purge_expired(now)
    }
}

impl RequestDeployment for MemoryDeployment {
    fn requests(&self, school: &str) -> Box<dyn RequestStore> {
        let mut schools = self.0.lock().unwrap();
        Box::new(Handle(Arc::clone(schools.entry(school.to_owned()).or_default())))
    }
}

fn deployment() -> Option<Box<dyn RequestDeployment>> {
    Some(Box::new(MemoryDeployment::default()))
}

request_store_suite!(deployment());
