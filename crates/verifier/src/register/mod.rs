//! The consent register: what a school receiving consent keeps, so that it can demonstrate each
//! consent (GDPR art. 7(1)), honour its withdrawal (art. 7(3)), and answer an access request
//! (art. 15).
//!
//! [`ConsentRegister::record`] stores a consent with its evidence — the presentations, the
//! guardian's approval, the signed transaction data — after the verification pipeline accepted
//! it. [`ConsentRegister::may_use`] answers the everyday question: *may we use photo X in the
//! newsletter today?* [`ConsentRegister::withdraw`] ends a consent and keeps the evidence of its
//! withdrawal next to the evidence of its grant.
//!
//! The register sits on a [`ConsentStore`] that runs each operation as one transaction over a
//! [`ConsentTx`]; the embedded implementation is [`SqliteConsentStore`].

mod record;
mod sqlite;
mod store;
mod withdrawal;

pub use record::{ConsentId, ConsentRecord, Evidence, StatusIssuer, Withdrawal};
pub use sqlite::SqliteConsentStore;
pub use store::{ConsentStore, ConsentTx, in_transaction};
pub use withdrawal::WithdrawnBy;
pub(crate) use withdrawal::withdrawal_keys;

use schooltas_did::VerifyingKey;
use schooltas_did::jws::Header;
use schooltas_status_list::StatusListCache;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// The question "may we use this, for this purpose, now?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UseQuery<'a> {
    /// Whom it is about (the subject identifier recorded with the consent).
    pub subject: &'a str,
    /// The purpose code (`"newsletter"`).
    pub purpose: &'a str,
    /// The object, e.g. `sha-256:…` of the photo; `None` asks about the purpose as a whole.
    pub object: Option<&'a str>,
}

/// The register's answer to a [`UseQuery`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UseAnswer {
    /// Yes, on the strength of this consent (keep its id with the use).
    Yes {
        /// The consent that allows it.
        evidence: Box<ConsentRecord>,
    },
    /// No, and why.
    No {
        /// Why not.
        reason: NoReason,
    },
}

impl UseAnswer {
    /// Whether the answer is yes.
    pub fn is_yes(&self) -> bool {
        matches!(self, UseAnswer::Yes { .. })
    }
}

/// Why the register answers no.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoReason {
    /// No consent for this subject, purpose and object was ever recorded.
    NoConsent,
    /// The consent was withdrawn at `at` (the most recent withdrawal among the matching
    /// consents; it ends every matching consent granted before it).
    Withdrawn {
        /// When.
        at: i64,
    },
    /// The most recent matching consent ran out at `valid_until`.
    Expired {
        /// Its retention end.
        valid_until: i64,
    },
    /// Every matching consent is granted only after the time asked about.
    NotYetValid,
    /// The status-list entry of the consent (e.g. the guardianship credential's) is revoked,
    /// suspended or otherwise not VALID.
    StatusRevoked,
    /// The status could not be established (fetch failed, token invalid, no key): no statement
    /// can be made, so the answer is no (draft-ietf-oauth-status-list §8.3).
    StatusUnknown {
        /// What went wrong, for an operator (names URIs and rules, never a claim value).
        reason: String,
    },
}

/// How [`ConsentRegister::may_use`] checks a consent's status-list entry: a [`StatusListCache`]
/// and the key that signs the status list token.
pub struct StatusCheck<'a> {
    cache: &'a StatusListCache,
    key: KeySource<'a>,
}

/// Finds a status list token's key from its header, its (not yet verified) `iss`, and the
/// record's [`StatusIssuer`] (whose status entry it is; `None` for records from before it was
/// kept).
type KeyFor<'a> =
    dyn Fn(&Header, Option<&str>, Option<&StatusIssuer>) -> schooltas_status_list::Result<VerifyingKey> + 'a;

enum KeySource<'a> {
    Fixed(&'a VerifyingKey),
    Resolve(&'a KeyFor<'a>),
}

impl<'a> StatusCheck<'a> {
    /// Status list tokens must be signed by `key` (the usual case: one school issues the
    /// credentials whose status the consents point at, and signs its own status lists).
    pub fn signed_by(cache: &'a StatusListCache, key: &'a VerifyingKey) -> Self {
        StatusCheck { cache, key: KeySource::Fixed(key) }
    }

