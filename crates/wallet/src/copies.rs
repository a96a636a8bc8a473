//! Credential copies as stored, and the sealed index over them that answering a request reads
//! instead of decrypting every copy.
//!
//! A copy is one record of kind [`CREDENTIAL_KIND`]: the SD-JWT VC, its holder key and what it
//! is ([`StoredCredential`]). Matching a request, listing credentials and spending one-time
//! child links need only a small part of that, kept in records of kind `copy-index` (sealed
//! like every record, so they show nothing of what the wallet holds):
//!
//! - one record per batch, its id prefixed by its type (`t.<type>.<batch>`): the batch's
//!   copies without their SD-JWTs or keys (`IndexedCopy`), so a DCQL query for one type
//!   reads that type's batches in one range scan, whatever else the wallet holds. Records stay
//!   the size of a few copies: SQLite compares whole keys of a `WITHOUT ROWID` table's rows
//!   while it searches, and a row of megabytes on the search path (one record per type would
//!   be one for a type held 3,000 times) is read in full on every lookup near it;
//! - one record per one-time child link: the copies carrying it and whether each was
//!   presented, so spending a link marks every copy of any type that carries it;
//! - a `meta` record: the types indexed and the digest of the credential records the index
//!   was written for (`VaultTx::kind_digest`).
//!
//! Record ids of the type and link records are keyed hashes (`VaultTx::blind_id`): the file
//! does not show which types or links the wallet holds.
//!
//! The index is derived data, written in the same transaction as the copies it describes
//! (`store`, `mark_used`), so it is never behind a committed copy. Should anything write
//! copies another way (an older version of this crate, a tool that uses the vault directly),
//! the digest in `meta` no longer matches the records and the index is rebuilt from the copies
//! (`rebuild`) before it is used: it can be slow, never wrong.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::HolderKey;
use crate::vault::{Vault, VaultTx};

/// The vault kind credential copies are stored under.
pub const CREDENTIAL_KIND: &str = "credential";
const INDEX_KIND: &str = "copy-index";
const META_ID: &str = "meta";
/// Domains of the blinded record ids (the prefix keeps the two kinds of records apart).
const VCT_DOMAIN: &str = "vct";
const LINK_DOMAIN: &str = "link";
const BATCH_DOMAIN: &str = "batch";

/// A stored credential copy: the SD-JWT VC, the private key it is bound to, and what it is.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCredential {
    /// The wallet's id for this copy.
    pub id: String,
    /// Groups the copies of one batch.
    pub batch: String,
    /// The catalog configuration id.
    pub config_id: String,
    /// The credential type.
    pub vct: String,
    /// The issuer (DID).
    pub issuer: String,
    /// The SD-JWT VC as issued (every disclosure).
    pub sd_jwt: String,
    /// The holder key: a software key's private JWK (sealed in the vault like everything else;
    /// wiped from memory on drop and never printed), as every file before key stores holds it,
    /// or the reference and public key of a key in the app's key store ([`crate::keys`]).
    pub holder_key: HolderKey,
    /// When it was received.
    pub received_at: i64,
    /// Whether it has been presented (each copy is presented once) — or a copy of another
    /// credential carrying the same one-time child link has been: a link is consumed as a
    /// whole ([`crate::request`] marks every copy carrying it).
    pub used: bool,
    /// The copy's position in its batch (0 for a credential added on its own): copy *i* of the
    /// child's batches and the parent's guardianship copy *i* carry the same child link, so
    /// the wallet uses links in this order.
    #[serde(default)]
    pub batch_index: u32,
    /// The claims as issued (processed payload with every disclosure): what DCQL matching and
    /// prompts read without re-verifying the credential.
    #[serde(default)]
    pub claims: Value,
    /// The `KeyIdentifier`s of the `AuthorityKeyIdentifier`s in the credential's `x5c` chain,
    /// base64url, read when the copy is stored; empty for a credential signed with a DID key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authority_key_ids: Vec<String>,
}

impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("config_id", &self.config_id)
            .field("issuer", &self.issuer)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl Drop for StoredCredential {
    fn drop(&mut self) {
        // The holder key wipes itself (PrivateJwk).
        zeroize::Zeroize::zeroize(&mut self.sd_jwt);
    }
}

/// The one-time child link a copy carries: its `sub` (issue 12 item 7; the school gives every
/// copy of a batch its own, shared with the same copy of the child's other credentials and the
/// parent's guardianship copy). `None` for a credential without one.
pub(crate) fn child_link(claims: &Value) -> Option<&str> {
    claims.get("sub").and_then(Value::as_str).filter(|link| !link.is_empty())
}

