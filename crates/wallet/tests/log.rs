//! The hash-chained log: appends chain, and a removed, edited or cut-off entry is detected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rusqlite::Connection;
use schooltas_wallet::Error;
use schooltas_wallet::log::{self, Actor, LogEntry, LogEvent};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};
use sha2::Digest;

fn events() -> Vec<LogEvent> {
    vec![
        LogEvent::CredentialReceived { issuer: "did:web:delinde.example".into(), vct: "enrolment".into(), copies: 4 },
        LogEvent::RequestReceived {
            request_id: "r1".into(),
            verifier: "decentralized_identifier:did:web:foto.example".into(),
            purpose: "class photo in the newsletter".into(),
            legal_basis: "consent".into(),
            claims: vec!["group".into(), "age_over_12".into()],
        },
        LogEvent::Decision { request_id: "r1".into(), by: Actor::Child, approved: true, claims: vec!["group".into()] },
        LogEvent::Decision { request_id: "r1".into(), by: Actor::Parent, approved: true, claims: vec!["group".into()] },
        LogEvent::Disclosure {
            request_id: "r1".into(),
            verifier: "decentralized_identifier:did:web:foto.example".into(),
            purpose: "class photo in the newsletter".into(),
            vct: "enrolment".into(),
            claims: vec!["group".into()],
        },
        LogEvent::Withdrawal {
            consent_id: "k1".into(),
            verifier: "did:web:delinde.example".into(),
            purpose: "newsletter".into(),
        },
    ]
}

fn filled(vault: &Vault) -> Vec<LogEntry> {
    events()
        .into_iter()
        .enumerate()
        .map(|(n, event)| vault.transaction(|tx| log::append(tx, 1_800_000_000 + n as i64, event)).unwrap())
        .collect()
}

fn vault() -> Vault {
    Vault::in_memory(Unlock::Key(&WalletKey::generate()), KdfParams::INSECURE_FOR_TESTS).unwrap()
}

#[test]
fn entries_chain_and_verify() {
    let vault = vault();
    let appended = filled(&vault);
    assert_eq!(appended[0].prev_hash, "0".repeat(64));
    for pair in appended.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
        assert_eq!(pair[1].seq, pair[0].seq + 1);
    }
    assert_eq!(log::verify_chain(&vault).unwrap(), appended);
    let json: serde_json::Value = serde_json::from_str(&log::export_json(&vault).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 6);
    assert_eq!(json[4]["event"]["type"], "disclosure");
    assert_eq!(json[4]["event"]["claims"], serde_json::json!(["group"]));
}

#[test]
fn an_entry_rolled_back_with_its_action_is_not_logged() {
    let vault = vault();
    filled(&vault);
    let outcome: Result<(), Error> = vault.transaction(|tx| {
        log::append(tx, 1, LogEvent::Withdrawal { consent_id: "x".into(), verifier: "v".into(), purpose: "p".into() })?;
        Err(Error::InvalidInput { reason: "the withdrawal could not be sent".into() })
    });
    assert!(matches!(&outcome, Err(Error::InvalidInput { reason }) if reason == "the withdrawal could not be sent"));
    assert_eq!(log::verify_chain(&vault).unwrap().len(), 6);
}

#[test]
fn a_removed_middle_entry_is_detected() {
    let vault = vault();
    filled(&vault);
    assert!(vault.delete("log", &format!("{:020}", 3)).unwrap());
    let error = log::verify_chain(&vault).unwrap_err();
    assert!(matches!(&error, Error::Corrupted { what } if what.contains("entry 3 is missing")), "{error}");
}

#[test]
fn a_cut_off_tail_is_detected() {
    let vault = vault();
    filled(&vault);
    assert!(vault.delete("log", &format!("{:020}", 6)).unwrap());
    let error = log::verify_chain(&vault).unwrap_err();
    assert!(
        matches!(&error, Error::Corrupted { what } if what == "the log ends at entry 5 but its head says 6: entries were removed"),
        "{error}"
    );
}