    /// The key of each status list token is found by `key_for` from its header, its (not yet
    /// verified) `iss` and the record's [`StatusIssuer`] — through a DID document or a trust
    /// list, for consents resting on credentials of several schools
    /// (`crate::consent_status_key` is the trust-list rule). A key that cannot be found makes
    /// the status unknown.
    pub fn resolved_by(cache: &'a StatusListCache, key_for: &'a KeyFor<'a>) -> Self {
        StatusCheck { cache, key: KeySource::Resolve(key_for) }
    }

    fn check(&self, record: &ConsentRecord, now: i64) -> Option<NoReason> {
        use schooltas_status_list::Error as StatusListError;
        let reference = record.status.as_ref()?;
        let outcome = match self.key {
            KeySource::Fixed(key) => self.cache.check(reference, key, now),
            KeySource::Resolve(key_for) => {
                let issuer = record.status_issuer.as_ref();
                self.cache.check_with(reference, |header: &Header, iss: Option<&str>| key_for(header, iss, issuer), now)
            }
        };
        match outcome {
            Ok(()) => None,
            Err(StatusListError::Revoked { .. } | StatusListError::Suspended { .. })
            | Err(StatusListError::StatusNotValid { .. }) => Some(NoReason::StatusRevoked),
            Err(other) => Some(NoReason::StatusUnknown { reason: other.to_string() }),
        }
    }
}

impl std::fmt::Debug for StatusCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = match self.key {
            KeySource::Fixed(_) => "fixed",
            KeySource::Resolve(_) => "resolved",
        };
        f.debug_struct("StatusCheck").field("cache", self.cache).field("key", &key).finish()
    }
}

/// The consent register over a [`ConsentStore`].
///
/// See the [crate documentation](crate) for the whole walk: record, ask, withdraw, ask.
#[derive(Debug)]
pub struct ConsentRegister<S> {
    store: S,
}

impl<S: ConsentStore> ConsentRegister<S> {
    /// A register over `store`.
    pub fn new(store: S) -> Self {
        ConsentRegister { store }
    }

    /// The store underneath.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Records a consent the verification pipeline accepted; returns its id.
    ///
    /// Refused with [`Error::InvalidRecord`] when a field breaks a rule (empty verifier,
    /// subject, purpose or nonce; `valid_until` not after `granted_at`; an approver key that is
    /// not a public JWK; no presentation in the evidence; a withdrawal already set), and with
    /// [`Error::DuplicateConsent`] when a consent for the same request (verifier and request
    /// nonce) is already recorded — one answer to one request is one consent.
    pub fn record(&self, record: ConsentRecord) -> Result<ConsentId> {
        record.validate()?;
        in_transaction(&self.store, |tx| {
            if let Some(existing) = tx.id_for_request(&record.verifier, &record.request_nonce)? {
                return Err(Error::DuplicateConsent { verifier: record.verifier.clone(), existing });
            }
            if tx.get(&record.id)?.is_some() {
                return Err(Error::InvalidRecord { reason: "a consent with this id is already recorded" });
            }
            tx.insert(&record)?;
            Ok(record.id.clone())
        })
    }

    /// The consent given in answer to the request with `request_nonce` to `verifier` — how a
    /// signed withdrawal names it.
    pub fn by_request(&self, verifier: &str, request_nonce: &str) -> Result<Option<ConsentRecord>> {
        in_transaction(&self.store, |tx| match tx.id_for_request(verifier, request_nonce)? {
            Some(id) => tx.get(&id),
            None => Ok(None),
        })
    }

    /// The consent with this id.
    pub fn get(&self, id: &ConsentId) -> Result<Option<ConsentRecord>> {
        in_transaction(&self.store, |tx| tx.get(id))
    }

    /// The consents about `subject` for `purpose`, withdrawn and expired ones included, oldest
    /// grant first.
    pub fn find(&self, subject: &str, purpose: &str) -> Result<Vec<ConsentRecord>> {
        in_transaction(&self.store, |tx| tx.find(subject, purpose))
    }

    /// Every consent about `subject`, with its evidence and withdrawal, oldest grant first: what
    /// an access request (GDPR art. 15) is answered with.
    pub fn list(&self, subject: &str) -> Result<Vec<ConsentRecord>> {
        in_transaction(&self.store, |tx| tx.of_subject(subject))
    }

