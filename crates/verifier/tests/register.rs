//! The consent register: may we use it, withdrawal, expiry, status, storage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails loudly

use std::path::PathBuf;
use std::sync::Arc;

use schooltas_did::{Signer, SigningKey};
use schooltas_school::LegalBasis;
use schooltas_status_list::{
    Bits, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri, StatusReference,
    StatusValue,
};
use schooltas_verifier::register::in_transaction;
use schooltas_verifier::{
    ConsentId, ConsentRecord, ConsentRegister, Error, Evidence, NoReason, SqliteConsentStore, StatusCheck,
    StatusIssuer, UseAnswer, UseQuery,
};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const VERIFIER: &str = "decentralized_identifier:did:web:school.example";
const SUBJECT: &str = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:child-pairwise-1";
const PHOTO: &str = "sha-256:1111111111111111111111111111111111111111111111111111111111111111";
const OTHER_PHOTO: &str = "sha-256:2222222222222222222222222222222222222222222222222222222222222222";
const PRESENTATION: &str = "eyJhbGciOiJFZERTQSJ9.eyJ2Y3QiOiJlbnJvbG1lbnQifQ.sig~WyJzIiwiZ2l2ZW5fbmFtZSIsIlNhbm5lIl0~kb";

fn parent() -> SigningKey {
    SigningKey::from_ed25519_seed(&[3; 32])
}

fn consent(nonce: &str, granted_at: i64, valid_until: i64) -> ConsentRecord {
    ConsentRecord {
        id: ConsentId::random(),
        verifier: VERIFIER.into(),
        subject: SUBJECT.into(),
        purpose: "newsletter".into(),
        object: Some(PHOTO.into()),
        channel: Some("newsletter".into()),
        legal_basis: LegalBasis::Consent,
        granted_at,
        valid_until,
        approver_jwk: parent().verifying_key().to_jwk().into(),
        request_nonce: nonce.into(),
        evidence: Evidence {
            presentations: vec![PRESENTATION.into()],
            guardian_approval: Some("guardian-approval-jws".into()),
            transaction_data: vec!["eyJ0eXBlIjoicGhvdG8ifQ".into()],
        },
        status: None,
        status_issuer: None,
        withdrawn: None,
    }
}

fn register() -> ConsentRegister<SqliteConsentStore> {
    ConsentRegister::new(SqliteConsentStore::in_memory().unwrap())
}

fn ask(object: Option<&str>) -> UseQuery<'_> {
    UseQuery { subject: SUBJECT, purpose: "newsletter", object }
}

fn no(reason: NoReason) -> UseAnswer {
    UseAnswer::No { reason }
}

/// A file path under the system temp directory, removed (with its WAL files) on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> Self {
        TempDb(std::env::temp_dir().join(format!(
            "schooltas-consent-{}-{}.db",
            std::process::id(),
            ConsentId::random()
        )))
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

// ---- may we use it? -----------------------------------------------------------------------------

#[test]
fn a_recorded_consent_allows_use_with_its_evidence() {
    let register = register();
    let record = consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + 365 * DAY);
    let id = register.record(record.clone()).unwrap();
    assert_eq!(id, record.id);
    match register.may_use(ask(Some(PHOTO)), NOW + DAY, None).unwrap() {
        UseAnswer::Yes { evidence } => assert_eq!(*evidence, record),
        other => panic!("expected yes, got {other:?}"),
    }
    // Granted at NOW exactly: usable from that second.
    assert!(register.may_use(ask(Some(PHOTO)), NOW, None).unwrap().is_yes());
    assert_eq!(register.get(&id).unwrap(), Some(record));
}

