//! Issuers named by an `https` identifier (the EU profile): accredited in the trust list by
//! their `issuer_uri`, their key found through JWT VC Issuer Metadata (SD-JWT VC §5) — fetched
//! only after the trust list accredits the issuer — and every refusal by its check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use schooltas_did::{Algorithm, Did, DidUrl, PublicKey, Resolver, Signer, SigningKey, did_key};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, AuthorizationResponse, CredentialQuery};
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{
    AccreditedIssuer, RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration,
};
use schooltas_school::{LegalBasis, LocalizedText};
use schooltas_sd_jwt::{ClaimPath, HolderSdJwt, KeyBindingInput, RandomSalts};
use schooltas_status_list::{
    Bits, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri, StatusReference,
    StatusSignerRefusal, StatusValue,
};
use schooltas_verifier::{Check, Error, IssuerMetadataFetcher, RequestBuilder, VerificationContext, verify_response};
use schooltas_x509::{CertificateAuthority, Profile, Subject, Validity};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://scholen.example/12AB00";
const METADATA_URL: &str = "https://scholen.example/.well-known/jwt-vc-issuer/12AB00";
const ASKED: [&str; 3] = ["group", "sub", "age_over_16"];

fn did_of(key: &SigningKey) -> Did {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()))
}

/// Serves documents from memory and records every URL asked for.
#[derive(Default)]
struct Documents {
    served: BTreeMap<String, Vec<u8>>,
    asked: Mutex<Vec<String>>,
}

impl IssuerMetadataFetcher for Documents {
    fn fetch_json(&self, url: &str) -> schooltas_verifier::Result<Vec<u8>> {
        self.asked.lock().unwrap().push(url.to_owned());
        self.served.get(url).cloned().ok_or(Error::Fetch { uri: url.to_owned(), reason: "404".into() })
    }
}

struct World {
    school: SigningKey,
    verifier: SigningKey,
    trust_list: VerifiedTrustList,
    lists: Arc<InMemoryStatusLists>,
    status: StatusListCache,
}

impl World {
    fn new() -> Self {
        Self::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), None)
    }

    /// A world whose trust list has `anchor` (a CA certificate, DER) as X.509 trust anchor.
    fn with_school_and_anchor(school: SigningKey, anchor: Option<&[u8]>) -> Self {
        let verifier = SigningKey::from_ed25519_seed(&[2; 32]);
        let trust_list = trust_list_with(&school, &did_of(&verifier), anchor, &[]);
        let lists = Arc::new(InMemoryStatusLists::new());
        World { school, verifier, trust_list, status: StatusListCache::new(lists.clone()), lists }
    }
}

/// The trust list: `school` accredited as `ISS` for the enrolment, the verifier `verifier`
/// registered for the membership under its DID and `client_ids`, `anchor` as X.509 anchor.
fn trust_list_with(
    school: &SigningKey,
    verifier: &Did,
    anchor: Option<&[u8]>,
    client_ids: &[String],
) -> VerifiedTrustList {
    let vct = Catalog::standard().get("pupil_enrolment").unwrap().vct().as_str().to_owned();
    let issuer = AccreditedIssuer::new(did_of(school), "De Linde").with_issuer_uri(ISS).accredited_for(vct.clone());
    let mut registration = VerifierRegistration::new(verifier.clone(), "Sportclub").with_purpose(
        RegisteredPurpose::new(
            "membership",
            LocalizedText { nl: "Lidmaatschap".into(), en: "Membership".into() },
            LegalBasis::Consent,
            365,
        )
        .allow(vct, ASKED.map(ClaimPath::claim).to_vec()),
    );
    for client_id in client_ids {
        registration = registration.with_client_id(client_id.clone());
    }
    let operator = SigningKey::from_ed25519_seed(&[5; 32]);
    let kid = DidUrl::parse(&format!("{}#{}", did_of(&operator), did_of(&operator).method_specific_id())).unwrap();
    let mut list = TrustList::new(did_of(&operator), NOW - 60, NOW + 86_400);
    if let Some(anchor) = anchor {
        list = list.with_x509_trust_anchor(anchor);
    }
    let (_, trust_list) =
        list.with_issuer(issuer).with_verifier(registration).sign_and_verify(&operator, &kid, NOW, 60).unwrap();
    trust_list
}

impl World {
    fn request(&self) -> AuthorizationRequest {
        let mut query = CredentialQuery::sd_jwt_vc(
            "enrolment",
            [Catalog::standard().get("pupil_enrolment").unwrap().vct().as_str()],
        );
        for claim in ASKED {
            query = query.claim(ClaimPath::claim(claim));
        }
        RequestBuilder::new(
            self.trust_list.at(NOW).unwrap(),
            &did_of(&self.verifier),
            "https://club.example/response",
            "membership",
        )
        .retention_days(30)
        .credential(query)
        .state("session-1")
        .build("n-Q9v7c2LmX4pTz8Rk")
        .unwrap()
    }

