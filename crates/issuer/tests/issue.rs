//! Issuing, batch issuing, revoking and key rotation, checked from the verifier's side.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use schooltas_did::{Did, Signer, SigningKey, VerifyingKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Error, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusChange};
use schooltas_school::Error as CredentialError;
use schooltas_sd_jwt::{HolderSdJwt, VerifiedSdJwt};
use schooltas_status_list::Error as StatusListError;
use schooltas_status_list::{InMemoryStatusLists, StatusListCache, StatusReference, StatusValue};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;

use common::school_key;

fn issuer_with(store: SqliteStore) -> Issuer<SqliteStore> {
    common::school(store)
}

fn issuer() -> Issuer<SqliteStore> {
    issuer_with(SqliteStore::in_memory().unwrap())
}

fn enrolment(given_name: &str) -> Map<String, Value> {
    json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
           "school_year": "2026-2027", "group": "7B", "given_name": given_name, "family_name": "de Vries",
           "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
    .as_object()
    .cloned()
    .unwrap()
}

fn consent() -> Map<String, Value> {
    let did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    json!({"purpose": "newsletter", "channel": "newsletter", "subject_id": did, "consented_by": did,
           "valid_until": "2027-07-31"})
    .as_object()
    .cloned()
    .unwrap()
}

fn holder(seed: u8) -> SigningKey {
    SigningKey::from_ed25519_seed(&[100 + seed; 32])
}

/// Verifies an issued credential as a verifier would (no key binding needed for this check),
/// resolving the issuer key from the school's DID document by the `kid` header.
fn verify(issuer: &Issuer<SqliteStore>, credential: &str) -> VerifiedSdJwt {
    let presented = HolderSdJwt::parse(credential).unwrap().present(&[], None).unwrap();
    common::verify_via_did_document(issuer, &presented, NOW)
}

fn published(issuer: &Issuer<SqliteStore>) -> StatusListCache {
    let lists = InMemoryStatusLists::new();
    for (uri, token) in issuer.status_list_tokens(NOW).unwrap() {
        lists.publish(uri, token);
    }
    StatusListCache::new(lists)
}

fn school_public() -> VerifyingKey {
    school_key(1).verifying_key().clone()
}

#[test]
fn issues_a_holder_bound_credential_with_a_status_entry() {
    let issuer = issuer();
    let child = holder(1);
    let batch = issuer.issue("pupil_enrolment", "pupil-17", enrolment("Sanne"), child.verifying_key(), NOW).unwrap();
    assert_eq!(batch.copies().len(), 1);
    let verified = verify(&issuer, &batch.copies()[0]);
    assert_eq!(verified.issuer(), Some("did:web:delinde.example"));
    assert_eq!(verified.vct(), Some("https://schooltas.nl/credentials/enrolment/v1"));
    assert_eq!(verified.holder_key(), Some(child.verifying_key()));
    // exp is jittered down by less than a day, never beyond the type's validity.
    let exp = verified.claims()["exp"].as_i64().unwrap();
    assert!(exp <= NOW + 366 * 86_400 && exp > NOW + 365 * 86_400, "exp {exp}");
    let iat = verified.claims()["iat"].as_i64().unwrap();
    assert!(iat <= NOW && iat > NOW - 86_400, "iat {iat}");
    let reference = verified.status_reference().unwrap().unwrap();
    assert!(reference.uri().as_str().starts_with("https://delinde.example/status/enrolment/"));
    published(&issuer).check(&reference, &school_public(), NOW).unwrap();
    assert_eq!(issuer.status_of(batch.id()).unwrap(), Some(StatusValue::VALID));
    let held = issuer.credentials_of("pupil-17").unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].config_id, "pupil_enrolment");
}