#[test]
fn a_withdrawn_consent_says_no_and_keeps_the_withdrawal_evidence() {
    let register = register();
    let id = register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + 365 * DAY)).unwrap();
    register.withdraw(&id, NOW + 10 * DAY, "signed-withdrawal-jws").unwrap();

    assert_eq!(
        register.may_use(ask(Some(PHOTO)), NOW + 11 * DAY, None).unwrap(),
        no(NoReason::Withdrawn { at: NOW + 10 * DAY })
    );
    // Effective for the future only: before the withdrawal, the use was allowed.
    assert!(register.may_use(ask(Some(PHOTO)), NOW + 9 * DAY, None).unwrap().is_yes());

    let kept = register.get(&id).unwrap().unwrap();
    let withdrawal = kept.withdrawn.as_ref().unwrap();
    assert_eq!((withdrawal.at, withdrawal.evidence.as_str()), (NOW + 10 * DAY, "signed-withdrawal-jws"));
    assert_eq!(kept.evidence.presentations, [PRESENTATION]);

    // A second withdrawal is refused; the first one stands.
    let error = register.withdraw(&id, NOW + 12 * DAY, "another").unwrap_err();
    assert!(matches!(error, Error::AlreadyWithdrawn { at, .. } if at == NOW + 10 * DAY), "{error}");
    assert_eq!(register.get(&id).unwrap().unwrap().withdrawn.unwrap().evidence, "signed-withdrawal-jws");
}

#[test]
fn refuses_a_withdrawal_before_the_grant_or_of_an_unknown_consent() {
    let register = register();
    let id = register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY)).unwrap();
    let error = register.withdraw(&id, NOW - 1, "too early").unwrap_err();
    assert!(matches!(error, Error::WithdrawalBeforeGrant { granted_at: NOW, .. }), "{error}");
    assert!(register.get(&id).unwrap().unwrap().withdrawn.is_none());
    let error = register.withdraw(&ConsentId::random(), NOW, "who?").unwrap_err();
    assert!(matches!(error, Error::UnknownConsent { .. }), "{error}");
}

#[test]
fn an_expired_consent_says_no() {
    let register = register();
    register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + 30 * DAY)).unwrap();
    assert!(register.may_use(ask(Some(PHOTO)), NOW + 30 * DAY - 1, None).unwrap().is_yes());
    assert_eq!(
        register.may_use(ask(Some(PHOTO)), NOW + 30 * DAY, None).unwrap(),
        no(NoReason::Expired { valid_until: NOW + 30 * DAY })
    );
}

#[test]
fn a_consent_granted_later_is_not_yet_valid() {
    let register = register();
    register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY)).unwrap();
    assert_eq!(register.may_use(ask(Some(PHOTO)), NOW - 1, None).unwrap(), no(NoReason::NotYetValid));
}

#[test]
fn another_object_or_purpose_or_subject_has_no_consent() {
    let register = register();
    register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY)).unwrap();
    assert_eq!(register.may_use(ask(Some(OTHER_PHOTO)), NOW, None).unwrap(), no(NoReason::NoConsent));
    // A consent for one photo does not answer a question about the purpose as a whole.
    assert_eq!(register.may_use(ask(None), NOW, None).unwrap(), no(NoReason::NoConsent));
    let website = UseQuery { subject: SUBJECT, purpose: "website", object: Some(PHOTO) };
    assert_eq!(register.may_use(website, NOW, None).unwrap(), no(NoReason::NoConsent));
    let sibling = UseQuery { subject: "urn:sibling", purpose: "newsletter", object: Some(PHOTO) };
    assert_eq!(register.may_use(sibling, NOW, None).unwrap(), no(NoReason::NoConsent));
}

#[test]
fn a_consent_without_object_covers_every_object_of_its_purpose() {
    let register = register();
    let mut general = consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY);
    general.object = None;
    register.record(general).unwrap();
    assert!(register.may_use(ask(Some(OTHER_PHOTO)), NOW, None).unwrap().is_yes());
    assert!(register.may_use(ask(None), NOW, None).unwrap().is_yes());
}

