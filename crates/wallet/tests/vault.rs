//! The encrypted vault: wrong keys refused, tampering detected, crashes lose nothing
//! acknowledged, exports restore everything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rusqlite::Connection;
use schooltas_wallet::Error;
use schooltas_wallet::vault::{APPLICATION_ID, KdfParams, Unlock, Vault, WalletKey};

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
    let error = Vault::create(&platform, Unlock::Key(&key), FAST).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidInput { reason } if reason.contains("already exists")),
        "never overwrites a wallet: {error}"
    );
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
            raw.query_row("SELECT ciphertext FROM sealed WHERE id = 'c1'", [], |row| row.get(0)).unwrap();
        ciphertext[3] ^= 0x01;
        raw.execute("UPDATE sealed SET ciphertext = ?1 WHERE id = 'c1'", [ciphertext]).unwrap();
    }
    let vault = Vault::open(&path, Unlock::Passphrase("correct horse battery")).unwrap();
    let error = vault.get("credential", "c1").unwrap_err();
    assert!(matches!(&error, Error::Corrupted { what } if what.contains("credential record c1")), "{error}");
    let error = vault.verify_integrity().unwrap_err();
    assert!(matches!(&error, Error::Corrupted { what } if what.contains("credential record c1")), "{error}");
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
            "UPDATE record SET nonce = (SELECT nonce FROM record WHERE id = 'newsletter') WHERE id = 'photo'",
            [],
        )
        .unwrap();
        raw.execute(
            "UPDATE sealed SET ciphertext = (SELECT ciphertext FROM sealed WHERE id = 'newsletter') WHERE id = 'photo'",
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
        Err(Error::NotAWallet { reason }) if reason == "the file is not an SQLite database"
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
    assert!(matches!(&outcome, Err(Error::InvalidInput { reason }) if reason == "the person pressed cancel"));
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
    // The AEAD tag cannot tell a damaged export from a wrong passphrase: both are refused as one.
    let error =
        Vault::import(dir.join("t.sqlite"), &tampered, "backup words", Unlock::Passphrase("x"), FAST).unwrap_err();
    assert!(matches!(error, Error::WrongPassphrase), "{error}");
    assert!(!dir.join("t.sqlite").exists(), "a failed import creates nothing");
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
    raw.query_row(
        "SELECT r.version, r.nonce, s.ciphertext FROM record r JOIN sealed s USING (kind, id)
         WHERE kind = ?1 AND id = ?2",
        [kind, id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )
    .unwrap()
}

fn put_back(raw: &Connection, kind: &str, id: &str, row: &(i64, Vec<u8>, Vec<u8>)) {
    raw.execute(
        "INSERT OR REPLACE INTO record (kind, id, version, nonce) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![kind, id, row.0, row.1],
    )
    .unwrap();
    raw.execute(
        "INSERT OR REPLACE INTO sealed (kind, id, ciphertext) VALUES (?1, ?2, ?3)",
        rusqlite::params![kind, id, row.2],
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
    raw(&path).execute("UPDATE meta SET value = 'not a blob' WHERE name = 'state'", []).unwrap();
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("wrong type")), "{error}");
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
        .prepare("SELECT kind, id, r.version, r.nonce, s.ciphertext FROM record r JOIN sealed s USING (kind, id)")
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
    tx.execute("DELETE FROM sealed", []).unwrap();
    for (name, value) in meta {
        tx.execute("INSERT INTO meta VALUES (?1, ?2)", rusqlite::params![name, value]).unwrap();
    }
    for (kind, id, version, nonce, ciphertext) in records {
        tx.execute("INSERT INTO record VALUES (?1, ?2, ?3, ?4)", rusqlite::params![kind, id, version, nonce]).unwrap();
        tx.execute("INSERT INTO sealed VALUES (?1, ?2, ?3)", rusqlite::params![kind, id, ciphertext]).unwrap();
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
    assert!(matches!(error, Error::RolledBack { file_generation: 1, known_generation: 2 }), "{error}");
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
    let vault =
        Vault::create_anchored(&path, Unlock::Key(&WalletKey::from_bytes([7; 32])), FAST, Box::new(anchor.clone()))
            .unwrap();
    drop(vault);
    // Written without the anchor (as after a crash between the commit and the anchor update).
    Vault::open(&path, Unlock::Key(&WalletKey::from_bytes([7; 32]))).unwrap().put("k", "1", b"x").unwrap();
    assert_eq!(anchor.record().unwrap().generation, 0);
    Vault::open_anchored(&path, Unlock::Key(&WalletKey::from_bytes([7; 32])), Box::new(anchor.clone())).unwrap();
    assert_eq!(anchor.record().unwrap().generation, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Opening never changes a file that is not known to be this wallet's (issue 12, item 6).

/// The bytes of `path` and of its `-wal`, `-shm` and `-journal` side files (None: absent).
fn files(path: &std::path::Path) -> Vec<(String, Option<Vec<u8>>)> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            (suffix.to_string(), std::fs::read(side).ok())
        })
        .collect()
}

