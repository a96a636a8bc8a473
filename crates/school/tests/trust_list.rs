//! Trust lists: signing and verifying (EdDSA, ES256, through a resolver), lookups, the
//! over-asking check, and one refusal per verification rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::jws::{self, Header};
use schooltas_did::{Algorithm, Did, DidUrl, PublicKey, Resolver, Signer, SigningKey, base64url, did_key};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, DcqlQuery};
use schooltas_school::Error;
use schooltas_school::trust_list::{
    AccreditedIssuer, MAX_TRUST_LIST_LEN, OverAsking, RegisteredPurpose, TRUST_LIST_TYP, TrustList, TrustListError,
    UnverifiedTrustList, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const SKEW: i64 = 60;
const DAY: i64 = 86_400;
const ENROLMENT: &str = "https://schooltas.nl/vct/pupil_enrolment";
const SUPPORT: &str = "https://schooltas.nl/vct/support_needs";
const GUARDIANSHIP: &str = "https://schooltas.nl/vct/guardianship";
const RESPONSE_URI: &str = "https://klik.example/response";
const NONCE: &str = "q8Zr1-xY_b3kLm9T";

/// A signing key with its did:key and the DID URL naming it.
struct Party {
    key: SigningKey,
    did: Did,
    kid: DidUrl,
}

fn party(alg: Algorithm) -> Party {
    let key = SigningKey::generate(alg).unwrap();
    let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    let kid = did.with_fragment(did.method_specific_id()).unwrap();
    Party { key, did, kid }
}

fn did(text: &str) -> Did {
    Did::parse(text).unwrap()
}

fn school() -> Did {
    did("did:web:school.example")
}

fn photographer() -> Did {
    did("did:web:klik.example")
}

fn secondary_school() -> Did {
    did("did:web:vo.example")
}

fn text(nl: &str, en: &str) -> LocalizedText {
    LocalizedText { nl: nl.into(), en: en.into() }
}

fn path(json: Value) -> ClaimPath {
    ClaimPath::from_json(&json).unwrap()
}

fn newsletter_purpose() -> RegisteredPurpose {
    RegisteredPurpose::new("newsletter", text("Nieuwsbrief", "Newsletter"), LegalBasis::Consent, 365)
        .allow(ENROLMENT, [ClaimPath::claim("given_name"), ClaimPath::claim("group"), ClaimPath::claim("school_brin")])
}

/// A secondary school taking over a pupil: the advice under a legal obligation, support needs
/// under consent, with sub-paths and array wildcards.
fn transfer_purpose() -> RegisteredPurpose {
    RegisteredPurpose::new("transfer", text("Overstap", "Transfer"), LegalBasis::LegalObligation, 730)
        .allow(ENROLMENT, [ClaimPath::claim("administrative"), path(json!(["guardians", null, "name"]))])
        .allow_with_basis(SUPPORT, [ClaimPath::claim("arrangements")], LegalBasis::Consent)
}

fn sample_list(operator: &Did) -> TrustList {
    TrustList::new(operator.clone(), NOW - DAY, NOW + 30 * DAY)
        .with_issuer(
            AccreditedIssuer::new(school(), "Basisschool De Linde")
                .with_brin("12AB")
                .accredited_for(ENROLMENT)
                .accredited_for(SUPPORT),
        )
        .with_verifier(VerifierRegistration::new(photographer(), "Fotostudio Klik").with_purpose(newsletter_purpose()))
        .with_verifier(
            VerifierRegistration::new(secondary_school(), "Het Lyceum")
                .with_purpose(newsletter_purpose())
                .with_purpose(transfer_purpose()),
        )
}

fn trust_list_error(result: Result<impl std::fmt::Debug, Error>) -> TrustListError {
    match result {
        Err(Error::TrustList(e)) => e,
        other => panic!("expected a trust list error, got {other:?}"),
    }
}

fn did_error(result: Result<impl std::fmt::Debug, Error>) -> schooltas_did::Error {
    match result {
        Err(Error::Did(e)) => e,
        other => panic!("expected a DID/JWS error, got {other:?}"),
    }
}

fn verify(jwt: &str, operator: &Party, now: i64) -> Result<VerifiedTrustList, Error> {
    UnverifiedTrustList::parse(jwt)?.verify_with(operator.key.verifying_key(), &operator.did, now, SKEW)
}

/// The sample list, signed by an EdDSA operator and verified at `NOW`.
fn verified_sample() -> VerifiedTrustList {
    let operator = party(Algorithm::EdDsa);
    sample_list(&operator.did).sign_and_verify(&operator.key, &operator.kid, NOW, SKEW).unwrap().1
}

/// Signs `payload` as given (bypassing [`TrustList::sign`]'s checks), with header `typ` and
/// `kid`.
fn sign_raw(payload: &Value, typ: Option<&str>, signer: &SigningKey, kid: &DidUrl) -> String {
    let mut header = Header::new().with_kid(kid.as_str());
    if let Some(typ) = typ {
        header = header.with_typ(typ);
    }
    jws::sign_compact_json(&header, payload, signer).unwrap()
}

fn payload_of(list: &TrustList) -> Value {
    serde_json::to_value(list).unwrap()
}

// ---- round trips ----------------------------------------------------------------------------

#[test]
fn round_trip_eddsa() {
    let operator = party(Algorithm::EdDsa);
    let list = sample_list(&operator.did);
    let jwt = list.sign(&operator.key, &operator.kid).unwrap();
    let parsed = UnverifiedTrustList::parse(&jwt).unwrap();
    assert_eq!(parsed.header().typ(), Some(TRUST_LIST_TYP));
    assert_eq!(parsed.header().alg(), Some(Algorithm::EdDsa));
    assert_eq!(parsed.kid().unwrap(), operator.kid);
    assert_eq!(verify(&jwt, &operator, NOW).unwrap().content(), &list);
}

#[test]
fn round_trip_es256() {
    let operator = party(Algorithm::Es256);
    let list = sample_list(&operator.did);
    let jwt = list.sign(&operator.key, &operator.kid).unwrap();
    assert_eq!(UnverifiedTrustList::parse(&jwt).unwrap().header().alg(), Some(Algorithm::Es256));
    assert_eq!(verify(&jwt, &operator, NOW).unwrap().content(), &list);
}

#[test]
fn round_trip_through_resolver() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let operator = party(alg);
        let list = sample_list(&operator.did);
        let jwt = list.sign(&operator.key, &operator.kid).unwrap();
        let verified = UnverifiedTrustList::parse(&jwt)
            .unwrap()
            .verify_with_resolver(&Resolver::offline(), &operator.did, NOW, SKEW)
            .unwrap();
        assert_eq!(verified.content(), &list);
    }
}

