//! Receiving over OpenID4VCI from a real `schooltas-issuer` (called directly, no HTTP): the
//! batch is verified and stored with its keys and a log entry; refusals store nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::sync::Arc;

use schooltas_did::{
    Algorithm, Did, DidDocument, DidUrl, PublicKey, Resolver, Signer as _, SigningKey, VerificationRelationship,
    did_key,
};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Issuer, OfferPolicy, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{AccreditedIssuer, TrustList, VerifiedTrustList};
use schooltas_sd_jwt::Error as SdJwtError;
use schooltas_sd_jwt::HolderSdJwt;
use schooltas_status_list::Error as StatusListError;
use schooltas_status_list::{InMemoryStatusLists, StatusListCache, StatusSignerRefusal};
use schooltas_wallet::Error;
use schooltas_wallet::keys::HolderKey;
use schooltas_wallet::log;
use schooltas_wallet::receive::{Answer, IssuerConnection, Receiver, stored_credentials, trusted_issuer_key};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};
use schooltas_x509::{CertificateAuthority, Profile, Subject, Validity};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;

struct School {
    issuer: Issuer<SqliteStore>,
    lists: Arc<InMemoryStatusLists>,
    tamper: Cell<bool>,
}

impl School {
    fn new() -> Self {
        let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
        let profile = SchoolProfile::new(
            "Basisschool De Linde",
            location,
            Did::parse("did:web:delinde.example").unwrap(),
            "https://delinde.example",
            SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
        )
        .unwrap();
        Self::with_profile(profile)
    }

    /// A school with `profile` (its status lists at the usual place).
    fn with_profile(profile: SchoolProfile) -> Self {
        let issuer = Issuer::new(
            profile,
            Catalog::standard(),
            SqliteStore::in_memory().unwrap(),
            StatusPolicy::new("https://delinde.example/status"),
        );
        School { issuer, lists: Arc::new(InMemoryStatusLists::new()), tamper: Cell::new(false) }
    }

    fn publish(&self) {
        for (uri, token) in self.issuer.status_list_tokens(NOW).unwrap() {
            self.lists.publish(uri, token);
        }
    }
}

fn administration(_: &str, _: &str) -> Result<Map<String, Value>, schooltas_issuer::Error> {
    Ok(json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
              "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
              "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
    .as_object()
    .cloned()
    .unwrap())
}

impl IssuerConnection for School {
    fn issuer_metadata(&self, _: &str) -> schooltas_wallet::Result<String> {
        Ok(self.issuer.metadata().to_json())
    }
    fn authorization_server_metadata(&self, _: &str) -> schooltas_wallet::Result<String> {
        Ok(serde_json::to_string(&self.issuer.authorization_server_metadata()).unwrap())
    }
    fn offer(&self, _: &str) -> schooltas_wallet::Result<String> {
        Err(Error::InvalidInput { reason: "no offers by reference here".into() })
    }
    fn token(&self, _: &str, form: &str) -> schooltas_wallet::Result<Answer> {
        Ok(self.issuer.token_endpoint(&OfferPolicy::default(), form, NOW).map(|t| t.to_json()))
    }
    fn nonce(&self, _: &str) -> schooltas_wallet::Result<Answer> {
        Ok(self.issuer.nonce_endpoint(&OfferPolicy::default(), NOW).map(|n| serde_json::to_string(&n).unwrap()))
    }
    fn credential(&self, _: &str, token: &str, body: &str) -> schooltas_wallet::Result<Answer> {
        let answer = self.issuer.credential_endpoint(token, body, &administration, NOW);
        // Publish the new status entries, as the school's server would.
        self.publish();
        Ok(answer.map(|mut response| {
            if self.tamper.get() {
                let credential = &mut response.credentials[0].credential;
                *credential = credential.replacen("eyJ", "eyK", 1);
            }
            response.to_json()
        }))
    }
}

fn receive(
    school: &School,
    vault: &Vault,
    pin: Option<&str>,
    uri: &str,
) -> schooltas_wallet::Result<Vec<(String, String, usize)>> {
    receive_attested(school, vault, pin, uri, None)
}

