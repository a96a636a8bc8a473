//! The binding layer natively: what `verifyPresentation`, `HeldCredential` and `StatusList` run,
//! and that a refusal's code is the one the Rust API's error gives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use fixture::*;
use schooltas_did::{Algorithm, Resolver, Signer, SigningKey};
use schooltas_sd_jwt::{KeyBinding, UnverifiedSdJwt, VerifyOptions, issuer_key_via_did};
use schooltas_wasm::{Error, HeldCredential, PresentRequest, VerifiedStatusList, VerifyRequest, verify_presentation};
use serde_json::{Value, json};

fn present(f: &Fixture, issued: &str) -> String {
    let request = PresentRequest::from_json(&f.present_options()).unwrap();
    HeldCredential::parse(issued).unwrap().present(&request, &f.child).unwrap()
}

fn verify(presentation: &str, options: &Value) -> Result<Value, Error> {
    verify_presentation(presentation, &VerifyRequest::from_json(options)?)
}

#[test]
fn a_presentation_verifies_with_the_issuer_trusted_by_its_did_and_its_status_checked() {
    let f = Fixture::new().unwrap();
    let verified = verify(&present(&f, &f.issued), &f.verify_options()).unwrap();
    assert_eq!(verified["claims"]["group"], "7B");
    assert_eq!(verified["claims"]["age_over_12"], true);
    assert!(verified["claims"].get("birth_date").is_none());
    assert_eq!(verified["iss"], f.iss.as_str());
    assert_eq!(verified["vct"], "https://schooltas.example/credentials/enrolment");
    assert_eq!(verified["holderKey"], Value::Object(f.child.verifying_key().to_jwk()));
    assert_eq!(verified["status"], json!({"uri": STATUS_URI, "idx": VALID_INDEX, "checked": true, "valid": true}));
}

#[test]
fn an_issuer_key_given_by_the_caller_is_used() {
    let f = Fixture::new().unwrap();
    // The credential's header names its key by kid: the caller's JWK carries it.
    let mut jwk = f.school.verifying_key().to_jwk();
    jwk.insert("kid".into(), json!(f.kid()));
    let options = json!({"issuerKeys": [jwk], "audience": AUDIENCE, "nonce": NONCE, "now": NOW});
    let verified = verify(&present(&f, &f.issued), &options).unwrap();
    assert_eq!(verified["claims"]["group"], "7B");
    // No statusLists: the entry is reported, not checked.
    assert_eq!(verified["status"], json!({"uri": STATUS_URI, "idx": VALID_INDEX, "checked": false}));
}

#[test]
fn an_issuer_nobody_vouches_for_is_refused() {
    let f = Fixture::new().unwrap();
    let stranger = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let mut jwk = stranger.verifying_key().to_jwk();
    jwk.insert("kid".into(), json!(f.kid()));
    let options = json!({"issuerKeys": [jwk], "audience": AUDIENCE, "nonce": NONCE, "now": NOW});
    let refusal = verify(&present(&f, &f.issued), &options).unwrap_err();
    // The DID issuer is not in trustedDids; the caller's key is another's.
    assert!(matches!(refusal, Error::SdJwt(schooltas_sd_jwt::Error::Did(schooltas_did::Error::InvalidSignature))));
    let no_trust = json!({"trustedDids": ["did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"], "audience": AUDIENCE, "nonce": NONCE, "now": NOW});
    let refusal = verify(&present(&f, &f.issued), &no_trust).unwrap_err();
    assert!(matches!(refusal, Error::SdJwt(schooltas_sd_jwt::Error::IssuerKey { .. })), "{refusal:?}");
    assert_eq!(refusal.code(), "IssuerKey");
}

