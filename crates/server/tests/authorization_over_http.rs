//! The authorization code flow over HTTP (PAR, the authorization endpoint's `303` to the
//! school portal, the portal's answer on the staff listener, the code at the token endpoint):
//! the statuses, headers and error codes of each step and each refusal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{NOW, Running};
use schooltas_did::{Algorithm, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_oid4vc::dpop::sign_dpop_proof;
use schooltas_oid4vc::oid4vci::authorization::AuthorizationRequestReference;
use schooltas_oid4vc::oid4vci::proof::sign_proof;
use schooltas_oid4vc::oid4vci::{
    AuthorizationCodeTokenRequest, AuthorizationResponse, CredentialRequest, PushedAuthorizationRequest, pkce_challenge,
};
use schooltas_server::{AdminToken, IssuerService, RedirectPortal, ServiceConfig};
use serde_json::json;
use zeroize::Zeroizing;

const ISSUER_URL: &str = "https://delinde.example";
const PORTAL: &str = "https://portal.delinde.example/login";
const TOKEN: &str = "0123456789abcdef0123456789abcdef-admin";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";
const CLIENT: &str = "https://wallet.schooltas.example";
const REDIRECT: &str = "https://wallet.schooltas.example/authorized";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct Servers {
    public: Running,
    admin: Running,
    /// An agent that does not follow redirects: the test is the browser.
    browser: ureq::Agent,
}

fn servers(
    configure: impl FnOnce(schooltas_issuer::Issuer<SqliteStore>) -> schooltas_issuer::Issuer<SqliteStore>,
    portal: bool,
) -> Servers {
    let issuer = configure(common::school(ISSUER_URL, "did:web:delinde.example"));
    let mut service = common::service(issuer, ServiceConfig::default());
    if portal {
        service = service.with_authorization_portal(RedirectPortal::new(PORTAL).unwrap()).unwrap();
    }
    let admin = Running::start_admin(service.clone(), AdminToken::new(TOKEN).unwrap(), ISSUER_URL);
    let public = Running::start(service, ISSUER_URL);
    let browser = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().new_agent();
    Servers { public, admin, browser }
}

fn par_form() -> String {
    PushedAuthorizationRequest::new(CLIENT, REDIRECT, pkce_challenge(VERIFIER))
        .with_scope("pupil_enrolment")
        .with_state("st-1")
        .to_form()
}

impl Servers {
    fn push(&self, form: &str) -> common::Answer {
        self.public.post("/par", FORM, form, None)
    }

    /// `GET /authorize?…` as the browser: status, Location, content type.
    fn visit(&self, query: &str) -> (u16, Option<String>, Option<String>) {
        let response = self.browser.get(format!("http://{}/authorize{query}", self.public.address)).call().unwrap();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (response.status().as_u16(), header("location"), header("content-type"))
    }

    /// PAR and the visit: the handle the portal receives.
    fn handle(&self) -> String {
        let pushed = self.push(&par_form());
        assert_eq!(pushed.status, 201, "{}", pushed.body);
        let request_uri = pushed.json()["request_uri"].as_str().unwrap().to_owned();
        let reference = AuthorizationRequestReference { client_id: CLIENT.into(), request_uri };
        let url = reference.to_url("");
        let (status, location, _) = self.visit(&url);
        assert_eq!(status, 303);
        let location = location.unwrap();
        let handle = location.strip_prefix(&format!("{PORTAL}?authorization=")).expect("the portal's login");
        handle.to_owned()
    }

    fn answer(&self, handle: &str, body: &serde_json::Value, token: &str) -> common::Answer {
        let request = self
            .admin
            .agent()
            .post(format!("http://{}/admin/authorizations/{handle}", self.admin.address))
            .header("Content-Type", JSON)
            .header("Authorization", format!("Bearer {token}"));
        common::Answer::from(request.send(body.to_string()).unwrap())
    }

    fn code(&self) -> String {
        let handle = self.handle();
        let answer = self.answer(&handle, &json!({"subject": "pupil-17", "approve": true}), TOKEN);
        assert_eq!(answer.status, 200, "{}", answer.body);
        let location = answer.json()["redirect_to"].as_str().unwrap().to_owned();
        match AuthorizationResponse::from_redirect_url(&location).unwrap() {
            AuthorizationResponse::Code { code, state, iss } => {
                assert_eq!((state.as_deref(), iss.as_deref()), (Some("st-1"), Some(ISSUER_URL)));
                code
            }
            other => panic!("{other:?}"),
        }
    }
}

fn token_form(code: &str) -> String {
    AuthorizationCodeTokenRequest {
        code: Zeroizing::new(code.to_owned()),
        redirect_uri: REDIRECT.into(),
        code_verifier: Zeroizing::new(VERIFIER.into()),
        client_id: CLIENT.into(),
    }
    .to_form()
}

#[test]
fn a_parent_goes_from_par_through_the_portal_to_a_credential() {
    let servers = servers(|issuer| issuer, true);
    let metadata = servers.public.get("/.well-known/oauth-authorization-server").json();
    assert_eq!(metadata["pushed_authorization_request_endpoint"], "https://delinde.example/par");
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
    let pushed = servers.push(&par_form());
    assert_eq!(pushed.status, 201);
    assert_eq!(pushed.header("cache-control"), Some("no-store"));
    assert_eq!(pushed.json()["expires_in"], 60);
    let code = servers.code();
    let token = servers.public.post("/token", FORM, &token_form(&code), None);
    assert_eq!(token.status, 200, "{}", token.body);
    let access_token = token.json()["access_token"].as_str().unwrap().to_owned();
    let nonce = servers.public.post("/nonce", FORM, "", None).json()["c_nonce"].as_str().unwrap().to_owned();
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let proof = sign_proof(&key, ISSUER_URL, Some(&nonce), NOW, None).unwrap();
    let body = CredentialRequest::new("pupil_enrolment", vec![proof]).to_json();
    let credential = servers.public.post("/credential", JSON, &body, Some(&access_token));
    assert_eq!(credential.status, 200, "{}", credential.body);
    // RFC 6749 §4.1.2: the code again is invalid_grant, and the token is revoked.
    let again = servers.public.post("/token", FORM, &token_form(&code), None);
    assert_eq!((again.status, again.error().as_str()), (400, "invalid_grant"));
}

#[test]
fn the_authorization_endpoint_sends_the_browser_to_the_portal_without_a_referrer() {
    let servers = servers(|issuer| issuer, true);
    let pushed = servers.push(&par_form()).json();
    let reference = AuthorizationRequestReference {
        client_id: CLIENT.into(),
        request_uri: pushed["request_uri"].as_str().unwrap().into(),
    };
    let response = servers
        .browser
        .get(format!("http://{}/authorize{}", servers.public.address, reference.to_url("")))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers().get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
}

#[test]
fn par_refusals_are_400_with_the_oauth_code() {
    let servers = servers(|issuer| issuer, true);
    let plain = servers.push(&par_form().replace("code_challenge_method=S256", "code_challenge_method=plain"));
    assert_eq!((plain.status, plain.error().as_str()), (400, "invalid_request"));
    let missing = servers.push(&par_form().replace(&format!("code_challenge={}&", pkce_challenge(VERIFIER)), ""));
    assert_eq!((missing.status, missing.error().as_str()), (400, "invalid_request"));
    let unknown = servers.push(&par_form().replace("scope=pupil_enrolment", "scope=pizza"));
    assert_eq!((unknown.status, unknown.error().as_str()), (400, "invalid_scope"));
    let as_json = servers.public.post("/par", JSON, &par_form(), None);
    assert_eq!((as_json.status, as_json.error().as_str()), (400, "invalid_request"));
}

#[test]
fn a_request_uri_used_twice_unknown_or_missing_gets_a_400_page_not_a_redirect() {
    let servers = servers(|issuer| issuer, true);
    let request_uri = servers.push(&par_form()).json()["request_uri"].as_str().unwrap().to_owned();
    let query = AuthorizationRequestReference { client_id: CLIENT.into(), request_uri }.to_url("");
    assert_eq!(servers.visit(&query).0, 303);
    let (status, location, content_type) = servers.visit(&query);
    assert_eq!((status, location), (400, None));
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    let other_client = query.replace("wallet.schooltas.example", "other.example");
    assert_eq!(servers.visit(&other_client).0, 400);
    assert_eq!(servers.visit("?client_id=x&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Anope").0, 400);
    assert_eq!(servers.visit("?client_id=x").0, 400);
}

#[test]
fn the_staff_endpoint_answers_once_and_refuses_strangers() {
    let servers = servers(|issuer| issuer, true);
    let handle = servers.handle();
    let stranger = servers.answer(&handle, &json!({"subject": "pupil-17", "approve": true}), "not-the-token");
    assert_eq!((stranger.status, stranger.error().as_str()), (401, "invalid_token"));
    let no_subject = servers.answer(&handle, &json!({"approve": true}), TOKEN);
    assert_eq!((no_subject.status, no_subject.error().as_str()), (400, "invalid_request"));
    let not_asked = servers.answer(
        &handle,
        &json!({"subject": "pupil-17", "approve": true, "credential_configuration_ids": ["guardianship"]}),
        TOKEN,
    );
    assert_eq!((not_asked.status, not_asked.error().as_str()), (400, "invalid_request"));
    let denied = servers.answer(&handle, &json!({"approve": false}), TOKEN);
    assert_eq!(denied.status, 200);
    let location = denied.json()["redirect_to"].as_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{REDIRECT}?error=access_denied&")), "{location}");
    match AuthorizationResponse::from_redirect_url(&location).unwrap() {
        AuthorizationResponse::Error { error, state, iss, .. } => {
            assert_eq!(error, schooltas_oid4vc::oid4vci::ErrorCode::AccessDenied);
            assert_eq!((state.as_deref(), iss.as_deref()), (Some("st-1"), Some(ISSUER_URL)));
        }
        other => panic!("{other:?}"),
    }
    let again = servers.answer(&handle, &json!({"subject": "pupil-17", "approve": true}), TOKEN);
    assert_eq!((again.status, again.error().as_str()), (409, "conflict"));
    let unknown = servers.answer("no-such-handle", &json!({"approve": false}), TOKEN);
    assert_eq!((unknown.status, unknown.error().as_str()), (404, "not_found"));
}

#[test]
fn without_a_portal_the_flow_is_off() {
    let servers = servers(|issuer| issuer.with_authorization_code_flow(Default::default()), false);
    let metadata = servers.public.get("/.well-known/oauth-authorization-server").json();
    assert!(metadata.get("pushed_authorization_request_endpoint").is_none(), "{metadata}");
    assert!(metadata.get("authorization_endpoint").is_none(), "{metadata}");
    assert_eq!(servers.push(&par_form()).status, 404);
    assert_eq!(servers.visit("?client_id=x&request_uri=y").0, 404);
    let code = servers.public.post("/token", FORM, &token_form("x"), None);
    assert_eq!((code.status, code.error().as_str()), (400, "unsupported_grant_type"));
    let staff = servers.answer("h", &json!({"approve": false}), TOKEN);
    assert_eq!((staff.status, staff.error().as_str()), (404, "not_found"));
}

#[test]
fn par_with_required_dpop_asks_for_the_nonce_in_its_header() {
    let servers = servers(|issuer| issuer.with_dpop(schooltas_issuer::DpopRequirement::haip()), true);
    let unbound = servers.push(&par_form());
    assert_eq!((unbound.status, unbound.error().as_str()), (400, "invalid_dpop_proof"));
    let nonce = unbound.header("dpop-nonce").expect("the nonce comes with every answer").to_owned();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let post = |proof: &str| {
        let request = servers
            .public
            .agent()
            .post(format!("http://{}/par", servers.public.address))
            .header("Content-Type", FORM)
            .header("DPoP", proof);
        common::Answer::from(request.send(par_form()).unwrap())
    };
    let bare = post(&sign_dpop_proof(&key, "POST", "https://delinde.example/par", None, None, NOW).unwrap());
    assert_eq!((bare.status, bare.error().as_str()), (400, "use_dpop_nonce"));
    let fresh = post(&sign_dpop_proof(&key, "POST", "https://delinde.example/par", None, Some(&nonce), NOW).unwrap());
    assert_eq!(fresh.status, 201, "{}", fresh.body);
}

#[test]
fn the_in_process_completion_gives_the_same_redirect() {
    let issuer = common::school(ISSUER_URL, "did:web:delinde.example");
    let service: IssuerService<SqliteStore> = common::service(issuer, ServiceConfig::default())
        .with_authorization_portal(RedirectPortal::new(PORTAL).unwrap())
        .unwrap();
    let pushed = service.with_issuer(|issuer| issuer.par_endpoint(&par_form(), None, NOW)).unwrap();
    let start = service.with_issuer(|issuer| issuer.authorization_endpoint(CLIENT, &pushed.request_uri, NOW)).unwrap();
    let location = service.complete_authorization(&start.handle, "pupil-17", None).unwrap();
    assert!(location.as_str().starts_with(&format!("{REDIRECT}?code=")));
    // Configured after the service was cloned: refused.
    let cloned = service.clone();
    let late = cloned.with_authorization_portal(RedirectPortal::new(PORTAL).unwrap());
    assert!(matches!(late, Err(schooltas_server::Error::ConfiguredTooLate { what: "the authorization portal" })));
}

// ---- wallet attestation at PAR (HAIP 1.0 §4.3) and CORS ------------------------------------

/// A wallet provider's root (the school's anchor) and one installation's attestation of
/// `CLIENT` with its instance key.
fn attested_wallet() -> (schooltas_x509::TrustAnchors, String, SigningKey) {
    use schooltas_oid4vc::client_attestation::{ClientAttestationClaims, sign_client_attestation};
    use schooltas_x509::{CertificateAuthority, Profile, Subject, TrustAnchors, Validity};
    let root = CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Wallet BV", "Wallet BV Root").unwrap(),
        Validity::days_from(NOW - 86_400, 3650).unwrap(),
        Some(0),
        Profile::Haip,
    )
    .unwrap();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let chain = root
        .issue_wallet_provider_certificate(
            schooltas_did::Signer::verifying_key(&key),
            "https://wallet.example",
            &Subject::new("Wallet BV", "Wallet BV attestations").unwrap(),
            Validity::days_from(NOW - 86_400, 365).unwrap(),
        )
        .unwrap()
        .chain()
        .certificates()
        .to_vec();
    let instance = SigningKey::generate(Algorithm::Es256).unwrap();
    let claims = ClientAttestationClaims::new(
        "https://wallet.example",
        CLIENT,
        NOW + 86_400,
        schooltas_did::Signer::verifying_key(&instance).clone(),
    );
    let attestation = sign_client_attestation(&key, chain, &claims).unwrap();
    (TrustAnchors::from_der(vec![root.certificate_der().to_vec()]).unwrap(), attestation, instance)
}