fn receive_attested(
    school: &School,
    vault: &Vault,
    pin: Option<&str>,
    uri: &str,
    key_attestor: Option<&dyn schooltas_wallet::receive::KeyAttestor>,
) -> schooltas_wallet::Result<Vec<(String, String, usize)>> {
    let document = DidDocument::from_json(school.issuer.profile().did_document().to_string().as_bytes()).unwrap();
    let issuer_key = move |header: &schooltas_did::jws::Header, _: Option<&str>| {
        let kid = DidUrl::parse(header.kid().unwrap_or_default())?;
        Ok(document.verifying_key(&kid, VerificationRelationship::AssertionMethod, Algorithm::EdDsa)?)
    };
    let cache = StatusListCache::new(school.lists.clone());
    let catalog = Catalog::standard();
    let receiver = Receiver {
        vault,
        connection: school,
        catalog: &catalog,
        issuer_key: &issuer_key,
        status: &cache,
        copies: 3,
        key_attestor,
        wallet_attestor: None,
        holder_keys: None,
    };
    receiver.receive(uri, pin, NOW)
}

fn wallet() -> Vault {
    Vault::in_memory(Unlock::Key(&WalletKey::generate()), KdfParams::INSECURE_FOR_TESTS).unwrap()
}

fn offer(school: &School) -> (String, String) {
    let (offer, secrets) =
        school.issuer.offer(&OfferPolicy::default(), "pupil-17", &["pupil_enrolment".to_owned()], NOW).unwrap();
    (offer.to_uri().unwrap(), secrets.pin.as_ref().unwrap().to_string())
}

#[test]
fn a_batch_is_received_checked_and_stored_with_its_keys_and_a_log_entry() {
    let school = School::new();
    let vault = wallet();
    let (uri, pin) = offer(&school);
    let summary = receive(&school, &vault, Some(&pin), &uri).unwrap();
    assert_eq!(
        summary,
        [("pupil_enrolment".to_owned(), "https://schooltas.nl/credentials/enrolment/v1".to_owned(), 3)]
    );
    let stored = stored_credentials(&vault).unwrap();
    assert_eq!(stored.len(), 3);
    for copy in &stored {
        let HolderKey::Software(jwk) = &copy.holder_key else {
            panic!("a wallet without a key store makes software keys, sealed in the copy");
        };
        SigningKey::from_jwk_json(jwk).unwrap();
        HolderSdJwt::parse(&copy.sd_jwt).unwrap();
        assert_eq!(copy.issuer, "did:web:delinde.example");
        assert!(!copy.used);
        assert!(!format!("{copy:?}").contains(jwk.as_str()), "the private key is not printed");
        assert_eq!(stored.iter().filter(|other| other.holder_key == copy.holder_key).count(), 1, "one key per copy");
    }
    let entries = log::verify_chain(&vault).unwrap();
    assert_eq!(entries.len(), 1);
    assert!(matches!(&entries[0].event, log::LogEvent::CredentialReceived { copies: 3, .. }));
}

#[test]
fn a_wrong_pin_is_the_issuers_refusal_and_stores_nothing() {
    let school = School::new();
    let vault = wallet();
    let (uri, pin) = offer(&school);
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let error = receive(&school, &vault, Some(wrong), &uri).unwrap_err();
    assert!(matches!(&error, Error::IssuerRefused { error, .. } if error == "invalid_grant"), "{error}");
    let error = receive(&school, &vault, None, &uri).unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { reason } if reason.contains("needs the PIN")), "{error}");
    assert!(stored_credentials(&vault).unwrap().is_empty());
    assert!(log::verify_chain(&vault).unwrap().is_empty());
}

#[test]
fn a_tampered_credential_is_refused_and_nothing_is_stored() {
    let school = School::new();
    school.tamper.set(true);
    let vault = wallet();
    let (uri, pin) = offer(&school);
    let error = receive(&school, &vault, Some(&pin), &uri).unwrap_err();
    // The first "eyJ" is the issuer JWT's header: flipped, it no longer decodes to JSON.
    assert!(
        matches!(error, Error::Credential(schooltas_school::Error::Did(schooltas_did::Error::InvalidHeader { .. }))),
        "{error}"
    );
    assert!(stored_credentials(&vault).unwrap().is_empty());
}