    /// [`list`](Self::list) as one JSON document to hand to the family:
    /// `{"subject": …, "consents": [record, …]}`.
    pub fn export_json(&self, subject: &str) -> Result<Value> {
        let records = self.list(subject)?;
        let consents = serde_json::to_value(&records)
            .map_err(|_| Error::Storage { reason: "the consents cannot be written as JSON".into() })?;
        Ok(json!({ "subject": subject, "consents": consents }))
    }

    /// Withdraws consent `id` at `at`, keeping `evidence` (the signed withdrawal message, or a
    /// note on the status change that ended it).
    ///
    /// Withdrawing is not idempotent on purpose: a second withdrawal is refused with
    /// [`Error::AlreadyWithdrawn`] and the first one, with its evidence, stands. Also refused:
    /// [`Error::UnknownConsent`], and [`Error::WithdrawalBeforeGrant`] for a time before the
    /// consent was granted.
    pub fn withdraw(&self, id: &ConsentId, at: i64, evidence: impl Into<String>) -> Result<()> {
        let withdrawal = Withdrawal { at, evidence: evidence.into() };
        in_transaction(&self.store, |tx| {
            let record = tx.get(id)?.ok_or_else(|| Error::UnknownConsent { id: id.clone() })?;
            if let Some(previous) = &record.withdrawn {
                return Err(Error::AlreadyWithdrawn { id: id.clone(), at: previous.at });
            }
            if at < record.granted_at {
                return Err(Error::WithdrawalBeforeGrant { id: id.clone(), at, granted_at: record.granted_at });
            }
            if !tx.set_withdrawal(id, &withdrawal)? {
                return Err(Error::Storage { reason: "the consent changed during its withdrawal".into() });
            }
            Ok(())
        })
    }

    /// May `query.subject`'s data be used for `query.purpose` (and `query.object`) at `now`?
    ///
    /// The consents that match are those about the subject for the purpose that cover the
    /// object ([`ConsentRecord::covers`]). The person's latest word counts: a withdrawal ends
    /// every matching consent granted before it, and a consent granted after a withdrawal
    /// stands on its own. Of the matching consents that are granted, not withdrawn and not
    /// expired at `now`, the most recent wins.
    ///
    /// With `status`, a consent that carries a status-list entry is only good while that entry
    /// is VALID: revoked or suspended is [`NoReason::StatusRevoked`]; a failed fetch or an
    /// invalid token is [`NoReason::StatusUnknown`] — never a yes. If the most recent consent
    /// fails its status check, older valid ones are tried; if all fail, the first failure is
    /// the answer. Without `status`, entries are not looked at.
    pub fn may_use(&self, query: UseQuery<'_>, now: i64, status: Option<&StatusCheck<'_>>) -> Result<UseAnswer> {
        let mut matching = self.find(query.subject, query.purpose)?;
        matching.retain(|record| record.covers(query.object));
        if matching.is_empty() {
            return Ok(UseAnswer::No { reason: NoReason::NoConsent });
        }
        // Most recent grant first; the id breaks ties so the answer does not depend on storage.
        matching.sort_by(|a, b| b.granted_at.cmp(&a.granted_at).then_with(|| b.id.cmp(&a.id)));
        let last_withdrawal = matching.iter().filter_map(|record| record.withdrawn_at(now)).max();

        let mut first_failure = None;
        for record in &matching {
            let live = record.granted_at <= now
                && now < record.valid_until
                && record.withdrawn_at(now).is_none()
                && last_withdrawal.is_none_or(|at| record.granted_at > at);
            if !live {
                continue;
            }
            match status.and_then(|check| check.check(record, now)) {
                None => return Ok(UseAnswer::Yes { evidence: Box::new(record.clone()) }),
                Some(reason) => {
                    first_failure.get_or_insert(reason);
                }
            }
        }
        if let Some(reason) = first_failure {
            return Ok(UseAnswer::No { reason });
        }

        let Some(latest) = matching.iter().find(|record| record.granted_at <= now) else {
            return Ok(UseAnswer::No { reason: NoReason::NotYetValid });
        };
        let reason = match last_withdrawal {
            Some(at) if latest.granted_at <= at => NoReason::Withdrawn { at },
            _ => NoReason::Expired { valid_until: latest.valid_until },
        };
        Ok(UseAnswer::No { reason })
    }
}
