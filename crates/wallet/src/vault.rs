//! The wallet's encrypted store: SQLite (bundled) where every record is sealed with
//! XChaCha20-Poly1305 under a key derived with Argon2id from a passphrase, or given by the
//! platform keystore.
//!
//! # What the file protects against someone who has it but not the key
//!
//! - **Content.** Each record's associated data binds it to the format, its kind, its id and
//!   the *generation* (the number of the write transaction) that sealed it. A record copied
//!   over another, moved between kinds, or a flipped byte fails authentication on read
//!   ([`Error::Corrupted`]); nothing of it is returned.
//! - **Deletion and partial rollback.** A sealed *state root* (meta row `state`) holds the
//!   current generation, the number of records and a keyed multiset hash over every record's
//!   `(kind, id, generation, nonce)`: the sum modulo 2²⁵⁶ of SHA-256 under a secret key derived
//!   from the wallet key. Every write updates it in the same SQLite transaction (subtract the
//!   replaced record's element, add the new one: O(1) per write). Opening recomputes it over all
//!   rows (an O(n) scan of small columns; no record is decrypted), and every transaction
//!   re-checks it when another connection has committed (`PRAGMA data_version`) or the state
//!   row changed. A deleted record, an older version put back (with or without the old log
//!   head), two records' nonces and ciphertexts swapped, or a mix of old and new rows no longer
//!   adds up: [`Error::Tampered`]. A generation that goes backwards under an open handle is
//!   [`Error::RolledBack`].
//! - **Whole-file rollback** (an older copy of the entire file, or a lost `-wal` file) is a
//!   consistent older state and cannot be told from the file alone. The app can pass a
//!   [`StateAnchor`] (a platform-keystore entry or a monotonic counter outside the file): the
//!   vault records each new generation there and refuses a file older than it
//!   ([`Error::RolledBack`]). See `docs/security/wallet-file.md`.
//!
//! # Opening changes nothing until the file is known
//!
//! [`Vault::open`] first checks the SQLite header's `application_id`, then reads through a
//! read-only connection: the format record, the key-derivation parameters (bounded before
//! use, [`Error::KdfOutOfBounds`]), the sealed key check and the state root. Only a file that is
//! this wallet's, with a key that fits and an intact state, is then opened for writing (WAL
//! journal, `synchronous = FULL`). Creating a wallet is the separate [`Vault::create`], which
//! never touches an existing file.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction: a crash loses nothing that was
//! acknowledged and leaves the file openable. [`Vault::transaction`] is synced before it
//! returns; [`Vault::transaction_unsynced`], for records whose loss breaks no promise (a prompt
//! shown, not answered), survives a killed process but not a power cut until the next synced
//! commit (`docs/security/wallet-file.md`, "Durability"). Reads are deferred transactions and do
//! not take the write lock; a write that cannot get the lock within the busy timeout is
//! [`Error::Busy`].

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngExt;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The format of the records and their associated data (format 2 adds the generation and the
/// state root).
const FORMAT: &str = "schooltas-wallet/2";
/// The format of export files, unchanged since format 1.
const EXPORT_FORMAT: &str = "schooltas-wallet/1";
/// `PRAGMA application_id` of every wallet file: "STWA". Written in the SQLite header (bytes
/// 68..72, big-endian; <https://www.sqlite.org/fileformat2.html#application_id>) before the
/// file is switched to WAL, so it is in the main file from the start.
pub const APPLICATION_ID: i32 = 0x5354_5741;
/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const CHECK_PLAINTEXT: &[u8] = b"schooltas wallet key check";
/// Meta values read from a file before the key is known are refused above this size.
const MAX_META_VALUE: usize = 4096;
const NONCE_LEN: usize = 24;
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A 256-bit wallet key: derived from a passphrase, or held by the platform keystore
/// (Android Keystore, iOS Keychain). Wiped on drop; never printed.
#[derive(Clone)]
pub struct WalletKey(Zeroizing<[u8; 32]>);

impl WalletKey {
    /// A key from the platform keystore.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        WalletKey(Zeroizing::new(bytes))
    }

    /// A fresh random key (to hand to a platform keystore).
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rng().fill(&mut key[..]);
        WalletKey(key)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }
}

impl fmt::Debug for WalletKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WalletKey(<redacted>)")
    }
}

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: above the OWASP minimum (19 MiB, 2 passes) and about a
    /// quarter of a second on a phone.
    fn default() -> Self {
        KdfParams { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 }
    }
}

impl KdfParams {
    /// Cheap parameters for tests and examples only: a passphrase under them falls to brute
    /// force quickly.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    /// The most memory accepted: 1 GiB (16 × the default). A file asking for more would make a
    /// phone allocate it before it can tell a wrong passphrase.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// The most passes accepted.
    pub const MAX_ITERATIONS: u32 = 16;
    /// The most lanes accepted.
    pub const MAX_PARALLELISM: u32 = 16;
    /// The most work accepted, memory × passes in KiB: 2 GiB-passes, about ten times the
    /// default (192 MiB-passes), so a hostile file cannot make opening take minutes.
    pub const MAX_WORK_KIB: u64 = 2 * 1024 * 1024;

    /// Checks the parameters against the bounds above (and Argon2's own minimum of 8 KiB per
    /// lane), before anything is allocated.
    pub fn check_bounds(&self) -> Result<()> {
        let refuse =
            |parameter: &'static str, value: u64, bound: String| Err(Error::KdfOutOfBounds { parameter, value, bound });
        if !(1..=Self::MAX_PARALLELISM).contains(&self.parallelism) {
            return refuse("parallelism", self.parallelism.into(), format!("between 1 and {}", Self::MAX_PARALLELISM));
        }
        if !(1..=Self::MAX_ITERATIONS).contains(&self.iterations) {
            return refuse("iterations", self.iterations.into(), format!("between 1 and {}", Self::MAX_ITERATIONS));
        }
        let min_memory = 8 * self.parallelism;
        if !(min_memory..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib) {
            return refuse(
                "memory_kib",
                self.memory_kib.into(),
                format!("between {min_memory} and {} KiB", Self::MAX_MEMORY_KIB),
            );
        }
        let work = u64::from(self.memory_kib) * u64::from(self.iterations);
        if work > Self::MAX_WORK_KIB {
            return refuse("memory_kib × iterations", work, format!("at most {} KiB-passes", Self::MAX_WORK_KIB));
        }
        Ok(())
    }