#[test]
fn an_untrusted_issuer_key_is_refused() {
    let school = School::new();
    let vault = wallet();
    let (uri, pin) = offer(&school);
    let stranger = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let issuer_key = move |_: &schooltas_did::jws::Header, _: Option<&str>| {
        Ok(schooltas_did::Signer::verifying_key(&stranger).clone())
    };
    let cache = StatusListCache::new(school.lists.clone());
    let catalog = Catalog::standard();
    let receiver = Receiver {
        vault: &vault,
        connection: &school,
        catalog: &catalog,
        issuer_key: &issuer_key,
        status: &cache,
        copies: 1,
        key_attestor: None,
        wallet_attestor: None,
        holder_keys: None,
    };
    let error = receiver.receive(&uri, Some(&pin), NOW).unwrap_err();
    assert!(
        matches!(error, Error::Credential(schooltas_school::Error::Did(schooltas_did::Error::InvalidSignature))),
        "{error}"
    );
    assert!(stored_credentials(&vault).unwrap().is_empty());
}

/// The wallet provider's attestation service, as a phone's wallet reaches it: it signs a key
/// attestation of the keys the secure element holds (here: the provider's own ES256 key).
struct WalletProvider(SigningKey);

impl schooltas_wallet::receive::KeyAttestor for WalletProvider {
    fn attest(&self, keys: &[schooltas_did::VerifyingKey], nonce: &str, now: i64) -> schooltas_wallet::Result<String> {
        Ok(schooltas_oid4vc::oid4vci::key_attestation::KeyAttestation::new(keys.to_vec(), now)
            .expires_at(now + 86_400)
            .key_storage(["iso_18045_high"])
            .nonce(nonce)
            .sign(&self.0, schooltas_did::jws::Header::new().with_kid("wallet-provider-1"))?)
    }
}

#[test]
fn an_issuer_that_requires_key_attestations_gets_one_for_the_whole_batch() {
    use schooltas_did::Signer as _;
    let provider = WalletProvider(SigningKey::generate(Algorithm::Es256).unwrap());
    let trusted = provider.0.verifying_key().clone();
    let mut school = School::new();
    school.issuer = school.issuer.with_key_attestations(
        schooltas_issuer::oid4vci::KeyAttestationRequirement::new(move |header| match header.kid() {
            Some("wallet-provider-1") => Ok(trusted.clone()),
            _ => Err("unknown wallet provider".into()),
        })
        .key_storage(["iso_18045_high"]),
    );
    // Without an attestor the wallet says why, and stores nothing.
    let vault = wallet();
    let (uri, pin) = offer(&school);
    let error = receive(&school, &vault, Some(&pin), &uri).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidInput { reason } if reason.contains("requires key attestations")),
        "{error}"
    );
    assert!(stored_credentials(&vault).unwrap().is_empty());
    // With the wallet provider's attestation: three copies, each bound to an attested key.
    let (uri, pin) = offer(&school);
    let stored = receive_attested(&school, &vault, Some(&pin), &uri, Some(&provider)).unwrap();
    assert_eq!(stored[0].2, 3);
    // An attestation the issuer does not trust is refused by the issuer, named as such.
    let rogue = WalletProvider(SigningKey::generate(Algorithm::Es256).unwrap());
    let (uri, pin) = offer(&school);
    let error = receive_attested(&school, &vault, Some(&pin), &uri, Some(&rogue)).unwrap_err();
    assert!(matches!(&error, Error::IssuerRefused { error, .. } if error == "invalid_proof"), "{error}");
}

// --- HAIP 1.0: an issuer named by its https identifier, trusted through its x5c chain ------

const ISSUER_URL: &str = "https://delinde.example";
const ENROLMENT_VCT: &str = "https://schooltas.nl/credentials/enrolment/v1";