#[test]
fn a_batch_gives_unlinkable_copies_that_are_revoked_together() {
    let issuer = issuer();
    let keys: Vec<VerifyingKey> = (1..=4).map(|n| holder(n).verifying_key().clone()).collect();
    let batch = issuer.issue_batch("pupil_enrolment", "pupil-17", enrolment("Sanne"), &keys, NOW).unwrap();
    assert_eq!(batch.copies().len(), 4);
    let verified: Vec<VerifiedSdJwt> = batch.copies().iter().map(|c| verify(&issuer, c)).collect();
    let references: Vec<StatusReference> = verified.iter().map(|v| v.status_reference().unwrap().unwrap()).collect();
    for (n, v) in verified.iter().enumerate() {
        assert_eq!(v.holder_key(), Some(&keys[n]), "copy {n} is bound to its own key");
    }
    let mut indices: Vec<u64> = references.iter().map(StatusReference::index).collect();
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), 4, "each copy has its own status entry");
    let signatures: std::collections::HashSet<&str> =
        batch.copies().iter().map(|c| c.split('~').next().unwrap().rsplit('.').next().unwrap()).collect();
    assert_eq!(signatures.len(), 4);

    issuer.change_status(batch.id(), StatusChange::Revoke).unwrap();
    let cache = published(&issuer);
    for reference in &references {
        let error = cache.check(reference, &school_public(), NOW).unwrap_err();
        assert!(matches!(error, StatusListError::Revoked { .. }), "{error}");
    }
}

#[test]
fn status_entries_are_random_not_sequential() {
    let issuer = issuer();
    let mut indices = Vec::new();
    for n in 0..20 {
        let batch = issuer
            .issue("pupil_enrolment", &format!("pupil-{n}"), enrolment("Sanne"), holder(1).verifying_key(), NOW)
            .unwrap();
        indices.push(verify(&issuer, &batch.copies()[0]).status_reference().unwrap().unwrap().index());
    }
    let ascending = indices.windows(2).filter(|w| w[1] == w[0] + 1).count();
    assert!(ascending < 3, "indices look sequential: {indices:?}");
    assert!(indices.iter().any(|&i| i > 1000), "indices spread over the list: {indices:?}");
}

#[test]
fn one_list_per_purpose() {
    let issuer = issuer();
    let enrolled =
        issuer.issue("pupil_enrolment", "pupil-17", enrolment("Sanne"), holder(1).verifying_key(), NOW).unwrap();
    let consented = issuer.issue("consent_receipt", "pupil-17", consent(), holder(2).verifying_key(), NOW).unwrap();
    let enrolment_ref = verify(&issuer, &enrolled.copies()[0]).status_reference().unwrap().unwrap();
    let consent_ref = verify(&issuer, &consented.copies()[0]).status_reference().unwrap().unwrap();
    assert_ne!(enrolment_ref.uri(), consent_ref.uri());
    assert!(consent_ref.uri().as_str().contains("/consent/"));
    let before = issuer.status_list_tokens(NOW).unwrap();
    issuer.change_status(consented.id(), StatusChange::Revoke).unwrap();
    let after = issuer.status_list_tokens(NOW).unwrap();
    let token_for = |tokens: &[(schooltas_status_list::StatusListUri, String)], uri| {
        tokens.iter().find(|(u, _)| u == uri).map(|(_, t)| t.clone()).unwrap()
    };
    assert_eq!(token_for(&before, enrolment_ref.uri()), token_for(&after, enrolment_ref.uri()), "enrolment untouched");
    let cache = published(&issuer);
    cache.check(&enrolment_ref, &school_public(), NOW).unwrap();
    assert!(matches!(cache.check(&consent_ref, &school_public(), NOW), Err(StatusListError::Revoked { .. })));
}

#[test]
fn suspend_reinstate_and_the_transitions_that_are_refused() {
    let issuer = issuer();
    let batch =
        issuer.issue("pupil_enrolment", "pupil-17", enrolment("Sanne"), holder(1).verifying_key(), NOW).unwrap();
    let reference = verify(&issuer, &batch.copies()[0]).status_reference().unwrap().unwrap();
    issuer.change_status(batch.id(), StatusChange::Suspend).unwrap();
    assert!(matches!(
        published(&issuer).check(&reference, &school_public(), NOW),
        Err(StatusListError::Suspended { .. })
    ));
    assert!(matches!(issuer.change_status(batch.id(), StatusChange::Suspend), Err(Error::StatusTransition { .. })));
    issuer.change_status(batch.id(), StatusChange::Reinstate).unwrap();
    published(&issuer).check(&reference, &school_public(), NOW).unwrap();
    issuer.change_status(batch.id(), StatusChange::Revoke).unwrap();
    let error = issuer.change_status(batch.id(), StatusChange::Reinstate).unwrap_err();
    assert!(
        matches!(&error, Error::StatusTransition { id, action: "reinstate", current } if id == batch.id() && current == "INVALID"),
        "{error}"
    );
    assert!(matches!(issuer.change_status("no-such-id", StatusChange::Revoke), Err(Error::UnknownCredential { .. })));
    let badge = json!({"title": "Zwemdiploma A", "criteria": "25 m", "achieved_on": "2022-06-01"});
    let badge = issuer
        .issue("achievement", "pupil-17", badge.as_object().cloned().unwrap(), holder(1).verifying_key(), NOW)
        .unwrap();
    assert!(matches!(issuer.change_status(badge.id(), StatusChange::Revoke), Err(Error::NoStatus { .. })));
    assert!(verify(&issuer, &badge.copies()[0]).status_reference().unwrap().is_none());
}