#[test]
fn par_of_a_school_that_requires_attestation_is_401_without_one_and_400_with_two() {
    use schooltas_oid4vc::client_attestation::sign_client_attestation_pop;
    let (anchors, attestation, instance) = attested_wallet();
    let requirement = schooltas_issuer::WalletAttestationRequirement::new(anchors).require_challenge();
    let servers = servers(move |issuer| issuer.with_wallet_attestation(requirement), true);
    let bare = servers.push(&par_form());
    assert_eq!((bare.status, bare.error().as_str()), (401, "invalid_client"));
    let challenge = bare.header("oauth-client-attestation-challenge").expect("the challenge comes along").to_owned();
    let pop = |jti: &str| sign_client_attestation_pop(&instance, ISSUER_URL, jti, NOW, Some(&challenge)).unwrap();
    let post = |pops: &[String]| {
        let mut request = servers
            .public
            .agent()
            .post(format!("http://{}/par", servers.public.address))
            .header("Content-Type", FORM)
            .header("OAuth-Client-Attestation", &attestation);
        for pop in pops {
            request = request.header("OAuth-Client-Attestation-PoP", pop);
        }
        common::Answer::from(request.send(par_form()).unwrap())
    };
    let twice = post(&[pop("a"), pop("b")]);
    assert_eq!((twice.status, twice.error().as_str()), (400, "invalid_request"));
    let pushed = post(&[pop("c")]);
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    assert!(pushed.header("oauth-client-attestation-challenge").is_some());
}