/// Each tampered presentation is refused with the code of the error `schooltas-sd-jwt` gives.
#[test]
fn tampered_presentations_are_refused_with_the_rust_apis_error() {
    let f = Fixture::new().unwrap();
    let good = present(&f, &f.issued);
    let request = PresentRequest::from_json(&f.present_options()).unwrap();
    let held = schooltas_sd_jwt::HolderSdJwt::parse(&f.issued).unwrap();
    let kb = |nonce: &str, audience: &str| schooltas_sd_jwt::KeyBindingInput {
        nonce: nonce.into(),
        audience: audience.into(),
        issued_at: NOW,
    };
    let cases = [
        (held.present(&request.claims, Some((&f.child, &kb("n-other", AUDIENCE)))).unwrap(), "NonceMismatch"),
        (held.present(&request.claims, Some((&f.child, &kb(NONCE, "https://x.example")))).unwrap(), "AudienceMismatch"),
        (swap_first_disclosure(&good, &f.revoked), "UnreferencedDisclosure"),
        (break_issuer_signature(&good), "Did.InvalidSignature"),
    ];
    let resolver = Resolver::offline();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(NONCE, AUDIENCE));
    for (presentation, code) in cases {
        let rust = UnverifiedSdJwt::parse(&presentation)
            .and_then(|p| p.verify_with(|h, iss| issuer_key_via_did(&resolver, h, iss), &options, NOW))
            .unwrap_err();
        let binding = verify(&presentation, &f.verify_options()).unwrap_err();
        assert_eq!(binding.code(), code);
        assert_eq!(schooltas_wasm::sd_jwt_code(&rust), code);
        assert_eq!(binding.to_string(), rust.to_string());
    }
}

#[test]
fn a_revoked_credential_is_refused_and_a_missing_list_is_unavailable() {
    let f = Fixture::new().unwrap();
    let refusal = verify(&present(&f, &f.revoked), &f.verify_options()).unwrap_err();
    assert!(
        matches!(refusal, Error::StatusList(schooltas_status_list::Error::Revoked { index: REVOKED_INDEX, .. })),
        "{refusal:?}"
    );
    assert_eq!(refusal.code(), "StatusList.Revoked");
    let mut options = f.verify_options();
    options["statusLists"] = json!({});
    let refusal = verify(&present(&f, &f.issued), &options).unwrap_err();
    assert_eq!(refusal.code(), "StatusList.StatusUnavailable");
}

#[test]
fn refusals_carry_no_claim_value_nonce_or_key() {
    let f = Fixture::new().unwrap();
    let mut options = f.verify_options();
    options["nonce"] = json!("n-secret-nonce");
    let refusal = verify(&present(&f, &f.issued), &options).unwrap_err();
    for leak in ["Sanne", "7B", "n-secret-nonce", NONCE] {
        assert!(!refusal.to_string().contains(leak), "{leak} in {refusal}");
    }
    let bad_option =
        VerifyRequest::from_json(&json!({"trustedDids": [f.iss], "audience": 5, "nonce": NONCE, "now": NOW}))
            .unwrap_err();
    assert!(matches!(bad_option, Error::InvalidOption { name: "audience", .. }));
    assert_eq!(bad_option.code(), "InvalidOption");
    let no_trust = VerifyRequest::from_json(&json!({"audience": AUDIENCE, "nonce": NONCE, "now": NOW})).unwrap_err();
    assert!(matches!(no_trust, Error::InvalidOption { name: "issuerKeys", .. }));
    assert!(format!("{:?}", HeldCredential::parse(&f.issued).unwrap()).find("Sanne").is_none());
}

#[test]
fn present_refuses_a_claim_the_credential_lacks() {
    let f = Fixture::new().unwrap();
    let request = PresentRequest::from_json(
        &json!({"claims": [["shoe_size"]], "audience": AUDIENCE, "nonce": NONCE, "now": NOW}),
    )
    .unwrap();
    let refusal = HeldCredential::parse(&f.issued).unwrap().present(&request, &f.child).unwrap_err();
    assert!(matches!(refusal, Error::SdJwt(schooltas_sd_jwt::Error::InvalidClaimPath { .. })));
    assert_eq!(refusal.code(), "InvalidClaimPath");
    let missing = PresentRequest::from_json(&json!({"audience": AUDIENCE, "nonce": NONCE, "now": NOW})).unwrap_err();
    assert!(matches!(missing, Error::InvalidOption { name: "claims", .. }));
}