#[test]
fn wrong_claims_or_types_write_nothing() {
    let issuer = issuer();
    let mut claims = enrolment("Sanne");
    claims.insert("diagnosis".into(), json!("none"));
    let error = issuer.issue("pupil_enrolment", "pupil-17", claims, holder(1).verifying_key(), NOW).unwrap_err();
    assert!(matches!(error, Error::Credential(CredentialError::Catalog(_))), "{error}");
    let error = issuer.issue("shoe_size", "pupil-17", enrolment("Sanne"), holder(1).verifying_key(), NOW).unwrap_err();
    assert!(matches!(error, Error::UnknownCredentialType { .. }), "{error}");
    assert!(issuer.credentials_of("pupil-17").unwrap().is_empty());
    assert!(issuer.status_list_tokens(NOW).unwrap().is_empty());
}

#[test]
fn batch_limits_and_duplicate_keys_are_refused() {
    let issuer = issuer().with_max_batch(3);
    let key = holder(1).verifying_key().clone();
    let refuse =
        |keys: &[VerifyingKey]| issuer.issue_batch("pupil_enrolment", "p", enrolment("S"), keys, NOW).unwrap_err();
    assert!(matches!(refuse(&[]), Error::BatchSize { got: 0, max: 3 }));
    let four: Vec<VerifyingKey> = (1..=4).map(|n| holder(n).verifying_key().clone()).collect();
    assert!(matches!(refuse(&four), Error::BatchSize { got: 4, .. }));
    assert!(matches!(refuse(&[key.clone(), key]), Error::DuplicateHolderKey { .. }));
}

#[test]
fn credentials_signed_before_a_key_rotation_stay_verifiable() {
    let mut issuer = issuer();
    let before =
        issuer.issue("pupil_enrolment", "pupil-17", enrolment("Sanne"), holder(1).verifying_key(), NOW).unwrap();
    issuer.profile_mut().rotate_key("key-2", school_key(2)).unwrap();
    let after =
        issuer.issue("pupil_enrolment", "pupil-17", enrolment("Sanne"), holder(1).verifying_key(), NOW).unwrap();
    // Both verify through the DID document, which lists the retired key.
    verify(&issuer, &before.copies()[0]);
    verify(&issuer, &after.copies()[0]);
    let document = issuer.profile().did_document();
    assert_eq!(document["assertionMethod"], json!(["did:web:delinde.example#key-2", "did:web:delinde.example#key-1"]));
    let error = issuer.profile_mut().rotate_key("key-1", school_key(3)).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidProfile { reason } if reason.contains("already in use")),
        "key ids are never reused: {error}"
    );
    // Status lists are now signed with the new key.
    let lists = Arc::new(InMemoryStatusLists::new());
    for (uri, token) in issuer.status_list_tokens(NOW).unwrap() {
        lists.publish(uri, token);
    }
    let reference = verify(&issuer, &before.copies()[0]).status_reference().unwrap().unwrap();
    let cache = StatusListCache::new(lists);
    let error = cache.check(&reference, &school_public(), NOW).unwrap_err();
    assert!(
        matches!(error, StatusListError::Did(schooltas_did::Error::InvalidSignature)),
        "the old key no longer signs lists: {error}"
    );
    cache.check(&reference, school_key(2).verifying_key(), NOW).unwrap();
}

