//! The wallet's policy against a hostile verifier, a hostile child's wallet and a sibling
//! (issue 12, items 1–3 wallet side, 9 "reuse", 11): each refusal asserts its specific error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use schooltas_did::did_web::DocumentFetcher;
use schooltas_did::{Resolver, Signer, SigningKey};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, DcqlQuery};
use schooltas_school::Error as CredentialError;
use schooltas_school::catalog::{Catalog, Language};
use schooltas_school::consent::UnverifiedWithdrawal;
use schooltas_school::date::CalendarDate;
use schooltas_school::trust_list::{AccreditedIssuer, RegisteredPurpose, TrustList, TrustListError, VerifiedTrustList};
use schooltas_school::{LegalBasis, LocalizedText, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{
    HolderSdJwt, KeyBinding, KeyBindingInput, RandomSalts, UnverifiedSdJwt, VerifyOptions, issuer_key_via_did,
};
use schooltas_status_list::StatusListCache;
use schooltas_wallet::log::LogEvent;
use schooltas_wallet::{Decision, Error, GuardianRequest, Outcome, Role, Wallet, WhoDecides};
use serde_json::json;

const NEWSLETTER_CLAIMS: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];

/// The newsletter request, hand-crafted (no request builder refuses it), stating `basis`.
fn newsletter_stating(verifier: &Verifier, basis: LegalBasis) -> AuthorizationRequest {
    let request = newsletter_request(verifier, &NEWSLETTER_CLAIMS);
    let mut extension = request.schooltas().unwrap().unwrap();
    extension.legal_basis = basis;
    request.with_schooltas(extension).unwrap()
}

fn last_event(wallet: &Wallet) -> LogEvent {
    wallet.log().unwrap().last().unwrap().event.clone()
}

fn nothing_left(wallet: &Wallet) -> bool {
    !wallet.log().unwrap().iter().any(|e| matches!(e.event, LogEvent::Disclosure { .. }))
        && wallet.credentials().unwrap().iter().all(|c| c.unused_copies == c.copies)
}

// ---- Item 2: the legal basis comes from the registration ------------------------------------

#[test]
fn a_request_stating_legal_obligation_for_a_consent_purpose_is_refused_for_a_12_year_old() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01"); // 12 today

    // Signed by the registered verifier, bypassing its request builder: "newsletter" is
    // registered on consent, the request says legal obligation.
    let request = newsletter_stating(&verifier, LegalBasis::LegalObligation);
    let error = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::LegalBasisMismatch {
                query_id,
                stated: LegalBasis::LegalObligation,
                registered: Some(LegalBasis::Consent),
            } if query_id == "enrolment"
        ),
        "{error:?}"
    );
    let nl = error.localized(Language::Nl);
    assert!(nl.contains("'wettelijke plicht'") && nl.contains("alleen geregistreerd op toestemming"), "{nl}");
    let en = error.localized(Language::En);
    assert!(en.contains("legal obligation") && en.contains("only on consent"), "{en}");

    // Nothing leaves: no prompt waits, no copy is used, no disclosure; the refusal is logged.
    assert!(family.child.pending_requests().unwrap().is_empty());
    assert!(nothing_left(&family.child));
    assert!(
        matches!(last_event(&family.child), LogEvent::RequestRefused { verifier: v, reason }
            if v == request.client_id && reason.contains("legal obligation")),
        "{:?}",
        last_event(&family.child)
    );
}

