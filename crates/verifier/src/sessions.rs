//! The sessions of a verifier's front end (the server's `VerifierService`): what each request
//! was opened for, and where it stands — behind the [`SessionStore`] trait, so that several
//! server processes share them (`schooltas-postgres`' `PostgresSessionStore`); in one process,
//! [`MemorySessionStore`].
//!
//! The rules every implementation keeps:
//!
//! - a session is found (by id, or its id by `state` or nonce) while `now < expires_at`;
//! - a decline ([`SessionStore::decline`]) or a refused answer ([`SessionStore::refuse`])
//!   never overwrites an accepted outcome;
//! - an accepted outcome is set at most once ([`SessionStore::accept`] answers `false` for the
//!   second), and keeps the session readable until the outcome's own expiry;
//! - at most `limit` sessions are open at once ([`SessionError::Full`]), expired ones purged.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use schooltas_oid4vc::oid4vp::AuthorizationRequest;

use crate::register::ConsentId;
use crate::verify::{Failure, Verdict};

/// Where a session stands.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SessionOutcome {
    /// No accepted answer yet; the last refused one's failures, if any came.
    Pending {
        /// The failed checks of the last refused answer.
        last_refusal: Option<Vec<Failure>>,
    },
    /// An error response (`error=…`) came for the session's `state`: the holder declined, or
    /// someone who saw the QR code says so. An error response is unauthenticated (OpenID4VP
    /// §8.2 has no key binding for it, and the `state` is in the request object anyone with the
    /// QR code can fetch), so it does not close the session: the request stays served and a
    /// valid answer still replaces this outcome.
    Declined {
        /// The OAuth error code the wallet sent (`access_denied`, …).
        error: String,
    },
    /// An accepted answer.
    Accepted {
        /// What was verified.
        verdict: Box<Verdict>,
        /// The consent recorded for it, when the service keeps a consent register and the
        /// answer rests on consent.
        consent: Option<ConsentId>,
    },
}

/// One session as a [`SessionStore`] keeps it.
///
/// `Debug` shows none of its identifiers (the id, `state`, nonce and response code are
/// bearer values).
#[derive(Clone)]
pub struct SessionRecord {
    /// The session's id (the request URI's last segment, the front end's handle).
    pub id: String,
    /// The signed request object served by reference.
    pub request_object: String,
    /// The request, to sign again with a wallet's `wallet_nonce`.
    pub request: AuthorizationRequest,
    /// The request's `state`.
    pub state: String,
    /// The request's nonce.
    pub nonce: String,
    /// When the session is forgotten: the request's expiry, then the outcome's.
    pub expires_at: i64,
    /// Where the wallet sends the user after an accepted answer.
    pub redirect_uri: Option<String>,
    /// The fresh code the redirect carries back (OpenID4VP 1.0 §8.2, HAIP 1.0 §5.1), set with
    /// an accepted outcome of a session with a `redirect_uri`.
    pub response_code: Option<String>,
    /// Where it stands.
    pub outcome: SessionOutcome,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("expires_at", &self.expires_at)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// Why a [`SessionStore`] refused or failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// `limit` sessions are open: no new one until some expire.
    #[error("{limit} sessions are open (the configured maximum); wait until some expire")]
    Full {
        /// The limit.
        limit: usize,
    },
    /// A session with this id, `state` or nonce is held already.
    #[error("a session with this id, state or nonce is already open")]
    Duplicate,
    /// The shared store could not be read or written; nothing was changed.
    #[error("the session store failed: {reason}")]
    Storage {
        /// What the store reported (never an identifier or a claim value).
        reason: String,
    },
}

/// The sessions of a verifier front end, shared by all its processes when the store is.
/// Object safe, `Send + Sync`.
pub trait SessionStore: Send + Sync {
    /// Opens `session`, unless `limit` sessions are open at `now` ([`SessionError::Full`]) or
    /// its id, `state` or nonce is held ([`SessionError::Duplicate`]).
    fn open(&self, session: SessionRecord, now: i64, limit: usize) -> Result<(), SessionError>;

    /// Session `id`, unless unknown or expired at `now`.
    fn get(&self, id: &str, now: i64) -> Result<Option<SessionRecord>, SessionError>;

    /// The id of the session whose request carries `state`.
    fn id_by_state(&self, state: &str, now: i64) -> Result<Option<String>, SessionError>;

    /// The id of the session whose request carries `nonce`.
    fn id_by_nonce(&self, nonce: &str, now: i64) -> Result<Option<String>, SessionError>;

    /// Records a decline (`error`) unless the session is accepted; whether it was recorded.
    fn decline(&self, id: &str, error: &str, now: i64) -> Result<bool, SessionError>;

    /// Records a refused answer's failures unless the session is accepted.
    fn refuse(&self, id: &str, failures: &[Failure], now: i64) -> Result<(), SessionError>;