#[test]
fn the_database_holds_no_claim_values() {
    let dir = std::env::temp_dir().join(format!("schooltas-issuer-minimal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.sqlite");
    let _ = std::fs::remove_file(&path);
    {
        let issuer = issuer_with(SqliteStore::open(&path).unwrap());
        issuer.issue("pupil_enrolment", "pupil-17", enrolment("Zyxwvutsrq"), holder(1).verifying_key(), NOW).unwrap();
    }
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(haystack.contains("pupil_enrolment"), "the record is there");
    assert!(!haystack.contains("Zyxwvutsrq"), "the given name is not");
    assert!(!haystack.contains("2014-03-01"), "the birth date is not");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn profile_values_are_validated() {
    assert!(Brin::new("12AB").is_ok());
    for bad in ["12ab", "1234", "ABCD", "12ABC", ""] {
        assert!(matches!(Brin::new(bad), Err(Error::InvalidProfile { .. })), "{bad}");
    }
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 3).unwrap();
    assert_eq!(location.code(), "12AB03");
    assert!(matches!(
        SchoolLocation::new(Brin::new("12AB").unwrap(), 100),
        Err(Error::InvalidProfile { reason }) if reason.contains("location number 100")
    ));
    let did = Did::parse("did:web:delinde.example").unwrap();
    let keys = SchoolKeys::new("key-1", school_key(1));
    for url in ["http://delinde.example", "https://", "https://delinde.example/?a=b"] {
        let refused = SchoolProfile::new("De Linde", location.clone(), did.clone(), url, keys.clone());
        assert!(
            matches!(&refused, Err(Error::InvalidProfile { reason }) if reason.contains("is not an https URL")),
            "{url}"
        );
    }
    // A did:key school must use its own key, and cannot rotate.
    let key = school_key(1);
    let own = schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(key.verifying_key().clone()));
    let mut profile = SchoolProfile::new("De Linde", location.clone(), own, "https://a.example", keys.clone()).unwrap();
    assert!(matches!(
        profile.rotate_key("key-2", school_key(2)),
        Err(Error::InvalidProfile { reason }) if reason.contains("cannot rotate")
    ));
    let other =
        schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(school_key(9).verifying_key().clone()));
    assert!(matches!(
        SchoolProfile::new("De Linde", location, other, "https://a.example", keys),
        Err(Error::InvalidProfile { reason }) if reason.contains("must be its active key's")
    ));
}

#[test]
fn a_batch_of_ten_shares_no_salt_digest_or_holder_key() {
    let issuer = issuer();
    let keys: Vec<VerifyingKey> = (1..=10).map(|n| holder(n).verifying_key().clone()).collect();
    let batch = issuer.issue_batch("pupil_enrolment", "pupil-17", enrolment("Sanne"), &keys, NOW).unwrap();
    let mut salts = std::collections::HashSet::new();
    let mut digests = std::collections::HashSet::new();
    let mut holders = std::collections::HashSet::new();
    for copy in batch.copies() {
        let verified = verify(&issuer, copy);
        assert!(holders.insert(verified.holder_key().unwrap().to_compressed_bytes()));
        let parts: Vec<&str> = copy.split('~').collect();
        for encoded in &parts[1..parts.len() - 1] {
            let disclosure = schooltas_sd_jwt::Disclosure::parse(encoded).unwrap();
            assert!(salts.insert(disclosure.salt().to_owned()), "salt reused across copies");
            assert!(digests.insert(disclosure.digest().to_owned()), "digest reused across copies");
        }
    }
    assert_eq!(holders.len(), 10);
    assert_eq!(salts.len(), 100, "10 disclosures × 10 copies");
}

fn with_sub(mut claims: Map<String, Value>, sub: &str) -> Map<String, Value> {
    claims.insert("sub".into(), Value::String(sub.into()));
    claims
}

fn guardianship(child_ref: &str) -> Map<String, Value> {
    json!({"guardian_id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "child_id": child_ref,
           "relation": "parent", "child_birth_date": "2014-03-01", "valid_until": "2030-03-01",
           "school_brin": "12AB"})
    .as_object()
    .cloned()
    .unwrap()
}