    /// A 16-year-old's enrolment, issued as `iss` with `kid`, presented for `request`.
    fn presentation(&self, request: &AuthorizationRequest, iss: &str, kid: &str) -> String {
        self.presentation_with_x5c(request, iss, kid, None)
    }

    /// As [`Self::presentation`], with `x5c` in the issuer-signed JWT's header when given.
    fn presentation_with_x5c(
        &self,
        request: &AuthorizationRequest,
        iss: &str,
        kid: &str,
        x5c: Option<Value>,
    ) -> String {
        self.presentation_with_status(request, iss, kid, x5c, None)
    }

    /// As [`Self::presentation_with_x5c`], pointing at `status` (a status list entry) when given.
    fn presentation_with_status(
        &self,
        request: &AuthorizationRequest,
        iss: &str,
        kid: &str,
        x5c: Option<Value>,
        status: Option<StatusReference>,
    ) -> String {
        let holder = SigningKey::generate(Algorithm::Es256).unwrap();
        let claims = json!({
            "sub": "child-link-1", "school_name": "De Linde", "school_brin": "12AB", "school_location": "00",
            "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
            "birth_date": "2010-03-01", "age_over_12": true, "age_over_16": true,
        });
        let mut builder = Catalog::standard()
            .get("pupil_enrolment")
            .unwrap()
            .builder(iss, NOW - 3600, claims.as_object().cloned().unwrap())
            .unwrap()
            .kid(kid)
            .holder_key(holder.verifying_key());
        if let Some(x5c) = x5c {
            builder = builder.header_member("x5c", x5c);
        }
        if let Some(status) = status {
            builder = builder.status(status.to_status_claim());
        }
        let credential = builder.issue(&self.school, &mut RandomSalts).unwrap().to_string();
        let paths: Vec<ClaimPath> = ASKED.iter().map(|c| ClaimPath::claim(*c)).collect();
        let input =
            KeyBindingInput { nonce: request.nonce.clone(), audience: request.client_id.clone(), issued_at: NOW };
        let presentation = HolderSdJwt::parse(&credential).unwrap().present(&paths, Some((&holder, &input))).unwrap();
        AuthorizationResponse::new(
            BTreeMap::from([("enrolment".to_owned(), vec![presentation])]),
            Some("session-1".into()),
        )
        .to_form()
    }

    fn metadata(&self, issuer: &str) -> Vec<u8> {
        let mut jwk = self.school.verifying_key().to_jwk();
        jwk.insert("kid".into(), json!("key-1"));
        json!({"issuer": issuer, "jwks": {"keys": [Value::Object(jwk)]}}).to_string().into_bytes()
    }
}

#[test]
fn an_https_issuer_is_found_through_its_metadata_after_the_trust_list_accredits_it() {
    let world = World::new();
    let request = world.request();
    let mut documents = Documents::default();
    documents.served.insert(METADATA_URL.into(), world.metadata(ISS));
    let resolver = Resolver::offline();
    let context =
        VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW).with_issuer_metadata(&documents);
    let verdict = verify_response(&request, &world.presentation(&request, ISS, "key-1"), &context);
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert_eq!(verdict.claims("enrolment").unwrap()["group"], "7B");
    assert_eq!(*documents.asked.lock().unwrap(), [METADATA_URL]);

    // The same credential from an identifier the list does not have: refused before any fetch.
    documents.asked.lock().unwrap().clear();
    let verdict =
        verify_response(&request, &world.presentation(&request, "https://evil.example/12AB00", "key-1"), &context);
    assert!(verdict.failed(Check::IssuerAccredited), "{:?}", verdict.failures);
    assert!(documents.asked.lock().unwrap().is_empty(), "trust before network");
}

#[test]
fn metadata_for_another_issuer_or_without_the_key_is_refused() {
    let world = World::new();
    let request = world.request();
    let resolver = Resolver::offline();
    let body = world.presentation(&request, ISS, "key-1");

    // Metadata naming another issuer (SD-JWT VC §5.3) must not be used.
    let mut documents = Documents::default();
    documents.served.insert(METADATA_URL.into(), world.metadata("https://scholen.example"));
    let context =
        VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW).with_issuer_metadata(&documents);
    let verdict = verify_response(&request, &body, &context);
    assert!(verdict.failed(Check::IssuerSignature), "{:?}", verdict.failures);

    // A kid the JWK set does not have.
    let mut documents = Documents::default();
    documents.served.insert(METADATA_URL.into(), world.metadata(ISS));
    let context =
        VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW).with_issuer_metadata(&documents);
    let verdict = verify_response(&request, &world.presentation(&request, ISS, "key-9"), &context);
    assert!(verdict.failed(Check::IssuerSignature), "{:?}", verdict.failures);

    // Unreachable metadata, and a verifier that fetches none.
    let empty = Documents::default();
    let context =
        VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW).with_issuer_metadata(&empty);
    assert!(verify_response(&request, &body, &context).failed(Check::IssuerSignature));
    let context = VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW);
    let verdict = verify_response(&request, &body, &context);
    assert!(verdict.failed(Check::IssuerSignature), "{:?}", verdict.failures);
    assert!(verdict.failures.iter().any(|f| f.reason.contains("https identifier")), "{:?}", verdict.failures);
}

