//! The wallet file under an attacker who has it but not the key, and under a second process:
//! a deleted credential, a copy's "used" flag put back, and a long-lived handle that must see
//! what another handle wrote.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use rusqlite::Connection;
use schooltas_school::date::CalendarDate;
use schooltas_wallet::log::LogEvent;
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};
use schooltas_wallet::{Decision, Error, Outcome, Role, Wallet};
use serde_json::json;

const KEY: [u8; 32] = [42; 32];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("schooltas-wallet-file-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn open_vault(path: &Path) -> Result<Vault, Error> {
    Vault::open(path, Unlock::Key(&WalletKey::from_bytes(KEY)))
}

/// A 17-year-old's wallet in a file (answers alone), with nothing in it yet.
fn new_child(path: &Path) -> Wallet {
    let vault = Vault::create(path, Unlock::Key(&WalletKey::from_bytes(KEY)), KdfParams::INSECURE_FOR_TESTS).unwrap();
    Wallet::create(vault, Role::Child { birth_date: CalendarDate::parse("2010-01-01").unwrap() }, NOW).unwrap()
}

fn enrol(school: &School, child: &Wallet, subject: &str) {
    school.enrol(
        subject,
        "pupil_enrolment",
        json!({"sub": child.owner().did().as_str(), "school_name": "Basisschool De Linde", "school_brin": "12AB",
               "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
               "family_name": "de Vries", "birth_date": "2010-01-01", "age_over_12": true, "age_over_16": true}),
    );
}

/// Every credential row as stored: (id, version, nonce, ciphertext).
fn credential_rows(path: &Path) -> Vec<(String, i64, Vec<u8>, Vec<u8>)> {
    rows_of_kind(path, "credential")
}