fn disclosed(issuer: &Issuer<SqliteStore>, credential: &str, name: &str) -> Value {
    let holder = HolderSdJwt::parse(credential).unwrap();
    let all: Vec<schooltas_sd_jwt::ClaimPath> = holder
        .issued()
        .disclosures()
        .iter()
        .filter_map(|d| d.claim_name().map(schooltas_sd_jwt::ClaimPath::claim))
        .collect();
    let presented = holder.present(&all, None).unwrap();
    common::verify_via_did_document(issuer, &presented, NOW).claims().get(name).cloned().unwrap_or(Value::Null)
}

#[test]
fn each_copy_carries_its_own_child_link_and_times_and_guardianship_copy_i_carries_copy_i_s_link() {
    let issuer = issuer();
    let child_ref = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH";
    let keys: Vec<VerifyingKey> = (1..=5).map(|n| holder(n).verifying_key().clone()).collect();
    let enrolment_batch =
        issuer.issue_batch("pupil_enrolment", "pupil-17", with_sub(enrolment("Sanne"), child_ref), &keys, NOW).unwrap();
    let support_claims = json!({"sub": child_ref, "school_name": "De Linde", "school_brin": "12AB",
                                "arrangements": ["extra time"]});
    let support_batch = issuer
        .issue_batch("support_needs", "pupil-17", support_claims.as_object().cloned().unwrap(), &keys, NOW + 5)
        .unwrap();
    let parent_keys: Vec<VerifyingKey> = (6..=10).map(|n| holder(n).verifying_key().clone()).collect();
    let guardianship_batch =
        issuer.issue_batch("guardianship", "parent-17", guardianship(child_ref), &parent_keys, NOW + 60).unwrap();

    let subs: Vec<Value> = enrolment_batch.copies().iter().map(|c| disclosed(&issuer, c, "sub")).collect();
    let support_subs: Vec<Value> = support_batch.copies().iter().map(|c| disclosed(&issuer, c, "sub")).collect();
    let child_ids: Vec<Value> =
        guardianship_batch.copies().iter().map(|c| verify(&issuer, c).claims()["child_id"].clone()).collect();
    let distinct: std::collections::HashSet<String> = subs.iter().map(ToString::to_string).collect();
    assert_eq!(distinct.len(), 5, "every copy has its own link");
    for (i, sub) in subs.iter().enumerate() {
        let text = sub.as_str().unwrap();
        assert_ne!(text, child_ref, "the pupil reference never leaves the school");
        assert_eq!(text.len(), 22, "128 bits, base64url");
        assert_eq!(sub, &support_subs[i], "enrolment copy {i} and support copy {i} share their link");
        assert_eq!(sub, &child_ids[i], "guardianship copy {i} names the child's copy {i}");
    }
    // Another pupil's links are different.
    let other = issuer
        .issue_batch("pupil_enrolment", "pupil-18", with_sub(enrolment("Daan"), "leerling-18"), &keys[..1], NOW)
        .unwrap();
    assert!(!subs.contains(&disclosed(&issuer, &other.copies()[0], "sub")));

    // Timestamps: each copy its own, all within policy.
    let times: Vec<(i64, i64)> = enrolment_batch
        .copies()
        .iter()
        .map(|c| {
            let v = verify(&issuer, c);
            (v.claims()["iat"].as_i64().unwrap(), v.claims()["exp"].as_i64().unwrap())
        })
        .collect();
    let iats: std::collections::HashSet<i64> = times.iter().map(|t| t.0).collect();
    let exps: std::collections::HashSet<i64> = times.iter().map(|t| t.1).collect();
    assert_eq!(iats.len(), 5, "iat differs per copy: {times:?}");
    assert_eq!(exps.len(), 5, "exp differs per copy: {times:?}");
    for (iat, exp) in times {
        assert!(iat <= NOW && iat > NOW - 86_400);
        assert!(exp <= NOW + 366 * 86_400 && exp > NOW + 365 * 86_400);
    }
}