#[test]
fn a_per_query_basis_or_an_unregistered_purpose_cannot_dodge_the_registration() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-2", "2010-01-01"); // 17: would answer alone

    // The request's own basis is consent, but the one query carries "public task".
    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let extension = request.schooltas().unwrap().unwrap().with_query_basis("enrolment", LegalBasis::PublicTask);
    let request = request.with_schooltas(extension).unwrap();
    assert!(matches!(
        family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW),
        Err(Error::LegalBasisMismatch { stated: LegalBasis::PublicTask, registered: Some(LegalBasis::Consent), .. })
    ));

    // A purpose the verifier is not registered for, on a basis other than consent: nothing
    // in the registration backs that basis.
    let unregistered = newsletter_stating(&verifier, LegalBasis::Contract);
    let mut extension = unregistered.schooltas().unwrap().unwrap();
    extension.purpose = purpose("marketing", "Reclame", "Marketing");
    let unregistered = unregistered.with_schooltas(extension).unwrap();
    assert!(matches!(
        family.child.handle_request(&verifier.request_uri(&unregistered, NOW), &verifiers, NOW),
        Err(Error::LegalBasisMismatch { stated: LegalBasis::Contract, registered: None, .. })
    ));

    // A registered legal obligation, stated as contract: two non-consent bases still differ.
    let contract = enrolment_check_request(&verifier, &["school_brin"], LegalBasis::Contract, 365);
    assert!(matches!(
        family.child.handle_request(&verifier.request_uri(&contract, NOW), &verifiers, NOW),
        Err(Error::LegalBasisMismatch {
            stated: LegalBasis::Contract,
            registered: Some(LegalBasis::LegalObligation),
            ..
        })
    ));
    let refused =
        family.child.log().unwrap().iter().filter(|e| matches!(e.event, LogEvent::RequestRefused { .. })).count();
    assert_eq!(refused, 3);
    assert!(nothing_left(&family.child));
}

#[test]
fn stating_consent_where_a_legal_obligation_is_registered_still_asks_the_parent() {
    // Consent is the strictest basis: nobody loses a say, so the wallet goes ahead on it (and
    // the over-asking check shows the mismatch).
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let request = enrolment_check_request(&verifier, &["school_brin"], LegalBasis::Consent, 365);
    let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert_eq!(prompt.who_decides, WhoDecides::ChildAndParent);
    assert!(prompt.over_asking.iter().any(|w| w.contains("legal basis")), "{:?}", prompt.over_asking);
}

#[test]
fn the_parents_wallet_applies_the_registered_basis_itself() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let mut to_parent = to_parent(&family, &verifier, &verifiers, &NEWSLETTER_CLAIMS);
    // A hostile child's wallet forwards a request object stating legal obligation.
    to_parent.request_object = newsletter_stating(&verifier, LegalBasis::LegalObligation)
        .sign(&verifier.key, &verifier.kid(), NOW, 600)
        .unwrap();
    assert!(matches!(
        family.parent.review_child_request(&to_parent, &verifiers, NOW),
        Err(Error::LegalBasisMismatch {
            stated: LegalBasis::LegalObligation,
            registered: Some(LegalBasis::Consent),
            ..
        })
    ));
    assert!(matches!(
        family.parent.answer_child_request(&to_parent, true, &verifiers, NOW),
        Err(Error::LegalBasisMismatch { .. })
    ));
    assert!(family.parent.consents().unwrap().is_empty());
}

// ---- Items 1 and 3, wallet side: one child per approval; trust before network ---------------

/// The child's request for approval of a newsletter request asking for `claims`.
fn to_parent(
    family: &Family,
    verifier: &Verifier,
    verifiers: &schooltas_wallet::Verifiers<'_>,
    claims: &[&str],
) -> GuardianRequest {
    to_parent_for(&family.child, &newsletter_request(verifier, claims), verifier, verifiers)
}

fn to_parent_for(
    child: &Wallet,
    request: &AuthorizationRequest,
    verifier: &Verifier,
    verifiers: &schooltas_wallet::Verifiers<'_>,
) -> GuardianRequest {
    let prompt = child.handle_request(&verifier.request_uri(request, NOW), verifiers, NOW).unwrap();
    let Outcome::AwaitGuardian(to_parent) = child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a child under 16 waits for the parent")
    };
    to_parent
}

/// A sibling (12) in the parent's family: their own wallet and enrolment, and a guardianship
/// credential for them in the same parent's wallet.
fn sibling(school: &School, family: &Family) -> Wallet {
    let sibling =
        Wallet::create(vault(), Role::Child { birth_date: CalendarDate::parse("2014-03-03").unwrap() }, NOW).unwrap();
    school.enrol(
        "pupil-sib",
        "pupil_enrolment",
        json!({"sub": sibling.owner().did().as_str(), "school_name": "Basisschool De Linde", "school_brin": "12AB",
               "school_location": "00", "school_year": "2026-2027", "group": "7A", "given_name": "Daan",
               "family_name": "de Vries", "birth_date": "2014-03-03", "age_over_12": true, "age_over_16": false}),
    );
    school.enrol(
        "pupil-sib",
        "guardianship",
        json!({"guardian_id": family.parent.owner().did().as_str(), "child_id": sibling.owner().did().as_str(),
               "relation": "parent", "child_birth_date": "2014-03-03", "valid_until": "2030-03-03",
               "school_brin": "12AB"}),
    );
    school.issue_to(&sibling, "pupil-sib", &["pupil_enrolment"]);
    school.issue_to(&family.parent, "pupil-sib", &["guardianship"]);
    sibling
}