#[test]
fn payload_has_the_documented_shape() {
    let operator = party(Algorithm::EdDsa);
    let payload = payload_of(&sample_list(&operator.did));
    assert_eq!(payload["iss"], operator.did.as_str());
    assert_eq!(payload["iat"], NOW - DAY);
    assert_eq!(payload["exp"], NOW + 30 * DAY);
    assert_eq!(payload["issuers"][0]["brin"], "12AB");
    assert_eq!(payload["issuers"][0]["credential_types"], json!([ENROLMENT, SUPPORT]));
    let purpose = &payload["verifiers"][1]["purposes"][1];
    assert_eq!(purpose["code"], "transfer");
    assert_eq!(purpose["legal_basis"], "legal_obligation");
    assert_eq!(purpose["max_retention_days"], 730);
    assert_eq!(purpose["text"], json!({"nl": "Overstap", "en": "Transfer"}));
    assert_eq!(purpose["credentials"][0]["claims"], json!([["administrative"], ["guardians", null, "name"]]));
    assert!(purpose["credentials"][0].get("legal_basis").is_none(), "no basis of its own: omitted");
    assert_eq!(purpose["credentials"][1]["legal_basis"], "consent");
}

#[test]
fn reads_the_documented_example_and_ignores_unknown_members() {
    let operator = party(Algorithm::EdDsa);
    let payload = json!({
        "iss": operator.did.as_str(), "iat": NOW - DAY, "exp": NOW + DAY,
        "version": 7, "operator_contact": "https://trust.example/contact",
        "issuers": [
            {"did": "did:web:school.example", "name": "Basisschool De Linde", "brin": "12AB",
             "credential_types": [ENROLMENT], "website": "https://school.example"}
        ],
        "verifiers": [
            {"did": "did:web:klik.example", "name": "Fotostudio Klik",
             "purposes": [
               {"code": "newsletter", "text": {"nl": "Nieuwsbrief", "en": "Newsletter"},
                "legal_basis": "consent", "max_retention_days": 365,
                "credentials": [
                  {"vct": ENROLMENT, "claims": [["given_name"], ["group"], ["school_brin"]],
                   "legal_basis": "consent"}]}]}
        ]
    });
    let jwt = sign_raw(&payload, Some(TRUST_LIST_TYP), &operator.key, &operator.kid);
    let verified = verify(&jwt, &operator, NOW).unwrap();
    let list = verified.at(NOW).unwrap();
    assert_eq!(list.issuer(&school()).unwrap().name, "Basisschool De Linde");
    let purpose = list.verifier(&photographer()).unwrap().purpose("newsletter").unwrap();
    assert_eq!(purpose.credentials[0].legal_basis, Some(LegalBasis::Consent));
    assert!(purpose.allows(ENROLMENT, &ClaimPath::claim("school_brin")));
}

// ---- lookups --------------------------------------------------------------------------------

#[test]
fn accredited_issuer_is_found() {
    let verified = verified_sample();
    let list = verified.at(NOW).unwrap();
    let issuer = list.check_issuer(&school(), SUPPORT).unwrap();
    assert_eq!(issuer.brin.as_deref(), Some("12AB"));
    assert!(list.issuer(&school()).is_some());
    assert!(list.issuer(&photographer()).is_none());
}

#[test]
fn issuer_not_accredited_for_the_type_is_refused() {
    let verified = verified_sample();
    let list = verified.at(NOW).unwrap();
    let error = list.check_issuer(&school(), GUARDIANSHIP).unwrap_err();
    assert!(
        matches!(&error, TrustListError::IssuerNotAccredited { did, vct } if did == "did:web:school.example" && vct == GUARDIANSHIP),
        "{error:?}"
    );
}

#[test]
fn unlisted_issuer_is_refused() {
    let verified = verified_sample();
    let list = verified.at(NOW).unwrap();
    let error = list.check_issuer(&did("did:web:rogue.example"), ENROLMENT).unwrap_err();
    assert!(matches!(&error, TrustListError::IssuerNotListed { did } if did == "did:web:rogue.example"), "{error:?}");
}

#[test]
fn verifier_purposes_are_found() {
    let verified = verified_sample();
    let list = verified.at(NOW).unwrap();
    let lyceum = list.verifier(&secondary_school()).unwrap();
    assert_eq!(lyceum.name, "Het Lyceum");
    let transfer = lyceum.purpose("transfer").unwrap();
    assert_eq!(transfer.max_retention_days, 730);
    assert_eq!(transfer.basis_for(ENROLMENT), Some(LegalBasis::LegalObligation));
    assert_eq!(transfer.basis_for(SUPPORT), Some(LegalBasis::Consent));
    assert_eq!(transfer.basis_for(GUARDIANSHIP), None);
    assert!(list.verifier(&photographer()).unwrap().purpose("transfer").is_none());
    assert!(list.verifier(&school()).is_none());
}