/// A root CA of the trust-list operator (ES256, HAIP profile), valid around `NOW`.
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

/// The school's certificate for `identifier`, issued by `ca`, valid over `validity`.
fn school_x5c(
    ca: &CertificateAuthority<SigningKey>,
    school: &SigningKey,
    identifier: &str,
    validity: Validity,
) -> Value {
    ca.issue_issuer_certificate(
        school.verifying_key(),
        identifier,
        &Subject::new("OBS De Linde", "OBS De Linde issuer").unwrap(),
        validity,
    )
    .unwrap()
    .chain()
    .to_x5c()
}

fn valid() -> Validity {
    Validity::days_from(NOW - 3600, 365).unwrap()
}

#[test]
fn an_https_issuer_is_found_through_its_x5c_chain_without_fetching_metadata() {
    let ca = root_ca("Schooltas Root CA");
    let world =
        World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), Some(ca.certificate_der()));
    let school = &world.school;
    let request = world.request();
    let resolver = Resolver::offline();
    // No issuer metadata fetcher: the key can only come from the chain.
    let context = VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW);
    let x5c = school_x5c(&ca, school, ISS, valid());
    let verdict =
        verify_response(&request, &world.presentation_with_x5c(&request, ISS, "key-1", Some(x5c.clone())), &context);
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert_eq!(verdict.claims("enrolment").unwrap()["group"], "7B");

    // A fetcher is configured as well: x5c takes precedence, nothing is fetched.
    let documents = Documents::default();
    let context =
        VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW).with_issuer_metadata(&documents);
    let verdict = verify_response(&request, &world.presentation_with_x5c(&request, ISS, "key-1", Some(x5c)), &context);
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
    assert!(documents.asked.lock().unwrap().is_empty(), "x5c needs no network");
}

/// Verifies an enrolment from `world` issued as `iss` with `x5c`, with no metadata fetcher,
/// and returns the failures' (check, reason) pairs.
fn x5c_failures(world: &World, iss: &str, x5c: Value) -> Vec<(Check, String)> {
    let request = world.request();
    let resolver = Resolver::offline();
    let context = VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW);
    let verdict = verify_response(&request, &world.presentation_with_x5c(&request, iss, "key-1", Some(x5c)), &context);
    assert!(!verdict.is_accepted());
    verdict.failures.iter().map(|f| (f.check, f.reason.clone())).collect()
}

fn assert_refused(failures: &[(Check, String)], check: Check, reason: &str) {
    assert!(failures.iter().any(|(c, r)| *c == check && r.contains(reason)), "{failures:?}");
}

#[test]
fn an_x5c_chain_to_an_anchor_the_trust_list_does_not_have_is_refused() {
    let ca = root_ca("Schooltas Root CA");
    let other = root_ca("Another Root CA");
    let world =
        World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), Some(ca.certificate_der()));
    let school = &world.school;
    let failures = x5c_failures(&world, ISS, school_x5c(&other, school, ISS, valid()));
    assert_refused(&failures, Check::IssuerSignature, "does not lead to a trust anchor");

    // A CA that copies the anchor's name but not its key: the path's signature does not verify.
    let impostor = root_ca("Schooltas Root CA");
    let failures = x5c_failures(&world, ISS, school_x5c(&impostor, school, ISS, valid()));
    assert_refused(&failures, Check::IssuerSignature, "signature in the issuer's chain does not verify");

    // A trust list without any X.509 anchor.
    let world = World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), None);
    let failures = x5c_failures(&world, ISS, school_x5c(&ca, &world.school, ISS, valid()));
    assert_refused(&failures, Check::IssuerSignature, "names no X.509 trust anchors");
}

#[test]
fn an_expired_issuer_certificate_is_refused() {
    let ca = root_ca("Schooltas Root CA");
    let world =
        World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), Some(ca.certificate_der()));
    let school = &world.school;
    let expired = Validity::new(NOW - 86_000, NOW - 3600).unwrap();
    let failures = x5c_failures(&world, ISS, school_x5c(&ca, school, ISS, expired));
    assert_refused(&failures, Check::IssuerSignature, "has expired");
}

