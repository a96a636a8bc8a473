//! A school for independent OpenID4VC implementations to talk to: the issuer service and the
//! newsletter desk's verifier service over TLS on 127.0.0.1 (the test CA's `localhost`
//! certificate, `crates/server/tests/tls/`), an offer with its PIN, and an open verifier
//! session. It prints one JSON line with what a client needs, then serves until its standard
//! input closes; a second line on stdout follows every `status` line read on stdin (the
//! credentials issued about the pupil, the session's outcome), so a driving script can check
//! what the other implementation achieved.
//!
//! `interop/oid4vc_ts.sh` drives it with the OpenWallet Foundation's oid4vc-ts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use schooltas_did::{Did, Signer as _, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Error, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_oid4vc::oid4vp::CredentialQuery;
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{AccreditedIssuer, RegisteredPurpose, TrustList, VerifierRegistration};
use schooltas_school::{LegalBasis, LocalizedText};
use schooltas_sd_jwt::ClaimPath;
use schooltas_server::verifier::{SessionOutcome, VerifierConfig, VerifierService};
use schooltas_server::{IssuerService, ServiceConfig, TlsConfig};
use schooltas_status_list::StatusListCache;
use schooltas_verifier::Verifier;
use serde_json::{Map, Value, json};

fn tls_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls").join(name)
}

fn did_key(key: &SigningKey) -> Did {
    schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(key.verifying_key().clone()))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let bind = || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        listener
    };
    let (issuer_listener, desk_listener) = (bind(), bind());
    let origin = format!("https://localhost:{}", issuer_listener.local_addr().unwrap().port());
    let desk_origin = format!("https://localhost:{}", desk_listener.local_addr().unwrap().port());
    let did = Did::parse(&format!("did:web:localhost%3A{}", issuer_listener.local_addr().unwrap().port())).unwrap();

    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap(),
        did.clone(),
        &origin,
        SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
    )
    .unwrap();
    let issuer = Issuer::new(
        profile,
        Catalog::standard(),
        SqliteStore::in_memory().unwrap(),
        StatusPolicy::new(format!("{origin}/status")),
    );
    let administration = |subject: &str, config_id: &str| -> Result<Map<String, Value>, Error> {
        match config_id {
            "pupil_enrolment" => {
                Ok(json!({"sub": subject, "school_name": "Basisschool De Linde", "school_brin": "12AB",
                "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
                "family_name": "de Vries", "birth_date": "2010-03-01", "age_over_12": true, "age_over_16": true})
                .as_object()
                .cloned()
                .unwrap())
            }
            _ => Err(Error::UnknownCredential { id: subject.to_owned() }),
        }
    };
    let service = IssuerService::new(issuer, administration, ServiceConfig::default()).unwrap();
    let offer = service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()]).unwrap();

    // The desk, registered for the newsletter in a trust list that accredits the school.
    let desk_key = SigningKey::from_ed25519_seed(&[31; 32]);
    let enrolment = Catalog::standard().get("pupil_enrolment").unwrap().vct().as_str().to_owned();
    let operator = SigningKey::from_ed25519_seed(&[90; 32]);
    let operator_did = did_key(&operator);
    let mut accredited = AccreditedIssuer::new(did.clone(), "Basisschool De Linde").with_brin("12AB");
    for credential_type in Catalog::standard().iter() {
        accredited = accredited.accredited_for(credential_type.vct().as_str());
    }
    let registration = VerifierRegistration::new(did_key(&desk_key), "De Linde — nieuwsbrief").with_purpose(
        RegisteredPurpose::new(
            "newsletter",
            LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
            LegalBasis::Consent,
            365,
        )
        .allow(&enrolment, ["given_name", "group", "sub", "age_over_16"].map(ClaimPath::claim)),
    );
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let kid = schooltas_did::DidUrl::parse(&format!("{operator_did}#{}", operator_did.method_specific_id())).unwrap();
    let (_, trust_list) = TrustList::new(operator_did, now - 3600, now + 86_400)
        .with_issuer(accredited)
        .with_verifier(registration)
        .sign_and_verify(&operator, &kid, now, 60)
        .unwrap();
    let client = schooltas_did::net::GuardedClient::new("schooltas-interop")
        .with_trust_anchors_pem(&std::fs::read(tls_file("ca.pem")).unwrap())
        .unwrap()
        .dangerous_allow_private_addresses();
    let resolver = schooltas_did::Resolver::with_web_fetcher(
        schooltas_did::did_web::HttpsFetcher::new().with_client(client.clone()),
    );
    let status_fetcher = schooltas_verifier::HttpsStatusListFetcher::new().with_client(client);
    let status = StatusListCache::new(move |uri: &schooltas_status_list::StatusListUri| {
        use schooltas_status_list::StatusListFetcher as _;
        status_fetcher.fetch(uri)
    });
    let desk = VerifierService::new(
        Verifier::new(desk_key, format!("{desk_origin}/oid4vp/response")).unwrap(),
        trust_list,
        resolver,
        status,
        &format!("{desk_origin}/oid4vp/requests"),
        VerifierConfig { request_uri_method_post: true, ..VerifierConfig::default() },
    )
    .unwrap();
    let session = desk
        .open_session("newsletter", None, |builder| {
            let mut query = CredentialQuery::sd_jwt_vc("enrolment", [enrolment.as_str()]);
            for name in ["given_name", "group", "age_over_16"] {
                query = query.claim(ClaimPath::claim(name));
            }
            builder.retention_days(30).credential(query)
        })
        .unwrap();

    let tls = TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key")).unwrap();
    {
        let _entered = runtime.enter();
        let issuer_listener = tokio::net::TcpListener::from_std(issuer_listener).unwrap();
        let desk_listener = tokio::net::TcpListener::from_std(desk_listener).unwrap();
        let (serving, tls_issuer) = (service.clone(), tls.clone());
        runtime
            .spawn(async move { serving.serve_tls_until(issuer_listener, tls_issuer, std::future::pending()).await });
        let serving = desk.clone();
        runtime.spawn(async move { serving.serve_tls_until(desk_listener, tls, std::future::pending()).await });
    }
    println!(
        "{}",
        json!({
            "credential_offer_uri": offer.uri.as_str(),
            "tx_code": offer.pin.as_ref().map(|pin| pin.as_str()),
            "credential_issuer": origin,
            "issuer_did": did.as_str(),
            "openid4vp_uri": session.uri,
            "verifier_client_id": format!("decentralized_identifier:{}", did_key(&SigningKey::from_ed25519_seed(&[31; 32]))),
        })
    );
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "status" {
            let issued = service.with_issuer(|issuer| issuer.credentials_of("pupil-17").unwrap());
            let outcome = match desk.outcome(&session.id) {
                Some(SessionOutcome::Accepted { verdict, .. }) => {
                    json!({"status": "accepted", "claims": verdict.claims("enrolment").cloned()})
                }
                Some(SessionOutcome::Pending { last_refusal }) => json!({"status": "pending",
                    "last_refusal": last_refusal.map(|f| f.iter().map(ToString::to_string).collect::<Vec<_>>())}),
                Some(SessionOutcome::Declined { error }) => json!({"status": "declined", "error": error}),
                _ => json!({"status": "unknown"}),
            };
            let copies: Vec<u32> = issued.iter().map(|c| c.copies).collect();
            println!("{}", json!({"credentials_issued": issued.len(), "copies": copies, "session": outcome}));
        }
    }
}