#[test]
fn the_parent_approves_for_one_child_only_the_one_the_guardianship_names() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let sibling = sibling(&school, &family);

    // Both children answer the same request (a query with `multiple`, or a hostile wallet).
    let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
    let genuine = to_parent_for(&family.child, &request, &verifier, &verifiers);
    let siblings = to_parent_for(&sibling, &request, &verifier, &verifiers);
    let sibling_presentation = siblings.vp_token["enrolment"][0].clone();
    assert!(family.parent.review_child_request(&genuine, &verifiers, NOW).is_ok());

    // Two children's presentations in one request for approval.
    let mut two = genuine.clone();
    two.vp_token.get_mut("enrolment").unwrap().push(sibling_presentation.clone());
    assert!(matches!(
        family.parent.review_child_request(&two, &verifiers, NOW),
        Err(Error::NotOneChild { query_id }) if query_id == "enrolment"
    ));
    assert!(matches!(family.parent.answer_child_request(&two, true, &verifiers, NOW), Err(Error::NotOneChild { .. })));

    // Only the sibling's presentation, in a request naming the first child: the parent is the
    // sibling's guardian too, but this approval would be recorded for the first child.
    let mut swapped = genuine.clone();
    swapped.vp_token.insert("enrolment".into(), vec![sibling_presentation]);
    assert!(matches!(
        family.parent.review_child_request(&swapped, &verifiers, NOW),
        Err(Error::WrongChild { query_id }) if query_id == "enrolment"
    ));
    // A request naming a child this parent holds no guardianship for.
    let mut stranger = genuine.clone();
    stranger.child_id = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into();
    assert!(matches!(family.parent.review_child_request(&stranger, &verifiers, NOW), Err(Error::NotGuardian { .. })));
    assert!(family.parent.consents().unwrap().is_empty());
    assert!(!family.parent.log().unwrap().iter().any(|e| matches!(e.event, LogEvent::Disclosure { .. })));
}

#[test]
fn a_consent_presentation_without_the_child_link_is_not_approved() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    // The verifier does not ask for `sub`: the parent cannot tell whom the presentation is about.
    let to_parent = to_parent(&family, &verifier, &verifiers, &["group", "given_name", "age_over_16"]);
    assert!(matches!(
        family.parent.review_child_request(&to_parent, &verifiers, NOW),
        Err(Error::ChildLinkMissing { query_id }) if query_id == "enrolment"
    ));
}

/// A did:web document fetcher that counts its calls and serves nothing.
struct Counting(Arc<AtomicUsize>);

impl DocumentFetcher for Counting {
    fn fetch(&self, url: &str) -> schooltas_did::Result<Vec<u8>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(schooltas_did::Error::Fetch { url: url.into(), reason: "this test serves no documents".into() })
    }
}

