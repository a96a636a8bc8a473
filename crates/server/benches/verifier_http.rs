//! The verifier's response endpoint against the library call it wraps: a sixteen-year-old's
//! real wallet answers a newsletter request (one enrolment presentation: issuer signature, key
//! binding, status from a warm cache, the consent rule), and the answer is verified by
//! `Verifier::receive` directly and by `POST <response path>` of a running `VerifierService` on
//! loopback (a real client, ureq, one kept-alive connection). Each measured answer answers a
//! request opened for it (setup, not measured): a nonce is spent once.
//!
//! `cargo bench -p schooltas-server --bench verifier_http -- --warm-up-time 1 --measurement-time 5`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../wallet/tests/common/mod.rs"]
mod family;

use std::hint::black_box;

use criterion::{BatchSize, Criterion};
use family::{ENROLMENT, NOW, paths};
use schooltas_did::SigningKey;
use schooltas_oid4vc::oid4vp::CredentialQuery;
use schooltas_server::verifier::{VerifierConfig, VerifierService};
use schooltas_status_list::StatusListCache;
use schooltas_verifier::{RequestBuilder, VerificationContext, Verifier};
use schooltas_wallet::request::Outcome;
use schooltas_wallet::{Decision, Verifiers};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, interleaved_ratio, print_ratios};

const RESPONSE_URI: &str = "https://delinde.example/oid4vp/response";

fn query() -> CredentialQuery {
    let mut query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]);
    for path in paths(&["group", "given_name", "sub", "age_over_16"]) {
        query = query.claim(path);
    }
    query
}

fn bench(c: &mut Criterion) {
    let school = family::School::new();
    let family = family::family(&school, "pupil-17", "2010-03-01");
    school.publish();
    let trust_list = family::trust_list(&family::Verifier::new(21));
    let resolver = school.resolver();
    let key = || SigningKey::from_ed25519_seed(&[21; 32]);

    // The library: a verifier and a warm status cache.
    let desk = Verifier::new(key(), RESPONSE_URI).unwrap();
    let status = StatusListCache::new(school.lists.clone());
    let by_value = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: None };
    let answer_library = || {
        let builder = RequestBuilder::new(trust_list.at(NOW).unwrap(), desk.did(), desk.response_uri(), "newsletter")
            .retention_days(365)
            .credential(query());
        let request = desk.request(builder, NOW, 600).unwrap();
        let prompt = family.child.handle_request(&request.uri_by_value(), &by_value, NOW).unwrap();
        let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
        else {
            panic!("sixteen answers alone")
        };
        response.body
    };

    // The service on loopback, plain HTTP (TLS is a reverse proxy's job, or rustls at the door).
    let service = VerifierService::with_clock(
        Verifier::new(key(), RESPONSE_URI).unwrap(),
        trust_list.clone(),
        school.resolver(),
        StatusListCache::new(school.lists.clone()),
        "https://delinde.example/oid4vp/requests",
        VerifierConfig::default(),
        || NOW,
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    let serving = service.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            serving.serve_until(listener, std::future::pending()).await.unwrap();
        });
    });
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let fetch = |uri: &str| -> schooltas_wallet::Result<String> {
        let path = uri.strip_prefix("https://delinde.example").unwrap();
        Ok(agent.get(format!("http://{address}{path}")).call().unwrap().body_mut().read_to_string().unwrap())
    };
    let by_reference = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(&fetch) };
    let answer_service = || {
        let session =
            service.open_session("newsletter", None, |builder| builder.retention_days(365).credential(query()));
        let prompt = family.child.handle_request(&session.unwrap().uri, &by_reference, NOW).unwrap();
        let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
        else {
            panic!("sixteen answers alone")
        };
        response.body
    };
    let receive_library = |body: String| {
        let context = VerificationContext::new(&trust_list, &resolver, &status, NOW);
        let received = desk.receive(&body, &context);
        assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
    };
    let receive_http = |body: String| {
        let mut answer = agent
            .post(format!("http://{address}/oid4vp/response"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_str())
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{}", answer.body_mut().read_to_string().unwrap());
    };

    let mut group = c.benchmark_group("verifier_http");
    group.bench_function("response_library", |b| {
        b.iter_batched(answer_library, |body| receive_library(black_box(body)), BatchSize::PerIteration)
    });
    group.bench_function("response_http", |b| {
        b.iter_batched(answer_service, |body| receive_http(black_box(body)), BatchSize::PerIteration)
    });
    // The transport alone: a body that names no open request, refused at once (400).
    group.bench_function("refusal_http", |b| {
        b.iter(|| {
            let mut answer = agent
                .post(format!("http://{address}/oid4vp/response"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send("vp_token=%7B%7D")
                .unwrap();
            assert_eq!(answer.status().as_u16(), 400, "{}", answer.body_mut().read_to_string().unwrap());
        })
    });
    group.finish();

    // Interleaved: answers made ahead, then library and HTTP in turns.
    let rounds = 15;
    let per_round = 8;
    let mut library_bodies: Vec<String> = (0..rounds * per_round).map(|_| answer_library()).collect();
    let mut http_bodies: Vec<String> = (0..rounds * per_round).map(|_| answer_service()).collect();
    let paired = interleaved_ratio(
        "verifier_http/response_http ÷ response_library",
        || receive_http(http_bodies.pop().unwrap()),
        || receive_library(library_bodies.pop().unwrap()),
        rounds,
        per_round,
    );
    println!("paired ratio HTTP / library: {paired:.2}×");
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    print_ratios(&[Ratio { operation: "verifier_http/response_http", floors: &["verifier_http/response_library"] }]);
}
