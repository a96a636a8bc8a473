//! The EU profile's discovery documents over loopback HTTP: a school that names itself by its
//! `https` identifier serves its JWT VC Issuer Metadata (SD-JWT VC §5), every catalog type's
//! Type Metadata is served at its `vct` path byte for byte as `vct#integrity` pins it, and a
//! credential verifies with nothing but what those documents say.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{NOW, Running};
use schooltas_did::{Signer as _, VerifyingKey};
use schooltas_issuer::Issuer;
use schooltas_sd_jwt::type_metadata::{Disclosability, TypeMetadata, TypeMetadataError};
use schooltas_sd_jwt::{ClaimPath, UnverifiedSdJwt, VerifyOptions};
use schooltas_server::ServiceConfig;

const ISSUER_URL: &str = "https://scholen.example/12AB00";

fn issue(service: &schooltas_server::IssuerService<schooltas_issuer::store::SqliteStore>) -> String {
    let key = schooltas_did::SigningKey::from_ed25519_seed(&[9; 32]);
    let claims = common::administration("pupil-17", "pupil_enrolment").unwrap();
    service
        .with_issuer(|issuer| issuer.issue("pupil_enrolment", "pupil-17", claims, key.verifying_key(), NOW))
        .unwrap()
        .copies()[0]
        .clone()
}

fn eu_school() -> Issuer<schooltas_issuer::store::SqliteStore> {
    let mut issuer = common::school(ISSUER_URL, "did:web:scholen.example:12AB00");
    let profile = issuer.profile_mut();
    profile.rotate_key("key-2", schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap()).unwrap();
    *profile = profile.clone().with_https_identity().unwrap();
    issuer
}

#[test]
fn the_jwt_vc_issuer_metadata_names_every_key_and_verifies_the_credentials() {
    let service = common::service(eu_school(), ServiceConfig::default());
    let server = Running::start(service.clone(), ISSUER_URL);
    // SD-JWT VC §5: the well-known segment goes between the host and the path of `iss`.
    let metadata = server.get("/.well-known/jwt-vc-issuer/12AB00");
    assert_eq!(metadata.status, 200);
    assert_eq!(metadata.header("content-type"), Some("application/json"));
    assert_eq!(metadata.header("cache-control"), Some("max-age=3600"));
    let metadata = metadata.json();
    assert_eq!(metadata["issuer"], ISSUER_URL);
    let keys = metadata["jwks"]["keys"].as_array().unwrap();
    // The active key and the retired one, so credentials signed before still verify.
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, ["key-2", "key-1"]);
    assert_eq!(keys[0]["alg"], "ES256");
    assert!(keys.iter().all(|k| k.get("d").is_none()), "public members only");

    // A credential names the school by that identifier, and its kid is the JWK set's.
    let credential = issue(&service);
    let verified = UnverifiedSdJwt::parse(&credential)
        .unwrap()
        .verify_with(
            |header, iss| {
                assert_eq!(iss, Some(ISSUER_URL));
                let jwk = keys.iter().find(|k| Some(k["kid"].as_str().unwrap()) == header.kid()).unwrap();
                Ok(VerifyingKey::from_jwk(jwk.as_object().unwrap())?)
            },
            &VerifyOptions::sd_jwt_vc_as_issued(),
            NOW,
        )
        .unwrap();
    assert_eq!(verified.issuer(), Some(ISSUER_URL));

    // A school named by its DID serves no such document.
    let did_school =
        common::service(common::school(ISSUER_URL, "did:web:scholen.example:12AB00"), ServiceConfig::default());
    let server = Running::start(did_school, ISSUER_URL);
    assert_eq!(server.get("/.well-known/jwt-vc-issuer/12AB00").status, 404);
}

#[test]
fn every_type_metadata_document_is_served_as_its_integrity_pins_it() {
    let service = common::service(eu_school(), ServiceConfig::default());
    let server = Running::start(service.clone(), ISSUER_URL);
    let catalog = schooltas_school::catalog::Catalog::standard();
    assert!(catalog.iter().count() >= 5);
    for credential_type in catalog.iter() {
        let vct = credential_type.vct().as_str();
        let path = format!("/{}", vct.strip_prefix("https://").unwrap().split_once('/').unwrap().1);
        let served = server.get(&path);
        assert_eq!(served.status, 200, "{vct}");
        assert_eq!(served.header("cache-control"), Some("max-age=3600"));
        let parsed =
            TypeMetadata::parse_pinned(served.body.as_bytes(), vct, Some(credential_type.type_metadata_integrity()))
                .unwrap();
        assert_eq!(parsed.display.len(), 2, "Dutch and English");
        assert_eq!(parsed.display_for("nl").unwrap().name, credential_type.name().nl);
        assert_eq!(parsed.display_for("en").unwrap().name, credential_type.name().en);
        // Per claim: labels in both languages, mandatory and sd as the catalog defines them.
        for claim in credential_type.claims() {
            let entry = parsed.claims.iter().find(|c| c.path == claim.path).unwrap();
            assert_eq!(entry.mandatory, claim.required);
            assert_eq!(entry.sd, Some(if claim.disclosable { Disclosability::Always } else { Disclosability::Never }));
            assert_eq!(entry.display.len(), 2);
        }
        // The wrong type's document is refused, as is one changed by a single byte.
        assert_eq!(
            TypeMetadata::parse_pinned(served.body.as_bytes(), "https://schooltas.nl/credentials/other/v1", None),
            Err(TypeMetadataError::WrongVct)
        );
        let mut changed = served.body.clone().into_bytes();
        let last = changed.len() - 2;
        changed[last] ^= 0x20;
        assert_eq!(
            TypeMetadata::parse_pinned(&changed, vct, Some(credential_type.type_metadata_integrity())),
            Err(TypeMetadataError::IntegrityMismatch)
        );
    }

    // Every credential pins its type's metadata (`vct#integrity`, never disclosable).
    let credential = issue(&service);
    let school_key = service.with_issuer(|issuer| issuer.profile().keys().signer().verifying_key().clone());
    let verified = UnverifiedSdJwt::parse(&credential)
        .unwrap()
        .verify(&school_key, &VerifyOptions::sd_jwt_vc_as_issued(), NOW)
        .unwrap();
    let enrolment = catalog.get("pupil_enrolment").unwrap();
    assert_eq!(verified.claims()["vct#integrity"], enrolment.type_metadata_integrity());
    assert!(!verified.disclosed_paths().contains(&ClaimPath::claim("vct#integrity")));
}

