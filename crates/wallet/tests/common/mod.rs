//! A school (issuer and did:web document), a trust list, a verifier and wallets for a family,
//! all in one process: what the request tests and the bench share.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use schooltas_did::did_web::DocumentFetcher;
use schooltas_did::{Did, DidUrl, PublicKey, Resolver, Signer, SigningKey, did_key};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Issuer, OfferPolicy, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, AuthorizationRequestUri, CredentialQuery, DcqlQuery};
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{
    AccreditedIssuer, RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::issuer_key_via_did;
use schooltas_status_list::{InMemoryStatusLists, StatusListCache};
use schooltas_wallet::receive::{Answer, IssuerConnection, Receiver};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};
use schooltas_wallet::{Error, Role, Verifiers, Wallet};
use serde_json::{Map, Value, json};

pub(crate) const NOW: i64 = 1_800_000_000; // 2027-01-15
pub(crate) const SCHOOL_DID: &str = "did:web:delinde.example";
pub(crate) const ENROLMENT: &str = "https://schooltas.nl/credentials/enrolment/v1";

/// The `vct#integrity` every credential of catalog type `id` carries.
pub(crate) fn integrity(id: &str) -> String {
    Catalog::standard().get(id).unwrap().type_metadata_integrity().to_owned()
}

pub(crate) fn vct(id: &str) -> String {
    Catalog::standard().get(id).unwrap().vct().as_str().to_owned()
}

/// The school: issuer, its did:web document served by a fetcher, its status lists.
pub(crate) struct School {
    pub(crate) issuer: Issuer<SqliteStore>,
    pub(crate) lists: Arc<InMemoryStatusLists>,
    /// The pupil administration: (subject, config id) → claims.
    pub(crate) records: Mutex<HashMap<(String, String), Map<String, Value>>>,
}

struct Documents(Vec<u8>);

impl DocumentFetcher for Documents {
    fn fetch(&self, url: &str) -> schooltas_did::Result<Vec<u8>> {
        assert_eq!(url, "https://delinde.example/.well-known/did.json");
        Ok(self.0.clone())
    }
}

impl School {
    pub(crate) fn new() -> Self {
        let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
        let profile = SchoolProfile::new(
            "Basisschool De Linde",
            location,
            Did::parse(SCHOOL_DID).unwrap(),
            "https://delinde.example",
            SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
        )
        .unwrap();
        let issuer = Issuer::new(
            profile,
            Catalog::standard(),
            SqliteStore::in_memory().unwrap(),
            StatusPolicy::new("https://delinde.example/status"),
        );
        School { issuer, lists: Arc::new(InMemoryStatusLists::new()), records: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn resolver(&self) -> Resolver {
        Resolver::with_web_fetcher(Documents(self.issuer.profile().did_document().to_string().into_bytes()))
    }

    pub(crate) fn publish(&self) {
        for (uri, token) in self.issuer.status_list_tokens(NOW).unwrap() {
            self.lists.publish(uri, token);
        }
    }

    pub(crate) fn enrol(&self, subject: &str, config_id: &str, claims: Value) {
        self.records
            .lock()
            .unwrap()
            .insert((subject.to_owned(), config_id.to_owned()), claims.as_object().cloned().unwrap());
    }

    /// Offers `config_ids` about `subject` and lets `wallet` receive them (3 copies each).
    pub(crate) fn issue_to(&self, wallet: &Wallet, subject: &str, config_ids: &[&str]) {
        self.try_issue_to(wallet, subject, config_ids).unwrap();
    }

    /// [`School::issue_to`], the wallet's refusal returned.
    pub(crate) fn try_issue_to(
        &self,
        wallet: &Wallet,
        subject: &str,
        config_ids: &[&str],
    ) -> schooltas_wallet::Result<Vec<(String, String, usize)>> {
        let ids: Vec<String> = config_ids.iter().map(|s| (*s).to_owned()).collect();
        let (offer, secrets) = self.issuer.offer(&OfferPolicy::default(), subject, &ids, NOW).unwrap();
        let resolver = self.resolver();
        let issuer_key =
            move |header: &schooltas_did::jws::Header, iss: Option<&str>| issuer_key_via_did(&resolver, header, iss);
        let cache = StatusListCache::new(self.lists.clone());
        let catalog = Catalog::standard();
        let receiver = Receiver {
            vault: wallet.vault(),
            connection: self,
            catalog: &catalog,
            issuer_key: &issuer_key,
            status: &cache,
            copies: 3,
            key_attestor: None,
            wallet_attestor: None,
            holder_keys: Some(wallet.holder_keys()),
        };
        let pin = secrets.pin.as_ref().map(|p| p.to_string());
        receiver.receive(&offer.to_uri().unwrap(), pin.as_deref(), NOW)
    }
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
        let records = self.records.lock().unwrap().clone();
        let administration = move |subject: &str, config: &str| {
            records
                .get(&(subject.to_owned(), config.to_owned()))
                .cloned()
                .ok_or(schooltas_issuer::Error::UnknownCredential { id: subject.to_owned() })
        };
        let answer = self.issuer.credential_endpoint(token, body, &administration, NOW);
        self.publish();
        Ok(answer.map(|response| response.to_json()))
    }
}

pub(crate) fn did_of(key: &SigningKey) -> Did {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()))
}

