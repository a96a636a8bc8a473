//! Hostile cases for the consent rule, the legal basis, trust before network and nonce
//! spending (issue 12 items 1–4). Each refusal asserts the named [`Check`].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use schooltas_did::did_web::DocumentFetcher;
use schooltas_did::{Did, PublicKey, Resolver, Signer, SigningKey, did_key};
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, AuthorizationResponse, CredentialQuery, CredentialSetQuery, DcqlQuery,
};
use schooltas_school::catalog::Catalog;
use schooltas_school::consent::{ApprovedPresentation, GuardianApproval};
use schooltas_school::trust_list::{
    AccreditedIssuer, OverAsking, RegisteredPurpose, TrustList, TrustListError, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{HolderSdJwt, KeyBindingInput, RandomSalts, UnverifiedSdJwt};
use schooltas_status_list::{
    Bits, FetchError, InMemoryStatusLists, StatusList, StatusListCache, StatusListFetcher, StatusListToken,
    StatusListUri, StatusReference,
};
use schooltas_verifier::{
    Check, ConsentRegister, RequestBuilder, SqliteConsentStore, Verdict, VerificationContext, Verifier, verify_response,
};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000; // 2027-01-15
const STATUS_URI: &str = "https://school.example/status/enrolment";
const RESPONSE_URI: &str = "https://school.example/response";
const NONCE: &str = "n-Q9v7c2LmX4pTz8Rk";
const STATE: &str = "session-7f3a";
const ASKED: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];
/// An opaque child link (a per-copy pseudonym, not a DID): the verifier compares it only.
const SIBLING: &str = "pseudonym-7Qx2-sibling";

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

/// Counts every status fetch, per URI, and serves the school's lists from memory.
struct CountingStatus {
    lists: Arc<InMemoryStatusLists>,
    fetched: Arc<std::sync::Mutex<Vec<String>>>,
}

impl StatusListFetcher for CountingStatus {
    fn fetch(&self, uri: &StatusListUri) -> Result<String, FetchError> {
        self.fetched.lock().unwrap().push(uri.as_str().to_owned());
        self.lists.fetch(uri)
    }
}

/// A did:web fetcher that counts and never touches the network.
struct CountingWeb(Arc<AtomicUsize>);

impl DocumentFetcher for CountingWeb {
    fn fetch(&self, _url: &str) -> schooltas_did::Result<Vec<u8>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(schooltas_did::Error::Fetch { url: "-".into(), reason: "no network in tests".into() })
    }
}

