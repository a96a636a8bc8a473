//! Whom a status list token may be signed by (`status_list_signer_key`): the credential's own
//! key, or a separate key whose `x5c` chain leads to the trust anchors, names the credential's
//! issuer and carries the status list signing EKU. One test per refusal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use schooltas_did::jws::Header;
use schooltas_did::{Algorithm, Signer as _, SigningKey};
use schooltas_status_list::{
    Bits, Error, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri, StatusReference,
    StatusSignerRefusal, UnverifiedStatusListToken, status_list_signer_key,
};
use schooltas_x509::{CertificateAuthority, Profile, Subject, Validity};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const ISS: &str = "https://school.example/issuer";
const URI: &str = "https://school.example/status/enrolment";

struct Pki {
    root: CertificateAuthority<SigningKey>,
    school: SigningKey,
    school_chain: serde_json::Value,
    status: SigningKey,
}

fn subject() -> Subject {
    Subject::new("OBS De Linde", "OBS De Linde issuer").unwrap()
}

fn validity(from_days: i64, to_days: i64) -> Validity {
    Validity::new(NOW + from_days * DAY, NOW + to_days * DAY).unwrap()
}

fn pki() -> Pki {
    let root = CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Stichting Schooltas", "Schooltas Root CA").unwrap(),
        validity(-10, 3650),
        Some(0),
        Profile::Haip,
    )
    .unwrap();
    let school = SigningKey::generate(Algorithm::Es256).unwrap();
    let school_chain = root
        .issue_issuer_certificate(school.verifying_key(), ISS, &subject(), validity(-1, 365))
        .unwrap()
        .chain()
        .to_x5c();
    let status = SigningKey::generate(Algorithm::Es256).unwrap();
    Pki { root, school, school_chain, status }
}

impl Pki {
    fn anchors(&self) -> Vec<Vec<u8>> {
        vec![self.root.certificate_der().to_vec()]
    }

    fn status_chain(&self, iss: &str, validity: Validity) -> serde_json::Value {
        self.root
            .issue_status_list_certificate(self.status.verifying_key(), iss, &subject(), validity)
            .unwrap()
            .chain()
            .to_x5c()
    }
}

fn token(signer: &SigningKey, x5c: Option<&serde_json::Value>) -> String {
    let list = StatusList::new(Bits::One, 1 << 10).unwrap();
    StatusListToken::new(StatusListUri::new(URI).unwrap(), NOW, list).sign_with_x5c(signer, None, x5c).unwrap()
}

fn header(jwt: &str) -> Header {
    UnverifiedStatusListToken::parse(jwt).unwrap().header().clone()
}

fn refusal(result: schooltas_status_list::Result<schooltas_did::VerifyingKey>) -> StatusSignerRefusal {
    match result {
        Err(Error::UntrustedStatusSigner { refusal }) => refusal,
        other => panic!("expected UntrustedStatusSigner, got {other:?}"),
    }
}

#[test]
fn separate_status_key_with_the_eku_is_accepted() {
    let pki = pki();
    let jwt = token(&pki.status, Some(&pki.status_chain(ISS, validity(-1, 30))));
    let key = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), || pki.anchors(), NOW).unwrap();
    assert_eq!(&key, pki.status.verifying_key());
}

#[test]
fn the_issuers_own_certificate_is_accepted_without_the_eku() {
    let pki = pki();
    let jwt = token(&pki.school, Some(&pki.school_chain));
    let key = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), || pki.anchors(), NOW).unwrap();
    assert_eq!(&key, pki.school.verifying_key());
}

#[test]
fn without_x5c_the_credentials_key_is_expected() {
    let pki = pki();
    let jwt = token(&pki.school, None);
    let key = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), || unreachable!(), NOW).unwrap();
    assert_eq!(&key, pki.school.verifying_key());
}

#[test]
fn fail_chain_to_an_unknown_anchor() {
    let pki = pki();
    let other = pki_other_root();
    let jwt = token(&pki.status, Some(&pki.status_chain(ISS, validity(-1, 30))));
    let got = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), || other, NOW);
    assert_eq!(refusal(got), StatusSignerRefusal::UnknownAnchor);
}

