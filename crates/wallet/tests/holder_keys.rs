//! Holder keys in an app's key store (a phone's secure element): a wallet whose store makes
//! ES256 keys only receives P-256-bound copies, presents them, approves as a guardian and
//! withdraws, every signature made by the store; the wallet file records only the store's
//! reference and the public key; a store that fails to sign is a typed error; a copy written in
//! the format before key stores still loads and presents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use schooltas_did::{Algorithm, Signature, Signer, SigningKey, VerifyingKey};
use schooltas_school::consent::UnverifiedWithdrawal;
use schooltas_sd_jwt::{KeyBinding, UnverifiedSdJwt, VerifyOptions, issuer_key_via_did};
use schooltas_wallet::keys::{BoxedSigner, ExternalKey, HolderKey, HolderKeys};
use schooltas_wallet::receive::stored_credentials;
use schooltas_wallet::vault::{KdfParams, Unlock, Vault};
use schooltas_wallet::{Decision, Error, Outcome, Role, Wallet};
use serde_json::json;

/// A secure element stand-in: P-256 keys by alias, never leaving it; counts signatures; can be
/// told to fail.
#[derive(Default)]
struct SecureElement {
    keys: Mutex<HashMap<String, SigningKey>>,
    signatures: Arc<AtomicUsize>,
    broken: Arc<AtomicBool>,
}

struct ElementSigner {
    key: SigningKey,
    signatures: Arc<AtomicUsize>,
    broken: Arc<AtomicBool>,
}

impl Signer for ElementSigner {
    fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }
    fn verifying_key(&self) -> &VerifyingKey {
        self.key.verifying_key()
    }
    fn sign(&self, message: &[u8]) -> schooltas_did::Result<Signature> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(schooltas_did::Error::Signer("the user cancelled the biometric prompt".into()));
        }
        self.signatures.fetch_add(1, Ordering::SeqCst);
        self.key.sign(message)
    }
}

impl HolderKeys for SecureElement {
    fn algorithms(&self) -> Vec<Algorithm> {
        vec![Algorithm::Es256]
    }
    fn generate(&self, algorithm: Algorithm) -> schooltas_wallet::Result<HolderKey> {
        let key = SigningKey::generate(algorithm)?;
        let mut keys = self.keys.lock().unwrap();
        let alias = format!("schooltas-holder-{}", keys.len());
        let public = key.verifying_key().clone();
        keys.insert(alias.clone(), key);
        Ok(HolderKey::External(ExternalKey::new(alias, public)))
    }
    fn signer(&self, key: &ExternalKey) -> schooltas_wallet::Result<BoxedSigner> {
        let keys = self.keys.lock().unwrap();
        let found = keys
            .get(&key.reference)
            .ok_or_else(|| Error::HolderKeyUnavailable { reason: "no such key in the element".into() })?;
        let key = SigningKey::from_jwk_json(found.to_private_jwk().as_str())?;
        Ok(Box::new(ElementSigner { key, signatures: self.signatures.clone(), broken: self.broken.clone() }))
    }
}

fn wallet_with(element: &Arc<SecureElement>, role: Role) -> Wallet {
    let store: Arc<dyn HolderKeys> = element.clone();
    Wallet::create(vault(), role, NOW).unwrap().with_holder_keys(store)
}

/// The child (12) and the parent, both with secure-element keys, enrolled at the school.
fn family_with_elements(school: &School, element: &Arc<SecureElement>) -> (Wallet, Wallet) {
    let birth_date = "2014-09-01";
    let child = wallet_with(
        element,
        Role::Child { birth_date: schooltas_school::date::CalendarDate::parse(birth_date).unwrap() },
    );
    let parent = wallet_with(element, Role::Parent);
    school.enrol(
        "pupil-se",
        "pupil_enrolment",
        json!({"sub": child.owner().did().as_str(), "school_name": "Basisschool De Linde", "school_brin": "12AB",
               "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
               "family_name": "de Vries", "birth_date": birth_date, "age_over_12": true, "age_over_16": false}),
    );
    school.enrol(
        "pupil-se",
        "guardianship",
        json!({"child_id": child.owner().did().as_str(), "relation": "parent", "child_birth_date": birth_date,
               "valid_until": "2030-09-01", "school_brin": "12AB"}),
    );
    school.issue_to(&child, "pupil-se", &["pupil_enrolment"]);
    school.issue_to(&parent, "pupil-se", &["guardianship"]);
    (child, parent)
}