struct World {
    school: SigningKey,
    verifier: SigningKey,
    trust_list: VerifiedTrustList,
    resolver: Resolver,
    web_fetches: Arc<AtomicUsize>,
    status_fetched: Arc<std::sync::Mutex<Vec<String>>>,
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
            .allow(vct("pupil_enrolment"), ASKED.map(ClaimPath::claim).to_vec()),
        );
        let operator = SigningKey::from_ed25519_seed(&[5; 32]);
        let trust_list = operator_signs(
            TrustList::new(did_of(&operator), NOW - 60, NOW + 86_400 * 30)
                .with_issuer(issuer)
                .with_verifier(registration),
        );
        let lists = Arc::new(InMemoryStatusLists::new());
        let status_fetched = Arc::new(std::sync::Mutex::new(Vec::new()));
        let web_fetches = Arc::new(AtomicUsize::new(0));
        let world = World {
            status: StatusListCache::new(CountingStatus { lists: lists.clone(), fetched: status_fetched.clone() }),
            school,
            verifier,
            trust_list,
            resolver: Resolver::with_web_fetcher(CountingWeb(web_fetches.clone())),
            web_fetches,
            status_fetched,
            lists,
            child_id: did_of(&child_identity).to_string(),
            parent,
        };
        let uri = StatusListUri::new(STATUS_URI).unwrap();
        let token = StatusListToken::new(uri.clone(), NOW - 10, StatusList::new(Bits::One, 1024).unwrap())
            .with_ttl(60)
            .sign(&world.school, Some(&kid_of(&world.school)))
            .unwrap();
        world.lists.publish(uri, token);
        world
    }

    fn context(&self) -> VerificationContext<'_> {
        VerificationContext::new(&self.trust_list, &self.resolver, &self.status, NOW)
    }

    fn query(id: &str) -> CredentialQuery {
        let mut query = CredentialQuery::sd_jwt_vc(id, [vct("pupil_enrolment")]);
        for claim in ASKED {
            query = query.claim(ClaimPath::claim(claim));
        }
        query
    }

    fn builder(&self) -> RequestBuilder<'_> {
        RequestBuilder::new(self.trust_list.at(NOW).unwrap(), &did_of(&self.verifier), RESPONSE_URI, "newsletter")
            .retention_days(365)
            .state(STATE)
    }

    /// A request crafted by hand, bypassing the builder's over-asking refusal.
    fn crafted(&self, purpose: &str, basis: LegalBasis, queries: &[CredentialQuery]) -> AuthorizationRequest {
        let mut dcql = DcqlQuery::builder();
        for query in queries {
            dcql = dcql.credential(query.clone());
        }
        AuthorizationRequest::new(&did_of(&self.verifier), RESPONSE_URI, NONCE, dcql.build().unwrap())
            .with_state(STATE)
            .with_schooltas(SchooltasExtension::new(
                Purpose { code: purpose.into(), text: LocalizedText { nl: "x".into(), en: "x".into() } },
                basis,
                365,
            ))
            .unwrap()
    }

    fn enrolment(&self, sub: Option<&str>, age: u32, holder: &SigningKey) -> String {
        self.enrolment_by(
            &self.school,
            did_of(&self.school).as_str(),
            &kid_of(&self.school),
            STATUS_URI,
            sub,
            age,
            holder,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn enrolment_by(
        &self,
        signer: &SigningKey,
        iss: &str,
        kid: &str,
        status_uri: &str,
        sub: Option<&str>,
        age: u32,
        holder: &SigningKey,
    ) -> String {
        let mut claims = json!({
            "school_name": "De Linde", "school_brin": "12AB", "school_location": "00",
            "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
            "birth_date": if age >= 16 { "2010-03-01" } else { "2014-03-01" },
            "age_over_12": age >= 12, "age_over_16": age >= 16,
        });
        if let Some(sub) = sub {
            claims["sub"] = json!(sub);
        }
        Catalog::standard()
            .get("pupil_enrolment")
            .unwrap()
            .builder(iss, NOW - 3600, claims.as_object().cloned().unwrap())
            .unwrap()
            .kid(kid)
            .expires_at(NOW + 86_400)
            .status(StatusReference::new(StatusListUri::new(status_uri).unwrap(), 7).to_status_claim())
            .holder_key(holder.verifying_key())
            .issue(signer, &mut RandomSalts)
            .unwrap()
            .to_string()
    }

    fn guardianship(&self, child_id: &str, issuer: (&SigningKey, &str, &str, &str)) -> String {
        let (signer, iss, kid, status_uri) = issuer;
        let claims = json!({"guardian_id": did_of(&self.parent).as_str(), "child_id": child_id,
                            "relation": "parent", "valid_until": "2030-03-01"});
        Catalog::standard()
            .get("guardianship")
            .unwrap()
            .builder(iss, NOW - 3600, claims.as_object().cloned().unwrap())
            .unwrap()
            .kid(kid)
            .status(StatusReference::new(StatusListUri::new(status_uri).unwrap(), 900).to_status_claim())
            .holder_key(self.parent.verifying_key())
            .issue(signer, &mut RandomSalts)
            .unwrap()
            .to_string()
    }

    /// The parent's approval of `presentations` for `child_id`, with a guardianship credential
    /// for that child from `issuer`.
    fn approval(
        &self,
        request: &AuthorizationRequest,
        child_id: &str,
        presentations: &[(&str, &str)],
        issuer: (&SigningKey, &str, &str, &str),
    ) -> String {
        let guardianship = self.guardianship(child_id, issuer);
        GuardianApproval {
            audience: request.client_id.clone(),
            nonce: request.nonce.clone(),
            issued_at: NOW,
            purpose: "newsletter".into(),
            legal_basis: LegalBasis::Consent,
            child_id: child_id.into(),
            presentations: presentations
                .iter()
                .map(|(query_id, p)| ApprovedPresentation {
                    credential_query_id: (*query_id).into(),
                    sd_hash: UnverifiedSdJwt::parse(p).unwrap().sd_hash(),
                })
                .collect(),
            transaction_data_hashes: vec![],
            guardianship: present(&guardianship, &self.parent, &[], request),
        }
        .sign(&self.parent)
        .unwrap()
    }

    fn school_issuer(&self) -> (&SigningKey, String, String) {
        (&self.school, did_of(&self.school).to_string(), kid_of(&self.school))
    }
}

fn present(credential: &str, holder: &SigningKey, claims: &[&str], request: &AuthorizationRequest) -> String {
    let paths: Vec<ClaimPath> = claims.iter().map(|c| ClaimPath::claim(*c)).collect();
    let input = KeyBindingInput { nonce: request.nonce.clone(), audience: request.client_id.clone(), issued_at: NOW };
    HolderSdJwt::parse(credential).unwrap().present_with_claims(&paths, Some((holder, &input)), &Map::new()).unwrap()
}

fn body(vp_token: &[(&str, Vec<String>)], approval: Option<String>) -> String {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, list) in vp_token {
        map.entry((*id).to_owned()).or_default().extend(list.iter().cloned());
    }
    let response = AuthorizationResponse::new(map, Some(STATE.into()));
    match approval {
        Some(approval) => schooltas_school::consent::with_guardian_approval(response, approval).to_form(),
        None => response.to_form(),
    }
}

fn checks(verdict: &Verdict) -> Vec<Check> {
    verdict.failures.iter().map(|f| f.check).collect()
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_ed25519_seed(&[seed; 32])
}

// ---- 1. One child per consent -------------------------------------------------------------