#[test]
fn an_unaccredited_did_web_issuer_is_refused_before_any_fetch() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    let genuine = to_parent(&family, &verifier, &verifiers, &NEWSLETTER_CLAIMS);
    let nonce = UnverifiedRequest::nonce_of(&genuine);

    // The parent's wallet resolves DIDs only through a counting fetcher from now on.
    let fetches = Arc::new(AtomicUsize::new(0));
    let counting = Resolver::with_web_fetcher(Counting(fetches.clone()));

    // A credential from did:web:rogue.example, which the trust list does not have: resolving it
    // would make the parent's phone fetch https://rogue.example/.well-known/did.json.
    let rogue_key = SigningKey::from_ed25519_seed(&[77; 32]);
    let holder = SigningKey::from_ed25519_seed(&[78; 32]);
    let claims = json!({"sub": family.child.owner().did().as_str(), "school_name": "Rogue", "school_brin": "99ZZ",
        "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
        "family_name": "de Vries", "birth_date": "2014-09-01", "age_over_12": true, "age_over_16": false});
    let rogue = Catalog::standard()
        .get("pupil_enrolment")
        .unwrap()
        .builder("did:web:rogue.example", NOW - 60, claims.as_object().cloned().unwrap())
        .unwrap()
        .kid("did:web:rogue.example#key-1")
        .holder_key(holder.verifying_key())
        .issue(&rogue_key, &mut RandomSalts)
        .unwrap()
        .to_string();
    let input = KeyBindingInput { nonce, audience: verifier.client_id(), issued_at: NOW };
    let presented = HolderSdJwt::parse(&rogue)
        .unwrap()
        .present(&schooltas_school_paths(&NEWSLETTER_CLAIMS), Some((&holder, &input)))
        .unwrap();
    let mut hostile = genuine.clone();
    hostile.vp_token.insert("enrolment".into(), vec![presented]);
    let counted = schooltas_wallet::Verifiers { trust_list: &trust, resolver: &counting, fetch_request_object: None };
    assert!(matches!(
        family.parent.review_child_request(&hostile, &counted, NOW),
        Err(Error::Credential(CredentialError::TrustList(TrustListError::IssuerNotListed { .. })))
    ));
    assert_eq!(fetches.load(Ordering::SeqCst), 0, "no DID resolution for an issuer the trust list does not have");

    // The school itself, listed but not accredited for enrolments in this list: still no fetch.
    let mut narrow: TrustList = trust.content().clone();
    narrow.issuers[0].credential_types.retain(|t| t != ENROLMENT);
    let narrow = resign(narrow);
    let counted = schooltas_wallet::Verifiers { trust_list: &narrow, resolver: &counting, fetch_request_object: None };
    assert!(matches!(
        family.parent.review_child_request(&genuine, &counted, NOW),
        Err(Error::Credential(CredentialError::TrustList(TrustListError::IssuerNotAccredited { .. })))
    ));
    assert_eq!(fetches.load(Ordering::SeqCst), 0);
}

#[test]
fn an_unregistered_did_web_verifier_makes_the_wallet_fetch_nothing() {
    let school = School::new();
    let verifier = Verifier::new(21);
    let trust = trust_list(&verifier);
    let family = family(&school, "pupil-1", "2014-09-01");
    let fetches = Arc::new(AtomicUsize::new(0));
    let counting = Resolver::with_web_fetcher(Counting(fetches.clone()));
    let request_fetches = AtomicUsize::new(0);
    let fetch = |_: &str| -> schooltas_wallet::Result<String> {
        request_fetches.fetch_add(1, Ordering::SeqCst);
        Err(Error::InvalidInput { reason: "this test serves no request objects".into() })
    };
    let counted =
        schooltas_wallet::Verifiers { trust_list: &trust, resolver: &counting, fetch_request_object: Some(&fetch) };

    // By value, signed under did:web:rogue.example: resolving its kid would fetch its DID document.
    let rogue = schooltas_did::Did::parse("did:web:rogue.example").unwrap();
    let request = AuthorizationRequest::new(
        &rogue,
        "https://rogue.example/r",
        schooltas_oid4vc::oid4vp::random_nonce(),
        DcqlQuery::builder()
            .credential(CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]).claim(ClaimPath::claim("group")))
            .build()
            .unwrap(),
    )
    .with_schooltas(SchooltasExtension::new(
        purpose("newsletter", "Nieuwsbrief", "Newsletter"),
        LegalBasis::Consent,
        30,
    ))
    .unwrap();
    let kid = schooltas_did::DidUrl::parse("did:web:rogue.example#key-1").unwrap();
    let jwt = request.sign(&SigningKey::from_ed25519_seed(&[88; 32]), &kid, NOW, 600).unwrap();
    let by_value = schooltas_oid4vc::oid4vp::AuthorizationRequestUri::ByValue {
        client_id: request.client_id.clone(),
        request_jwt: jwt,
    }
    .to_uri();
    assert!(matches!(
        family.child.handle_request(&by_value, &counted, NOW),
        Err(Error::VerifierNotRegistered { did }) if did == "did:web:rogue.example"
    ));
    // By reference: the request_uri is not fetched for an unregistered client_id.
    let by_reference = schooltas_oid4vc::oid4vp::AuthorizationRequestUri::ByReference {
        client_id: request.client_id.clone(),
        request_uri: "https://rogue.example/request.jwt".into(),
    }
    .to_uri();
    assert!(matches!(
        family.child.handle_request(&by_reference, &counted, NOW),
        Err(Error::VerifierNotRegistered { .. })
    ));
    assert_eq!(fetches.load(Ordering::SeqCst), 0, "no DID document fetched");
    assert_eq!(request_fetches.load(Ordering::SeqCst), 0, "no request object fetched");
    let refusals: Vec<LogEvent> = family
        .child
        .log()
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .filter(|e| matches!(e, LogEvent::RequestRefused { .. }))
        .collect();
    assert_eq!(refusals.len(), 2);
    assert!(matches!(&refusals[0], LogEvent::RequestRefused { verifier, .. } if *verifier == request.client_id));
}