    fn derive(&self, passphrase: &str, salt: &[u8]) -> Result<WalletKey> {
        self.check_bounds()?;
        if !(8..=64).contains(&salt.len()) {
            return Err(Error::KdfOutOfBounds {
                parameter: "salt length",
                value: salt.len() as u64,
                bound: "between 8 and 64 bytes".into(),
            });
        }
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| Error::InvalidInput { reason: format!("Argon2id parameters: {e}") })?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), salt, &mut key[..])
            .map_err(|e| Error::InvalidInput { reason: format!("Argon2id: {e}") })?;
        Ok(WalletKey(key))
    }
}

/// How to open a wallet.
pub enum Unlock<'a> {
    /// With the person's passphrase.
    Passphrase(&'a str),
    /// With a key from the platform keystore.
    Key(&'a WalletKey),
}

impl fmt::Debug for Unlock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unlock::Passphrase(_) => "Unlock::Passphrase(<redacted>)",
            Unlock::Key(_) => "Unlock::Key(<redacted>)",
        })
    }
}

#[derive(Serialize, Deserialize)]
struct KdfRecord {
    salt: String,
    params: KdfParams,
}

/// What a [`StateAnchor`] keeps outside the wallet file: the latest generation and a keyed
/// commitment to the state at that generation. Neither reveals anything about the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnchorRecord {
    /// The number of write transactions the file has seen.
    pub generation: u64,
    /// A keyed hash of the sealed state at that generation.
    pub root: [u8; 32],
}

/// The error an anchor implementation reports.
pub type AnchorError = Box<dyn std::error::Error + Send + Sync>;

/// Storage outside the wallet file for its latest state, so an older copy of the whole file
/// (which is internally consistent) is refused: the platform keystore, a hardware monotonic
/// counter, or a server the app trusts.
///
/// The vault calls [`store`](StateAnchor::store) after every committed write (and at
/// creation), and [`load`](StateAnchor::load) on open and whenever another process changed the
/// file. A file whose generation is below the anchor's, or equal with another root, is
/// [`Error::RolledBack`]. A file *ahead* of the anchor is accepted and the anchor caught up:
/// a crash between the file's commit and the anchor's update leaves exactly that.
pub trait StateAnchor: Send + Sync {
    /// The last record stored, if any.
    fn load(&self) -> std::result::Result<Option<AnchorRecord>, AnchorError>;
    /// Replaces the record (generations only grow).
    fn store(&self, record: &AnchorRecord) -> std::result::Result<(), AnchorError>;
}

/// An anchor held in memory: for tests, and for an app that keeps one vault open for the
/// lifetime of the process. It does not survive the process, so it does not protect against
/// a rollback between runs.
#[derive(Debug, Default)]
pub struct MemoryAnchor(Mutex<Option<AnchorRecord>>);

impl MemoryAnchor {
    /// An empty anchor.
    pub fn new() -> Self {
        Self::default()
    }

    /// What it holds.
    pub fn record(&self) -> Option<AnchorRecord> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StateAnchor for MemoryAnchor {
    fn load(&self) -> std::result::Result<Option<AnchorRecord>, AnchorError> {
        Ok(self.record())
    }
    fn store(&self, record: &AnchorRecord) -> std::result::Result<(), AnchorError> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(*record);
        Ok(())
    }
}

impl<T: StateAnchor + ?Sized> StateAnchor for std::sync::Arc<T> {
    fn load(&self) -> std::result::Result<Option<AnchorRecord>, AnchorError> {
        (**self).load()
    }
    fn store(&self, record: &AnchorRecord) -> std::result::Result<(), AnchorError> {
        (**self).store(record)
    }
}

/// The sealed summary of every record: written with each write transaction, checked on open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    /// Write transactions so far (0 for a new wallet); each record carries the one that sealed it.
    generation: u64,
    /// How many records there are.
    count: u64,
    /// Σ element(record) mod 2²⁵⁶, little-endian.
    sum: [u8; 32],
}

impl State {
    const EMPTY: State = State { generation: 0, count: 0, sum: [0; 32] };
    const LEN: usize = 48;

    fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..8].copy_from_slice(&self.generation.to_be_bytes());
        out[8..16].copy_from_slice(&self.count.to_be_bytes());
        out[16..].copy_from_slice(&self.sum);
        out
    }

    fn decode(bytes: &[u8]) -> Option<State> {
        let generation = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let count = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
        let sum: [u8; 32] = bytes.get(16..)?.try_into().ok()?;
        Some(State { generation, count, sum })
    }
}

/// Per record kind, the part of the state root it contributes: `(count, sum)` of its elements.
/// Not sealed on its own (the state root covers every record); it tells derived data, such as
/// the credential index, whether the records it was built from are still the ones in the file.
type Kinds = HashMap<String, (u64, [u8; 32])>;

fn add_kind(kinds: &mut Kinds, kind: &str, element: &[u8; 32]) {
    let entry = kinds.entry(kind.to_owned()).or_insert((0, [0; 32]));
    entry.0 += 1;
    entry.1 = add_mod(&entry.1, element);
}

fn remove_kind(kinds: &mut Kinds, kind: &str, element: &[u8; 32]) {
    let entry = kinds.entry(kind.to_owned()).or_insert((0, [0; 32]));
    entry.0 = entry.0.saturating_sub(1);
    entry.1 = sub_mod(&entry.1, element);
}

fn add_mod(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let s = u16::from(*x) + u16::from(*y) + carry;
        *o = (s & 0xff) as u8;
        carry = s >> 8;
    }
    out
}

fn sub_mod(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let mut d = i16::from(*x) - i16::from(*y) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        *o = (d & 0xff) as u8;
    }
    out
}

/// The keyed hash behind the state root. Its key is derived from the wallet key (never the
/// AEAD key itself), and each use starts from a full 64-byte block `key ‖ domain`, so element
/// hashes and anchor roots are separate PRFs and neither can be length-extended into the other.
struct StateKey {
    element: Sha256,
    root: Sha256,
    name: Sha256,
}

impl StateKey {
    fn derive(key: &WalletKey) -> StateKey {
        let mut hasher = Sha256::new();
        hasher.update(b"schooltas-wallet/2 state-root key\0");
        hasher.update(&key.0[..]);
        let sub: Zeroizing<[u8; 32]> = Zeroizing::new(hasher.finalize().into());
        let start = |domain: &[u8; 32]| {
            let mut hasher = Sha256::new();
            hasher.update(&sub[..]);
            hasher.update(domain);
            hasher
        };
        StateKey {
            element: start(b"schooltas-wallet/2 record elem\0\0"),
            root: start(b"schooltas-wallet/2 anchor root\0\0"),
            name: start(b"schooltas-wallet/2 blinded name\0"),
        }
    }

