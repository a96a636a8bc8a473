//! Every check of the verification pipeline with a passing and a failing case, on responses
//! built with the credential crate (the wallet's end-to-end tests live in the root package).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use schooltas_did::{Did, DidUrl, PublicKey, Resolver, Signer, SigningKey, did_key};
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, CredentialQuery, TransactionData, transaction_data_hash,
};
use schooltas_school::catalog::Catalog;
use schooltas_school::consent::{ApprovedPresentation, GuardianApproval};
use schooltas_school::trust_list::{
    AccreditedIssuer, OverAsking, RegisteredPurpose, TrustList, TrustListError, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{HolderSdJwt, KeyBindingInput, RandomSalts, UnverifiedSdJwt};
use schooltas_status_list::{
    Bits, FetchError, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri,
    StatusReference, StatusValue,
};
use schooltas_verifier::{Check, RequestBuilder, UnknownStatus, Verdict, VerificationContext, verify_response};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000; // 2027-01-15
const STATUS_URI: &str = "https://school.example/status/enrolment";

fn did_of(key: &SigningKey) -> Did {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()))
}

fn kid_of(key: &SigningKey) -> String {
    let did = did_of(key);
    format!("{did}#{}", did.as_str().trim_start_matches("did:key:"))
}

fn vct(id: &str) -> String {
    Catalog::standard().get(id).unwrap().vct().as_str().to_owned()
}

struct World {
    school: SigningKey,
    verifier: SigningKey,
    trust_list: VerifiedTrustList,
    resolver: Resolver,
    lists: Arc<InMemoryStatusLists>,
    status: StatusListCache,
    child_id: String,
    parent: SigningKey,
}

impl World {
    fn new() -> Self {
        let school = SigningKey::from_ed25519_seed(&[1; 32]);
        let verifier = SigningKey::from_ed25519_seed(&[2; 32]);
        let parent = SigningKey::from_ed25519_seed(&[3; 32]);
        let child_identity = SigningKey::from_ed25519_seed(&[4; 32]);
        let mut issuer = AccreditedIssuer::new(did_of(&school), "De Linde").with_brin("12AB");
        for id in ["pupil_enrolment", "guardianship"] {
            issuer = issuer.accredited_for(vct(id));
        }
        let registration = VerifierRegistration::new(did_of(&verifier), "De Linde (nieuwsbrief)").with_purpose(
            RegisteredPurpose::new(
                "newsletter",
                LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
                LegalBasis::Consent,
                365,
            )
            .allow(
                vct("pupil_enrolment"),
                ["group", "given_name", "sub", "age_over_16"].map(ClaimPath::claim).to_vec(),
            ),
        );
        let operator = SigningKey::from_ed25519_seed(&[5; 32]);
        let kid = DidUrl::parse(&format!("{}#{}", did_of(&operator), did_of(&operator).method_specific_id())).unwrap();
        let (_, trust_list) = TrustList::new(did_of(&operator), NOW - 60, NOW + 86_400 * 30)
            .with_issuer(issuer)
            .with_verifier(registration)
            .sign_and_verify(&operator, &kid, NOW, 60)
            .unwrap();
        let lists = Arc::new(InMemoryStatusLists::new());
        let world = World {
            status: StatusListCache::new(lists.clone()),
            school,
            verifier,
            trust_list,
            resolver: Resolver::offline(),
            lists,
            child_id: did_of(&child_identity).to_string(),
            parent,
        };
        world.publish(&[]);
        world
    }

    fn publish(&self, revoked: &[u64]) {
        let mut list = StatusList::new(Bits::One, 1024).unwrap();
        for index in revoked {
            list.set(*index, StatusValue::INVALID).unwrap();
        }
        let uri = StatusListUri::new(STATUS_URI).unwrap();
        let token = StatusListToken::new(uri.clone(), NOW - 10, list)
            .with_ttl(60)
            .sign(&self.school, Some(&kid_of(&self.school)))
            .unwrap();
        self.lists.publish(uri, token);
    }

    fn context(&self) -> VerificationContext<'_> {
        VerificationContext::new(&self.trust_list, &self.resolver, &self.status, NOW)
    }

    fn request(&self, claims: &[&str]) -> AuthorizationRequest {
        let mut query = CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]);
        for claim in claims {
            query = query.claim(ClaimPath::claim(*claim));
        }
        RequestBuilder::new(
            self.trust_list.at(NOW).unwrap(),
            &did_of(&self.verifier),
            "https://school.example/response",
            "newsletter",
        )
        .retention_days(365)
        .credential(query)
        .state("session-7f3a")
        .build("n-Q9v7c2LmX4pTz8Rk")
        .unwrap()
    }

    /// An enrolment credential for a child of `age`, issued by `issuer` with status index `index`.
    fn enrolment(&self, issuer: &SigningKey, age: u32, index: u64, holder: &SigningKey, exp: i64) -> String {
        self.enrolment_about(&self.child_id, issuer, age, index, holder, exp)
    }

    /// An enrolment credential about the child `sub` (an opaque child link).
    fn enrolment_about(
        &self,
        sub: &str,
        issuer: &SigningKey,
        age: u32,
        index: u64,
        holder: &SigningKey,
        exp: i64,
    ) -> String {
        let claims = json!({
            "sub": sub, "school_name": "De Linde", "school_brin": "12AB", "school_location": "00",
            "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
            "birth_date": "2014-03-01", "age_over_12": age >= 12, "age_over_16": age >= 16,
        });
        Catalog::standard()
            .get("pupil_enrolment")
            .unwrap()
            .builder(did_of(issuer).as_str(), NOW - 3600, claims.as_object().cloned().unwrap())
            .unwrap()
            .kid(kid_of(issuer))
            .expires_at(exp)
            .status(StatusReference::new(StatusListUri::new(STATUS_URI).unwrap(), index).to_status_claim())
            .holder_key(holder.verifying_key())
            .issue(issuer, &mut RandomSalts)
            .unwrap()
            .to_string()
    }

    fn guardianship(&self, holder: &SigningKey) -> String {
        self.guardianship_until(holder, "2030-03-01")
    }

    fn guardianship_until(&self, holder: &SigningKey, valid_until: &str) -> String {
        let claims = json!({"guardian_id": did_of(&self.parent).as_str(), "child_id": self.child_id,
                            "relation": "parent", "valid_until": valid_until});
        Catalog::standard()
            .get("guardianship")
            .unwrap()
            .builder(did_of(&self.school).as_str(), NOW - 3600, claims.as_object().cloned().unwrap())
            .unwrap()
            .kid(kid_of(&self.school))
            .status(StatusReference::new(StatusListUri::new(STATUS_URI).unwrap(), GUARDIANSHIP_INDEX).to_status_claim())
            .holder_key(holder.verifying_key())
            .issue(&self.school, &mut RandomSalts)
            .unwrap()
            .to_string()
    }
}

