//! The sealed credential index (`schooltas_wallet::copies`) and the durability of an answer:
//! the index follows every receive and use, is rebuilt when copies were written around it,
//! shows nothing in the file, and a wallet killed while it answers loses nothing it
//! acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::*;
use rusqlite::Connection;
use schooltas_school::date::CalendarDate;
use schooltas_wallet::log::LogEvent;
use schooltas_wallet::receive::{CREDENTIAL_KIND, stored_credentials};
use schooltas_wallet::vault::{KdfParams, MemoryAnchor, Unlock, Vault, WalletKey};
use schooltas_wallet::{Decision, Outcome, Role, Wallet};
use serde_json::json;

const KEY: [u8; 32] = [43; 32];
const SUBJECT: &str = "pupil-9";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("schooltas-wallet-index-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn open_vault(path: &Path) -> Vault {
    Vault::open(path, Unlock::Key(&WalletKey::from_bytes(KEY))).unwrap()
}

/// A 17-year-old's wallet file (answers alone) holding the school's enrolment credential.
fn enrolled_child(school: &School, path: &Path) -> Wallet {
    let vault = Vault::create(path, Unlock::Key(&WalletKey::from_bytes(KEY)), KdfParams::INSECURE_FOR_TESTS).unwrap();
    let child =
        Wallet::create(vault, Role::Child { birth_date: CalendarDate::parse("2010-01-01").unwrap() }, NOW).unwrap();
    school.enrol(
        SUBJECT,
        "pupil_enrolment",
        json!({"sub": child.owner().did().as_str(), "school_name": "Basisschool De Linde", "school_brin": "12AB",
               "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
               "family_name": "de Vries", "birth_date": "2010-01-01", "age_over_12": true, "age_over_16": true}),
    );
    school.issue_to(&child, SUBJECT, &["pupil_enrolment"]);
    child
}

/// Per batch, in batch order: (copies, unused copies).
type Counts = Vec<(usize, usize)>;

/// The counts from the index (`credentials`) and from the copies themselves (every record
/// decrypted).
fn counts(wallet: &Wallet) -> (Counts, Counts) {
    let mut indexed: Vec<(String, usize, usize)> =
        wallet.credentials().unwrap().into_iter().map(|c| (c.batch, c.copies, c.unused_copies)).collect();
    indexed.sort();
    let mut stored: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for copy in stored_credentials(wallet.vault()).unwrap() {
        let entry = stored.entry(copy.batch.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(!copy.used);
    }
    (indexed.into_iter().map(|(_, n, u)| (n, u)).collect(), stored.into_values().collect())
}

fn answer(wallet: &Wallet, verifier: &Verifier, verifiers: &schooltas_wallet::Verifiers<'_>) -> String {
    let request = newsletter_request(verifier, &["group"]);
    let prompt = wallet.handle_request(&verifier.request_uri(&request, NOW), verifiers, NOW).unwrap();
    let Outcome::Send(_) = wallet.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a 17-year-old decides alone")
    };
    prompt.request_id
}

