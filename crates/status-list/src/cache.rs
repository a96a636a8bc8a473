//! The verifier's side: fetch status list tokens through a trait and keep them for their `ttl`.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use schooltas_did::VerifyingKey;
use schooltas_did::jws::Header;

use super::list::StatusValue;
use super::reference::{StatusListUri, StatusReference};
use super::token::{StatusListToken, StatusListTokenOptions, UnverifiedStatusListToken};
use crate::{Error, Result};

/// Why a fetch failed, in words for the person reading the error.
pub type FetchError = Box<dyn std::error::Error + Send + Sync>;

/// Gets the raw status list token (a compact JWS) published at a URI — over HTTPS with
/// `Accept: application/statuslist+jwt` (draft §8.1), from a file, or from memory.
///
/// Any `Fn(&StatusListUri) -> Result<String, FetchError>` is a fetcher.
pub trait StatusListFetcher: Send + Sync {
    /// The token at `uri`.
    fn fetch(&self, uri: &StatusListUri) -> std::result::Result<String, FetchError>;
}

impl<F> StatusListFetcher for F
where
    F: Fn(&StatusListUri) -> std::result::Result<String, FetchError> + Send + Sync,
{
    fn fetch(&self, uri: &StatusListUri) -> std::result::Result<String, FetchError> {
        self(uri)
    }
}

/// Status list tokens held in memory, by URI: a status issuer in the same process publishes
/// here, verifiers fetch from here. Counts fetches, which tests use to see the cache work.
#[derive(Debug, Default)]
pub struct InMemoryStatusLists {
    tokens: RwLock<HashMap<StatusListUri, String>>,
    fetches: AtomicU64,
}

impl InMemoryStatusLists {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes (or replaces) the token at `uri`.
    pub fn publish(&self, uri: StatusListUri, token: String) {
        self.tokens.write().unwrap_or_else(PoisonError::into_inner).insert(uri, token);
    }

    /// Removes the token at `uri`; fetching it fails from then on.
    pub fn withdraw(&self, uri: &StatusListUri) {
        self.tokens.write().unwrap_or_else(PoisonError::into_inner).remove(uri);
    }

    /// How many fetches were answered or refused so far.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }
}

impl StatusListFetcher for InMemoryStatusLists {
    fn fetch(&self, uri: &StatusListUri) -> std::result::Result<String, FetchError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        tokens.get(uri).cloned().ok_or_else(|| "no status list token is published at this URI".into())
    }
}

impl<T: StatusListFetcher + ?Sized> StatusListFetcher for Arc<T> {
    fn fetch(&self, uri: &StatusListUri) -> std::result::Result<String, FetchError> {
        (**self).fetch(uri)
    }
}

/// How long and how much [`StatusListCache`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachePolicy {
    /// Seconds to keep a token that has no `ttl` (still never past its `exp`).
    pub default_ttl: u64,
    /// The longest a token is kept, whatever its `ttl` says (draft §11.5: clients bound `ttl`).
    pub max_ttl: u64,
    /// The most lists kept at once.
    pub max_entries: usize,
    /// The most decompressed list bytes kept at once.
    pub max_total_bytes: usize,
    /// Checks and limits for each fetched token.
    pub token: StatusListTokenOptions,
}

impl Default for CachePolicy {
    /// Five minutes without `ttl`, at most a day, 1024 lists, 256 MiB.
    fn default() -> Self {
        CachePolicy {
            default_ttl: 300,
            max_ttl: 86_400,
            max_entries: 1024,
            max_total_bytes: 256 << 20,
            token: StatusListTokenOptions::default(),
        }
    }
}

struct Entry {
    token: StatusListToken,
    header: Header,
    key: VerifyingKey,
    raw: String,
    fresh_until: i64,
}