fn schooltas_school_paths(names: &[&str]) -> Vec<ClaimPath> {
    names.iter().map(|n| ClaimPath::claim(*n)).collect()
}

/// The nonce of the request a [`GuardianRequest`] is about, read from the child's presentation.
struct UnverifiedRequest;

impl UnverifiedRequest {
    fn nonce_of(request: &GuardianRequest) -> String {
        let object = schooltas_oid4vc::oid4vp::UnverifiedRequestObject::parse(&request.request_object).unwrap();
        object.verify_with_resolver(&Resolver::offline(), NOW, 60).unwrap().nonce
    }
}

// ---- Item 9 (part): the prompt says so when a copy must be reused ----------------------------

#[test]
fn the_prompt_says_when_the_wallet_must_reuse_a_copy() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-2", "2010-01-01"); // 17: answers alone; 3 copies
    for round in 0..4 {
        let request = newsletter_request(&verifier, &NEWSLETTER_CLAIMS);
        let prompt = family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers, NOW).unwrap();
        let reuse = round == 3;
        assert_eq!(prompt.items[0].reuses_copy, reuse, "round {round}");
        assert_eq!(prompt.reuses_copies(), reuse);
        let nl = prompt.render(Language::Nl);
        let en = prompt.render(Language::En);
        assert_eq!(nl.contains("LET OP: alle exemplaren hiervan zijn al eerder gedeeld"), reuse, "{nl}");
        assert_eq!(en.contains("NOTE: every copy of this credential has been shared before"), reuse, "{en}");
        family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap();
    }
}

#[test]
fn the_parent_is_told_when_the_approval_reuses_a_guardianship_copy() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01"); // the parent holds 3 guardianship copies
    for round in 0..4 {
        let to_parent = to_parent(&family, &verifier, &verifiers, &NEWSLETTER_CLAIMS);
        let review = family.parent.review_child_request(&to_parent, &verifiers, NOW).unwrap();
        assert_eq!(review.reuses_guardianship_copy, round == 3, "round {round}");
        family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    }
}

// ---- Item 11: transfer dossier only to the enrolling school ----------------------------------

const SECONDARY_BRIN: &str = "34CD";

/// The secondary school: a did:key that is both an accredited issuer of enrolments (BRIN 34CD)
/// and a verifier registered for the transfer (legal obligation).
fn transfer_trust_list(secondary: &Verifier, primary_verifier: &Verifier) -> VerifiedTrustList {
    let dossier = vct("transfer_dossier");
    let transfer = RegisteredPurpose::new(
        "transfer",
        LocalizedText { nl: "Overstap".into(), en: "Transfer".into() },
        LegalBasis::LegalObligation,
        730,
    )
    .allow(dossier.clone(), paths(&["administrative", "school_history_and_results"]));
    let mut list = trust_list(primary_verifier).content().clone();
    list.issuers.push(
        AccreditedIssuer::new(secondary.did.clone(), "Het Stedelijk College")
            .with_brin(SECONDARY_BRIN)
            .accredited_for(ENROLMENT),
    );
    list.verifiers.push(
        schooltas_school::trust_list::VerifierRegistration::new(secondary.did.clone(), "Het Stedelijk College")
            .with_purpose(transfer.clone()),
    );
    // The primary school's own verifier is registered for the transfer too, but it is no
    // school that enrols pupils in this list.
    list.verifiers[0].purposes.push(transfer);
    resign(list)
}

fn dossier_request(verifier: &Verifier) -> AuthorizationRequest {
    let query = CredentialQuery::sd_jwt_vc("dossier", [vct("transfer_dossier")])
        .claim(ClaimPath::claim("administrative"))
        .claim(ClaimPath::claim("school_history_and_results"));
    AuthorizationRequest::new(
        &verifier.did,
        "https://stedelijk.example/oid4vp/response",
        schooltas_oid4vc::oid4vp::random_nonce(),
        DcqlQuery::builder().credential(query).build().unwrap(),
    )
    .with_schooltas(SchooltasExtension::new(
        purpose("transfer", "Overstap", "Transfer"),
        LegalBasis::LegalObligation,
        730,
    ))
    .unwrap()
}

