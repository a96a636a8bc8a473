//! A person's wallet: the vault, its owner, the catalog of credential types it understands.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use schooltas_did::{Signer as _, SigningKey};
use schooltas_school::catalog::{Catalog, Language};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{PathElement, Vct};
use schooltas_status_list::StatusListCache;

use crate::copies::{self, IndexedCopy, StoredCredential};
use crate::error::{Error, Result};
use crate::ids::random_id;
use crate::keys::{BoxedSigner, HolderKey, HolderKeys, SoftwareHolderKeys, signer_for};
use crate::log::{self, LogEntry};
use crate::owner::{Owner, Role};
use crate::receive::{IssuerKey, check_credential};
use crate::vault::Vault;

/// A child's or a parent's wallet.
///
/// ```
/// use schooltas_school::date::CalendarDate;
/// use schooltas_wallet::vault::{KdfParams, Unlock, Vault};
/// use schooltas_wallet::{AgeBand, Role, Wallet};
///
/// let vault = Vault::in_memory(Unlock::Passphrase("correct horse"), KdfParams::INSECURE_FOR_TESTS)?;
/// let birth_date = CalendarDate::parse("2014-09-01")?;
/// let wallet = Wallet::create(vault, Role::Child { birth_date }, 1_800_000_000)?;
/// assert_eq!(wallet.owner().age(1_800_000_000), Some(12));
/// assert_eq!(wallet.owner().age_band(1_800_000_000), AgeBand::From12To15);
/// assert!(wallet.owner().did().as_str().starts_with("did:key:z6Mk"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Wallet {
    pub(crate) vault: Vault,
    /// Where holder keys are made and used ([`SoftwareHolderKeys`] unless an app gives its own).
    pub(crate) holder_keys: Arc<dyn HolderKeys>,
    pub(crate) owner: Owner,
    pub(crate) catalog: Catalog,
    /// Batch records of the sealed index as last decrypted (no SD-JWTs, no keys).
    batches: copies::BatchCache,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet").field("owner", &self.owner).finish_non_exhaustive()
    }
}

/// What a wallet shows about one stored credential (a batch of copies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialSummary {
    /// The batch id (all copies of one issuance).
    pub batch: String,
    /// The credential type.
    pub vct: String,
    /// Its name in Dutch and English (the vct if the catalog does not know it).
    pub name: (String, String),
    /// The issuer's DID.
    pub issuer: String,
    /// When it was received.
    pub received_at: i64,
    /// Copies not yet presented.
    pub unused_copies: usize,
    /// All copies.
    pub copies: usize,
}

impl Wallet {
    /// Makes `vault` (new and empty) the wallet of a child or a parent, with a fresh identity key.
    pub fn create(vault: Vault, role: Role, now: i64) -> Result<Wallet> {
        let owner = Owner::create(&vault, role, now)?;
        Ok(Wallet {
            vault,
            owner,
            holder_keys: Arc::new(SoftwareHolderKeys),
            catalog: Catalog::standard(),
            batches: copies::BatchCache::default(),
        })
    }

    /// Opens the wallet in an unlocked vault. The sealed credential index is checked against
    /// the credential records (a comparison of two digests); only a file whose copies were
    /// written without it (see [`crate::copies`]) has it rebuilt here, once, so that no request
    /// pays for it.
    pub fn open(vault: Vault) -> Result<Wallet> {
        let owner = Owner::load(&vault)?;
        if !vault.read(copies::is_current)? {
            vault.transaction(|tx| if copies::is_current(tx)? { Ok(()) } else { copies::rebuild(tx) })?;
        }
        Ok(Wallet {
            vault,
            owner,
            holder_keys: Arc::new(SoftwareHolderKeys),
            catalog: Catalog::standard(),
            batches: copies::BatchCache::default(),
        })
    }

    /// Keeps the holder keys of the credentials this wallet receives from now on in `keys` (a
    /// phone's secure element, through the app), and signs with them there. Copies received
    /// before keep their software keys and still present.
    pub fn with_holder_keys(mut self, keys: Arc<dyn HolderKeys>) -> Self {
        self.holder_keys = keys;
        self
    }

    /// Where this wallet makes and uses holder keys (pass it to
    /// [`crate::receive::Receiver::holder_keys`]).
    pub fn holder_keys(&self) -> &dyn HolderKeys {
        self.holder_keys.as_ref()
    }

