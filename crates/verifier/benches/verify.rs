//! A full OpenID4VP response verified (issue 6): two credentials from a child of 15
//! (enrolment + learning results), the parent's guardian approval carrying their guardianship
//! credential, status from a warm cache — next to the raw Ed25519 verifies it contains.
//!
//! `cargo bench -p schooltas-verifier --bench verify -- --warm-up-time 1 --measurement-time 5`
//!
//! `verify_response` performs 7 signature checks for this response: issuer JWT + KB-JWT for
//! each of the two child presentations (4), issuer JWT + KB-JWT of the guardianship
//! presentation inside the approval (2), and the approval JWT itself (1). The status list
//! token is verified once when the cache is filled; a warm lookup with the same issuer key does
//! not verify it again (`StatusListCache::confirm_key`). The floor is those 7 raw plain
//! `ed25519_dalek` verifies over messages exactly as long as the real signing inputs, with
//! pre-parsed keys (the peers' harness floor; ours are strict).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::Criterion;
use schooltas_did::{Did, DidUrl, PublicKey, Resolver, Signer, SigningKey, did_key};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, AuthorizationResponse, CredentialQuery, PresentedCredential};
use schooltas_school::catalog::Catalog;
use schooltas_school::consent::{
    ApprovalContext, ApprovedPresentation, ChildPresentation, GuardianApproval, UnverifiedGuardianApproval,
};
use schooltas_school::trust_list::{
    AccreditedIssuer, RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{
    HolderSdJwt, KeyBinding, KeyBindingInput, RandomSalts, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions,
    issuer_key_via_did,
};
use schooltas_status_list::{
    Bits, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri, StatusReference,
};
use schooltas_verifier::{RequestBuilder, VerificationContext, verify_response};
use serde_json::{Value, json};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, interleaved_ratio, print_ratios};

const NOW: i64 = 1_800_000_000; // 2027-01-15
const STATUS_URI: &str = "https://school.example/status/enrolment";
const ENROLMENT_CLAIMS: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];
const RESULTS_CLAIMS: [&str; 5] = ["test_name", "test_date", "reading_level", "maths_level", "sub"];

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

fn paths(claims: &[&str]) -> Vec<ClaimPath> {
    claims.iter().map(|c| ClaimPath::claim(*c)).collect()
}

fn issue(school: &SigningKey, type_id: &str, claims: Value, holder: &SigningKey, status: Option<u64>) -> String {
    let mut builder = Catalog::standard()
        .get(type_id)
        .unwrap()
        .builder(did_of(school).as_str(), NOW - 3600, claims.as_object().cloned().unwrap())
        .unwrap()
        .kid(kid_of(school))
        .holder_key(holder.verifying_key());
    if let Some(index) = status {
        builder =
            builder.status(StatusReference::new(StatusListUri::new(STATUS_URI).unwrap(), index).to_status_claim());
    }
    builder.issue(school, &mut RandomSalts).unwrap().to_string()
}

fn present(credential: &str, holder: &SigningKey, claims: &[&str], request: &AuthorizationRequest) -> String {
    let input = KeyBindingInput { nonce: request.nonce.clone(), audience: request.client_id.clone(), issued_at: NOW };
    HolderSdJwt::parse(credential).unwrap().present(&paths(claims), Some((holder, &input))).unwrap()
}

/// Everything the verifier holds, and the response to time.
struct World {
    trust_list: VerifiedTrustList,
    resolver: Resolver,
    status: StatusListCache,
    request: AuthorizationRequest,
    body: String,
    school: SigningKey,
    child: SigningKey,
    parent: SigningKey,
}