/// The main file and its `-wal`/`-journal`, ignoring a `-shm` (SQLite's shared-memory index,
/// never part of the data).
fn data_files(path: &std::path::Path) -> Vec<(String, Option<Vec<u8>>)> {
    files(path).into_iter().filter(|(suffix, _)| suffix != "-shm").collect()
}

#[test]
fn an_empty_file_is_not_a_wallet_and_stays_empty() {
    let dir = temp_dir("empty");
    let path = dir.join("empty.sqlite");
    std::fs::write(&path, b"").unwrap();
    let before = files(&path);
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::NotAWallet { reason } if reason.contains("is empty")), "{error}");
    assert_eq!(files(&path), before, "still empty, no side files");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    // Creating is the separate call, and it refuses an existing file, even an empty one.
    let error = Vault::create(&path, Unlock::Passphrase(PASS), FAST).unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { reason } if reason.contains("already exists")), "{error}");
    assert_eq!(files(&path), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn another_applications_database_is_left_exactly_as_it_was() {
    let dir = temp_dir("foreign");
    let path = dir.join("notes.sqlite");
    {
        let other = Connection::open(&path).unwrap();
        other.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('shopping list');").unwrap();
        let mode: String = other.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "delete");
    }
    let before = files(&path);
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::NotAWallet { reason } if reason.contains("application_id")), "{error}");
    assert_eq!(files(&path), before, "not a byte changed, no side file created");

    // Even one that carries this app's application_id is only read (read-only connection).
    Connection::open(&path).unwrap().pragma_update(None, "application_id", APPLICATION_ID).unwrap();
    let before = files(&path);
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::NotAWallet { reason } if reason == "no wallet tables"), "{error}");
    assert_eq!(data_files(&path), before.into_iter().filter(|(s, _)| s != "-shm").collect::<Vec<_>>());
    let mode: String = Connection::open(&path).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "the journal mode was not switched to WAL");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_wallet_with_its_wal_is_left_exactly_as_it_was() {
    let dir = temp_dir("damaged-wal");
    let (path, vault) = new_vault(&dir);
    // Enough records that most pages are only in the main file after the checkpoint on close…
    vault
        .transaction(|tx| {
            for n in 0..200 {
                tx.put("credential", &format!("c{n:03}"), &[b'x'; 300])?;
            }
            Ok(())
        })
        .unwrap();
    drop(vault);
    // …then one more write, left in the `-wal` (the handle stays open while the files are copied).
    let vault = open(&path).unwrap();
    vault.put("credential", "z", b"in the wal only").unwrap();
    let copy = dir.join("copy.sqlite");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::copy(dir.join("wallet.sqlite-wal"), dir.join("copy.sqlite-wal")).unwrap();
    drop(vault);
    // Damage a page in the middle of the main file (one the WAL does not hold).
    let mut bytes = std::fs::read(&copy).unwrap();
    let page = 4096;
    let middle = (bytes.len() / page / 2) * page;
    bytes[middle..middle + page].fill(0x5a);
    std::fs::write(&copy, &bytes).unwrap();
    let before = data_files(&copy);
    assert!(before[1].1.as_ref().is_some_and(|wal| !wal.is_empty()), "the copy has its -wal");

    let error = open(&copy).unwrap_err();
    assert!(matches!(&error, Error::Corrupted { .. }), "{error}");
    assert!(!error.to_string().contains("nothing was written"), "{error}");
    assert_eq!(data_files(&copy), before, "neither the file nor its -wal was replayed, checkpointed or rewritten");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn key_derivation_parameters_from_the_file_are_bounded_before_use() {
    let dir = temp_dir("kdf-bounds");
    let (path, vault) = new_vault(&dir);
    drop(vault);
    let original = meta_of(&raw(&path), "kdf");
    let record: serde_json::Value = serde_json::from_slice(&original).unwrap();
    let cases = [
        ("iterations", u64::from(u32::MAX), "iterations"),
        ("memory_kib", 4 * 1024 * 1024, "memory_kib"),
        ("memory_kib", u64::from(u32::MAX), "memory_kib"),
        ("parallelism", 0, "parallelism"),
        ("parallelism", 1 << 20, "parallelism"),
    ];
    for (field, value, expected) in cases {
        let mut crafted = record.clone();
        crafted["params"][field] = value.into();
        set_meta(&raw(&path), "kdf", &serde_json::to_vec(&crafted).unwrap());
        let started = std::time::Instant::now();
        let error = open(&path).unwrap_err();
        assert!(
            matches!(&error, Error::KdfOutOfBounds { parameter, value: found, .. }
                if *parameter == expected && *found == value),
            "{field} = {value}: {error}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "refused before deriving");
        assert!(error.to_string().contains("outside the accepted bound"), "{error}");
    }
    // Each within its bound but together too much work: 1 GiB × 16 passes.
    let mut crafted = record.clone();
    crafted["params"]["memory_kib"] = KdfParams::MAX_MEMORY_KIB.into();
    crafted["params"]["iterations"] = KdfParams::MAX_ITERATIONS.into();
    set_meta(&raw(&path), "kdf", &serde_json::to_vec(&crafted).unwrap());
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::KdfOutOfBounds { parameter: "memory_kib × iterations", .. }), "{error}");
    // A salt of a megabyte is refused too.
    let mut crafted = record.clone();
    crafted["salt"] = "A".repeat(1 << 20).into();
    set_meta(&raw(&path), "kdf", &serde_json::to_vec(&crafted).unwrap());
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::NotAWallet { reason } if reason.contains("implausibly large")), "{error}");
    let mut crafted = record.clone();
    crafted["salt"] = "AAAA".into();
    set_meta(&raw(&path), "kdf", &serde_json::to_vec(&crafted).unwrap());
    assert!(matches!(open(&path), Err(Error::KdfOutOfBounds { parameter: "salt length", value: 3, .. })));
    // Put back, it opens again.
    set_meta(&raw(&path), "kdf", &original);
    open(&path).unwrap();
    // The same bounds hold for creating and for an export's parameters.
    let huge = KdfParams { memory_kib: u32::MAX, iterations: 1, parallelism: 1 };
    assert!(matches!(
        Vault::create(dir.join("new.sqlite"), Unlock::Passphrase(PASS), huge),
        Err(Error::KdfOutOfBounds { parameter: "memory_kib", .. })
    ));
    assert!(!dir.join("new.sqlite").exists());
    let export = open(&path).unwrap().export("backup", FAST).unwrap();
    let mut crafted: serde_json::Value = serde_json::from_slice(&export).unwrap();
    crafted["params"]["iterations"] = u32::MAX.into();
    let crafted = serde_json::to_vec(&crafted).unwrap();
    let error =
        Vault::import(dir.join("import.sqlite"), &crafted, "backup", Unlock::Passphrase(PASS), FAST).unwrap_err();
    assert!(matches!(&error, Error::KdfOutOfBounds { parameter: "iterations", .. }), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The other process of the busy test: holds the wallet's write lock until its stdin closes.
fn hold_the_write_lock(path: &str) -> ! {
    let raw = Connection::open(path).unwrap();
    raw.execute_batch("BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE name = 'format';").unwrap();
    println!("locked");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    std::process::exit(0)
}

#[test]
fn readers_do_not_wait_for_a_writer_and_a_blocked_writer_is_told_busy() {
    if let Ok(path) = std::env::var("SCHOOLTAS_HOLD_LOCK") {
        hold_the_write_lock(&path);
    }
    let dir = temp_dir("busy");
    let (path, vault) = new_vault(&dir);
    vault.put("credential", "c1", b"one").unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "readers_do_not_wait_for_a_writer_and_a_blocked_writer_is_told_busy", "--nocapture"])
        .env("SCHOOLTAS_HOLD_LOCK", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("locked") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the other process did not take the lock");
    }
    // Another process holds the write lock. Opening and reading still work at once…
    let started = std::time::Instant::now();
    let second = open(&path).unwrap();
    assert_eq!(second.get("credential", "c1").unwrap().unwrap().as_slice(), b"one");
    assert_eq!(vault.list("credential").unwrap().len(), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "readers did not wait for the 5 s busy timeout");
    // …and a write gives up after the busy timeout with a typed error that says so.
    vault.set_busy_timeout(std::time::Duration::from_millis(200)).unwrap();
    let error = vault.put("credential", "c2", b"two").unwrap_err();
    assert!(matches!(error, Error::Busy), "{error}");
    assert!(error.to_string().contains("another process is writing"), "{error}");
    drop(child.stdin.take());
    child.wait().unwrap();
    // Once the other process is gone, the write goes through.
    vault.put("credential", "c2", b"two").unwrap();
    assert_eq!(second.list("credential").unwrap().len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_deleted_or_added_ciphertext_is_refused() {
    let dir = temp_dir("ciphertext-rows");
    let (path, vault) = new_vault(&dir);
    vault.put("credential", "c1", b"one").unwrap();
    vault.put("credential", "c2", b"two").unwrap();
    drop(vault);
    // The ciphertext table is not what the state root covers, but a record without its
    // ciphertext is refused on read…
    raw(&path).execute("DELETE FROM sealed WHERE id = 'c1'", []).unwrap();
    let vault = open(&path).unwrap();
    let error = vault.get("credential", "c1").unwrap_err();
    assert!(
        matches!(&error, Error::Tampered { what } if what.contains("ciphertext of credential record c1")),
        "{error}"
    );
    assert!(matches!(vault.list("credential"), Err(Error::Tampered { .. })));
    assert!(matches!(vault.verify_integrity(), Err(Error::Tampered { .. })));
    drop(vault);
    // …and a ciphertext without a record is never read, and reported by the full check.
    let raw = raw(&path);
    let c2 = row_of(&raw, "credential", "c2");
    raw.execute("INSERT INTO sealed VALUES ('credential', 'c1', ?1)", [&c2.2]).unwrap();
    raw.execute("INSERT INTO sealed VALUES ('credential', 'c9', ?1)", [&c2.2]).unwrap();
    drop(raw);
    let vault = open(&path).unwrap();
    assert!(vault.get("credential", "c9").unwrap().is_none());
    let error = vault.verify_integrity().unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("1 ciphertexts were added")), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_trigger_or_view_planted_in_the_file_is_refused() {
    let dir = temp_dir("schema");
    let (path, vault) = new_vault(&dir);
    vault.put("consent", "photo", b"no").unwrap();
    drop(vault);
    // A trigger would run inside the wallet's own next write (here: undo every withdrawal).
    raw(&path)
        .execute_batch("CREATE TRIGGER keep AFTER DELETE ON record BEGIN INSERT INTO record VALUES (OLD.kind, OLD.id, OLD.version, OLD.nonce); END;")
        .unwrap();
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("unexpected trigger")), "{error}");
    raw(&path).execute_batch("DROP TRIGGER keep; CREATE VIEW v AS SELECT * FROM record;").unwrap();
    let error = open(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("unexpected view")), "{error}");
    raw(&path).execute_batch("DROP VIEW v; CREATE INDEX i ON sealed (id);").unwrap();
    assert!(matches!(open(&path), Err(Error::Tampered { .. })));
    raw(&path).execute_batch("DROP INDEX i;").unwrap();
    assert_eq!(open(&path).unwrap().get("consent", "photo").unwrap().unwrap().as_slice(), b"no");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An anchor whose storage fails after the first record (a keystore that is locked).