const GUARDIANSHIP_INDEX: u64 = 900;

fn present(
    credential: &str,
    holder: &SigningKey,
    claims: &[&str],
    nonce: &str,
    aud: &str,
    extra: Map<String, Value>,
) -> String {
    let paths: Vec<ClaimPath> = claims.iter().map(|c| ClaimPath::claim(*c)).collect();
    let input = KeyBindingInput { nonce: nonce.into(), audience: aud.into(), issued_at: NOW };
    HolderSdJwt::parse(credential).unwrap().present_with_claims(&paths, Some((holder, &input)), &extra).unwrap()
}

fn body(presentation: &str, state: Option<&str>, approval: Option<String>) -> String {
    let response = AuthorizationResponse::new(
        BTreeMap::from([("enrolment".to_owned(), vec![presentation.to_owned()])]),
        state.map(str::to_owned),
    );
    match approval {
        Some(approval) => schooltas_school::consent::with_guardian_approval(response, approval).to_form(),
        None => response.to_form(),
    }
}

const ASKED: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];

/// A 16-year-old's answer: no guardian approval needed.
fn sixteen(world: &World, request: &AuthorizationRequest) -> (SigningKey, String) {
    let holder = SigningKey::from_ed25519_seed(&[10; 32]);
    let credential = world.enrolment(&world.school, 16, 7, &holder, NOW + 86_400);
    let presentation = present(&credential, &holder, &ASKED, &request.nonce, &request.client_id, Map::new());
    (holder, presentation)
}

fn failed_checks(verdict: &Verdict) -> Vec<Check> {
    verdict.failures.iter().map(|f| f.check).collect()
}

#[test]
fn a_valid_response_yields_exactly_the_requested_claims() {
    let world = World::new();
    let request = world.request(&ASKED);
    let (_, presentation) = sixteen(&world, &request);
    let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &world.context());
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    let claims = verdict.claims("enrolment").unwrap();
    assert_eq!(claims["group"], "7B");
    assert_eq!(claims["age_over_16"], true);
    assert!(claims.get("birth_date").is_none());
    assert!(!verdict.guardian_approval_required);
    assert_eq!(verdict.subject.as_deref(), Some(world.child_id.as_str()));
}

#[test]
fn a_response_for_another_verifier_or_request_is_refused() {
    let world = World::new();
    let request = world.request(&ASKED);
    let holder = SigningKey::from_ed25519_seed(&[10; 32]);
    let credential = world.enrolment(&world.school, 16, 7, &holder, NOW + 86_400);
    let other_aud = present(
        &credential,
        &holder,
        &ASKED,
        &request.nonce,
        "decentralized_identifier:did:web:photo.example",
        Map::new(),
    );
    let verdict = verify_response(&request, &body(&other_aud, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::Audience]);
    let other_nonce = present(&credential, &holder, &ASKED, "n-another-request-00", &request.client_id, Map::new());
    let verdict = verify_response(&request, &body(&other_nonce, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::Nonce]);
    let (_, good) = sixteen(&world, &request);
    let verdict = verify_response(&request, &body(&good, Some("session-other"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::State]);
    let verdict = verify_response(&request, "vp_token=%7Bnot-json", &world.context());
    assert_eq!(failed_checks(&verdict), [Check::Response]);
}

#[test]
fn forged_expired_and_unbound_presentations_are_refused() {
    let world = World::new();
    let request = world.request(&ASKED);
    let holder = SigningKey::from_ed25519_seed(&[10; 32]);
    // Signed by a key that is not the issuer's DID key.
    let impostor = SigningKey::from_ed25519_seed(&[66; 32]);
    let mut forged = world.enrolment(&impostor, 16, 7, &holder, NOW + 86_400);
    forged = forged.replacen(&did_of(&impostor).to_string(), &did_of(&world.school).to_string(), 0);
    let tampered = {
        let credential = world.enrolment(&world.school, 16, 7, &holder, NOW + 86_400);
        let mut parts: Vec<&str> = credential.splitn(2, '~').collect();
        let jwt = parts[0].to_owned();
        let mut segments: Vec<String> = jwt.split('.').map(str::to_owned).collect();
        let mut payload: Value =
            serde_json::from_slice(&schooltas_did::base64url::decode(&segments[1]).unwrap()).unwrap();
        payload["exp"] = json!(NOW + 10 * 365 * 86_400);
        segments[1] = schooltas_did::base64url::encode(serde_json::to_vec(&payload).unwrap());
        let rebuilt = segments.join(".");
        parts[0] = &rebuilt;
        parts.join("~")
    };
    let expired = world.enrolment(&world.school, 16, 7, &holder, NOW - 3600);
    for (credential, check) in [(&tampered, Check::IssuerSignature), (&expired, Check::Validity)] {
        let presentation = present(credential, &holder, &ASKED, &request.nonce, &request.client_id, Map::new());
        let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &world.context());
        assert_eq!(failed_checks(&verdict), [check], "{:?}", verdict.failures);
    }
    let presentation = present(&forged, &holder, &ASKED, &request.nonce, &request.client_id, Map::new());
    let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &world.context());
    // Its `iss` is the impostor's DID, which the trust list does not accredit: refused before
    // any key is looked up.
    assert_eq!(failed_checks(&verdict), [Check::IssuerAccredited], "{:?}", verdict.failures);
    // Without key binding.
    let credential = world.enrolment(&world.school, 16, 7, &holder, NOW + 86_400);
    let paths: Vec<ClaimPath> = ASKED.iter().map(|c| ClaimPath::claim(*c)).collect();
    let unbound = HolderSdJwt::parse(&credential).unwrap().present(&paths, None).unwrap();
    let verdict = verify_response(&request, &body(&unbound, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::KeyBinding]);
}