#[test]
fn a_status_list_is_read_after_its_token_verifies() {
    let f = Fixture::new().unwrap();
    let list = VerifiedStatusList::verify(&f.status_token, f.school.verifying_key(), NOW).unwrap();
    assert_eq!(list.subject(), STATUS_URI);
    assert_eq!(list.status(VALID_INDEX).unwrap(), 0);
    assert_eq!(list.status(REVOKED_INDEX).unwrap(), 1);
    let beyond = list.status(1 << 20).unwrap_err();
    assert_eq!(beyond.code(), "StatusList.StatusIndexOutOfRange");
    let other = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let refusal = VerifiedStatusList::verify(&f.status_token, other.verifying_key(), NOW).unwrap_err();
    assert!(matches!(
        refusal,
        Error::StatusList(schooltas_status_list::Error::Did(schooltas_did::Error::InvalidSignature))
    ));
    assert_eq!(refusal.code(), "StatusList.Did.InvalidSignature");
}

/// An `https` issuer with an `x5c` chain (HAIP 1.0): trusted through the caller's anchors.
#[test]
fn an_x5c_issuer_is_trusted_through_the_given_anchors_only() {
    use base64::Engine as _;
    use schooltas_sd_jwt::{ClaimPath, RandomSalts, SdJwtBuilder};
    use schooltas_x509::{CertificateAuthority, Profile, Subject, Validity};
    let f = Fixture::new().unwrap();
    let validity = Validity::days_from(NOW - 86_400, 30).unwrap();
    let root = |name: &str| {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        CertificateAuthority::root(key, Subject::new("Trust list", name).unwrap(), validity, Some(0), Profile::Haip)
            .unwrap()
    };
    let (ca, other_ca) = (root("Root"), root("Other root"));
    let school = SigningKey::generate(Algorithm::Es256).unwrap();
    let iss = "https://school.example";
    let certificate = ca
        .issue_issuer_certificate(school.verifying_key(), iss, &Subject::new("School", "Issuer").unwrap(), validity)
        .unwrap();
    let claims =
        json!({"iss": iss, "vct": "https://schooltas.example/credentials/enrolment", "iat": NOW - 60, "group": "7B"});
    let issued = SdJwtBuilder::new(claims.as_object().cloned().unwrap())
        .disclosable(ClaimPath::claim("group"))
        .header_member("x5c", certificate.chain().to_x5c())
        .holder_key(f.child.verifying_key())
        .issue(&school, &mut RandomSalts)
        .unwrap()
        .to_string();
    let request =
        PresentRequest::from_json(&json!({"claims": [["group"]], "audience": AUDIENCE, "nonce": NONCE, "now": NOW}))
            .unwrap();
    let presentation = HeldCredential::parse(&issued).unwrap().present(&request, &f.child).unwrap();
    let anchors = |ca: &CertificateAuthority<SigningKey>| {
        json!({"trustAnchors": [base64::engine::general_purpose::STANDARD.encode(ca.certificate_der())],
               "audience": AUDIENCE, "nonce": NONCE, "now": NOW})
    };
    let verified = verify(&presentation, &anchors(&ca)).unwrap();
    assert_eq!(verified["claims"]["group"], "7B");
    assert_eq!(verified["iss"], iss);
    let refusal = verify(&presentation, &anchors(&other_ca)).unwrap_err();
    assert!(
        matches!(
            refusal,
            Error::SdJwt(schooltas_sd_jwt::Error::IssuerKey {
                reason: "the issuer's certificate chain does not lead to one of trustAnchors"
            })
        ),
        "{refusal:?}"
    );
    assert_eq!(refusal.code(), "IssuerKey");
}