#[test]
fn a_secure_element_wallet_receives_presents_approves_and_withdraws_with_es256_keys() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let element = Arc::new(SecureElement::default());
    let (child, parent) = family_with_elements(&school, &element);

    // The file holds references and public keys only, and every copy is bound to a P-256 key.
    for wallet in [&child, &parent] {
        let copies = stored_credentials(wallet.vault()).unwrap();
        assert_eq!(copies.len(), 3);
        for copy in &copies {
            let HolderKey::External(key) = &copy.holder_key else { panic!("a software key was stored") };
            assert!(key.reference.starts_with("schooltas-holder-"));
            assert_eq!(key.public_key.algorithm(), Algorithm::Es256);
        }
    }
    let proofs = element.signatures.load(Ordering::SeqCst);
    assert_eq!(proofs, 6, "one key proof per copy, signed in the element");

    let request = newsletter_request(&verifier, &["group", "given_name", "sub", "age_over_16"]);
    let prompt = child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let Outcome::AwaitGuardian(to_parent) = child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a 12-year-old needs a parent")
    };
    let answer = parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    let response = child.complete_with_guardian(&answer, NOW).unwrap();
    assert!(response.discloses);
    // KB-JWT (child) and the guardianship's KB-JWT and the approval (parent) were signed there.
    assert_eq!(element.signatures.load(Ordering::SeqCst), proofs + 3);

    // The child's presentation verifies with its key binding to the P-256 key.
    let parsed = schooltas_school::consent::response_from_form(&response.body).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, &request.client_id));
    let verified = UnverifiedSdJwt::parse(&parsed.vp_token["enrolment"][0])
        .unwrap()
        .verify_with(|h, iss| issuer_key_via_did(&resolver, h, iss), &options, NOW)
        .unwrap();
    assert_eq!(verified.holder_key().unwrap().algorithm(), Algorithm::Es256);

    let consent = &parent.consents().unwrap()[0];
    let message = parent.withdraw(&consent.id, NOW + 60).unwrap();
    assert_eq!(element.signatures.load(Ordering::SeqCst), proofs + 4);
    let withdrawal = UnverifiedWithdrawal::parse(&message.jwt).unwrap();
    let approver = stored_credentials(parent.vault())
        .unwrap()
        .into_iter()
        .find_map(|copy| {
            let key = copy.holder_key.verifying_key().unwrap();
            withdrawal.verify(&key, &request.client_id, NOW + 60, 60).ok().map(|_| key)
        })
        .expect("the withdrawal verifies with one of the parent's element keys");
    assert_eq!(approver.algorithm(), Algorithm::Es256);
}

#[test]
fn a_signer_failure_is_a_typed_error_and_nothing_is_sent() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let element = Arc::new(SecureElement::default());
    let (child, _parent) = family_with_elements(&school, &element);
    let request = newsletter_request(&verifier, &["group", "given_name", "sub", "age_over_16"]);
    let prompt = child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    element.broken.store(true, Ordering::SeqCst);
    let err = child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap_err();
    // The KB-JWT is signed inside the SD-JWT layer, whose errors arrive as credential errors.
    assert!(matches!(err, Error::Credential(schooltas_school::Error::Did(schooltas_did::Error::Signer(_)))), "{err:?}");
    assert!(err.to_string().contains("biometric prompt"), "{err}");
    // Receiving with a failing element stores nothing.
    let fresh = wallet_with(&element, Role::Parent);
    let err = school.try_issue_to(&fresh, "pupil-se", &["guardianship"]).unwrap_err();
    assert!(matches!(err, Error::Credential(schooltas_school::Error::Did(schooltas_did::Error::Signer(_)))), "{err:?}");
    assert!(stored_credentials(fresh.vault()).unwrap().is_empty());
}

#[test]
fn a_copy_stored_without_its_element_cannot_sign_and_says_why() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let element = Arc::new(SecureElement::default());
    let store: Arc<dyn HolderKeys> = element.clone();
    let dir = std::env::temp_dir().join(format!("schooltas-holder-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wallet.sqlite");
    let unlock = || Unlock::Passphrase("correct horse battery staple");
    let child = Wallet::create(
        Vault::create(&path, unlock(), KdfParams::INSECURE_FOR_TESTS).unwrap(),
        Role::Child { birth_date: schooltas_school::date::CalendarDate::parse("2008-09-01").unwrap() },
        NOW,
    )
    .unwrap()
    .with_holder_keys(store);
    school.enrol(
        "pupil-18",
        "pupil_enrolment",
        json!({"sub": child.owner().did().as_str(), "school_name": "Basisschool De Linde", "school_brin": "12AB",
               "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Eva",
               "family_name": "de Vries", "birth_date": "2008-09-01", "age_over_12": true, "age_over_16": true}),
    );
    school.issue_to(&child, "pupil-18", &["pupil_enrolment"]);
    // The same file opened by a handle without the app's store.
    let without = Wallet::open(Vault::open(&path, unlock()).unwrap()).unwrap();
    let request = newsletter_request(&verifier, &["group", "given_name", "sub", "age_over_16"]);
    let prompt = without.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    let err = without.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap_err();
    assert!(matches!(err, Error::HolderKeyUnavailable { .. }), "{err:?}");
    // With the app's store the same copies present.
    let store: Arc<dyn HolderKeys> = element.clone();
    let with = Wallet::open(Vault::open(&path, unlock()).unwrap()).unwrap().with_holder_keys(store);
    let prompt = with.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert!(matches!(with.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap(), Outcome::Send(_)));
    drop((child, without, with));
    std::fs::remove_dir_all(&dir).ok();
}