    /// The signer for a copy's holder key.
    pub(crate) fn holder_signer(&self, copy: &StoredCredential) -> Result<BoxedSigner> {
        signer_for(self.holder_keys.as_ref(), &copy.holder_key).map_err(|error| match error {
            Error::Did(_) => Error::Corrupted { what: format!("the holder key of credential {}", copy.id) },
            other => other,
        })
    }

    /// Uses another catalog of credential types (the standard one by default).
    pub fn with_catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = catalog;
        self
    }

    /// Whose wallet this is.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// The encrypted store (for receiving credentials, export and import).
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The catalog of credential types this wallet understands.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The indexed copies of the credential types `vcts` (every type if `None`), by id: one
    /// sealed record read per type (see [`crate::copies`]).
    pub(crate) fn copies_of(&self, vcts: Option<&BTreeSet<&str>>) -> Result<Vec<IndexedCopy>> {
        copies::read_current(&self.vault, |tx| copies::of_types(tx, vcts, &self.batches))
    }

    /// The credentials held, one entry per batch.
    pub fn credentials(&self) -> Result<Vec<CredentialSummary>> {
        let mut out: Vec<CredentialSummary> = Vec::new();
        let mut by_batch: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let batches = copies::read_current(&self.vault, |tx| copies::batches_of(tx, None, &self.batches))?;
        for copy in batches.iter().flat_map(|record| record.copies.iter()) {
            if let Some(entry) = by_batch.get(copy.batch.as_str()).and_then(|at| out.get_mut(*at)) {
                entry.copies += 1;
                entry.unused_copies += usize::from(!copy.used);
                continue;
            }
            by_batch.insert(copy.batch.as_str(), out.len());
            out.push(CredentialSummary {
                batch: copy.batch.clone(),
                vct: copy.vct.clone(),
                name: self.type_name(&copy.vct),
                issuer: copy.issuer.clone(),
                received_at: copy.received_at,
                unused_copies: usize::from(!copy.used),
                copies: 1,
            });
        }
        out.sort_by(|a, b| (a.received_at, &a.batch).cmp(&(b.received_at, &b.batch)));
        Ok(out)
    }

    /// Stores a credential obtained outside OpenID4VCI (a file from `schooltas issue`, another
    /// wallet's export) with its holder key, after the same checks as receiving: the issuer's
    /// signature (key from `issuer_key`), the binding to `holder_key`, a type the catalog
    /// knows, a VALID status. Stored and logged in one transaction.
    pub fn add_credential(
        &self,
        sd_jwt: &str,
        holder_key: &SigningKey,
        issuer_key: IssuerKey<'_>,
        status: &StatusListCache,
        now: i64,
    ) -> Result<CredentialSummary> {
        let (issuer, vct, claims) =
            check_credential(sd_jwt, holder_key.verifying_key(), None, &self.catalog, issuer_key, status, now)?;
        let config_id = Vct::new(vct.clone())
            .ok()
            .and_then(|v| self.catalog.by_vct(&v).map(|t| t.id().to_owned()))
            .unwrap_or_default();
        // A credential whose one-time child link was already presented would link this
        // copy's presentations to that one: stored as used (see `receive`).
        let consumed = match copies::child_link(&claims) {
            Some(link) => copies::read_current(&self.vault, |tx| copies::carrying(tx, [link]))?
                .values()
                .any(|copies| copies.values().any(|used| *used)),
            None => false,
        };
        let copy = StoredCredential {
            id: random_id(),
            batch: random_id(),
            config_id,
            vct: vct.clone(),
            issuer: issuer.clone(),
            sd_jwt: sd_jwt.to_owned(),
            holder_key: HolderKey::Software(holder_key.to_private_jwk()),
            received_at: now,
            used: consumed,
            batch_index: 0,
            claims,
            authority_key_ids: crate::x5c::authority_key_ids(sd_jwt),
        };
        self.vault.transaction(|tx| {
            copies::store(tx, std::slice::from_ref(&copy))?;
            log::append(
                tx,
                now,
                log::LogEvent::CredentialReceived { issuer: issuer.clone(), vct: vct.clone(), copies: 1 },
            )?;
            Ok(())
        })?;
        Ok(CredentialSummary {
            batch: copy.batch.clone(),
            name: self.type_name(&vct),
            vct,
            issuer,
            received_at: now,
            unused_copies: usize::from(!consumed),
            copies: 1,
        })
    }

    /// The log, its hash chain verified (an edited or removed entry is an error).
    pub fn log(&self) -> Result<Vec<LogEntry>> {
        log::verify_chain(&self.vault)
    }

    /// The log as JSON: the answer to "what was shared about me, with whom, when and why"
    /// (GDPR art. 15).
    pub fn export_log(&self) -> Result<String> {
        log::export_json(&self.vault)
    }

    /// The log as a parent may see it in a child's wallet: only while the child is under 16.
    /// From the 16th birthday the young person's log is theirs alone.
    pub fn parent_view_of_log(&self, now: i64) -> Result<String> {
        match (self.owner.role(), self.owner.sixteenth_birthday()) {
            (Role::Child { .. }, Some(sixteen)) if !self.owner.age_band(now).needs_guardian() => {
                Err(Error::ParentViewEnded { since: sixteen.to_string() })
            }
            (Role::Child { .. }, _) => self.export_log(),
            (Role::Parent, _) => {
                Err(Error::InvalidInput { reason: "a parent's own wallet has no parent view; read its log".into() })
            }
        }
    }

    pub(crate) fn type_name(&self, vct: &str) -> (String, String) {
        match Vct::new(vct.to_owned()).ok().and_then(|v| self.catalog.by_vct(&v)) {
            Some(t) => (t.name().get(Language::Nl).to_owned(), t.name().get(Language::En).to_owned()),
            None => (vct.to_owned(), vct.to_owned()),
        }
    }
}