#[test]
fn multiple_true_with_a_sixteen_year_old_siblings_presentation_is_refused_as_two_children() {
    let world = World::new();
    let request = world.builder().credential(World::query("enrolment").multiple(true)).build(NONCE).unwrap();
    let child = present(&world.enrolment(Some(&world.child_id), 15, &key(10)), &key(10), &ASKED, &request);
    let sibling = present(&world.enrolment(Some(SIBLING), 16, &key(11)), &key(11), &ASKED, &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![child, sibling])], None), &world.context());
    assert!(verdict.failed(Check::OneChild), "{:?}", verdict.failures);
    // The sibling's age_over_16 does not exempt the child: the approval is still demanded.
    assert!(verdict.guardian_approval_required);
    assert!(verdict.failed(Check::GuardianApproval), "{:?}", verdict.failures);
    assert_eq!(verdict.subject, None, "no one child: nothing to record");
    assert!(!verdict.is_accepted());
}

#[test]
fn two_enrolment_queries_answered_by_two_children_are_refused() {
    let world = World::new();
    let request = world
        .builder()
        .credential(World::query("enrolment"))
        .credential(World::query("enrolment_b"))
        .build(NONCE)
        .unwrap();
    let child = present(&world.enrolment(Some(&world.child_id), 15, &key(10)), &key(10), &ASKED, &request);
    let sibling = present(&world.enrolment(Some(SIBLING), 16, &key(11)), &key(11), &ASKED, &request);
    let response = body(&[("enrolment", vec![child]), ("enrolment_b", vec![sibling])], None);
    let verdict = verify_response(&request, &response, &world.context());
    assert!(verdict.failed(Check::OneChild), "{:?}", verdict.failures);
    assert!(verdict.failed(Check::GuardianApproval), "{:?}", verdict.failures);
    assert_eq!(verdict.subject, None);
}

#[test]
fn credential_set_alternatives_answered_by_two_children_are_refused() {
    let world = World::new();
    let request = world
        .builder()
        .credential(World::query("alt_a"))
        .credential(World::query("alt_b"))
        .credential_set(CredentialSetQuery::required([["alt_a"], ["alt_b"]]))
        .build(NONCE)
        .unwrap();
    let child = present(&world.enrolment(Some(&world.child_id), 15, &key(10)), &key(10), &ASKED, &request);
    let sibling = present(&world.enrolment(Some(SIBLING), 16, &key(11)), &key(11), &ASKED, &request);
    let response = body(&[("alt_a", vec![child]), ("alt_b", vec![sibling])], None);
    let verdict = verify_response(&request, &response, &world.context());
    assert!(verdict.failed(Check::OneChild), "{:?}", verdict.failures);
    assert!(verdict.failed(Check::GuardianApproval), "{:?}", verdict.failures);
}

#[test]
fn a_consent_presentation_without_the_child_link_is_refused_even_at_sixteen() {
    let world = World::new();
    // Crafted by hand: the builder would have added `sub` to this consent query.
    let mut query = CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]);
    for claim in ["group", "age_over_16"] {
        query = query.claim(ClaimPath::claim(claim));
    }
    let request = world.crafted("newsletter", LegalBasis::Consent, &[query]);
    let unlinked =
        present(&world.enrolment(Some(&world.child_id), 16, &key(10)), &key(10), &["group", "age_over_16"], &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![unlinked])], None), &world.context());
    assert!(verdict.failed(Check::ChildLink), "{:?}", verdict.failures);
    // Unlinked age evidence counts for no one.
    assert!(verdict.failed(Check::GuardianApproval), "{:?}", verdict.failures);
    // A sibling's unlinked age_over_16 next to the child's linked presentation is ignored too.
    let request = world.builder().credential(World::query("enrolment").multiple(true)).build(NONCE).unwrap();
    let child = present(&world.enrolment(Some(&world.child_id), 15, &key(10)), &key(10), &ASKED, &request);
    let sibling = present(
        &world.enrolment(Some(SIBLING), 16, &key(11)),
        &key(11),
        &["group", "given_name", "age_over_16"],
        &request,
    );
    let verdict = verify_response(&request, &body(&[("enrolment", vec![child, sibling])], None), &world.context());
    assert!(verdict.failed(Check::ChildLink), "{:?}", verdict.failures);
    assert!(verdict.guardian_approval_required);
    assert!(verdict.failed(Check::GuardianApproval));
}