/// The issuer's signature and the holder's key-binding signature are separate checks: a
/// broken issuer signature fails IssuerSignature only, a broken KB-JWT signature KeyBinding only.
#[test]
fn a_broken_issuer_signature_and_a_broken_key_binding_signature_are_told_apart() {
    let world = World::new();
    let request = world.request(&ASKED);
    let (_, good) = sixteen(&world, &request);
    let flip_signature = |jws: &str| {
        let (rest, signature) = jws.rsplit_once('.').unwrap();
        let mut bytes = schooltas_did::base64url::decode(signature).unwrap();
        bytes[7] ^= 0x01;
        format!("{rest}.{}", schooltas_did::base64url::encode(&bytes))
    };
    // The issuer-signed JWT: everything before the first '~'.
    let (issuer_jwt, tail) = good.split_once('~').unwrap();
    let broken_issuer = format!("{}~{tail}", flip_signature(issuer_jwt));
    let verdict = verify_response(&request, &body(&broken_issuer, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::IssuerSignature], "{:?}", verdict.failures);
    // The KB-JWT: everything after the last '~'.
    let (presented, kb_jwt) = good.rsplit_once('~').unwrap();
    let broken_kb = format!("{presented}~{}", flip_signature(kb_jwt));
    let verdict = verify_response(&request, &body(&broken_kb, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::KeyBinding], "{:?}", verdict.failures);
    assert!(verdict.failures[0].reason.contains("key-binding JWT's signature"), "{}", verdict.failures[0]);
    // A KB-JWT signed by someone other than the holder is the same key-binding failure.
    let thief = SigningKey::from_ed25519_seed(&[67; 32]);
    let credential = world.enrolment(&world.school, 16, 7, &SigningKey::from_ed25519_seed(&[10; 32]), NOW + 86_400);
    let stolen = present(&credential, &thief, &ASKED, &request.nonce, &request.client_id, Map::new());
    let verdict = verify_response(&request, &body(&stolen, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::KeyBinding], "{:?}", verdict.failures);
}

#[test]
fn a_revoked_credential_is_refused_and_an_unknown_status_follows_the_policy() {
    let world = World::new();
    let request = world.request(&ASKED);
    let (_, presentation) = sixteen(&world, &request);
    world.publish(&[7]);
    world.status.invalidate(&StatusListUri::new(STATUS_URI).unwrap());
    let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::Status]);
    assert!(verdict.failures[0].reason.contains("revoked"), "{}", verdict.failures[0]);

    let unreachable = StatusListCache::new(|_: &StatusListUri| -> Result<String, FetchError> {
        Err(FetchError::from("connection refused"))
    });
    let mut context = VerificationContext::new(&world.trust_list, &world.resolver, &unreachable, NOW);
    let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &context);
    assert_eq!(failed_checks(&verdict), [Check::StatusUnknown]);
    context.unknown_status = UnknownStatus::Accept;
    let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &context);
    assert!(verdict.is_accepted());
    assert_eq!(verdict.status_unknown, ["enrolment"]);
}

#[test]
fn a_trust_list_that_expired_since_it_was_loaded_accredits_no_one() {
    // The operator's list, verified a while ago (NOW − 100) when it was still valid, and kept
    // by the service past its `exp` (NOW − 61, i.e. more than the 60 s skew ago).
    let world = World::new();
    let request = world.request(&ASKED);
    let (_, presentation) = sixteen(&world, &request);
    let operator = SigningKey::from_ed25519_seed(&[5; 32]);
    let kid = DidUrl::parse(&format!("{}#{}", did_of(&operator), did_of(&operator).method_specific_id())).unwrap();
    let stale = TrustList { issued_at: NOW - 200, expires_at: NOW - 61, ..world.trust_list.content().clone() };
    let (_, loaded) = stale.sign_and_verify(&operator, &kid, NOW - 100, 60).unwrap();
    let context = VerificationContext::new(&loaded, &world.resolver, &world.status, NOW);
    let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &context);
    assert_eq!(failed_checks(&verdict), [Check::IssuerAccredited], "{:?}", verdict.failures);
    assert!(verdict.failures[0].reason.contains("the trust list expired"), "{}", verdict.failures[0]);
    // The same response passes with the current list.
    let fresh = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &world.context());
    assert!(fresh.is_accepted(), "{:?}", fresh.failures);
    // And no request can be built from the stale one.
    let error = loaded.at(NOW).unwrap_err();
    assert!(matches!(error, TrustListError::Expired { expires_at, now: NOW } if expires_at == NOW - 61), "{error:?}");
}