/// What matching, prompts and listings need of a credential copy: no SD-JWT, no key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct IndexedCopy {
    pub(crate) id: String,
    pub(crate) batch: String,
    pub(crate) vct: String,
    pub(crate) issuer: String,
    pub(crate) received_at: i64,
    pub(crate) used: bool,
    pub(crate) batch_index: u32,
    pub(crate) claims: Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) authority_key_ids: Vec<String>,
}

impl IndexedCopy {
    /// The copy's one-time child link (`sub`), if it has one.
    pub(crate) fn link(&self) -> Option<&str> {
        child_link(&self.claims)
    }
}

impl From<&StoredCredential> for IndexedCopy {
    fn from(copy: &StoredCredential) -> Self {
        IndexedCopy {
            id: copy.id.clone(),
            batch: copy.batch.clone(),
            vct: copy.vct.clone(),
            issuer: copy.issuer.clone(),
            received_at: copy.received_at,
            used: copy.used,
            batch_index: copy.batch_index,
            claims: copy.claims.clone(),
            authority_key_ids: copy.authority_key_ids.clone(),
        }
    }
}

/// The copies carrying one child link: id → presented.
pub(crate) type LinkedCopies = BTreeMap<String, bool>;

#[derive(Default, Serialize, Deserialize)]
struct Meta {
    /// [`VaultTx::kind_digest`] of the credential records this index describes.
    covers: String,
    /// The types indexed, by the id prefix of their batch records.
    vcts: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct BatchRecord {
    vct: String,
    batch: String,
    pub(crate) copies: Vec<IndexedCopy>,
}

/// Batch records as last decrypted by this handle, by record id, each with the generation and
/// nonce it was sealed with ([`VaultTx::versions_prefix`]): a record whose pair is unchanged
/// is not decrypted again. No SD-JWT or key is held, only what [`IndexedCopy`] holds.
#[derive(Default)]
pub(crate) struct BatchCache(Mutex<HashMap<String, Cached>>);

/// A cached batch record: the generation and nonce it was sealed with, and its content.
type Cached = (i64, Vec<u8>, Arc<BatchRecord>);

fn corrupted(what: &str) -> Error {
    Error::Corrupted { what: format!("the credential index ({what})") }
}

fn to_bytes<T: Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>> {
    crate::wiped::to_json(value)
}

fn read<T: serde::de::DeserializeOwned>(tx: &mut VaultTx<'_>, id: &str, what: &str) -> Result<Option<T>> {
    match tx.get(INDEX_KIND, id)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| corrupted(what)),
    }
}

/// The index's `meta`, if it describes the credential records as they are in this
/// transaction; `None` when it is missing or behind (then [`rebuild`]).
fn current_meta(tx: &mut VaultTx<'_>) -> Result<Option<Meta>> {
    let digest = tx.kind_digest(CREDENTIAL_KIND);
    let meta = match read::<Meta>(tx, META_ID, "meta")? {
        Some(meta) => meta,
        // A wallet that never held a credential has no index yet: the empty one (the format
        // of `VaultTx::kind_digest` for a kind without records).
        None => Meta { covers: format!("0:{}", "0".repeat(64)), vcts: BTreeMap::new() },
    };
    Ok((meta.covers == digest).then_some(meta))
}

/// Whether the index describes the credential records as they are (see [`rebuild`]).
pub(crate) fn is_current(tx: &mut VaultTx<'_>) -> Result<bool> {
    Ok(current_meta(tx)?.is_some())
}

/// The index as it must be, in memory while one transaction changes it.
struct Changes {
    meta: Meta,
    batches: HashMap<String, BatchRecord>,
    links: HashMap<String, LinkedCopies>,
}

impl Changes {
    fn load(tx: &mut VaultTx<'_>) -> Result<Changes> {
        let meta = match current_meta(tx)? {
            Some(meta) => meta,
            None => {
                rebuild(tx)?;
                current_meta(tx)?.ok_or_else(|| corrupted("it does not match after a rebuild"))?
            }
        };
        Ok(Changes { meta, batches: HashMap::new(), links: HashMap::new() })
    }

    fn of_batch(&mut self, tx: &mut VaultTx<'_>, vct: &str, batch: &str) -> Result<&mut BatchRecord> {
        let id = batch_id(tx, vct, batch);
        if !self.batches.contains_key(&id) {
            let record = match read::<BatchRecord>(tx, &id, "a batch record")? {
                Some(record) if record.vct == vct && record.batch == batch => record,
                Some(_) => return Err(corrupted("a batch record names another batch")),
                None => BatchRecord { vct: vct.to_owned(), batch: batch.to_owned(), copies: Vec::new() },
            };
            self.meta.vcts.insert(type_id(tx, vct), vct.to_owned());
            self.batches.insert(id.clone(), record);
        }
        self.batches.get_mut(&id).ok_or_else(|| corrupted("a batch record vanished"))
    }