/// Looks up credential statuses (draft §8.3): fetches each status list token once, verifies
/// it, and answers from memory until its `ttl` (bounded by [`CachePolicy`]) or `exp` runs out.
///
/// Safe to share between threads. A failed fetch is [`Error::StatusUnavailable`] — "no statement
/// can be made" — which the caller's policy turns into a refusal or a warning; a token that
/// does not verify is its own error. Two threads missing the same list at once may both fetch.
///
/// ```
/// use std::sync::Arc;
/// use schooltas_status_list::Error;
/// use schooltas_status_list::*;
/// use schooltas_did::{Algorithm, Signer, SigningKey};
///
/// let school = SigningKey::generate(Algorithm::EdDsa)?;
/// let uri = StatusListUri::new("https://school.example/status/enrolment")?;
/// let mut list = StatusList::new(Bits::One, 1 << 16)?;
/// list.set(12, StatusValue::INVALID)?;
/// let published = Arc::new(InMemoryStatusLists::new());
/// published.publish(uri.clone(), StatusListToken::new(uri.clone(), 1_800_000_000, list).sign(&school, None)?);
///
/// let cache = StatusListCache::new(published.clone());
/// let now = 1_800_000_010;
/// cache.check(&StatusReference::new(uri.clone(), 11), school.verifying_key(), now)?;
/// let revoked = cache.check(&StatusReference::new(uri, 12), school.verifying_key(), now);
/// assert!(matches!(revoked, Err(Error::Revoked { index: 12, .. })));
/// assert_eq!(published.fetch_count(), 1); // the second lookup came from the cache
/// # Ok::<(), schooltas_status_list::Error>(())
/// ```
pub struct StatusListCache {
    fetcher: Box<dyn StatusListFetcher>,
    policy: CachePolicy,
    entries: Mutex<HashMap<StatusListUri, Arc<Entry>>>,
}

enum ExpectedKey<'k, F> {
    Fixed(&'k VerifyingKey),
    Resolve(F),
}

impl StatusListCache {
    /// A cache over `fetcher` with the default [`CachePolicy`].
    pub fn new(fetcher: impl StatusListFetcher + 'static) -> Self {
        StatusListCache { fetcher: Box::new(fetcher), policy: CachePolicy::default(), entries: Mutex::default() }
    }