#[test]
fn an_approval_for_another_child_than_the_one_subject_is_refused() {
    let world = World::new();
    let request = world.builder().credential(World::query("enrolment")).build(NONCE).unwrap();
    let child = present(&world.enrolment(Some(&world.child_id), 12, &key(10)), &key(10), &ASKED, &request);
    let (school, iss, kid) = world.school_issuer();
    let other_child = did_of(&key(44)).to_string();
    let approval = world.approval(&request, &other_child, &[("enrolment", &child)], (school, &iss, &kid, STATUS_URI));
    let verdict =
        verify_response(&request, &body(&[("enrolment", vec![child.clone()])], Some(approval)), &world.context());
    assert_eq!(checks(&verdict), [Check::GuardianApproval], "{:?}", verdict.failures);
    assert!(verdict.failures[0].reason.contains("another child"), "{}", verdict.failures[0]);
    assert!(
        !verdict.failures[0].reason.contains(&other_child) && !verdict.failures[0].reason.contains(&world.child_id)
    );

    // The same approval for the right child is accepted and recorded for that child.
    let approval =
        world.approval(&request, &world.child_id, &[("enrolment", &child)], (school, &iss, &kid, STATUS_URI));
    let verdict = verify_response(&request, &body(&[("enrolment", vec![child])], Some(approval)), &world.context());
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert_eq!(verdict.subject.as_deref(), Some(world.child_id.as_str()));
}

#[test]
fn one_child_with_two_credentials_under_multiple_true_is_one_subject() {
    let world = World::new();
    let request = world.builder().credential(World::query("enrolment").multiple(true)).build(NONCE).unwrap();
    let first = present(&world.enrolment(Some(SIBLING), 16, &key(10)), &key(10), &ASKED, &request);
    let second = present(&world.enrolment(Some(SIBLING), 16, &key(12)), &key(12), &ASKED, &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![first, second])], None), &world.context());
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert!(!verdict.guardian_approval_required);
    assert_eq!(verdict.subject.as_deref(), Some(SIBLING), "an opaque child link, not parsed as a DID");
}

/// A child under 16 with two enrolment credentials answers one `multiple: true` query with
/// both; the parent approves both (one entry per presentation, same query id). Accepted end to
/// end; a presentation added or removed after the approval is refused as GuardianApproval.
#[test]
fn a_parents_approval_of_two_presentations_under_multiple_true_is_accepted_exactly() {
    let world = World::new();
    let request = world.builder().credential(World::query("enrolment").multiple(true)).build(NONCE).unwrap();
    let first = present(&world.enrolment(Some(&world.child_id), 12, &key(10)), &key(10), &ASKED, &request);
    let second = present(&world.enrolment(Some(&world.child_id), 12, &key(12)), &key(12), &ASKED, &request);
    let (school, iss, kid) = world.school_issuer();
    let issuer = (school, iss.as_str(), kid.as_str(), STATUS_URI);
    let approved = [("enrolment", first.as_str()), ("enrolment", second.as_str())];
    let approval = world.approval(&request, &world.child_id, &approved, issuer);
    let both = vec![first.clone(), second.clone()];
    let verdict =
        verify_response(&request, &body(&[("enrolment", both.clone())], Some(approval.clone())), &world.context());
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert!(verdict.guardian_approval.is_some());
    assert_eq!(verdict.subject.as_deref(), Some(world.child_id.as_str()));

    // Added after approval: a third presentation of the same child.
    let third = present(&world.enrolment(Some(&world.child_id), 12, &key(13)), &key(13), &ASKED, &request);
    let grown = vec![first.clone(), second.clone(), third];
    let verdict = verify_response(&request, &body(&[("enrolment", grown)], Some(approval.clone())), &world.context());
    assert_eq!(checks(&verdict), [Check::GuardianApproval], "{:?}", verdict.failures);
    assert!(verdict.failures[0].reason.contains("not covered"), "{}", verdict.failures[0]);

    // Removed after approval: only the first presentation is sent.
    let verdict = verify_response(&request, &body(&[("enrolment", vec![first])], Some(approval)), &world.context());
    assert_eq!(checks(&verdict), [Check::GuardianApproval], "{:?}", verdict.failures);
    assert!(verdict.failures[0].reason.contains("does not contain"), "{}", verdict.failures[0]);
}

#[test]
fn the_register_records_the_one_child_and_refuses_a_verdict_without_one() {
    use schooltas_verifier::Received;
    let world = World::new();
    let desk = Verifier::new(key(2), RESPONSE_URI).unwrap();
    let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());
    let request = world.builder().credential(World::query("enrolment")).build(NONCE).unwrap();
    let child = present(&world.enrolment(Some(SIBLING), 16, &key(10)), &key(10), &ASKED, &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![child])], None), &world.context());
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    let mut received = Received { request: Some(request), verdict };
    let id = desk.record_consent(&register, &received, NOW).unwrap();
    assert_eq!(register.get(&id).unwrap().unwrap().subject, SIBLING);
    // An "accepted" verdict that names no child cannot be recorded (no thumbprint fallback).
    received.verdict.subject = None;
    let error = desk.record_consent(&register, &received, NOW).unwrap_err();
    assert!(matches!(error, schooltas_verifier::Error::InvalidRecord { .. }), "{error}");
}