/// A root CA of the trust-list operator (ES256, HAIP profile), valid around `NOW`.
fn root_ca(name: &str) -> CertificateAuthority<SigningKey> {
    CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Stichting Schooltas", name).unwrap(),
        Validity::days_from(NOW - 86_400, 3650).unwrap(),
        Some(0),
        Profile::Haip,
    )
    .unwrap()
}

/// A school with a P-256 key whose certificate, issued by `ca` for `identifier`, is attached;
/// named by its https identifier when `https` (else by its DID, with the chain still in `x5c`).
fn school_with_chain(ca: &CertificateAuthority<SigningKey>, identifier: &str, https: bool) -> School {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let certificate = ca
        .issue_issuer_certificate(
            key.verifying_key(),
            identifier,
            &Subject::new("Basisschool De Linde", "De Linde issuer").unwrap(),
            Validity::days_from(NOW - 3600, 365).unwrap(),
        )
        .unwrap();
    let keys = SchoolKeys::new("key-1", key)
        .with_certificate_chain("key-1", certificate.chain().certificates().to_vec())
        .unwrap();
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
    School::with_profile(profile)
}

/// A trust list accrediting De Linde (by DID and by `issuer_uri` when `listed`), with `anchor`.
fn trust_list(anchor: Option<&[u8]>, listed: bool) -> VerifiedTrustList {
    let operator = SigningKey::from_ed25519_seed(&[5; 32]);
    let operator_did = did_key::did_for(&PublicKey::Verifying(operator.verifying_key().clone()));
    let kid = DidUrl::parse(&format!("{operator_did}#{}", operator_did.method_specific_id())).unwrap();
    let mut list = TrustList::new(operator_did, NOW - 60, NOW + 86_400);
    if let Some(anchor) = anchor {
        list = list.with_x509_trust_anchor(anchor);
    }
    if listed {
        list = list.with_issuer(
            AccreditedIssuer::new(Did::parse("did:web:delinde.example").unwrap(), "De Linde")
                .with_issuer_uri(ISSUER_URL)
                .accredited_for(ENROLMENT_VCT),
        );
    }
    list.sign_and_verify(&operator, &kid, NOW, 60).unwrap().1
}

/// Receives `school`'s enrolment offer with the issuer keys `trust_list` vouches for.
fn receive_trusting(
    school: &School,
    vault: &Vault,
    trust_list: &VerifiedTrustList,
) -> schooltas_wallet::Result<Vec<(String, String, usize)>> {
    let (uri, pin) = offer(school);
    let resolver = Resolver::offline();
    let issuer_key = trusted_issuer_key(trust_list, &resolver, NOW);
    let cache = StatusListCache::new(school.lists.clone());
    let catalog = Catalog::standard();
    let receiver = Receiver {
        vault,
        connection: school,
        catalog: &catalog,
        issuer_key: &issuer_key,
        status: &cache,
        copies: 2,
        key_attestor: None,
        wallet_attestor: None,
        holder_keys: None,
    };
    receiver.receive(&uri, Some(&pin), NOW)
}

/// Asserts `result` is the issuer-key refusal whose reason contains `reason`.
fn assert_issuer_key_refused(result: schooltas_wallet::Result<Vec<(String, String, usize)>>, reason: &str) {
    let error = result.unwrap_err();
    assert!(
        matches!(&error, Error::Credential(schooltas_school::Error::SdJwt(SdJwtError::IssuerKey { reason: r })) if r.contains(reason)),
        "{error}"
    );
}

#[test]
fn an_https_issuer_is_trusted_through_its_x5c_chain_to_the_trust_lists_anchor() {
    let ca = root_ca("Schooltas Root CA");
    let school = school_with_chain(&ca, ISSUER_URL, true);
    let vault = wallet();
    let summary = receive_trusting(&school, &vault, &trust_list(Some(ca.certificate_der()), true)).unwrap();
    assert_eq!(summary, [("pupil_enrolment".to_owned(), ENROLMENT_VCT.to_owned(), 2)]);
    let stored = stored_credentials(&vault).unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|copy| copy.issuer == ISSUER_URL));
}