#[test]
fn the_latest_word_counts_withdrawal_ends_older_consents_and_a_new_consent_stands() {
    let register = register();
    let old = register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + 365 * DAY)).unwrap();
    let newer = register.record(consent("nonce-bbbbbbbbbbbbbbbb", NOW + DAY, NOW + 365 * DAY)).unwrap();
    // Both live: the most recent wins.
    match register.may_use(ask(Some(PHOTO)), NOW + 2 * DAY, None).unwrap() {
        UseAnswer::Yes { evidence } => assert_eq!(evidence.id, newer),
        other => panic!("{other:?}"),
    }
    // Withdrawing the newer one ends the older one too: the person's latest word is no.
    register.withdraw(&newer, NOW + 3 * DAY, "withdrawal").unwrap();
    assert_eq!(
        register.may_use(ask(Some(PHOTO)), NOW + 4 * DAY, None).unwrap(),
        no(NoReason::Withdrawn { at: NOW + 3 * DAY })
    );
    assert!(register.get(&old).unwrap().unwrap().withdrawn.is_none());
    // A fresh consent after the withdrawal stands on its own.
    let again = register.record(consent("nonce-cccccccccccccccc", NOW + 5 * DAY, NOW + 365 * DAY)).unwrap();
    match register.may_use(ask(Some(PHOTO)), NOW + 6 * DAY, None).unwrap() {
        UseAnswer::Yes { evidence } => assert_eq!(evidence.id, again),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_expired_newer_consent_leaves_an_older_valid_one_standing() {
    let register = register();
    let long = register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + 365 * DAY)).unwrap();
    register.record(consent("nonce-bbbbbbbbbbbbbbbb", NOW + DAY, NOW + 2 * DAY)).unwrap();
    match register.may_use(ask(Some(PHOTO)), NOW + 3 * DAY, None).unwrap() {
        UseAnswer::Yes { evidence } => assert_eq!(evidence.id, long),
        other => panic!("{other:?}"),
    }
}

// ---- recording rules ------------------------------------------------------------------------------

#[test]
fn refuses_a_second_consent_for_the_same_request() {
    let register = register();
    let first = register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY)).unwrap();
    let error = register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW + 1, NOW + DAY)).unwrap_err();
    assert!(matches!(&error, Error::DuplicateConsent { existing, .. } if *existing == first), "{error}");
    assert_eq!(register.list(SUBJECT).unwrap().len(), 1);
    // The same nonce at another verifier is another request.
    let mut elsewhere = consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY);
    elsewhere.verifier = "decentralized_identifier:did:web:other-school.example".into();
    register.record(elsewhere).unwrap();
    // The same id twice is refused too.
    let mut same_id = consent("nonce-dddddddddddddddd", NOW, NOW + DAY);
    same_id.id = first;
    assert!(matches!(register.record(same_id), Err(Error::InvalidRecord { .. })));
}

#[test]
fn refuses_malformed_records() {
    let register = register();
    type Spoil = Box<dyn Fn(&mut ConsentRecord)>;
    let cases: Vec<(&str, Spoil)> = vec![
        ("valid_until", Box::new(|r| r.valid_until = r.granted_at)),
        ("subject", Box::new(|r| r.subject = " ".into())),
        ("purpose", Box::new(|r| r.purpose.clear())),
        ("verifier", Box::new(|r| r.verifier.clear())),
        ("request_nonce", Box::new(|r| r.request_nonce.clear())),
        ("object", Box::new(|r| r.object = Some(String::new()))),
        ("private key", Box::new(|r| r.approver_jwk["d"] = json!("c2VjcmV0"))),
        ("JSON object", Box::new(|r| r.approver_jwk = json!("not a jwk"))),
        ("kty", Box::new(|r| r.approver_jwk = json!({"x": "abc"}))),
        ("no presentation", Box::new(|r| r.evidence.presentations.clear())),
        (
            "withdrawn",
            Box::new(|r| r.withdrawn = Some(schooltas_verifier::Withdrawal { at: NOW, evidence: "x".into() })),
        ),
    ];
    for (says, spoil) in cases {
        let mut record = consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY);
        spoil(&mut record);
        let error = register.record(record).unwrap_err();
        assert!(matches!(error, Error::InvalidRecord { .. }), "{says}: {error}");
        assert!(error.to_string().contains(says), "{error} should mention {says}");
    }
    assert!(register.list(SUBJECT).unwrap().is_empty());
}

// ---- storage --------------------------------------------------------------------------------------

#[test]
fn consents_survive_reopening_the_database_file() {
    let db = TempDb::new();
    let (id, record) = {
        let register = ConsentRegister::new(SqliteConsentStore::open(&db.0).unwrap());
        let mut record = consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY);
        record.status =
            Some(StatusReference::new(StatusListUri::new("https://school.example/status/guardianship").unwrap(), 77));
        let id = register.record(record.clone()).unwrap();
        register.withdraw(&id, NOW + 5, "signed-withdrawal").unwrap();
        (id, record)
    };
    let register = ConsentRegister::new(SqliteConsentStore::open(&db.0).unwrap());
    let back = register.get(&id).unwrap().unwrap();
    assert_eq!(back.withdrawn.as_ref().map(|w| w.at), Some(NOW + 5));
    assert_eq!(ConsentRecord { withdrawn: None, ..back }, record);
}