#[test]
fn allows_registered_paths_their_sub_paths_and_any_index_for_null() {
    let transfer = transfer_purpose();
    assert!(transfer.allows(ENROLMENT, &ClaimPath::claim("administrative")));
    assert!(transfer.allows(ENROLMENT, &path(json!(["administrative", "given_name"]))));
    assert!(transfer.allows(ENROLMENT, &path(json!(["guardians", 0, "name"]))));
    assert!(transfer.allows(ENROLMENT, &path(json!(["guardians", null, "name"]))));
    assert!(transfer.allows(ENROLMENT, &path(json!(["guardians", 3, "name", "family"]))));
    // Not a parent, a sibling, another member of the elements, or another type.
    assert!(!transfer.allows(ENROLMENT, &ClaimPath::claim("guardians")));
    assert!(!transfer.allows(ENROLMENT, &path(json!(["guardians", 0, "phone"]))));
    assert!(!transfer.allows(ENROLMENT, &ClaimPath::claim("administrative_notes")));
    assert!(!transfer.allows(ENROLMENT, &ClaimPath::claim("birth_date")));
    assert!(!transfer.allows(GUARDIANSHIP, &ClaimPath::claim("administrative")));
    // A registered index does not allow every element.
    let first_only = RegisteredPurpose::new("x", text("x", "x"), LegalBasis::Consent, 1)
        .allow(ENROLMENT, [path(json!(["guardians", 0]))]);
    assert!(first_only.allows(ENROLMENT, &path(json!(["guardians", 0, "name"]))));
    assert!(!first_only.allows(ENROLMENT, &path(json!(["guardians", null]))));
    assert!(!first_only.allows(ENROLMENT, &path(json!(["guardians", 1]))));
}

// ---- over-asking ----------------------------------------------------------------------------

fn extension(code: &str, basis: LegalBasis, retention_days: u32) -> SchooltasExtension {
    SchooltasExtension::new(
        Purpose { code: code.into(), text: text("Nieuwsbrief", "Newsletter") },
        basis,
        retention_days,
    )
}

fn request(verifier: &Did, query: CredentialQuery, extension: Option<SchooltasExtension>) -> AuthorizationRequest {
    let query = DcqlQuery::builder().credential(query).build().unwrap();
    let request = AuthorizationRequest::new(verifier, RESPONSE_URI, NONCE, query);
    match extension {
        Some(extension) => request.with_schooltas(extension).unwrap(),
        None => request,
    }
}

fn enrolment_query(claims: &[&str]) -> CredentialQuery {
    claims.iter().fold(CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]), |q, c| q.claim(ClaimPath::claim(*c)))
}

fn photographer_registration() -> VerifierRegistration {
    verified_sample().at(NOW).unwrap().verifier(&photographer()).unwrap().clone()
}

fn newsletter_request(query: CredentialQuery) -> AuthorizationRequest {
    request(&photographer(), query, Some(extension("newsletter", LegalBasis::Consent, 365)))
}

#[test]
fn request_within_registration_has_no_findings() {
    let registration = photographer_registration();
    let request = newsletter_request(enrolment_query(&["given_name", "group"]));
    assert_eq!(registration.over_asking(&request), []);
    // A shorter retention is within the registration too.
    let shorter = request.clone().with_schooltas(extension("newsletter", LegalBasis::Consent, 30)).unwrap();
    assert_eq!(registration.over_asking(&shorter), []);
}

#[test]
fn extra_claim_is_flagged() {
    let registration = photographer_registration();
    let request = newsletter_request(enrolment_query(&["given_name", "birth_date", "group"]));
    let findings = registration.over_asking(&request);
    assert_eq!(
        findings,
        [OverAsking::ClaimNotAllowed {
            query_id: "enrolment".into(),
            vct: ENROLMENT.into(),
            path: ClaimPath::claim("birth_date")
        }]
    );
    let message = findings[0].to_string();
    assert!(message.contains("\"enrolment\"") && message.contains(r#"["birth_date"]"#) && message.contains(ENROLMENT));
}

#[test]
fn claims_in_claim_sets_are_all_checked() {
    let registration = photographer_registration();
    let query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT])
        .claim_with_id("group", ClaimPath::claim("group"))
        .claim_with_id("birth", ClaimPath::claim("birth_date"))
        .claim_set(["group"])
        .claim_set(["birth"]);
    let findings = registration.over_asking(&newsletter_request(query));
    assert!(
        matches!(findings.as_slice(), [OverAsking::ClaimNotAllowed { path, .. }] if *path == ClaimPath::claim("birth_date")),
        "{findings:?}"
    );
}

#[test]
fn unregistered_purpose_is_flagged() {
    let registration = photographer_registration();
    let request =
        request(&photographer(), enrolment_query(&["group"]), Some(extension("marketing", LegalBasis::Consent, 365)));
    assert_eq!(registration.over_asking(&request), [OverAsking::UnregisteredPurpose { code: "marketing".into() }]);
}

#[test]
fn request_without_purpose_rests_on_the_registered_purpose_that_covers_it_or_is_flagged() {
    let registration = photographer_registration();
    // A standard request (no `schooltas` member) within the one registered purpose: it rests
    // on that purpose, and stays within it.
    let covered = request(&photographer(), enrolment_query(&["group"]), None);
    assert_eq!(registration.over_asking(&covered), []);
    assert!(registration.purpose_covering(&covered.dcql_query).is_some());
    // One asking beyond every purpose states no purpose that can be checked.
    let beyond = request(&photographer(), enrolment_query(&["birth_date"]), None);
    assert!(registration.purpose_covering(&beyond.dcql_query).is_none());
    assert_eq!(registration.over_asking(&beyond), [OverAsking::NoPurpose]);
}

#[test]
fn request_of_another_verifier_is_flagged() {
    let registration = photographer_registration();
    let request = request(
        &did("did:web:other.example"),
        enrolment_query(&["group"]),
        Some(extension("newsletter", LegalBasis::Consent, 365)),
    );
    assert_eq!(
        registration.over_asking(&request),
        [OverAsking::OtherVerifier { client_id: "decentralized_identifier:did:web:other.example".into() }]
    );
}

