//! The verifier's request sessions and replay cache.
//!
//! Every presentation request carries a fresh nonce, which the holder's key-binding JWT signs
//! (OpenID4VP 1.0 §5.2, §14.1; RFC 9901 §4.3). When the response comes back, the verifier
//! [peeks](NonceStore::peek) at the nonce — it must be one this verifier issued, not expired,
//! and not used before — verifies the answer, and only then [consumes](NonceStore::consume)
//! it, once: otherwise a recorded presentation could be replayed, and (were it consumed on
//! sight) a body that merely names the nonce could burn the family's request. The session value
//! attached at issue time (typically the request id, or what the request asked for) comes back
//! from `consume`, so the response is matched with its request without trusting anything the
//! wallet sent.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use schooltas_oid4vc::oid4vp::{MAX_NONCE_LEN, MIN_NONCE_LEN, random_nonce};

/// The number of live entries [`NonceStore::new`] keeps.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// A request nonce: 16 to 512 ASCII URL-safe characters (`A-Z a-z 0-9 - . _ ~`), the rule of
/// OpenID4VP §5.2 as this library applies it. [`NonceStore::issue`] makes 128-bit random ones.
///
/// ```
/// use schooltas_verifier::Nonce;
/// assert!(Nonce::new("n-0S6_WzA2Mj-81f2").is_ok());
/// use schooltas_verifier::NonceError;
/// assert!(matches!(Nonce::new("short"), Err(NonceError::Invalid { .. })));
/// assert!(matches!(Nonce::new("has spaces in it, sixteen+"), Err(NonceError::Invalid { .. })));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nonce(String);

impl Nonce {
    /// Validates a nonce made elsewhere.
    pub fn new(nonce: impl Into<String>) -> Result<Self, NonceError> {
        let nonce = nonce.into();
        if nonce.len() < MIN_NONCE_LEN || nonce.len() > MAX_NONCE_LEN {
            return Err(NonceError::Invalid { reason: "a nonce is 16 to 512 characters long" });
        }
        if !nonce.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')) {
            return Err(NonceError::Invalid { reason: "a nonce holds only ASCII URL-safe characters" });
        }
        Ok(Nonce(nonce))
    }

    /// A fresh nonce of 128 random bits (22 base64url characters).
    pub fn random() -> Self {
        Nonce(random_nonce())
    }

    /// The nonce as sent in a request.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", self.0)
    }
}