#[test]
fn the_guardianship_hides_the_parent_the_birth_date_and_the_school_in_the_signed_jwt() {
    let issuer = issuer();
    let batch =
        issuer.issue("guardianship", "parent-17", guardianship("leerling-17"), holder(1).verifying_key(), NOW).unwrap();
    let verified = verify(&issuer, &batch.copies()[0]);
    for hidden in ["guardian_id", "child_birth_date", "school_brin"] {
        assert!(verified.claims().get(hidden).is_none(), "{hidden} shows without its disclosure");
    }
    for shown in ["relation", "child_id", "valid_until"] {
        assert!(verified.claims().get(shown).is_some(), "{shown} is always visible");
    }
}

#[test]
fn a_child_link_claim_that_is_not_a_pupil_reference_is_refused_and_nothing_is_written() {
    let issuer = issuer();
    for bad in [json!(17), json!(""), json!("x".repeat(1025))] {
        let mut claims = enrolment("Sanne");
        claims.insert("sub".into(), bad);
        let error = issuer.issue("pupil_enrolment", "pupil-17", claims, holder(1).verifying_key(), NOW).unwrap_err();
        assert!(matches!(error, Error::ChildLinkReference { claim: "sub", .. }), "{error}");
    }
    let mut claims = guardianship("x");
    claims.insert("child_id".into(), json!(""));
    let error = issuer.issue("guardianship", "parent-17", claims, holder(1).verifying_key(), NOW).unwrap_err();
    assert!(matches!(error, Error::ChildLinkReference { claim: "child_id", .. }), "{error}");
    assert!(issuer.credentials_of("pupil-17").unwrap().is_empty());
    assert!(issuer.credentials_of("parent-17").unwrap().is_empty());
}

#[test]
fn a_persisted_child_link_key_gives_the_same_links_after_a_restart() {
    let key = schooltas_issuer::ChildLinkKey::generate();
    let bytes = key.to_bytes();
    let link_of = |issuer: &Issuer<SqliteStore>| {
        let batch = issuer
            .issue("pupil_enrolment", "p", with_sub(enrolment("Sanne"), "leerling-17"), holder(1).verifying_key(), NOW)
            .unwrap();
        disclosed(issuer, &batch.copies()[0], "sub")
    };
    let first = common::school(SqliteStore::in_memory().unwrap());
    let first = Issuer::new(
        first.profile().clone().with_child_link_key(key),
        first.catalog().clone(),
        SqliteStore::in_memory().unwrap(),
        first.status_policy().clone(),
    );
    let again = common::school(SqliteStore::in_memory().unwrap());
    let again = Issuer::new(
        again.profile().clone().with_child_link_key(schooltas_issuer::ChildLinkKey::from_bytes(*bytes)),
        again.catalog().clone(),
        SqliteStore::in_memory().unwrap(),
        again.status_policy().clone(),
    );
    assert_eq!(link_of(&first), link_of(&again));
    // A school without its key makes other links: the guardianship would no longer bind.
    assert_ne!(link_of(&first), link_of(&common::school(SqliteStore::in_memory().unwrap())));
}

fn guardianship_born(child_ref: &str, birth: &str) -> Map<String, Value> {
    let mut claims = guardianship(child_ref);
    let birth_date = schooltas_school::date::CalendarDate::parse(birth).unwrap();
    claims.insert("child_birth_date".into(), json!(birth));
    claims.insert("valid_until".into(), json!(birth_date.anniversary(16).to_string()));
    claims
}

#[test]
fn two_children_of_one_school_year_with_different_birthdays_disclose_the_same_validity() {
    use schooltas_school::date::CalendarDate;
    let issuer = issuer();
    // NOW is 2027-01-15: both turn 16 long after this school year ends on 31 July 2027.
    let a = issuer
        .issue(
            "guardianship",
            "parent-1",
            guardianship_born("leerling-1", "2014-03-01"),
            holder(1).verifying_key(),
            NOW,
        )
        .unwrap();
    let b = issuer
        .issue(
            "guardianship",
            "parent-2",
            guardianship_born("leerling-2", "2014-11-23"),
            holder(2).verifying_key(),
            NOW,
        )
        .unwrap();
    let end_of_day = CalendarDate::parse("2027-08-01").unwrap().to_unix();
    for copy in [&a.copies()[0], &b.copies()[0]] {
        let verified = verify(&issuer, copy);
        assert_eq!(verified.claims()["valid_until"], json!("2027-07-31"));
        // `exp` never says more than `valid_until`, and is jittered within its last day.
        let exp = verified.claims()["exp"].as_i64().unwrap();
        assert!(exp <= end_of_day && exp > end_of_day - 86_400, "{exp}");
        // The exact birth date stays only in the undisclosed SD claim.
        assert!(verified.claims().get("child_birth_date").is_none());
        assert_eq!(disclosed(&issuer, copy, "child_birth_date").as_str().map(str::len), Some(10));
    }
    // The school's record expires with the copies.
    let row = &issuer.credentials_of("parent-1").unwrap()[0];
    assert_eq!(row.expires_at, Some(end_of_day));
}

