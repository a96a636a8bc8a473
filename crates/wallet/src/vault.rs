//! The wallet's encrypted store: SQLite (bundled) where every record is sealed with
//! XChaCha20-Poly1305 under a key derived with Argon2id from a passphrase, or given by the
//! platform keystore.
//!
//! Each record's associated data binds it to its kind and id, so a record copied over another
//! or moved between kinds fails its check like a flipped byte does. Every write is one SQLite
//! transaction (WAL journal, `synchronous = FULL`): a crash loses nothing that was
//! acknowledged and leaves the file openable.

use std::fmt;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngExt;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const FORMAT: &str = "schooltas-wallet/1";
const CHECK_PLAINTEXT: &[u8] = b"schooltas wallet key check";

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

    fn derive(&self, passphrase: &str, salt: &[u8]) -> Result<WalletKey> {
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
/// assert!(Vault::open(&path, Unlock::Passphrase("wrong")).is_err());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Vault {
    connection: Mutex<Connection>,
    key: WalletKey,
    /// Per record kind, how many committed transactions wrote it: lets callers keep decrypted
    /// indexes fresh.
    writes: Mutex<std::collections::HashMap<String, u64>>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").finish_non_exhaustive()
    }
}

fn seal(key: &WalletKey, kind: &str, id: &str, plaintext: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let nonce: [u8; 24] = rand::rng().random();
    let aad = associated_data(kind, id);
    let ciphertext = key
        .cipher()
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| Error::Storage { reason: "encryption failed".into() })?;
    Ok((nonce.to_vec(), ciphertext))
}

fn open_sealed(key: &WalletKey, kind: &str, id: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let corrupted = || Error::Corrupted { what: format!("{kind} record {id} failed its integrity check") };
    if nonce.len() != 24 {
        return Err(corrupted());
    }
    let aad = associated_data(kind, id);
    key.cipher()
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
        .map(Zeroizing::new)
        .map_err(|_| corrupted())
}