#[test]
fn an_issuer_chain_to_an_anchor_the_trust_list_does_not_have_is_refused_and_nothing_is_stored() {
    let ca = root_ca("Schooltas Root CA");
    let school = school_with_chain(&ca, ISSUER_URL, true);
    let vault = wallet();
    let other = root_ca("Another Root CA");
    assert_issuer_key_refused(
        receive_trusting(&school, &vault, &trust_list(Some(other.certificate_der()), true)),
        "does not lead to a trust anchor",
    );
    assert_issuer_key_refused(
        receive_trusting(&school, &vault, &trust_list(None, true)),
        "names no X.509 trust anchors",
    );
    assert!(stored_credentials(&vault).unwrap().is_empty());
}

#[test]
fn an_issuer_certificate_for_another_identifier_is_refused() {
    let ca = root_ca("Schooltas Root CA");
    let school = school_with_chain(&ca, "https://other.example", true);
    let vault = wallet();
    assert_issuer_key_refused(
        receive_trusting(&school, &vault, &trust_list(Some(ca.certificate_der()), true)),
        "does not name the credential's issuer",
    );
    assert!(stored_credentials(&vault).unwrap().is_empty());
}

#[test]
fn a_valid_chain_does_not_make_an_unlisted_issuer_trusted() {
    let ca = root_ca("Schooltas Root CA");
    let school = school_with_chain(&ca, ISSUER_URL, true);
    let vault = wallet();
    assert_issuer_key_refused(
        receive_trusting(&school, &vault, &trust_list(Some(ca.certificate_der()), false)),
        "not listed in the trust list",
    );
}

#[test]
fn an_x5c_chain_beside_a_did_issuer_is_refused() {
    let ca = root_ca("Schooltas Root CA");
    let school = school_with_chain(&ca, ISSUER_URL, false);
    let vault = wallet();
    assert_issuer_key_refused(
        receive_trusting(&school, &vault, &trust_list(Some(ca.certificate_der()), true)),
        "its key must come from the DID",
    );
}

// --- A separate status list key: its token's own x5c is validated on receive --------------

/// As [`school_with_chain`] (https identity), its status lists signed by a separate key whose
/// certificate `status_certificate` issues for it.
fn school_with_status_key(
    ca: &CertificateAuthority<SigningKey>,
    status_certificate: impl FnOnce(&SigningKey) -> Vec<Vec<u8>>,
) -> School {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let subject = Subject::new("Basisschool De Linde", "De Linde issuer").unwrap();
    let certificate = ca
        .issue_issuer_certificate(
            key.verifying_key(),
            ISSUER_URL,
            &subject,
            Validity::days_from(NOW - 3600, 365).unwrap(),
        )
        .unwrap();
    let status = SigningKey::generate(Algorithm::Es256).unwrap();
    let status_chain = status_certificate(&status);
    let keys = SchoolKeys::new("key-1", key)
        .with_certificate_chain("key-1", certificate.chain().certificates().to_vec())
        .unwrap()
        .with_status_list_key("status-1", status, status_chain)
        .unwrap();
    keys.check_certificate_chains(NOW).unwrap();
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse("did:web:delinde.example").unwrap(),
        ISSUER_URL,
        keys,
    )
    .unwrap()
    .with_https_identity()
    .unwrap();
    School::with_profile(profile)
}

#[test]
fn a_status_list_signed_by_a_certified_status_key_is_accepted_on_receive() {
    let ca = root_ca("Schooltas Root CA");
    let school = school_with_status_key(&ca, |status| {
        let subject = Subject::new("Basisschool De Linde", "De Linde issuer").unwrap();
        let validity = Validity::days_from(NOW - 3600, 30).unwrap();
        ca.issue_status_list_certificate(status.verifying_key(), ISSUER_URL, &subject, validity)
            .unwrap()
            .chain()
            .certificates()
            .to_vec()
    });
    let vault = wallet();
    let summary = receive_trusting(&school, &vault, &trust_list(Some(ca.certificate_der()), true)).unwrap();
    assert_eq!(summary, [("pupil_enrolment".to_owned(), ENROLMENT_VCT.to_owned(), 2)]);
}