    fn element(&self, kind: &[u8], id: &[u8], version: u64, nonce: &[u8]) -> [u8; 32] {
        let mut hasher = self.element.clone();
        for part in [kind, id] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        hasher.update(version.to_be_bytes());
        hasher.update((nonce.len() as u64).to_be_bytes());
        hasher.update(nonce);
        hasher.finalize().into()
    }

    /// A record id that names `value` within `domain` without showing it: the first 16 bytes
    /// of the keyed hash, base64url (22 characters of `[A-Za-z0-9_-]`, a valid record id).
    fn blind(&self, domain: &str, value: &str) -> String {
        let mut hasher = self.name.clone();
        for part in [domain.as_bytes(), value.as_bytes()] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        let digest: [u8; 32] = hasher.finalize().into();
        schooltas_did::base64url::encode(&digest[..16])
    }

    fn anchor(&self, state: &State) -> AnchorRecord {
        let mut hasher = self.root.clone();
        hasher.update(state.encode());
        AnchorRecord { generation: state.generation, root: hasher.finalize().into() }
    }
}

fn seal(key: &WalletKey, aad: &[u8], plaintext: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let nonce: [u8; NONCE_LEN] = rand::rng().random();
    let ciphertext = key
        .cipher()
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| Error::Storage { reason: "encryption failed".into() })?;
    Ok((nonce.to_vec(), ciphertext))
}

/// `None` when the nonce has the wrong length or authentication fails.
fn unseal(key: &WalletKey, aad: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if nonce.len() != NONCE_LEN {
        return None;
    }
    key.cipher().decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad }).ok().map(Zeroizing::new)
}

/// A record's associated data: format, kind, id and the generation that sealed it. Kinds and
/// ids never contain NUL ([`check_name`]), so the encoding is unambiguous.
fn record_aad(kind: &str, id: &str, version: u64) -> Vec<u8> {
    format!("{FORMAT}\u{0}{kind}\u{0}{id}\u{0}{version}").into_bytes()
}

fn meta_aad(name: &str) -> Vec<u8> {
    format!("{FORMAT}\u{0}meta\u{0}{name}").into_bytes()
}

fn export_aad() -> Vec<u8> {
    format!("{EXPORT_FORMAT}\u{0}export\u{0}{EXPORT_FORMAT}").into_bytes()
}

fn seal_state(key: &WalletKey, state: &State) -> Result<Vec<u8>> {
    let (mut nonce, ciphertext) = seal(key, &meta_aad("state"), &state.encode())?;
    nonce.extend_from_slice(&ciphertext);
    Ok(nonce)
}

fn tampered(what: impl Into<String>) -> Error {
    Error::Tampered { what: what.into() }
}

fn open_state(key: &WalletKey, blob: &[u8]) -> Result<State> {
    let broken = || tampered("the sealed state record failed its integrity check");
    let (nonce, ciphertext) = blob.split_at_checked(NONCE_LEN).ok_or_else(broken)?;
    let plaintext = unseal(key, &meta_aad("state"), nonce, ciphertext).ok_or_else(broken)?;
    State::decode(&plaintext).ok_or_else(broken)
}

fn read_state_blob(connection: &Connection) -> Result<Vec<u8>> {
    // Cached statements: this runs at the start of every transaction.
    connection
        .prepare_cached("SELECT value FROM meta WHERE name = 'state'")?
        .query_row([], |row| Ok(row.get_ref(0)?.as_blob().map(<[u8]>::to_vec).ok()))
        .optional()?
        .ok_or_else(|| tampered("the sealed state record is missing"))?
        .ok_or_else(|| tampered("the sealed state record has the wrong type"))
}

/// Checks that the schema is exactly the wallet's: three tables as created, and no trigger,
/// view or index an attacker added (a trigger would run inside the wallet's own writes).
fn check_schema(connection: &Connection) -> Result<()> {
    let expected: Vec<&str> = SCHEMA.split(';').map(str::trim).filter(|s| !s.is_empty()).collect();
    let mut statement = connection.prepare_cached("SELECT type, sql FROM sqlite_schema ORDER BY rowid")?;
    let mut rows = statement.query([])?;
    let mut found = 0;
    while let Some(row) = rows.next()? {
        let kind = row.get_ref(0)?.as_str().unwrap_or("?");
        let sql = row.get_ref(1)?.as_str_or_null().ok().flatten().unwrap_or_default();
        if kind != "table" || !expected.contains(&sql.trim()) {
            let kind = if matches!(kind, "table" | "index" | "view" | "trigger") { kind } else { "entry" };
            return Err(tampered(format!("the file's schema was changed (an unexpected {kind})")));
        }
        found += 1;
    }
    if found != expected.len() {
        return Err(tampered("the file's schema was changed (a table is missing)"));
    }
    Ok(())
}

/// Checks the schema, reads and opens the sealed state, then recomputes its count and sum over
/// every row (small columns only; nothing is decrypted) and compares.
fn verify_state(connection: &Connection, key: &WalletKey, state_key: &StateKey) -> Result<(State, Vec<u8>, Kinds)> {
    check_schema(connection)?;
    let blob = read_state_blob(connection)?;
    let state = open_state(key, &blob)?;
    let unreadable = |_| tampered("a record row has columns of the wrong type");
    let mut statement = connection.prepare_cached("SELECT kind, id, version, nonce FROM record")?;
    let mut rows = statement.query([])?;
    let (mut count, mut sum) = (0u64, [0u8; 32]);
    let mut kinds = Kinds::new();
    while let Some(row) = rows.next()? {
        let kind = row.get_ref(0)?.as_bytes().map_err(unreadable)?;
        let id = row.get_ref(1)?.as_bytes().map_err(unreadable)?;
        let version = row.get_ref(2)?.as_i64().map_err(unreadable)?;
        let nonce = row.get_ref(3)?.as_bytes().map_err(unreadable)?;
        let version = u64::try_from(version)
            .ok()
            .filter(|v| (1..=state.generation).contains(v))
            .ok_or_else(|| tampered("a record claims a write the sealed state does not know"))?;
        let element = state_key.element(kind, id, version, nonce);
        sum = add_mod(&sum, &element);
        count += 1;
        match std::str::from_utf8(kind) {
            Ok(kind) => add_kind(&mut kinds, kind, &element),
            Err(_) => return Err(tampered("a record row has a kind that is not text")),
        }
    }
    if count < state.count {
        return Err(tampered(format!("{} sealed records are missing", state.count - count)));
    }
    if count > state.count {
        return Err(tampered(format!("{} records were added outside the wallet", count - state.count)));
    }
    if sum != state.sum {
        return Err(tampered("a record was put back from an older copy, swapped with another, or replaced"));
    }
    Ok((state, blob, kinds))
}