#[test]
fn an_unaccredited_issuer_is_refused() {
    let world = World::new();
    let request = world.request(&ASKED);
    let other_school = SigningKey::from_ed25519_seed(&[77; 32]);
    let holder = SigningKey::from_ed25519_seed(&[10; 32]);
    let credential = world.enrolment(&other_school, 16, 7, &holder, NOW + 86_400);
    let presentation = present(&credential, &holder, &ASKED, &request.nonce, &request.client_id, Map::new());
    let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &world.context());
    assert!(verdict.failed(Check::IssuerAccredited), "{:?}", verdict.failures);
}

#[test]
fn extra_claims_are_dropped_and_missing_ones_fail() {
    let world = World::new();
    let request = world.request(&ASKED);
    let holder = SigningKey::from_ed25519_seed(&[10; 32]);
    let credential = world.enrolment(&world.school, 16, 7, &holder, NOW + 86_400);
    let more = present(
        &credential,
        &holder,
        &["group", "given_name", "sub", "age_over_16", "birth_date"],
        &request.nonce,
        &request.client_id,
        Map::new(),
    );
    let verdict = verify_response(&request, &body(&more, Some("session-7f3a"), None), &world.context());
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert_eq!(verdict.dropped_claims.len(), 1);
    assert_eq!(verdict.dropped_claims[0].path, ClaimPath::claim("birth_date"));
    assert!(verdict.claims("enrolment").unwrap().get("birth_date").is_none(), "dropped, not kept");
    let fewer =
        present(&credential, &holder, &["group", "sub", "age_over_16"], &request.nonce, &request.client_id, Map::new());
    let verdict = verify_response(&request, &body(&fewer, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::DisclosedClaims]);
}

#[test]
fn a_child_of_15_needs_a_valid_guardian_approval_and_one_of_16_does_not() {
    let world = World::new();
    let request = world.request(&ASKED);
    let holder = SigningKey::from_ed25519_seed(&[11; 32]);
    let credential = world.enrolment(&world.school, 15, 8, &holder, NOW + 86_400);
    let presentation = present(&credential, &holder, &ASKED, &request.nonce, &request.client_id, Map::new());
    let verdict = verify_response(&request, &body(&presentation, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::GuardianApproval]);
    assert!(verdict.guardian_approval_required);

    // The parent approves with the key of their guardianship credential.
    let guardianship = world.guardianship(&world.parent);
    let approval = |signer: &SigningKey, child_presentation: &str| {
        GuardianApproval {
            audience: request.client_id.clone(),
            nonce: request.nonce.clone(),
            issued_at: NOW,
            purpose: "newsletter".into(),
            legal_basis: LegalBasis::Consent,
            child_id: world.child_id.clone(),
            presentations: vec![ApprovedPresentation {
                credential_query_id: "enrolment".into(),
                sd_hash: UnverifiedSdJwt::parse(child_presentation).unwrap().sd_hash(),
            }],
            transaction_data_hashes: vec![],
            guardianship: present(&guardianship, &world.parent, &[], &request.nonce, &request.client_id, Map::new()),
        }
        .sign(signer)
        .unwrap()
    };
    let verdict = verify_response(
        &request,
        &body(&presentation, Some("session-7f3a"), Some(approval(&world.parent, &presentation))),
        &world.context(),
    );
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert_eq!(verdict.guardian_approval.as_ref().map(|a| a.relation.as_str()), Some("parent"));

    // The consent is recorded with the guardianship's status entry: when the school revokes
    // the guardianship, the register's answer becomes no.
    {
        use schooltas_verifier::{
            ConsentRegister, NoReason, Received, SqliteConsentStore, StatusCheck, UseAnswer, UseQuery, Verifier,
        };
        let desk = Verifier::new(SigningKey::from_ed25519_seed(&[2; 32]), "https://school.example/response").unwrap();
        let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());
        let received = Received { request: Some(request.clone()), verdict: verdict.clone() };
        let id = desk.record_consent(&register, &received, NOW).unwrap();
        let record = register.get(&id).unwrap().unwrap();
        assert_eq!(record.approver_jwk, Value::Object(world.parent.verifying_key().to_jwk()));
        assert!(record.evidence.guardian_approval.is_some());
        // ... and with whose entry it is: the guardianship's issuer and the key it verified with.
        let issuer = record.status_issuer.clone().unwrap();
        assert_eq!(issuer.verifying_key().as_ref(), Some(world.school.verifying_key()));
        assert_eq!(Some(issuer.iss.as_str()), verdict.guardianship_issuer.as_ref().map(|i| i.iss.as_str()));
        let school_key = world.school.verifying_key().clone();
        let query = UseQuery { subject: &world.child_id, purpose: "newsletter", object: None };
        let check = StatusCheck::signed_by(&world.status, &school_key);
        assert!(register.may_use(query, NOW + 60, Some(&check)).unwrap().is_yes());
        world.publish(&[GUARDIANSHIP_INDEX]);
        world.status.invalidate(&StatusListUri::new(STATUS_URI).unwrap());
        assert_eq!(
            register.may_use(query, NOW + 120, Some(&check)).unwrap(),
            UseAnswer::No { reason: NoReason::StatusRevoked }
        );
        world.publish(&[]);
        world.status.invalidate(&StatusListUri::new(STATUS_URI).unwrap());
    }

    // Signed by someone else, or approving another presentation: refused.
    let stranger = SigningKey::from_ed25519_seed(&[99; 32]);
    let verdict = verify_response(
        &request,
        &body(&presentation, Some("session-7f3a"), Some(approval(&stranger, &presentation))),
        &world.context(),
    );
    assert_eq!(failed_checks(&verdict), [Check::GuardianApproval]);
    let other =
        present(&credential, &holder, &["group", "given_name", "sub"], &request.nonce, &request.client_id, Map::new());
    let verdict = verify_response(
        &request,
        &body(&presentation, Some("session-7f3a"), Some(approval(&world.parent, &other))),
        &world.context(),
    );
    assert_eq!(failed_checks(&verdict), [Check::GuardianApproval]);
}

