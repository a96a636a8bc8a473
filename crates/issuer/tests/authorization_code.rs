//! The authorization code flow (PKCE S256, PAR, `iss`; HAIP 1.0 §4) at the issuer: the round
//! trip PAR → authorize → the portal's answer → token → credential, and each refusal with its
//! error code or variant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_issuer::oid4vci::{DpopContext, TokenScheme};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{
    AuthorizationPolicy, AuthorizationRefusal, ClaimsSource, DpopRequirement, Error, Issuer, OfferPolicy,
};
use schooltas_oid4vc::dpop::sign_dpop_proof;
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{
    AuthorizationCodeTokenRequest, AuthorizationResponse, CredentialRequest, ErrorCode, PushedAuthorizationRequest,
    pkce_challenge,
};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

const NOW: i64 = 1_800_000_000;
const CLIENT: &str = "https://wallet.schooltas.example";
const REDIRECT: &str = "nl.schooltas.wallet:/authorized";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PAR_URL: &str = "https://delinde.example/par";
const TOKEN_URL: &str = "https://delinde.example/token";
const PARENT: &str = "pupil-0417/parent";

fn administration() -> impl ClaimsSource {
    |_: &str, _: &str| -> Result<Map<String, Value>, Error> {
        Ok(json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
            "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
            "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false})
        .as_object()
        .cloned()
        .unwrap())
    }
}

fn issuer() -> Issuer<SqliteStore> {
    common::school(SqliteStore::in_memory().unwrap()).with_authorization_code_flow(AuthorizationPolicy::default())
}

fn par_request() -> PushedAuthorizationRequest {
    PushedAuthorizationRequest::new(CLIENT, REDIRECT, pkce_challenge(VERIFIER))
        .with_scope("pupil_enrolment")
        .with_state("state-1")
}

/// PAR and the browser's visit: the portal's handle.
fn started(issuer: &Issuer<SqliteStore>, request: &PushedAuthorizationRequest, dpop: Option<&str>) -> String {
    let context = DpopContext { proof: dpop, url: PAR_URL };
    let pushed = issuer.par_endpoint(&request.to_form(), Some(context), NOW).unwrap();
    let start = issuer.authorization_endpoint(CLIENT, &pushed.request_uri, NOW + 5).unwrap();
    start.handle.to_string()
}

/// The code of a completed authorization.
fn code_of(location: &str) -> String {
    match AuthorizationResponse::from_redirect_url(location).unwrap() {
        AuthorizationResponse::Code { code, .. } => code,
        other => panic!("not a code: {other:?}"),
    }
}

fn approved(issuer: &Issuer<SqliteStore>) -> String {
    let handle = started(issuer, &par_request(), None);
    code_of(issuer.complete_authorization(&handle, PARENT, None, NOW + 10).unwrap().as_str())
}

fn token_form(code: &str) -> AuthorizationCodeTokenRequest {
    AuthorizationCodeTokenRequest {
        code: Zeroizing::new(code.to_owned()),
        redirect_uri: REDIRECT.into(),
        code_verifier: Zeroizing::new(VERIFIER.into()),
        client_id: CLIENT.into(),
    }
}

fn redeem(
    issuer: &Issuer<SqliteStore>,
    request: &AuthorizationCodeTokenRequest,
    now: i64,
) -> Result<String, ErrorCode> {
    issuer
        .token_endpoint(&OfferPolicy::default(), &request.to_form(), now)
        .map(|token| token.access_token)
        .map_err(|error| error.error)
}

fn credential_body(issuer: &Issuer<SqliteStore>) -> String {
    let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let nonce = issuer.nonce_endpoint(&OfferPolicy::default(), NOW).unwrap().c_nonce;
    let proof = sign_proof(&holder, "https://delinde.example", Some(&nonce), NOW, None).unwrap();
    CredentialRequest::new("pupil_enrolment".to_owned(), vec![proof]).to_json()
}

