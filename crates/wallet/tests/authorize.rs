//! The wallet's side of the authorization code flow against a real `schooltas-issuer` (called
//! directly, the test playing the browser and the school's portal): the round trip with and
//! without DPoP, and each refusal of the authorization response — state, iss (RFC 9207),
//! the redirect URI, an error response.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use schooltas_did::{Algorithm, Did, DidDocument, DidUrl, SigningKey, VerificationRelationship};
use schooltas_issuer::oid4vci::{DpopContext, TokenScheme};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{
    AuthorizationPolicy, Brin, DpopRequirement, Issuer, OfferPolicy, SchoolKeys, SchoolLocation, SchoolProfile,
    StatusPolicy,
};
use schooltas_oid4vc::oid4vci::authorization::AuthorizationRequestReference;
use schooltas_oid4vc::oid4vci::{AuthorizationResponse, CredentialOffer, ErrorCode};
use schooltas_school::catalog::Catalog;
use schooltas_status_list::{InMemoryStatusLists, StatusListCache};
use schooltas_wallet::authorize::{AuthorizationInProgress, StartFrom};
use schooltas_wallet::receive::{Answer, DpopAnswer, IssuerConnection, Receiver, stored_credentials};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};
use schooltas_wallet::{AuthorizationResponseRefusal, Error};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://delinde.example";
const CLIENT: &str = "https://wallet.schooltas.example";
const REDIRECT: &str = "nl.schooltas.wallet:/authorized";
const PARENT: &str = "pupil-0417/parent";

struct School {
    issuer: Issuer<SqliteStore>,
    lists: Arc<InMemoryStatusLists>,
    /// Serve the metadata without `scope`s: the wallet then asks by `authorization_details`.
    without_scopes: bool,
    /// The credential requests the wallet sent, as JSON.
    credential_requests: std::cell::RefCell<Vec<Value>>,
}