fn associated_data(kind: &str, id: &str) -> Vec<u8> {
    format!("{FORMAT}\u{0}{kind}\u{0}{id}").into_bytes()
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

const SCHEMA: &str = "
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE record (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
";

fn configure(connection: &Connection, file: bool) -> Result<()> {
    if file {
        connection.pragma_update(None, "journal_mode", "WAL")?;
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl Vault {
    /// Creates a new wallet file at `path` (refusing to overwrite an existing one).
    pub fn create(path: impl AsRef<Path>, unlock: Unlock<'_>, params: KdfParams) -> Result<Self> {
        let path = path.as_ref();
        if path.exists() {
            return Err(Error::InvalidInput { reason: format!("{} already exists", path.display()) });
        }
        let connection = Connection::open(path)?;
        configure(&connection, true)?;
        Self::initialise(connection, unlock, params)
    }

    /// A wallet in memory (tests, previews).
    pub fn in_memory(unlock: Unlock<'_>, params: KdfParams) -> Result<Self> {
        let connection = Connection::open_in_memory()?;
        configure(&connection, false)?;
        Self::initialise(connection, unlock, params)
    }

    fn initialise(mut connection: Connection, unlock: Unlock<'_>, params: KdfParams) -> Result<Self> {
        let (key, kdf) = match unlock {
            Unlock::Passphrase(passphrase) => {
                let salt: [u8; 16] = rand::rng().random();
                let key = params.derive(passphrase, &salt)?;
                let record = KdfRecord { salt: schooltas_did::base64url::encode(salt), params };
                (key, serde_json::to_vec(&record).map_err(|e| Error::Storage { reason: e.to_string() })?)
            }
            Unlock::Key(key) => (key.clone(), b"platform".to_vec()),
        };
        let (nonce, check) = seal(&key, "meta", "check", CHECK_PLAINTEXT)?;
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(SCHEMA)?;
        tx.execute("INSERT INTO meta VALUES ('format', ?1)", [FORMAT.as_bytes()])?;
        tx.execute("INSERT INTO meta VALUES ('kdf', ?1)", [&kdf])?;
        tx.execute("INSERT INTO meta VALUES ('check_nonce', ?1)", [&nonce])?;
        tx.execute("INSERT INTO meta VALUES ('check', ?1)", [&check])?;
        tx.commit()?;
        Ok(Vault { connection: Mutex::new(connection), key, writes: Mutex::new(std::collections::HashMap::new()) })
    }

    /// Opens an existing wallet. A wrong passphrase or key is [`Error::WrongPassphrase`]; a
    /// damaged file is [`Error::Corrupted`] or [`Error::NotAWallet`].
    pub fn open(path: impl AsRef<Path>, unlock: Unlock<'_>) -> Result<Self> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(Error::NotAWallet { reason: format!("{} does not exist", path.display()) });
        }
        let connection = Connection::open(path)?;
        configure(&connection, true)?;
        let meta = |name: &str| -> Result<Vec<u8>> {
            connection
                .query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| row.get(0))
                .optional()
                .map_err(|e| match Error::from(e) {
                    Error::Storage { .. } => Error::NotAWallet { reason: "no wallet tables".into() },
                    other => other,
                })?
                .ok_or_else(|| Error::NotAWallet { reason: format!("no {name} entry") })
        };
        if meta("format")? != FORMAT.as_bytes() {
            return Err(Error::NotAWallet { reason: "unknown wallet format version".into() });
        }
        let kdf = meta("kdf")?;
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
        let (nonce, check) = (meta("check_nonce")?, meta("check")?);
        match open_sealed(&key, "meta", "check", &nonce, &check) {
            Ok(plaintext) if plaintext.as_slice() == CHECK_PLAINTEXT => {}
            // The check record cannot tell a wrong key from a damaged check record; a damaged
            // database shows itself on the first record read.
            _ => return Err(Error::WrongPassphrase),
        }
        Ok(Vault { connection: Mutex::new(connection), key, writes: Mutex::new(std::collections::HashMap::new()) })
    }

    /// Runs `work` as one transaction: all its writes happen, or none.
    pub fn transaction<T>(&self, work: impl FnOnce(&mut VaultTx<'_>) -> Result<T>) -> Result<T> {
        let mut connection = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut vault_tx = VaultTx { tx: &tx, key: &self.key, wrote: Vec::new() };
        let value = work(&mut vault_tx)?;
        let wrote = std::mem::take(&mut vault_tx.wrote);
        tx.commit()?;
        let mut writes = self.writes.lock().unwrap_or_else(PoisonError::into_inner);
        for kind in wrote {
            *writes.entry(kind).or_insert(0) += 1;
        }
        Ok(value)
    }

    /// How many committed transactions of this handle wrote records of `kind`: a decrypted
    /// index of that kind built at generation `g` is complete while this is still `g` (with
    /// this handle the only writer).
    pub fn write_generation(&self, kind: &str) -> u64 {
        self.writes.lock().unwrap_or_else(PoisonError::into_inner).get(kind).copied().unwrap_or(0)
    }

    /// Stores (or replaces) a record; acknowledged once this returns `Ok`.
    pub fn put(&self, kind: &str, id: &str, plaintext: &[u8]) -> Result<()> {
        self.transaction(|tx| tx.put(kind, id, plaintext))
    }

    /// Reads a record.
    pub fn get(&self, kind: &str, id: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.transaction(|tx| tx.get(kind, id))
    }

    /// Every record of a kind, by id.
    pub fn list(&self, kind: &str) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>> {
        self.transaction(|tx| tx.list(kind))
    }

    /// Deletes a record; `true` if it existed.
    pub fn delete(&self, kind: &str, id: &str) -> Result<bool> {
        self.transaction(|tx| tx.delete(kind, id))
    }

    /// Checks every record's integrity, returning how many there are.
    pub fn verify_integrity(&self) -> Result<usize> {
        self.transaction(|tx| {
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

    /// The whole wallet, sealed under `passphrase` (Argon2id with `params`), for a backup or a
    /// new phone. The export is JSON; its content is encrypted and authenticated as a whole.
    pub fn export(&self, passphrase: &str, params: KdfParams) -> Result<Vec<u8>> {
        let records = self.transaction(|tx| {
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
        let plaintext =
            Zeroizing::new(serde_json::to_vec(&records).map_err(|e| Error::Storage { reason: e.to_string() })?);
        let salt: [u8; 16] = rand::rng().random();
        let key = params.derive(passphrase, &salt)?;
        let (nonce, ciphertext) = seal(&key, "export", FORMAT, &plaintext)?;
        let export = Export {
            format: FORMAT.into(),
            salt: schooltas_did::base64url::encode(salt),
            params,
            nonce: schooltas_did::base64url::encode(nonce),
            ciphertext: schooltas_did::base64url::encode(ciphertext),
        };
        serde_json::to_vec(&export).map_err(|e| Error::Storage { reason: e.to_string() })
    }

    /// Restores an export into a new wallet file at `path`, opened with `unlock`.
    pub fn import(
        path: impl AsRef<Path>,
        export: &[u8],
        export_passphrase: &str,
        unlock: Unlock<'_>,
        params: KdfParams,
    ) -> Result<Self> {
        let records = read_export(export, export_passphrase)?;
        let vault = Self::create(path, unlock, params)?;
        vault.transaction(|tx| {
            for record in &records {
                let data = Zeroizing::new(
                    schooltas_did::base64url::decode(&record.data)
                        .ok_or_else(|| Error::InvalidExport { reason: "a record is not base64url".into() })?,
                );
                tx.put(&record.kind, &record.id, &data)?;
            }
            Ok(())
        })?;
        Ok(vault)
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
    if export.format != FORMAT {
        return Err(invalid("unknown export format version"));
    }
    let decode = |text: &str| schooltas_did::base64url::decode(text).ok_or_else(|| invalid("a field is not base64url"));
    let key = export.params.derive(passphrase, &decode(&export.salt)?)?;
    let plaintext = open_sealed(&key, "export", FORMAT, &decode(&export.nonce)?, &decode(&export.ciphertext)?)
        .map_err(|_| Error::WrongPassphrase)?;
    serde_json::from_slice(&plaintext).map_err(|_| invalid("the records are not readable"))
}

/// Operations inside one [`Vault::transaction`].
pub struct VaultTx<'t> {
    tx: &'t rusqlite::Transaction<'t>,
    key: &'t WalletKey,
    /// The kinds written so far (each once).
    wrote: Vec<String>,
}

impl VaultTx<'_> {
    fn note_write(&mut self, kind: &str) {
        if !self.wrote.iter().any(|k| k == kind) {
            self.wrote.push(kind.to_owned());
        }
    }

    /// Stores (or replaces) a record.
    pub fn put(&mut self, kind: &str, id: &str, plaintext: &[u8]) -> Result<()> {
        check_name("kind", kind)?;
        check_name("id", id)?;
        self.note_write(kind);
        let (nonce, ciphertext) = seal(self.key, kind, id, plaintext)?;
        let mut statement = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO record (kind, id, nonce, ciphertext) VALUES (?1, ?2, ?3, ?4)")?;
        statement.execute(params![kind, id, nonce, ciphertext])?;
        Ok(())
    }

    /// Reads a record.
    pub fn get(&mut self, kind: &str, id: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let mut statement =
            self.tx.prepare_cached("SELECT nonce, ciphertext FROM record WHERE kind = ?1 AND id = ?2")?;
        let row = statement
            .query_row(params![kind, id], |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?)))
            .optional()?;
        row.map(|(nonce, ciphertext)| open_sealed(self.key, kind, id, &nonce, &ciphertext)).transpose()
    }

    /// Every record of a kind, by id.
    pub fn list(&mut self, kind: &str) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>> {
        let mut statement =
            self.tx.prepare_cached("SELECT id, nonce, ciphertext FROM record WHERE kind = ?1 ORDER BY id")?;
        let rows = statement
            .query_map([kind], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?, row.get::<_, Vec<u8>>(2)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, nonce, ciphertext)| {
                let plaintext = open_sealed(self.key, kind, &id, &nonce, &ciphertext)?;
                Ok((id, plaintext))
            })
            .collect()
    }

    /// Deletes a record; `true` if it existed.
    pub fn delete(&mut self, kind: &str, id: &str) -> Result<bool> {
        self.note_write(kind);
        let mut statement = self.tx.prepare_cached("DELETE FROM record WHERE kind = ?1 AND id = ?2")?;
        Ok(statement.execute(params![kind, id])? == 1)
    }
}