#[test]
fn refuses_a_database_of_another_schema_version() {
    let db = TempDb::new();
    drop(SqliteConsentStore::open(&db.0).unwrap());
    rusqlite::Connection::open(&db.0).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let error = SqliteConsentStore::open(&db.0).unwrap_err();
    assert!(matches!(error, Error::CorruptStore { .. }) && error.to_string().contains("schema version 99"), "{error}");
}

#[test]
fn a_failing_transaction_writes_nothing() {
    let store = SqliteConsentStore::in_memory().unwrap();
    let record = consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY);
    let outcome: Result<(), Error> = in_transaction(&store, |tx| {
        tx.insert(&record)?;
        assert!(tx.get(&record.id)?.is_some()); // visible inside the transaction
        Err(Error::InvalidRecord { reason: "the caller changed its mind" })
    });
    assert!(matches!(outcome, Err(Error::InvalidRecord { .. })), "{outcome:?}");
    assert!(in_transaction(&store, |tx| tx.get(&record.id)).unwrap().is_none());
    // A storage error half-way (the second insert breaks the unique id) rolls back the first.
    let other = consent("nonce-bbbbbbbbbbbbbbbb", NOW, NOW + DAY);
    let outcome = in_transaction(&store, |tx| {
        tx.insert(&other)?;
        tx.insert(&other)
    });
    assert!(matches!(outcome, Err(Error::Storage { .. })));
    assert!(in_transaction(&store, |tx| tx.of_subject(SUBJECT)).unwrap().is_empty());
}

#[test]
fn an_access_request_lists_and_exports_every_consent_of_the_subject() {
    let register = register();
    let first = register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY)).unwrap();
    let mut website = consent("nonce-bbbbbbbbbbbbbbbb", NOW + 1, NOW + DAY);
    website.purpose = "website".into();
    let second = register.record(website).unwrap();
    register.withdraw(&first, NOW + 2, "signed-withdrawal").unwrap();
    let mut sibling = consent("nonce-cccccccccccccccc", NOW, NOW + DAY);
    sibling.subject = "urn:sibling".into();
    register.record(sibling).unwrap();

    let listed: Vec<_> = register.list(SUBJECT).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(listed, [first.clone(), second.clone()]);
    assert_eq!(register.find(SUBJECT, "website").unwrap().len(), 1);

    let export = register.export_json(SUBJECT).unwrap();
    assert_eq!(export["subject"], SUBJECT);
    let consents = export["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2);
    assert_eq!(consents[0]["id"], first.as_str());
    assert_eq!(consents[0]["legal_basis"], "consent");
    assert_eq!(consents[0]["withdrawn"], json!({"at": NOW + 2, "evidence": "signed-withdrawal"}));
    assert_eq!(consents[0]["evidence"]["presentations"][0], PRESENTATION);
    assert_eq!(consents[1]["purpose"], "website");
    // The export reads back as records.
    let back: Vec<ConsentRecord> = serde_json::from_value(export["consents"].clone()).unwrap();
    assert_eq!(back, register.list(SUBJECT).unwrap());
}

// ---- status -----------------------------------------------------------------------------------------

fn status_uri() -> StatusListUri {
    StatusListUri::new("https://school.example/status/guardianship").unwrap()
}

fn school() -> SigningKey {
    SigningKey::from_ed25519_seed(&[9; 32])
}

/// Publishes a guardianship status list with entry 5 revoked and 6 suspended.
fn published() -> Arc<InMemoryStatusLists> {
    let mut list = StatusList::new(Bits::Two, 64).unwrap();
    list.set(5, StatusValue::INVALID).unwrap();
    list.set(6, StatusValue::SUSPENDED).unwrap();
    let token = StatusListToken::new(status_uri(), NOW, list).sign(&school(), None).unwrap();
    let lists = Arc::new(InMemoryStatusLists::new());
    lists.publish(status_uri(), token);
    lists
}

