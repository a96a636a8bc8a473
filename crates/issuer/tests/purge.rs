//! Expired offers, access tokens and nonces leave the store without anyone calling a purge:
//! every OpenID4VCI write deletes a bounded number of expired rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use schooltas_issuer::store::{SqliteStore, in_transaction};
use schooltas_issuer::{Issuer, OfferPolicy};

const NOW: i64 = 1_800_000_000;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("schooltas-issuer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Rows per table, read from the file by another connection, as an auditor would.
fn rows(path: &Path) -> (i64, i64, i64) {
    let raw = rusqlite::Connection::open(path).unwrap();
    let count =
        |table: &str| -> i64 { raw.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap() };
    (count("offer"), count("access_token"), count("nonce"))
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn after_expiry_one_unrelated_operation_purges_offers_tokens_and_nonces() {
    let dir = TempDir::new("purge");
    let path = dir.0.join("issuer.sqlite");
    let issuer: Issuer<SqliteStore> = common::school(SqliteStore::open(&path).unwrap());
    let policy =
        OfferPolicy { offer_lifetime: 3_600, token_lifetime: 300, nonce_lifetime: 300, ..OfferPolicy::default() };

    // A redeemed offer and its token, an offer never redeemed, a locked offer, two nonces.
    let redeemed = issuer.create_offer(&policy, "pupil-17", &ids(&["pupil_enrolment"]), NOW).unwrap();
    issuer.redeem(&policy, &redeemed.code, redeemed.pin.as_deref().map(String::as_str), NOW).unwrap().unwrap();
    issuer.create_offer(&policy, "pupil-18", &ids(&["pupil_enrolment"]), NOW).unwrap();
    let locked = issuer
        .create_offer(&OfferPolicy { max_pin_attempts: 1, ..policy }, "pupil-19", &ids(&["pupil_enrolment"]), NOW)
        .unwrap();
    let wrong = if locked.pin.as_deref().map(String::as_str) == Some("000000") { "111111" } else { "000000" };
    assert_eq!(
        issuer
            .redeem(&OfferPolicy { max_pin_attempts: 1, ..policy }, &locked.code, Some(wrong), NOW)
            .unwrap()
            .unwrap_err(),
        schooltas_issuer::GrantRefusal::Locked
    );
    issuer.new_nonce(&policy, NOW).unwrap();
    issuer.new_nonce(&policy, NOW).unwrap();
    assert_eq!(rows(&path), (3, 1, 2));

    // Tokens and nonces expired, offers not yet: an unrelated nonce request purges the former.
    issuer.new_nonce(&policy, NOW + 300).unwrap();
    assert_eq!(rows(&path), (3, 0, 1), "the expired token and nonces are gone, the new nonce is there");

    // Everything expired: one unrelated operation (an offer for another pupil) leaves only itself.
    issuer.create_offer(&policy, "pupil-20", &ids(&["pupil_enrolment"]), NOW + 3_600).unwrap();
    assert_eq!(rows(&path), (1, 0, 0));
    // The purged codes now read as unknown.
    assert_eq!(
        issuer.redeem(&policy, &redeemed.code, None, NOW + 3_600).unwrap().unwrap_err(),
        schooltas_issuer::GrantRefusal::UnknownCode
    );
}

#[test]
fn a_large_backlog_is_purged_in_bounded_steps_and_live_rows_stay() {
    let store = SqliteStore::in_memory().unwrap();
    let digest = |i: u32| -> [u8; 32] {
        let mut d = [0u8; 32];
        d[..4].copy_from_slice(&i.to_be_bytes());
        d
    };
    in_transaction(&store, |tx| {
        for i in 0..150u32 {
            tx.insert_nonce(&digest(i), NOW)?; // expired at NOW
        }
        tx.insert_nonce(&digest(1_000), NOW + 1)?; // still live at NOW
        Ok(())
    })
    .unwrap();
    let issuer = common::school(store);
    // Each write purges at most 64 expired rows per table: two writes leave 150 − 128 = 22.
    for _ in 0..2 {
        issuer.new_nonce(&OfferPolicy::default(), NOW).unwrap();
    }
    in_transaction(issuer.store(), |tx| {
        assert_eq!(tx.purge_expired(NOW, 1_000)?, 22, "bounded work per request");
        assert!(tx.consume_nonce(&digest(1_000), NOW)?, "a live nonce is never purged");
        Ok(())
    })
    .unwrap();
}