#[test]
fn a_parent_gets_a_credential_through_par_the_portal_and_the_code() {
    let issuer = issuer();
    let pushed = issuer.par_endpoint(&par_request().to_form(), None, NOW).unwrap();
    assert!(pushed.request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(pushed.request_uri.len() >= "urn:ietf:params:oauth:request_uri:".len() + 43, "at least 256 bits");
    assert_eq!(pushed.expires_in, 60);
    let start = issuer.authorization_endpoint(CLIENT, &pushed.request_uri, NOW + 5).unwrap();
    assert_eq!(start.config_ids, ["pupil_enrolment"]);
    assert_eq!(start.client_id, CLIENT);
    assert!(!format!("{start:?}").contains(start.handle.as_str()));
    let location = issuer.complete_authorization(&start.handle, PARENT, None, NOW + 10).unwrap();
    assert!(location.as_str().starts_with(&format!("{REDIRECT}?code=")));
    let AuthorizationResponse::Code { code, state, iss } =
        AuthorizationResponse::from_redirect_url(location.as_str()).unwrap()
    else {
        panic!()
    };
    assert_eq!((state.as_deref(), iss.as_deref()), (Some("state-1"), Some("https://delinde.example")));
    let token = issuer.token_endpoint(&OfferPolicy::default(), &token_form(&code).to_form(), NOW + 15).unwrap();
    assert_eq!(token.token_type, "Bearer");
    let row = issuer.authorize(&token.access_token, NOW + 15).unwrap().unwrap();
    assert_eq!((row.subject_ref.as_str(), row.config_ids.as_slice()), (PARENT, &["pupil_enrolment".to_owned()][..]));
    let response = issuer
        .credential_endpoint(&token.access_token, &credential_body(&issuer), &administration(), NOW + 20)
        .unwrap();
    assert_eq!(response.credentials.len(), 1);
}

#[test]
fn the_metadata_names_the_flow_only_when_it_is_on() {
    let on = issuer().authorization_server_metadata();
    assert_eq!(on.pushed_authorization_request_endpoint.as_deref(), Some(PAR_URL));
    assert_eq!(on.authorization_endpoint.as_deref(), Some("https://delinde.example/authorize"));
    assert!(on.require_pushed_authorization_requests && on.authorization_response_iss_parameter_supported);
    assert_eq!(on.code_challenge_methods_supported, ["S256"]);
    assert_eq!(on.response_types_supported, ["code"]);
    assert!(on.grant_types_supported.iter().any(|g| g == "authorization_code"));
    let off = common::school(SqliteStore::in_memory().unwrap()).authorization_server_metadata();
    let json = serde_json::to_value(&off).unwrap();
    for member in
        ["authorization_endpoint", "pushed_authorization_request_endpoint", "code_challenge_methods_supported"]
    {
        assert!(json.get(member).is_none(), "{member}");
    }
}

#[test]
fn an_issuer_without_the_flow_refuses_par_and_the_code_grant() {
    let issuer = common::school(SqliteStore::in_memory().unwrap());
    let par = issuer.par_endpoint(&par_request().to_form(), None, NOW).unwrap_err();
    assert_eq!(par.error, ErrorCode::InvalidRequest);
    assert_eq!(redeem(&issuer, &token_form("x"), NOW), Err(ErrorCode::UnsupportedGrantType));
    assert!(matches!(
        issuer.authorization_endpoint(CLIENT, "urn:ietf:params:oauth:request_uri:x", NOW),
        Err(Error::Authorization(AuthorizationRefusal::FlowOff))
    ));
}

#[test]
fn par_refuses_plain_or_missing_pkce_and_unknown_credentials() {
    let issuer = issuer();
    let form = par_request().to_form();
    let plain = form.replace("code_challenge_method=S256", "code_challenge_method=plain");
    assert_eq!(issuer.par_endpoint(&plain, None, NOW).unwrap_err().error, ErrorCode::InvalidRequest);
    let missing = form.replace(&format!("code_challenge={}&", pkce_challenge(VERIFIER)), "");
    assert_eq!(issuer.par_endpoint(&missing, None, NOW).unwrap_err().error, ErrorCode::InvalidRequest);
    let unknown_scope = PushedAuthorizationRequest::new(CLIENT, REDIRECT, pkce_challenge(VERIFIER)).with_scope("pizza");
    assert_eq!(issuer.par_endpoint(&unknown_scope.to_form(), None, NOW).unwrap_err().error, ErrorCode::InvalidScope);
    let unknown_detail =
        PushedAuthorizationRequest::new(CLIENT, REDIRECT, pkce_challenge(VERIFIER)).with_configuration("pizza");
    assert_eq!(issuer.par_endpoint(&unknown_detail.to_form(), None, NOW).unwrap_err().error, ErrorCode::InvalidRequest);
    let inner_request_uri = format!("{form}&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax");
    assert_eq!(issuer.par_endpoint(&inner_request_uri, None, NOW).unwrap_err().error, ErrorCode::InvalidRequest);
}

#[test]
fn a_request_uri_works_once_until_it_expires_and_only_for_its_client() {
    let issuer = issuer();
    let push = || issuer.par_endpoint(&par_request().to_form(), None, NOW).unwrap().request_uri;
    let refusal = |result: Result<_, Error>| match result {
        Err(Error::Authorization(refusal)) => refusal,
        other => panic!("not an authorization refusal: {other:?}"),
    };
    let once = push();
    issuer.authorization_endpoint(CLIENT, &once, NOW + 1).unwrap();
    assert_eq!(refusal(issuer.authorization_endpoint(CLIENT, &once, NOW + 2)), AuthorizationRefusal::RequestUriUsed);
    let late = push();
    assert_eq!(
        refusal(issuer.authorization_endpoint(CLIENT, &late, NOW + 60)),
        AuthorizationRefusal::RequestUriExpired
    );
    let other = push();
    assert_eq!(
        refusal(issuer.authorization_endpoint("https://other.example", &other, NOW + 1)),
        AuthorizationRefusal::ClientMismatch
    );
    assert_eq!(
        refusal(issuer.authorization_endpoint(CLIENT, "urn:ietf:params:oauth:request_uri:nope", NOW)),
        AuthorizationRefusal::UnknownRequestUri
    );
}

#[test]
fn a_handle_is_answered_once_before_it_expires_and_only_with_what_was_asked() {
    let issuer = issuer();
    let handle = started(&issuer, &par_request(), None);
    let not_asked = issuer.complete_authorization(&handle, PARENT, Some(&["guardianship".to_owned()]), NOW + 10);
    assert!(matches!(
        not_asked,
        Err(Error::Authorization(AuthorizationRefusal::NotRequested { ref config_id })) if config_id == "guardianship"
    ));
    let nothing = issuer.complete_authorization(&handle, PARENT, Some(&[]), NOW + 10);
    assert!(matches!(nothing, Err(Error::Authorization(AuthorizationRefusal::NothingApproved))));
    issuer.complete_authorization(&handle, PARENT, Some(&["pupil_enrolment".to_owned()]), NOW + 10).unwrap();
    let again = issuer.complete_authorization(&handle, PARENT, None, NOW + 11);
    assert!(matches!(again, Err(Error::Authorization(AuthorizationRefusal::HandleUsed))));
    let denied_again = issuer.deny_authorization(&handle, NOW + 11);
    assert!(matches!(denied_again, Err(Error::Authorization(AuthorizationRefusal::HandleUsed))));
    let slow = started(&issuer, &par_request(), None);
    let expired = issuer.complete_authorization(&slow, PARENT, None, NOW + 5 + 600);
    assert!(matches!(expired, Err(Error::Authorization(AuthorizationRefusal::HandleExpired))));
    let unknown = issuer.complete_authorization("no-such-handle", PARENT, None, NOW);
    assert!(matches!(unknown, Err(Error::Authorization(AuthorizationRefusal::UnknownHandle))));
}

#[test]
fn a_parent_who_says_no_sends_access_denied_with_state_and_iss() {
    let issuer = issuer();
    let handle = started(&issuer, &par_request(), None);
    let location = issuer.deny_authorization(&handle, NOW + 10).unwrap();
    match AuthorizationResponse::from_redirect_url(location.as_str()).unwrap() {
        AuthorizationResponse::Error { error, state, iss, .. } => {
            assert_eq!(error, ErrorCode::AccessDenied);
            assert_eq!((state.as_deref(), iss.as_deref()), (Some("state-1"), Some("https://delinde.example")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_verifier_redirect_uri_or_client_is_invalid_grant_and_the_code_still_works() {
    let issuer = issuer();
    let code = approved(&issuer);
    let wrong_verifier =
        AuthorizationCodeTokenRequest { code_verifier: Zeroizing::new("x".repeat(43)), ..token_form(&code) };
    assert_eq!(redeem(&issuer, &wrong_verifier, NOW + 11), Err(ErrorCode::InvalidGrant));
    let wrong_redirect =
        AuthorizationCodeTokenRequest { redirect_uri: "nl.schooltas.wallet:/other".into(), ..token_form(&code) };
    assert_eq!(redeem(&issuer, &wrong_redirect, NOW + 11), Err(ErrorCode::InvalidGrant));
    let wrong_client = AuthorizationCodeTokenRequest { client_id: "https://other.example".into(), ..token_form(&code) };
    assert_eq!(redeem(&issuer, &wrong_client, NOW + 11), Err(ErrorCode::InvalidGrant));
    let refused = issuer.token_endpoint(&OfferPolicy::default(), &wrong_verifier.to_form(), NOW + 11).unwrap_err();
    assert!(refused.to_string().contains("code_verifier does not match"), "{refused}");
    // None of these spent the code.
    assert!(redeem(&issuer, &token_form(&code), NOW + 12).is_ok());
}

#[test]
fn a_code_used_twice_is_refused_and_revokes_the_first_token() {
    let issuer = issuer();
    let code = approved(&issuer);
    let token = redeem(&issuer, &token_form(&code), NOW + 11).unwrap();
    assert!(issuer.authorize(&token, NOW + 12).unwrap().is_some());
    let refused = issuer.token_endpoint(&OfferPolicy::default(), &token_form(&code).to_form(), NOW + 12).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidGrant);
    assert!(refused.to_string().contains("already used"), "{refused}");
    assert!(issuer.authorize(&token, NOW + 12).unwrap().is_none(), "the first token is revoked");
    let fetch = issuer.credential_endpoint(&token, &credential_body(&issuer), &administration(), NOW + 13).unwrap_err();
    assert_eq!(fetch.error, ErrorCode::InvalidToken);
}

#[test]
fn an_expired_or_unknown_code_is_invalid_grant() {
    let issuer = issuer();
    let code = approved(&issuer);
    let late = issuer.token_endpoint(&OfferPolicy::default(), &token_form(&code).to_form(), NOW + 10 + 60).unwrap_err();
    assert_eq!(late.error, ErrorCode::InvalidGrant);
    assert!(late.to_string().contains("expired"), "{late}");
    assert_eq!(redeem(&issuer, &token_form("never-issued"), NOW), Err(ErrorCode::InvalidGrant));
}

#[test]
fn of_two_concurrent_redemptions_of_a_code_exactly_one_wins() {
    let issuer = issuer();
    let code = approved(&issuer);
    let outcomes: Vec<Result<String, ErrorCode>> = std::thread::scope(|scope| {
        let tasks: Vec<_> = (0..2).map(|_| scope.spawn(|| redeem(&issuer, &token_form(&code), NOW + 11))).collect();
        tasks.into_iter().map(|task| task.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    assert!(outcomes.contains(&Err(ErrorCode::InvalidGrant)));
}

fn dpop_issuer(requirement: DpopRequirement) -> Issuer<SqliteStore> {
    issuer().with_dpop(requirement)
}

fn proof(key: &SigningKey, url: &str, nonce: Option<&str>) -> String {
    sign_dpop_proof(key, "POST", url, None, nonce, NOW).unwrap()
}

#[test]
fn a_code_bound_to_dpop_key_a_is_refused_with_key_b_and_taken_with_key_a() {
    let issuer = dpop_issuer(DpopRequirement::optional());
    let (a, b) = (SigningKey::generate(Algorithm::Es256).unwrap(), SigningKey::generate(Algorithm::Es256).unwrap());
    let handle = started(&issuer, &par_request(), Some(&proof(&a, PAR_URL, None)));
    let code = code_of(issuer.complete_authorization(&handle, PARENT, None, NOW + 10).unwrap().as_str());
    let form = token_form(&code).to_form();
    let policy = OfferPolicy::default();
    let with_b = proof(&b, TOKEN_URL, None);
    let refused = issuer
        .token_endpoint_with_dpop(&policy, &form, Some(DpopContext { proof: Some(&with_b), url: TOKEN_URL }), NOW + 11)
        .unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidDpopProof);
    let without = issuer.token_endpoint_with_dpop(&policy, &form, None, NOW + 11).unwrap_err();
    assert_eq!(without.error, ErrorCode::InvalidDpopProof);
    let with_a = proof(&a, TOKEN_URL, None);
    let token = issuer
        .token_endpoint_with_dpop(&policy, &form, Some(DpopContext { proof: Some(&with_a), url: TOKEN_URL }), NOW + 11)
        .unwrap();
    assert_eq!(token.token_type, "DPoP");
    let row = issuer.authorize(&token.access_token, NOW + 11).unwrap().unwrap();
    assert_eq!(row.dpop_jkt.as_deref(), Some(a.verifying_key().thumbprint().as_str()));
    // Presented as Bearer, the bound token is refused.
    let bearer = issuer
        .credential_endpoint_with_dpop(
            &token.access_token,
            TokenScheme::Bearer,
            None,
            "{}",
            &administration(),
            NOW + 12,
        )
        .unwrap_err();
    assert_eq!(bearer.error, ErrorCode::InvalidToken);
}

#[test]
fn dpop_jkt_at_par_binds_the_code_and_must_agree_with_the_proof() {
    let issuer = dpop_issuer(DpopRequirement::optional());
    let (a, b) = (SigningKey::generate(Algorithm::Es256).unwrap(), SigningKey::generate(Algorithm::Es256).unwrap());
    let disagreeing = par_request().with_dpop_jkt(b.verifying_key().thumbprint());
    let context = DpopContext { proof: Some(&proof(&a, PAR_URL, None)), url: PAR_URL };
    let refused = issuer.par_endpoint(&disagreeing.to_form(), Some(context), NOW).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidDpopProof);
    // dpop_jkt alone binds the code to key b.
    let handle = started(&issuer, &par_request().with_dpop_jkt(b.verifying_key().thumbprint()), None);
    let code = code_of(issuer.complete_authorization(&handle, PARENT, None, NOW + 10).unwrap().as_str());
    let with_a = proof(&a, TOKEN_URL, None);
    let context = Some(DpopContext { proof: Some(&with_a), url: TOKEN_URL });
    let refused =
        issuer.token_endpoint_with_dpop(&OfferPolicy::default(), &token_form(&code).to_form(), context, NOW + 11);
    assert_eq!(refused.unwrap_err().error, ErrorCode::InvalidDpopProof);
}

#[test]
fn an_issuer_that_requires_dpop_refuses_an_unbound_par_and_asks_for_its_nonce() {
    let issuer = dpop_issuer(DpopRequirement::haip());
    let unbound = issuer.par_endpoint(&par_request().to_form(), None, NOW).unwrap_err();
    assert_eq!(unbound.error, ErrorCode::InvalidDpopProof);
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let bare = proof(&key, PAR_URL, None);
    let context = DpopContext { proof: Some(&bare), url: PAR_URL };
    assert_eq!(
        issuer.par_endpoint(&par_request().to_form(), Some(context), NOW).unwrap_err().error,
        ErrorCode::UseDpopNonce
    );
    let nonce = issuer.dpop_nonce(NOW).unwrap();
    let fresh = proof(&key, PAR_URL, Some(&nonce));
    let context = DpopContext { proof: Some(&fresh), url: PAR_URL };
    assert!(issuer.par_endpoint(&par_request().to_form(), Some(context), NOW).is_ok());
}
