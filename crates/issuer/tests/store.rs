//! The SQLite store: transactions commit whole or not at all, single-use nonces, hashed offers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_issuer::Error;
use schooltas_issuer::store::{
    AccessTokenRow, AuthorizationCodeRow, CredentialRow, OfferRow, PendingAuthorizationRow, SqliteStore, StatusListRow,
    in_transaction,
};

fn credential(id: &str) -> CredentialRow {
    CredentialRow {
        id: id.into(),
        config_id: "pupil_enrolment".into(),
        subject_ref: "pupil-17".into(),
        issued_at: 100,
        expires_at: Some(200),
        copies: 2,
    }
}

fn list() -> StatusListRow {
    StatusListRow {
        id: 0,
        purpose: "enrolment".into(),
        uri: "https://school.example/status/enrolment/1".into(),
        bits: 2,
        capacity: 1024,
        allocated: 0,
    }
}

#[test]
fn a_failed_transaction_writes_nothing() {
    let store = SqliteStore::in_memory().unwrap();
    let outcome = in_transaction(&store, |tx| {
        tx.insert_credential(&credential("c1"))?;
        let list = tx.insert_status_list(&list())?;
        tx.allocate(list, 7, "c1")?;
        Err::<(), _>(Error::Storage { reason: "signing failed".into() })
    });
    assert!(matches!(&outcome, Err(Error::Storage { reason }) if reason == "signing failed"), "{outcome:?}");
    in_transaction(&store, |tx| {
        assert_eq!(tx.credential("c1")?, None);
        assert!(tx.all_status_lists()?.is_empty());
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_constraint_violation_rolls_back_the_whole_transaction() {
    let store = SqliteStore::in_memory().unwrap();
    let list_id = in_transaction(&store, |tx| {
        tx.insert_credential(&credential("c1"))?;
        let list = tx.insert_status_list(&list())?;
        tx.allocate(list, 7, "c1")?;
        Ok(list)
    })
    .unwrap();
    // The second allocation of entry 7 fails; the credential inserted before it must vanish.
    let outcome = in_transaction(&store, |tx| {
        tx.insert_credential(&credential("c2"))?;
        tx.allocate(list_id, 7, "c2")
    });
    assert!(matches!(outcome, Err(Error::Storage { .. })), "{outcome:?}");
    in_transaction(&store, |tx| {
        assert_eq!(tx.credential("c2")?, None);
        assert_eq!(tx.entries_of("c1")?, [(list_id, 7)]);
        assert_eq!(tx.status_list(list_id)?.unwrap().allocated, 1);
        Ok(())
    })
    .unwrap();
}

#[test]
fn statuses_are_set_and_listed() {
    let store = SqliteStore::in_memory().unwrap();
    in_transaction(&store, |tx| {
        tx.insert_credential(&credential("c1"))?;
        let list = tx.insert_status_list(&list())?;
        tx.allocate(list, 3, "c1")?;
        tx.allocate(list, 900, "c1")?;
        assert_eq!(tx.status(list, 3)?, 0);
        tx.set_status(list, 900, 2)?;
        assert_eq!(tx.non_valid(list)?, [(900, 2)]);
        let refused = tx.set_status(list, 4, 1);
        assert!(
            matches!(&refused, Err(Error::CorruptStore { reason }) if reason.starts_with("no entry 4 in list")),
            "an entry never allocated cannot change: {refused:?}"
        );
        assert_eq!(tx.credentials_of("pupil-17")?, [credential("c1")]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn nonces_are_single_use_and_expire() {
    let store = SqliteStore::in_memory().unwrap();
    in_transaction(&store, |tx| {
        tx.insert_nonce(&[1; 32], 500)?;
        tx.insert_nonce(&[2; 32], 500)?;
        assert!(tx.consume_nonce(&[1; 32], 400)?);
        assert!(!tx.consume_nonce(&[1; 32], 400)?, "second use");
        assert!(!tx.consume_nonce(&[2; 32], 500)?, "expired");
        assert!(!tx.consume_nonce(&[3; 32], 1)?, "never issued");
        Ok(())
    })
    .unwrap();
}

#[test]
fn offers_and_tokens_round_trip_and_purge() {
    let store = SqliteStore::in_memory().unwrap();
    let offer = OfferRow {
        code_digest: [1; 32],
        tx_code_digest: Some([2; 32]),
        subject_ref: "pupil-17".into(),
        config_ids: vec!["pupil_enrolment".into(), "school_advice".into()],
        expires_at: 1_000,
        failed_attempts: 0,
        redeemed: false,
    };
    let token = AccessTokenRow {
        token_digest: [3; 32],
        subject_ref: "pupil-17".into(),
        config_ids: vec!["pupil_enrolment".into(), "school_advice".into()],
        used_config_ids: vec![],
        expires_at: 900,
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        credential_identifiers: vec!["school_advice".into()],
    };
    in_transaction(&store, |tx| {
        tx.insert_offer(&offer)?;
        tx.insert_access_token(&token)?;
        let mut stored = tx.offer(&[1; 32])?.unwrap();
        assert_eq!(stored, offer);
        stored.failed_attempts = 2;
        stored.redeemed = true;
        tx.update_offer(&stored)?;
        assert_eq!(tx.offer(&[1; 32])?, Some(stored));
        assert_eq!(tx.access_token(&[3; 32])?, Some(token.clone()));
        let used = AccessTokenRow { used_config_ids: vec!["school_advice".into()], ..token.clone() };
        tx.update_access_token(&used)?;
        assert_eq!(tx.access_token(&[3; 32])?, Some(used));
        assert_eq!(tx.purge_expired(950, 10)?, 1);
        assert_eq!(tx.access_token(&[3; 32])?, None);
        assert!(tx.offer(&[1; 32])?.is_some());
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_file_store_survives_reopening_and_refuses_a_newer_schema() {
    let dir = std::env::temp_dir().join(format!("schooltas-issuer-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.sqlite");
    let _ = std::fs::remove_file(&path);
    {
        let store = SqliteStore::open(&path).unwrap();
        in_transaction(&store, |tx| tx.insert_credential(&credential("c1"))).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(in_transaction(&store, |tx| tx.credential("c1")).unwrap(), Some(credential("c1")));
    drop(store);
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.pragma_update(None, "user_version", 99).unwrap();
    }
    assert!(matches!(SqliteStore::open(&path), Err(Error::CorruptStore { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_version_1_store_is_migrated_its_plaintext_nonces_replaced_by_digests() {
    let dir = std::env::temp_dir().join(format!("schooltas-issuer-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.sqlite");
    {
        // The tables version 1 of this library wrote, with a live token and a live nonce.
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(
            "CREATE TABLE offer (code_digest BLOB PRIMARY KEY, tx_code_digest BLOB, subject_ref TEXT NOT NULL,
                 config_ids TEXT NOT NULL, expires_at INTEGER NOT NULL, failed_attempts INTEGER NOT NULL DEFAULT 0,
                 redeemed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
             CREATE TABLE access_token (token_digest BLOB PRIMARY KEY, subject_ref TEXT NOT NULL,
                 config_ids TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
             CREATE TABLE nonce (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
             CREATE TABLE status_list (id INTEGER PRIMARY KEY, purpose TEXT NOT NULL, uri TEXT NOT NULL UNIQUE,
                 bits INTEGER NOT NULL, capacity INTEGER NOT NULL);
             CREATE TABLE credential (id TEXT PRIMARY KEY, config_id TEXT NOT NULL, subject_ref TEXT NOT NULL,
                 issued_at INTEGER NOT NULL, expires_at INTEGER, copies INTEGER NOT NULL);
             CREATE TABLE status_entry (list_id INTEGER NOT NULL, idx INTEGER NOT NULL, credential_id TEXT NOT NULL,
                 status INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (list_id, idx)) WITHOUT ROWID;
             INSERT INTO access_token VALUES (x'0303030303030303030303030303030303030303030303030303030303030303',
                 'pupil-17', '[\"pupil_enrolment\"]', 900);
             INSERT INTO nonce VALUES ('legacy-nonce-value', 900);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    in_transaction(&store, |tx| {
        let token = tx.access_token(&[3; 32])?.unwrap();
        assert_eq!(token.config_ids, ["pupil_enrolment"]);
        assert!(token.used_config_ids.is_empty(), "a version 1 token may still fetch what it was issued for");
        assert_eq!(token.dpop_jkt, None, "a token from before DPoP stays a Bearer token");
        let legacy: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"legacy-nonce-value").into();
        assert!(tx.consume_nonce(&legacy, 800)?, "a nonce a wallet holds keeps working");
        Ok(())
    })
    .unwrap();
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = raw.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, 6);
    let plaintext: i64 = raw
        .query_row(
            "SELECT count(*) FROM nonce WHERE typeof(nonce_digest) != 'blob' OR length(nonce_digest) != 32",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(plaintext, 0);
    drop(raw);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The tables version 3 of this library wrote (version 2: the same without `dpop_jkt`).
const V3_SCHEMA: &str = "
CREATE TABLE status_list (id INTEGER PRIMARY KEY, purpose TEXT NOT NULL, uri TEXT NOT NULL UNIQUE,
    bits INTEGER NOT NULL CHECK (bits IN (1, 2, 4, 8)), capacity INTEGER NOT NULL CHECK (capacity > 0));
CREATE TABLE credential (id TEXT PRIMARY KEY, config_id TEXT NOT NULL, subject_ref TEXT NOT NULL,
    issued_at INTEGER NOT NULL, expires_at INTEGER, copies INTEGER NOT NULL);
CREATE INDEX credential_subject ON credential (subject_ref);
CREATE TABLE status_entry (list_id INTEGER NOT NULL REFERENCES status_list (id), idx INTEGER NOT NULL,
    credential_id TEXT NOT NULL REFERENCES credential (id),
    status INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 255), PRIMARY KEY (list_id, idx)) WITHOUT ROWID;
CREATE INDEX status_entry_credential ON status_entry (credential_id);
CREATE TABLE offer (code_digest BLOB PRIMARY KEY, tx_code_digest BLOB, subject_ref TEXT NOT NULL,
    config_ids TEXT NOT NULL, expires_at INTEGER NOT NULL, failed_attempts INTEGER NOT NULL DEFAULT 0,
    redeemed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE access_token (token_digest BLOB PRIMARY KEY, subject_ref TEXT NOT NULL, config_ids TEXT NOT NULL,
    expires_at INTEGER NOT NULL, used_config_ids TEXT NOT NULL DEFAULT '[]', dpop_jkt TEXT) WITHOUT ROWID;
CREATE TABLE nonce (nonce_digest BLOB PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX offer_expiry ON offer (expires_at);
CREATE INDEX access_token_expiry ON access_token (expires_at);
CREATE INDEX nonce_expiry ON nonce (expires_at);
";

fn pending() -> PendingAuthorizationRow {
    PendingAuthorizationRow {
        request_uri_digest: [7; 32],
        client_id: "https://wallet.example".into(),
        redirect_uri: "nl.schooltas.wallet:/cb".into(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        state: Some("s".into()),
        config_ids: vec!["guardianship".into(), "pupil_enrolment".into()],
        detail_config_ids: vec!["pupil_enrolment".into()],
        issuer_state: None,
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        expires_at: 1_000,
        handle_digest: None,
        completed: false,
    }
}

fn code() -> AuthorizationCodeRow {
    AuthorizationCodeRow {
        code_digest: [8; 32],
        client_id: "https://wallet.example".into(),
        redirect_uri: "nl.schooltas.wallet:/cb".into(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        dpop_jkt: None,
        subject_ref: "pupil-0417/parent".into(),
        config_ids: vec!["guardianship".into(), "pupil_enrolment".into()],
        detail_config_ids: vec!["pupil_enrolment".into()],
        expires_at: 1_000,
        redeemed: false,
        access_token_digest: None,
    }
}

/// Opens a store at `version` written as that version did, with a live DPoP-bound token, and
/// checks the migration to the newest version kept it and added working authorization tables (with the
/// credential identifier columns).
fn migrates_from(version: i64) {
    let dir = std::env::temp_dir().join(format!("schooltas-issuer-migrate-v{version}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.sqlite");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        let schema = match version {
            2 => V3_SCHEMA.replace(", dpop_jkt TEXT)", ")"),
            3 => V3_SCHEMA.to_owned(),
            _ => format!("{V3_SCHEMA}{V4_AUTHORIZATION_TABLES}"),
        };
        raw.execute_batch(&schema).unwrap();
        let jkt = if version == 2 { "" } else { ", 'jkt-of-the-wallet'" };
        let columns = if version == 2 { "" } else { ", dpop_jkt" };
        raw.execute_batch(&format!(
            "INSERT INTO access_token (token_digest, subject_ref, config_ids, expires_at{columns})
             VALUES (x'0303030303030303030303030303030303030303030303030303030303030303',
                 'pupil-17', '[\"pupil_enrolment\"]', 900{jkt});
             PRAGMA user_version = {version};"
        ))
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    in_transaction(&store, |tx| {
        let token = tx.access_token(&[3; 32])?.unwrap();
        assert_eq!(token.config_ids, ["pupil_enrolment"]);
        let expected = (version >= 3).then(|| "jkt-of-the-wallet".to_owned());
        assert_eq!(token.dpop_jkt, expected, "version {version}");
        assert!(token.credential_identifiers.is_empty(), "a token from before identifiers has none");
        tx.insert_pending_authorization(&pending())?;
        tx.insert_authorization_code(&code())?;
        assert_eq!(tx.pending_authorization(&[7; 32])?, Some(pending()));
        assert_eq!(tx.authorization_code(&[8; 32])?, Some(code()));
        // Version 6's tables of state shared by instances, empty and working.
        assert_eq!(tx.pending_offer_references(0)?, 0);
        assert!(tx.first_use_of_proof(&[9; 32], 900, 0)?);
        assert!(!tx.first_use_of_proof(&[9; 32], 900, 1)?);
        Ok(())
    })
    .unwrap();
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let migrated: i64 = raw.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(migrated, 6);
    drop(raw);
    // Opening a version 6 store again changes nothing.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(in_transaction(&store, |tx| tx.authorization_code(&[8; 32])).unwrap(), Some(code()));
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_version_2_store_is_migrated_to_version_5() {
    migrates_from(2);
}

#[test]
fn a_version_3_store_is_migrated_to_version_5_its_tokens_kept() {
    migrates_from(3);
}

#[test]
fn a_version_4_store_is_migrated_to_version_5_with_credential_identifier_columns() {
    migrates_from(4);
}

/// The authorization tables version 4 of this library wrote (before credential identifiers).
const V4_AUTHORIZATION_TABLES: &str = "
CREATE TABLE pending_authorization (request_uri_digest BLOB PRIMARY KEY, client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL, code_challenge TEXT NOT NULL, state TEXT, config_ids TEXT NOT NULL,
    issuer_state TEXT, dpop_jkt TEXT, expires_at INTEGER NOT NULL, handle_digest BLOB UNIQUE,
    completed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE INDEX pending_authorization_expiry ON pending_authorization (expires_at);
CREATE TABLE authorization_code (code_digest BLOB PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL, dpop_jkt TEXT, subject_ref TEXT NOT NULL, config_ids TEXT NOT NULL,
    expires_at INTEGER NOT NULL, redeemed INTEGER NOT NULL DEFAULT 0, access_token_digest BLOB) WITHOUT ROWID;
CREATE INDEX authorization_code_expiry ON authorization_code (expires_at);
";

#[test]
fn pending_authorizations_and_codes_round_trip_update_and_purge() {
    let store = SqliteStore::in_memory().unwrap();
    in_transaction(&store, |tx| {
        tx.insert_pending_authorization(&pending())?;
        let mut answered = pending();
        answered.handle_digest = Some([9; 32]);
        answered.expires_at = 2_000;
        answered.completed = true;
        tx.update_pending_authorization(&answered)?;
        assert_eq!(tx.pending_authorization_by_handle(&[9; 32])?, Some(answered.clone()));
        assert_eq!(tx.pending_authorization_by_handle(&[1; 32])?, None);
        tx.insert_authorization_code(&code())?;
        let redeemed =
            AuthorizationCodeRow { redeemed: true, access_token_digest: Some([3; 32]), expires_at: 1_500, ..code() };
        tx.update_authorization_code(&redeemed)?;
        assert_eq!(tx.authorization_code(&[8; 32])?, Some(redeemed));
        let missing = tx.update_authorization_code(&AuthorizationCodeRow { code_digest: [1; 32], ..code() });
        assert!(matches!(missing, Err(Error::CorruptStore { .. })), "{missing:?}");
        assert_eq!(tx.purge_expired(1_600, 10)?, 1, "the code went, the answered authorization stays");
        assert_eq!(tx.authorization_code(&[8; 32])?, None);
        assert_eq!(tx.purge_expired(2_000, 10)?, 1);
        assert_eq!(tx.pending_authorization(&[7; 32])?, None);
        Ok(())
    })
    .unwrap();
}