    fn of_link(&mut self, tx: &mut VaultTx<'_>, link: &str) -> Result<&mut LinkedCopies> {
        let id = link_id(tx, link);
        if !self.links.contains_key(&id) {
            let record = read::<LinkedCopies>(tx, &id, "a link record")?.unwrap_or_default();
            self.links.insert(id.clone(), record);
        }
        self.links.get_mut(&id).ok_or_else(|| corrupted("a link record vanished"))
    }

    /// Adds or replaces a copy in its type record and its link record.
    fn note(&mut self, tx: &mut VaultTx<'_>, copy: &StoredCredential) -> Result<()> {
        let record = self.of_batch(tx, &copy.vct, &copy.batch)?;
        let indexed = IndexedCopy::from(copy);
        match record.copies.iter_mut().find(|c| c.id == copy.id) {
            Some(existing) => *existing = indexed,
            None => record.copies.push(indexed),
        }
        if let Some(link) = child_link(&copy.claims) {
            self.of_link(tx, link)?.insert(copy.id.clone(), copy.used);
        }
        Ok(())
    }

    /// Writes every changed record and the `meta` naming the credential records as they now are.
    fn write(self, tx: &mut VaultTx<'_>) -> Result<()> {
        for (id, record) in &self.batches {
            tx.put(INDEX_KIND, id, &to_bytes(record)?)?;
        }
        for (id, record) in &self.links {
            tx.put(INDEX_KIND, id, &to_bytes(record)?)?;
        }
        let meta = Meta { covers: tx.kind_digest(CREDENTIAL_KIND), vcts: self.meta.vcts };
        tx.put(INDEX_KIND, META_ID, &to_bytes(&meta)?)
    }
}

/// The prefix of the batch records of a type.
fn type_id(tx: &VaultTx<'_>, vct: &str) -> String {
    format!("t.{}.", tx.blind_id(VCT_DOMAIN, vct))
}

/// A batch record's id: its type's prefix and the blinded batch id (batch ids are the wallet's
/// own, but blinded they have a fixed length).
fn batch_id(tx: &VaultTx<'_>, vct: &str, batch: &str) -> String {
    format!("{}{}", type_id(tx, vct), tx.blind_id(BATCH_DOMAIN, batch))
}

fn link_id(tx: &VaultTx<'_>, link: &str) -> String {
    format!("l.{}", tx.blind_id(LINK_DOMAIN, link))
}

/// Stores new copies (or replaces copies) and indexes them, in the caller's transaction.
pub(crate) fn store(tx: &mut VaultTx<'_>, copies: &[StoredCredential]) -> Result<()> {
    let mut changes = Changes::load(tx)?;
    for copy in copies {
        put_credential(tx, copy)?;
        changes.note(tx, copy)?;
    }
    changes.write(tx)
}

/// Marks copies presented (each once, the ones already marked left as they are) in the
/// records and the index, in the caller's transaction.
pub(crate) fn mark_used(tx: &mut VaultTx<'_>, ids: &[String]) -> Result<()> {
    let mut changes = Changes::load(tx)?;
    for id in ids {
        let mut copy = get_credential(tx, id)?;
        if !copy.used {
            copy.used = true;
            put_credential(tx, &copy)?;
            changes.note(tx, &copy)?;
        }
    }
    changes.write(tx)
}

/// Builds the whole index from the copies: every credential record is decrypted once. Only
/// needed when copies were written without it (see the module docs).
pub(crate) fn rebuild(tx: &mut VaultTx<'_>) -> Result<()> {
    let records = tx.list(INDEX_KIND)?;
    for (id, _) in &records {
        tx.delete(INDEX_KIND, id)?;
    }
    let mut changes = Changes { meta: Meta::default(), batches: HashMap::new(), links: HashMap::new() };
    for (id, bytes) in tx.list(CREDENTIAL_KIND)? {
        let copy: StoredCredential =
            serde_json::from_slice(&bytes).map_err(|_| Error::Corrupted { what: format!("credential record {id}") })?;
        changes.note(tx, &copy)?;
    }
    changes.write(tx)
}

