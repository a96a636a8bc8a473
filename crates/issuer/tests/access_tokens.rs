//! An OpenID4VCI access token buys one credential request (one batch) per offered
//! configuration — not a credential per request for its whole lifetime — even when two
//! requests race, and a failure while issuing leaves it unspent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use schooltas_did::{Algorithm, Did, SigningKey};
use schooltas_issuer::store::{
    AccessTokenRow, AuthorizationCodeRow, CredentialRow, IssuerStore, IssuerTx, OfferRow, PendingAuthorizationRow,
    SqliteStore, StatusListRow,
};
use schooltas_issuer::{
    Brin, ClaimsSource, CredentialRequestRefusal, Error, Issuer, OfferPolicy, SchoolKeys, SchoolLocation,
    SchoolProfile, StatusPolicy,
};
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{CredentialRequest, ErrorCode, ErrorResponse, TokenRequest};
use schooltas_school::catalog::Catalog;
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;
const ISSUER_URL: &str = "https://delinde.example";

fn administration() -> impl ClaimsSource {
    |_: &str, config_id: &str| -> Result<Map<String, Value>, Error> {
        let claims = match config_id {
            "pupil_enrolment" => json!({"school_name": "Basisschool De Linde", "school_brin": "12AB",
                "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
                "family_name": "de Vries", "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false}),
            _ => json!({"school_name": "Basisschool De Linde", "school_brin": "12AB",
                "advice": ["havo"], "advice_date": "2027-01-31", "adjusted_after_final_test": false}),
        };
        Ok(claims.as_object().cloned().unwrap())
    }
}

/// De Linde over any store.
fn school<S: IssuerStore>(store: S) -> Issuer<S> {
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse("did:web:delinde.example").unwrap(),
        ISSUER_URL,
        SchoolKeys::new("key-1", common::school_key(1)),
    )
    .unwrap();
    Issuer::new(profile, Catalog::standard(), store, StatusPolicy::new("https://delinde.example/status"))
        .with_max_batch(4)
}

/// Offers `ids` about pupil-17 and redeems the code at the token endpoint.
fn access_token<S: IssuerStore>(issuer: &Issuer<S>, ids: &[&str]) -> String {
    let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    let (_, secrets) = issuer.offer(&OfferPolicy::default(), "pupil-17", &ids, NOW).unwrap();
    let body =
        TokenRequest { pre_authorized_code: secrets.code.to_string(), tx_code: secrets.pin.map(|p| p.to_string()) };
    issuer.token_endpoint(&OfferPolicy::default(), &body.to_form(), NOW).unwrap().access_token
}

/// A well-formed credential request for `config_id` with `copies` fresh keys and a fresh nonce.
fn credential_request<S: IssuerStore>(issuer: &Issuer<S>, config_id: &str, copies: usize) -> String {
    let nonce = issuer.nonce_endpoint(&OfferPolicy::default(), NOW).unwrap().c_nonce;
    let proofs = (0..copies)
        .map(|_| {
            let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
            sign_proof(&key, ISSUER_URL, Some(&nonce), NOW, None).unwrap()
        })
        .collect();
    CredentialRequest::new(config_id, proofs).to_json()
}

fn send<S: IssuerStore>(issuer: &Issuer<S>, token: &str, body: &str) -> Result<usize, ErrorResponse> {
    issuer.credential_endpoint(token, body, &administration(), NOW + 1).map(|response| response.credentials.len())
}

#[test]
fn a_second_request_with_the_same_token_is_refused_as_invalid_token() {
    let issuer = school(SqliteStore::in_memory().unwrap());
    let token = access_token(&issuer, &["pupil_enrolment", "school_advice"]);

    // One request may carry a batch: three copies of the enrolment.
    assert_eq!(send(&issuer, &token, &credential_request(&issuer, "pupil_enrolment", 3)), Ok(3));
    // The same token, a fresh nonce and fresh keys: a second enrolment is refused.
    let again = send(&issuer, &token, &credential_request(&issuer, "pupil_enrolment", 1)).unwrap_err();
    assert_eq!(again.error, ErrorCode::InvalidToken);
    assert_eq!(again.error.http_status(), 401);
    assert_eq!(
        again.error_description,
        Some(CredentialRequestRefusal::TokenAlreadyUsed { config_id: "pupil_enrolment".into() }.to_string()),
        "refused as TokenAlreadyUsed"
    );
    assert!(!again.to_string().contains(&token), "the answer does not echo the token");

    // The other offered configuration is still allowed, once.
    assert_eq!(send(&issuer, &token, &credential_request(&issuer, "school_advice", 1)), Ok(1));
    // Now the token allows nothing and is gone from the store.
    let spent = send(&issuer, &token, &credential_request(&issuer, "school_advice", 1)).unwrap_err();
    assert_eq!(spent.error, ErrorCode::InvalidToken);
    assert_eq!(spent.error_description, Some(CredentialRequestRefusal::UnknownToken.to_string()), "used up: deleted");
    assert!(issuer.authorize(&token, NOW + 2).unwrap().is_none());

    let issued = issuer.credentials_of("pupil-17").unwrap();
    let copies: Vec<(&str, u32)> = issued.iter().map(|row| (row.config_id.as_str(), row.copies)).collect();
    assert_eq!(copies.len(), 2);
    assert!(copies.contains(&("pupil_enrolment", 3)) && copies.contains(&("school_advice", 1)), "{copies:?}");
}

#[test]
fn an_expired_token_fetches_nothing() {
    let issuer = school(SqliteStore::in_memory().unwrap());
    let token = access_token(&issuer, &["pupil_enrolment"]);
    let body = credential_request(&issuer, "pupil_enrolment", 1);
    // OfferPolicy::default() gives tokens 300 s; the token was issued at NOW.
    let late = issuer.credential_endpoint(&token, &body, &administration(), NOW + 300).unwrap_err();
    assert_eq!(late.error, ErrorCode::InvalidToken);
    assert_eq!(late.error_description, Some(CredentialRequestRefusal::ExpiredToken.to_string()));
}

#[test]
fn a_token_for_one_configuration_does_not_fetch_another() {
    let issuer = school(SqliteStore::in_memory().unwrap());
    let token = access_token(&issuer, &["pupil_enrolment"]);
    let other = send(&issuer, &token, &credential_request(&issuer, "school_advice", 1)).unwrap_err();
    assert_eq!(other.error, ErrorCode::UnknownCredentialConfiguration);
    // The refusal did not spend it.
    assert_eq!(send(&issuer, &token, &credential_request(&issuer, "pupil_enrolment", 1)), Ok(1));
}

#[test]
fn two_requests_racing_with_one_token_get_one_batch() {
    // Two handles on one file are two connections, as two server processes would have; the
    // requests are spread over both and sent at once.
    let dir = std::env::temp_dir().join(format!("schooltas-issuer-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("issuer.sqlite");
    let issuers = [school(SqliteStore::open(&path).unwrap()), school(SqliteStore::open(&path).unwrap())];
    let token = access_token(&issuers[0], &["pupil_enrolment"]);
    let bodies: Vec<String> = (0..8).map(|i| credential_request(&issuers[i % 2], "pupil_enrolment", 2)).collect();
    let barrier = std::sync::Barrier::new(bodies.len());
    let outcomes: Vec<Result<usize, ErrorResponse>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let (issuer, token, barrier) = (&issuers[i % 2], &token, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    send(issuer, token, body)
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|outcome| outcome.is_ok()).count(), 1, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
        assert_eq!(refused.error, ErrorCode::InvalidToken, "{refused}");
    }
    let issued = issuers[1].credentials_of("pupil-17").unwrap();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].copies, 2);
    drop(issuers);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A store whose next `insert_credential` fails once `fail` is set: a crash or a full disk
/// after the token was spent in the same transaction.
struct FailingStore {
    inner: SqliteStore,
    fail: AtomicBool,
}

struct FailingTx<'a> {
    inner: &'a mut dyn IssuerTx,
    fail: &'a AtomicBool,
}

