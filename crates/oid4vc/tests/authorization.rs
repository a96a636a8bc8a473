//! The authorization code flow's messages (OpenID4VCI 1.0 §5–6, RFC 9126, RFC 7636, RFC 9207):
//! round trips, and each refusal with the error code an endpoint answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_oid4vc::Error;
use schooltas_oid4vc::oid4vci::authorization::AuthorizationRequestReference;
use schooltas_oid4vc::oid4vci::{
    AuthorizationCodeTokenRequest, AuthorizationResponse, CredentialOffer, ErrorCode, Oid4vciError,
    PushedAuthorizationRequest, PushedAuthorizationResponse, TokenGrant, pkce_challenge,
};
use zeroize::Zeroizing;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn code(error: &Error) -> ErrorCode {
    match error {
        Error::Oid4vci(inner) => inner.error_code(),
        Error::Oid4vp(_) => ErrorCode::Other("form".into()),
        other => panic!("not an OpenID4VCI error: {other}"),
    }
}

fn request() -> PushedAuthorizationRequest {
    PushedAuthorizationRequest::new("https://wallet.example", "nl.schooltas.wallet:/cb", pkce_challenge(VERIFIER))
        .with_scope("guardianship")
        .with_configuration("pupil_enrolment")
        .with_state("xyz")
        .with_issuer_state("offer-1")
}

fn reason(error: &Error) -> String {
    match error {
        Error::Oid4vci(Oid4vciError::Invalid { reason, .. }) => reason.clone(),
        other => panic!("not an invalid message: {other}"),
    }
}

#[test]
fn a_pushed_request_round_trips_with_scope_and_authorization_details() {
    let request = request();
    let form = request.to_form();
    assert!(form.contains("code_challenge_method=S256") && form.contains("response_type=code"), "{form}");
    assert_eq!(PushedAuthorizationRequest::from_form(&form).unwrap(), request);
}

#[test]
fn plain_or_missing_pkce_is_invalid_request() {
    let form = request().to_form();
    for (broken, why) in [
        (form.replace("code_challenge_method=S256", "code_challenge_method=plain"), "plain"),
        (form.replace("&code_challenge_method=S256", ""), "code_challenge_method is missing"),
        (form.replace(&format!("code_challenge={}&", pkce_challenge(VERIFIER)), ""), "code_challenge is missing"),
        (form.replace(&pkce_challenge(VERIFIER), "short"), "43 to 128"),
        (form.replace(&pkce_challenge(VERIFIER), &"%2B".repeat(43)), "base64url"),
    ] {
        let error = PushedAuthorizationRequest::from_form(&broken).unwrap_err();
        assert_eq!(code(&error), ErrorCode::InvalidRequest, "{why}");
        assert!(reason(&error).contains(why), "{why}: {error}");
    }
}

#[test]
fn a_pushed_request_with_request_uri_another_response_type_or_nothing_asked_is_refused() {
    let form = request().to_form();
    for (broken, why) in [
        (format!("{form}&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax"), "request_uri"),
        (form.replace("response_type=code", "response_type=token"), "response_type must be code"),
        (form.replace("response_type=code&", ""), "response_type is missing"),
        (form.replace("client_id=https%3A%2F%2Fwallet.example&", ""), "client_id is missing"),
        (
            PushedAuthorizationRequest::new("c", "https://w.example/cb", pkce_challenge(VERIFIER)).to_form(),
            "neither scope nor authorization_details",
        ),
        (form.replace("nl.schooltas.wallet%3A%2Fcb", "http%3A%2F%2Fwallet.example%2Fcb"), "redirect_uri is plain http"),
        (form.replace("nl.schooltas.wallet%3A%2Fcb", "https%3A%2F%2Fw.example%2Fcb%23f"), "fragment"),
        (form.replace("nl.schooltas.wallet%3A%2Fcb", "wallet%3A%2Fcb"), "private-use scheme with a dot"),
    ] {
        let error = PushedAuthorizationRequest::from_form(&broken).unwrap_err();
        assert_eq!(code(&error), ErrorCode::InvalidRequest, "{why}");
        assert!(reason(&error).contains(why), "{why}: {error}");
    }
    // A parameter given twice is refused by the strict form decoder.
    let twice = format!("{form}&client_id=other");
    assert!(matches!(
        PushedAuthorizationRequest::from_form(&twice),
        Err(Error::Oid4vci(Oid4vciError::Invalid { reason, .. })) if reason.contains("client_id")
    ));
}