fn check_anchor(anchor: Option<&dyn StateAnchor>, state_key: &StateKey, state: &State) -> Result<()> {
    let Some(anchor) = anchor else { return Ok(()) };
    let current = state_key.anchor(state);
    let failed = |e: AnchorError| Error::Anchor { reason: e.to_string() };
    match anchor.load().map_err(failed)? {
        Some(known)
            if known.generation > state.generation
                || (known.generation == state.generation && known.root != current.root) =>
        {
            Err(Error::RolledBack { file_generation: state.generation, known_generation: known.generation })
        }
        Some(known) if known == current => Ok(()),
        // No record yet, or the file is ahead (a crash between commit and anchor update).
        _ => anchor.store(&current).map_err(failed),
    }
}

fn check_name(what: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput { reason: format!("record {what} must be 1–200 characters of [A-Za-z0-9._:-]") })
    }
}

/// `record` holds what the state root covers (small rows: the open-time scan reads about 100
/// bytes per record); `sealed` holds the ciphertexts, which are authenticated by the nonce and
/// generation in `record`. A ciphertext without its `record` row is never read.
const SCHEMA: &str = "
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE record (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE sealed (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
";

/// Reads the SQLite header of `path` (without SQLite, so nothing can write) and checks that it
/// is a database with this wallet's `application_id`.
fn check_header(path: &Path) -> Result<()> {
    let mut header = Vec::with_capacity(100);
    std::fs::File::open(path)
        .and_then(|file| file.take(100).read_to_end(&mut header))
        .map_err(|e| Error::NotAWallet { reason: format!("{} cannot be read ({})", path.display(), e.kind()) })?;
    if header.is_empty() {
        return Err(Error::NotAWallet { reason: format!("{} is empty", path.display()) });
    }
    if header.len() < 100 || header.get(..16) != Some(&SQLITE_MAGIC[..]) {
        return Err(Error::NotAWallet { reason: "the file is not an SQLite database".into() });
    }
    let application_id = header.get(68..72).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(i32::from_be_bytes);
    match application_id {
        Some(APPLICATION_ID) => Ok(()),
        Some(0) => Err(Error::NotAWallet {
            reason: "an SQLite database without this app's application_id (another application's, or a wallet \
                     from before format 2: export it with the version that made it)"
                .into(),
        }),
        _ => Err(Error::NotAWallet { reason: "another application's SQLite database".into() }),
    }
}

/// Reads a meta value through `connection`, bounded in size (the file is not trusted yet).
fn meta(connection: &Connection, name: &str) -> Result<Vec<u8>> {
    let value: Vec<u8> = connection
        .query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| row.get(0))
        .optional()
        .map_err(|e| match Error::from(e) {
            Error::Storage { .. } => Error::NotAWallet { reason: "no wallet tables".into() },
            other => other,
        })?
        .ok_or_else(|| Error::NotAWallet { reason: format!("no {name} entry") })?;
    if value.len() > MAX_META_VALUE {
        return Err(Error::NotAWallet { reason: format!("the {name} entry is implausibly large") });
    }
    Ok(value)
}

/// Checks the format record and derives the key (bounded parameters), then the sealed check
/// record: a wrong key is [`Error::WrongPassphrase`].
fn unlock_key(connection: &Connection, unlock: Unlock<'_>) -> Result<WalletKey> {
    if meta(connection, "format")? != FORMAT.as_bytes() {
        return Err(Error::NotAWallet { reason: "unknown wallet format version".into() });
    }
    let kdf = meta(connection, "kdf")?;
    let key = match (unlock, kdf.as_slice()) {
        (Unlock::Key(key), b"platform") => key.clone(),
        (Unlock::Passphrase(passphrase), kdf) if kdf != b"platform" => {
            let record: KdfRecord = serde_json::from_slice(kdf)
                .map_err(|_| Error::Corrupted { what: "the key derivation record".into() })?;
            let salt = schooltas_did::base64url::decode(&record.salt)
                .ok_or_else(|| Error::Corrupted { what: "the key derivation salt".into() })?;
            record.params.derive(passphrase, &salt)?
        }
        (Unlock::Key(_), _) => {
            return Err(Error::InvalidInput { reason: "this wallet is opened with a passphrase".into() });
        }
        (Unlock::Passphrase(_), _) => {
            return Err(Error::InvalidInput { reason: "this wallet is opened with a platform key".into() });
        }
    };
    let (nonce, check) = (meta(connection, "check_nonce")?, meta(connection, "check")?);
    match unseal(&key, &meta_aad("check"), &nonce, &check) {
        Some(plaintext) if plaintext.as_slice() == CHECK_PLAINTEXT => Ok(key),
        // The check record cannot tell a wrong key from a damaged check record; a damaged
        // database shows itself in the state root check that follows.
        _ => Err(Error::WrongPassphrase),
    }
}

/// What this handle last verified of the file.
struct Known {
    state: State,
    /// The sealed state row as last read or written (a new random nonce on every write).
    blob: Vec<u8>,
    /// `PRAGMA data_version` when last verified: it changes when another connection commits.
    data_version: i64,
    /// The state was read before the writer connection opened and another process may have
    /// committed in between: verify at the next transaction.
    stale: bool,
    /// Each kind's share of the state, as last verified or written.
    kinds: Kinds,
}

struct Inner {
    connection: Connection,
    known: Known,
}

fn data_version(connection: &Connection) -> Result<i64> {
    Ok(connection.prepare_cached("PRAGMA data_version")?.query_row([], |row| row.get(0))?)
}

/// The encrypted record store of one wallet.
///
/// ```
/// use schooltas_wallet::vault::{KdfParams, Unlock, Vault};
/// let dir = std::env::temp_dir().join(format!("vault-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("wallet.sqlite");
/// # let _ = std::fs::remove_file(&path);
/// let vault = Vault::create(&path, Unlock::Passphrase("correct horse"), KdfParams::INSECURE_FOR_TESTS)?;
/// vault.put("credential", "c1", b"eyJ...~")?;
/// drop(vault);
///
/// let vault = Vault::open(&path, Unlock::Passphrase("correct horse"))?;
/// assert_eq!(vault.get("credential", "c1")?.as_deref().map(Vec::as_slice), Some(&b"eyJ...~"[..]));
/// assert!(matches!(Vault::open(&path, Unlock::Passphrase("wrong")), Err(schooltas_wallet::Error::WrongPassphrase)));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Vault {
    inner: Mutex<Inner>,
    key: WalletKey,
    state_key: StateKey,
    anchor: Option<Box<dyn StateAnchor>>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

fn configure_writer(connection: &Connection, file: bool) -> Result<()> {
    if file {
        let mode: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            connection.pragma_update(None, "journal_mode", "WAL")?;
        }
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    // 8 MiB of SQLite's page cache (the default is 2 MiB) keeps the b-tree pages an answer
    // walks in memory in a wallet of 10,000 copies; it holds ciphertext pages only.
    connection.pragma_update(None, "cache_size", -8192)?;
    connection.busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
    Ok(())
}

fn remove_created(path: &Path) {
    let _ = std::fs::remove_file(path);
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(side);
    }
}