    /// Replaces the policy.
    pub fn with_policy(mut self, policy: CachePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    /// The status of the referenced entry, from a status list token signed by `key` — the
    /// usual case, where the credential's issuer also signs its status lists.
    pub fn status(&self, reference: &StatusReference, key: &VerifyingKey, now: i64) -> Result<StatusValue> {
        self.lookup(reference, ExpectedKey::<fn(&Header, Option<&str>) -> Result<VerifyingKey>>::Fixed(key), now)
    }

    /// The status of the referenced entry, from a status list token signed by the key
    /// `key_for` finds for its header and (unverified) `iss` — for a separate status issuer or
    /// a rotated key, resolved through a DID document or a trust list.
    pub fn status_with(
        &self,
        reference: &StatusReference,
        key_for: impl Fn(&Header, Option<&str>) -> Result<VerifyingKey>,
        now: i64,
    ) -> Result<StatusValue> {
        self.lookup(reference, ExpectedKey::Resolve(key_for), now)
    }

    /// Like [`status`](Self::status), but anything other than `VALID` is an error:
    /// [`Error::Revoked`], [`Error::Suspended`] or [`Error::StatusNotValid`].
    pub fn check(&self, reference: &StatusReference, key: &VerifyingKey, now: i64) -> Result<()> {
        require_valid(reference, self.status(reference, key, now)?)
    }

    /// Like [`status_with`](Self::status_with), but anything other than `VALID` is an error.
    pub fn check_with(
        &self,
        reference: &StatusReference,
        key_for: impl Fn(&Header, Option<&str>) -> Result<VerifyingKey>,
        now: i64,
    ) -> Result<()> {
        require_valid(reference, self.status_with(reference, key_for, now)?)
    }

    /// Forgets the list at `uri`: the next lookup fetches it again.
    pub fn invalidate(&self, uri: &StatusListUri) {
        self.entries().remove(uri);
    }

    /// Forgets every list.
    pub fn clear(&self) {
        self.entries().clear();
    }

    /// How many lists are held.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether no list is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<StatusListUri, Arc<Entry>>> {
        // Entries are replaced whole, so a panic elsewhere cannot leave one half-written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lookup<F>(&self, reference: &StatusReference, expected: ExpectedKey<'_, F>, now: i64) -> Result<StatusValue>
    where
        F: Fn(&Header, Option<&str>) -> Result<VerifyingKey>,
    {
        let uri = reference.uri();
        let cached = self.entries().get(uri).filter(|entry| now < entry.fresh_until).cloned();
        let entry = match cached {
            Some(entry) => self.confirm_key(entry, &expected, now)?,
            None => self.fetch(uri, &expected, now)?,
        };
        entry.token.list().get(reference.index()).map_err(|error| match error {
            // Draft §8.3 step 6: no statement can be made; the credential must be rejected.
            Error::StatusIndexOutOfRange { index, len } => Error::InvalidStatusReference {
                reason: format!("index {index} is beyond the {len} entries of the status list at {uri}"),
            },
            other => other,
        })
    }

    /// A cached token was verified with some key; make sure it is the one this caller trusts,
    /// re-verifying the stored token when the caller expects another key.
    fn confirm_key<F>(&self, entry: Arc<Entry>, expected: &ExpectedKey<'_, F>, now: i64) -> Result<Arc<Entry>>
    where
        F: Fn(&Header, Option<&str>) -> Result<VerifyingKey>,
    {
        let same = match expected {
            ExpectedKey::Fixed(key) => entry.key == **key,
            ExpectedKey::Resolve(key_for) => entry.key == key_for(&entry.header, entry.token.issuer())?,
        };
        if same {
            return Ok(entry);
        }
        let parsed = UnverifiedStatusListToken::parse_with_limit(&entry.raw, self.policy.token.max_token_len)?;
        verify(&parsed, expected, &self.policy.token, now)?;
        Ok(entry)
    }

    fn fetch<F>(&self, uri: &StatusListUri, expected: &ExpectedKey<'_, F>, now: i64) -> Result<Arc<Entry>>
    where
        F: Fn(&Header, Option<&str>) -> Result<VerifyingKey>,
    {
        let raw = self
            .fetcher
            .fetch(uri)
            .map_err(|error| Error::StatusUnavailable { uri: uri.to_string(), reason: error.to_string() })?;
        let parsed = UnverifiedStatusListToken::parse_with_limit(raw.trim(), self.policy.token.max_token_len)?;
        let (token, key) = verify(&parsed, expected, &self.policy.token, now)?;
        // Draft §8.3 step 4a: the token must be the one the credential points at.
        if token.subject() != uri {
            return Err(Error::StatusListSubjectMismatch {
                expected: uri.to_string(),
                found: token.subject().to_string(),
            });
        }
        let lifetime = token.ttl().unwrap_or(self.policy.default_ttl).clamp(1, self.policy.max_ttl.max(1));
        let mut fresh_until = now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
        if let Some(exp) = token.expires_at() {
            fresh_until = fresh_until.min(exp);
        }
        let header = parsed.header().clone();
        let entry = Arc::new(Entry { token, header, key, raw: raw.trim().to_owned(), fresh_until });
        self.store(uri, entry.clone(), now);
        Ok(entry)
    }

    fn store(&self, uri: &StatusListUri, entry: Arc<Entry>, now: i64) {
        let size = entry.token.list().as_bytes().len() + entry.raw.len();
        if self.policy.max_entries == 0 || size > self.policy.max_total_bytes {
            return;
        }
        let mut entries = self.entries();
        entries.remove(uri);
        entries.retain(|_, held| now < held.fresh_until);
        let bytes = |entries: &HashMap<StatusListUri, Arc<Entry>>| {
            entries.values().map(|held| held.token.list().as_bytes().len() + held.raw.len()).sum::<usize>()
        };
        while entries.len() >= self.policy.max_entries || bytes(&entries) + size > self.policy.max_total_bytes {
            let Some(oldest) = entries.iter().min_by_key(|(_, held)| held.fresh_until).map(|(uri, _)| uri.clone())
            else {
                break;
            };
            entries.remove(&oldest);
        }
        entries.insert(uri.clone(), entry);
    }
}

fn verify<F>(
    parsed: &UnverifiedStatusListToken<'_>,
    expected: &ExpectedKey<'_, F>,
    options: &StatusListTokenOptions,
    now: i64,
) -> Result<(StatusListToken, VerifyingKey)>
where
    F: Fn(&Header, Option<&str>) -> Result<VerifyingKey>,
{
    let mut used = None;
    let token = parsed.verify_with(
        |header, iss| {
            let key = match expected {
                ExpectedKey::Fixed(key) => (*key).clone(),
                ExpectedKey::Resolve(key_for) => key_for(header, iss)?,
            };
            used = Some(key.clone());
            Ok(key)
        },
        options,
        now,
    )?;
    let key = used.ok_or_else(|| Error::InvalidStatusListToken { reason: "no key was found for the token".into() })?;
    Ok((token, key))
}

fn require_valid(reference: &StatusReference, status: StatusValue) -> Result<()> {
    let uri = reference.uri().to_string();
    let index = reference.index();
    match status {
        StatusValue::VALID => Ok(()),
        StatusValue::INVALID => Err(Error::Revoked { uri, index }),
        StatusValue::SUSPENDED => Err(Error::Suspended { uri, index }),
        other => Err(Error::StatusNotValid { uri, index, status: other.to_string() }),
    }
}

impl fmt::Debug for StatusListCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusListCache").field("policy", &self.policy).field("lists", &self.len()).finish()
    }
}