#[test]
fn authorization_details_must_be_openid_credential_entries_with_an_id() {
    let base = PushedAuthorizationRequest::new("c", "https://w.example/cb", pkce_challenge(VERIFIER)).to_form();
    for (details, why) in [
        (r#"[{"type":"other","credential_configuration_id":"x"}]"#, "openid_credential"),
        (r#"[{"type":"openid_credential","format":"dc+sd-jwt"}]"#, "no credential_configuration_id"),
        (r#"{"type":"openid_credential"}"#, "not a JSON array"),
        (r#"[]"#, "empty"),
    ] {
        let form = format!(
            "{base}&authorization_details={}",
            schooltas_oid4vc::form::encode(&[("", details)]).trim_start_matches('=')
        );
        let error = PushedAuthorizationRequest::from_form(&form).unwrap_err();
        assert_eq!(code(&error), ErrorCode::InvalidRequest, "{why}");
        assert!(reason(&error).contains(why), "{why}: {error}");
    }
}

#[test]
fn the_par_response_and_the_browser_reference_round_trip() {
    let response =
        PushedAuthorizationResponse { request_uri: "urn:ietf:params:oauth:request_uri:abc".into(), expires_in: 60 };
    assert_eq!(PushedAuthorizationResponse::from_json(&response.to_json()).unwrap(), response);
    assert!(!format!("{response:?}").contains("abc"));
    let bad = PushedAuthorizationResponse { request_uri: "https://x.example".into(), expires_in: 60 };
    assert!(matches!(
        PushedAuthorizationResponse::from_json(&bad.to_json()),
        Err(Error::Oid4vci(Oid4vciError::Invalid { message: "pushed authorization response", .. }))
    ));
    let reference =
        AuthorizationRequestReference { client_id: "https://wallet.example".into(), request_uri: response.request_uri };
    let url = reference.to_url("https://school.example/authorize");
    let query = url.split_once('?').unwrap().1;
    assert_eq!(AuthorizationRequestReference::from_query(query).unwrap(), reference);
    let missing = AuthorizationRequestReference::from_query("client_id=x").unwrap_err();
    assert!(reason(&missing).contains("request_uri is missing"), "{missing}");
}

#[test]
fn authorization_responses_round_trip_and_a_redirect_without_code_or_error_is_refused() {
    let denied = AuthorizationResponse::Error {
        error: ErrorCode::AccessDenied,
        error_description: Some("the parent said no".into()),
        state: Some("xyz".into()),
        iss: Some("https://school.example".into()),
    };
    let location = denied.redirect_location("https://wallet.example/cb");
    assert_eq!(AuthorizationResponse::from_redirect_url(&location).unwrap(), denied);
    let code = AuthorizationResponse::Code { code: "secret-code".into(), state: None, iss: None };
    assert!(!format!("{code:?}").contains("secret-code"));
    let nothing = AuthorizationResponse::from_redirect_url("https://wallet.example/cb?state=xyz").unwrap_err();
    assert!(reason(&nothing).contains("neither a code nor an error"), "{nothing}");
    let twice = AuthorizationResponse::from_redirect_url("https://wallet.example/cb?code=a&code=b");
    assert!(matches!(twice, Err(Error::Oid4vci(Oid4vciError::Invalid { message: "authorization response", .. }))));
}

#[test]
fn a_code_token_request_round_trips_and_a_bad_verifier_is_invalid_request() {
    let request = AuthorizationCodeTokenRequest {
        code: Zeroizing::new("the-code".into()),
        redirect_uri: "https://wallet.example/cb".into(),
        code_verifier: Zeroizing::new(VERIFIER.into()),
        client_id: "https://wallet.example".into(),
    };
    let form = request.to_form();
    assert_eq!(TokenGrant::from_form(&form).unwrap(), TokenGrant::AuthorizationCode(request.clone()));
    assert!(!format!("{request:?}").contains(VERIFIER) && !format!("{request:?}").contains("the-code"));
    for (broken, why) in [
        (form.replace(VERIFIER, "too-short"), "43 to 128"),
        (form.replace(VERIFIER, &format!("{}%21", &VERIFIER[..43])), "unreserved"),
        (form.replace("&client_id=https%3A%2F%2Fwallet.example", ""), "client_id is missing"),
        (form.replace("&redirect_uri=https%3A%2F%2Fwallet.example%2Fcb", ""), "redirect_uri is missing"),
    ] {
        let error = TokenGrant::from_form(&broken).unwrap_err();
        assert_eq!(code(&error), ErrorCode::InvalidRequest, "{why}");
        assert!(reason(&error).contains(why), "{why}: {error}");
    }
    let other = TokenGrant::from_form("grant_type=password&username=x").unwrap_err();
    assert_eq!(code(&other), ErrorCode::UnsupportedGrantType);
}

#[test]
fn an_offer_can_carry_the_authorization_code_grant_with_issuer_state() {
    let offer =
        CredentialOffer::authorization_code("https://school.example", vec!["guardianship".into()], Some("s-1".into()));
    let json = offer.to_json();
    assert!(json.contains(r#""authorization_code":{"issuer_state":"s-1"}"#), "{json}");
    let parsed = CredentialOffer::from_json(&json).unwrap();
    assert_eq!(parsed.authorization_code_grant().unwrap().issuer_state.as_deref(), Some("s-1"));
    assert!(parsed.pre_authorized_grant().is_none());
}
