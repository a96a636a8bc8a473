//! Verifiers with X.509 client ids (OpenID4VP 1.0 §5.9.3, HAIP 1.0): a request signed with
//! `sign_x509` under a certificate the trust-list operator's CA issued is answered once its
//! `x509_hash` / `x509_san_dns` client id is registered; a chain to another CA, an expired
//! certificate, one for another host or an unregistered certificate is refused by its error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    ENROLMENT, NOW, SCHOOL_DID, School, Verifier, did_of, family, newsletter_request, paths, resign, verifiers,
};
use schooltas_did::{Algorithm, Did, Signer as _, SigningKey};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, AuthorizationRequestUri, ClientId};
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{
    AccreditedIssuer, RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText};
use schooltas_wallet::Error;
use schooltas_x509::{CertificateAuthority, CertificateChain, Profile, Subject, Validity, X509Error};

const CLAIMS: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];
const HOST: &str = "delinde.example";

fn root_ca(name: &str) -> CertificateAuthority<SigningKey> {
    CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Stichting Schooltas", name).unwrap(),
        Validity::days_from(NOW - 86_400, 3650).unwrap(),
        Some(0),
        Profile::Haip,
    )
    .unwrap()
}

/// A verifier with a P-256 key (HAIP: ES256).
fn es256_verifier() -> Verifier {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let did = did_of(&key);
    Verifier { key, did }
}

/// `verifier`'s certificate for `host` from `ca`, valid over `validity`.
fn certificate(
    ca: &CertificateAuthority<SigningKey>,
    verifier: &Verifier,
    host: &str,
    validity: Validity,
) -> CertificateChain {
    ca.issue_verifier_certificate(
        verifier.key.verifying_key(),
        host,
        &Subject::new("Basisschool De Linde", "De Linde nieuwsbrief").unwrap(),
        validity,
    )
    .unwrap()
    .into_chain()
}

fn valid() -> Validity {
    Validity::days_from(NOW - 3600, 365).unwrap()
}

/// The school accredited for every standard type, `anchor` as X.509 trust anchor, and the
/// verifier registered for the newsletter under `client_ids`.
fn trust_list(verifier: &Verifier, anchor: &[u8], client_ids: &[String]) -> VerifiedTrustList {
    let mut school = AccreditedIssuer::new(Did::parse(SCHOOL_DID).unwrap(), "Basisschool De Linde").with_brin("12AB");
    for credential_type in Catalog::standard().iter() {
        school = school.accredited_for(credential_type.vct().as_str());
    }
    let mut registration = VerifierRegistration::new(verifier.did.clone(), "Basisschool De Linde (nieuwsbrief)")
        .with_purpose(
            RegisteredPurpose::new(
                "newsletter",
                LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
                LegalBasis::Consent,
                365,
            )
            .allow(ENROLMENT, paths(&CLAIMS)),
        );
    for client_id in client_ids {
        registration = registration.with_client_id(client_id.clone());
    }
    let operator = SigningKey::from_ed25519_seed(&[9; 32]);
    resign(
        TrustList::new(did_of(&operator), NOW - 3600, NOW + 400 * 86_400)
            .with_x509_trust_anchor(anchor)
            .with_issuer(school)
            .with_verifier(registration),
    )
}

/// The newsletter request under `client`, signed with `sign_x509` and `chain`, as a URI.
fn x509_request_uri(
    verifier: &Verifier,
    client: &ClientId,
    chain: &CertificateChain,
) -> (AuthorizationRequest, String) {
    let request = newsletter_request(verifier, &CLAIMS).with_client_id(client);
    let jwt = request.sign_x509(&verifier.key, chain.certificates(), NOW, 600, None).unwrap();
    let uri = AuthorizationRequestUri::ByValue { client_id: request.client_id.clone(), request_jwt: jwt }.to_uri();
    (request, uri)
}

fn x509_hash(chain: &CertificateChain) -> ClientId {
    ClientId::X509Hash(chain.leaf_x509_hash())
}

#[test]
fn a_request_signed_under_a_registered_x509_hash_certificate_is_answered() {
    let school = School::new();
    let verifier = es256_verifier();
    let ca = root_ca("Schooltas Root CA");
    let chain = certificate(&ca, &verifier, HOST, valid());
    let client = x509_hash(&chain);
    let trust = trust_list(&verifier, ca.certificate_der(), &[client.to_string()]);
    assert_eq!(client.to_string(), format!("x509_hash:{}", chain.leaf_x509_hash()));
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", "2014-09-01");
    let (_, uri) = x509_request_uri(&verifier, &client, &chain);
    let prompt = family.child.handle_request(&uri, &verifiers(&trust, &resolver), NOW).unwrap();
    assert_eq!(prompt.verifier_name, "Basisschool De Linde (nieuwsbrief)");
    assert!(prompt.answerable);
}