#[test]
fn transaction_data_must_be_signed_by_the_key_binding() {
    let world = World::new();
    let photo = TransactionData::new("schooltas_photo_consent", ["enrolment"])
        .with_member("photo_sha256", json!("9f2c0d1e"))
        .with_member("channel", json!("newsletter"));
    let request = RequestBuilder::new(
        world.trust_list.at(NOW).unwrap(),
        &did_of(&world.verifier),
        "https://school.example/response",
        "newsletter",
    )
    .credential(
        CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")])
            .claim(ClaimPath::claim("group"))
            .claim(ClaimPath::claim("age_over_16")),
    )
    .transaction_data(photo)
    .state("session-7f3a")
    .build("n-Q9v7c2LmX4pTz8Rk")
    .unwrap();
    let holder = SigningKey::from_ed25519_seed(&[10; 32]);
    let credential = world.enrolment(&world.school, 16, 7, &holder, NOW + 86_400);
    // The builder added the child link `sub` to the consent query; the wallet discloses it.
    let unsigned =
        present(&credential, &holder, &["group", "age_over_16", "sub"], &request.nonce, &request.client_id, Map::new());
    let verdict = verify_response(&request, &body(&unsigned, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&verdict), [Check::TransactionData]);
    let mut extra = Map::new();
    extra.insert("transaction_data_hashes".into(), json!([transaction_data_hash(&request.transaction_data[0])]));
    extra.insert("transaction_data_hashes_alg".into(), json!("sha-256"));
    let signed =
        present(&credential, &holder, &["group", "age_over_16", "sub"], &request.nonce, &request.client_id, extra);
    let verdict = verify_response(&request, &body(&signed, Some("session-7f3a"), None), &world.context());
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
}

#[test]
fn the_builder_refuses_to_ask_beyond_the_registration() {
    let world = World::new();
    let builder = |claims: &[&str], purpose: &str, retention: u32| {
        let mut query = CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]);
        for claim in claims {
            query = query.claim(ClaimPath::claim(*claim));
        }
        RequestBuilder::new(
            world.trust_list.at(NOW).unwrap(),
            &did_of(&world.verifier),
            "https://school.example/response",
            purpose,
        )
        .retention_days(retention)
        .credential(query)
        .build("n-Q9v7c2LmX4pTz8Rk")
    };
    assert!(builder(&["group"], "newsletter", 365).is_ok());
    let enrolment = vct("pupil_enrolment");
    let cases: [(&[&str], &str, u32, OverAsking); 3] = [
        (
            &["group", "birth_date"],
            "newsletter",
            365,
            OverAsking::ClaimNotAllowed {
                query_id: "enrolment".into(),
                vct: enrolment.clone(),
                path: ClaimPath::claim("birth_date"),
            },
        ),
        (&["group"], "marketing", 365, OverAsking::UnregisteredPurpose { code: "marketing".into() }),
        (&["group"], "newsletter", 3650, OverAsking::RetentionTooLong { requested: 3650, allowed: 365 }),
    ];
    for (claims, purpose, retention, finding) in cases {
        let error = builder(claims, purpose, retention).unwrap_err();
        assert!(
            matches!(
                &error,
                schooltas_school::Error::TrustList(TrustListError::RequestExceedsRegistration { findings })
                    if *findings == [finding.clone()]
            ),
            "{error}"
        );
    }
    // A verifier that is not in the trust list cannot build a request at all.
    let stranger = SigningKey::from_ed25519_seed(&[55; 32]);
    let refused =
        RequestBuilder::new(world.trust_list.at(NOW).unwrap(), &did_of(&stranger), "https://x.example/r", "newsletter")
            .credential(
                CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]).claim(ClaimPath::claim("group")),
            )
            .build("n-Q9v7c2LmX4pTz8Rk");
    assert!(
        matches!(
            refused,
            Err(schooltas_school::Error::TrustList(
                schooltas_school::trust_list::TrustListError::VerifierNotListed { .. }
            ))
        ),
        "{refused:?}"
    );
    let _ = DidUrl::parse(&kid_of(&world.verifier)).unwrap();
}