impl Vault {
    /// Creates a new wallet file at `path`. Refuses if anything exists there (the file is
    /// created exclusively, so an existing wallet is never overwritten); a failure removes
    /// what it created.
    pub fn create(path: impl AsRef<Path>, unlock: Unlock<'_>, params: KdfParams) -> Result<Self> {
        Self::create_with(path.as_ref(), unlock, params, None)
    }

    /// [`create`](Vault::create), recording each state in `anchor` (which is reset to the new
    /// wallet's first state).
    pub fn create_anchored(
        path: impl AsRef<Path>,
        unlock: Unlock<'_>,
        params: KdfParams,
        anchor: Box<dyn StateAnchor>,
    ) -> Result<Self> {
        Self::create_with(path.as_ref(), unlock, params, Some(anchor))
    }

    fn create_with(
        path: &Path,
        unlock: Unlock<'_>,
        params: KdfParams,
        anchor: Option<Box<dyn StateAnchor>>,
    ) -> Result<Self> {
        if matches!(unlock, Unlock::Passphrase(_)) {
            params.check_bounds()?;
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::InvalidInput {
                    reason: format!("{} already exists; open it, or choose another path", path.display()),
                });
            }
            Err(e) => return Err(Error::Storage { reason: format!("{} cannot be created: {e}", path.display()) }),
        }
        let made = (|| {
            let connection =
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
            // In rollback-journal mode this writes page 1 of the main file directly, so the
            // header identifies the wallet before anything else exists.
            connection.pragma_update(None, "application_id", APPLICATION_ID)?;
            configure_writer(&connection, true)?;
            let vault = Self::initialise(connection, unlock, params, anchor)?;
            // Move the schema, check and first state from the WAL into the main file: a wallet
            // whose `-wal` is later lost still opens (as an older state; see the threat model).
            vault.inner.lock().unwrap_or_else(PoisonError::into_inner).connection.query_row(
                "PRAGMA wal_checkpoint(TRUNCATE)",
                [],
                |_| Ok(()),
            )?;
            Ok(vault)
        })();
        if made.is_err() {
            remove_created(path);
        }
        made
    }

    /// A wallet in memory (tests, previews).
    pub fn in_memory(unlock: Unlock<'_>, params: KdfParams) -> Result<Self> {
        if matches!(unlock, Unlock::Passphrase(_)) {
            params.check_bounds()?;
        }
        let connection = Connection::open_in_memory()?;
        configure_writer(&connection, false)?;
        Self::initialise(connection, unlock, params, None)
    }

    fn initialise(
        mut connection: Connection,
        unlock: Unlock<'_>,
        params: KdfParams,
        anchor: Option<Box<dyn StateAnchor>>,
    ) -> Result<Self> {
        let (key, kdf) = match unlock {
            Unlock::Passphrase(passphrase) => {
                let salt: [u8; 16] = rand::rng().random();
                let key = params.derive(passphrase, &salt)?;
                let record = KdfRecord { salt: schooltas_did::base64url::encode(salt), params };
                (key, serde_json::to_vec(&record).map_err(|e| Error::Storage { reason: e.to_string() })?)
            }
            Unlock::Key(key) => (key.clone(), b"platform".to_vec()),
        };
        let (nonce, check) = seal(&key, &meta_aad("check"), CHECK_PLAINTEXT)?;
        let state = State::EMPTY;
        let blob = seal_state(&key, &state)?;
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        tx.execute("INSERT INTO meta VALUES ('format', ?1)", [FORMAT.as_bytes()])?;
        tx.execute("INSERT INTO meta VALUES ('kdf', ?1)", [&kdf])?;
        tx.execute("INSERT INTO meta VALUES ('check_nonce', ?1)", [&nonce])?;
        tx.execute("INSERT INTO meta VALUES ('check', ?1)", [&check])?;
        tx.execute("INSERT INTO meta VALUES ('state', ?1)", [&blob])?;
        tx.commit()?;
        let data_version = data_version(&connection)?;
        let state_key = StateKey::derive(&key);
        if let Some(anchor) = &anchor {
            // A new wallet starts a new history: the anchor forgets the previous one.
            anchor.store(&state_key.anchor(&state)).map_err(|e| Error::Anchor { reason: e.to_string() })?;
        }
        Ok(Vault {
            inner: Mutex::new(Inner {
                connection,
                known: Known { state, blob, data_version, stale: false, kinds: Kinds::new() },
            }),
            key,
            state_key,
            anchor,
        })
    }

    /// Opens an existing wallet. Nothing is written to the file (no WAL switch, no recovery,
    /// no checkpoint) until it is known to be this wallet's, the key fits and every record is
    /// accounted for by the sealed state root.
    ///
    /// Errors: a missing, empty or foreign file is [`Error::NotAWallet`]; key-derivation
    /// parameters out of bounds are [`Error::KdfOutOfBounds`]; a wrong passphrase or key is
    /// [`Error::WrongPassphrase`]; deleted, added, swapped or older records are
    /// [`Error::Tampered`]; a file SQLite finds damaged is [`Error::Corrupted`].
    pub fn open(path: impl AsRef<Path>, unlock: Unlock<'_>) -> Result<Self> {
        Self::open_with(path.as_ref(), unlock, None)
    }

    /// [`open`](Vault::open), and refuses a file older than `anchor` records
    /// ([`Error::RolledBack`]); every later write is recorded in it.
    pub fn open_anchored(path: impl AsRef<Path>, unlock: Unlock<'_>, anchor: Box<dyn StateAnchor>) -> Result<Self> {
        Self::open_with(path.as_ref(), unlock, Some(anchor))
    }

    fn open_with(path: &Path, unlock: Unlock<'_>, anchor: Option<Box<dyn StateAnchor>>) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::NotAWallet { reason: format!("{} does not exist or is not a file", path.display()) });
        }
        check_header(path)?;
        // Everything up to the state root check is read through a read-only connection: it
        // cannot switch the journal mode, replay or checkpoint a `-wal`, or roll back a
        // journal, so a file that turns out not to be ours (or damaged) is left as it was.
        let (key, state_key, state, blob, kinds) = {
            let reader =
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
            let key = unlock_key(&reader, unlock)?;
            let state_key = StateKey::derive(&key);
            let (state, blob, kinds) = verify_state(&reader, &key, &state_key)?;
            (key, state_key, state, blob, kinds)
        };
        check_anchor(anchor.as_deref(), &state_key, &state)?;
        let mut connection =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        configure_writer(&connection, true)?;
        // The writer sees what the reader verified unless another process committed in
        // between; then the first transaction verifies again.
        let (now_blob, data_version) = {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let now_blob = read_state_blob(&tx)?;
            let data_version = data_version(&tx)?;
            tx.commit()?;
            (now_blob, data_version)
        };
        let stale = now_blob != blob;
        Ok(Vault {
            inner: Mutex::new(Inner { connection, known: Known { state, blob, data_version, stale, kinds } }),
            key,
            state_key,
            anchor,
        })
    }

    /// How long a write waits for another process's write lock before [`Error::Busy`]
    /// (5 seconds unless set).
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<()> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).connection.busy_timeout(timeout)?;
        Ok(())
    }

    /// Runs `work` as one write transaction: all its writes happen, or none. Takes the write
    /// lock at once (`BEGIN IMMEDIATE`); if another process holds it past the busy timeout,
    /// [`Error::Busy`]. The commit is durable when this returns (`synchronous = FULL`: the WAL
    /// is synced), so what it wrote survives a crash of the process and of the phone.
    pub fn transaction<T>(&self, work: impl FnOnce(&mut VaultTx<'_>) -> Result<T>) -> Result<T> {
        self.run(TransactionBehavior::Immediate, Durability::Synced, work)
    }

    /// [`transaction`](Vault::transaction) for records that may be lost in a power cut or an
    /// OS crash without breaking a promise made to anyone: a prompt shown but not yet answered,
    /// its log entry. The commit is written to the WAL but not synced (`synchronous = NORMAL`
    /// for this commit only), so it survives the process being killed; the next synced
    /// transaction makes it durable along with its own writes (the WAL is replayed in order),
    /// and a power cut before that loses it and nothing after it. The anchor, if any, is not
    /// advanced for it (an anchor ahead of a file that lost an unsynced commit would refuse
    /// the file as rolled back); the next synced transaction records both.
    ///
    /// Never use it for anything whose loss would let the wallet act against what it told
    /// someone: a copy marked used, a decision, a disclosure, a consent, a received credential.
    pub fn transaction_unsynced<T>(&self, work: impl FnOnce(&mut VaultTx<'_>) -> Result<T>) -> Result<T> {
        self.run(TransactionBehavior::Immediate, Durability::Unsynced, work)
    }

    /// Runs `work` as one read transaction on a consistent snapshot, without the write lock:
    /// readers never wait for a writer. [`VaultTx::put`] and [`VaultTx::delete`] are refused.
    pub fn read<T>(&self, work: impl FnOnce(&mut VaultTx<'_>) -> Result<T>) -> Result<T> {
        self.run(TransactionBehavior::Deferred, Durability::ReadOnly, work)
    }

    fn run<T>(
        &self,
        behavior: TransactionBehavior,
        durability: Durability,
        work: impl FnOnce(&mut VaultTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Inner { connection, known } = &mut *guard;
        if durability == Durability::Unsynced {
            connection.prepare_cached("PRAGMA synchronous = NORMAL")?.execute([])?;
        }
        let result = self.run_in(connection, known, behavior, durability, work);
        if durability == Durability::Unsynced {
            // Back to FULL even when the transaction failed: every other write is synced.
            connection.prepare_cached("PRAGMA synchronous = FULL")?.execute([])?;
        }
        result
    }

    fn run_in<T>(
        &self,
        connection: &mut Connection,
        known: &mut Known,
        behavior: TransactionBehavior,
        durability: Durability,
        work: impl FnOnce(&mut VaultTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = connection.transaction_with_behavior(behavior)?;
        self.refresh(&tx, known)?;
        let next_generation = known
            .state
            .generation
            .checked_add(1)
            .ok_or_else(|| Error::Storage { reason: "the wallet's write counter is exhausted".into() })?;
        let mut vault_tx = VaultTx {
            tx: &tx,
            key: &self.key,
            state_key: &self.state_key,
            state: known.state,
            next_generation,
            writable: durability != Durability::ReadOnly,
            wrote: false,
            kinds: None,
            known_kinds: &known.kinds,
        };
        let value = work(&mut vault_tx)?;
        let VaultTx { wrote, kinds, state, .. } = vault_tx;
        let state = State { generation: next_generation, ..state };
        if !wrote {
            tx.commit()?;
            return Ok(value);
        }
        let blob = seal_state(&self.key, &state)?;
        tx.prepare_cached("INSERT OR REPLACE INTO meta (name, value) VALUES ('state', ?1)")?.execute([&blob])?;
        tx.commit()?;
        known.state = state;
        known.blob = blob;
        if let Some(kinds) = kinds {
            known.kinds = kinds;
        }
        if let (Some(anchor), Durability::Synced) = (&self.anchor, durability) {
            anchor.store(&self.state_key.anchor(&state)).map_err(|e| Error::Anchor { reason: e.to_string() })?;
        }
        Ok(value)
    }

    /// At the start of a transaction: if another connection committed since this handle last
    /// verified (or the state row changed), verifies the whole state again.
    fn refresh(&self, tx: &Connection, known: &mut Known) -> Result<()> {
        // Reading the state row first starts the snapshot; `data_version` then reflects it.
        let blob = read_state_blob(tx)?;
        let data_version = data_version(tx)?;
        if !known.stale && data_version == known.data_version && blob == known.blob {
            return Ok(());
        }
        let (state, blob, kinds) = verify_state(tx, &self.key, &self.state_key)?;
        if state.generation < known.state.generation {
            return Err(Error::RolledBack {
                file_generation: state.generation,
                known_generation: known.state.generation,
            });
        }
        if state.generation == known.state.generation && state != known.state {
            return Err(tampered("the file was replaced by a different copy while it was open"));
        }
        check_anchor(self.anchor.as_deref(), &self.state_key, &state)?;
        *known = Known { state, blob, data_version, stale: false, kinds };
        Ok(())
    }

    /// Stores (or replaces) a record; acknowledged once this returns `Ok`.
    pub fn put(&self, kind: &str, id: &str, plaintext: &[u8]) -> Result<()> {
        self.transaction(|tx| tx.put(kind, id, plaintext))
    }

    /// Reads a record.
    pub fn get(&self, kind: &str, id: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.read(|tx| tx.get(kind, id))
    }

    /// Every record of a kind, by id.
    pub fn list(&self, kind: &str) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>> {
        self.read(|tx| tx.list(kind))
    }

    /// Deletes a record; `true` if it existed.
    pub fn delete(&self, kind: &str, id: &str) -> Result<bool> {
        self.transaction(|tx| tx.delete(kind, id))
    }

    /// Checks the state root and every record's integrity, returning how many there are.
    pub fn verify_integrity(&self) -> Result<usize> {
        self.read(|tx| {
            verify_state(tx.tx, tx.key, tx.state_key)?;
            let orphans: i64 = tx.tx.query_row(
                "SELECT count(*) FROM sealed s WHERE NOT EXISTS
                 (SELECT 1 FROM record r WHERE r.kind = s.kind AND r.id = s.id)",
                [],
                |row| row.get(0),
            )?;
            if orphans > 0 {
                return Err(tampered(format!("{orphans} ciphertexts were added without a record")));
            }
            let mut statement = tx.tx.prepare("SELECT DISTINCT kind FROM record")?;
            let kinds = statement.query_map([], |row| row.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
            drop(statement);
            let mut count = 0;
            for kind in kinds {
                count += tx.list(&kind)?.len();
            }
            Ok(count)
        })
    }

    /// The number of write transactions this file has seen (what a [`StateAnchor`] records).
    pub fn generation(&self) -> u64 {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).known.state.generation
    }

    /// The whole wallet, sealed under `passphrase` (Argon2id with `params`), for a backup or a
    /// new phone. The export is JSON; its content is encrypted and authenticated as a whole.
    pub fn export(&self, passphrase: &str, params: KdfParams) -> Result<Vec<u8>> {
        let records = self.read(|tx| {
            let mut statement = tx.tx.prepare("SELECT kind, id FROM record ORDER BY kind, id")?;
            let names = statement
                .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            drop(statement);
            let mut records = Vec::with_capacity(names.len());
            for (kind, id) in names {
                let plaintext =
                    tx.get(&kind, &id)?.ok_or_else(|| Error::Storage { reason: "record vanished".into() })?;
                records.push(ExportRecord { kind, id, data: schooltas_did::base64url::encode(&plaintext[..]) });
            }
            Ok(records)
        })?;
        // The records hold holder keys: `wiped::to_json` writes them once into a buffer of
        // exact size that is wiped on drop (`serde_json::to_vec` would leave the prefixes of
        // every buffer it outgrew in freed memory).
        let plaintext = crate::wiped::to_json(&records)?;
        let salt: [u8; 16] = rand::rng().random();
        let key = params.derive(passphrase, &salt)?;
        let (nonce, ciphertext) = seal(&key, &export_aad(), &plaintext)?;
        let export = Export {
            format: EXPORT_FORMAT.into(),
            salt: schooltas_did::base64url::encode(salt),
            params,
            nonce: schooltas_did::base64url::encode(nonce),
            ciphertext: schooltas_did::base64url::encode(ciphertext),
        };
        serde_json::to_vec(&export).map_err(|e| Error::Storage { reason: e.to_string() })
    }

    /// Restores an export into a new wallet file at `path`, opened with `unlock`. The export's
    /// key-derivation parameters are bounded before use ([`Error::KdfOutOfBounds`]).
    pub fn import(
        path: impl AsRef<Path>,
        export: &[u8],
        export_passphrase: &str,
        unlock: Unlock<'_>,
        params: KdfParams,
    ) -> Result<Self> {
        let records = read_export(export, export_passphrase)?;
        let path = path.as_ref();
        let vault = Self::create(path, unlock, params)?;
        let filled = vault.transaction(|tx| {
            for record in &records {
                let data = Zeroizing::new(
                    schooltas_did::base64url::decode(&record.data)
                        .ok_or_else(|| Error::InvalidExport { reason: "a record is not base64url".into() })?,
                );
                tx.put(&record.kind, &record.id, &data)?;
            }
            Ok(())
        });
        match filled {
            Ok(()) => Ok(vault),
            Err(error) => {
                drop(vault);
                remove_created(path);
                Err(error)
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Export {
    format: String,
    salt: String,
    params: KdfParams,
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct ExportRecord {
    kind: String,
    id: String,
    data: String,
}

impl Drop for ExportRecord {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.data);
    }
}

fn read_export(export: &[u8], passphrase: &str) -> Result<Vec<ExportRecord>> {
    let invalid = |reason: &str| Error::InvalidExport { reason: reason.into() };
    let export: Export =
        schooltas_did::strict_json::from_slice_or(export, |_| invalid("not a Schooltas wallet export"))?;
    if export.format != EXPORT_FORMAT {
        return Err(invalid("unknown export format version"));
    }
    let decode = |text: &str| schooltas_did::base64url::decode(text).ok_or_else(|| invalid("a field is not base64url"));
    let key = export.params.derive(passphrase, &decode(&export.salt)?)?;
    let plaintext = unseal(&key, &export_aad(), &decode(&export.nonce)?, &decode(&export.ciphertext)?)
        .ok_or(Error::WrongPassphrase)?;
    serde_json::from_slice(&plaintext).map_err(|_| invalid("the records are not readable"))
}

/// Operations inside one [`Vault::transaction`] (or [`Vault::read`]).
pub struct VaultTx<'t> {
    tx: &'t rusqlite::Transaction<'t>,
    key: &'t WalletKey,
    state_key: &'t StateKey,
    /// The state as this transaction's writes leave it (its generation is the one before).
    state: State,
    /// The generation this transaction's writes are sealed with.
    next_generation: u64,
    writable: bool,
    /// Whether anything was written.
    wrote: bool,
    /// Each kind's share of the state as this transaction's writes leave it (copied from
    /// `known_kinds` at the first write).
    kinds: Option<Kinds>,
    known_kinds: &'t Kinds,
}

/// How a transaction commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Durability {
    /// Synced before the commit returns (`synchronous = FULL`).
    Synced,
    /// Written to the WAL, synced by the next synced commit (`synchronous = NORMAL`).
    Unsynced,
    /// A read transaction: nothing to commit.
    ReadOnly,
}

impl VaultTx<'_> {
    fn writable(&self) -> Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(Error::InvalidInput { reason: "a read transaction cannot write".into() })
        }
    }

    fn kinds_mut(&mut self) -> &mut Kinds {
        self.wrote = true;
        let known = self.known_kinds;
        self.kinds.get_or_insert_with(|| known.clone())
    }

    /// The share of the state the records of `kind` make up, as this transaction sees it
    /// (its own writes included): equal values mean the same set of sealed records, since
    /// every write of a record changes its generation and nonce. Hex, for derived records
    /// that note which records they were built from.
    pub(crate) fn kind_digest(&self, kind: &str) -> String {
        let kinds = self.kinds.as_ref().unwrap_or(self.known_kinds);
        let (count, sum) = kinds.get(kind).copied().unwrap_or((0, [0; 32]));
        let mut out = format!("{count}:");
        for byte in sum {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// A record id for `value` (a credential type, a child link) that does not show it in the
    /// file: a keyed hash under a key derived from the wallet key, distinct per `domain`.
    pub(crate) fn blind_id(&self, domain: &str, value: &str) -> String {
        self.state_key.blind(domain, value)
    }

    /// The current row's `(version, nonce)`, to take its element out of the state sum.
    fn current(&self, kind: &str, id: &str) -> Result<Option<(i64, Vec<u8>)>> {
        let mut statement = self.tx.prepare_cached("SELECT version, nonce FROM record WHERE kind = ?1 AND id = ?2")?;
        Ok(statement.query_row(params![kind, id], |row| Ok((row.get(0)?, row.get(1)?))).optional()?)
    }

    fn remove_element(&mut self, kind: &str, id: &str, version: i64, nonce: &[u8]) -> Result<()> {
        // A version that does not fit leaves the sum wrong, which the next verification
        // reports; it is not an error for the write itself.
        let version = u64::try_from(version).unwrap_or(0);
        let element = self.state_key.element(kind.as_bytes(), id.as_bytes(), version, nonce);
        self.state.sum = sub_mod(&self.state.sum, &element);
        remove_kind(self.kinds_mut(), kind, &element);
        Ok(())
    }

    /// Stores (or replaces) a record.
    pub fn put(&mut self, kind: &str, id: &str, plaintext: &[u8]) -> Result<()> {
        check_name("kind", kind)?;
        check_name("id", id)?;
        self.writable()?;
        self.kinds_mut();
        match self.current(kind, id)? {
            Some((version, nonce)) => self.remove_element(kind, id, version, &nonce)?,
            None => self.state.count += 1,
        }
        let version = self.next_generation;
        let (nonce, ciphertext) = seal(self.key, &record_aad(kind, id, version), plaintext)?;
        let element = self.state_key.element(kind.as_bytes(), id.as_bytes(), version, &nonce);
        self.state.sum = add_mod(&self.state.sum, &element);
        add_kind(self.kinds_mut(), kind, &element);
        let stored = i64::try_from(version)
            .map_err(|_| Error::Storage { reason: "the wallet's write counter is exhausted".into() })?;
        let mut statement = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO record (kind, id, version, nonce) VALUES (?1, ?2, ?3, ?4)")?;
        statement.execute(params![kind, id, stored, nonce])?;
        let mut statement =
            self.tx.prepare_cached("INSERT OR REPLACE INTO sealed (kind, id, ciphertext) VALUES (?1, ?2, ?3)")?;
        statement.execute(params![kind, id, ciphertext])?;
        Ok(())
    }

    fn open_row(
        &self,
        kind: &str,
        id: &str,
        version: i64,
        nonce: &[u8],
        ciphertext: Option<&[u8]>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let newest = if self.wrote { self.next_generation } else { self.state.generation };
        let version = u64::try_from(version)
            .ok()
            .filter(|v| (1..=newest).contains(v))
            .ok_or_else(|| tampered(format!("{kind} record {id} claims a write the sealed state does not know")))?;
        let ciphertext =
            ciphertext.ok_or_else(|| tampered(format!("the ciphertext of {kind} record {id} was deleted")))?;
        unseal(self.key, &record_aad(kind, id, version), nonce, ciphertext)
            .ok_or_else(|| Error::Corrupted { what: format!("{kind} record {id} failed its integrity check") })
    }

    /// Reads a record.
    pub fn get(&mut self, kind: &str, id: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT r.version, r.nonce, s.ciphertext FROM record r
             LEFT JOIN sealed s ON s.kind = r.kind AND s.id = r.id WHERE r.kind = ?1 AND r.id = ?2",
        )?;
        let row = statement
            .query_row(params![kind, id], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?, row.get::<_, Option<Vec<u8>>>(2)?))
            })
            .optional()?;
        drop(statement);
        row.map(|(version, nonce, ciphertext)| self.open_row(kind, id, version, &nonce, ciphertext.as_deref()))
            .transpose()
    }

    /// Every record of a kind, by id.
    pub fn list(&mut self, kind: &str) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT r.id, r.version, r.nonce, s.ciphertext FROM record r
             LEFT JOIN sealed s ON s.kind = r.kind AND s.id = r.id WHERE r.kind = ?1 ORDER BY r.id",
        )?;
        let rows = statement
            .query_map([kind], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(statement);
        rows.into_iter()
            .map(|(id, version, nonce, ciphertext)| {
                let plaintext = self.open_row(kind, &id, version, &nonce, ciphertext.as_deref())?;
                Ok((id, plaintext))
            })
            .collect()
    }

    /// The ids of the records of a kind whose id starts with `prefix`, with the generation that
    /// sealed each and its nonce: what names a record's current content, read from the small
    /// `record` rows without touching a ciphertext. A cache of decrypted records keyed on it is
    /// fresh while the pair is unchanged (every write of a record seals it anew).
    pub fn versions_prefix(&mut self, kind: &str, prefix: &str) -> Result<Vec<(String, i64, Vec<u8>)>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT id, version, nonce FROM record WHERE kind = ?1 AND id >= ?2 AND id < ?3 ORDER BY id",
        )?;
        let end = format!("{prefix}~");
        let rows = statement
            .query_map(params![kind, prefix, end], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Deletes a record; `true` if it existed.
    pub fn delete(&mut self, kind: &str, id: &str) -> Result<bool> {
        self.writable()?;
        let Some((version, nonce)) = self.current(kind, id)? else { return Ok(false) };
        self.remove_element(kind, id, version, &nonce)?;
        self.state.count = self.state.count.saturating_sub(1);
        let mut statement = self.tx.prepare_cached("DELETE FROM sealed WHERE kind = ?1 AND id = ?2")?;
        statement.execute(params![kind, id])?;
        let mut statement = self.tx.prepare_cached("DELETE FROM record WHERE kind = ?1 AND id = ?2")?;
        Ok(statement.execute(params![kind, id])? == 1)
    }
}