#[test]
fn credential_type_not_allowed_is_flagged() {
    let registration = photographer_registration();
    let query = CredentialQuery::sd_jwt_vc("support", [SUPPORT]).claim(ClaimPath::claim("arrangements"));
    assert_eq!(
        registration.over_asking(&newsletter_request(query)),
        [OverAsking::CredentialTypeNotAllowed { query_id: "support".into(), vct: SUPPORT.into() }]
    );
    // One allowed and one other type in vct_values: only the other is flagged.
    let query = CredentialQuery::sd_jwt_vc("either", [ENROLMENT, GUARDIANSHIP]).claim(ClaimPath::claim("group"));
    assert_eq!(
        registration.over_asking(&newsletter_request(query)),
        [OverAsking::CredentialTypeNotAllowed { query_id: "either".into(), vct: GUARDIANSHIP.into() }]
    );
}

#[test]
fn retention_too_long_is_flagged() {
    let registration = photographer_registration();
    let request =
        request(&photographer(), enrolment_query(&["group"]), Some(extension("newsletter", LegalBasis::Consent, 366)));
    assert_eq!(registration.over_asking(&request), [OverAsking::RetentionTooLong { requested: 366, allowed: 365 }]);
}

#[test]
fn per_query_basis_is_checked_against_the_registration() {
    let verified = verified_sample();
    let list = verified.at(NOW).unwrap();
    let lyceum = list.verifier(&secondary_school()).unwrap();
    let query = DcqlQuery::builder()
        .credential(
            CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]).claim(path(json!(["administrative", "given_name"]))),
        )
        .credential(CredentialQuery::sd_jwt_vc("support", [SUPPORT]).claim(path(json!(["arrangements", 0]))))
        .build()
        .unwrap();
    let transfer = |support_basis| {
        AuthorizationRequest::new(&secondary_school(), RESPONSE_URI, NONCE, query.clone())
            .with_schooltas(
                SchooltasExtension::new(
                    Purpose { code: "transfer".into(), text: text("Overstap", "Transfer") },
                    LegalBasis::LegalObligation,
                    730,
                )
                .with_query_basis("support", support_basis),
            )
            .unwrap()
    };
    // Support needs on consent, as registered: within.
    assert_eq!(lyceum.over_asking(&transfer(LegalBasis::Consent)), []);
    // Support needs claimed as a legal obligation: the registration says consent.
    assert_eq!(
        lyceum.over_asking(&transfer(LegalBasis::LegalObligation)),
        [OverAsking::BasisMismatch {
            query_id: "support".into(),
            vct: SUPPORT.into(),
            registered: LegalBasis::Consent,
            requested: LegalBasis::LegalObligation,
        }]
    );
    // The request's basis applies to queries it does not name.
    let on_consent = AuthorizationRequest::new(&secondary_school(), RESPONSE_URI, NONCE, query.clone())
        .with_schooltas(extension("transfer", LegalBasis::Consent, 730))
        .unwrap();
    let findings = lyceum.over_asking(&on_consent);
    assert!(
        matches!(findings.as_slice(), [OverAsking::BasisMismatch { query_id, registered: LegalBasis::LegalObligation, .. }] if query_id == "enrolment"),
        "{findings:?}"
    );
    assert!(findings[0].to_string().contains("consent") && findings[0].to_string().contains("legal_obligation"));
}

#[test]
fn all_claims_query_is_flagged() {
    let registration = photographer_registration();
    let query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]);
    assert_eq!(
        registration.over_asking(&newsletter_request(query)),
        [OverAsking::AllClaimsRequested { query_id: "enrolment".into() }]
    );
}

#[test]
fn over_asking_query_serves_the_verifier_before_it_builds_a_request() {
    let registration = photographer_registration();
    let query = DcqlQuery::builder().credential(enrolment_query(&["group", "birth_date"])).build().unwrap();
    let findings = registration.over_asking_query("newsletter", 400, |_| LegalBasis::Consent, &query);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(findings.contains(&OverAsking::RetentionTooLong { requested: 400, allowed: 365 }));
    assert!(findings.iter().any(|f| matches!(f, OverAsking::ClaimNotAllowed { .. })));
}

#[test]
fn check_request_refuses_over_asking_and_unlisted_verifiers() {
    let verified = verified_sample();
    let list = verified.at(NOW).unwrap();
    let within = newsletter_request(enrolment_query(&["group"]));
    assert_eq!(list.check_request(&within).unwrap().did, photographer());

    let over = newsletter_request(enrolment_query(&["group", "birth_date"]));
    let error = trust_list_error(list.check_request(&over));
    let TrustListError::RequestExceedsRegistration { findings } = &error else { panic!("{error:?}") };
    assert_eq!(findings.len(), 1);
    assert!(error.to_string().contains("birth_date"), "{error}");

    let stranger = request(
        &did("did:web:stranger.example"),
        enrolment_query(&["group"]),
        Some(extension("newsletter", LegalBasis::Consent, 1)),
    );
    let error = trust_list_error(list.check_request(&stranger));
    assert!(
        matches!(&error, TrustListError::VerifierNotListed { did } if did == "did:web:stranger.example"),
        "{error:?}"
    );
}

// ---- refusals: validity period ------------------------------------------------------------------

#[test]
fn expired_list_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let list = TrustList { expires_at: NOW - SKEW, ..sample_list(&operator.did) };
    let jwt = list.sign(&operator.key, &operator.kid).unwrap();
    let error = trust_list_error(verify(&jwt, &operator, NOW));
    assert!(matches!(error, TrustListError::Expired { expires_at, now: NOW } if expires_at == NOW - SKEW), "{error:?}");
    // One second later it is still within the skew.
    let list = TrustList { expires_at: NOW - SKEW + 1, ..list };
    let jwt = list.sign(&operator.key, &operator.kid).unwrap();
    assert!(verify(&jwt, &operator, NOW).is_ok());
}