fn with_status(nonce: &str, index: u64) -> ConsentRecord {
    let mut record = consent(nonce, NOW, NOW + 365 * DAY);
    record.status = Some(StatusReference::new(status_uri(), index));
    record
}

#[test]
fn a_revoked_or_suspended_status_entry_ends_the_consent() {
    let lists = published();
    let cache = StatusListCache::new(lists.clone());
    let key = school().verifying_key().clone();
    let check = StatusCheck::signed_by(&cache, &key);

    let register = register();
    register.record(with_status("nonce-aaaaaaaaaaaaaaaa", 4)).unwrap();
    assert!(register.may_use(ask(Some(PHOTO)), NOW + 10, Some(&check)).unwrap().is_yes());

    for index in [5, 6] {
        let register = self::register();
        register.record(with_status("nonce-bbbbbbbbbbbbbbbb", index)).unwrap();
        assert_eq!(register.may_use(ask(Some(PHOTO)), NOW + 10, Some(&check)).unwrap(), no(NoReason::StatusRevoked));
        // Without a status check, the entry is not looked at.
        assert!(register.may_use(ask(Some(PHOTO)), NOW + 10, None).unwrap().is_yes());
    }
    assert_eq!(lists.fetch_count(), 1); // the cache answered the rest
}

#[test]
fn an_older_consent_with_a_good_status_still_counts_when_the_newest_is_revoked() {
    let cache = StatusListCache::new(published());
    let key = school().verifying_key().clone();
    let check = StatusCheck::signed_by(&cache, &key);
    let register = register();
    let good = register.record(with_status("nonce-aaaaaaaaaaaaaaaa", 4)).unwrap();
    let mut revoked = with_status("nonce-bbbbbbbbbbbbbbbb", 5);
    revoked.granted_at = NOW + 1;
    register.record(revoked).unwrap();
    match register.may_use(ask(Some(PHOTO)), NOW + 10, Some(&check)).unwrap() {
        UseAnswer::Yes { evidence } => assert_eq!(evidence.id, good),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_status_that_cannot_be_established_is_never_a_yes() {
    let register = register();
    register.record(with_status("nonce-aaaaaaaaaaaaaaaa", 4)).unwrap();
    let key = school().verifying_key().clone();

    // Nothing published at the URI: the fetch fails.
    let cache = StatusListCache::new(Arc::new(InMemoryStatusLists::new()));
    let answer = register.may_use(ask(Some(PHOTO)), NOW + 10, Some(&StatusCheck::signed_by(&cache, &key))).unwrap();
    let UseAnswer::No { reason: NoReason::StatusUnknown { reason } } = answer else { panic!("{answer:?}") };
    assert!(reason.contains(status_uri().as_str()), "{reason}");

    // Published, but signed by another key than the one trusted.
    let cache = StatusListCache::new(published());
    let stranger = SigningKey::from_ed25519_seed(&[1; 32]).verifying_key().clone();
    let answer =
        register.may_use(ask(Some(PHOTO)), NOW + 10, Some(&StatusCheck::signed_by(&cache, &stranger))).unwrap();
    assert!(matches!(answer, UseAnswer::No { reason: NoReason::StatusUnknown { .. } }), "{answer:?}");

    // A resolver that finds no key.
    let no_key = |_: &schooltas_did::jws::Header, _: Option<&str>, _: Option<&schooltas_verifier::StatusIssuer>| {
        Err(schooltas_status_list::Error::StatusUnavailable { uri: "-".into(), reason: "no key known".into() })
    };
    let answer =
        register.may_use(ask(Some(PHOTO)), NOW + 10, Some(&StatusCheck::resolved_by(&cache, &no_key))).unwrap();
    assert!(matches!(answer, UseAnswer::No { reason: NoReason::StatusUnknown { .. } }), "{answer:?}");

    // A resolver that finds the school's key.
    let school_key = |_: &schooltas_did::jws::Header, _: Option<&str>, _: Option<&schooltas_verifier::StatusIssuer>| {
        Ok(school().verifying_key().clone())
    };
    let check = StatusCheck::resolved_by(&cache, &school_key);
    assert!(register.may_use(ask(Some(PHOTO)), NOW + 10, Some(&check)).unwrap().is_yes());
}

// ---- nothing personal in errors and logs ------------------------------------------------------------

#[test]
fn errors_and_debug_output_carry_no_subject_or_claims() {
    let register = register();
    let record = consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY);
    let id = register.record(record.clone()).unwrap();
    let mut texts = vec![format!("{record:?}"), format!("{register:?}")];
    texts.push(register.record(consent("nonce-aaaaaaaaaaaaaaaa", NOW, NOW + DAY)).unwrap_err().to_string());
    register.withdraw(&id, NOW, "x").unwrap();
    texts.push(register.withdraw(&id, NOW, "x").unwrap_err().to_string());
    let mut broken = consent("nonce-bbbbbbbbbbbbbbbb", NOW, NOW + DAY);
    broken.valid_until = NOW;
    texts.push(register.record(broken).unwrap_err().to_string());
    for text in texts {
        for secret in [SUBJECT, PRESENTATION, "Sanne", "guardian-approval-jws", PHOTO] {
            assert!(!text.contains(secret), "{text:?} leaks {secret:?}");
        }
    }
}

/// The consent table as schema version 1 wrote it (before `status_issuer`).
const SCHEMA_V1: &str = "
CREATE TABLE consent (
    id TEXT PRIMARY KEY, verifier TEXT NOT NULL, subject TEXT NOT NULL, purpose TEXT NOT NULL,
    object TEXT, channel TEXT, legal_basis TEXT NOT NULL, granted_at INTEGER NOT NULL,
    valid_until INTEGER NOT NULL, approver_jwk TEXT NOT NULL, request_nonce TEXT NOT NULL,
    evidence TEXT NOT NULL, status_uri TEXT, status_idx INTEGER, withdrawn_at INTEGER,
    withdrawal_evidence TEXT,
    UNIQUE (verifier, request_nonce),
    CHECK ((status_uri IS NULL) = (status_idx IS NULL)),
    CHECK ((withdrawn_at IS NULL) = (withdrawal_evidence IS NULL))
);
CREATE INDEX consent_subject_purpose ON consent (subject, purpose, granted_at);
PRAGMA user_version = 1;";

#[test]
fn a_version_1_register_is_migrated_and_keeps_its_records_and_new_records_keep_their_status_issuer() {
    let db = TempDb::new();
    {
        let connection = rusqlite::Connection::open(&db.0).unwrap();
        connection.execute_batch(SCHEMA_V1).unwrap();
        connection
            .execute(
                "INSERT INTO consent VALUES ('00000000000000000000000000000001', ?1, ?2, 'newsletter', NULL, NULL,
                 'consent', ?3, ?4, ?5, 'nonce-old-aaaaaaaaaaaa', ?6, 'https://school.example/status/1', 7, NULL, NULL)",
                rusqlite::params![
                    VERIFIER,
                    SUBJECT,
                    NOW,
                    NOW + 365 * DAY,
                    json!(parent().verifying_key().to_jwk()).to_string(),
                    json!({"presentations": [PRESENTATION], "guardian_approval": null, "transaction_data": []})
                        .to_string(),
                ],
            )
            .unwrap();
    }
    let store = SqliteConsentStore::open(&db.0).unwrap();
    let old = in_transaction(&store, |tx| tx.of_subject(SUBJECT)).unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].status.as_ref().map(StatusReference::index), Some(7));
    assert_eq!(old[0].status_issuer, None, "a version 1 row names no status issuer");

    let school = SigningKey::from_ed25519_seed(&[8; 32]);
    let mut record = consent("nonce-new-aaaaaaaaaaaa", NOW, NOW + DAY);
    record.status = Some(StatusReference::new(StatusListUri::new("https://school.example/status/1").unwrap(), 8));
    record.status_issuer = Some(StatusIssuer::new("did:web:school.example", school.verifying_key()));
    let register = ConsentRegister::new(store);
    register.record(record.clone()).unwrap();
    drop(register);
    // Reopened (version 2 now, no second migration): the issuer and its key read back.
    let reopened = SqliteConsentStore::open(&db.0).unwrap();
    let got = in_transaction(&reopened, |tx| tx.get(&record.id)).unwrap().unwrap();
    assert_eq!(got, record);
    assert_eq!(got.status_issuer.unwrap().verifying_key().as_ref(), Some(school.verifying_key()));
    let version: i64 =
        rusqlite::Connection::open(&db.0).unwrap().pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, 2);
}