impl World {
    fn new() -> Self {
        let school = SigningKey::from_ed25519_seed(&[1; 32]);
        let verifier = SigningKey::from_ed25519_seed(&[2; 32]);
        let parent = SigningKey::from_ed25519_seed(&[3; 32]);
        let child_identity = SigningKey::from_ed25519_seed(&[4; 32]);
        let operator = SigningKey::from_ed25519_seed(&[5; 32]);
        let child = SigningKey::from_ed25519_seed(&[11; 32]);
        let child_id = did_of(&child_identity).to_string();

        let mut issuer = AccreditedIssuer::new(did_of(&school), "De Linde").with_brin("12AB");
        for id in ["pupil_enrolment", "learning_results", "guardianship"] {
            issuer = issuer.accredited_for(vct(id));
        }
        let registration = VerifierRegistration::new(did_of(&verifier), "De Linde (nieuwsbrief)").with_purpose(
            RegisteredPurpose::new(
                "newsletter",
                LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
                LegalBasis::Consent,
                365,
            )
            .allow(vct("pupil_enrolment"), paths(&ENROLMENT_CLAIMS))
            .allow(vct("learning_results"), paths(&RESULTS_CLAIMS)),
        );
        let (_, trust_list) = TrustList::new(did_of(&operator), NOW - 60, NOW + 86_400 * 30)
            .with_issuer(issuer)
            .with_verifier(registration)
            .sign_and_verify(&operator, &DidUrl::parse(&kid_of(&operator)).unwrap(), NOW, 60)
            .unwrap();

        // A 1-bit status list of 1,024 entries, fresh for the whole run (the clock is fixed).
        let lists = Arc::new(InMemoryStatusLists::new());
        let uri = StatusListUri::new(STATUS_URI).unwrap();
        let token = StatusListToken::new(uri.clone(), NOW - 10, StatusList::new(Bits::One, 1024).unwrap())
            .with_ttl(3_600)
            .sign(&school, Some(&kid_of(&school)))
            .unwrap();
        lists.publish(uri, token);
        let status = StatusListCache::new(lists);

        let query = |id: &str, type_id: &str, claims: &[&str]| {
            claims.iter().fold(CredentialQuery::sd_jwt_vc(id, [vct(type_id)]), |q, c| q.claim(ClaimPath::claim(*c)))
        };
        let request = RequestBuilder::new(
            trust_list.at(NOW).unwrap(),
            &did_of(&verifier),
            "https://school.example/response",
            "newsletter",
        )
        .retention_days(365)
        .credential(query("enrolment", "pupil_enrolment", &ENROLMENT_CLAIMS))
        .credential(query("learning_results", "learning_results", &RESULTS_CLAIMS))
        .state("session-7f3a")
        .build("n-Q9v7c2LmX4pTz8Rk")
        .unwrap();

        // The child is 15: the answer needs the parent's approval.
        let enrolment = issue(
            &school,
            "pupil_enrolment",
            json!({"sub": child_id, "school_name": "De Linde", "school_brin": "12AB", "school_location": "00",
                   "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
                   "birth_date": "2011-06-01", "age_over_12": true, "age_over_16": false}),
            &child,
            Some(8),
        );
        let results = issue(
            &school,
            "learning_results",
            json!({"sub": child_id, "school_name": "De Linde", "school_brin": "12AB", "school_location": "00",
                   "test_name": "Doorstroomtoets", "test_date": "2026-02-10", "reading_level": "2F",
                   "language_level": "1F", "maths_level": "1S"}),
            &child,
            None,
        );
        let guardianship = issue(
            &school,
            "guardianship",
            json!({"guardian_id": did_of(&parent).as_str(), "child_id": child_id,
                   "relation": "parent", "valid_until": "2030-03-01"}),
            &parent,
            None,
        );
        let enrolment = present(&enrolment, &child, &ENROLMENT_CLAIMS, &request);
        let results = present(&results, &child, &RESULTS_CLAIMS, &request);
        let approved = |id: &str, presentation: &str| ApprovedPresentation {
            credential_query_id: id.into(),
            sd_hash: UnverifiedSdJwt::parse(presentation).unwrap().sd_hash(),
        };
        let approval = GuardianApproval {
            audience: request.client_id.clone(),
            nonce: request.nonce.clone(),
            issued_at: NOW,
            purpose: "newsletter".into(),
            legal_basis: LegalBasis::Consent,
            child_id: child_id.clone(),
            presentations: vec![approved("enrolment", &enrolment), approved("learning_results", &results)],
            transaction_data_hashes: vec![],
            guardianship: present(&guardianship, &parent, &[], &request),
        }
        .sign(&parent)
        .unwrap();
        let response = AuthorizationResponse::new(
            BTreeMap::from([("enrolment".to_owned(), vec![enrolment]), ("learning_results".to_owned(), vec![results])]),
            Some("session-7f3a".into()),
        );
        let body = schooltas_school::consent::with_guardian_approval(response, approval).to_form();
        World { trust_list, resolver: Resolver::offline(), status, request, body, school, child, parent }
    }

    fn context(&self) -> VerificationContext<'_> {
        VerificationContext::new(&self.trust_list, &self.resolver, &self.status, NOW)
    }

    fn response(&self) -> AuthorizationResponse {
        schooltas_school::consent::response_from_form(&self.body).unwrap()
    }

    fn options(&self) -> VerifyOptions {
        let mut options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&self.request.nonce, &self.request.client_id));
        options.clock_skew = 60;
        options
    }
}