struct FailingAnchor(std::sync::Mutex<u32>);

impl schooltas_wallet::vault::StateAnchor for FailingAnchor {
    fn load(&self) -> Result<Option<schooltas_wallet::vault::AnchorRecord>, schooltas_wallet::vault::AnchorError> {
        Ok(None)
    }
    fn store(&self, _: &schooltas_wallet::vault::AnchorRecord) -> Result<(), schooltas_wallet::vault::AnchorError> {
        let mut calls = self.0.lock().unwrap();
        *calls += 1;
        if *calls > 1 { Err("the keystore is locked".into()) } else { Ok(()) }
    }
}

#[test]
fn a_failing_anchor_is_reported_and_the_write_is_kept() {
    let dir = temp_dir("anchor-fails");
    let path = dir.join("wallet.sqlite");
    let vault =
        Vault::create_anchored(&path, Unlock::Passphrase(PASS), FAST, Box::new(FailingAnchor(Default::default())))
            .unwrap();
    let error = vault.put("consent", "photo", b"withdrawn").unwrap_err();
    assert!(matches!(&error, Error::Anchor { reason } if reason == "the keystore is locked"), "{error}");
    assert!(error.to_string().contains("the change was saved"), "{error}");
    assert_eq!(vault.get("consent", "photo").unwrap().unwrap().as_slice(), b"withdrawn");
    drop(vault);
    assert_eq!(open(&path).unwrap().get("consent", "photo").unwrap().unwrap().as_slice(), b"withdrawn");
    std::fs::remove_dir_all(&dir).unwrap();
}