#[test]
fn a_list_valid_at_load_is_refused_at_each_use_after_it_expires() {
    let operator = party(Algorithm::EdDsa);
    let list = TrustList { expires_at: NOW + DAY, ..sample_list(&operator.did) };
    let jwt = list.sign(&operator.key, &operator.kid).unwrap();
    // Loaded and verified while valid, as a service does at start-up…
    let verified = verify(&jwt, &operator, NOW).unwrap();
    assert!(verified.at(NOW).unwrap().check_issuer(&school(), ENROLMENT).is_ok());
    assert_eq!(verified.expires_at(), NOW + DAY);
    // …it still answers until `exp` (plus the skew it was verified with)…
    assert!(verified.at(NOW + DAY + SKEW - 1).is_ok());
    // …and after that, every lookup is refused with the expiry, not with a stale answer.
    for later in [NOW + DAY + SKEW, NOW + 30 * DAY, i64::MAX] {
        let error = verified.at(later).unwrap_err();
        assert!(
            matches!(error, TrustListError::Expired { expires_at, now } if expires_at == NOW + DAY && now == later),
            "{error:?}"
        );
    }
    // A clock that runs backwards past `iat` is refused too.
    let error = verified.at(NOW - DAY - SKEW - 1).unwrap_err();
    assert!(matches!(error, TrustListError::IssuedInFuture { .. }), "{error:?}");
}

#[test]
fn a_deserialized_list_has_no_lookups_until_it_is_verified() {
    // Compile-time rule, checked here by what the types offer: the plain content type can be
    // read from JSON (the operator's input to `sign`), but only `VerifiedTrustList::at` gives
    // `check_issuer`; the verified type implements no `Deserialize` (see `sign_and_verify`).
    let operator = party(Algorithm::EdDsa);
    let content: TrustList = serde_json::from_value(payload_of(&sample_list(&operator.did))).unwrap();
    let (_, verified) = content.sign_and_verify(&operator.key, &operator.kid, NOW, SKEW).unwrap();
    assert_eq!(verified.content(), &content);
    assert_eq!(verified.operator(), &operator.did);
    assert!(verified.at(NOW).unwrap().check_issuer(&school(), ENROLMENT).is_ok());
}

#[test]
fn list_issued_in_the_future_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let list = TrustList { issued_at: NOW + SKEW + 1, ..sample_list(&operator.did) };
    let jwt = list.sign(&operator.key, &operator.kid).unwrap();
    let error = trust_list_error(verify(&jwt, &operator, NOW));
    assert!(matches!(error, TrustListError::IssuedInFuture { issued_at, now: NOW } if issued_at == NOW + SKEW + 1));
    // Within the skew it is accepted.
    let list = TrustList { issued_at: NOW + SKEW, ..list };
    assert!(verify(&list.sign(&operator.key, &operator.kid).unwrap(), &operator, NOW).is_ok());
}

#[test]
fn validity_period_must_be_positive() {
    let operator = party(Algorithm::EdDsa);
    let list = TrustList { expires_at: NOW - DAY, ..sample_list(&operator.did) };
    let error = trust_list_error(list.sign(&operator.key, &operator.kid));
    assert!(matches!(error, TrustListError::InvalidValidityPeriod { .. }), "{error:?}");
    // The same list signed by hand is refused on verification (before it can expire).
    let mut payload = payload_of(&list);
    payload["exp"] = json!(NOW - DAY);
    payload["iat"] = json!(NOW - DAY);
    let jwt = sign_raw(&payload, Some(TRUST_LIST_TYP), &operator.key, &operator.kid);
    let error = trust_list_error(UnverifiedTrustList::parse(&jwt).unwrap().verify_with(
        operator.key.verifying_key(),
        &operator.did,
        NOW - 2 * DAY,
        SKEW,
    ));
    assert!(matches!(error, TrustListError::InvalidValidityPeriod { .. }), "{error:?}");
}

#[test]
fn missing_time_claims_are_refused() {
    let operator = party(Algorithm::EdDsa);
    for claim in ["iss", "iat", "exp"] {
        let mut payload = payload_of(&sample_list(&operator.did));
        payload.as_object_mut().unwrap().remove(claim);
        let jwt = sign_raw(&payload, Some(TRUST_LIST_TYP), &operator.key, &operator.kid);
        let error = trust_list_error(verify(&jwt, &operator, NOW));
        assert!(matches!(error, TrustListError::MissingClaim { claim: c } if c == claim), "{claim}: {error:?}");
    }
    let mut payload = payload_of(&sample_list(&operator.did));
    payload["exp"] = json!("soon");
    let jwt = sign_raw(&payload, Some(TRUST_LIST_TYP), &operator.key, &operator.kid);
    assert!(matches!(trust_list_error(verify(&jwt, &operator, NOW)), TrustListError::MissingClaim { claim: "exp" }));
}

// ---- refusals: signature and header ---------------------------------------------------------

#[test]
fn tampered_payload_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let jwt = sample_list(&operator.did).sign(&operator.key, &operator.kid).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload = base64url::decode(parts[1]).unwrap();
    // "Basisschool De Linde" → "Basisschool De Lindf": still valid JSON, different content.
    let at = payload.windows(5).position(|w| w == b"Linde").unwrap() + 4;
    payload[at] ^= 0x03;
    let tampered = format!("{}.{}.{}", parts[0], base64url::encode(&payload), parts[2]);
    assert!(matches!(did_error(verify(&tampered, &operator, NOW)), schooltas_did::Error::InvalidSignature));
}

#[test]
fn signature_by_another_key_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let impostor = SigningKey::generate(Algorithm::EdDsa).unwrap();
    // The kid names the operator's key, but the impostor signed.
    let jwt = sign_raw(&payload_of(&sample_list(&operator.did)), Some(TRUST_LIST_TYP), &impostor, &operator.kid);
    assert!(matches!(did_error(verify(&jwt, &operator, NOW)), schooltas_did::Error::InvalidSignature));
    let resolved =
        UnverifiedTrustList::parse(&jwt).unwrap().verify_with_resolver(&Resolver::offline(), &operator.did, NOW, SKEW);
    assert!(matches!(did_error(resolved), schooltas_did::Error::InvalidSignature));
}