/// A verifier with a did:key.
pub(crate) struct Verifier {
    pub(crate) key: SigningKey,
    pub(crate) did: Did,
}

impl Verifier {
    pub(crate) fn new(seed: u8) -> Self {
        let key = SigningKey::from_ed25519_seed(&[seed; 32]);
        let did = did_of(&key);
        Verifier { key, did }
    }

    pub(crate) fn client_id(&self) -> String {
        format!("decentralized_identifier:{}", self.did)
    }

    pub(crate) fn kid(&self) -> DidUrl {
        let fragment = self.did.as_str().trim_start_matches("did:key:").to_owned();
        DidUrl::parse(&format!("{}#{fragment}", self.did)).unwrap()
    }

    /// A signed request by value, as an `openid4vp://` URI.
    pub(crate) fn request_uri(&self, request: &AuthorizationRequest, now: i64) -> String {
        let jwt = request.sign(&self.key, &self.kid(), now, 600).unwrap();
        AuthorizationRequestUri::ByValue { client_id: request.client_id.clone(), request_jwt: jwt }.to_uri()
    }
}

pub(crate) fn purpose(code: &str, nl: &str, en: &str) -> Purpose {
    Purpose { code: code.into(), text: LocalizedText { nl: nl.into(), en: en.into() } }
}

pub(crate) fn paths(names: &[&str]) -> Vec<ClaimPath> {
    names.iter().map(|n| ClaimPath::claim(*n)).collect()
}

/// The newsletter photo request: the enrolment's group, given name, `sub` and `age_over_16`.
pub(crate) fn newsletter_request(verifier: &Verifier, claims: &[&str]) -> AuthorizationRequest {
    let mut query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]);
    for path in paths(claims) {
        query = query.claim(path);
    }
    let dcql = DcqlQuery::builder().credential(query).build().unwrap();
    AuthorizationRequest::new(
        &verifier.did,
        "https://delinde.example/oid4vp/response",
        schooltas_oid4vc::oid4vp::random_nonce(),
        dcql,
    )
    .with_state("session-81f2a")
    .with_schooltas(SchooltasExtension::new(
        purpose("newsletter", "Klassenfoto in de nieuwsbrief", "Class photo in the newsletter"),
        LegalBasis::Consent,
        365,
    ))
    .unwrap()
}

/// The trust list: the school accredited for every standard type; the verifier registered for
/// the newsletter (consent) and the transfer (legal obligation).
pub(crate) fn trust_list(verifier: &Verifier) -> VerifiedTrustList {
    let operator = SigningKey::from_ed25519_seed(&[9; 32]);
    let mut school = AccreditedIssuer::new(Did::parse(SCHOOL_DID).unwrap(), "Basisschool De Linde").with_brin("12AB");
    for credential_type in Catalog::standard().iter() {
        school = school.accredited_for(credential_type.vct().as_str());
    }
    let registration = VerifierRegistration::new(verifier.did.clone(), "Basisschool De Linde (nieuwsbrief)")
        .with_purpose(
            RegisteredPurpose::new(
                "newsletter",
                LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
                LegalBasis::Consent,
                365,
            )
            .allow(ENROLMENT, paths(&["group", "given_name", "sub", "age_over_16"])),
        )
        .with_purpose(
            RegisteredPurpose::new(
                "enrolment_check",
                LocalizedText { nl: "Inschrijving controleren".into(), en: "Check enrolment".into() },
                LegalBasis::LegalObligation,
                1825,
            )
            .allow(ENROLMENT, paths(&["school_brin", "school_year", "given_name", "family_name"])),
        );
    let operator_did = did_of(&operator);
    let kid = DidUrl::parse(&format!("{operator_did}#{}", operator_did.method_specific_id())).unwrap();
    TrustList::new(operator_did, NOW - 3600, NOW + 400 * 86_400)
        .with_issuer(school)
        .with_verifier(registration)
        .sign_and_verify(&operator, &kid, NOW, 60)
        .unwrap()
        .1
}

/// Signs changed trust-list content with the test operator's key (tests that narrow or widen
/// the standard list).
#[allow(dead_code)]
pub(crate) fn resign(list: TrustList) -> VerifiedTrustList {
    let operator = SigningKey::from_ed25519_seed(&[9; 32]);
    let operator_did = did_of(&operator);
    let kid = DidUrl::parse(&format!("{operator_did}#{}", operator_did.method_specific_id())).unwrap();
    list.sign_and_verify(&operator, &kid, NOW, 60).unwrap().1
}