#[test]
fn the_builder_asks_every_consent_query_for_the_child_link() {
    let world = World::new();
    let sub = ClaimPath::claim("sub");
    let plain = CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]).claim(ClaimPath::claim("group"));
    let request = world.builder().credential(plain).build(NONCE).unwrap();
    let claims = request.dcql_query.credentials[0].claims.clone().unwrap();
    assert!(claims.iter().any(|c| c.path == sub), "{claims:?}");
    // With claim_sets, every option names the child link.
    let sets = CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")])
        .claim_with_id("g", ClaimPath::claim("group"))
        .claim_with_id("n", ClaimPath::claim("given_name"))
        .claim_set(["g"])
        .claim_set(["n"]);
    let request = world.builder().credential(sets).build(NONCE).unwrap();
    let query = &request.dcql_query.credentials[0];
    let id = query.claims.as_ref().unwrap().iter().find(|c| c.path == sub).and_then(|c| c.id.clone()).unwrap();
    assert!(query.claim_sets.as_ref().unwrap().iter().all(|option| option.contains(&id)), "{query:?}");
    // And the wallet's 16-year-old answer with it is accepted without approval.
    let request = world
        .builder()
        .credential(
            CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]).claim(ClaimPath::claim("age_over_16")),
        )
        .build(NONCE)
        .unwrap();
    let answer = present(&world.enrolment(Some(SIBLING), 16, &key(10)), &key(10), &["age_over_16", "sub"], &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![answer])], None), &world.context());
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
}

/// A consent purpose whose registration lacks `sub` could never accept an answer
/// (Check::ChildLink): the builder refuses the request and says what to register. A purpose
/// on another basis without `sub` builds, and is not made to ask for it.
#[test]
fn the_builder_refuses_a_consent_request_the_registration_gives_no_child_link() {
    let verifier = key(2);
    let text = || LocalizedText { nl: "Doel".into(), en: "Purpose".into() };
    let no_sub = || vec![ClaimPath::claim("group"), ClaimPath::claim("given_name")];
    let registration = VerifierRegistration::new(did_of(&verifier), "De Linde")
        .with_purpose(
            RegisteredPurpose::new("newsletter", text(), LegalBasis::Consent, 365)
                .allow(vct("pupil_enrolment"), no_sub()),
        )
        .with_purpose(
            RegisteredPurpose::new("attendance", text(), LegalBasis::LegalObligation, 365)
                .allow(vct("pupil_enrolment"), no_sub()),
        );
    let trust_list =
        operator_signs(TrustList::new(did_of(&key(5)), NOW - 60, NOW + 86_400).with_verifier(registration));
    let builder =
        |purpose: &str| RequestBuilder::new(trust_list.at(NOW).unwrap(), &did_of(&verifier), RESPONSE_URI, purpose);
    let group = || CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")]).claim(ClaimPath::claim("group"));

    let refused = |result: schooltas_school::Result<AuthorizationRequest>| match result {
        Err(schooltas_school::Error::TrustList(TrustListError::ChildLinkNotRegistered {
            query_id,
            purpose,
            vct: found,
        })) => {
            assert_eq!(query_id, "enrolment");
            assert_eq!(found, vct("pupil_enrolment"));
            purpose
        }
        other => panic!("expected ChildLinkNotRegistered, got {other:?}"),
    };
    let error = builder("newsletter").credential(group()).build(NONCE).unwrap_err();
    assert!(error.to_string().contains("register `sub` for this purpose"), "{error}");
    assert_eq!(refused(builder("newsletter").credential(group()).build(NONCE)), "newsletter");
    // Stating a weaker basis does not help: the registered basis is consent.
    assert_eq!(
        refused(builder("newsletter").legal_basis(LegalBasis::LegalObligation).credential(group()).build(NONCE)),
        "newsletter"
    );
    // Stating consent for a legal-obligation purpose makes it consent: refused too.
    assert_eq!(
        refused(builder("attendance").legal_basis(LegalBasis::Consent).credential(group()).build(NONCE)),
        "attendance"
    );
    // On its registered basis (no consent) it builds, without `sub`.
    let request = builder("attendance").credential(group()).build(NONCE).unwrap();
    let claims = request.dcql_query.credentials[0].claims.clone().unwrap();
    assert!(claims.iter().all(|c| c.path != ClaimPath::claim("sub")), "{claims:?}");
}