#[test]
fn a_status_key_certificate_without_the_status_signing_eku_is_refused_on_receive_and_nothing_is_stored() {
    let ca = root_ca("Schooltas Root CA");
    // An ordinary issuer certificate for the status key: the CA never delegated status signing.
    let school = school_with_status_key(&ca, |status| {
        let subject = Subject::new("Basisschool De Linde", "De Linde issuer").unwrap();
        let validity = Validity::days_from(NOW - 3600, 30).unwrap();
        ca.issue_issuer_certificate(status.verifying_key(), ISSUER_URL, &subject, validity)
            .unwrap()
            .chain()
            .certificates()
            .to_vec()
    });
    let vault = wallet();
    let error = receive_trusting(&school, &vault, &trust_list(Some(ca.certificate_der()), true)).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Credential(schooltas_school::Error::StatusList(StatusListError::UntrustedStatusSigner {
                refusal: StatusSignerRefusal::MissingStatusSigningEku
            }))
        ),
        "{error}"
    );
    assert!(stored_credentials(&vault).unwrap().is_empty());
}

#[test]
fn a_status_key_certificate_for_another_issuer_is_refused_on_receive() {
    let ca = root_ca("Schooltas Root CA");
    let school = school_with_status_key(&ca, |status| {
        let subject = Subject::new("Basisschool De Linde", "De Linde issuer").unwrap();
        let validity = Validity::days_from(NOW - 3600, 30).unwrap();
        ca.issue_status_list_certificate(status.verifying_key(), "https://other.example", &subject, validity)
            .unwrap()
            .chain()
            .certificates()
            .to_vec()
    });
    let vault = wallet();
    let error = receive_trusting(&school, &vault, &trust_list(Some(ca.certificate_der()), true)).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Credential(schooltas_school::Error::StatusList(StatusListError::UntrustedStatusSigner {
                refusal: StatusSignerRefusal::OtherIssuer
            }))
        ),
        "{error}"
    );
    assert!(stored_credentials(&vault).unwrap().is_empty());
}

#[test]
fn a_bare_issuer_key_closure_refuses_a_status_list_token_with_x5c() {
    use schooltas_status_list::{Bits, StatusList, StatusListToken, StatusListUri, UnverifiedStatusListToken};
    use schooltas_wallet::receive::IssuerTrust as _;
    let school = SigningKey::generate(Algorithm::Es256).unwrap();
    let issuer_key = |_: &schooltas_did::jws::Header, _: Option<&str>| Ok(school.verifying_key().clone());
    let uri = StatusListUri::new("https://delinde.example/status/1").unwrap();
    let list = StatusList::new(Bits::One, 8).unwrap();
    let ca = root_ca("Schooltas Root CA");
    let x5c = ca
        .issue_status_list_certificate(
            school.verifying_key(),
            ISSUER_URL,
            &Subject::new("Basisschool De Linde", "De Linde issuer").unwrap(),
            Validity::days_from(NOW - 3600, 30).unwrap(),
        )
        .unwrap()
        .chain()
        .to_x5c();
    let with_x5c =
        StatusListToken::new(uri.clone(), NOW, list.clone()).sign_with_x5c(&school, None, Some(&x5c)).unwrap();
    let header = UnverifiedStatusListToken::parse(&with_x5c).unwrap().header().clone();
    let refused = |iss: &str| match issuer_key.status_list_key(&header, iss, school.verifying_key(), NOW) {
        Err(StatusListError::UntrustedStatusSigner { refusal }) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    };
    // No anchors to validate the chain to: fail closed.
    assert_eq!(refused(ISSUER_URL), StatusSignerRefusal::NoTrustAnchors);
    assert_eq!(refused("did:web:delinde.example"), StatusSignerRefusal::DidIssuerWithX5c);
    // Without x5c the token must verify with the credential's key, as before.
    let plain = StatusListToken::new(uri, NOW, list).sign(&school, None).unwrap();
    let header = UnverifiedStatusListToken::parse(&plain).unwrap().header().clone();
    assert_eq!(
        &issuer_key.status_list_key(&header, ISSUER_URL, school.verifying_key(), NOW).unwrap(),
        school.verifying_key()
    );
}