    /// Sets the accepted outcome, once: `false` (nothing changed) when the session is
    /// unknown, expired, or accepted already. The session is then kept until `until`, and
    /// carries `response_code` when given.
    fn accept(
        &self,
        id: &str,
        verdict: Verdict,
        consent: Option<ConsentId>,
        response_code: Option<String>,
        until: i64,
        now: i64,
    ) -> Result<bool, SessionError>;

    /// Forgets the sessions expired at `now`; how many.
    fn purge_expired(&self, now: i64) -> Result<usize, SessionError>;
}

#[derive(Default)]
struct Sessions {
    by_id: HashMap<String, SessionRecord>,
    by_nonce: HashMap<String, String>,
    by_state: HashMap<String, String>,
}

impl Sessions {
    fn purge(&mut self, now: i64) -> usize {
        let expired: Vec<String> =
            self.by_id.iter().filter(|(_, s)| s.expires_at <= now).map(|(id, _)| id.clone()).collect();
        for id in &expired {
            if let Some(session) = self.by_id.remove(id) {
                self.by_nonce.remove(&session.nonce);
                self.by_state.remove(&session.state);
            }
        }
        expired.len()
    }

    fn live(&mut self, id: &str, now: i64) -> Option<&mut SessionRecord> {
        self.by_id.get_mut(id).filter(|session| now < session.expires_at)
    }
}

/// The sessions of one process, in memory: the default of the server's `VerifierService`.
#[derive(Default)]
pub struct MemorySessionStore {
    sessions: Mutex<Sessions>,
}

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // Every change under the lock is an insert, a remove or a field assignment: a panic
        // elsewhere cannot leave the maps half-changed in a way that breaks a rule.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySessionStore").field("held", &self.sessions().by_id.len()).finish()
    }
}

impl SessionStore for MemorySessionStore {
    fn open(&self, session: SessionRecord, now: i64, limit: usize) -> Result<(), SessionError> {
        let mut sessions = self.sessions();
        if sessions.by_id.len() >= limit {
            sessions.purge(now);
            if sessions.by_id.len() >= limit {
                return Err(SessionError::Full { limit });
            }
        }
        if sessions.by_id.contains_key(&session.id)
            || sessions.by_nonce.contains_key(&session.nonce)
            || sessions.by_state.contains_key(&session.state)
        {
            return Err(SessionError::Duplicate);
        }
        sessions.by_nonce.insert(session.nonce.clone(), session.id.clone());
        sessions.by_state.insert(session.state.clone(), session.id.clone());
        sessions.by_id.insert(session.id.clone(), session);
        Ok(())
    }

    fn get(&self, id: &str, now: i64) -> Result<Option<SessionRecord>, SessionError> {
        Ok(self.sessions().live(id, now).map(|session| session.clone()))
    }

    fn id_by_state(&self, state: &str, now: i64) -> Result<Option<String>, SessionError> {
        let mut sessions = self.sessions();
        let id = sessions.by_state.get(state).cloned();
        Ok(id.filter(|id| sessions.live(id, now).is_some()))
    }

    fn id_by_nonce(&self, nonce: &str, now: i64) -> Result<Option<String>, SessionError> {
        let mut sessions = self.sessions();
        let id = sessions.by_nonce.get(nonce).cloned();
        Ok(id.filter(|id| sessions.live(id, now).is_some()))
    }

    fn decline(&self, id: &str, error: &str, now: i64) -> Result<bool, SessionError> {
        let mut sessions = self.sessions();
        match sessions.live(id, now) {
            Some(session) if !matches!(session.outcome, SessionOutcome::Accepted { .. }) => {
                session.outcome = SessionOutcome::Declined { error: error.to_owned() };
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn refuse(&self, id: &str, failures: &[Failure], now: i64) -> Result<(), SessionError> {
        let mut sessions = self.sessions();
        if let Some(session) = sessions.live(id, now)
            && !matches!(session.outcome, SessionOutcome::Accepted { .. })
        {
            session.outcome = SessionOutcome::Pending { last_refusal: Some(failures.to_vec()) };
        }
        Ok(())
    }

    fn accept(
        &self,
        id: &str,
        verdict: Verdict,
        consent: Option<ConsentId>,
        response_code: Option<String>,
        until: i64,
        now: i64,
    ) -> Result<bool, SessionError> {
        let mut sessions = self.sessions();
        match sessions.live(id, now) {
            Some(session) if !matches!(session.outcome, SessionOutcome::Accepted { .. }) => {
                session.outcome = SessionOutcome::Accepted { verdict: Box::new(verdict), consent };
                session.response_code = response_code;
                session.expires_at = until;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn purge_expired(&self, now: i64) -> Result<usize, SessionError> {
        Ok(self.sessions().purge(now))
    }
}