#[test]
fn a_siblings_sixteen_plus_evidence_on_a_non_consent_query_does_not_exempt_the_child() {
    // A registration with the enrolment on a legal obligation and the support needs on consent:
    // the child answers the consent query, a 16-year-old sibling the enrolment query.
    let mut world = World::new();
    let mut issuer = AccreditedIssuer::new(did_of(&world.school), "De Linde").with_brin("12AB");
    for id in ["pupil_enrolment", "guardianship", "support_needs"] {
        issuer = issuer.accredited_for(vct(id));
    }
    let purpose = RegisteredPurpose::new(
        "newsletter",
        LocalizedText { nl: "Overstap".into(), en: "Transfer".into() },
        LegalBasis::LegalObligation,
        365,
    )
    .allow(vct("pupil_enrolment"), ["sub", "age_over_16"].map(ClaimPath::claim).to_vec())
    .allow_with_basis(
        vct("support_needs"),
        ["arrangements", "sub"].map(ClaimPath::claim).to_vec(),
        LegalBasis::Consent,
    );
    world.trust_list = operator_signs(
        TrustList::new(world.trust_list.content().operator.clone(), NOW - 60, NOW + 86_400)
            .with_issuer(issuer)
            .with_verifier(VerifierRegistration::new(did_of(&world.verifier), "Stedelijk").with_purpose(purpose)),
    );
    let request = world
        .builder()
        .credential(
            CredentialQuery::sd_jwt_vc("enrolment", [vct("pupil_enrolment")])
                .claim(ClaimPath::claim("sub"))
                .claim(ClaimPath::claim("age_over_16")),
        )
        .credential(
            CredentialQuery::sd_jwt_vc("support", [vct("support_needs")]).claim(ClaimPath::claim("arrangements")),
        )
        .query_basis("support", LegalBasis::Consent)
        .build(NONCE)
        .unwrap();
    let support = Catalog::standard()
        .get("support_needs")
        .unwrap()
        .builder(
            did_of(&world.school).as_str(),
            NOW - 3600,
            json!({"sub": world.child_id, "school_name": "De Linde", "school_brin": "12AB",
                   "arrangements": ["extra time"]})
            .as_object()
            .cloned()
            .unwrap(),
        )
        .unwrap()
        .kid(kid_of(&world.school))
        .holder_key(key(10).verifying_key())
        .issue(&world.school, &mut RandomSalts)
        .unwrap()
        .to_string();
    let child = present(&support, &key(10), &["arrangements", "sub"], &request);
    let sibling = present(&world.enrolment(Some(SIBLING), 16, &key(11)), &key(11), &["sub", "age_over_16"], &request);
    let response = body(&[("enrolment", vec![sibling]), ("support", vec![child])], None);
    let verdict = verify_response(&request, &response, &world.context());
    assert_eq!(verdict.legal_bases.get("support"), Some(&LegalBasis::Consent));
    assert_eq!(verdict.legal_bases.get("enrolment"), Some(&LegalBasis::LegalObligation));
    assert_eq!(verdict.subject.as_deref(), Some(world.child_id.as_str()), "the consent presentation's child");
    assert!(verdict.guardian_approval_required, "the sibling's age_over_16 says nothing about this child");
    assert_eq!(checks(&verdict), [Check::GuardianApproval], "{:?}", verdict.failures);
}

// ---- 2. The legal basis comes from the registration --------------------------------------

#[test]
fn a_request_stating_legal_obligation_for_a_consent_purpose_still_needs_the_parent() {
    let world = World::new();
    // The builder refuses this request; crafted by hand it still cannot skip the parent.
    let refused =
        world.builder().legal_basis(LegalBasis::LegalObligation).credential(World::query("enrolment")).build(NONCE);
    let mismatch = OverAsking::BasisMismatch {
        query_id: "enrolment".into(),
        vct: vct("pupil_enrolment"),
        registered: LegalBasis::Consent,
        requested: LegalBasis::LegalObligation,
    };
    assert!(
        matches!(
            &refused,
            Err(schooltas_school::Error::TrustList(TrustListError::RequestExceedsRegistration { findings }))
                if *findings == [mismatch]
        ),
        "{refused:?}"
    );
    let request = world.crafted("newsletter", LegalBasis::LegalObligation, &[World::query("enrolment")]);
    let twelve = present(&world.enrolment(Some(&world.child_id), 12, &key(10)), &key(10), &ASKED, &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![twelve.clone()])], None), &world.context());
    assert!(verdict.failed(Check::GuardianApproval), "{:?}", verdict.failures);
    assert!(verdict.failed(Check::LegalBasis), "the mismatch is flagged too: {:?}", verdict.failures);
    assert!(verdict.guardian_approval_required);
    assert_eq!(verdict.legal_bases.get("enrolment"), Some(&LegalBasis::Consent));

    // A per-query override to legal_obligation is no way around it either.
    let request = world.crafted("newsletter", LegalBasis::Consent, &[World::query("enrolment")]);
    let extension = request.schooltas().unwrap().unwrap().with_query_basis("enrolment", LegalBasis::LegalObligation);
    let request = request.with_schooltas(extension).unwrap();
    let twelve = present(&world.enrolment(Some(&world.child_id), 12, &key(10)), &key(10), &ASKED, &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![twelve])], None), &world.context());
    assert!(verdict.failed(Check::GuardianApproval) && verdict.failed(Check::LegalBasis), "{:?}", verdict.failures);

    // A purpose the verifier is not registered for rests on consent (and is flagged).
    let request = world.crafted("marketing", LegalBasis::Contract, &[World::query("enrolment")]);
    let twelve = present(&world.enrolment(Some(&world.child_id), 12, &key(10)), &key(10), &ASKED, &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![twelve])], None), &world.context());
    assert!(verdict.failed(Check::GuardianApproval) && verdict.failed(Check::LegalBasis), "{:?}", verdict.failures);
}

// ---- 3. Trust before network --------------------------------------------------------------