#[test]
fn an_issuer_certificate_for_another_identifier_is_refused() {
    let ca = root_ca("Schooltas Root CA");
    let world =
        World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), Some(ca.certificate_der()));
    let school = &world.school;
    let failures = x5c_failures(&world, ISS, school_x5c(&ca, school, "https://other.example/99ZZ00", valid()));
    assert_refused(&failures, Check::IssuerSignature, "does not name the credential's issuer");
}

#[test]
fn an_x5c_chain_beside_a_did_issuer_is_refused() {
    let ca = root_ca("Schooltas Root CA");
    let world =
        World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), Some(ca.certificate_der()));
    let school = &world.school;
    let did = did_of(school).to_string();
    let kid = format!("{did}#{}", did_of(school).method_specific_id());
    let request = world.request();
    let resolver = Resolver::offline();
    let context = VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW);
    let x5c = school_x5c(&ca, school, ISS, valid());
    let verdict = verify_response(&request, &world.presentation_with_x5c(&request, &did, &kid, Some(x5c)), &context);
    let failures: Vec<(Check, String)> = verdict.failures.iter().map(|f| (f.check, f.reason.clone())).collect();
    assert_refused(&failures, Check::IssuerSignature, "its key must come from the DID");

    // The same credential without x5c is accepted through the DID: the refusal is the chain's.
    let verdict = verify_response(&request, &world.presentation(&request, &did, &kid), &context);
    assert!(verdict.is_accepted(), "{:?}", verdict.failures);
}

#[test]
fn a_valid_x5c_chain_does_not_make_an_unaccredited_issuer_trusted() {
    let ca = root_ca("Schooltas Root CA");
    let world =
        World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), Some(ca.certificate_der()));
    let school = &world.school;
    let evil = "https://evil.example/12AB00";
    let failures = x5c_failures(&world, evil, school_x5c(&ca, school, evil, valid()));
    assert_refused(&failures, Check::IssuerAccredited, "not accredited");
}

#[test]
fn a_verifier_with_an_x509_client_id_signs_with_x5c_and_is_the_key_bindings_audience() {
    use schooltas_oid4vc::oid4vp::{ClientId, Oid4vpError, UnverifiedRequestObject};
    use schooltas_verifier::Verifier;

    let ca = root_ca("Schooltas Root CA");
    let verifier_key = SigningKey::generate(Algorithm::Es256).unwrap();
    let verifier_did = did_of(&verifier_key);
    let chain = ca
        .issue_verifier_certificate(
            verifier_key.verifying_key(),
            "club.example",
            &Subject::new("Sportclub", "Sportclub verifier").unwrap(),
            valid(),
        )
        .unwrap()
        .into_chain();
    let client = ClientId::X509Hash(chain.leaf_x509_hash());
    let school = SigningKey::generate(Algorithm::Es256).unwrap();
    let trust_list = trust_list_with(&school, &verifier_did, Some(ca.certificate_der()), &[client.to_string()]);
    let lists = Arc::new(InMemoryStatusLists::new());
    let world = World {
        school,
        verifier: SigningKey::from_ed25519_seed(&[2; 32]),
        trust_list,
        status: StatusListCache::new(lists.clone()),
        lists,
    };

    // A DID, or a hash of another certificate, is not an X.509 client id for this chain.
    let refused = Verifier::new(SigningKey::generate(Algorithm::Es256).unwrap(), "https://club.example/response")
        .unwrap()
        .with_x509_client(ClientId::Did(verifier_did.clone()), chain.clone())
        .unwrap_err();
    assert!(
        matches!(refused, Error::Credential(schooltas_school::Error::Oid4vp(Oid4vpError::InvalidClientId { .. }))),
        "{refused}"
    );
    let refused = Verifier::new(SigningKey::generate(Algorithm::Es256).unwrap(), "https://club.example/response")
        .unwrap()
        .with_x509_client(ClientId::X509Hash("AAAA".into()), chain.clone())
        .unwrap_err();
    assert!(
        matches!(refused, Error::Credential(schooltas_school::Error::Oid4vp(Oid4vpError::InvalidClientId { reason }))
            if reason.contains("leaf")),
        "{refused}"
    );

    let service = Verifier::new(verifier_key, "https://club.example/response")
        .unwrap()
        .with_x509_client(client.clone(), chain.clone())
        .unwrap();
    assert_eq!(service.client_id(), client.to_string());
    let mut query =
        CredentialQuery::sd_jwt_vc("enrolment", [Catalog::standard().get("pupil_enrolment").unwrap().vct().as_str()]);
    for claim in ASKED {
        query = query.claim(ClaimPath::claim(claim));
    }
    let builder = RequestBuilder::new(
        world.trust_list.at(NOW).unwrap(),
        &verifier_did,
        "https://club.example/response",
        "membership",
    )
    .retention_days(30)
    .credential(query)
    .state("session-1");
    let signed = service.request(builder, NOW, 600).unwrap();
    assert_eq!(signed.request.client_id, client.to_string());

    // The request object carries the chain, no kid, and verifies with the leaf key once the
    // chain is validated to the trust list's anchor (as a wallet does).
    let object = UnverifiedRequestObject::parse(&signed.request_object).unwrap();
    assert!(object.header().kid().is_none());
    assert!(object.header().get("x5c").is_some());
    let anchors = schooltas_x509::TrustAnchors::from_der(vec![ca.certificate_der().to_vec()]).unwrap();
    let verified = object
        .verify_with_client(
            |header, seen| {
                assert_eq!(seen, &client);
                let chain = schooltas_x509::CertificateChain::from_x5c(header.get("x5c").unwrap()).unwrap();
                let validated = schooltas_x509::validate(&chain, &anchors, NOW, schooltas_x509::Usage::Any).unwrap();
                Ok(validated.verifying_key().clone())
            },
            NOW,
            60,
        )
        .unwrap();
    assert_eq!(verified, signed.request);

    let resolver = Resolver::offline();
    let context = VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW);
    let x5c = school_x5c(&ca, &world.school, ISS, valid());

    // A key binding addressed to the verifier's DID client id: not our audience.
    let mut to_did = signed.request.clone();
    to_did.client_id = format!("decentralized_identifier:{verifier_did}");
    let received = service.receive(&world.presentation_with_x5c(&to_did, ISS, "key-1", Some(x5c.clone())), &context);
    assert!(received.verdict.failed(Check::Audience), "{:?}", received.verdict.failures);

    // Addressed to the x509_hash client id: accepted.
    let received = service.receive(&world.presentation_with_x5c(&signed.request, ISS, "key-1", Some(x5c)), &context);
    assert!(received.verdict.is_accepted(), "{:?}", received.verdict.failures);
}