/// An enrolment credential issued by `issuer` (a did:key school) to `child`, stored from a file.
fn add_enrolment(school: &School, child: &Wallet, issuer: &SigningKey, brin: &str) {
    let did = did_of(issuer);
    let kid = format!("{did}#{}", did.as_str().trim_start_matches("did:key:"));
    let holder = SigningKey::generate(schooltas_did::Algorithm::EdDsa).unwrap();
    let claims = json!({"sub": child.owner().did().as_str(), "school_name": "Het Stedelijk College",
        "school_brin": brin, "school_location": "00", "school_year": "2027-2028", "group": "1A",
        "given_name": "Sanne", "family_name": "de Vries", "birth_date": "2014-09-01", "age_over_12": true,
        "age_over_16": false});
    let credential = Catalog::standard()
        .get("pupil_enrolment")
        .unwrap()
        .builder(did.as_str(), NOW - 60, claims.as_object().cloned().unwrap())
        .unwrap()
        .kid(kid)
        .expires_at(NOW + 365 * 86_400)
        .holder_key(holder.verifying_key())
        .issue(issuer, &mut RandomSalts)
        .unwrap()
        .to_string();
    let offline = Resolver::offline();
    let issuer_key = |h: &schooltas_did::jws::Header, iss: Option<&str>| issuer_key_via_did(&offline, h, iss);
    let status = StatusListCache::new(school.lists.clone());
    child.add_credential(&credential, &holder, &issuer_key, &status, NOW).unwrap();
}

fn issue_dossier(school: &School, family: &Family) {
    school.enrol(
        "pupil-1",
        "transfer_dossier",
        json!({"administrative": {"given_name": "Sanne", "family_name": "de Vries", "birth_date": "2014-09-01"},
               "school_history_and_results": {"advice": ["havo"]},
               "social_emotional_development": {"summary": "Werkt graag samen."},
               "absence": {"days": 2}}),
    );
    school.issue_to(&family.child, "pupil-1", &["transfer_dossier"]);
}

#[test]
fn a_transfer_dossier_goes_only_to_the_school_that_enrolled_the_pupil() {
    let school = School::new();
    let primary_verifier = Verifier::new(21);
    let secondary = Verifier::new(31);
    let trust = transfer_trust_list(&secondary, &primary_verifier);
    let resolver = school.resolver();
    let verifiers = verifiers(&trust, &resolver);
    let family = family(&school, "pupil-1", "2014-09-01");
    issue_dossier(&school, &family);

    // Before registration: the wallet holds only the primary school's enrolment.
    let request = dossier_request(&secondary);
    let error = family.child.handle_request(&secondary.request_uri(&request, NOW), &verifiers, NOW).unwrap_err();
    assert!(
        matches!(&error, Error::TransferWithoutEnrolment { verifier } if *verifier == secondary.did.to_string()),
        "{error:?}"
    );
    assert!(error.localized(Language::Nl).contains("al is ingeschreven"));
    assert!(matches!(last_event(&family.child), LogEvent::RequestRefused { .. }));

    // An enrolment claiming the secondary school's BRIN, issued by someone else: not it.
    let impostor = SigningKey::from_ed25519_seed(&[66; 32]);
    add_enrolment(&school, &family.child, &impostor, SECONDARY_BRIN);
    assert!(matches!(
        family.child.handle_request(&secondary.request_uri(&request, NOW), &verifiers, NOW),
        Err(Error::TransferWithoutEnrolment { .. })
    ));
    // An enrolment issued by the secondary school's DID with another BRIN: not it either.
    add_enrolment(&school, &family.child, &secondary.key, "56EF");
    assert!(matches!(
        family.child.handle_request(&secondary.request_uri(&request, NOW), &verifiers, NOW),
        Err(Error::TransferWithoutEnrolment { .. })
    ));
    // A registered verifier that is no enrolling school in the trust list never qualifies.
    let by_primary = dossier_request(&primary_verifier);
    assert!(matches!(
        family.child.handle_request(&primary_verifier.request_uri(&by_primary, NOW), &verifiers, NOW),
        Err(Error::TransferWithoutEnrolment { .. })
    ));
    assert!(nothing_left(&family.child));

    // Registered at the secondary school: the dossier request is answered.
    add_enrolment(&school, &family.child, &secondary.key, SECONDARY_BRIN);
    let prompt = family.child.handle_request(&secondary.request_uri(&request, NOW), &verifiers, NOW).unwrap();
    assert!(prompt.answerable);
    assert_eq!(prompt.who_decides, WhoDecides::HolderNoConsentNeeded);
    let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a legal obligation is sent after the holder's approval")
    };
    let parsed = schooltas_school::consent::response_from_form(&response.body).unwrap();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&request.nonce, &request.client_id));
    let verified = UnverifiedSdJwt::parse(&parsed.vp_token["dossier"][0])
        .unwrap()
        .verify_with(|h, iss| issuer_key_via_did(&resolver, h, iss), &options, NOW)
        .unwrap();
    assert_eq!(verified.claims()["administrative"]["given_name"], "Sanne");
    assert!(verified.claims().get("absence").is_none(), "not asked, not sent");
}