#[test]
fn an_unaccredited_did_web_issuer_causes_no_fetch_at_all() {
    let world = World::new();
    let request = world.builder().credential(World::query("enrolment")).build(NONCE).unwrap();
    let stranger = key(66);
    let evil_status = "https://10.0.0.7/status/1";
    let credential = world.enrolment_by(
        &stranger,
        "did:web:evil.example",
        "did:web:evil.example#key-1",
        evil_status,
        Some(SIBLING),
        16,
        &key(10),
    );
    let presentation = present(&credential, &key(10), &ASKED, &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![presentation])], None), &world.context());
    assert!(verdict.failed(Check::IssuerAccredited), "{:?}", verdict.failures);
    assert_eq!(world.web_fetches.load(Ordering::SeqCst), 0, "no did:web fetch");
    assert!(world.status_fetched.lock().unwrap().is_empty(), "no status fetch");
    for failure in &verdict.failures {
        let text = failure.to_string();
        assert!(!text.contains("evil.example") && !text.contains("10.0.0.7"), "{text}");
    }

    // The same for the guardianship credential inside a guardian approval.
    let child = present(&world.enrolment(Some(&world.child_id), 12, &key(10)), &key(10), &ASKED, &request);
    let approval = world.approval(
        &request,
        &world.child_id,
        &[("enrolment", &child)],
        (&stranger, "did:web:evil.example", "did:web:evil.example#key-1", evil_status),
    );
    let verdict = verify_response(&request, &body(&[("enrolment", vec![child])], Some(approval)), &world.context());
    assert!(verdict.failed(Check::IssuerAccredited), "{:?}", verdict.failures);
    assert!(verdict.failed(Check::GuardianApproval), "{:?}", verdict.failures);
    assert_eq!(world.web_fetches.load(Ordering::SeqCst), 0, "no did:web fetch for the guardianship");
    let fetched = world.status_fetched.lock().unwrap().clone();
    assert!(fetched.iter().all(|uri| uri == STATUS_URI), "only the accredited school's list: {fetched:?}");
}

#[test]
fn an_accredited_issuer_presenting_a_type_it_is_not_accredited_for_causes_no_fetch() {
    let world = World::new();
    let request = world.builder().credential(World::query("enrolment")).build(NONCE).unwrap();
    // The school is accredited for enrolment and guardianship, not for this made-up type.
    let raw = hand_issued(&world.school, &did_of(&world.school).to_string(), "https://evil.example/vct", &key(10));
    let presentation = present(&raw, &key(10), &[], &request);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![presentation])], None), &world.context());
    assert!(verdict.failed(Check::IssuerAccredited), "{:?}", verdict.failures);
    assert!(world.status_fetched.lock().unwrap().is_empty());
}

/// An SD-JWT VC with no disclosures, signed by hand (the catalog refuses unknown types).
fn hand_issued(signer: &SigningKey, iss: &str, vct: &str, holder: &SigningKey) -> String {
    let payload = json!({
        "iss": iss, "vct": vct, "iat": NOW - 60, "exp": NOW + 3600,
        "cnf": {"jwk": Value::Object(holder.verifying_key().to_jwk())},
        "status": {"status_list": {"idx": 1, "uri": "https://evil.example/status"}},
    });
    let header = schooltas_did::jws::Header::new().with_typ("dc+sd-jwt").with_kid(kid_of(signer).as_str());
    let jwt = schooltas_did::jws::sign_compact_json(&header, &payload, signer).unwrap();
    format!("{jwt}~")
}

// ---- 4. A nonce is spent only by a valid answer -------------------------------------------