/// Another trust list operator's root (another name, another key).
fn pki_other_root() -> Vec<Vec<u8>> {
    let other = CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Andere Stichting", "Other Root CA").unwrap(),
        validity(-10, 3650),
        Some(0),
        Profile::Haip,
    )
    .unwrap();
    vec![other.certificate_der().to_vec()]
}

#[test]
fn fail_separate_key_without_the_status_eku() {
    let pki = pki();
    // An issuer certificate (no EKU) for another key: not a delegation of status signing.
    let chain =
        pki.root.issue_issuer_certificate(pki.status.verifying_key(), ISS, &subject(), validity(-1, 30)).unwrap();
    let jwt = token(&pki.status, Some(&chain.chain().to_x5c()));
    let got = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), || pki.anchors(), NOW);
    assert_eq!(refusal(got), StatusSignerRefusal::MissingStatusSigningEku);
}

#[test]
fn fail_status_certificate_for_another_issuer() {
    let pki = pki();
    let jwt = token(&pki.status, Some(&pki.status_chain("https://other-school.example/issuer", validity(-1, 30))));
    let got = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), || pki.anchors(), NOW);
    assert_eq!(refusal(got), StatusSignerRefusal::OtherIssuer);
}

#[test]
fn fail_expired_status_certificate() {
    let pki = pki();
    let jwt = token(&pki.status, Some(&pki.status_chain(ISS, validity(-30, -1))));
    let got = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), || pki.anchors(), NOW);
    assert_eq!(refusal(got), StatusSignerRefusal::Expired);
}

#[test]
fn fail_x5c_for_a_did_issuer() {
    let pki = pki();
    let jwt = token(&pki.status, Some(&pki.status_chain(ISS, validity(-1, 30))));
    let got = status_list_signer_key(
        &header(&jwt),
        "did:web:school.example",
        pki.school.verifying_key(),
        || pki.anchors(),
        NOW,
    );
    assert_eq!(refusal(got), StatusSignerRefusal::DidIssuerWithX5c);
}

#[test]
fn fail_malformed_x5c_and_no_anchors() {
    let pki = pki();
    let jwt = token(&pki.status, Some(&serde_json::json!(["not base64!"])));
    let got = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), || pki.anchors(), NOW);
    assert_eq!(refusal(got), StatusSignerRefusal::MalformedChain);
    let jwt = token(&pki.status, Some(&pki.status_chain(ISS, validity(-1, 30))));
    let got = status_list_signer_key(&header(&jwt), ISS, pki.school.verifying_key(), Vec::new, NOW);
    assert_eq!(refusal(got), StatusSignerRefusal::NoTrustAnchors);
}

#[test]
fn the_cache_rechecks_the_certificate_of_a_cached_token() {
    // The list is cached for a day; its status certificate expires within it. A lookup after
    // the certificate's notAfter is refused although the token itself is still fresh.
    let pki = pki();
    let uri = StatusListUri::new(URI).unwrap();
    let x5c = pki.status_chain(ISS, Validity::new(NOW - DAY, NOW + 3_600).unwrap());
    let list = StatusList::new(Bits::One, 1 << 10).unwrap();
    let jwt = StatusListToken::new(uri.clone(), NOW, list)
        .with_ttl(86_400)
        .sign_with_x5c(&pki.status, None, Some(&x5c))
        .unwrap();
    let published = Arc::new(InMemoryStatusLists::new());
    published.publish(uri.clone(), jwt);
    let cache = StatusListCache::new(published.clone());
    let reference = StatusReference::new(uri, 3);
    let pki = &pki;
    let key_for = |now: i64| {
        let anchors = pki.anchors();
        move |header: &Header, _: Option<&str>| {
            status_list_signer_key(header, ISS, pki.school.verifying_key(), || anchors.clone(), now)
        }
    };
    cache.check_with(&reference, key_for(NOW + 60), NOW + 60).unwrap();
    let later = NOW + 7_200;
    let err = cache.check_with(&reference, key_for(later), later).unwrap_err();
    assert!(matches!(err, Error::UntrustedStatusSigner { refusal: StatusSignerRefusal::Expired }), "{err:?}");
    assert_eq!(published.fetch_count(), 1, "the second lookup used the cached token");
}
