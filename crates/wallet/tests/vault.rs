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