fn desk_request(world: &World, desk: &Verifier) -> schooltas_verifier::SignedRequest {
    let builder = RequestBuilder::new(world.trust_list.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
        .state(STATE)
        .credential(World::query("enrolment"));
    desk.request(builder, NOW, 600).unwrap()
}

#[test]
fn junk_naming_the_nonce_does_not_burn_it_and_the_genuine_answer_is_accepted() {
    let world = World::new();
    let desk = Verifier::new(key(2), RESPONSE_URI).unwrap();
    let signed = desk_request(&world, &desk);
    let request = &signed.request;
    let genuine = present(&world.enrolment(Some(SIBLING), 16, &key(10)), &key(10), &ASKED, request);
    let genuine_body = body(&[("enrolment", vec![genuine.clone()])], None);

    // Junk 1: the genuine presentation with its key-binding signature broken.
    let (head, kb) = genuine.rsplit_once('~').unwrap();
    let (kb_input, _) = kb.rsplit_once('.').unwrap();
    let broken = format!("{head}~{kb_input}.{}", schooltas_did::base64url::encode([7u8; 64]));
    // Junk 2: a self-issued credential with a valid key binding over our nonce.
    let forger = key(77);
    let forged = present(
        &hand_issued(&forger, did_of(&forger).as_str(), &vct("pupil_enrolment"), &key(78)),
        &key(78),
        &[],
        request,
    );
    // A broken key-binding signature is the holder's failure (KeyBinding), not the issuer's.
    for (junk, check) in [(broken, Check::KeyBinding), (forged, Check::IssuerAccredited)] {
        let received = desk.receive(&body(&[("enrolment", vec![junk])], None), &world.context());
        assert!(received.verdict.failed(check), "{:?}", received.verdict.failures);
        assert!(!received.verdict.failed(Check::Replay), "{:?}", received.verdict.failures);
    }
    let received = desk.receive(&genuine_body, &world.context());
    assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
    // Genuine twice: the second is a replay.
    let again = desk.receive(&genuine_body, &world.context());
    assert_eq!(checks(&again.verdict), [Check::Replay]);
    assert!(again.request.is_none());
}

#[test]
fn two_valid_answers_racing_give_exactly_one_acceptance() {
    let world = World::new();
    let desk = Verifier::new(key(2), RESPONSE_URI).unwrap();
    for _ in 0..5 {
        let signed = desk_request(&world, &desk);
        // Two different valid answers (two presentations of the same credential).
        let credential = world.enrolment(Some(SIBLING), 16, &key(10));
        let bodies: Vec<String> = (0..2)
            .map(|_| body(&[("enrolment", vec![present(&credential, &key(10), &ASKED, &signed.request)])], None))
            .collect();
        let barrier = Barrier::new(2);
        let context = world.context();
        let verdicts: Vec<Verdict> = std::thread::scope(|scope| {
            let handles: Vec<_> = bodies
                .iter()
                .map(|b| {
                    let (desk, barrier, context) = (&desk, &barrier, &context);
                    scope.spawn(move || {
                        barrier.wait();
                        desk.receive(b, context).verdict
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(verdicts.iter().filter(|v| v.is_accepted()).count(), 1, "{verdicts:?}");
        let loser = verdicts.iter().find(|v| !v.is_accepted()).unwrap();
        assert_eq!(checks(loser), [Check::Replay]);
    }
}

#[test]
fn an_unknown_or_expired_nonce_is_a_nonce_mismatch_and_nothing_is_fetched() {
    let world = World::new();
    let desk = Verifier::new(key(2), RESPONSE_URI).unwrap();
    // Never issued by this desk.
    let foreign = world.builder().credential(World::query("enrolment")).build("n-never-issued-here-0").unwrap();
    let presentation = present(&world.enrolment(Some(SIBLING), 16, &key(10)), &key(10), &ASKED, &foreign);
    let received = desk.receive(&body(&[("enrolment", vec![presentation])], None), &world.context());
    assert_eq!(checks(&received.verdict), [Check::Nonce]);
    assert!(world.status_fetched.lock().unwrap().is_empty(), "refused before any verification");
    // Expired: issued an hour ago for ten minutes.
    let builder = RequestBuilder::new(world.trust_list.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
        .state(STATE)
        .credential(World::query("enrolment"));
    let late = desk.request(builder, NOW - 3600, 600).unwrap();
    let presentation = present(&world.enrolment(Some(SIBLING), 16, &key(10)), &key(10), &ASKED, &late.request);
    let received = desk.receive(&body(&[("enrolment", vec![presentation])], None), &world.context());
    assert_eq!(checks(&received.verdict), [Check::Nonce]);
}

#[test]
fn failure_reasons_echo_no_claim_value_and_no_connection_detail() {
    let world = World::new();
    let unreachable = StatusListCache::new(|_: &StatusListUri| -> Result<String, FetchError> {
        Err(FetchError::from("connection refused by 192.0.2.55:8443 (tls handshake)"))
    });
    let context = VerificationContext::new(&world.trust_list, &world.resolver, &unreachable, NOW);
    let request = world.builder().credential(World::query("enrolment").multiple(true)).build(NONCE).unwrap();
    let child = present(&world.enrolment(Some(&world.child_id), 15, &key(10)), &key(10), &ASKED, &request);
    let sibling = present(&world.enrolment(Some(SIBLING), 16, &key(11)), &key(11), &ASKED, &request);
    let mut wrong_aud = request.clone();
    wrong_aud.client_id = "decentralized_identifier:did:web:attacker.example".into();
    let third = present(&world.enrolment(Some(SIBLING), 16, &key(12)), &key(12), &ASKED, &wrong_aud);
    let verdict = verify_response(&request, &body(&[("enrolment", vec![child, sibling, third])], None), &context);
    assert!(verdict.failed(Check::StatusUnknown) && verdict.failed(Check::Audience), "{:?}", verdict.failures);
    for failure in &verdict.failures {
        let text = failure.to_string();
        for secret in [
            "192.0.2.55",
            "handshake",
            "attacker.example",
            STATUS_URI,
            SIBLING,
            world.child_id.as_str(),
            "Sanne",
            "7B",
            "2014-03-01",
        ] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }
}

/// The test operator (seed 5) signs the list; lookups go through the verified list.
fn operator_signs(list: TrustList) -> VerifiedTrustList {
    let operator = SigningKey::from_ed25519_seed(&[5; 32]);
    let did = did_of(&operator);
    let kid = schooltas_did::DidUrl::parse(&format!("{did}#{}", did.method_specific_id())).unwrap();
    list.sign_and_verify(&operator, &kid, NOW, 60).unwrap().1
}