pub(crate) fn verifiers<'a>(trust_list: &'a VerifiedTrustList, resolver: &'a Resolver) -> Verifiers<'a> {
    Verifiers { trust_list, resolver, fetch_request_object: None }
}

pub(crate) fn vault() -> Vault {
    Vault::in_memory(Unlock::Key(&WalletKey::generate()), KdfParams::INSECURE_FOR_TESTS).unwrap()
}

/// A family: a child born on `birth_date` and a parent, with enrolment (child) and
/// guardianship (parent) credentials issued by the school.
pub(crate) struct Family {
    pub(crate) child: Wallet,
    pub(crate) parent: Wallet,
}

pub(crate) fn family(school: &School, subject: &str, birth_date: &str) -> Family {
    family_naming(school, subject, birth_date, Guardian::FromHolderKey)
}

/// How the school names the parent in the guardianship credential.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Guardian<'a> {
    /// As a school importing its administration does: no `guardian_id`, so the issuer names
    /// each copy's own holder key.
    FromHolderKey,
    /// By this DID (the parent's wallet DID, or someone else's).
    Named(&'a str),
    /// By the parent's wallet DID.
    WalletDid,
}

/// [`family`], with the guardianship credential naming the parent as `guardian` says.
pub(crate) fn family_naming(school: &School, subject: &str, birth_date: &str, guardian: Guardian<'_>) -> Family {
    let child = Wallet::create(
        vault(),
        Role::Child { birth_date: schooltas_school::date::CalendarDate::parse(birth_date).unwrap() },
        NOW,
    )
    .unwrap();
    let parent = Wallet::create(vault(), Role::Parent, NOW).unwrap();
    let birth = schooltas_school::date::CalendarDate::parse(birth_date).unwrap();
    let age = birth.age_on(schooltas_school::date::CalendarDate::from_unix(NOW));
    school.enrol(
        subject,
        "pupil_enrolment",
        json!({"sub": child.owner().did().as_str(), "school_name": "Basisschool De Linde", "school_brin": "12AB",
               "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
               "family_name": "de Vries", "birth_date": birth_date, "age_over_12": age >= 12,
               "age_over_16": age >= 16}),
    );
    let mut guardianship = json!({"child_id": child.owner().did().as_str(),
               "relation": "parent", "child_birth_date": birth_date,
               "valid_until": birth.anniversary(16).to_string(), "school_brin": "12AB"});
    match guardian {
        Guardian::FromHolderKey => {}
        Guardian::Named(did) => guardianship["guardian_id"] = json!(did),
        Guardian::WalletDid => guardianship["guardian_id"] = json!(parent.owner().did().as_str()),
    }
    school.enrol(subject, "guardianship", guardianship);
    school.issue_to(&child, subject, &["pupil_enrolment"]);
    // From the 1st of the month of the 16th birthday the school issues no guardianship
    // (schooltas_issuer::validity): the parent's wallet then holds none.
    if schooltas_issuer::validity::disclosed_valid_until(birth.anniversary(16), Some(birth), NOW).is_some() {
        school.issue_to(&parent, subject, &["guardianship"]);
    }
    Family { child, parent }
}

/// An enrolment-check request from `verifier` asking the enrolment credential for `claims`,
/// stating `basis` and `retention_days` (hand-crafted: no request builder refuses it).
pub(crate) fn enrolment_check_request(
    verifier: &Verifier,
    claims: &[&str],
    basis: LegalBasis,
    retention_days: u32,
) -> AuthorizationRequest {
    let query = claims
        .iter()
        .fold(CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]), |query, name| query.claim(ClaimPath::claim(*name)));
    AuthorizationRequest::new(
        &verifier.did,
        "https://delinde.example/oid4vp/response",
        schooltas_oid4vc::oid4vp::random_nonce(),
        DcqlQuery::builder().credential(query).build().unwrap(),
    )
    .with_schooltas(SchooltasExtension::new(
        purpose("enrolment_check", "Inschrijving", "Enrolment"),
        basis,
        retention_days,
    ))
    .unwrap()
}

/// The scene most request tests start from: De Linde's school, verifier `seed` registered on a
/// trust list, and a resolver that knows the school's did:web document. Borrow the two last for
/// [`verifiers`].
pub(crate) fn scene(seed: u8) -> (School, Verifier, VerifiedTrustList, Resolver) {
    let school = School::new();
    let verifier = Verifier::new(seed);
    let trust = trust_list(&verifier);
    let resolver = school.resolver();
    (school, verifier, trust, resolver)
}
