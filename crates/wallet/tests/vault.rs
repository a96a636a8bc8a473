//! The encrypted vault: wrong keys refused, tampering detected, crashes lose nothing
//! acknowledged, exports restore everything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rusqlite::Connection;
use schooltas_wallet::Error;
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};

const FAST: KdfParams = KdfParams::INSECURE_FOR_TESTS;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("schooltas-vault-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn new_vault(dir: &std::path::Path) -> (PathBuf, Vault) {
    let path = dir.join("wallet.sqlite");
    let vault = Vault::create(&path, Unlock::Passphrase("correct horse battery"), FAST).unwrap();
    (path, vault)
}

#[test]
fn records_round_trip_and_survive_reopening() {
    let dir = temp_dir("roundtrip");
    let (path, vault) = new_vault(&dir);
    vault.put("credential", "c1", b"first").unwrap();
    vault.put("credential", "c2", b"second").unwrap();
    vault.put("consent", "c1", b"a consent").unwrap();
    vault.put("credential", "c1", b"replaced").unwrap();
    assert!(vault.delete("credential", "c2").unwrap());
    assert!(!vault.delete("credential", "c2").unwrap());
    drop(vault);
    let vault = Vault::open(&path, Unlock::Passphrase("correct horse battery")).unwrap();
    assert_eq!(vault.get("credential", "c1").unwrap().unwrap().as_slice(), b"replaced");
    assert_eq!(vault.get("consent", "c1").unwrap().unwrap().as_slice(), b"a consent");
    assert!(vault.get("credential", "c2").unwrap().is_none());
    assert_eq!(vault.list("credential").unwrap().len(), 1);
    assert_eq!(vault.verify_integrity().unwrap(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nothing_is_stored_in_the_clear() {
    let dir = temp_dir("clear");
    let (_, vault) = new_vault(&dir);
    vault.put("credential", "c1", b"given_name Zyxwvutsrq").unwrap();
    drop(vault);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(!String::from_utf8_lossy(&bytes).contains("Zyxwvutsrq"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wrong_passphrase_or_key_is_refused_clearly() {
    let dir = temp_dir("wrong");
    let (path, vault) = new_vault(&dir);
    drop(vault);
    let error = Vault::open(&path, Unlock::Passphrase("correct horse battery!")).unwrap_err();
    assert!(matches!(error, Error::WrongPassphrase), "{error}");
    assert_eq!(error.to_string(), "wrong passphrase: this wallet cannot be opened with it");
    let error = Vault::open(&path, Unlock::Key(&WalletKey::generate())).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");

    let platform = dir.join("platform.sqlite");
    let key = WalletKey::generate();
    Vault::create(&platform, Unlock::Key(&key), FAST).unwrap().put("k", "1", b"x").unwrap();
    assert!(matches!(Vault::open(&platform, Unlock::Key(&WalletKey::generate())), Err(Error::WrongPassphrase)));
    assert_eq!(Vault::open(&platform, Unlock::Key(&key)).unwrap().get("k", "1").unwrap().unwrap().as_slice(), b"x");
    assert!(Vault::create(&platform, Unlock::Key(&key), FAST).is_err(), "never overwrites a wallet");
    assert!(format!("{key:?}").contains("redacted"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_flipped_byte_in_a_record_is_reported_never_returned() {
    let dir = temp_dir("flip");
    let (path, vault) = new_vault(&dir);
    vault.put("credential", "c1", b"the credential").unwrap();
    vault.put("credential", "c2", b"another").unwrap();
    drop(vault);
    {
        let raw = Connection::open(&path).unwrap();
        let mut ciphertext: Vec<u8> =
            raw.query_row("SELECT ciphertext FROM record WHERE id = 'c1'", [], |row| row.get(0)).unwrap();
        ciphertext[3] ^= 0x01;
        raw.execute("UPDATE record SET ciphertext = ?1 WHERE id = 'c1'", [ciphertext]).unwrap();
    }
    let vault = Vault::open(&path, Unlock::Passphrase("correct horse battery")).unwrap();
    let error = vault.get("credential", "c1").unwrap_err();
    assert!(matches!(&error, Error::Corrupted { what } if what.contains("credential record c1")), "{error}");
    assert!(vault.verify_integrity().is_err());
    assert_eq!(vault.get("credential", "c2").unwrap().unwrap().as_slice(), b"another");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_record_moved_to_another_id_or_kind_is_detected() {
    let dir = temp_dir("swap");
    let (path, vault) = new_vault(&dir);
    vault.put("consent", "photo", b"no").unwrap();
    vault.put("consent", "newsletter", b"yes").unwrap();
    drop(vault);
    {
        // An attacker with the file copies the "yes" over the "no".
        let raw = Connection::open(&path).unwrap();
        raw.execute(
            "UPDATE record SET (nonce, ciphertext) = (SELECT nonce, ciphertext FROM record WHERE id = 'newsletter')
             WHERE id = 'photo'",
            [],
        )
        .unwrap();
    }
    // The copied nonce no longer matches the state root: refused on open, before any read.
    let error = Vault::open(&path, Unlock::Passphrase("correct horse battery")).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("swapped")), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_file_is_reported() {
    let dir = temp_dir("damaged");
    let path = dir.join("not-a-wallet.sqlite");
    std::fs::write(&path, b"this is not a database at all, just some text in a file......").unwrap();
    assert!(matches!(
        Vault::open(&path, Unlock::Passphrase("x")),
        Err(Error::NotAWallet { .. } | Error::Corrupted { .. })
    ));
    assert!(matches!(Vault::open(dir.join("missing"), Unlock::Passphrase("x")), Err(Error::NotAWallet { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_transaction_writes_nothing() {
    let vault = Vault::in_memory(Unlock::Key(&WalletKey::generate()), FAST).unwrap();
    vault.put("credential", "c1", b"kept").unwrap();
    let outcome: Result<(), Error> = vault.transaction(|tx| {
        tx.put("credential", "c2", b"new")?;
        tx.delete("credential", "c1")?;
        Err(Error::InvalidInput { reason: "the person pressed cancel".into() })
    });
    assert!(outcome.is_err());
    assert!(vault.get("credential", "c2").unwrap().is_none());
    assert_eq!(vault.get("credential", "c1").unwrap().unwrap().as_slice(), b"kept");
    assert!(matches!(vault.put("bad kind", "x", b""), Err(Error::InvalidInput { .. })));
    assert!(matches!(vault.put("credential", "", b""), Err(Error::InvalidInput { .. })));
}

#[test]
fn export_and_import_restore_everything() {
    let dir = temp_dir("export");
    let (_, vault) = new_vault(&dir);
    for n in 0..5 {
        vault.put("credential", &format!("c{n}"), format!("credential {n}").as_bytes()).unwrap();
    }
    vault.put("log", "0001", b"entry").unwrap();
    let export = vault.export("backup words", FAST).unwrap();
    assert!(!String::from_utf8_lossy(&export).contains("credential 3"));
    let error =
        Vault::import(dir.join("new.sqlite"), &export, "wrong words", Unlock::Passphrase("new"), FAST).unwrap_err();
    assert!(matches!(error, Error::WrongPassphrase), "{error}");
    assert!(!dir.join("new.sqlite").exists(), "a failed import creates nothing");
    let restored =
        Vault::import(dir.join("new.sqlite"), &export, "backup words", Unlock::Passphrase("new phone"), FAST).unwrap();
    assert_eq!(restored.list("credential").unwrap().len(), 5);
    assert_eq!(restored.get("credential", "c3").unwrap().unwrap().as_slice(), b"credential 3");
    assert_eq!(restored.get("log", "0001").unwrap().unwrap().as_slice(), b"entry");
    let mut tampered: serde_json::Value = serde_json::from_slice(&export).unwrap();
    let ciphertext = tampered["ciphertext"].as_str().unwrap().to_owned();
    let flipped = if ciphertext.ends_with('A') { "B" } else { "A" };
    tampered["ciphertext"] = serde_json::Value::String(format!("{}{flipped}", &ciphertext[..ciphertext.len() - 1]));
    let tampered = serde_json::to_vec(&tampered).unwrap();
    assert!(Vault::import(dir.join("t.sqlite"), &tampered, "backup words", Unlock::Passphrase("x"), FAST).is_err());
    assert!(matches!(
        Vault::import(dir.join("g.sqlite"), b"{}", "backup words", Unlock::Passphrase("x"), FAST),
        Err(Error::InvalidExport { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The writer's side of the crash test, run in a child process: writes credential + log
/// pairs and prints "ack <n>" after each acknowledged write, until killed.
fn write_until_killed(path: &str) -> ! {
    let vault = Vault::open(path, Unlock::Passphrase("correct horse battery")).unwrap();
    for n in 0.. {
        let payload = vec![b'x'; 4096 + n % 997];
        vault
            .transaction(|tx| {
                tx.put("credential", &format!("c{n}"), &payload)?;
                tx.put("log", &format!("l{n}"), format!("received c{n}").as_bytes())
            })
            .unwrap();
        println!("ack {n}");
    }
    unreachable!("the writer runs until it is killed")
}

#[test]
fn a_killed_writer_loses_nothing_acknowledged() {
    // In the child process this same test is the writer.
    if let Ok(path) = std::env::var("SCHOOLTAS_CRASH_WALLET") {
        write_until_killed(&path);
    }
    let dir = temp_dir("crash");
    let (path, vault) = new_vault(&dir);
    drop(vault);
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "a_killed_writer_loses_nothing_acknowledged", "--nocapture", "--test-threads=1"])
            .env("SCHOOLTAS_CRASH_WALLET", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut acknowledged = Vec::new();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        for line in stdout.lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("ack ") {
                acknowledged.push(n.parse::<usize>().unwrap());
                if acknowledged.len() == 40 + round * 17 {
                    child.kill().unwrap();
                    break;
                }
            }
        }
        child.wait().unwrap();
        let vault = Vault::open(&path, Unlock::Passphrase("correct horse battery")).unwrap();
        for n in &acknowledged {
            assert!(vault.get("credential", &format!("c{n}")).unwrap().is_some(), "round {round}: c{n} lost");
            assert!(vault.get("log", &format!("l{n}")).unwrap().is_some(), "round {round}: l{n} lost");
        }
        vault.verify_integrity().unwrap();
        // Credentials and log entries were written together: never one without the other.
        assert_eq!(vault.list("credential").unwrap().len(), vault.list("log").unwrap().len());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Deletion and rollback of sealed records (issue 12, item 5). The attacker edits the file with
// SQLite directly and has no key.

const PASS: &str = "correct horse battery";

fn raw(path: &std::path::Path) -> Connection {
    Connection::open(path).unwrap()
}

/// A record row as stored: (version, nonce, ciphertext).
fn row_of(raw: &Connection, kind: &str, id: &str) -> (i64, Vec<u8>, Vec<u8>) {
    raw.query_row("SELECT version, nonce, ciphertext FROM record WHERE kind = ?1 AND id = ?2", [kind, id], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
    .unwrap()
}

fn put_back(raw: &Connection, kind: &str, id: &str, row: &(i64, Vec<u8>, Vec<u8>)) {
    raw.execute(
        "INSERT OR REPLACE INTO record (kind, id, version, nonce, ciphertext) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![kind, id, row.0, row.1, row.2],
    )
    .unwrap();
}

fn meta_of(raw: &Connection, name: &str) -> Vec<u8> {
    raw.query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| row.get(0)).unwrap()
}

fn set_meta(raw: &Connection, name: &str, value: &[u8]) {
    raw.execute("UPDATE meta SET value = ?2 WHERE name = ?1", rusqlite::params![name, value]).unwrap();
}

fn open(path: &std::path::Path) -> Result<Vault, Error> {
    Vault::open(path, Unlock::Passphrase(PASS))
}

#[test]
fn restoring_an_old_consent_record_is_detected_on_open() {
    let dir = temp_dir("old-consent");
    let (path, vault) = new_vault(&dir);
    vault.put("consent", "photo", b"yes").unwrap();
    let old = row_of(&raw(&path), "consent", "photo");
    vault.put("consent", "photo", b"withdrawn").unwrap();
    drop(vault);
    // The old "yes" is a genuine sealed record of this wallet, put back in place.
    put_back(&raw(&path), "consent", "photo", &old);
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("older copy")), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_partial_rollback_with_the_old_state_row_is_detected() {
    let dir = temp_dir("old-state");
    let (path, vault) = new_vault(&dir);
    vault.put("consent", "photo", b"yes").unwrap();
    let (old_row, old_state) = {
        let raw = raw(&path);
        (row_of(&raw, "consent", "photo"), meta_of(&raw, "state"))
    };
    vault.put("credential", "c1", b"received later").unwrap();
    vault.put("consent", "photo", b"withdrawn").unwrap();
    drop(vault);
    let raw = raw(&path);
    put_back(&raw, "consent", "photo", &old_row);
    set_meta(&raw, "state", &old_state);
    drop(raw);
    let error = open(&path).unwrap_err();
    // c1 was written after the old state: its generation is unknown to it.
    assert!(matches!(&error, Error::Tampered { what } if what.contains("does not know")), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_deleted_record_is_detected_on_open() {
    let dir = temp_dir("deleted");
    let (path, vault) = new_vault(&dir);
    vault.put("credential", "c1", b"one").unwrap();
    vault.put("credential", "c2", b"two").unwrap();
    drop(vault);
    assert_eq!(raw(&path).execute("DELETE FROM record WHERE id = 'c2'", []).unwrap(), 1);
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what == "1 sealed records are missing"), "{error}");
    assert!(!error.to_string().contains("two"), "no record content in the message");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_added_record_is_detected_on_open() {
    let dir = temp_dir("added");
    let (path, vault) = new_vault(&dir);
    vault.put("credential", "c1", b"one").unwrap();
    drop(vault);
    let raw = raw(&path);
    let c1 = row_of(&raw, "credential", "c1");
    // A copy of a genuine record under a new id (it would also fail its AEAD check on read).
    put_back(&raw, "credential", "c9", &c1);
    drop(raw);
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("added outside")), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn swapped_ciphertexts_are_refused_on_open_or_on_read() {
    let dir = temp_dir("swap-ct");
    let (path, vault) = new_vault(&dir);
    vault.put("consent", "photo", b"no").unwrap();
    vault.put("consent", "newsletter", b"yes").unwrap();
    drop(vault);
    let (photo, newsletter) = {
        let raw = raw(&path);
        (row_of(&raw, "consent", "photo"), row_of(&raw, "consent", "newsletter"))
    };
    // Whole rows swapped (version, nonce, ciphertext): the state root no longer adds up.
    {
        let raw = raw(&path);
        put_back(&raw, "consent", "photo", &newsletter);
        put_back(&raw, "consent", "newsletter", &photo);
    }
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { .. }), "{error}");
    // Only the ciphertexts swapped (each row keeps its version and nonce): the root still adds
    // up, so the file opens, but each record fails its AEAD check, naming the record.
    {
        let raw = raw(&path);
        put_back(&raw, "consent", "photo", &(photo.0, photo.1.clone(), newsletter.2.clone()));
        put_back(&raw, "consent", "newsletter", &(newsletter.0, newsletter.1.clone(), photo.2.clone()));
    }
    let vault = open(&path).unwrap();
    let error = vault.get("consent", "photo").unwrap_err();
    assert!(matches!(&error, Error::Corrupted { what } if what.contains("consent record photo")), "{error}");
    assert!(matches!(vault.list("consent"), Err(Error::Corrupted { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_record_claiming_a_future_generation_is_refused() {
    let dir = temp_dir("future");
    let (path, vault) = new_vault(&dir);
    vault.put("consent", "photo", b"no").unwrap();
    drop(vault);
    raw(&path).execute("UPDATE record SET version = version + 7", []).unwrap();
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("does not know")), "{error}");
    raw(&path).execute("UPDATE record SET version = 'x'", []).unwrap();
    assert!(matches!(open(&path), Err(Error::Tampered { .. })));
    raw(&path).execute("DELETE FROM meta WHERE name = 'state'", []).unwrap();
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("state record is missing")), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_record_deleted_under_an_open_handle_is_detected_on_the_next_read() {
    let dir = temp_dir("live-delete");
    let (path, vault) = new_vault(&dir);
    vault.put("credential", "c1", b"one").unwrap();
    vault.put("credential", "c2", b"two").unwrap();
    assert_eq!(vault.list("credential").unwrap().len(), 2);
    // Another process deletes a row while the wallet is open.
    raw(&path).execute("DELETE FROM record WHERE id = 'c1'", []).unwrap();
    let error = vault.get("credential", "c2").unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("missing")), "{error}");
    // Nothing is written on top of the damage either.
    assert!(matches!(vault.put("credential", "c3", b"three"), Err(Error::Tampered { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every row of both tables, to put a whole older state back through SQLite.
type Snapshot = (Vec<(String, Vec<u8>)>, Vec<(String, String, i64, Vec<u8>, Vec<u8>)>);

fn snapshot(raw: &Connection) -> Snapshot {
    let meta = raw
        .prepare("SELECT name, value FROM meta")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let records = raw
        .prepare("SELECT kind, id, version, nonce, ciphertext FROM record")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (meta, records)
}

fn restore(raw: &mut Connection, (meta, records): &Snapshot) {
    let tx = raw.transaction().unwrap();
    tx.execute("DELETE FROM meta", []).unwrap();
    tx.execute("DELETE FROM record", []).unwrap();
    for (name, value) in meta {
        tx.execute("INSERT INTO meta VALUES (?1, ?2)", rusqlite::params![name, value]).unwrap();
    }
    for (kind, id, version, nonce, ciphertext) in records {
        tx.execute("INSERT INTO record VALUES (?1, ?2, ?3, ?4, ?5)", rusqlite::params![kind, id, version, nonce, ciphertext])
            .unwrap();
    }
    tx.commit().unwrap();
}

#[test]
fn a_whole_state_rolled_back_under_an_open_handle_is_detected() {
    let dir = temp_dir("live-rollback");
    let (path, vault) = new_vault(&dir);
    vault.put("consent", "photo", b"yes").unwrap();
    let old = snapshot(&raw(&path));
    vault.put("consent", "photo", b"withdrawn").unwrap();
    let generation = vault.generation();
    // A consistent older state, put back while the wallet is open: this handle knows better.
    restore(&mut raw(&path), &old);
    let error = vault.get("consent", "photo").unwrap_err();
    assert!(
        matches!(error, Error::RolledBack { file_generation, known_generation }
            if file_generation + 1 == generation && known_generation == generation),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_whole_file_rollback_is_refused_with_an_anchor_and_only_with_one() {
    let dir = temp_dir("file-rollback");
    let path = dir.join("wallet.sqlite");
    let anchor = std::sync::Arc::new(schooltas_wallet::vault::MemoryAnchor::new());
    let vault = Vault::create_anchored(&path, Unlock::Passphrase(PASS), FAST, Box::new(anchor.clone())).unwrap();
    vault.put("consent", "photo", b"yes").unwrap();
    assert_eq!(anchor.record().unwrap().generation, 1);
    drop(vault);
    let old_copy = std::fs::read(&path).unwrap();
    assert!(!dir.join("wallet.sqlite-wal").exists(), "closing checkpointed the WAL");

    let vault = Vault::open_anchored(&path, Unlock::Passphrase(PASS), Box::new(anchor.clone())).unwrap();
    vault.put("consent", "photo", b"withdrawn").unwrap();
    assert_eq!(anchor.record().unwrap().generation, 2);
    drop(vault);

    std::fs::write(&path, &old_copy).unwrap();
    // From the file alone the old copy is a consistent wallet (the documented limit)…
    assert_eq!(open(&path).unwrap().get("consent", "photo").unwrap().unwrap().as_slice(), b"yes");
    // …but the anchor outside the file knows it is older.
    let error = Vault::open_anchored(&path, Unlock::Passphrase(PASS), Box::new(anchor.clone())).unwrap_err();
    assert!(
        matches!(error, Error::RolledBack { file_generation: 1, known_generation: 2 }),
        "{error}"
    );
    assert!(error.to_string().contains("older copy"), "{error}");
    // A different copy at the same generation (a fork) is refused too.
    let forked = Vault::open(&path, Unlock::Passphrase(PASS)).unwrap();
    forked.put("consent", "photo", b"forged later").unwrap();
    drop(forked);
    let error = Vault::open_anchored(&path, Unlock::Passphrase(PASS), Box::new(anchor.clone())).unwrap_err();
    assert!(matches!(error, Error::RolledBack { file_generation: 2, known_generation: 2 }), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_anchor_behind_the_file_is_caught_up() {
    let dir = temp_dir("anchor-behind");
    let path = dir.join("wallet.sqlite");
    let anchor = std::sync::Arc::new(schooltas_wallet::vault::MemoryAnchor::new());
    let vault = Vault::create_anchored(&path, Unlock::Key(&WalletKey::from_bytes([7; 32])), FAST, Box::new(anchor.clone()))
        .unwrap();
    drop(vault);
    // Written without the anchor (as after a crash between the commit and the anchor update).
    Vault::open(&path, Unlock::Key(&WalletKey::from_bytes([7; 32]))).unwrap().put("k", "1", b"x").unwrap();
    assert_eq!(anchor.record().unwrap().generation, 0);
    Vault::open_anchored(&path, Unlock::Key(&WalletKey::from_bytes([7; 32])), Box::new(anchor.clone())).unwrap();
    assert_eq!(anchor.record().unwrap().generation, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
