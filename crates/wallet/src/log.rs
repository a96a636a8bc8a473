//! The family's log: an append-only, hash-chained record of every request, decision,
//! disclosure, received credential and withdrawal — the answer to "what was shared about my
//! child, with whom, when and why".
//!
//! Each entry commits to the previous one (`hash = SHA-256(prev_hash ‖ seq ‖ JSON of the
//! entry)`), and the chain's head (last sequence number and hash) is a sealed record of its
//! own, written in the same transaction. So a removed, reordered or edited entry — or a cut-off
//! tail — fails [`verify_chain`]. Entries are sealed in the [`Vault`] like
//! every record; appends happen inside the caller's transaction, so an action and its log entry
//! are stored together or not at all.
//!
//! The chain alone cannot tell a cut-off tail from a shorter log when the attacker also puts
//! back the older sealed head (both are genuine records). The vault's sealed state root does:
//! the removed entry and the replaced head no longer add up, and the file is refused on open
//! with [`Error::Tampered`] (test `the_newest_entry_cut_with_the_old_head_put_back_is_detected_on_open`).
//! Rolling back the *whole* file to an older copy is only caught with a
//! [`StateAnchor`](crate::vault::StateAnchor) outside the file.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::vault::{Vault, VaultTx};

const KIND: &str = "log";
const HEAD_KIND: &str = "log-head";
const HEAD_ID: &str = "head";

/// Who took a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The child (the wallet's holder).
    Child,
    /// A parent or guardian.
    Parent,
    /// A young person of 16 or over, deciding alone.
    Holder,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogEvent {
    /// A credential was received and stored.
    CredentialReceived {
        /// The issuer (DID).
        issuer: String,
        /// The credential type (`vct`).
        vct: String,
        /// How many copies (batch issuance).
        copies: u32,
    },
    /// A verifier asked for claims.
    RequestReceived {
        /// The request's id in this wallet.
        request_id: String,
        /// Who asked (client id).
        verifier: String,
        /// The stated purpose.
        purpose: String,
        /// The stated legal basis.
        legal_basis: String,
        /// The claims asked for, as dotted paths per credential type.
        claims: Vec<String>,
    },
    /// A request was refused without asking anyone (unregistered verifier, no purpose).
    RequestRefused {
        /// Who asked (client id).
        verifier: String,
        /// Why it was refused.
        reason: String,
    },
    /// A person approved or refused (all or some of) a request.
    Decision {
        /// The request.
        request_id: String,
        /// Who decided.
        by: Actor,
        /// Yes or no.
        approved: bool,
        /// The claims approved (empty for a refusal).
        claims: Vec<String>,
    },
    /// Claims left the wallet.
    Disclosure {
        /// The request.
        request_id: String,
        /// To whom.
        verifier: String,
        /// Why.
        purpose: String,
        /// The credential type.
        vct: String,
        /// Exactly which claims, as dotted paths.
        claims: Vec<String>,
    },
    /// A young person of 16 or over confirmed a consent their parent gave.
    ConsentConfirmed {
        /// The consent's id.
        consent_id: String,
        /// To whom it was given.
        verifier: String,
        /// For which purpose.
        purpose: String,
    },
    /// A consent was withdrawn.
    Withdrawal {
        /// The consent's id.
        consent_id: String,
        /// From whom.
        verifier: String,
        /// For which purpose.
        purpose: String,
    },
}

/// One log entry with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position, from 1.
    pub seq: u64,
    /// When (Unix seconds).
    pub at: i64,
    /// What.
    pub event: LogEvent,
    /// The previous entry's hash (hex; 64 zeros for the first).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

#[derive(Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn entry_id(seq: u64) -> String {
    format!("{seq:020}")
}

fn hash_of(prev_hash: &str, seq: u64, at: i64, event: &LogEvent) -> Result<String> {
    let body = serde_json::to_vec(&(seq, at, event)).map_err(|e| Error::Storage { reason: e.to_string() })?;
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&body);
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn head(tx: &mut VaultTx<'_>) -> Result<Head> {
    match tx.get(HEAD_KIND, HEAD_ID)? {
        None => Ok(Head { seq: 0, hash: GENESIS.into() }),
        Some(bytes) => {
            serde_json::from_slice(&bytes).map_err(|_| Error::Corrupted { what: "the log head is unreadable".into() })
        }
    }
}

/// Appends an entry inside the caller's transaction and returns it.
pub fn append(tx: &mut VaultTx<'_>, at: i64, event: LogEvent) -> Result<LogEntry> {
    let previous = head(tx)?;
    let seq = previous.seq + 1;
    let hash = hash_of(&previous.hash, seq, at, &event)?;
    let entry = LogEntry { seq, at, event, prev_hash: previous.hash, hash: hash.clone() };
    let bytes = serde_json::to_vec(&entry).map_err(|e| Error::Storage { reason: e.to_string() })?;
    tx.put(KIND, &entry_id(seq), &bytes)?;
    let head = serde_json::to_vec(&Head { seq, hash }).map_err(|e| Error::Storage { reason: e.to_string() })?;
    tx.put(HEAD_KIND, HEAD_ID, &head)?;
    Ok(entry)
}

/// Every entry, in order, after checking the whole chain: sequence numbers 1..=n without gaps,
/// each `prev_hash` the previous `hash`, each `hash` recomputed, and the last one equal to the
/// sealed head. Any break is [`Error::Corrupted`] naming the first broken entry.
pub fn verify_chain(vault: &Vault) -> Result<Vec<LogEntry>> {
    vault.read(|tx| {
        let head = head(tx)?;
        let records = tx.list(KIND)?;
        let mut previous = GENESIS.to_owned();
        let mut entries = Vec::with_capacity(records.len());
        for (position, (id, bytes)) in records.into_iter().enumerate() {
            let expected_seq = position as u64 + 1;
            let broken = |reason: &str| Error::Corrupted { what: format!("log entry {expected_seq} {reason}") };
            let entry: LogEntry = serde_json::from_slice(&bytes).map_err(|_| broken("is unreadable"))?;
            if entry.seq != expected_seq || id != entry_id(entry.seq) {
                return Err(broken("is missing (the sequence has a gap)"));
            }
            if entry.prev_hash != previous {
                return Err(broken("does not follow its predecessor"));
            }
            if hash_of(&entry.prev_hash, entry.seq, entry.at, &entry.event)? != entry.hash {
                return Err(broken("was altered"));
            }
            previous = entry.hash.clone();
            entries.push(entry);
        }
        if head.seq != entries.len() as u64 || head.hash != previous {
            return Err(Error::Corrupted {
                what: format!(
                    "the log ends at entry {} but its head says {}: entries were removed",
                    entries.len(),
                    head.seq
                ),
            });
        }
        Ok(entries)
    })
}

/// The verified log as JSON (an array of entries with their hashes), for an access request or
/// to keep outside the phone.
pub fn export_json(vault: &Vault) -> Result<String> {
    serde_json::to_string_pretty(&verify_chain(vault)?).map_err(|e| Error::Storage { reason: e.to_string() })
}