#[test]
fn the_service_consumes_each_nonce_once_and_a_withdrawal_turns_yes_into_no() {
    use schooltas_school::consent::ConsentWithdrawal;
    use schooltas_verifier::{ConsentRegister, SqliteConsentStore, UseQuery, Verifier};

    let world = World::new();
    let desk = Verifier::new(SigningKey::from_ed25519_seed(&[2; 32]), "https://school.example/response").unwrap();
    let mut query = CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]);
    for claim in ASKED {
        query = query.claim(ClaimPath::claim(claim));
    }
    let builder = RequestBuilder::new(world.trust_list.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
        .credential(query);
    let signed = desk.request(builder, NOW, 600).unwrap();
    let request = &signed.request;
    let (holder, presentation) = sixteen(&world, request);
    let response = body(&presentation, request.state.as_deref(), None);

    let received = desk.receive(&response, &world.context());
    assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
    let replayed = desk.receive(&response, &world.context());
    assert_eq!(failed_checks(&replayed.verdict), [Check::Replay]);
    assert!(replayed.request.is_none());

    // A response to a request this verifier never issued.
    let foreign = world.request(&ASKED);
    let (_, other) = sixteen(&world, &foreign);
    let unknown = desk.receive(&body(&other, Some("session-7f3a"), None), &world.context());
    assert_eq!(failed_checks(&unknown.verdict), [Check::Nonce], "another nonce is a nonce mismatch, not a replay");

    // An expired request: its nonce is no longer accepted.
    let late_request = desk
        .request(
            RequestBuilder::new(world.trust_list.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
                .credential(
                    CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]).claim(ClaimPath::claim("group")),
                ),
            NOW - 3600,
            600,
        )
        .unwrap();
    let late = present(
        &world.enrolment(&world.school, 16, 7, &holder, NOW + 86_400),
        &holder,
        &["group"],
        &late_request.request.nonce,
        &late_request.request.client_id,
        Map::new(),
    );
    let late = desk.receive(&body(&late, late_request.request.state.as_deref(), None), &world.context());
    assert_eq!(failed_checks(&late.verdict), [Check::Nonce]);

    // The consent is recorded with its evidence; the register says yes until it is withdrawn.
    let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());
    let id = desk.record_consent(&register, &received, NOW).unwrap();
    let twice = desk.record_consent(&register, &received, NOW).unwrap_err();
    assert!(matches!(twice, schooltas_verifier::Error::DuplicateConsent { .. }), "one answer is one consent: {twice}");
    let subject = received.verdict.subject.clone().unwrap();
    let ask =
        |at| register.may_use(UseQuery { subject: &subject, purpose: "newsletter", object: None }, at, None).unwrap();
    assert!(ask(NOW + 60).is_yes());
    let refused = desk.record_consent(&register, &replayed, NOW).unwrap_err();
    assert!(
        matches!(refused, schooltas_verifier::Error::InvalidRecord { .. }),
        "a refused response records nothing: {refused}"
    );

    // A withdrawal signed by anyone but the key that consented is refused.
    let stranger = SigningKey::from_ed25519_seed(&[98; 32]);
    let forged =
        ConsentWithdrawal::new(desk.client_id(), &request.nonce, "newsletter", NOW + 100).sign(&stranger).unwrap();
    let error = desk.apply_withdrawal(&register, &forged, NOW + 100).unwrap_err();
    assert!(matches!(error, schooltas_verifier::Error::WithdrawalNotByConsenter), "{error}");
    assert!(ask(NOW + 120).is_yes());
    let genuine =
        ConsentWithdrawal::new(desk.client_id(), &request.nonce, "newsletter", NOW + 200).sign(&holder).unwrap();
    assert_eq!(desk.apply_withdrawal(&register, &genuine, NOW + 200).unwrap(), id);
    assert!(!ask(NOW + 300).is_yes());
    let record = register.get(&id).unwrap().unwrap();
    assert_eq!(record.withdrawn.as_ref().map(|w| w.evidence.as_str()), Some(genuine.as_str()));
    let again = desk.apply_withdrawal(&register, &genuine, NOW + 210).unwrap_err();
    assert!(matches!(again, schooltas_verifier::Error::AlreadyWithdrawn { .. }), "withdrawn once: {again}");
}