/// The batch records of the credential types `vcts` (all of them if `None`); `None` if the
/// index is behind the credential records (then [`rebuild`] in a write transaction). Records
/// unchanged since `cache` last saw them are not decrypted again.
pub(crate) fn batches_of(
    tx: &mut VaultTx<'_>,
    vcts: Option<&BTreeSet<&str>>,
    cache: &BatchCache,
) -> Result<Option<Vec<Arc<BatchRecord>>>> {
    let Some(meta) = current_meta(tx)? else { return Ok(None) };
    let mut out = Vec::new();
    for (prefix, vct) in &meta.vcts {
        if vcts.is_some_and(|wanted| !wanted.contains(vct.as_str())) {
            continue;
        }
        for (id, version, nonce) in tx.versions_prefix(INDEX_KIND, prefix)? {
            let cached = cache.0.lock().unwrap_or_else(PoisonError::into_inner).get(&id).and_then(
                |(seen_version, seen_nonce, record)| {
                    (*seen_version == version && *seen_nonce == nonce).then(|| Arc::clone(record))
                },
            );
            let record = match cached {
                Some(record) => record,
                None => {
                    let record: BatchRecord =
                        read(tx, &id, "a batch record")?.ok_or_else(|| corrupted("a batch record vanished"))?;
                    if &record.vct != vct {
                        return Err(corrupted("a batch record names another type"));
                    }
                    let record = Arc::new(record);
                    cache
                        .0
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(id, (version, nonce, Arc::clone(&record)));
                    record
                }
            };
            out.push(record);
        }
    }
    Ok(Some(out))
}

/// The copies of the credential types `vcts` (all of them if `None`), ordered by id (see
/// [`batches_of`]).
pub(crate) fn of_types(
    tx: &mut VaultTx<'_>,
    vcts: Option<&BTreeSet<&str>>,
    cache: &BatchCache,
) -> Result<Option<Vec<IndexedCopy>>> {
    let Some(batches) = batches_of(tx, vcts, cache)? else { return Ok(None) };
    let mut out: Vec<IndexedCopy> = batches.iter().flat_map(|record| record.copies.iter().cloned()).collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Some(out))
}

/// For each of `links`, the copies carrying it (of any type) and whether each was presented;
/// `None` if the index is behind the credential records.
pub(crate) fn carrying<'l>(
    tx: &mut VaultTx<'_>,
    links: impl IntoIterator<Item = &'l str>,
) -> Result<Option<HashMap<String, LinkedCopies>>> {
    if current_meta(tx)?.is_none() {
        return Ok(None);
    }
    let mut out = HashMap::new();
    for link in links {
        if out.contains_key(link) {
            continue;
        }
        let id = link_id(tx, link);
        let copies = read::<LinkedCopies>(tx, &id, "a link record")?.unwrap_or_default();
        out.insert(link.to_owned(), copies);
    }
    Ok(Some(out))
}

/// Runs `query` on a read snapshot; if the index is behind, rebuilds it (one write
/// transaction) and runs it again.
pub(crate) fn read_current<T>(
    vault: &Vault,
    mut query: impl FnMut(&mut VaultTx<'_>) -> Result<Option<T>>,
) -> Result<T> {
    if let Some(value) = vault.read(&mut query)? {
        return Ok(value);
    }
    vault.transaction(|tx| {
        if !is_current(tx)? {
            rebuild(tx)?;
        }
        query(tx)?.ok_or_else(|| corrupted("it does not match after a rebuild"))
    })
}

/// Writes a copy's record (the index is the caller's: [`store`], [`mark_used`]).
fn put_credential(tx: &mut VaultTx<'_>, credential: &StoredCredential) -> Result<()> {
    let bytes = crate::wiped::to_json(credential)?;
    tx.put(CREDENTIAL_KIND, &credential.id, &bytes)
}

/// Reads one credential copy inside a transaction.
pub(crate) fn get_credential(tx: &mut VaultTx<'_>, id: &str) -> Result<StoredCredential> {
    let bytes = tx
        .get(CREDENTIAL_KIND, id)?
        .ok_or_else(|| Error::InvalidInput { reason: format!("credential copy {id} is no longer in the wallet") })?;
    serde_json::from_slice(&bytes).map_err(|_| Error::Corrupted { what: format!("credential record {id}") })
}

/// Every stored credential copy (each record decrypted: for export-like uses, not requests).
pub fn stored_credentials(vault: &Vault) -> Result<Vec<StoredCredential>> {
    vault
        .list(CREDENTIAL_KIND)?
        .into_iter()
        .map(|(id, bytes)| {
            serde_json::from_slice(&bytes).map_err(|_| Error::Corrupted { what: format!("credential record {id}") })
        })
        .collect()
}