#[test]
fn a_child_turning_sixteen_this_school_year_discloses_the_month_before_the_birthday() {
    let issuer = issuer();
    // Turns 16 on 17 March 2027: valid through 28 February, never on or after the birthday.
    let copy = issuer
        .issue(
            "guardianship",
            "parent-3",
            guardianship_born("leerling-3", "2011-03-17"),
            holder(3).verifying_key(),
            NOW,
        )
        .unwrap();
    let verified = verify(&issuer, &copy.copies()[0]);
    assert_eq!(verified.claims()["valid_until"], json!("2027-02-28"));
    let exp = verified.claims()["exp"].as_i64().unwrap();
    assert!(exp <= schooltas_school::date::CalendarDate::parse("2027-03-01").unwrap().to_unix());
    // An administration that wrote a later end (the 18th birthday) is capped by the 16th.
    let mut later = guardianship_born("leerling-3", "2011-03-17");
    later.insert("valid_until".into(), json!("2029-03-17"));
    let copy = issuer.issue("guardianship", "parent-3", later, holder(4).verifying_key(), NOW).unwrap();
    assert_eq!(verify(&issuer, &copy.copies()[0]).claims()["valid_until"], json!("2027-02-28"));
}

#[test]
fn no_guardianship_is_issued_in_the_final_weeks_before_sixteen_and_nothing_is_written() {
    // Turns 16 on 20 January 2027, five days after NOW: the month of the birthday has begun.
    for (birth, stated) in
        [("2011-01-20", None), ("2014-03-01", Some("2027-01-31")), ("2014-03-01", Some("2026-12-01"))]
    {
        let issuer = issuer();
        let mut claims = guardianship_born("leerling-4", birth);
        if let Some(stated) = stated {
            // A court date this month, or one already past.
            claims.insert("valid_until".into(), json!(stated));
        }
        let error = issuer.issue("guardianship", "parent-4", claims, holder(5).verifying_key(), NOW).unwrap_err();
        assert!(matches!(&error, Error::RepresentationEnded { config_id } if config_id == "guardianship"), "{error}");
        assert!(!error.to_string().contains("2011") && !error.to_string().contains("2027"), "no dates in {error}");
        assert!(issuer.credentials_of("parent-4").unwrap().is_empty());
    }
}

#[test]
fn a_guardianship_without_guardian_id_names_each_copys_own_holder_key() {
    let issuer = issuer();
    let mut claims = guardianship("leerling-17");
    claims.remove("guardian_id");
    let keys: Vec<VerifyingKey> = (6..=8).map(|n| holder(n).verifying_key().clone()).collect();
    let batch = issuer.issue_batch("guardianship", "parent-17", claims, &keys, NOW).unwrap();
    let named: Vec<Value> = batch.copies().iter().map(|c| disclosed(&issuer, c, "guardian_id")).collect();
    for (key, named) in keys.iter().zip(&named) {
        let expected = schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(key.clone()));
        assert_eq!(named.as_str(), Some(expected.as_str()), "each copy names its own holder key");
    }
    let distinct: std::collections::HashSet<String> = named.iter().map(ToString::to_string).collect();
    assert_eq!(distinct.len(), 3, "no two copies share a value");

    // A guardian_id the administration gives is kept as it is.
    let batch = issuer.issue_batch("guardianship", "parent-17", guardianship("leerling-17"), &keys, NOW).unwrap();
    for copy in batch.copies() {
        assert_eq!(
            disclosed(&issuer, copy, "guardian_id"),
            json!("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
        );
    }
}