// ---- Item 11: at 16 the consents a parent gave are put to the young person ------------------

#[test]
fn at_16_the_consents_a_parent_gave_are_put_to_the_young_person_to_confirm_or_withdraw() {
    use schooltas_verifier::{
        ConsentRegister, RequestBuilder, SqliteConsentStore, UseQuery, VerificationContext, WithdrawnBy,
    };
    let (school, _registered, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    // 16 next month: the parent still holds a guardianship (valid through 31 January; from
    // 1 February, the birthday's month, the school issues none, schooltas_issuer::validity).
    let family = family(&school, "pupil-3", "2011-02-16");
    let birthday = CalendarDate::parse("2027-02-16").unwrap().to_unix() + 9 * 3600;
    let desk = schooltas_verifier::Verifier::new(
        SigningKey::from_ed25519_seed(&[21; 32]),
        "https://delinde.example/oid4vp/response",
    )
    .unwrap();
    let status = StatusListCache::new(school.lists.clone());
    let register = ConsentRegister::new(SqliteConsentStore::in_memory().unwrap());

    // Two consents the parent gives while the child is 15, recorded by the school.
    let mut recorded = Vec::new();
    for _ in 0..2 {
        let mut query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]);
        for path in paths(&NEWSLETTER_CLAIMS) {
            query = query.claim(path);
        }
        let builder = RequestBuilder::new(trust.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
            .retention_days(365)
            .credential(query);
        let signed = desk.request(builder, NOW, 600).unwrap();
        let prompt = family.child.handle_request(&signed.uri_by_value(), &verifiers, NOW).unwrap();
        assert_eq!(prompt.who_decides, WhoDecides::ChildAndParent);
        let Outcome::AwaitGuardian(to_parent) =
            family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
        else {
            panic!("15: the parent approves")
        };
        let answer = family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
        let response = family.child.complete_with_guardian(&answer, NOW).unwrap();
        let received = desk.receive(&response.body, &VerificationContext::new(&trust, &resolver, &status, NOW));
        assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
        recorded
            .push((desk.record_consent(&register, &received, NOW).unwrap(), received.verdict.subject.clone().unwrap()));
    }

    // At 15 nothing is put to the child, and the child's wallet cannot withdraw or confirm.
    let consents = family.child.consents().unwrap();
    assert_eq!(consents.len(), 2);
    assert!(family.child.consents_to_reconfirm(NOW).unwrap().is_empty());
    assert!(matches!(family.child.withdraw(&consents[0].id, NOW), Err(Error::GivenByParent)));
    assert!(matches!(family.child.confirm_consent(&consents[0].id, NOW), Err(Error::NotReconfirmable { .. })));
    assert!(family.parent.consents_to_reconfirm(birthday).unwrap().is_empty(), "a parent's wallet has none");

    // From the 16th birthday both are put to the young person.
    let open = family.child.consents_to_reconfirm(birthday).unwrap();
    assert_eq!(open.len(), 2);

    // Confirm the first: it stays in force, is logged, and is not put again.
    let confirmed = family.child.confirm_consent(&open[0].id, birthday).unwrap();
    assert_eq!(confirmed.confirmed_at, Some(birthday));
    assert!(
        matches!(last_event(&family.child), LogEvent::ConsentConfirmed { consent_id, .. } if consent_id == open[0].id)
    );
    assert!(matches!(family.child.confirm_consent(&open[0].id, birthday), Err(Error::NotReconfirmable { .. })));
    assert_eq!(family.child.consents_to_reconfirm(birthday).unwrap().len(), 1);

    // Withdraw the second with the young person's own key: the school's register accepts it.
    let message = family.child.withdraw(&open[1].id, birthday + 60).unwrap();
    assert!(matches!(last_event(&family.child), LogEvent::Withdrawal { consent_id, .. } if consent_id == open[1].id));
    let nonce = UnverifiedWithdrawal::parse(&message.jwt).unwrap().unverified_nonce().to_owned();
    assert_eq!(nonce, open[1].request_nonce);
    let (id, by) = desk.apply_withdrawal_by(&register, &message.jwt, birthday + 61).unwrap();
    assert_eq!(by, WithdrawnBy::Child);
    let (withdrawn_id, subject) = recorded.iter().find(|(i, _)| *i == id).unwrap();
    let other = recorded.iter().find(|(i, _)| i != withdrawn_id).unwrap();
    assert!(register.get(withdrawn_id).unwrap().unwrap().withdrawn.is_some());
    assert!(register.get(&other.0).unwrap().unwrap().withdrawn.is_none(), "the confirmed one stands");
    let ask = UseQuery { subject, purpose: "newsletter", object: None };
    assert!(register.may_use(ask, birthday + 120, None).is_ok());
    assert!(family.child.consents_to_reconfirm(birthday + 120).unwrap().is_empty());
    assert!(matches!(family.child.withdraw(&open[1].id, birthday + 120), Err(Error::AlreadyWithdrawn { .. })));

    // A withdrawal of the confirmed consent signed with another child's key changes nothing.
    let stranger = SigningKey::from_ed25519_seed(&[123; 32]);
    let forged = schooltas_school::consent::ConsentWithdrawal::new(
        desk.client_id(),
        &open[0].request_nonce,
        "newsletter",
        birthday,
    )
    .sign(&stranger)
    .unwrap();
    assert!(matches!(
        desk.apply_withdrawal(&register, &forged, birthday + 10),
        Err(schooltas_verifier::Error::WithdrawalNotByConsenter)
    ));
    assert!(register.get(&other.0).unwrap().unwrap().withdrawn.is_none());

    // The parent's own record still lets them withdraw the first: a withdrawal only reduces.
    let parent_consent =
        family.parent.consents().unwrap().into_iter().find(|c| c.request_nonce == open[0].request_nonce).unwrap();
    let by_parent = family.parent.withdraw(&parent_consent.id, birthday + 200).unwrap();
    assert_eq!(desk.apply_withdrawal_by(&register, &by_parent.jwt, birthday + 201).unwrap().1, WithdrawnBy::Approver);
}