/// A status list token signed by `key` with `x5c`, as a school's service serves it.
fn status_token_header(key: &SigningKey, x5c: &Value) -> schooltas_did::jws::Header {
    use schooltas_status_list::{Bits, StatusList, StatusListToken, StatusListUri};
    let uri = StatusListUri::new("https://scholen.example/12AB00/status/1").unwrap();
    let token = StatusListToken::new(uri, NOW - 60, StatusList::new(Bits::One, 16).unwrap());
    let jwt = token.sign_with_x5c(key, Some("key-1"), Some(x5c)).unwrap();
    schooltas_did::jws::CompactJws::parse(&jwt).unwrap().header().clone()
}

fn status_key_refusal(header: &schooltas_did::jws::Header, world: &World) -> String {
    match schooltas_verifier::status_list_token_key(header, None, &world.trust_list, &Resolver::offline(), NOW) {
        Err(schooltas_status_list::Error::InvalidStatusListToken { reason }) => reason,
        other => panic!("expected a refused status list token, got {other:?}"),
    }
}

#[test]
fn a_status_list_token_on_its_own_is_trusted_through_its_x5c_only_to_an_anchor_for_an_accredited_issuer() {
    let ca = root_ca("Schooltas Root CA");
    let world =
        World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), Some(ca.certificate_der()));
    let school = &world.school;
    // The consent register asks later, with only the token: the school's certificate vouches.
    let header = status_token_header(school, &school_x5c(&ca, school, ISS, valid()));
    let key =
        schooltas_verifier::status_list_token_key(&header, None, &world.trust_list, &Resolver::offline(), NOW).unwrap();
    assert_eq!(&key, school.verifying_key());

    // The token's own iss must be what the certificate names.
    let named =
        schooltas_verifier::status_list_token_key(&header, Some(ISS), &world.trust_list, &Resolver::offline(), NOW);
    assert_eq!(named.unwrap(), *school.verifying_key());
    match schooltas_verifier::status_list_token_key(
        &header,
        Some("https://elders.example/99ZZ00"),
        &world.trust_list,
        &Resolver::offline(),
        NOW,
    ) {
        Err(schooltas_status_list::Error::InvalidStatusListToken { reason }) => {
            assert!(reason.contains("does not name its issuer"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // A chain from a CA the trust list does not have.
    let other = root_ca("Another Root CA");
    let header = status_token_header(school, &school_x5c(&other, school, ISS, valid()));
    assert!(status_key_refusal(&header, &world).contains("does not lead to a trust anchor"));
    // A valid chain naming an issuer the trust list does not accredit.
    let header = status_token_header(school, &school_x5c(&ca, school, "https://elders.example/99ZZ00", valid()));
    assert!(status_key_refusal(&header, &world).contains("names no issuer the trust list accredits"));
    // An expired certificate.
    let expired = Validity::new(NOW - 400 * 86_400, NOW - 86_400).unwrap();
    let header = status_token_header(school, &school_x5c(&ca, school, ISS, expired));
    assert!(status_key_refusal(&header, &world).contains("has expired"));
    // Signed by another key than the certificate's: the chain gives the key, the signature fails
    // when the token is verified with it — and an EdDSA token cannot claim an ES256 certificate.
    let eddsa = SigningKey::from_ed25519_seed(&[44; 32]);
    let header = status_token_header(&eddsa, &school_x5c(&ca, school, ISS, valid()));
    assert!(status_key_refusal(&header, &world).contains("alg is not its certificate key's"));
    // No x5c and a kid that is not a DID URL.
    let uri = schooltas_status_list::StatusListUri::new("https://scholen.example/12AB00/status/1").unwrap();
    let list = schooltas_status_list::StatusList::new(schooltas_status_list::Bits::One, 16).unwrap();
    let jwt = schooltas_status_list::StatusListToken::new(uri, NOW - 60, list).sign(school, Some("key-1")).unwrap();
    let header = schooltas_did::jws::CompactJws::parse(&jwt).unwrap().header().clone();
    assert!(status_key_refusal(&header, &world).contains("not a DID URL and there is no x5c"));
}

// Status list tokens with their own x5c (draft-ietf-oauth-status-list §"Key Resolution and
// Trust Management"): a separate status key certified with the status signing EKU.

const STATUS_URI: &str = "https://scholen.example/12AB00/status/enrolment";
const REVOKED_INDEX: u64 = 9;

/// Publishes the enrolment status list (entry [`REVOKED_INDEX`] revoked), signed by `signer`
/// with `x5c` in its header.
fn publish_status(world: &World, signer: &SigningKey, x5c: Option<&Value>) {
    let mut list = StatusList::new(Bits::One, 1024).unwrap();
    list.set(REVOKED_INDEX, StatusValue::INVALID).unwrap();
    let uri = StatusListUri::new(STATUS_URI).unwrap();
    let token =
        StatusListToken::new(uri.clone(), NOW - 10, list).with_ttl(60).sign_with_x5c(signer, None, x5c).unwrap();
    world.lists.publish(uri, token);
}

/// The status list certificate of `status_key` for `identifier`, issued by `ca`.
fn status_x5c(
    ca: &CertificateAuthority<SigningKey>,
    status_key: &SigningKey,
    identifier: &str,
    validity: Validity,
) -> Value {
    ca.issue_status_list_certificate(
        status_key.verifying_key(),
        identifier,
        &Subject::new("OBS De Linde", "OBS De Linde issuer").unwrap(),
        validity,
    )
    .unwrap()
    .chain()
    .to_x5c()
}

/// An x5c-issued enrolment pointing at entry `index` of the status list, verified with no
/// metadata fetcher; returns the verdict's (check, reason) pairs (empty when accepted).
fn status_failures(world: &World, ca: &CertificateAuthority<SigningKey>, index: u64) -> Vec<(Check, String)> {
    let request = world.request();
    let resolver = Resolver::offline();
    let context = VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW);
    let reference = StatusReference::new(StatusListUri::new(STATUS_URI).unwrap(), index);
    let x5c = school_x5c(ca, &world.school, ISS, valid());
    let presentation = world.presentation_with_status(&request, ISS, "key-1", Some(x5c), Some(reference));
    let verdict = verify_response(&request, &presentation, &context);
    verdict.failures.iter().map(|f| (f.check, f.reason.clone())).collect()
}

fn x509_world() -> (CertificateAuthority<SigningKey>, World) {
    let ca = root_ca("Schooltas Root CA");
    let world =
        World::with_school_and_anchor(SigningKey::generate(Algorithm::Es256).unwrap(), Some(ca.certificate_der()));
    (ca, world)
}

fn assert_status_signer_refused(failures: &[(Check, String)], refusal: StatusSignerRefusal) {
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_refused(failures, Check::StatusListSigner, &refusal.to_string());
}

#[test]
fn a_status_list_signed_by_a_separate_status_key_with_a_valid_chain_verifies() {
    let (ca, world) = x509_world();
    let status_key = SigningKey::generate(Algorithm::Es256).unwrap();
    publish_status(&world, &status_key, Some(&status_x5c(&ca, &status_key, ISS, valid())));
    assert!(status_failures(&world, &ca, 3).is_empty());
    // The list is read: the revoked entry is refused as revoked, not as an untrusted signer.
    let failures = status_failures(&world, &ca, REVOKED_INDEX);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_refused(&failures, Check::Status, "revoked");
}

#[test]
fn a_status_list_signed_by_the_issuers_own_certificate_key_still_verifies() {
    let (ca, world) = x509_world();
    publish_status(&world, &world.school, Some(&school_x5c(&ca, &world.school, ISS, valid())));
    assert!(status_failures(&world, &ca, 3).is_empty());
    publish_status(&world, &world.school, None);
    world.status.clear();
    assert!(status_failures(&world, &ca, 3).is_empty());
}

#[test]
fn a_status_certificate_chaining_to_an_unknown_anchor_is_refused() {
    let (ca, world) = x509_world();
    let other = root_ca("Some Other Root CA");
    let status_key = SigningKey::generate(Algorithm::Es256).unwrap();
    publish_status(&world, &status_key, Some(&status_x5c(&other, &status_key, ISS, valid())));
    assert_status_signer_refused(&status_failures(&world, &ca, 3), StatusSignerRefusal::UnknownAnchor);
}

#[test]
fn a_status_certificate_without_the_status_signing_eku_is_refused() {
    let (ca, world) = x509_world();
    let status_key = SigningKey::generate(Algorithm::Es256).unwrap();
    // An issuer certificate for the other key: the CA never delegated status signing to it.
    publish_status(&world, &status_key, Some(&school_x5c(&ca, &status_key, ISS, valid())));
    assert_status_signer_refused(&status_failures(&world, &ca, 3), StatusSignerRefusal::MissingStatusSigningEku);
}

#[test]
fn a_status_certificate_for_another_issuer_identifier_is_refused() {
    let (ca, world) = x509_world();
    let status_key = SigningKey::generate(Algorithm::Es256).unwrap();
    let x5c = status_x5c(&ca, &status_key, "https://scholen.example/99ZZ00", valid());
    publish_status(&world, &status_key, Some(&x5c));
    assert_status_signer_refused(&status_failures(&world, &ca, 3), StatusSignerRefusal::OtherIssuer);
}

#[test]
fn an_expired_status_certificate_is_refused() {
    let (ca, world) = x509_world();
    let status_key = SigningKey::generate(Algorithm::Es256).unwrap();
    let expired = Validity::new(NOW - 30 * 86_400, NOW - 86_400).unwrap();
    publish_status(&world, &status_key, Some(&status_x5c(&ca, &status_key, ISS, expired)));
    assert_status_signer_refused(&status_failures(&world, &ca, 3), StatusSignerRefusal::Expired);
}

#[test]
fn a_status_list_with_x5c_for_a_did_issuer_is_refused() {
    let (ca, world) = x509_world();
    let status_key = SigningKey::generate(Algorithm::Es256).unwrap();
    publish_status(&world, &status_key, Some(&status_x5c(&ca, &status_key, ISS, valid())));
    let request = world.request();
    let resolver = Resolver::offline();
    let context = VerificationContext::new(&world.trust_list, &resolver, &world.status, NOW);
    let did = did_of(&world.school).to_string();
    let kid = format!("{did}#{}", did_of(&world.school).method_specific_id());
    let reference = StatusReference::new(StatusListUri::new(STATUS_URI).unwrap(), 3);
    let presentation = world.presentation_with_status(&request, &did, &kid, None, Some(reference));
    let verdict = verify_response(&request, &presentation, &context);
    let failures: Vec<(Check, String)> = verdict.failures.iter().map(|f| (f.check, f.reason.clone())).collect();
    assert_status_signer_refused(&failures, StatusSignerRefusal::DidIssuerWithX5c);
}

/// A trust list accrediting `a` as `ISS` and `b` as `OTHER_ISS` for the enrolment, with
/// `anchor` as X.509 anchor (or, with `a` = None, only `b`).
fn two_schools(a: Option<&SigningKey>, b: &SigningKey, anchor: &[u8]) -> VerifiedTrustList {
    let vct = Catalog::standard().get("pupil_enrolment").unwrap().vct().as_str().to_owned();
    let operator = SigningKey::from_ed25519_seed(&[5; 32]);
    let kid = DidUrl::parse(&format!("{}#{}", did_of(&operator), did_of(&operator).method_specific_id())).unwrap();
    let mut list = TrustList::new(did_of(&operator), NOW - 60, NOW + 86_400).with_x509_trust_anchor(anchor);
    if let Some(a) = a {
        list = list
            .with_issuer(AccreditedIssuer::new(did_of(a), "De Linde").with_issuer_uri(ISS).accredited_for(vct.clone()));
    }
    list = list.with_issuer(AccreditedIssuer::new(did_of(b), "De Eik").with_issuer_uri(OTHER_ISS).accredited_for(vct));
    list.sign_and_verify(&operator, &kid, NOW, 60).unwrap().1
}

const OTHER_ISS: &str = "https://scholen.example/34CD00";

#[test]
fn a_consents_status_is_checked_later_with_the_signer_rule_of_the_credential_it_rests_on() {
    use schooltas_status_list::Error as StatusError;
    use schooltas_verifier::{StatusIssuer, consent_status_key, status_list_token_key};
    let ca = root_ca("Schooltas Root CA");
    let (a, b) = (SigningKey::generate(Algorithm::Es256).unwrap(), SigningKey::generate(Algorithm::Es256).unwrap());
    let trust_list = two_schools(Some(&a), &b, ca.certificate_der());
    let resolver = Resolver::offline();
    // The guardianship was issued by school A (as the verification that recorded the consent saw).
    let issuer = StatusIssuer::new(ISS, a.verifying_key());
    let key = |header: &schooltas_did::jws::Header, issuer: Option<&StatusIssuer>| {
        consent_status_key(header, None, issuer, &trust_list, &resolver, NOW)
    };

    // School A's own certificate, or its key without x5c: A's key.
    let own = status_token_header(&a, &school_x5c(&ca, &a, ISS, valid()));
    assert_eq!(key(&own, Some(&issuer)).unwrap(), *a.verifying_key());
    assert_eq!(key(&own_without_x5c(&a), Some(&issuer)).unwrap(), *a.verifying_key());
    // A separate status key of A with the status signing EKU.
    let status_key = SigningKey::generate(Algorithm::Es256).unwrap();
    let delegated = status_token_header(&status_key, &status_x5c(&ca, &status_key, ISS, valid()));
    assert_eq!(key(&delegated, Some(&issuer)).unwrap(), *status_key.verifying_key());

    // Another accredited school's list at A's URI: the old rule (any accredited issuer) took
    // it; the recorded issuer refuses it.
    let other = status_token_header(&b, &school_x5c(&ca, &b, OTHER_ISS, valid()));
    assert_eq!(status_list_token_key(&other, None, &trust_list, &resolver, NOW).unwrap(), *b.verifying_key());
    assert!(matches!(
        key(&other, Some(&issuer)),
        Err(StatusError::UntrustedStatusSigner { refusal: StatusSignerRefusal::MissingStatusSigningEku })
    ));
    assert_eq!(key(&other, None).unwrap(), *b.verifying_key(), "a record from before schema version 2");
    // Even B's delegated status key (with the EKU) does not sign for A.
    let b_status = SigningKey::generate(Algorithm::Es256).unwrap();
    let other = status_token_header(&b_status, &status_x5c(&ca, &b_status, OTHER_ISS, valid()));
    assert_eq!(key(&other, None).unwrap(), *b_status.verifying_key());
    assert!(matches!(
        key(&other, Some(&issuer)),
        Err(StatusError::UntrustedStatusSigner { refusal: StatusSignerRefusal::OtherIssuer })
    ));
    // A's name on a certificate of another key without the status EKU.
    let undelegated = status_token_header(&status_key, &school_x5c(&ca, &status_key, ISS, valid()));
    assert!(matches!(
        key(&undelegated, Some(&issuer)),
        Err(StatusError::UntrustedStatusSigner { refusal: StatusSignerRefusal::MissingStatusSigningEku })
    ));
    // B's key without x5c: not the credential's key, so verification with A's key will fail.
    assert_eq!(key(&own_without_x5c(&b), Some(&issuer)).unwrap(), *a.verifying_key());

    // A record whose stored key was tampered into no key at all: refused, never the weaker rule.
    let broken = StatusIssuer { iss: ISS.into(), key: json!({"kty": "EC", "crv": "P-256"}) };
    match key(&own, Some(&broken)) {
        Err(StatusError::InvalidStatusListToken { reason }) => assert!(reason.contains("not a valid JWK"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // School A no longer accredited: its consents' status is unknown.
    let without_a = two_schools(None, &b, ca.certificate_der());
    match consent_status_key(&own, None, Some(&issuer), &without_a, &resolver, NOW) {
        Err(StatusError::InvalidStatusListToken { reason }) => {
            assert!(reason.contains("no longer accredited"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A status list token signed by `key` with a kid and no x5c.
fn own_without_x5c(key: &SigningKey) -> schooltas_did::jws::Header {
    use schooltas_status_list::{Bits, StatusList, StatusListToken};
    let uri = StatusListUri::new("https://scholen.example/12AB00/status/1").unwrap();
    let token = StatusListToken::new(uri, NOW - 60, StatusList::new(Bits::One, 16).unwrap());
    let jwt = token.sign_with_x5c(key, Some("key-1"), None).unwrap();
    schooltas_did::jws::CompactJws::parse(&jwt).unwrap().header().clone()
}