#[test]
fn algorithm_is_pinned_to_the_key() {
    let operator = party(Algorithm::EdDsa);
    let p256 = SigningKey::generate(Algorithm::Es256).unwrap();
    // Signed with ES256 while the operator's key is Ed25519.
    let jwt = sign_raw(&payload_of(&sample_list(&operator.did)), Some(TRUST_LIST_TYP), &p256, &operator.kid);
    assert!(matches!(did_error(verify(&jwt, &operator, NOW)), schooltas_did::Error::AlgorithmMismatch { .. }));
}

#[test]
fn wrong_or_missing_typ_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let payload = payload_of(&sample_list(&operator.did));
    for typ in [Some("JWT"), Some("statuslist+jwt"), None] {
        let jwt = sign_raw(&payload, typ, &operator.key, &operator.kid);
        let error = trust_list_error(UnverifiedTrustList::parse(&jwt));
        assert!(matches!(&error, TrustListError::WrongTyp { found } if found.as_deref() == typ), "{typ:?}: {error:?}");
    }
}

#[test]
fn alg_none_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let header = json!({"alg": "none", "typ": TRUST_LIST_TYP, "kid": operator.kid.as_str()});
    let payload = payload_of(&sample_list(&operator.did));
    let unsigned = format!(
        "{}.{}.",
        base64url::encode(header.to_string().as_bytes()),
        base64url::encode(payload.to_string().as_bytes())
    );
    assert!(matches!(did_error(UnverifiedTrustList::parse(&unsigned)), schooltas_did::Error::AlgNone));
    let hmac = json!({"alg": "HS256", "typ": TRUST_LIST_TYP, "kid": operator.kid.as_str()});
    let forged = format!(
        "{}.{}.{}",
        base64url::encode(hmac.to_string().as_bytes()),
        base64url::encode(payload.to_string().as_bytes()),
        base64url::encode([0u8; 32])
    );
    assert!(matches!(did_error(UnverifiedTrustList::parse(&forged)), schooltas_did::Error::HmacAlgorithm { .. }));
}

#[test]
fn list_of_another_operator_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let other = party(Algorithm::EdDsa);
    // Signed with the operator's key, but the payload says another operator issued it.
    let jwt = sign_raw(&payload_of(&sample_list(&other.did)), Some(TRUST_LIST_TYP), &operator.key, &operator.kid);
    let error = trust_list_error(verify(&jwt, &operator, NOW));
    assert!(
        matches!(&error, TrustListError::OperatorMismatch { expected, found } if *expected == operator.did.to_string() && *found == other.did.to_string()),
        "{error:?}"
    );
    // A valid list of another operator is refused where this operator is expected.
    let jwt = sample_list(&other.did).sign(&other.key, &other.kid).unwrap();
    let error = trust_list_error(verify(&jwt, &operator, NOW));
    assert!(matches!(error, TrustListError::KidNotOperator { .. }), "{error:?}");
}

#[test]
fn kid_of_another_did_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let other = party(Algorithm::EdDsa);
    // The payload names the operator, but another DID's key signed it.
    let jwt = sign_raw(&payload_of(&sample_list(&operator.did)), Some(TRUST_LIST_TYP), &other.key, &other.kid);
    let parsed = UnverifiedTrustList::parse(&jwt).unwrap();
    for result in [
        parsed.verify_with(other.key.verifying_key(), &operator.did, NOW, SKEW),
        parsed.verify_with_resolver(&Resolver::offline(), &operator.did, NOW, SKEW),
    ] {
        let error = trust_list_error(result);
        assert!(
            matches!(&error, TrustListError::KidNotOperator { operator: o, kid_did } if *o == operator.did.to_string() && *kid_did == other.did.to_string()),
            "{error:?}"
        );
    }
    // sign refuses a kid of another DID.
    let error = trust_list_error(sample_list(&operator.did).sign(&other.key, &other.kid));
    assert!(matches!(error, TrustListError::KidNotOperator { .. }), "{error:?}");
}

#[test]
fn missing_or_invalid_kid_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let payload = payload_of(&sample_list(&operator.did));
    let no_kid = jws::sign_compact_json(&Header::new().with_typ(TRUST_LIST_TYP), &payload, &operator.key).unwrap();
    let error = trust_list_error(verify(&no_kid, &operator, NOW));
    assert!(matches!(error, TrustListError::MissingKid), "{error:?}");
    let bad_kid =
        jws::sign_compact_json(&Header::new().with_typ(TRUST_LIST_TYP).with_kid("key-1"), &payload, &operator.key)
            .unwrap();
    let error = trust_list_error(verify(&bad_kid, &operator, NOW));
    assert!(matches!(error, TrustListError::InvalidKid), "{error:?}");
}

/// Whether an error is the one a case expects.
type ErrorCheck = fn(&TrustListError) -> bool;

/// A change to a signed payload.
type Mutation = fn(&mut Value);

// ---- refusals: entries ------------------------------------------------------------------------

#[test]
fn duplicate_verifier_is_refused_by_sign_and_by_verify() {
    let operator = party(Algorithm::EdDsa);
    let list = sample_list(&operator.did)
        .with_verifier(VerifierRegistration::new(photographer(), "Klik again").with_purpose(newsletter_purpose()));
    let error = trust_list_error(list.sign(&operator.key, &operator.kid));
    assert!(matches!(&error, TrustListError::DuplicateVerifier { did } if did == "did:web:klik.example"), "{error:?}");

    let jwt = sign_raw(&payload_of(&list), Some(TRUST_LIST_TYP), &operator.key, &operator.kid);
    let error = trust_list_error(verify(&jwt, &operator, NOW));
    assert!(matches!(&error, TrustListError::DuplicateVerifier { did } if did == "did:web:klik.example"), "{error:?}");
}

#[test]
fn duplicate_issuer_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let list = sample_list(&operator.did)
        .with_issuer(AccreditedIssuer::new(school(), "De Linde again").accredited_for(ENROLMENT));
    let error = trust_list_error(list.sign(&operator.key, &operator.kid));
    assert!(matches!(&error, TrustListError::DuplicateIssuer { did } if did == "did:web:school.example"), "{error:?}");
}