// Certificate chains attached to the school's keys are checked when the service starts.

fn ca() -> schooltas_x509::CertificateAuthority<schooltas_did::SigningKey> {
    schooltas_x509::CertificateAuthority::root(
        schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap(),
        schooltas_x509::Subject::new("Stichting Schooltas", "Schooltas Root CA").unwrap(),
        schooltas_x509::Validity::new(NOW - 86_400, NOW + 3650 * 86_400).unwrap(),
        Some(0),
        schooltas_x509::Profile::Haip,
    )
    .unwrap()
}

fn status_chain(
    ca: &schooltas_x509::CertificateAuthority<schooltas_did::SigningKey>,
    key: &VerifyingKey,
    validity: schooltas_x509::Validity,
) -> Vec<Vec<u8>> {
    let subject = schooltas_x509::Subject::new("Basisschool De Linde", "De Linde issuer").unwrap();
    ca.issue_status_list_certificate(key, ISSUER_URL, &subject, validity).unwrap().into_chain().certificates().to_vec()
}

/// The EU school with a separate status list key `status` carrying `chain`.
fn eu_school_with_status_key(
    status: schooltas_did::SigningKey,
    chain: Vec<Vec<u8>>,
) -> Issuer<schooltas_issuer::store::SqliteStore> {
    let mut issuer = eu_school();
    let profile = issuer.profile_mut();
    let keys = profile.keys().clone().with_status_list_key("status-1", status, chain).unwrap();
    let location = profile.location().clone();
    let rebuilt =
        schooltas_issuer::SchoolProfile::new(profile.name(), location, profile.did().clone(), ISSUER_URL, keys)
            .unwrap()
            .with_https_identity()
            .unwrap();
    *profile = rebuilt;
    issuer
}

fn start(issuer: Issuer<schooltas_issuer::store::SqliteStore>) -> schooltas_server::Result<()> {
    schooltas_server::IssuerService::with_clock(issuer, common::administration, ServiceConfig::default(), || NOW)
        .map(|_| ())
}

#[test]
fn the_service_refuses_to_start_with_a_chain_that_does_not_certify_its_key() {
    let ca = ca();
    let status = schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap();
    let someone_else = schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap();
    let valid = schooltas_x509::Validity::new(NOW - 3600, NOW + 365 * 86_400).unwrap();
    let chain = status_chain(&ca, someone_else.verifying_key(), valid);
    let error = start(eu_school_with_status_key(status, chain)).unwrap_err();
    assert!(
        matches!(
            &error,
            schooltas_server::Error::Issuer(schooltas_issuer::Error::CertificateChain {
                kid,
                problem: schooltas_issuer::ChainProblem::OtherKey
            }) if kid == "status-1"
        ),
        "{error}"
    );
    assert!(error.to_string().contains("\"status-1\""), "{error}");
}

#[test]
fn the_service_refuses_to_start_with_an_expired_certificate() {
    let ca = ca();
    let status = schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap();
    let expired = schooltas_x509::Validity::new(NOW - 30 * 86_400, NOW - 60).unwrap();
    let chain = status_chain(&ca, status.verifying_key(), expired);
    let error = start(eu_school_with_status_key(status, chain)).unwrap_err();
    assert!(
        matches!(
            &error,
            schooltas_server::Error::Issuer(schooltas_issuer::Error::CertificateChain {
                kid,
                problem: schooltas_issuer::ChainProblem::Expired { .. }
            }) if kid == "status-1"
        ),
        "{error}"
    );
}

#[test]
fn a_school_with_a_certified_status_key_serves_status_lists_carrying_its_chain() {
    let ca = ca();
    let status = schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap();
    let status_public = status.verifying_key().clone();
    let valid = schooltas_x509::Validity::new(NOW - 3600, NOW + 365 * 86_400).unwrap();
    let chain = status_chain(&ca, &status_public, valid);
    let service = common::service(eu_school_with_status_key(status, chain.clone()), ServiceConfig::default());
    let credential = issue(&service);
    let reference = UnverifiedSdJwt::parse(&credential)
        .unwrap()
        .verify_with(
            |_, _| Ok(service.with_issuer(|i| i.profile().keys().signer().verifying_key().clone())),
            &VerifyOptions::sd_jwt_vc_as_issued(),
            NOW,
        )
        .unwrap()
        .status_reference()
        .unwrap()
        .unwrap();
    let server = Running::start(service.clone(), ISSUER_URL);
    let response = server.get_url(reference.uri().as_str());
    assert_eq!(response.status, 200);
    let parsed = schooltas_status_list::UnverifiedStatusListToken::parse(response.body.trim()).unwrap();
    assert_eq!(parsed.header().kid(), Some("status-1"));
    let x5c = schooltas_x509::CertificateChain::from_x5c(parsed.header().get("x5c").unwrap()).unwrap();
    assert_eq!(x5c.certificates(), chain.as_slice());
    parsed.verify(&status_public, &schooltas_status_list::StatusListTokenOptions::default(), NOW).unwrap();
}