#[test]
fn an_edited_entry_is_detected_even_when_resealed() {
    let vault = vault();
    let entries = filled(&vault);
    // Someone with the wallet key rewrites "the parent approved" into "the parent refused".
    let mut edited = entries[3].clone();
    edited.event = LogEvent::Decision { request_id: "r1".into(), by: Actor::Parent, approved: false, claims: vec![] };
    vault.put("log", &format!("{:020}", 4), &serde_json::to_vec(&edited).unwrap()).unwrap();
    let error = log::verify_chain(&vault).unwrap_err();
    assert!(matches!(&error, Error::Corrupted { what } if what == "log entry 4 was altered"), "{error}");
    // A made-up hash is no better…
    edited.hash = "ab".repeat(32);
    vault.put("log", &format!("{:020}", 4), &serde_json::to_vec(&edited).unwrap()).unwrap();
    let error = log::verify_chain(&vault).unwrap_err();
    assert!(matches!(&error, Error::Corrupted { what } if what == "log entry 4 was altered"), "{error}");
    // …and recomputing it (SHA-256 of the previous hash, a newline and the JSON of
    // `(seq, at, event)`) breaks the link to entry 5 instead.
    let body = serde_json::to_vec(&(edited.seq, edited.at, &edited.event)).unwrap();
    let digest = sha2::Sha256::new().chain_update(edited.prev_hash.as_bytes()).chain_update(b"\n").chain_update(&body);
    edited.hash = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
    vault.put("log", &format!("{:020}", 4), &serde_json::to_vec(&edited).unwrap()).unwrap();
    let error = log::verify_chain(&vault).unwrap_err();
    assert!(
        matches!(&error, Error::Corrupted { what } if what == "log entry 5 does not follow its predecessor"),
        "{error}"
    );
}

#[test]
fn a_flipped_byte_on_disk_is_detected() {
    let dir = std::env::temp_dir().join(format!("schooltas-log-flip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wallet.sqlite");
    let key = WalletKey::generate();
    let vault = Vault::create(&path, Unlock::Key(&key), KdfParams::INSECURE_FOR_TESTS).unwrap();
    filled(&vault);
    drop(vault);
    let raw = Connection::open(&path).unwrap();
    let mut ciphertext: Vec<u8> = raw
        .query_row("SELECT ciphertext FROM sealed WHERE kind = 'log' AND id = ?1", [format!("{:020}", 2)], |r| r.get(0))
        .unwrap();
    ciphertext[10] ^= 0x80;
    raw.execute("UPDATE sealed SET ciphertext = ?1 WHERE kind = 'log' AND id = ?2", (ciphertext, format!("{:020}", 2)))
        .unwrap();
    drop(raw);
    let vault = Vault::open(&path, Unlock::Key(&key)).unwrap();
    assert!(matches!(log::verify_chain(&vault), Err(Error::Corrupted { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_newest_entry_cut_with_the_old_head_put_back_is_detected_on_open() {
    let dir = std::env::temp_dir().join(format!("schooltas-log-cut-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wallet.sqlite");
    let key = WalletKey::generate();
    let vault = Vault::create(&path, Unlock::Key(&key), KdfParams::INSECURE_FOR_TESTS).unwrap();
    let mut events = events();
    let last = events.pop().unwrap();
    for (n, event) in events.into_iter().enumerate() {
        vault.transaction(|tx| log::append(tx, 1_800_000_000 + n as i64, event)).unwrap();
    }
    // The sealed head after entry 5, as an attacker copies it from the file.
    let old_head: (i64, Vec<u8>, Vec<u8>) = Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT version, nonce, ciphertext FROM record JOIN sealed USING (kind, id) WHERE kind = 'log-head'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    // Entry 6: the withdrawal the attacker wants to erase.
    vault.transaction(|tx| log::append(tx, 1_800_000_100, last)).unwrap();
    drop(vault);
    {
        let raw = Connection::open(&path).unwrap();
        raw.execute("DELETE FROM record WHERE kind = 'log' AND id = ?1", [format!("{:020}", 6)]).unwrap();
        raw.execute("DELETE FROM sealed WHERE kind = 'log' AND id = ?1", [format!("{:020}", 6)]).unwrap();
        raw.execute(
            "UPDATE record SET version = ?1, nonce = ?2 WHERE kind = 'log-head'",
            rusqlite::params![old_head.0, old_head.1],
        )
        .unwrap();
        raw.execute("UPDATE sealed SET ciphertext = ?1 WHERE kind = 'log-head'", [old_head.2]).unwrap();
    }
    // The chain alone would now verify (5 entries ending in the sealed head of entry 5); the
    // state root does not.
    let error = Vault::open(&path, Unlock::Key(&key)).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what == "1 sealed records are missing"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}