#[test]
fn malformed_entries_are_refused_by_sign() {
    let operator = party(Algorithm::EdDsa);
    let base = || sample_list(&operator.did);
    let issuer = |name: &str| AccreditedIssuer::new(did("did:web:other-school.example"), name);
    let verifier = |purpose: RegisteredPurpose| {
        VerifierRegistration::new(did("did:web:other-verifier.example"), "Other").with_purpose(purpose)
    };
    let cases: Vec<(&str, TrustList, ErrorCheck)> = vec![
        ("empty issuer name", base().with_issuer(issuer(" ").accredited_for(ENROLMENT)), |e| {
            matches!(e, TrustListError::EmptyName { .. })
        }),
        (
            "lowercase BRIN",
            base().with_issuer(issuer("X").with_brin("12ab").accredited_for(ENROLMENT)),
            |e| matches!(e, TrustListError::InvalidBrin { brin, .. } if brin == "12ab"),
        ),
        ("no credential types", base().with_issuer(issuer("X")), |e| {
            matches!(e, TrustListError::NoCredentialTypes { .. })
        }),
        ("invalid vct", base().with_issuer(issuer("X").accredited_for("has space")), |e| {
            matches!(e, TrustListError::InvalidCredentialType { .. })
        }),
        (
            "no purposes",
            base().with_verifier(VerifierRegistration::new(did("did:web:other-verifier.example"), "Other")),
            |e| matches!(e, TrustListError::NoPurposes { .. }),
        ),
        (
            "empty purpose code",
            base().with_verifier(verifier(
                RegisteredPurpose::new("", text("a", "b"), LegalBasis::Consent, 1).allow(ENROLMENT, []),
            )),
            |e| matches!(e, TrustListError::EmptyPurposeCode { .. }),
        ),
        (
            "duplicate purpose",
            base().with_verifier(verifier(newsletter_purpose()).with_purpose(newsletter_purpose())),
            |e| matches!(e, TrustListError::DuplicatePurpose { code, .. } if code == "newsletter"),
        ),
        (
            "empty purpose text",
            base().with_verifier(verifier(
                RegisteredPurpose::new("p", text("", "b"), LegalBasis::Consent, 1).allow(ENROLMENT, []),
            )),
            |e| matches!(e, TrustListError::EmptyPurposeText { .. }),
        ),
        (
            "purpose allowing nothing",
            base().with_verifier(verifier(RegisteredPurpose::new("p", text("a", "b"), LegalBasis::Consent, 1))),
            |e| matches!(e, TrustListError::NoAllowedCredentials { .. }),
        ),
        (
            "type twice in a purpose",
            base().with_verifier(verifier(newsletter_purpose().allow(ENROLMENT, [ClaimPath::claim("x")]))),
            |e| matches!(e, TrustListError::DuplicateAllowedCredential { .. }),
        ),
    ];
    for (name, list, expected) in cases {
        let error = trust_list_error(list.sign(&operator.key, &operator.kid));
        assert!(expected(&error), "{name}: {error:?}");
    }
}

#[test]
fn malformed_payload_is_refused_by_verify() {
    let operator = party(Algorithm::EdDsa);
    let mutations: [(&str, Mutation); 5] = [
        ("issuer DID", |p| p["issuers"][0]["did"] = json!("not-a-did")),
        ("claims path", |p| p["verifiers"][0]["purposes"][0]["credentials"][0]["claims"] = json!([[]])),
        ("legal basis", |p| p["verifiers"][0]["purposes"][0]["legal_basis"] = json!("because")),
        ("retention", |p| p["verifiers"][0]["purposes"][0]["max_retention_days"] = json!(-1)),
        ("issuers", |p| p["issuers"] = json!({"did": "did:web:school.example"})),
    ];
    for (name, mutate) in mutations {
        let mut payload = payload_of(&sample_list(&operator.did));
        mutate(&mut payload);
        let jwt = sign_raw(&payload, Some(TRUST_LIST_TYP), &operator.key, &operator.kid);
        let error = trust_list_error(verify(&jwt, &operator, NOW));
        assert!(matches!(error, TrustListError::MalformedTrustList { .. }), "{name}: {error:?}");
    }
    // A payload that is not a JSON object at all.
    let jwt = jws::sign_compact(
        &Header::new().with_typ(TRUST_LIST_TYP).with_kid(operator.kid.as_str()),
        b"[1,2]",
        &operator.key,
    )
    .unwrap();
    assert!(matches!(trust_list_error(verify(&jwt, &operator, NOW)), TrustListError::MalformedTrustList { .. }));
}

#[test]
fn oversize_input_is_refused() {
    let huge = "a".repeat(MAX_TRUST_LIST_LEN + 1);
    let error = trust_list_error(UnverifiedTrustList::parse(&huge));
    assert!(
        matches!(error, TrustListError::TooLarge { len, limit: MAX_TRUST_LIST_LEN } if len == MAX_TRUST_LIST_LEN + 1),
        "{error:?}"
    );
}

#[test]
fn garbage_input_is_refused() {
    for garbage in ["", "not a jws", "a.b", "a.b.c.d", "!!!.???.###", "eyJ9.e30.AAAA"] {
        assert!(
            matches!(UnverifiedTrustList::parse(garbage), Err(Error::Did(_))),
            "{garbage:?} must be refused as a malformed JWS"
        );
    }
}

#[test]
fn errors_name_what_failed() {
    let error = TrustListError::IssuerNotAccredited { did: "did:web:school.example".into(), vct: GUARDIANSHIP.into() };
    assert_eq!(
        error.to_string(),
        format!("the issuer did:web:school.example is not accredited for the credential type {GUARDIANSHIP}")
    );
    let finding = OverAsking::AllClaimsRequested { query_id: "enrolment".into() };
    assert!(finding.to_string().contains("\"enrolment\" lists no claims"));
}

// ---- strict JSON (issue 12 item 10) ----------------------------------------------------------