#[test]
fn a_browser_wallets_preflight_may_send_dpop_and_attestation_headers_and_read_nonce_and_challenge() {
    let servers = servers(|issuer| issuer.with_dpop(schooltas_issuer::DpopRequirement::haip()), true);
    for path in ["/par", "/token", "/credential"] {
        let response = servers
            .browser
            .options(format!("http://{}{path}", servers.public.address))
            .header("Origin", "https://wallet.example")
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type, dpop, oauth-client-attestation, oauth-client-attestation-pop",
            )
            .call()
            .unwrap();
        let preflight = common::Answer::from(response);
        assert_eq!(preflight.status, 200, "{path}");
        assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
        let allowed = preflight.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
        for header in ["dpop", "oauth-client-attestation", "oauth-client-attestation-pop", "content-type"] {
            assert!(allowed.split(',').any(|h| h.trim() == header), "{path}: {header} in {allowed}");
        }
        assert!(preflight.header("access-control-allow-methods").unwrap().contains("POST"));
        assert!(preflight.header("access-control-allow-credentials").is_none(), "no cookies");
    }
    // The actual request: the nonce header is readable by the page.
    let answer = common::Answer::from(
        servers
            .browser
            .post(format!("http://{}/par", servers.public.address))
            .header("Origin", "https://wallet.example")
            .header("Content-Type", FORM)
            .send(par_form())
            .unwrap(),
    );
    assert_eq!((answer.status, answer.error().as_str()), (400, "invalid_dpop_proof"));
    assert!(answer.header("dpop-nonce").is_some());
    let exposed = answer.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    for header in ["dpop-nonce", "oauth-client-attestation-challenge", "www-authenticate"] {
        assert!(exposed.split(',').any(|h| h.trim() == header), "{header} in {exposed}");
    }
}