#[test]
fn a_key_binding_or_response_naming_a_member_twice_is_refused() {
    use schooltas_did::jws::{self, Header};
    let world = World::new();
    let request = world.request(&ASKED);
    let (holder, presentation) = sixteen(&world, &request);
    // Re-sign the key binding with `nonce` twice: one parser would read the request's nonce,
    // another the other one.
    let (presented, _) = presentation.rsplit_once('~').unwrap();
    let presented = format!("{presented}~");
    let sd_hash = UnverifiedSdJwt::parse(&presentation).unwrap().sd_hash();
    let kb = format!(
        r#"{{"nonce":"another","nonce":"{}","aud":"{}","iat":{NOW},"sd_hash":"{sd_hash}"}}"#,
        request.nonce, request.client_id
    );
    let kb = jws::sign_compact(&Header::new().with_typ("kb+jwt"), kb.as_bytes(), &holder).unwrap();
    let verdict =
        verify_response(&request, &body(&format!("{presented}{kb}"), Some("session-7f3a"), None), &world.context());
    assert!(!verdict.is_accepted());
    assert_eq!(failed_checks(&verdict), [Check::Presentation], "{:?}", verdict.failures);
    assert!(verdict.failures[0].reason.contains("twice"), "{:?}", verdict.failures);
    // A JSON response body with `state` twice.
    let json = format!(r#"{{"vp_token":{{"enrolment":["{presentation}"]}},"state":"session-7f3a","state":"other"}}"#);
    let verdict = verify_response(&request, &json, &world.context());
    assert_eq!(failed_checks(&verdict), [Check::Response], "{:?}", verdict.failures);
}

#[test]
fn an_approval_resting_on_a_guardianship_past_its_disclosed_day_is_refused() {
    // NOW is 2027-01-15. The school discloses coarse validities (the end of the school year, or
    // the end of the month before the 16th birthday): the verifier honours one through its last
    // day and refuses it from the next day on.
    let world = World::new();
    let request = world.request(&ASKED);
    let holder = SigningKey::from_ed25519_seed(&[11; 32]);
    let credential = world.enrolment(&world.school, 15, 8, &holder, NOW + 86_400);
    let presentation = present(&credential, &holder, &ASKED, &request.nonce, &request.client_id, Map::new());
    let approve = |valid_until: &str| {
        let guardianship = world.guardianship_until(&world.parent, valid_until);
        let approval = GuardianApproval {
            audience: request.client_id.clone(),
            nonce: request.nonce.clone(),
            issued_at: NOW,
            purpose: "newsletter".into(),
            legal_basis: LegalBasis::Consent,
            child_id: world.child_id.clone(),
            presentations: vec![ApprovedPresentation {
                credential_query_id: "enrolment".into(),
                sd_hash: UnverifiedSdJwt::parse(&presentation).unwrap().sd_hash(),
            }],
            transaction_data_hashes: vec![],
            guardianship: present(&guardianship, &world.parent, &[], &request.nonce, &request.client_id, Map::new()),
        }
        .sign(&world.parent)
        .unwrap();
        verify_response(&request, &body(&presentation, Some("session-7f3a"), Some(approval)), &world.context())
    };
    // On the disclosed day itself: accepted.
    let verdict = approve("2027-01-15");
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert_eq!(verdict.guardian_approval.as_ref().map(|a| a.valid_until.to_string()).as_deref(), Some("2027-01-15"));
    // The day after it (e.g. a child turning 16 on 20 January, whose copies said 31 December):
    // refused, naming the guardianship's end and not the date.
    for ended in ["2027-01-14", "2026-12-31"] {
        let verdict = approve(ended);
        assert_eq!(failed_checks(&verdict), [Check::GuardianApproval], "{:?}", verdict.failures);
        let reason = &verdict.failures[0].reason;
        assert!(reason.contains("guardianship has ended"), "{reason}");
        assert!(!reason.contains(ended), "{reason}");
        assert!(verdict.guardian_approval.is_none());
    }
}

/// `direct_post.jwt` (OpenID4VP 1.0 §8.3) through the service: the request carries our key,
/// the encrypted answer is accepted once, and every other shape fails `Check::Encryption`.
mod encrypted_responses {
    use super::*;
    use schooltas_verifier::{ContentEncryption, EncryptionKey, Verifier, verify_encrypted_response};

    fn desk_and_request(world: &World, encs: &[ContentEncryption]) -> (Verifier, AuthorizationRequest) {
        let key = EncryptionKey::generate("desk-enc-1").unwrap();
        let desk = Verifier::new(SigningKey::from_ed25519_seed(&[2; 32]), "https://school.example/response")
            .unwrap()
            .with_response_encryption(key, encs);
        let mut query = CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]);
        for claim in ASKED {
            query = query.claim(ClaimPath::claim(claim));
        }
        let builder =
            RequestBuilder::new(world.trust_list.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
                .credential(query);
        let request = desk.request(builder, NOW, 600).unwrap().request;
        (desk, request)
    }

    fn encrypted_body(request: &AuthorizationRequest, presentation: &str) -> String {
        let response = AuthorizationResponse::new(
            BTreeMap::from([("enrolment".to_owned(), vec![presentation.to_owned()])]),
            request.state.clone(),
        );
        response.to_jwt_form(&request.response_encryption().unwrap().unwrap()).unwrap()
    }

    #[test]
    fn an_encrypted_response_is_accepted_once_and_a_plaintext_one_is_refused() {
        let world = World::new();
        let (desk, request) = desk_and_request(&world, &[ContentEncryption::A256Gcm]);
        assert!(request.wants_encrypted_response());
        assert_eq!(request.client_metadata.as_ref().unwrap()["jwks"]["keys"][0]["kid"], "desk-enc-1");
        let (_, presentation) = sixteen(&world, &request);

        // Plaintext first: refused, and the request stays open for the genuine answer.
        let plain = desk.receive(&body(&presentation, request.state.as_deref(), None), &world.context());
        assert_eq!(failed_checks(&plain.verdict), [Check::Encryption]);
        assert!(plain.request.is_none());

        let encrypted = encrypted_body(&request, &presentation);
        let received = desk.receive(&encrypted, &world.context());
        assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
        assert_eq!(received.verdict.credentials[0].claims["group"], "7B");
        assert_eq!(failed_checks(&desk.receive(&encrypted, &world.context()).verdict), [Check::Replay]);
    }

    #[test]
    fn a_jwe_to_another_key_a_tampered_jwe_and_an_enc_not_offered_are_refused() {
        let world = World::new();
        let (desk, request) = desk_and_request(&world, &[ContentEncryption::A128Gcm]);
        let (_, presentation) = sixteen(&world, &request);

        // To another verifier's key (same kid, so only the tag tells).
        let mut foreign = request.clone();
        let stranger = EncryptionKey::generate("desk-enc-1").unwrap();
        foreign = foreign.with_encrypted_response(vec![stranger.public_jwk()], &[ContentEncryption::A128Gcm]);
        let to_stranger = encrypted_body(&foreign, &presentation);
        assert_eq!(failed_checks(&desk.receive(&to_stranger, &world.context()).verdict), [Check::Encryption]);

        // With an enc the desk did not offer.
        let mut a256 = request.clone();
        a256 = a256.with_encrypted_response(
            vec![desk.response_encryption_key().unwrap().public_jwk()],
            &[ContentEncryption::A256Gcm],
        );
        let not_offered = encrypted_body(&a256, &presentation);
        let verdict = desk.receive(&not_offered, &world.context()).verdict;
        assert_eq!(failed_checks(&verdict), [Check::Encryption]);
        assert!(verdict.failures[0].reason.contains("A256GCM"), "{}", verdict.failures[0].reason);

        // One character of the ciphertext changed.
        let good = encrypted_body(&request, &presentation);
        let mut parts: Vec<String> = good.trim_start_matches("response=").split('.').map(str::to_owned).collect();
        let flipped = if parts[3].starts_with('A') { "B" } else { "A" };
        parts[3].replace_range(0..1, flipped);
        let tampered = format!("response={}", parts.join("."));
        let verdict = desk.receive(&tampered, &world.context()).verdict;
        assert_eq!(failed_checks(&verdict), [Check::Encryption]);
        assert!(!verdict.failures[0].reason.contains("group"));

        // The genuine one still gets through: none of the refusals spent the nonce.
        assert!(desk.receive(&good, &world.context()).verdict.is_accepted());
    }

    #[test]
    fn a_key_per_request_decrypts_only_the_answer_to_that_request() {
        let world = World::new();
        let desk = Verifier::new(SigningKey::from_ed25519_seed(&[2; 32]), "https://school.example/response")
            .unwrap()
            .with_ephemeral_response_encryption(&[ContentEncryption::A128Gcm, ContentEncryption::A256Gcm]);
        assert!(desk.asks_for_encrypted_responses());
        assert!(desk.response_encryption_key().is_none(), "no one key serves every request");
        let open = |lifetime| {
            let mut query = CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]);
            for claim in ASKED {
                query = query.claim(ClaimPath::claim(claim));
            }
            let builder =
                RequestBuilder::new(world.trust_list.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
                    .credential(query);
            desk.request(builder, NOW, lifetime).unwrap().request
        };
        let (first, second) = (open(600), open(600));
        let kid = |r: &AuthorizationRequest| r.response_encryption().unwrap().unwrap().key().kid().unwrap().to_owned();
        assert_ne!(kid(&first), kid(&second), "each request names its own key");
        assert_ne!(
            first.client_metadata.as_ref().unwrap()["jwks"]["keys"][0]["x"],
            second.client_metadata.as_ref().unwrap()["jwks"]["keys"][0]["x"]
        );

        // The answer to the second request, encrypted to the first request's key: refused,
        // although that key decrypts it.
        let (_, presentation) = sixteen(&world, &second);
        let mut crossed = second.clone();
        crossed.client_metadata = first.client_metadata.clone();
        let verdict = desk.receive(&encrypted_body(&crossed, &presentation), &world.context()).verdict;
        assert_eq!(failed_checks(&verdict), [Check::Encryption]);
        assert!(verdict.failures[0].reason.contains("another request"), "{}", verdict.failures[0].reason);

        // A kid no open request has.
        let mut unknown = second.clone();
        let stranger = EncryptionKey::generate("not-ours").unwrap();
        unknown = unknown.with_encrypted_response(vec![stranger.public_jwk()], &[ContentEncryption::A128Gcm]);
        let verdict = desk.receive(&encrypted_body(&unknown, &presentation), &world.context()).verdict;
        assert_eq!(failed_checks(&verdict), [Check::Encryption]);

        // Under its own key: accepted once, then a replay.
        let genuine = encrypted_body(&second, &presentation);
        let received = desk.receive(&genuine, &world.context());
        assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
        assert_eq!(failed_checks(&desk.receive(&genuine, &world.context()).verdict), [Check::Replay]);
        // An error response decrypts with the open request's key too.
        assert!(desk.decrypt_response(&genuine, NOW).unwrap().is_ok());
        let error = desk.decrypt_response(&encrypted_body(&unknown, &presentation), NOW).unwrap().unwrap_err();
        assert!(
            matches!(
                error,
                schooltas_oid4vc::oid4vp::Oid4vpError::Encryption(schooltas_jwe::JweError::KeyIdMismatch { .. })
            ),
            "{error:?}"
        );
        // After its request expired, even its own key is gone.
        let late = desk.decrypt_response(&genuine, NOW + 601).unwrap().unwrap_err();
        assert!(
            matches!(
                late,
                schooltas_oid4vc::oid4vp::Oid4vpError::Encryption(schooltas_jwe::JweError::KeyIdMismatch { .. })
            ),
            "{late:?}"
        );
    }

    #[test]
    fn the_pipeline_functions_hold_each_request_to_its_mode() {
        let world = World::new();
        let (desk, request) = desk_and_request(&world, &[]);
        let key = desk.response_encryption_key().unwrap();
        let (_, presentation) = sixteen(&world, &request);
        let encrypted = encrypted_body(&request, &presentation);
        assert!(verify_encrypted_response(&request, &encrypted, key, &world.context()).is_accepted());
        // verify_response refuses a direct_post.jwt request outright.
        let plain = body(&presentation, request.state.as_deref(), None);
        assert_eq!(failed_checks(&verify_response(&request, &plain, &world.context())), [Check::Encryption]);
        assert_eq!(
            failed_checks(&verify_encrypted_response(&request, &plain, key, &world.context())),
            [Check::Encryption]
        );
        // An encrypted body to a verifier that asked for plaintext.
        let plain_desk = Verifier::new(SigningKey::from_ed25519_seed(&[3; 32]), "https://school.example/r").unwrap();
        assert_eq!(failed_checks(&plain_desk.receive(&encrypted, &world.context()).verdict), [Check::Encryption]);
    }
}