impl School {
    fn new(configure: impl FnOnce(Issuer<SqliteStore>) -> Issuer<SqliteStore>) -> Self {
        let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
        let profile = SchoolProfile::new(
            "Basisschool De Linde",
            location,
            Did::parse("did:web:delinde.example").unwrap(),
            ISSUER,
            SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
        )
        .unwrap();
        let issuer = Issuer::new(
            profile,
            Catalog::standard(),
            SqliteStore::in_memory().unwrap(),
            StatusPolicy::new("https://delinde.example/status"),
        );
        School {
            issuer: configure(issuer),
            lists: Arc::new(InMemoryStatusLists::new()),
            without_scopes: false,
            credential_requests: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn with_flow() -> Self {
        Self::new(|issuer| issuer.with_authorization_code_flow(AuthorizationPolicy::default()))
    }

    /// The browser at the authorization endpoint and the portal logging the parent in: the URL
    /// the browser is sent back to.
    fn portal_approves(&self, in_progress: &AuthorizationInProgress) -> String {
        let handle = self.portal_start(in_progress).handle.to_string();
        self.issuer.complete_authorization(&handle, PARENT, None, NOW).unwrap().as_str().to_owned()
    }

    fn portal_start(&self, in_progress: &AuthorizationInProgress) -> schooltas_issuer::AuthorizationStart {
        let url = in_progress.authorization_url();
        assert!(url.starts_with("https://delinde.example/authorize?"), "{url}");
        let reference = AuthorizationRequestReference::from_query(url.split_once('?').unwrap().1).unwrap();
        self.issuer.authorization_endpoint(&reference.client_id, &reference.request_uri, NOW).unwrap()
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
        let mut metadata = self.issuer.metadata();
        if self.without_scopes {
            for configuration in metadata.credential_configurations_supported.values_mut() {
                configuration.scope = None;
            }
        }
        Ok(metadata.to_json())
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
        self.credential_requests.borrow_mut().push(serde_json::from_str(body).unwrap());
        let answer = self.issuer.credential_endpoint(token, body, &administration, NOW);
        for (uri, token) in self.issuer.status_list_tokens(NOW).unwrap() {
            self.lists.publish(uri, token);
        }
        Ok(answer.map(|response| response.to_json()))
    }
    fn push_authorization_request(&self, _: &str, form: &str) -> schooltas_wallet::Result<Answer> {
        Ok(self.issuer.par_endpoint(form, None, NOW).map(|pushed| pushed.to_json()))
    }
    fn push_authorization_request_with_dpop(
        &self,
        url: &str,
        form: &str,
        proof: &str,
    ) -> schooltas_wallet::Result<DpopAnswer> {
        let answer = self.issuer.par_endpoint(form, Some(DpopContext { proof: Some(proof), url }), NOW);
        Ok(DpopAnswer {
            answer: answer.map(|pushed| pushed.to_json()),
            dpop_nonce: self.issuer.dpop_nonce(NOW),
            attestation_challenge: None,
        })
    }
    fn token_with_dpop(&self, url: &str, form: &str, proof: &str) -> schooltas_wallet::Result<DpopAnswer> {
        let context = Some(DpopContext { proof: Some(proof), url });
        let answer = self.issuer.token_endpoint_with_dpop(&OfferPolicy::default(), form, context, NOW);
        Ok(DpopAnswer {
            answer: answer.map(|t| t.to_json()),
            dpop_nonce: self.issuer.dpop_nonce(NOW),
            attestation_challenge: None,
        })
    }
    fn credential_with_dpop(
        &self,
        url: &str,
        token: &str,
        body: &str,
        proof: &str,
    ) -> schooltas_wallet::Result<DpopAnswer> {
        let context = Some(DpopContext { proof: Some(proof), url });
        let answer =
            self.issuer.credential_endpoint_with_dpop(token, TokenScheme::Dpop, context, body, &administration, NOW);
        for (uri, token) in self.issuer.status_list_tokens(NOW).unwrap() {
            self.lists.publish(uri, token);
        }
        Ok(DpopAnswer {
            answer: answer.map(|r| r.to_json()),
            dpop_nonce: self.issuer.dpop_nonce(NOW),
            attestation_challenge: None,
        })
    }
}

fn wallet() -> Vault {
    Vault::in_memory(Unlock::Key(&WalletKey::generate()), KdfParams::INSECURE_FOR_TESTS).unwrap()
}

/// Runs `work` with a receiver of `vault` at `school`.
fn with_receiver<T>(school: &School, vault: &Vault, work: impl FnOnce(&Receiver<'_>) -> T) -> T {
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
        copies: 2,
        key_attestor: None,
        wallet_attestor: None,
        holder_keys: None,
    };
    work(&receiver)
}

fn start(school: &School, vault: &Vault) -> AuthorizationInProgress {
    with_receiver(school, vault, |receiver| {
        receiver
            .start_authorization(StartFrom::Issuer(ISSUER), &["pupil_enrolment".to_owned()], CLIENT, REDIRECT, NOW)
            .unwrap()
    })
}

fn finish(
    school: &School,
    vault: &Vault,
    in_progress: &AuthorizationInProgress,
    url: &str,
) -> schooltas_wallet::Result<Vec<(String, String, usize)>> {
    with_receiver(school, vault, |receiver| receiver.finish_authorization(in_progress, url, NOW))
}

/// The response the portal sent, rebuilt with other `state` / `iss`.
fn rebuilt(location: &str, state: Option<&str>, iss: Option<&str>) -> String {
    let AuthorizationResponse::Code { code, .. } = AuthorizationResponse::from_redirect_url(location).unwrap() else {
        panic!()
    };
    AuthorizationResponse::Code { code, state: state.map(str::to_owned), iss: iss.map(str::to_owned) }
        .redirect_location(REDIRECT)
}

#[test]
fn a_parent_receives_through_the_portal_and_the_code() {
    let school = School::with_flow();
    let vault = wallet();
    let in_progress = start(&school, &vault);
    assert!(!in_progress.has_dpop_key());
    // The app keeps it across the browser hop.
    let kept = AuthorizationInProgress::from_json(&in_progress.to_json()).unwrap();
    let location = school.portal_approves(&kept);
    let summary = finish(&school, &vault, &kept, &location).unwrap();
    assert_eq!(
        summary,
        [("pupil_enrolment".to_owned(), "https://schooltas.nl/credentials/enrolment/v1".to_owned(), 2)]
    );
    assert_eq!(stored_credentials(&vault).unwrap().len(), 2);
}

#[test]
fn with_dpop_the_code_and_the_token_are_bound_to_the_authorizations_key() {
    let school = School::new(|issuer| {
        issuer.with_authorization_code_flow(AuthorizationPolicy::default()).with_dpop(DpopRequirement::haip())
    });
    let vault = wallet();
    let in_progress = start(&school, &vault);
    assert!(in_progress.has_dpop_key());
    let kept = AuthorizationInProgress::from_json(&in_progress.to_json()).unwrap();
    let location = school.portal_approves(&kept);
    let summary = finish(&school, &vault, &kept, &location).unwrap();
    assert_eq!(summary[0].2, 2);
}

#[test]
fn the_secrets_of_an_authorization_in_progress_are_not_printed() {
    let school = School::new(|issuer| {
        issuer.with_authorization_code_flow(AuthorizationPolicy::default()).with_dpop(DpopRequirement::optional())
    });
    let in_progress = start(&school, &wallet());
    let json: Value = serde_json::from_str(&in_progress.to_json()).unwrap();
    let verifier = json["code_verifier"].as_str().unwrap();
    assert_eq!(verifier.len(), 43, "32 random bytes, base64url");
    let debug = format!("{in_progress:?}");
    assert!(!debug.contains(verifier), "{debug}");
    let key: Value = serde_json::from_str(json["dpop_key"].as_str().unwrap()).unwrap();
    assert!(!debug.contains(key["d"].as_str().unwrap()), "{debug}");
}

#[test]
fn a_response_with_another_state_is_refused_and_nothing_is_stored() {
    let school = School::with_flow();
    let vault = wallet();
    let in_progress = start(&school, &vault);
    let location = school.portal_approves(&in_progress);
    for state in [Some("someone-elses-state"), None] {
        let forged = rebuilt(&location, state, Some(ISSUER));
        let error = finish(&school, &vault, &in_progress, &forged).unwrap_err();
        assert!(matches!(error, Error::AuthorizationResponse(AuthorizationResponseRefusal::StateMismatch)), "{error}");
    }
    assert!(stored_credentials(&vault).unwrap().is_empty());
    // The real response still works: the refusals spent nothing.
    assert_eq!(finish(&school, &vault, &in_progress, &location).unwrap()[0].2, 2);
}

#[test]
fn a_response_from_another_issuer_or_without_iss_is_refused() {
    let school = School::with_flow();
    let vault = wallet();
    let in_progress = start(&school, &vault);
    let location = school.portal_approves(&in_progress);
    let mixed_up = rebuilt(&location, Some(in_progress.state()), Some("https://attacker.example"));
    let error = finish(&school, &vault, &in_progress, &mixed_up).unwrap_err();
    assert!(matches!(error, Error::AuthorizationResponse(AuthorizationResponseRefusal::IssuerMismatch)), "{error}");
    let missing = rebuilt(&location, Some(in_progress.state()), None);
    let error = finish(&school, &vault, &in_progress, &missing).unwrap_err();
    assert!(matches!(error, Error::AuthorizationResponse(AuthorizationResponseRefusal::MissingIssuer)), "{error}");
    assert!(stored_credentials(&vault).unwrap().is_empty());
}

#[test]
fn a_response_at_another_redirect_uri_is_refused() {
    let school = School::with_flow();
    let vault = wallet();
    let in_progress = start(&school, &vault);
    let location = school.portal_approves(&in_progress);
    let elsewhere = location.replacen(REDIRECT, "nl.schooltas.wallet:/elsewhere", 1);
    let error = finish(&school, &vault, &in_progress, &elsewhere).unwrap_err();
    assert!(matches!(error, Error::AuthorizationResponse(AuthorizationResponseRefusal::WrongRedirectUri)), "{error}");
}

#[test]
fn a_parent_who_says_no_is_a_typed_refusal() {
    let school = School::with_flow();
    let vault = wallet();
    let in_progress = start(&school, &vault);
    let handle = school.portal_start(&in_progress).handle.to_string();
    let denied = school.issuer.deny_authorization(&handle, NOW).unwrap();
    let error = finish(&school, &vault, &in_progress, denied.as_str()).unwrap_err();
    assert!(matches!(error, Error::AuthorizationDenied), "{error}");
    let other = AuthorizationResponse::Error {
        error: ErrorCode::Other("temporarily_unavailable".into()),
        error_description: None,
        state: Some(in_progress.state().to_owned()),
        iss: Some(ISSUER.into()),
    }
    .redirect_location(REDIRECT);
    let error = finish(&school, &vault, &in_progress, &other).unwrap_err();
    assert!(matches!(&error, Error::IssuerRefused { error, .. } if error == "temporarily_unavailable"), "{error}");
}

#[test]
fn an_offer_with_the_authorization_code_grant_sends_its_issuer_state() {
    let school = School::with_flow();
    let vault = wallet();
    let offer =
        CredentialOffer::authorization_code(ISSUER, vec!["pupil_enrolment".into()], Some("letter-2026-17".into()));
    let in_progress = with_receiver(&school, &vault, |receiver| {
        receiver.start_authorization(StartFrom::Offer(&offer.to_uri().unwrap()), &[], CLIENT, REDIRECT, NOW).unwrap()
    });
    assert_eq!(in_progress.config_ids(), ["pupil_enrolment"]);
    let start = school.portal_start(&in_progress);
    assert_eq!(start.issuer_state.as_deref(), Some("letter-2026-17"));
}

#[test]
fn an_issuer_without_the_flow_or_a_bad_redirect_uri_is_refused_before_anything_is_sent() {
    let school = School::new(|issuer| issuer);
    let vault = wallet();
    let ids = ["pupil_enrolment".to_owned()];
    let error = with_receiver(&school, &vault, |receiver| {
        receiver.start_authorization(StartFrom::Issuer(ISSUER), &ids, CLIENT, REDIRECT, NOW).unwrap_err()
    });
    assert!(matches!(&error, Error::InvalidInput { reason } if reason.contains("authorization code flow")), "{error}");
    let school = School::with_flow();
    let error = with_receiver(&school, &vault, |receiver| {
        receiver
            .start_authorization(StartFrom::Issuer(ISSUER), &ids, CLIENT, "http://wallet.example/cb", NOW)
            .unwrap_err()
    });
    assert!(error.to_string().contains("redirect_uri"), "{error}");
}

#[test]
fn a_wallet_that_asked_by_authorization_details_asks_for_the_credential_by_its_identifier() {
    let school = School { without_scopes: true, ..School::with_flow() };
    let vault = wallet();
    let in_progress = start(&school, &vault);
    let location = school.portal_approves(&in_progress);
    let summary = finish(&school, &vault, &in_progress, &location).unwrap();
    assert_eq!(summary[0].0, "pupil_enrolment");
    assert_eq!(stored_credentials(&vault).unwrap().len(), 2);
    let requests = school.credential_requests.borrow();
    assert_eq!(requests.len(), 1);
    // OpenID4VCI 1.0 §8.2: the identifier from the token response, not the configuration id.
    assert_eq!(requests[0]["credential_identifier"], "pupil_enrolment");
    assert!(requests[0].get("credential_configuration_id").is_none(), "{}", requests[0]);
}

#[test]
fn a_scope_request_asks_for_the_credential_by_configuration_id() {
    let school = School::with_flow();
    let vault = wallet();
    let in_progress = start(&school, &vault);
    let location = school.portal_approves(&in_progress);
    finish(&school, &vault, &in_progress, &location).unwrap();
    let requests = school.credential_requests.borrow();
    assert_eq!(requests[0]["credential_configuration_id"], "pupil_enrolment");
    assert!(requests[0].get("credential_identifier").is_none());
}

/// A wallet attestor that counts its uses and attests nothing.
struct CountingAttestor {
    client_id: &'static str,
    uses: std::cell::Cell<u32>,
}

impl schooltas_wallet::wallet_attestation::WalletAttestor for CountingAttestor {
    fn client_id(&self) -> &str {
        self.client_id
    }

    fn attest(&self, _: &str, _: i64) -> schooltas_wallet::Result<schooltas_wallet::wallet_attestation::ClientAuth> {
        self.uses.set(self.uses.get() + 1);
        Err(Error::InvalidInput { reason: "this attestor attests nothing".into() })
    }
}

/// A connection that records every request and answers none.
#[derive(Default)]
struct Recording(std::cell::RefCell<Vec<&'static str>>);

impl Recording {
    fn record(&self, what: &'static str) -> schooltas_wallet::Result<String> {
        self.0.borrow_mut().push(what);
        Err(Error::InvalidInput { reason: "offline".into() })
    }
}

impl IssuerConnection for Recording {
    fn issuer_metadata(&self, _: &str) -> schooltas_wallet::Result<String> {
        self.record("issuer metadata")
    }
    fn authorization_server_metadata(&self, _: &str) -> schooltas_wallet::Result<String> {
        self.record("authorization server metadata")
    }
    fn offer(&self, _: &str) -> schooltas_wallet::Result<String> {
        self.record("offer")
    }
    fn token(&self, _: &str, _: &str) -> schooltas_wallet::Result<Answer> {
        self.record("token").map(Ok)
    }
    fn nonce(&self, _: &str) -> schooltas_wallet::Result<Answer> {
        self.record("nonce").map(Ok)
    }
    fn credential(&self, _: &str, _: &str, _: &str) -> schooltas_wallet::Result<Answer> {
        self.record("credential").map(Ok)
    }
}

#[test]
fn a_client_id_other_than_the_attestors_is_refused_before_anything_is_sent() {
    let vault = wallet();
    let attestor = CountingAttestor { client_id: "https://wallet.schooltas.example/other", uses: 0.into() };
    let connection = Recording::default();
    let school = School::with_flow();
    let document = DidDocument::from_json(school.issuer.profile().did_document().to_string().as_bytes()).unwrap();
    let issuer_key = move |header: &schooltas_did::jws::Header, _: Option<&str>| {
        let kid = DidUrl::parse(header.kid().unwrap_or_default())?;
        Ok(document.verifying_key(&kid, VerificationRelationship::AssertionMethod, Algorithm::EdDsa)?)
    };
    let cache = StatusListCache::new(Arc::new(InMemoryStatusLists::new()));
    let catalog = Catalog::standard();
    let receiver = Receiver {
        vault: &vault,
        connection: &connection,
        catalog: &catalog,
        issuer_key: &issuer_key,
        status: &cache,
        copies: 1,
        key_attestor: None,
        wallet_attestor: Some(&attestor),
        holder_keys: None,
    };
    let error = receiver
        .start_authorization(StartFrom::Issuer(ISSUER), &["pupil_enrolment".to_owned()], CLIENT, REDIRECT, NOW)
        .unwrap_err();
    assert!(matches!(error, Error::ClientIdMismatch), "{error}");
    assert!(connection.0.borrow().is_empty(), "sent: {:?}", connection.0.borrow());
    assert_eq!(attestor.uses.get(), 0);
}