impl IssuerStore for FailingStore {
    fn transaction(
        &self,
        work: &mut dyn FnMut(&mut dyn IssuerTx) -> schooltas_issuer::Result<()>,
    ) -> schooltas_issuer::Result<()> {
        self.inner.transaction(&mut |tx| work(&mut FailingTx { inner: tx, fail: &self.fail }))
    }
}

impl IssuerTx for FailingTx<'_> {
    fn status_lists(&mut self, purpose: &str) -> schooltas_issuer::Result<Vec<StatusListRow>> {
        self.inner.status_lists(purpose)
    }
    fn status_list(&mut self, id: i64) -> schooltas_issuer::Result<Option<StatusListRow>> {
        self.inner.status_list(id)
    }
    fn all_status_lists(&mut self) -> schooltas_issuer::Result<Vec<StatusListRow>> {
        self.inner.all_status_lists()
    }
    fn insert_status_list(&mut self, list: &StatusListRow) -> schooltas_issuer::Result<i64> {
        self.inner.insert_status_list(list)
    }
    fn is_allocated(&mut self, list_id: i64, index: u64) -> schooltas_issuer::Result<bool> {
        self.inner.is_allocated(list_id, index)
    }
    fn allocate(&mut self, list_id: i64, index: u64, credential_id: &str) -> schooltas_issuer::Result<()> {
        self.inner.allocate(list_id, index, credential_id)
    }
    fn entries_of(&mut self, credential_id: &str) -> schooltas_issuer::Result<Vec<(i64, u64)>> {
        self.inner.entries_of(credential_id)
    }
    fn status(&mut self, list_id: i64, index: u64) -> schooltas_issuer::Result<u8> {
        self.inner.status(list_id, index)
    }
    fn set_status(&mut self, list_id: i64, index: u64, value: u8) -> schooltas_issuer::Result<()> {
        self.inner.set_status(list_id, index, value)
    }
    fn non_valid(&mut self, list_id: i64) -> schooltas_issuer::Result<Vec<(u64, u8)>> {
        self.inner.non_valid(list_id)
    }
    fn insert_credential(&mut self, row: &CredentialRow) -> schooltas_issuer::Result<()> {
        if self.fail.swap(false, Ordering::SeqCst) {
            return Err(Error::Storage { reason: "disk full".into() });
        }
        self.inner.insert_credential(row)
    }
    fn credential(&mut self, id: &str) -> schooltas_issuer::Result<Option<CredentialRow>> {
        self.inner.credential(id)
    }
    fn credentials_of(&mut self, subject_ref: &str) -> schooltas_issuer::Result<Vec<CredentialRow>> {
        self.inner.credentials_of(subject_ref)
    }
    fn insert_offer(&mut self, row: &OfferRow) -> schooltas_issuer::Result<()> {
        self.inner.insert_offer(row)
    }
    fn offer(&mut self, code_digest: &[u8; 32]) -> schooltas_issuer::Result<Option<OfferRow>> {
        self.inner.offer(code_digest)
    }
    fn update_offer(&mut self, row: &OfferRow) -> schooltas_issuer::Result<()> {
        self.inner.update_offer(row)
    }
    fn insert_access_token(&mut self, row: &AccessTokenRow) -> schooltas_issuer::Result<()> {
        self.inner.insert_access_token(row)
    }
    fn access_token(&mut self, token_digest: &[u8; 32]) -> schooltas_issuer::Result<Option<AccessTokenRow>> {
        self.inner.access_token(token_digest)
    }
    fn update_access_token(&mut self, row: &AccessTokenRow) -> schooltas_issuer::Result<()> {
        self.inner.update_access_token(row)
    }
    fn delete_access_token(&mut self, token_digest: &[u8; 32]) -> schooltas_issuer::Result<()> {
        self.inner.delete_access_token(token_digest)
    }
    fn insert_nonce(&mut self, nonce_digest: &[u8; 32], expires_at: i64) -> schooltas_issuer::Result<()> {
        self.inner.insert_nonce(nonce_digest, expires_at)
    }
    fn consume_nonce(&mut self, nonce_digest: &[u8; 32], now: i64) -> schooltas_issuer::Result<bool> {
        self.inner.consume_nonce(nonce_digest, now)
    }
    fn insert_pending_authorization(&mut self, row: &PendingAuthorizationRow) -> schooltas_issuer::Result<()> {
        self.inner.insert_pending_authorization(row)
    }
    fn pending_authorization(
        &mut self,
        digest: &[u8; 32],
    ) -> schooltas_issuer::Result<Option<PendingAuthorizationRow>> {
        self.inner.pending_authorization(digest)
    }
    fn pending_authorization_by_handle(
        &mut self,
        digest: &[u8; 32],
    ) -> schooltas_issuer::Result<Option<PendingAuthorizationRow>> {
        self.inner.pending_authorization_by_handle(digest)
    }
    fn update_pending_authorization(&mut self, row: &PendingAuthorizationRow) -> schooltas_issuer::Result<()> {
        self.inner.update_pending_authorization(row)
    }
    fn insert_authorization_code(&mut self, row: &AuthorizationCodeRow) -> schooltas_issuer::Result<()> {
        self.inner.insert_authorization_code(row)
    }
    fn authorization_code(&mut self, digest: &[u8; 32]) -> schooltas_issuer::Result<Option<AuthorizationCodeRow>> {
        self.inner.authorization_code(digest)
    }
    fn update_authorization_code(&mut self, row: &AuthorizationCodeRow) -> schooltas_issuer::Result<()> {
        self.inner.update_authorization_code(row)
    }
    fn purge_expired(&mut self, now: i64, limit: u32) -> schooltas_issuer::Result<u64> {
        self.inner.purge_expired(now, limit)
    }
    fn first_use_of_proof(&mut self, digest: &[u8; 32], expires_at: i64, now: i64) -> schooltas_issuer::Result<bool> {
        self.inner.first_use_of_proof(digest, expires_at, now)
    }
    fn insert_offer_reference(
        &mut self,
        row: &schooltas_issuer::store::OfferReferenceRow,
    ) -> schooltas_issuer::Result<()> {
        self.inner.insert_offer_reference(row)
    }
    fn offer_reference(
        &mut self,
        id_digest: &[u8; 32],
        now: i64,
    ) -> schooltas_issuer::Result<Option<schooltas_issuer::store::OfferReferenceRow>> {
        self.inner.offer_reference(id_digest, now)
    }
    fn pending_offer_references(&mut self, now: i64) -> schooltas_issuer::Result<u64> {
        self.inner.pending_offer_references(now)
    }
    fn delete_offer_references(&mut self, code_digest: &[u8; 32]) -> schooltas_issuer::Result<()> {
        self.inner.delete_offer_references(code_digest)
    }
}

#[test]
fn a_failure_while_issuing_leaves_the_token_and_nonce_unspent() {
    let issuer = school(FailingStore { inner: SqliteStore::in_memory().unwrap(), fail: AtomicBool::new(false) });
    let token = access_token(&issuer, &["pupil_enrolment"]);
    let body = credential_request(&issuer, "pupil_enrolment", 2);
    issuer.store().fail.store(true, Ordering::SeqCst);
    let failed = send(&issuer, &token, &body).unwrap_err();
    assert_eq!(failed.error, ErrorCode::Other("server_error".into()));
    assert!(!failed.to_string().contains("disk"), "storage details stay on the server: {failed}");
    assert!(issuer.credentials_of("pupil-17").unwrap().is_empty(), "nothing half-written");
    // The very same request (same nonce) now succeeds: neither token nor nonce was spent.
    assert_eq!(send(&issuer, &token, &body), Ok(2));
    assert_eq!(send(&issuer, &token, &body).unwrap_err().error, ErrorCode::InvalidToken);
    assert_eq!(issuer.credentials_of("pupil-17").unwrap().len(), 1);
}