/// The signing input (header.payload) of the issuer JWT and of the KB-JWT of a presentation.
fn signing_inputs(presentation: &str) -> [&str; 2] {
    let jwt = presentation.split('~').next().unwrap();
    let kb = presentation.rsplit('~').next().unwrap();
    [&jwt[..jwt.rfind('.').unwrap()], &kb[..kb.rfind('.').unwrap()]]
}

/// One of the 7 raw verifies: a message as long as a real signing input, signed by the key
/// that signed it, checked with plain `ed25519_dalek::VerifyingKey::verify` on a key parsed
/// beforehand — the peers' harness floor. The pipeline's own checks are strict
/// (`schooltas_did`'s `verify_strict` rules), so what strictness costs is in the ratio.
struct Floor {
    name: &'static str,
    key: ed25519_dalek::VerifyingKey,
    message: Vec<u8>,
    signature: ed25519_dalek::Signature,
}

impl Floor {
    fn new(name: &'static str, signer: &SigningKey, len: usize) -> Self {
        let message = vec![b'e'; len];
        let signature = signer.sign(&message).unwrap();
        let public: [u8; 32] = signer.verifying_key().to_compressed_bytes().try_into().unwrap();
        Floor {
            name,
            key: ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap(),
            message,
            signature: ed25519_dalek::Signature::from_bytes(signature.as_bytes()),
        }
    }

    fn verify(&self) {
        use ed25519_dalek::Verifier as _;
        self.key.verify(black_box(&self.message), &self.signature).unwrap();
    }
}

fn floors(world: &World) -> Vec<Floor> {
    let response = world.response();
    let [enrolment_jwt, enrolment_kb] = signing_inputs(&response.vp_token["enrolment"][0]);
    let [results_jwt, results_kb] = signing_inputs(&response.vp_token["learning_results"][0]);
    let approval_jwt = schooltas_school::consent::guardian_approval(&response).unwrap();
    let approval = UnverifiedGuardianApproval::parse(approval_jwt).unwrap();
    let [guardianship_jwt, guardianship_kb] = signing_inputs(approval.guardianship());
    let approval_input = &approval_jwt[..approval_jwt.rfind('.').unwrap()];
    let floors = vec![
        Floor::new("verify_enrolment_jwt", &world.school, enrolment_jwt.len()),
        Floor::new("verify_enrolment_kb", &world.child, enrolment_kb.len()),
        Floor::new("verify_results_jwt", &world.school, results_jwt.len()),
        Floor::new("verify_results_kb", &world.child, results_kb.len()),
        Floor::new("verify_guardianship_jwt", &world.school, guardianship_jwt.len()),
        Floor::new("verify_guardianship_kb", &world.parent, guardianship_kb.len()),
        Floor::new("verify_approval_jwt", &world.parent, approval_input.len()),
    ];
    println!("signing inputs (bytes):");
    for floor in &floors {
        println!("  {:<28} {:>5}", floor.name, floor.message.len());
    }
    println!("  response body {} bytes", world.body.len());
    floors
}

/// One child presentation as the pipeline verifies it: SD-JWT VC checks with the issuer key
/// from its did:key, then the status lookup when it has one.
fn verify_presentation(world: &World, presentation: &str, options: &VerifyOptions) -> VerifiedSdJwt {
    let mut issuer_key = None;
    let verified = UnverifiedSdJwt::parse(presentation)
        .unwrap()
        .verify_with(
            |header, iss| {
                let key = issuer_key_via_did(&world.resolver, header, iss)?;
                issuer_key = Some(key.clone());
                Ok(key)
            },
            options,
            NOW,
        )
        .unwrap();
    if let Some(reference) = verified.status_reference().unwrap() {
        world.status.check(&reference, issuer_key.as_ref().unwrap(), NOW).unwrap();
    }
    verified
}

/// The guardian approval step: parse, verify the guardianship presentation it carries, check
/// the approval against it (which re-parses both child presentations for their `sd_hash`).
fn verify_approval(world: &World, response: &AuthorizationResponse, options: &VerifyOptions, subject: &str) {
    let approval =
        UnverifiedGuardianApproval::parse(schooltas_school::consent::guardian_approval(response).unwrap()).unwrap();
    let guardianship = verify_presentation(world, approval.guardianship(), options);
    let presentations: Vec<ChildPresentation<'_>> = response
        .vp_token
        .iter()
        .flat_map(|(id, list)| list.iter().map(move |p| ChildPresentation::new(id, p)))
        .collect();
    let context = ApprovalContext {
        audience: &world.request.client_id,
        nonce: &world.request.nonce,
        purpose: "newsletter",
        child_presentations: &presentations,
        child_id: Some(subject),
        now: NOW,
        max_age: 600,
        skew: 60,
    };
    black_box(approval.verify(&guardianship, &context).unwrap());
}

