//! A separate status list key (draft-ietf-oauth-status-list: a Status Issuer the school's CA
//! delegated to with the `id-kp-oauthStatusSigning` EKU): status list tokens are signed with it
//! and carry its `x5c`; the chains attached to the school's keys are checked at start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::{Algorithm, Did, Signer as _, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, ChainProblem, Error, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_school::catalog::Catalog;
use schooltas_status_list::{StatusListTokenOptions, UnverifiedStatusListToken};
use schooltas_x509::{CertificateAuthority, CertificateChain, Profile, Subject, Validity};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const ISSUER_URL: &str = "https://delinde.example";

fn root() -> CertificateAuthority<SigningKey> {
    CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Stichting Schooltas", "Schooltas Root CA").unwrap(),
        Validity::new(NOW - 10 * DAY, NOW + 3650 * DAY).unwrap(),
        Some(0),
        Profile::Haip,
    )
    .unwrap()
}

fn subject() -> Subject {
    Subject::new("Basisschool De Linde", "De Linde issuer").unwrap()
}

fn status_chain(ca: &CertificateAuthority<SigningKey>, key: &SigningKey, validity: Validity) -> Vec<Vec<u8>> {
    ca.issue_status_list_certificate(key.verifying_key(), ISSUER_URL, &subject(), validity)
        .unwrap()
        .into_chain()
        .certificates()
        .to_vec()
}

fn valid() -> Validity {
    Validity::new(NOW - DAY, NOW + 365 * DAY).unwrap()
}

fn issuer(keys: SchoolKeys, https: bool) -> Issuer<SqliteStore> {
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let mut profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse("did:web:delinde.example").unwrap(),
        ISSUER_URL,
        keys,
    )
    .unwrap();
    if https {
        profile = profile.with_https_identity().unwrap();
    }
    Issuer::new(
        profile,
        Catalog::standard(),
        SqliteStore::in_memory().unwrap(),
        StatusPolicy::new("https://delinde.example/status"),
    )
}

fn enrolment() -> serde_json::Map<String, serde_json::Value> {
    json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
           "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
           "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
    .as_object()
    .cloned()
    .unwrap()
}

#[test]
fn status_lists_are_signed_by_the_status_key_and_carry_its_chain() {
    let ca = root();
    let school = SigningKey::generate(Algorithm::Es256).unwrap();
    let school_public = school.verifying_key().clone();
    let status = SigningKey::generate(Algorithm::Es256).unwrap();
    let status_public = status.verifying_key().clone();
    let chain = status_chain(&ca, &status, valid());
    let keys = SchoolKeys::new("key-1", school).with_status_list_key("status-1", status, chain.clone()).unwrap();
    keys.check_certificate_chains(NOW).unwrap();
    let issuer = issuer(keys, true);
    let holder = SigningKey::from_ed25519_seed(&[7; 32]);
    issuer.issue("pupil_enrolment", "pupil-1", enrolment(), holder.verifying_key(), NOW).unwrap();

    let tokens = issuer.status_list_tokens(NOW).unwrap();
    assert!(!tokens.is_empty());
    for (_, jwt) in &tokens {
        let parsed = UnverifiedStatusListToken::parse(jwt).unwrap();
        assert_eq!(parsed.header().kid(), Some("status-1"));
        let x5c = CertificateChain::from_x5c(parsed.header().get("x5c").unwrap()).unwrap();
        assert_eq!(x5c.certificates(), chain.as_slice());
        let token = parsed.verify(&status_public, &StatusListTokenOptions::default(), NOW).unwrap();
        assert_eq!(token.issuer(), Some(ISSUER_URL));
        // Not signed by the credential key any more.
        let refused = parsed.verify(&school_public, &StatusListTokenOptions::default(), NOW);
        assert!(
            matches!(refused, Err(schooltas_status_list::Error::Did(schooltas_did::Error::InvalidSignature))),
            "{refused:?}"
        );
    }
}

#[test]
fn a_did_school_refuses_to_sign_with_a_separate_status_key() {
    let ca = root();
    let status = SigningKey::generate(Algorithm::Es256).unwrap();
    let chain = status_chain(&ca, &status, valid());
    let keys = SchoolKeys::new("key-1", SigningKey::generate(Algorithm::Es256).unwrap())
        .with_status_list_key("status-1", status, chain)
        .unwrap();
    let issuer = issuer(keys, false);
    let holder = SigningKey::from_ed25519_seed(&[7; 32]);
    issuer.issue("pupil_enrolment", "pupil-1", enrolment(), holder.verifying_key(), NOW).unwrap();
    let error = issuer.status_list_tokens(NOW).unwrap_err();
    assert!(matches!(&error, Error::InvalidProfile { reason } if reason.contains("https identity")), "{error}");
}

