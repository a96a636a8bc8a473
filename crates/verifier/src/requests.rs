//! Where a [`Verifier`](crate::Verifier) keeps its open requests: behind the [`RequestStore`]
//! trait, so that several verifier processes behind one load balancer share them.
//!
//! One process holds its requests in memory ([`MemoryRequestStore`], the default). Two or more
//! share a store in a database (`schooltas-postgres`' `PostgresRequestStore`): the request
//! object fetched from one instance, the response posted to another, and — what matters most —
//! the same response posted to both is accepted once, because the store, not the process,
//! decides which [`consume`](RequestStore::consume) wins.
//!
//! The rules every implementation keeps (the conformance suite in `crates/postgres/tests/`
//! checks them against each one):
//!
//! - a request is open while `now < expires_at`;
//! - [`peek`](RequestStore::peek) tells a nonce never registered ([`NonceError::Unknown`]) from
//!   an expired one ([`NonceError::Expired`]) and a spent one ([`NonceError::AlreadyUsed`]),
//!   and changes nothing;
//! - [`consume`](RequestStore::consume) succeeds once per nonce, also when many callers in
//!   many processes race; the others get [`NonceError::AlreadyUsed`];
//! - a spent nonce is remembered until it expires, so a replay is named a replay;
//! - expired entries are purged, so the store stays bounded by the requests open at once.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use schooltas_jwe::EncryptionKey;
use schooltas_oid4vc::oid4vp::AuthorizationRequest;

use crate::nonces::{Nonce, NonceError, NonceStore};

/// An open request as a [`RequestStore`] keeps it: the request, and the key its response is
/// encrypted to when the verifier makes one per request (HAIP 1.0 ephemeral keys).
///
/// `Debug` names the key's `kid` only, never its secret.
#[derive(Clone)]
pub struct OpenRequest {
    /// The request as sent (its nonce, DCQL query, purpose, `state`, …).
    pub request: AuthorizationRequest,
    /// The request's own response encryption key, if it has one.
    pub response_key: Option<EncryptionKey>,
}

impl fmt::Debug for OpenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenRequest")
            .field("response_key", &self.response_key.as_ref().map(EncryptionKey::kid))
            .finish_non_exhaustive()
    }
}

/// The open requests of a verifier, by nonce: registered when a request goes out, looked at
/// when an answer comes, spent exactly once when an answer is accepted.
///
/// Object safe, `Send + Sync`: a [`Verifier`](crate::Verifier) holds one as
/// `Box<dyn RequestStore>`. A store shared by several processes must make
/// [`consume`](RequestStore::consume) atomic in the shared database (a conditional update in
/// one transaction), never a read then a write.
///
/// ```
/// use schooltas_verifier::{MemoryRequestStore, Nonce, NonceError, RequestStore};
/// # use schooltas_verifier::OpenRequest;
/// # fn open() -> OpenRequest { unimplemented!() }
/// fn answer_once(store: &dyn RequestStore, nonce: &Nonce, now: i64) -> Result<(), NonceError> {
///     let _request = store.peek(nonce.as_str(), now)?; // … verify the answer against it …
///     store.consume(nonce.as_str(), now)
/// }
/// let store = MemoryRequestStore::new();
/// assert_eq!(answer_once(&store, &Nonce::random(), 1_800_000_000), Err(NonceError::Unknown));
/// ```
pub trait RequestStore: Send + Sync {
    /// Records `open` under `nonce`, open until `expires_at` (after `now`); refused with
    /// [`NonceError::Duplicate`] for a nonce held already, [`NonceError::InvalidLifetime`]
    /// for an expiry not after `now`, [`NonceError::Full`] when a bounded store is full of
    /// live requests, [`NonceError::Storage`] when the store cannot be written.
    fn register(&self, nonce: &Nonce, open: OpenRequest, now: i64, expires_at: i64) -> Result<(), NonceError>;

    /// The open request of `nonce` at `now`, nothing changed: [`NonceError::Unknown`],
    /// [`NonceError::Expired`] or [`NonceError::AlreadyUsed`] otherwise.
    fn peek(&self, nonce: &str, now: i64) -> Result<OpenRequest, NonceError>;

    /// Spends `nonce` at `now`: succeeds once; [`NonceError::AlreadyUsed`] for every later (or
    /// concurrent, losing) caller, [`NonceError::Unknown`] or [`NonceError::Expired`] as for
    /// [`peek`](RequestStore::peek).
    fn consume(&self, nonce: &str, now: i64) -> Result<(), NonceError>;

    /// The response encryption key named `kid` of a request still open at `now` (`None`: no
    /// such key, or its request expired). A spent request's key is still found, so that a
    /// replayed response decrypts and is refused as a replay.
    fn response_key(&self, kid: &str, now: i64) -> Result<Option<EncryptionKey>, NonceError>;

    /// Forgets what expired at `now`; how many requests.
    fn purge_expired(&self, now: i64) -> Result<usize, NonceError>;
}

/// The in-memory [`RequestStore`] of one process: a bounded [`NonceStore`] of
/// [`OpenRequest`]s and the per-request keys by `kid`. The default of a
/// [`Verifier`](crate::Verifier).
pub struct MemoryRequestStore {
    open: NonceStore<OpenRequest>,
    /// kid → (key, the request's expiry).
    keys: Mutex<BTreeMap<String, (EncryptionKey, i64)>>,
}

impl MemoryRequestStore {
    /// A store of at most [`DEFAULT_OPEN_REQUESTS`](crate::DEFAULT_OPEN_REQUESTS) requests.
    pub fn new() -> Self {
        Self::with_capacity(crate::DEFAULT_OPEN_REQUESTS)
    }

    /// A store of at most `capacity` requests (open or spent, until they expire).
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryRequestStore { open: NonceStore::with_capacity(capacity), keys: Mutex::new(BTreeMap::new()) }
    }

    /// How many requests are held (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether no request is held.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (EncryptionKey, i64)>> {
        // Every change under the lock is one insert or retain: a panic elsewhere cannot leave
        // the map half-changed.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemoryRequestStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryRequestStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRequestStore").field("open", &self.open).finish_non_exhaustive()
    }
}

impl RequestStore for MemoryRequestStore {
    fn register(&self, nonce: &Nonce, open: OpenRequest, now: i64, expires_at: i64) -> Result<(), NonceError> {
        let key = open.response_key.clone();
        self.open.register_with(nonce, now, expires_at, open)?;
        if let Some(key) = key {
            let mut keys = self.keys();
            // Expired requests' keys go; the nonce store bounds how many stay.
            keys.retain(|_, (_, until)| *until >= now);
            keys.insert(key.kid().to_owned(), (key, expires_at));
        }
        Ok(())
    }

    fn peek(&self, nonce: &str, now: i64) -> Result<OpenRequest, NonceError> {
        self.open.peek(nonce, now)
    }

    fn consume(&self, nonce: &str, now: i64) -> Result<(), NonceError> {
        self.open.consume(nonce, now).map(drop)
    }

    fn response_key(&self, kid: &str, now: i64) -> Result<Option<EncryptionKey>, NonceError> {
        Ok(self.keys().get(kid).filter(|(_, expires)| *expires >= now).map(|(key, _)| key.clone()))
    }

    fn purge_expired(&self, now: i64) -> Result<usize, NonceError> {
        self.keys().retain(|_, (_, until)| *until > now);
        Ok(self.open.purge_expired(now))
    }
}