impl AsRef<str> for Nonce {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why a nonce was refused or could not be issued.
///
/// No variant carries the nonce itself: it names the rule and the times involved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NonceError {
    /// This verifier never issued the nonce (or forgot it after its expiry): the response does
    /// not answer one of our requests.
    #[error("unknown nonce: it was not issued by this verifier, or it expired long ago")]
    Unknown,
    /// The nonce expired before the response came.
    #[error("the nonce expired at {expired_at} (now {now}); ask again with a new request")]
    Expired {
        /// When it expired.
        expired_at: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// The nonce was consumed before: this response is a replay.
    #[error("the nonce was already used at {used_at}: this response is a replay and is refused")]
    AlreadyUsed {
        /// When it was first consumed.
        used_at: i64,
    },
    /// The store holds `capacity` unexpired nonces; no live one is evicted to make room.
    #[error("the nonce store is full ({capacity} unexpired nonces); try again later or raise its capacity")]
    Full {
        /// The store's capacity.
        capacity: usize,
    },
    /// [`NonceStore::register`] was given a nonce the store already holds.
    #[error("the nonce is already registered")]
    Duplicate,
    /// The expiry is not after now, so the nonce could never be consumed.
    #[error("a nonce must expire after it is issued (expires at {expires_at}, now {now})")]
    InvalidLifetime {
        /// The expiry asked for.
        expires_at: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// A nonce made elsewhere breaks [`Nonce::new`]'s rule.
    #[error("invalid nonce: {reason}")]
    Invalid {
        /// The rule.
        reason: &'static str,
    },
    /// A shared [`RequestStore`](crate::RequestStore) could not be read or written (its
    /// database is down, or a row in it is damaged); nothing was decided.
    #[error("the request store failed: {reason}")]
    Storage {
        /// What the store reported (never a nonce, a key or a claim value).
        reason: String,
    },
}

enum State<S> {
    Open(S),
    Used { at: i64 },
}

struct Entry<S> {
    expires_at: i64,
    state: State<S>,
}

/// Issued request nonces and their sessions: thread-safe, bounded, each nonce consumable once.
///
/// - A nonce is valid while `now < expires_at`.
/// - A consumed nonce is remembered until it expires, so a replay is refused as
///   [`NonceError::AlreadyUsed`] rather than [`NonceError::Unknown`]. After its expiry it may be
///   purged; a replay then reads `Unknown` or `Expired`, which refuses it just the same.
/// - **Capacity:** used and open nonces both count. When the store is full, expired entries are
///   purged first; if it is still full, `issue` and `register` refuse with
///   [`NonceError::Full`]. Live entries are never evicted: evicting an open nonce would fail a
///   family's honest answer, and evicting a used one would reopen it to replay. A flood of
///   requests therefore costs new requests, not the integrity of old ones; size the capacity to
///   the requests a verifier expects within one nonce lifetime.
///
/// The session value `S` is anything the verifier wants back when the answer arrives — the
/// request id, the DCQL query, the purpose. It is handed out once, by the successful `consume`.
///
/// ```
/// use schooltas_verifier::{NonceError, NonceStore};
/// let store = NonceStore::<String>::with_capacity(1_000);
/// let now = 1_800_000_000;
/// let nonce = store.issue_with(now, 300, "request-17".to_owned())?;
/// // ... the nonce travels in the request; the wallet signs it in its key-binding JWT ...
/// assert_eq!(store.consume(nonce.as_str(), now + 20)?, "request-17");
/// assert_eq!(store.consume(nonce.as_str(), now + 21), Err(NonceError::AlreadyUsed { used_at: now + 20 }));
/// # Ok::<(), NonceError>(())
/// ```
pub struct NonceStore<S = ()> {
    entries: Mutex<HashMap<String, Entry<S>>>,
    capacity: usize,
}

impl<S> NonceStore<S> {
    /// A store that keeps at most [`DEFAULT_CAPACITY`] nonces.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// A store that keeps at most `capacity` nonces (open or used, until they expire).
    pub fn with_capacity(capacity: usize) -> Self {
        NonceStore { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The most nonces kept at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many nonces are held (open or used, expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether no nonce is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Issues a fresh random nonce valid for `lifetime` seconds from `now`, with `session`
    /// attached.
    pub fn issue_with(&self, now: i64, lifetime: u64, session: S) -> Result<Nonce, NonceError> {
        let expires_at = now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
        check_lifetime(now, expires_at)?;
        let mut entries = self.entries();
        self.make_room(&mut entries, now)?;
        let mut nonce = Nonce::random();
        // 128 random bits: a collision with a held nonce is not a practical event, but drawing
        // again costs nothing and keeps two requests from ever sharing a nonce.
        while entries.contains_key(nonce.as_str()) {
            nonce = Nonce::random();
        }
        entries.insert(nonce.as_str().to_owned(), Entry { expires_at, state: State::Open(session) });
        Ok(nonce)
    }

    /// Records a nonce built elsewhere (for instance, by a request builder that put it into a
    /// signed request object already), valid until `expires_at`, with `session` attached.
    pub fn register_with(&self, nonce: &Nonce, now: i64, expires_at: i64, session: S) -> Result<(), NonceError> {
        check_lifetime(now, expires_at)?;
        let mut entries = self.entries();
        if entries.contains_key(nonce.as_str()) {
            return Err(NonceError::Duplicate);
        }
        self.make_room(&mut entries, now)?;
        entries.insert(nonce.as_str().to_owned(), Entry { expires_at, state: State::Open(session) });
        Ok(())
    }

    /// A copy of the session of an open `nonce` at `now`, without consuming it: the same checks
    /// as [`NonceStore::consume`] ([`NonceError::Unknown`], [`NonceError::Expired`],
    /// [`NonceError::AlreadyUsed`]), nothing changed.
    ///
    /// A verifier looks its request up with this, verifies the answer, and only then spends the
    /// nonce with [`NonceStore::consume`] — so a body that merely names the nonce (junk, a
    /// forgery) cannot burn it before the family's genuine answer arrives. Of two valid answers
    /// racing, both may pass `peek`, and exactly one wins the `consume`.
    pub fn peek(&self, nonce: &str, now: i64) -> Result<S, NonceError>
    where
        S: Clone,
    {
        let entries = self.entries();
        let entry = entries.get(nonce).ok_or(NonceError::Unknown)?;
        match &entry.state {
            State::Used { at } => Err(NonceError::AlreadyUsed { used_at: *at }),
            State::Open(_) if now >= entry.expires_at => Err(NonceError::Expired { expired_at: entry.expires_at, now }),
            State::Open(session) => Ok(session.clone()),
        }
    }

    /// Consumes `nonce` at `now` and hands back its session: succeeds once per nonce.
    ///
    /// Refused with [`NonceError::Unknown`] (not issued here), [`NonceError::Expired`], or
    /// [`NonceError::AlreadyUsed`] (a replay). Of several threads consuming the same nonce at
    /// once, exactly one succeeds.
    pub fn consume(&self, nonce: &str, now: i64) -> Result<S, NonceError> {
        let mut entries = self.entries();
        let entry = entries.get_mut(nonce).ok_or(NonceError::Unknown)?;
        match entry.state {
            State::Used { at } => return Err(NonceError::AlreadyUsed { used_at: at }),
            State::Open(_) if now >= entry.expires_at => {
                return Err(NonceError::Expired { expired_at: entry.expires_at, now });
            }
            State::Open(_) => {}
        }
        match std::mem::replace(&mut entry.state, State::Used { at: now }) {
            State::Open(session) => Ok(session),
            // Checked just above, under the same lock.
            State::Used { at } => Err(NonceError::AlreadyUsed { used_at: at }),
        }
    }

    /// Forgets every nonce that expired at `now`; returns how many.
    pub fn purge_expired(&self, now: i64) -> usize {
        let mut entries = self.entries();
        let before = entries.len();
        entries.retain(|_, entry| now < entry.expires_at);
        before - entries.len()
    }

    /// Purges expired entries when the store is full; refuses if it stays full.
    fn make_room(&self, entries: &mut HashMap<String, Entry<S>>, now: i64) -> Result<(), NonceError> {
        if entries.len() >= self.capacity {
            entries.retain(|_, entry| now < entry.expires_at);
            if entries.len() >= self.capacity {
                return Err(NonceError::Full { capacity: self.capacity });
            }
        }
        Ok(())
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry<S>>> {
        // Every change under the lock is a single insert, remove or state swap, so a panic
        // elsewhere cannot leave the map half-changed.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn check_lifetime(now: i64, expires_at: i64) -> Result<(), NonceError> {
    if expires_at <= now { Err(NonceError::InvalidLifetime { expires_at, now }) } else { Ok(()) }
}

impl NonceStore<()> {
    /// Issues a fresh random nonce valid for `lifetime` seconds from `now`, without a session.
    pub fn issue(&self, now: i64, lifetime: u64) -> Result<Nonce, NonceError> {
        self.issue_with(now, lifetime, ())
    }

    /// Records a nonce built elsewhere, valid until `expires_at`, without a session.
    pub fn register(&self, nonce: &Nonce, now: i64, expires_at: i64) -> Result<(), NonceError> {
        self.register_with(nonce, now, expires_at, ())
    }
}

impl<S> Default for NonceStore<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> fmt::Debug for NonceStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceStore").field("capacity", &self.capacity).field("held", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn consumes_once_then_refuses_a_replay() {
        let store = NonceStore::<u32>::with_capacity(10);
        let nonce = store.issue_with(NOW, 60, 7).unwrap();
        assert_eq!(store.consume(nonce.as_str(), NOW + 1), Ok(7));
        assert_eq!(store.consume(nonce.as_str(), NOW + 2), Err(NonceError::AlreadyUsed { used_at: NOW + 1 }));
        // Remembered until its expiry, even after a purge before then.
        assert_eq!(store.purge_expired(NOW + 59), 0);
        assert_eq!(store.consume(nonce.as_str(), NOW + 59), Err(NonceError::AlreadyUsed { used_at: NOW + 1 }));
    }

    #[test]
    fn refuses_an_unknown_nonce() {
        let store = NonceStore::new();
        store.issue(NOW, 60).unwrap();
        assert_eq!(store.consume(Nonce::random().as_str(), NOW), Err(NonceError::Unknown));
        assert_eq!(store.consume("", NOW), Err(NonceError::Unknown));
    }

    #[test]
    fn refuses_an_expired_nonce() {
        let store = NonceStore::new();
        let nonce = store.issue(NOW, 60).unwrap();
        assert_eq!(
            store.consume(nonce.as_str(), NOW + 60),
            Err(NonceError::Expired { expired_at: NOW + 60, now: NOW + 60 })
        );
        // Expired and purged: unknown, still refused.
        assert_eq!(store.purge_expired(NOW + 60), 1);
        assert_eq!(store.consume(nonce.as_str(), NOW + 61), Err(NonceError::Unknown));
    }

    #[test]
    fn registers_a_nonce_made_elsewhere() {
        let store = NonceStore::<&str>::with_capacity(4);
        let nonce = Nonce::new("built-by-the-request-builder").unwrap();
        store.register_with(&nonce, NOW, NOW + 30, "req-1").unwrap();
        assert_eq!(store.register_with(&nonce, NOW, NOW + 30, "req-2"), Err(NonceError::Duplicate));
        assert_eq!(
            store.register_with(&Nonce::random(), NOW, NOW, "req-3"),
            Err(NonceError::InvalidLifetime { expires_at: NOW, now: NOW })
        );
        assert_eq!(store.consume(nonce.as_str(), NOW + 29), Ok("req-1"));
        assert_eq!(store.issue_with(NOW, 0, "x"), Err(NonceError::InvalidLifetime { expires_at: NOW, now: NOW }));
    }

    #[test]
    fn validates_nonces_made_elsewhere() {
        assert!(Nonce::new("a".repeat(16)).is_ok());
        let length = "a nonce is 16 to 512 characters long";
        let charset = "a nonce holds only ASCII URL-safe characters";
        for (bad, expected) in
            [("a".repeat(15), length), ("a".repeat(513), length), ("abcdefghijklmnop/".into(), charset)]
        {
            assert!(
                matches!(Nonce::new(bad.clone()), Err(NonceError::Invalid { reason }) if reason == expected),
                "{bad}"
            );
        }
        assert_eq!(Nonce::random().as_str().len(), 22);
    }

    #[test]
    fn when_full_purges_expired_then_refuses_without_evicting_live_ones() {
        let store = NonceStore::with_capacity(3);
        let short = store.issue(NOW, 10).unwrap();
        let used = store.issue(NOW, 100).unwrap();
        let open = store.issue(NOW, 100).unwrap();
        store.consume(used.as_str(), NOW + 1).unwrap();
        // Full of live entries (one used, still remembered): refused.
        assert_eq!(store.issue(NOW + 5, 100), Err(NonceError::Full { capacity: 3 }));
        // Once `short` expires, it makes room.
        let fresh = store.issue(NOW + 10, 100).unwrap();
        assert_eq!(store.len(), 3);
        assert_eq!(store.consume(short.as_str(), NOW + 11), Err(NonceError::Unknown));
        assert_eq!(store.consume(used.as_str(), NOW + 11), Err(NonceError::AlreadyUsed { used_at: NOW + 1 }));
        assert_eq!(store.consume(open.as_str(), NOW + 11), Ok(()));
        assert_eq!(store.consume(fresh.as_str(), NOW + 11), Ok(()));
        assert_eq!(NonceStore::<()>::with_capacity(0).issue(NOW, 1), Err(NonceError::Full { capacity: 0 }));
    }

    #[test]
    fn exactly_one_of_eight_concurrent_consumers_wins() {
        for _ in 0..20 {
            let store = Arc::new(NonceStore::<String>::new());
            let nonce = store.issue_with(NOW, 60, "the session".into()).unwrap();
            let wins = Arc::new(AtomicUsize::new(0));
            let replays = Arc::new(AtomicUsize::new(0));
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let (store, nonce, wins, replays, barrier) =
                        (store.clone(), nonce.clone(), wins.clone(), replays.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        match store.consume(nonce.as_str(), NOW + 1) {
                            Ok(session) => {
                                assert_eq!(session, "the session");
                                wins.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(NonceError::AlreadyUsed { .. }) => {
                                replays.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(other) => panic!("unexpected {other}"),
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            assert_eq!(wins.load(Ordering::SeqCst), 1);
            assert_eq!(replays.load(Ordering::SeqCst), 7);
        }
    }

    #[test]
    fn peek_checks_like_consume_and_changes_nothing() {
        let store = NonceStore::<u32>::with_capacity(10);
        let nonce = store.issue_with(NOW, 60, 7).unwrap();
        assert_eq!(store.peek(nonce.as_str(), NOW + 1), Ok(7));
        assert_eq!(store.peek(nonce.as_str(), NOW + 2), Ok(7), "peeking does not spend the nonce");
        assert_eq!(store.consume(nonce.as_str(), NOW + 3), Ok(7));
        assert_eq!(store.peek(nonce.as_str(), NOW + 4), Err(NonceError::AlreadyUsed { used_at: NOW + 3 }));
        assert_eq!(store.peek(Nonce::random().as_str(), NOW), Err(NonceError::Unknown));
        let late = store.issue_with(NOW, 10, 8).unwrap();
        assert_eq!(
            store.peek(late.as_str(), NOW + 10),
            Err(NonceError::Expired { expired_at: NOW + 10, now: NOW + 10 })
        );
    }

    #[test]
    fn errors_and_debug_do_not_print_nonces_or_sessions() {
        let store = NonceStore::<String>::with_capacity(2);
        let nonce = store.issue_with(NOW, 60, "secret-session".into()).unwrap();
        store.consume(nonce.as_str(), NOW).unwrap();
        let error = store.consume(nonce.as_str(), NOW).unwrap_err();
        assert_eq!(error, NonceError::AlreadyUsed { used_at: NOW });
        let error = error.to_string();
        assert!(!error.contains(nonce.as_str()), "{error}");
        let debug = format!("{store:?}");
        assert!(!debug.contains(nonce.as_str()) && !debug.contains("secret-session"), "{debug}");
    }
}