/// A claim path written with dots for people and logs: `address.locality`, `advice.*`, `levels.0`.
pub fn dotted(path: &ClaimPath) -> String {
    path.elements()
        .iter()
        .map(|e| match e {
            PathElement::Key(k) => k.clone(),
            PathElement::Index(i) => i.to_string(),
            PathElement::AllElements => "*".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The part of `claims` at `paths` (and nothing else): what a presentation of those paths shows.
/// Array elements not selected are `null`, so selected elements keep their index.
pub(crate) fn restrict(claims: &Map<String, Value>, paths: &[ClaimPath]) -> Map<String, Value> {
    let source = Value::Object(claims.clone());
    let mut out = Value::Object(Map::new());
    for path in paths {
        copy_path(&source, path.elements(), &mut out);
    }
    match out {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn copy_path(source: &Value, path: &[PathElement], target: &mut Value) {
    let Some((first, rest)) = path.split_first() else {
        *target = source.clone();
        return;
    };
    match (first, source) {
        (PathElement::Key(key), Value::Object(object)) => {
            let Some(child) = object.get(key) else { return };
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(map) = target {
                copy_path(child, rest, map.entry(key.clone()).or_insert(Value::Null));
            }
        }
        (PathElement::Index(index), Value::Array(items)) => {
            let Some(child) = items.get(*index) else { return };
            if !target.is_array() {
                *target = Value::Array(vec![Value::Null; items.len()]);
            }
            if let Some(slot) = target.as_array_mut().and_then(|t| t.get_mut(*index)) {
                copy_path(child, rest, slot);
            }
        }
        (PathElement::AllElements, Value::Array(items)) => {
            if !target.is_array() {
                *target = Value::Array(vec![Value::Null; items.len()]);
            }
            if let Some(slots) = target.as_array_mut() {
                for (child, slot) in items.iter().zip(slots.iter_mut()) {
                    copy_path(child, rest, slot);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn restrict_keeps_only_the_selected_subtrees() {
        let claims = json!({"a": {"b": 1, "c": 2}, "d": [10, 20, 30], "e": [{"f": 1, "g": 2}], "h": true});
        let claims = claims.as_object().cloned().unwrap_or_default();
        let paths = [
            ClaimPath::new(vec![PathElement::Key("a".into()), PathElement::Key("c".into())]).unwrap(),
            ClaimPath::new(vec![PathElement::Key("d".into()), PathElement::Index(1)]).unwrap(),
            ClaimPath::new(vec![PathElement::Key("e".into()), PathElement::AllElements, PathElement::Key("g".into())])
                .unwrap(),
        ];
        let out = Value::Object(restrict(&claims, &paths));
        assert_eq!(out, json!({"a": {"c": 2}, "d": [null, 20, null], "e": [{"g": 2}]}));
        assert_eq!(dotted(&paths[2]), "e.*.g");
    }
}
