//! The request and session store conformance suite against the in-memory stores (always
//! runs): the defaults that a shared store must behave like.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use conformance::RequestDeployment;
use schooltas_verifier::register::ConsentId;
use schooltas_verifier::sessions::{MemorySessionStore, SessionError, SessionRecord, SessionStore};
use schooltas_verifier::{
    EncryptionKey, Failure, MemoryRequestStore, Nonce, NonceError, OpenRequest, RequestStore, Verdict,
};

/// One process's memory: every handle of a school is the same store.
#[derive(Default)]
struct MemoryDeployment {
    requests: Mutex<HashMap<String, Arc<MemoryRequestStore>>>,
    sessions: Mutex<HashMap<String, Arc<MemorySessionStore>>>,
}

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

/// A handle on a shared in-memory session store.
struct Sessions(Arc<MemorySessionStore>);

impl SessionStore for Sessions {
    fn open(&self, session: SessionRecord, now: i64, limit: usize) -> Result<(), SessionError> {
        self.0.open(session, now, limit)
    }
    fn get(&self, id: &str, now: i64) -> Result<Option<SessionRecord>, SessionError> {
        self.0.get(id, now)
    }
    fn id_by_state(&self, state: &str, now: i64) -> Result<Option<String>, SessionError> {
        self.0.id_by_state(state, now)
    }
    fn id_by_nonce(&self, nonce: &str, now: i64) -> Result<Option<String>, SessionError> {
        self.0.id_by_nonce(nonce, now)
    }
    fn decline(&self, id: &str, error: &str, now: i64) -> Result<bool, SessionError> {
        self.0.decline(id, error, now)
    }
    fn refuse(&self, id: &str, failures: &[Failure], now: i64) -> Result<(), SessionError> {
        self.0.refuse(id, failures, now)
    }
    fn accept(
        &self,
        id: &str,
        verdict: Verdict,
        consent: Option<ConsentId>,
        code: Option<String>,
        until: i64,
        now: i64,
    ) -> Result<bool, SessionError> {
        self.0.accept(id, verdict, consent, code, until, now)
    }
    fn purge_expired(&self, now: i64) -> Result<usize, SessionError> {
        self.0.purge_expired(now)
    }
}

impl RequestDeployment for MemoryDeployment {
    fn requests(&self, school: &str) -> Box<dyn RequestStore> {
        let mut schools = self.requests.lock().unwrap();
        Box::new(Handle(Arc::clone(schools.entry(school.to_owned()).or_default())))
    }

    fn sessions(&self, school: &str) -> Box<dyn SessionStore> {
        let mut schools = self.sessions.lock().unwrap();
        Box::new(Sessions(Arc::clone(schools.entry(school.to_owned()).or_default())))
    }
}

fn deployment() -> Option<Box<dyn RequestDeployment>> {
    Some(Box::new(MemoryDeployment::default()))
}

request_store_suite!(deployment());