#[test]
fn a_status_key_id_in_use_or_an_empty_chain_is_refused() {
    let keys = SchoolKeys::new("key-1", SigningKey::generate(Algorithm::Es256).unwrap());
    let error = keys
        .clone()
        .with_status_list_key("key-1", SigningKey::generate(Algorithm::Es256).unwrap(), vec![vec![1]])
        .unwrap_err();
    assert!(matches!(&error, Error::InvalidProfile { reason } if reason.contains("already in use")), "{error}");
    let error =
        keys.with_status_list_key("status-1", SigningKey::generate(Algorithm::Es256).unwrap(), Vec::new()).unwrap_err();
    assert!(matches!(&error, Error::InvalidProfile { reason } if reason.contains("empty")), "{error}");
}

#[test]
fn a_chain_for_another_key_is_refused_naming_the_kid() {
    let ca = root();
    let status = SigningKey::generate(Algorithm::Es256).unwrap();
    let someone_else = SigningKey::generate(Algorithm::Es256).unwrap();
    let keys = SchoolKeys::new("key-1", SigningKey::generate(Algorithm::Es256).unwrap())
        .with_status_list_key("status-1", status, status_chain(&ca, &someone_else, valid()))
        .unwrap();
    let error = keys.check_certificate_chains(NOW).unwrap_err();
    assert!(
        matches!(&error, Error::CertificateChain { kid, problem: ChainProblem::OtherKey } if kid == "status-1"),
        "{error}"
    );
    // The credential key's chain is checked the same way.
    let school = SigningKey::generate(Algorithm::Es256).unwrap();
    let other_chain = ca
        .issue_issuer_certificate(someone_else.verifying_key(), ISSUER_URL, &subject(), valid())
        .unwrap()
        .into_chain()
        .certificates()
        .to_vec();
    let keys = SchoolKeys::new("key-1", school).with_certificate_chain("key-1", other_chain).unwrap();
    let error = keys.check_certificate_chains(NOW).unwrap_err();
    assert!(
        matches!(&error, Error::CertificateChain { kid, problem: ChainProblem::OtherKey } if kid == "key-1"),
        "{error}"
    );
}

#[test]
fn an_expired_or_unreadable_chain_is_refused_naming_the_kid() {
    let ca = root();
    let status = SigningKey::generate(Algorithm::Es256).unwrap();
    let expired = Validity::new(NOW - 30 * DAY, NOW - DAY).unwrap();
    let chain = status_chain(&ca, &status, expired);
    let keys = SchoolKeys::new("key-1", SigningKey::generate(Algorithm::Es256).unwrap())
        .with_status_list_key("status-1", status, chain)
        .unwrap();
    let error = keys.check_certificate_chains(NOW).unwrap_err();
    assert!(
        matches!(&error, Error::CertificateChain { kid, problem: ChainProblem::Expired { now: NOW, .. } } if kid == "status-1"),
        "{error}"
    );
    assert!(error.to_string().contains("status-1"));

    let keys = SchoolKeys::new("key-1", SigningKey::generate(Algorithm::Es256).unwrap())
        .with_certificate_chain("key-1", vec![vec![0x30, 0x00]])
        .unwrap();
    let error = keys.check_certificate_chains(NOW).unwrap_err();
    assert!(
        matches!(&error, Error::CertificateChain { kid, problem: ChainProblem::Unreadable } if kid == "key-1"),
        "{error}"
    );
}

#[test]
fn the_eu_profile_refuses_a_status_key_that_is_not_p256() {
    let ca = root();
    let status = SigningKey::from_ed25519_seed(&[3; 32]);
    let some_chain = vec![ca.certificate_der().to_vec()]; // not checked here: the algorithm is refused first
    let keys = SchoolKeys::new("key-1", SigningKey::generate(Algorithm::Es256).unwrap())
        .with_status_list_key("status-1", status, some_chain)
        .unwrap();
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse("did:web:delinde.example").unwrap(),
        ISSUER_URL,
        keys,
    )
    .unwrap();
    let error = profile.with_https_identity().unwrap_err();
    assert!(
        matches!(&error, Error::InvalidProfile { reason } if reason.contains("status list key a P-256 key")),
        "{error}"
    );
}