fn bench(c: &mut Criterion) {
    let world = World::new();
    let context = world.context();
    // Warm the status cache (and check the fixture) outside the timed loop.
    let verdict = verify_response(&world.request, &world.body, &context);
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert!(verdict.guardian_approval_required && verdict.guardian_approval.is_some());
    assert_eq!(verdict.credentials.len(), 2);
    assert_eq!(world.status.len(), 1);

    let floors = floors(&world);
    let mut raw = c.benchmark_group("verifier_raw");
    for floor in &floors {
        raw.bench_function(floor.name, |b| b.iter(|| floor.verify()));
    }
    raw.bench_function("verify_all_7", |b| b.iter(|| floors.iter().for_each(Floor::verify)));
    raw.finish();

    let mut group = c.benchmark_group("verifier");
    group.bench_function("verify_response_2_credentials_guardian_warm_status", |b| {
        b.iter(|| {
            let verdict = verify_response(&world.request, black_box(&world.body), &context);
            black_box(verdict.failures.len())
        })
    });
    // Sub-steps, each timed alone with the same public API the pipeline uses.
    let response = world.response();
    let options = world.options();
    let enrolment = &response.vp_token["enrolment"][0];
    let results = &response.vp_token["learning_results"][0];
    let verified = [verify_presentation(&world, enrolment, &options), verify_presentation(&world, results, &options)];
    let presented: BTreeMap<String, Vec<PresentedCredential>> =
        [("enrolment", &verified[0]), ("learning_results", &verified[1])]
            .into_iter()
            .map(|(id, one)| (id.to_owned(), vec![PresentedCredential::from_verified(one)]))
            .collect();
    let subject = verified[0].claims()["sub"].as_str().unwrap().to_owned();
    group.bench_function("step_parse_form_body", |b| {
        b.iter(|| schooltas_school::consent::response_from_form(black_box(&world.body)).unwrap())
    });
    group.bench_function("step_verify_enrolment_presentation_with_status", |b| {
        b.iter(|| verify_presentation(&world, black_box(enrolment), &options))
    });
    group.bench_function("step_verify_results_presentation", |b| {
        b.iter(|| verify_presentation(&world, black_box(results), &options))
    });
    group.bench_function("step_dcql_check_response", |b| {
        b.iter(|| world.request.dcql_query.check_response(black_box(&presented)).unwrap())
    });
    group.bench_function("step_guardian_approval", |b| {
        b.iter(|| verify_approval(&world, black_box(&response), &options, &subject))
    });
    let jws = schooltas_did::jws::CompactJws::parse(enrolment.split('~').next().unwrap()).unwrap();
    let header = jws.header().clone();
    let did = did_of(&world.school);
    group.bench_function("step_did_key_resolve", |b| {
        b.iter(|| issuer_key_via_did(&world.resolver, black_box(&header), Some(did.as_str())).unwrap())
    });
    group.finish();

    println!();
    interleaved_ratio(
        "verifier/verify_response (7 verifies)",
        || {
            black_box(verify_response(&world.request, black_box(&world.body), &context));
        },
        || floors.iter().for_each(Floor::verify),
        101,
        5,
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    let floors: Vec<String> = [
        "verify_enrolment_jwt",
        "verify_enrolment_kb",
        "verify_results_jwt",
        "verify_results_kb",
        "verify_guardianship_jwt",
        "verify_guardianship_kb",
        "verify_approval_jwt",
    ]
    .iter()
    .map(|name| format!("verifier_raw/{name}"))
    .collect();
    let floors: Vec<&str> = floors.iter().map(String::as_str).collect();
    print_ratios(&[
        Ratio { operation: "verifier/verify_response_2_credentials_guardian_warm_status", floors: &floors },
        Ratio {
            operation: "verifier/verify_response_2_credentials_guardian_warm_status",
            floors: &["verifier_raw/verify_all_7"],
        },
        Ratio { operation: "verifier/step_verify_enrolment_presentation_with_status", floors: &floors[0..2] },
        Ratio { operation: "verifier/step_verify_results_presentation", floors: &floors[2..4] },
        Ratio { operation: "verifier/step_guardian_approval", floors: &floors[4..7] },
    ]);
    for step in ["step_parse_form_body", "step_dcql_check_response", "step_did_key_resolve"] {
        if let Some(ns) = ratios::median_ns(&format!("verifier/{step}")) {
            println!("verifier/{step:<48} {:>10.2} µs", ns / 1000.0);
        }
    }
}
