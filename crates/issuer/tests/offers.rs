//! The pre-authorized code state: single-use codes, PINs with limited attempts, expiring
//! tokens and nonces, nothing secret stored or printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Error, GrantRefusal, Issuer, OfferPolicy};
use sha2::Digest;

const NOW: i64 = 1_800_000_000;

fn issuer(store: SqliteStore) -> Issuer<SqliteStore> {
    common::school(store)
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_code_and_pin_buy_one_access_token() {
    let issuer = issuer(SqliteStore::in_memory().unwrap());
    let policy = OfferPolicy::default();
    let offer = issuer.create_offer(&policy, "pupil-17", &ids(&["pupil_enrolment", "school_advice"]), NOW).unwrap();
    let pin = offer.pin.as_ref().unwrap();
    assert_eq!(pin.len(), 6);
    assert!(pin.bytes().all(|b| b.is_ascii_digit()));
    assert!(offer.code.len() >= 43, "256-bit code");
    assert!(!format!("{offer:?}").contains(offer.code.as_str()));

    let grant = issuer.redeem(&policy, &offer.code, Some(pin), NOW + 10).unwrap().unwrap();
    assert_eq!(grant.config_ids, ids(&["pupil_enrolment", "school_advice"]));
    assert_eq!(grant.expires_in, 300);
    assert!(!format!("{grant:?}").contains(grant.access_token.as_str()));
    let allowed = issuer.authorize(&grant.access_token, NOW + 20).unwrap().unwrap();
    assert_eq!(allowed.subject_ref, "pupil-17");
    assert!(issuer.authorize(&grant.access_token, NOW + 10 + 300).unwrap().is_none(), "token expired");
    assert!(issuer.authorize("made-up-token", NOW).unwrap().is_none());

    assert_eq!(
        issuer.redeem(&policy, &offer.code, Some(pin), NOW + 30).unwrap().unwrap_err(),
        GrantRefusal::AlreadyUsed
    );
}

#[test]
fn wrong_pins_are_counted_and_lock_the_offer() {
    let issuer = issuer(SqliteStore::in_memory().unwrap());
    let policy = OfferPolicy { max_pin_attempts: 3, ..OfferPolicy::default() };
    let offer = issuer.create_offer(&policy, "pupil-17", &ids(&["pupil_enrolment"]), NOW).unwrap();
    let pin = offer.pin.as_ref().unwrap().to_string();
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    assert_eq!(issuer.redeem(&policy, &offer.code, None, NOW).unwrap().unwrap_err(), GrantRefusal::PinRequired);
    assert_eq!(issuer.redeem(&policy, &offer.code, Some(wrong), NOW).unwrap().unwrap_err(), GrantRefusal::WrongPin);
    assert_eq!(issuer.redeem(&policy, &offer.code, Some(wrong), NOW).unwrap().unwrap_err(), GrantRefusal::WrongPin);
    assert_eq!(issuer.redeem(&policy, &offer.code, Some(wrong), NOW).unwrap().unwrap_err(), GrantRefusal::Locked);
    // Locked: even the right PIN no longer works.
    assert_eq!(issuer.redeem(&policy, &offer.code, Some(&pin), NOW).unwrap().unwrap_err(), GrantRefusal::Locked);
}

#[test]
fn codes_expire_and_unknown_codes_are_refused() {
    let issuer = issuer(SqliteStore::in_memory().unwrap());
    let policy = OfferPolicy { pin_length: 0, offer_lifetime: 600, ..OfferPolicy::default() };
    let offer = issuer.create_offer(&policy, "pupil-17", &ids(&["pupil_enrolment"]), NOW).unwrap();
    assert!(offer.pin.is_none());
    assert_eq!(issuer.redeem(&policy, &offer.code, None, NOW + 600).unwrap().unwrap_err(), GrantRefusal::Expired);
    assert_eq!(issuer.redeem(&policy, "guess", None, NOW).unwrap().unwrap_err(), GrantRefusal::UnknownCode);
    let error = issuer.create_offer(&policy, "pupil-17", &ids(&["shoe_size"]), NOW).unwrap_err();
    assert!(matches!(&error, Error::UnknownCredentialType { config_id } if config_id == "shoe_size"), "{error}");
    let error = issuer.create_offer(&policy, "pupil-17", &[], NOW).unwrap_err();
    assert!(matches!(&error, Error::UnknownCredentialType { config_id } if config_id.is_empty()), "{error}");
}

#[test]
fn nonces_are_single_use() {
    let issuer = issuer(SqliteStore::in_memory().unwrap());
    let policy = OfferPolicy::default();
    let first = issuer.new_nonce(&policy, NOW).unwrap();
    let second = issuer.new_nonce(&policy, NOW).unwrap();
    assert_ne!(first, second);
    assert!(issuer.consume_nonce(&first, NOW + 1).unwrap());
    assert!(!issuer.consume_nonce(&first, NOW + 2).unwrap(), "replayed");
    assert!(!issuer.consume_nonce(&second, NOW + 300).unwrap(), "expired");
    assert!(!issuer.consume_nonce("never-issued", NOW).unwrap());
}

#[test]
fn a_stolen_database_holds_no_usable_code_token_or_nonce() {
    let dir = std::env::temp_dir().join(format!("schooltas-issuer-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let issuer = issuer(SqliteStore::open(dir.join("issuer.sqlite")).unwrap());
    let policy = OfferPolicy::default();
    // One live of each: an offer not yet redeemed, a token not yet used, a nonce not yet used.
    let pending = issuer.create_offer(&policy, "pupil-18", &ids(&["pupil_enrolment"]), NOW).unwrap();
    let offer = issuer.create_offer(&policy, "pupil-17", &ids(&["pupil_enrolment"]), NOW).unwrap();
    let grant = issuer.redeem(&policy, &offer.code, offer.pin.as_deref().map(String::as_str), NOW).unwrap().unwrap();
    let nonce = issuer.new_nonce(&policy, NOW).unwrap();
    drop(issuer);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap()); // the -wal file too, if any
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|window| window == needle);
    for (what, secret) in
        [("code", pending.code.as_str()), ("access token", grant.access_token.as_str()), ("nonce", nonce.as_str())]
    {
        assert!(!contains(secret.as_bytes()), "the {what} is in the database file");
        // What is there is its SHA-256 digest (so the search above looked in the right place).
        let digest: [u8; 32] = sha2::Sha256::digest(secret.as_bytes()).into();
        assert!(contains(&digest), "the {what}'s digest is not in the database file");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