#[test]
fn a_request_signed_under_a_registered_x509_san_dns_certificate_is_answered() {
    let school = School::new();
    let verifier = es256_verifier();
    let ca = root_ca("Schooltas Root CA");
    let chain = certificate(&ca, &verifier, HOST, valid());
    let client = ClientId::X509SanDns(HOST.into());
    let trust = trust_list(&verifier, ca.certificate_der(), &[client.to_string()]);
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", "2014-09-01");
    let (_, uri) = x509_request_uri(&verifier, &client, &chain);
    let prompt = family.child.handle_request(&uri, &verifiers(&trust, &resolver), NOW).unwrap();
    assert!(prompt.answerable);
}

#[test]
fn a_certificate_from_a_ca_the_trust_list_does_not_anchor_is_refused() {
    let school = School::new();
    let verifier = es256_verifier();
    let ca = root_ca("Schooltas Root CA");
    let rogue_ca = root_ca("Another Root CA");
    let rogue = certificate(&rogue_ca, &verifier, HOST, valid());
    // Even registered by its hash, the certificate must lead to the list's anchor.
    let trust = trust_list(&verifier, ca.certificate_der(), &[x509_hash(&rogue).to_string()]);
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", "2014-09-01");
    let (_, uri) = x509_request_uri(&verifier, &x509_hash(&rogue), &rogue);
    let error = family.child.handle_request(&uri, &verifiers(&trust, &resolver), NOW).unwrap_err();
    assert!(matches!(error, Error::UntrustedVerifierCertificate(X509Error::UnknownAnchor)), "{error}");
}

#[test]
fn an_expired_verifier_certificate_is_refused() {
    let school = School::new();
    let verifier = es256_verifier();
    let ca = root_ca("Schooltas Root CA");
    let expired = certificate(&ca, &verifier, HOST, Validity::new(NOW - 86_000, NOW - 3600).unwrap());
    let trust = trust_list(&verifier, ca.certificate_der(), &[x509_hash(&expired).to_string()]);
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", "2014-09-01");
    let (_, uri) = x509_request_uri(&verifier, &x509_hash(&expired), &expired);
    let error = family.child.handle_request(&uri, &verifiers(&trust, &resolver), NOW).unwrap_err();
    assert!(matches!(error, Error::UntrustedVerifierCertificate(X509Error::Expired { position: 0, .. })), "{error}");
}

#[test]
fn another_certificate_than_the_registered_one_is_refused() {
    let school = School::new();
    let verifier = es256_verifier();
    let ca = root_ca("Schooltas Root CA");
    let registered = certificate(&ca, &verifier, HOST, valid());
    let other = certificate(&ca, &verifier, HOST, valid());
    let trust = trust_list(&verifier, ca.certificate_der(), &[x509_hash(&registered).to_string()]);
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", "2014-09-01");
    let (_, uri) = x509_request_uri(&verifier, &x509_hash(&other), &other);
    let error = family.child.handle_request(&uri, &verifiers(&trust, &resolver), NOW).unwrap_err();
    assert!(matches!(error, Error::VerifierNotRegistered { .. }), "{error}");
}

#[test]
fn an_x509_san_dns_certificate_for_another_host_is_refused() {
    let school = School::new();
    let verifier = es256_verifier();
    let ca = root_ca("Schooltas Root CA");
    let elsewhere = certificate(&ca, &verifier, "other.example", valid());
    let client = ClientId::X509SanDns(HOST.into());
    let trust = trust_list(&verifier, ca.certificate_der(), &[client.to_string()]);
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", "2014-09-01");
    let (_, uri) = x509_request_uri(&verifier, &client, &elsewhere);
    let error = family.child.handle_request(&uri, &verifiers(&trust, &resolver), NOW).unwrap_err();
    assert!(matches!(error, Error::VerifierCertificateNameMismatch), "{error}");
}

#[test]
fn a_did_verifier_is_still_verified_through_its_did() {
    let school = School::new();
    let verifier = Verifier::new(21);
    let ca = root_ca("Schooltas Root CA");
    let trust = trust_list(&verifier, ca.certificate_der(), &[]);
    let resolver = school.resolver();
    let family = family(&school, "pupil-1", "2014-09-01");
    let request = newsletter_request(&verifier, &CLAIMS);
    let prompt =
        family.child.handle_request(&verifier.request_uri(&request, NOW), &verifiers(&trust, &resolver), NOW).unwrap();
    assert!(prompt.answerable);
}