// ---- Who the guardianship names --------------------------------------------------------------

#[test]
fn a_guardianship_naming_the_parents_wallet_did_serves_as_one_naming_its_holder_key() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    let family = family_naming(&school, "pupil-1", "2014-09-01", Guardian::WalletDid);
    let to_parent = to_parent(&family, &verifier, &verifiers, &NEWSLETTER_CLAIMS);
    let answer = family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    assert!(matches!(answer, schooltas_wallet::GuardianAnswer::Approved { .. }));
}

#[test]
fn a_guardianship_naming_someone_else_is_not_this_parents() {
    let (school, verifier, trust, resolver) = scene(21);
    let verifiers = verifiers(&trust, &resolver);
    // The school (or a wallet file edited by someone) names another parent's wallet.
    let other = Wallet::create(vault(), Role::Parent, NOW).unwrap();
    let family = family_naming(&school, "pupil-1", "2014-09-01", Guardian::Named(other.owner().did().as_str()));
    let to_parent = to_parent(&family, &verifier, &verifiers, &NEWSLETTER_CLAIMS);
    assert!(matches!(
        family.parent.review_child_request(&to_parent, &verifiers, NOW),
        Err(Error::NotGuardian { reason }) if reason.contains("no guardianship credential")
    ));
    assert!(matches!(
        family.parent.answer_child_request(&to_parent, true, &verifiers, NOW),
        Err(Error::NotGuardian { .. })
    ));
}