/// The same JWS with its payload text edited and signed again by `key` (same header).
fn resigned(jwt: &str, key: &SigningKey, edit: impl Fn(&str) -> String) -> String {
    let parsed = jws::CompactJws::parse(jwt).unwrap();
    let payload = String::from_utf8(parsed.dangerous_unverified_payload().unwrap()).unwrap();
    jws::sign_compact(parsed.header(), edit(&payload).as_bytes(), key).unwrap()
}

#[test]
fn a_trust_list_naming_a_member_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let operator = party(Algorithm::EdDsa);
    let jwt = sample_list(&operator.did).sign(&operator.key, &operator.kid).unwrap();
    // A second `exp` that one parser would read and another would not.
    let doubled = resigned(&jwt, &operator.key, |p| p.replacen('{', r#"{"exp":4102444800,"#, 1));
    let err = did_error(verify(&doubled, &operator, NOW));
    assert!(matches!(err, schooltas_did::Error::Json(J::DuplicateMember { ref name }) if name == "exp"), "{err}");
    // Nested inside an issuer entry: a second DID for the accredited school.
    let nested = resigned(&jwt, &operator.key, |p| {
        p.replacen(r#""issuers":[{"#, r#""issuers":[{"did":"did:web:evil.example","#, 1)
    });
    assert_ne!(nested, jwt);
    let err = did_error(verify(&nested, &operator, NOW));
    assert!(matches!(err, schooltas_did::Error::Json(J::DuplicateMember { ref name }) if name == "did"), "{err}");
    let huge = resigned(&jwt, &operator.key, |p| p.replacen('{', r#"{"x":18446744073709551616,"#, 1));
    assert!(matches!(did_error(verify(&huge, &operator, NOW)), schooltas_did::Error::Json(J::IntegerOutOfRange)));
    // Unchanged, it verifies.
    assert!(verify(&resigned(&jwt, &operator.key, str::to_owned), &operator, NOW).is_ok());
}

// ---- x509 client identifiers (the EU profile) ---------------------------------------------------

#[test]
fn a_verifier_registered_with_an_x509_client_id_is_found_by_it() {
    let operator = party(Algorithm::EdDsa);
    let hash = "x509_hash:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
    let list = TrustList::new(operator.did.clone(), NOW - DAY, NOW + 30 * DAY).with_verifier(
        VerifierRegistration::new(photographer(), "Fotostudio Klik")
            .with_purpose(newsletter_purpose())
            .with_client_id(hash)
            .with_client_id("x509_san_dns:klik.example"),
    );
    let verified = list.sign_and_verify(&operator.key, &operator.kid, NOW, SKEW).unwrap().1;
    let current = verified.at(NOW).unwrap();
    assert_eq!(current.verifier_for_client(hash).unwrap().did, photographer());
    assert_eq!(current.verifier_for_client("x509_san_dns:KLIK.example").unwrap().did, photographer());
    assert_eq!(
        current.verifier_for_client(&format!("decentralized_identifier:{}", photographer())).unwrap().did,
        photographer()
    );
    assert!(current.verifier_for_client("x509_hash:another").is_none());
    assert!(current.verifier_for_client("x509_san_dns:other.example").is_none());

    // A request signed under the certificate is checked against the same registration.
    let mut within = newsletter_request(enrolment_query(&["group"]));
    within.client_id = hash.to_owned();
    assert_eq!(current.check_request(&within).unwrap().did, photographer());
    let mut stranger = within.clone();
    stranger.client_id = "x509_hash:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0".to_owned();
    let error = trust_list_error(current.check_request(&stranger));
    assert!(matches!(&error, TrustListError::VerifierNotListed { .. }), "{error:?}");
}

#[test]
fn a_client_id_without_an_x509_prefix_or_listed_twice_is_refused() {
    let operator = party(Algorithm::EdDsa);
    let with = |ids: &[&str]| {
        let registration = ids.iter().fold(
            VerifierRegistration::new(photographer(), "Fotostudio Klik").with_purpose(newsletter_purpose()),
            |r, id| r.with_client_id(*id),
        );
        TrustList::new(operator.did.clone(), NOW - DAY, NOW + 30 * DAY)
            .with_verifier(registration)
            .sign(&operator.key, &operator.kid)
    };
    let error = trust_list_error(with(&["redirect_uri:https://klik.example/cb"]));
    assert!(matches!(&error, TrustListError::InvalidClientId { .. }), "{error:?}");
    let error = trust_list_error(with(&["x509_san_dns:klik.example", "x509_san_dns:KLIK.example"]));
    assert!(matches!(&error, TrustListError::DuplicateVerifier { .. }), "{error:?}");
}

#[test]
fn an_origin_client_id_is_an_https_origin_and_names_its_verifier_exactly() {
    let operator = party(Algorithm::EdDsa);
    let with = |ids: &[&str]| {
        let registration = ids.iter().fold(
            VerifierRegistration::new(photographer(), "Fotostudio Klik").with_purpose(newsletter_purpose()),
            |r, id| r.with_client_id(*id),
        );
        TrustList::new(operator.did.clone(), NOW - DAY, NOW + 30 * DAY)
            .with_verifier(registration)
            .sign(&operator.key, &operator.kid)
    };
    for bad in
        ["origin:http://klik.example", "origin:https://klik.example/", "origin:https://klik.example/pad", "origin:"]
    {
        let error = trust_list_error(with(&[bad]));
        assert!(matches!(&error, TrustListError::InvalidClientId { .. }), "{bad}: {error:?}");
    }
    let jwt = with(&["origin:https://klik.example", "origin:https://klik.example:8443"]).unwrap();
    let verified = verify(&jwt, &operator, NOW).unwrap();
    let current = verified.at(NOW).unwrap();
    assert_eq!(current.verifier_for_client("origin:https://klik.example").unwrap().did, photographer());
    assert_eq!(current.verifier_for_client("origin:https://klik.example:8443").unwrap().did, photographer());
    // Appendix A.2 compares origins as strings: no case folding, no default port.
    assert!(current.verifier_for_client("origin:https://KLIK.example").is_none());
    assert!(current.verifier_for_client("origin:https://klik.example:443").is_none());
}