fn rows_of_kind(path: &Path, kind: &str) -> Vec<(String, i64, Vec<u8>, Vec<u8>)> {
    let raw = Connection::open(path).unwrap();
    let mut statement = raw
        .prepare(
            "SELECT id, version, nonce, ciphertext FROM record JOIN sealed USING (kind, id)
             WHERE kind = ?1 ORDER BY id",
        )
        .unwrap();
    statement
        .query_map([kind], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_deleted_credential_row_is_detected_although_the_log_lists_it() {
    let dir = temp_dir("deleted-credential");
    let path = dir.join("child.sqlite");
    let school = School::new();
    let child = new_child(&path);
    enrol(&school, &child, "pupil-1");
    school.issue_to(&child, "pupil-1", &["pupil_enrolment"]);
    assert!(child.log().unwrap().iter().any(|e| matches!(e.event, LogEvent::CredentialReceived { copies: 3, .. })));
    drop(child);
    let rows = credential_rows(&path);
    assert_eq!(rows.len(), 3);
    let raw = Connection::open(&path).unwrap();
    raw.execute("DELETE FROM record WHERE kind = 'credential' AND id = ?1", [&rows[1].0]).unwrap();
    raw.execute("DELETE FROM sealed WHERE kind = 'credential' AND id = ?1", [&rows[1].0]).unwrap();
    drop(raw);
    let error = open_vault(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what == "1 sealed records are missing"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_copys_old_unused_row_put_back_is_detected() {
    let dir = temp_dir("used-flag");
    let path = dir.join("child.sqlite");
    let school = School::new();
    let verifier = Verifier::new(21);
    let trust = trust_list(&verifier);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let child = new_child(&path);
    enrol(&school, &child, "pupil-2");
    school.issue_to(&child, "pupil-2", &["pupil_enrolment"]);
    let before = credential_rows(&path);

    let request = newsletter_request(&verifier, &["group", "given_name"]);
    let prompt = child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let Outcome::Send(_) = child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a 17-year-old answers alone")
    };
    assert_eq!(child.credentials().unwrap()[0].unused_copies, 2);
    drop(child);

    // The copy that was just marked used: put its earlier (unused) row back, so it would be
    // presented again and link the two verifiers.
    let after = credential_rows(&path);
    let used = after.iter().find(|row| !before.contains(row)).unwrap();
    let old = before.iter().find(|row| row.0 == used.0).unwrap();
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE record SET version = ?2, nonce = ?3 WHERE kind = 'credential' AND id = ?1",
        rusqlite::params![old.0, old.1, old.2],
    )
    .unwrap();
    raw.execute(
        "UPDATE sealed SET ciphertext = ?2 WHERE kind = 'credential' AND id = ?1",
        rusqlite::params![old.0, old.3],
    )
    .unwrap();
    drop(raw);
    let error = open_vault(&path).unwrap_err();
    assert!(matches!(&error, Error::Tampered { what } if what.contains("older copy")), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The sealed credential index says which copies are unused (and which child links are spent).
/// Someone holding the file who puts back an index record from before an answer — the batch
/// record, the link record, or both — would have the wallet offer the spent copy again and link
/// two verifiers. Every index record is under the state root like any other record.
#[test]
fn an_old_index_record_put_back_is_detected() {
    let dir = temp_dir("index-rollback");
    let path = dir.join("child.sqlite");
    let school = School::new();
    let verifier = Verifier::new(21);
    let trust = trust_list(&verifier);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let child = new_child(&path);
    enrol(&school, &child, "pupil-2");
    school.issue_to(&child, "pupil-2", &["pupil_enrolment"]);
    let before = rows_of_kind(&path, "copy-index");
    let request = newsletter_request(&verifier, &["group", "given_name"]);
    let prompt = child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let Outcome::Send(_) = child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a 17-year-old answers alone")
    };
    drop(child);
    let after = rows_of_kind(&path, "copy-index");
    let changed: Vec<_> = after.iter().filter(|row| !before.contains(row)).collect();
    // The batch record, the link record and the index summary at least.
    assert!(changed.len() >= 2, "{} index records changed", changed.len());
    let pristine = std::fs::read(&path).unwrap();
    assert!(
        !path.with_extension("sqlite-wal").exists()
            || std::fs::metadata(path.with_extension("sqlite-wal")).unwrap().len() == 0
    );
    let mut put_back = 0;
    for row in &changed {
        let Some(old) = before.iter().find(|old| old.0 == row.0) else { continue };
        put_back += 1;
        std::fs::write(&path, &pristine).unwrap();
        let raw = Connection::open(&path).unwrap();
        raw.execute(
            "UPDATE record SET version = ?2, nonce = ?3 WHERE kind = 'copy-index' AND id = ?1",
            rusqlite::params![old.0, old.1, old.2],
        )
        .unwrap();
        raw.execute(
            "UPDATE sealed SET ciphertext = ?2 WHERE kind = 'copy-index' AND id = ?1",
            rusqlite::params![old.0, old.3],
        )
        .unwrap();
        drop(raw);
        let error = open_vault(&path).unwrap_err();
        assert!(matches!(&error, Error::Tampered { what } if what.contains("older copy")), "{error}");
    }
    assert!(put_back >= 2, "only {put_back} older index records could be put back");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_long_lived_handle_sees_what_another_handle_wrote() {
    let dir = temp_dir("two-handles");
    let path = dir.join("child.sqlite");
    let school = School::new();
    let verifier = Verifier::new(21);
    let trust = trust_list(&verifier);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let first = new_child(&path);
    enrol(&school, &first, "pupil-3");
    // The second handle (another process, or the app's background service) builds its index
    // while the wallet is still empty.
    let second = Wallet::open(open_vault(&path).unwrap()).unwrap();
    assert!(second.credentials().unwrap().is_empty());

    school.issue_to(&first, "pupil-3", &["pupil_enrolment"]);
    let listed = second.credentials().unwrap();
    assert_eq!(listed.len(), 1, "the second handle lists the credential the first one received");
    assert_eq!((listed[0].copies, listed[0].unused_copies), (3, 3));

    // A copy the first handle presents is used for the second one too.
    let request = newsletter_request(&verifier, &["group"]);
    let prompt = first.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    first.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap();
    assert_eq!(second.credentials().unwrap()[0].unused_copies, 2);
    // And the other way round: the second handle's presentation is seen by the first.
    let request = newsletter_request(&verifier, &["group"]);
    let prompt = second.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert_eq!(prompt.items[0].candidates[0].unused_copies, 2);
    second.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap();
    assert_eq!(first.credentials().unwrap()[0].unused_copies, 1);
    assert_eq!(first.log().unwrap().len(), second.log().unwrap().len());
    std::fs::remove_dir_all(&dir).unwrap();
}