#[test]
fn the_index_follows_each_use_and_equals_a_rebuild() {
    let dir = temp_dir("follows");
    let path = dir.join("child.sqlite");
    let (school, verifier, trust, resolver) = scene(31);
    let verifiers = verifiers(&trust, &resolver);
    let child = enrolled_child(&school, &path);
    assert_eq!(counts(&child).0, [(3, 3)]);
    answer(&child, &verifier, &verifiers);
    let (indexed, stored) = counts(&child);
    // The school gives each copy its own one-time child link: one copy is spent.
    assert_eq!(indexed, stored);
    assert_eq!(indexed, [(3, 2)]);
    drop(child);

    // Drop the index's summary: the next open rebuilds it from the copies, to the same view.
    let vault = open_vault(&path);
    assert!(vault.delete("copy-index", "meta").unwrap());
    let reopened = Wallet::open(vault).unwrap();
    let (rebuilt, stored) = counts(&reopened);
    assert_eq!((rebuilt.as_slice(), stored.as_slice()), (indexed.as_slice(), indexed.as_slice()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn opening_and_the_first_request_build_nothing_when_the_index_is_current() {
    let dir = temp_dir("no-rebuild");
    let path = dir.join("child.sqlite");
    let (school, verifier, trust, resolver) = scene(35);
    let verifiers = verifiers(&trust, &resolver);
    drop(enrolled_child(&school, &path));
    // Every write is one generation: an open that rebuilt the index would show as one.
    let vault = open_vault(&path);
    let opened = vault.generation();
    let wallet = Wallet::open(vault).unwrap();
    assert_eq!(wallet.vault().generation(), opened, "Wallet::open wrote to a wallet whose index is current");
    // The first request after opening writes its prompt and log entry, and nothing else.
    let request = newsletter_request(&verifier, &["group"]);
    let prompt = wallet.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert_eq!(wallet.vault().generation(), opened + 1);
    // Its answer is one more commit.
    wallet.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap();
    assert_eq!(wallet.vault().generation(), opened + 2);
    drop(wallet);

    // Copies written around the index: the open rebuilds it, once.
    let vault = open_vault(&path);
    let mut copy = stored_credentials(&vault).unwrap().remove(0);
    copy.id = "written-around".into();
    vault.put(CREDENTIAL_KIND, &copy.id, &serde_json::to_vec(&copy).unwrap()).unwrap();
    drop(vault);
    let vault = open_vault(&path);
    let before = vault.generation();
    let wallet = Wallet::open(vault).unwrap();
    assert_eq!(wallet.vault().generation(), before + 1, "the open rebuilt the index in one transaction");
    drop(wallet);
    let vault = open_vault(&path);
    let before = vault.generation();
    assert_eq!(Wallet::open(vault).unwrap().vault().generation(), before, "and only once");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn copies_written_around_the_index_are_found() {
    let dir = temp_dir("around");
    let path = dir.join("child.sqlite");
    let (school, verifier, trust, resolver) = scene(32);
    let verifiers = verifiers(&trust, &resolver);
    let child = enrolled_child(&school, &path);
    // A tool writes a copy straight into the vault (as the bench does, or an older version of
    // the crate): another batch, another id, same credential.
    let mut copy = stored_credentials(child.vault()).unwrap().remove(0);
    copy.id = "written-around".into();
    copy.batch = "batch-around".into();
    copy.used = false;
    child.vault().put(CREDENTIAL_KIND, &copy.id, &serde_json::to_vec(&copy).unwrap()).unwrap();
    // The open handle notices at its next read (the digest of the credential records moved).
    assert_eq!(child.credentials().unwrap().len(), 2);
    // A request finds the new batch as a candidate too.
    let request = newsletter_request(&verifier, &["group"]);
    let prompt = child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert_eq!(prompt.items[0].candidates.len(), 2);
    drop(child);
    // And a fresh open agrees, without anything to rebuild.
    let reopened = Wallet::open(open_vault(&path)).unwrap();
    let (indexed, stored) = counts(&reopened);
    assert_eq!(indexed, stored);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_file_does_not_name_the_types_links_or_batches_held() {
    let dir = temp_dir("blind");
    let path = dir.join("child.sqlite");
    let (school, _, _, _) = scene(33);
    let child = enrolled_child(&school, &path);
    let copies = stored_credentials(child.vault()).unwrap();
    let secrets: Vec<String> = copies
        .iter()
        .flat_map(|c| [c.vct.clone(), c.batch.clone(), c.claims["sub"].as_str().unwrap().to_owned()])
        .collect();
    drop(child);
    let raw = Connection::open(&path).unwrap();
    let mut statement = raw.prepare("SELECT id FROM record WHERE kind = 'copy-index'").unwrap();
    let ids: Vec<String> = statement.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    // One batch record, a link record per copy (each carries its own one-time link), the summary.
    assert_eq!(ids.len(), 5, "{ids:?}");
    for id in &ids {
        for secret in &secrets {
            assert!(!id.contains(secret.as_str()), "record id {id} shows {secret}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unsynced_commit_does_not_advance_the_anchor_and_the_next_synced_one_does() {
    let dir = temp_dir("anchor");
    let path = dir.join("vault.sqlite");
    let anchor = Arc::new(MemoryAnchor::new());
    let vault = Vault::create_anchored(
        &path,
        Unlock::Key(&WalletKey::from_bytes(KEY)),
        KdfParams::INSECURE_FOR_TESTS,
        Box::new(anchor.clone()),
    )
    .unwrap();
    vault.transaction(|tx| tx.put("note", "a", b"synced")).unwrap();
    let synced = anchor.record().unwrap().generation;
    assert_eq!(synced, vault.generation());
    // A prompt-like record: committed (readable, and it survives a killed process) but the
    // anchor stays where a power cut could bring the file back to.
    vault.transaction_unsynced(|tx| tx.put("note", "b", b"unsynced")).unwrap();
    assert_eq!(vault.generation(), synced + 1);
    assert_eq!(anchor.record().unwrap().generation, synced);
    assert_eq!(vault.get("note", "b").unwrap().as_deref().map(Vec::as_slice), Some(&b"unsynced"[..]));
    // The next synced commit makes both durable and records the newest state.
    vault.transaction(|tx| tx.put("note", "c", b"synced")).unwrap();
    assert_eq!(anchor.record().unwrap().generation, vault.generation());
    drop(vault);
    // A file ahead of its anchor (what a crash between an unsynced commit and the next synced
    // one leaves) opens, and the anchor catches up.
    let vault =
        Vault::open_anchored(&path, Unlock::Key(&WalletKey::from_bytes(KEY)), Box::new(anchor.clone())).unwrap();
    vault.transaction_unsynced(|tx| tx.put("note", "d", b"unsynced")).unwrap();
    drop(vault);
    let vault =
        Vault::open_anchored(&path, Unlock::Key(&WalletKey::from_bytes(KEY)), Box::new(anchor.clone())).unwrap();
    assert_eq!(anchor.record().unwrap().generation, vault.generation());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// In the child process: answers requests until killed, printing `ack <request id>` after
/// each `decide` returned (the response could have left the wallet from then on).
fn answer_until_killed(path: &str) -> ! {
    let (_school, verifier, trust, resolver) = scene(34);
    let verifiers = verifiers(&trust, &resolver);
    let wallet = Wallet::open(open_vault(Path::new(path))).unwrap();
    loop {
        let request_id = answer(&wallet, &verifier, &verifiers);
        println!("ack {request_id}");
    }
}

#[test]
fn a_wallet_killed_while_answering_loses_no_acknowledged_answer() {
    // In the child process this same test is the answering wallet.
    if let Ok(path) = std::env::var("SCHOOLTAS_ANSWERING_WALLET") {
        answer_until_killed(&path);
    }
    let dir = temp_dir("killed");
    let path = dir.join("child.sqlite");
    let (school, _, _, _) = scene(34);
    drop(enrolled_child(&school, &path));
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "a_wallet_killed_while_answering_loses_no_acknowledged_answer", "--nocapture"])
            .args(["--test-threads=1"])
            .env("SCHOOLTAS_ANSWERING_WALLET", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut acknowledged = Vec::new();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        for line in stdout.lines() {
            if let Some(id) = line.unwrap().strip_prefix("ack ") {
                acknowledged.push(id.to_owned());
                if acknowledged.len() == 5 + round * 3 {
                    // SIGKILL, at once: the child is inside its next answer.
                    child.kill().unwrap();
                    break;
                }
            }
        }
        child.wait().unwrap();
        assert_eq!(acknowledged.len(), 5 + round * 3, "round {round}: the child stopped early");
        let vault = open_vault(&path);
        vault.verify_integrity().unwrap();
        let wallet = Wallet::open(vault).unwrap();
        let log = wallet.log().unwrap();
        for id in &acknowledged {
            let decided = log
                .iter()
                .any(|e| matches!(&e.event, LogEvent::Decision { request_id, approved: true, .. } if request_id == id));
            let disclosed =
                log.iter().any(|e| matches!(&e.event, LogEvent::Disclosure { request_id, .. } if request_id == id));
            assert!(decided && disclosed, "round {round}: the answer to {id} was acknowledged and lost");
        }
        // Every decision was stored with its consent (one transaction): never one without the other.
        let decisions = log.iter().filter(|e| matches!(&e.event, LogEvent::Decision { approved: true, .. })).count();
        assert_eq!(wallet.consents().unwrap().len(), decisions, "round {round}");
        // The index still describes the copies exactly.
        let (indexed, stored) = counts(&wallet);
        assert_eq!(indexed, stored, "round {round}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
