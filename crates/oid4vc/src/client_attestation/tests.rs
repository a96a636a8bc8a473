#![allow(clippy::unwrap_used)]

use super::*;
use schooltas_did::jws::sign_compact;
use schooltas_did::{SigningKey, base64url};
use schooltas_x509::{CertificateAuthority, Profile, Subject, TrustAnchors, Usage, Validity, validate};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const AS: &str = "https://school.example";
const WALLET: &str = "https://wallet.example/app";

struct Provider {
    root: CertificateAuthority<SigningKey>,
    key: SigningKey,
    chain: Vec<Vec<u8>>,
}

fn provider() -> Provider {
    let root = CertificateAuthority::root(
        SigningKey::generate(Algorithm::Es256).unwrap(),
        Subject::new("Wallet BV", "Wallet BV Root").unwrap(),
        Validity::days_from(NOW - 86_400, 3650).unwrap(),
        Some(0),
        Profile::Haip,
    )
    .unwrap();
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let issued = root
        .issue_wallet_provider_certificate(
            key.verifying_key(),
            "https://wallet.example",
            &Subject::new("Wallet BV", "Wallet BV attestations").unwrap(),
            Validity::days_from(NOW - 86_400, 365).unwrap(),
        )
        .unwrap();
    Provider { root, key, chain: issued.chain().certificates().to_vec() }
}

impl Provider {
    fn anchors(&self) -> TrustAnchors {
        TrustAnchors::from_der(vec![self.root.certificate_der().to_vec()]).unwrap()
    }

    fn attest(&self, instance: &SigningKey) -> String {
        sign_client_attestation(&self.key, self.chain.clone(), &claims(instance)).unwrap()
    }

    /// An attestation with any payload and header members, signed by the provider's key.
    fn raw(&self, header: Header, payload: &Value) -> String {
        let header = header.with_member("x5c", CertificateChain::new(self.chain.clone()).unwrap().to_x5c());
        sign_compact(&header, payload.to_string().as_bytes(), &self.key).unwrap()
    }
}

fn claims(instance: &SigningKey) -> ClientAttestationClaims {
    ClientAttestationClaims::new("https://wallet.example", WALLET, NOW + 86_400, instance.verifying_key().clone())
        .issued_at(NOW - 10)
        .wallet_name("Schooltas Wallet")
}

fn payload(instance: &SigningKey) -> Value {
    Value::Object(claims(instance).to_json())
}

fn pop(instance: &SigningKey) -> String {
    sign_client_attestation_pop(instance, AS, "jti-1", NOW, None).unwrap()
}

fn check(
    provider: &Provider,
    attestation: &str,
    pop: &str,
    policy: &ClientAttestationPolicy,
) -> Result<VerifiedClientAttestation, ClientAttestationError> {
    let anchors = provider.anchors();
    UnverifiedClientAttestation::parse(attestation, pop)?.verify(
        policy,
        |chain| Ok(validate(chain, &anchors, NOW, Usage::Any)?.verifying_key().clone()),
        NOW,
    )
}

fn es256() -> SigningKey {
    SigningKey::generate(Algorithm::Es256).unwrap()
}

/// A compact JWS with any header, any payload and a junk signature.
fn unsigned(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.{}",
        base64url::encode(header.to_string()),
        base64url::encode(payload.to_string()),
        base64url::encode([7u8; 64])
    )
}

#[test]
fn an_attestation_and_its_pop_round_trip() {
    let provider = provider();
    let instance = es256();
    let attestation = provider.attest(&instance);
    let policy = ClientAttestationPolicy::new(AS).require_challenge(vec!["old".into(), "c-1".into()]);
    let pop = sign_client_attestation_pop(&instance, AS, "jti-7", NOW - 5, Some("c-1")).unwrap();
    let verified = check(&provider, &attestation, &pop, &policy).unwrap();
    assert_eq!(verified.client_id, WALLET);
    assert_eq!(verified.provider.as_deref(), Some("https://wallet.example"));
    assert_eq!(verified.wallet_name.as_deref(), Some("Schooltas Wallet"));
    assert_eq!(verified.instance_key, *instance.verifying_key());
    assert_eq!(verified.pop_jti, "jti-7");
    assert_eq!(verified.pop_issued_at, NOW - 5);
    assert_eq!(verified.expires_at, NOW + 86_400);
    // The header carries the chain without the anchor (HAIP 1.0 §4.4.1).
    let parsed = UnverifiedClientAttestation::parse(&attestation, &pop).unwrap();
    assert_eq!(parsed.chain().certificates(), provider.chain.as_slice());
    assert!(!parsed.chain().certificates().iter().any(|der| der.as_slice() == provider.root.certificate_der()));
}

#[test]
fn wrong_typs_are_refused() {
    let provider = provider();
    let instance = es256();
    let policy = ClientAttestationPolicy::new(AS);
    let attestation = provider.raw(Header::new().with_typ("jwt"), &payload(&instance));
    assert!(matches!(
        check(&provider, &attestation, &pop(&instance), &policy),
        Err(ClientAttestationError::WrongTyp { part: AttestationPart::Attestation, .. })
    ));
    // A PoP signed as an attestation (typ swapped) is refused as well.
    let pop_as_attestation = sign_compact(
        &Header::new().with_typ(CLIENT_ATTESTATION_TYP),
        json!({"aud": AS, "jti": "j", "iat": NOW}).to_string().as_bytes(),
        &instance,
    )
    .unwrap();
    assert!(matches!(
        check(&provider, &provider.attest(&instance), &pop_as_attestation, &policy),
        Err(ClientAttestationError::WrongTyp { part: AttestationPart::Pop, .. })
    ));
}

#[test]
fn alg_none_hmac_and_unknown_critical_headers_are_refused() {
    let provider = provider();
    let instance = es256();
    let policy = ClientAttestationPolicy::new(AS);
    let body = payload(&instance);
    for header in [
        json!({"typ": CLIENT_ATTESTATION_TYP, "alg": "none", "x5c": []}),
        json!({"typ": CLIENT_ATTESTATION_TYP, "alg": "HS256", "x5c": []}),
        json!({"typ": CLIENT_ATTESTATION_TYP, "alg": "ES256", "crit": ["schooltas_unknown"], "schooltas_unknown": 1}),
    ] {
        let jwt = format!("{}.{}.", base64url::encode(header.to_string()), base64url::encode(body.to_string()));
        assert!(
            matches!(
                check(&provider, &jwt, &pop(&instance), &policy),
                Err(ClientAttestationError::Malformed { part: AttestationPart::Attestation, .. })
            ),
            "{header}"
        );
        let jwt = unsigned(&header, &body);
        assert!(matches!(
            check(&provider, &jwt, &pop(&instance), &policy),
            Err(ClientAttestationError::Malformed { part: AttestationPart::Attestation, .. })
        ));
    }
}

#[test]
fn eddsa_is_accepted_only_when_the_policy_allows_it() {
    let provider = provider();
    let instance = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let attestation = provider.attest(&instance);
    let pop = pop(&instance);
    assert!(matches!(
        check(&provider, &attestation, &pop, &ClientAttestationPolicy::new(AS)),
        Err(ClientAttestationError::AlgorithmNotAccepted { part: AttestationPart::Pop, alg: "EdDSA", .. })
    ));
    let verified = check(&provider, &attestation, &pop, &ClientAttestationPolicy::new(AS).allow_eddsa()).unwrap();
    assert_eq!(verified.instance_key, *instance.verifying_key());
}

#[test]
fn an_attestation_without_x5c_or_to_an_unknown_anchor_is_refused() {
    let provider = provider();
    let instance = es256();
    let policy = ClientAttestationPolicy::new(AS);
    let bare = sign_compact(
        &Header::new().with_typ(CLIENT_ATTESTATION_TYP).with_kid("provider-1"),
        payload(&instance).to_string().as_bytes(),
        &provider.key,
    )
    .unwrap();
    assert!(matches!(check(&provider, &bare, &pop(&instance), &policy), Err(ClientAttestationError::MissingX5c)));
    // Another provider's chain, checked against our anchors.
    let other = self::provider();
    let attestation = other.attest(&instance);
    assert!(matches!(
        check(&provider, &attestation, &pop(&instance), &policy),
        Err(ClientAttestationError::UntrustedProvider(_))
    ));
    // The right chain, signed by another key than the leaf's.
    let forged = sign_compact(
        &Header::new()
            .with_typ(CLIENT_ATTESTATION_TYP)
            .with_member("x5c", CertificateChain::new(provider.chain.clone()).unwrap().to_x5c()),
        payload(&instance).to_string().as_bytes(),
        &es256(),
    )
    .unwrap();
    assert!(matches!(
        check(&provider, &forged, &pop(&instance), &policy),
        Err(ClientAttestationError::BadSignature { part: AttestationPart::Attestation, .. })
    ));
}

#[test]
fn expired_not_yet_valid_and_incomplete_attestations_are_refused() {
    let provider = provider();
    let instance = es256();
    let policy = ClientAttestationPolicy::new(AS);
    let pop = pop(&instance);
    let with = |name: &str, value: Value| {
        let mut body = payload(&instance);
        body[name] = value;
        provider.raw(Header::new().with_typ(CLIENT_ATTESTATION_TYP), &body)
    };
    let expired = check(&provider, &with("exp", json!(NOW - 61)), &pop, &policy);
    assert!(matches!(expired, Err(ClientAttestationError::Expired { exp, now: NOW }) if exp == NOW - 61));
    assert_eq!(expired.unwrap_err().error_code(), "use_fresh_attestation");
    // Within the skew: still accepted.
    assert!(check(&provider, &with("exp", json!(NOW - 59)), &pop, &policy).is_ok());
    assert!(matches!(
        check(&provider, &with("nbf", json!(NOW + 61)), &pop, &policy),
        Err(ClientAttestationError::NotYetValid { claim: "nbf", .. })
    ));
    assert!(matches!(
        check(&provider, &with("iat", json!(NOW + 61)), &pop, &policy),
        Err(ClientAttestationError::NotYetValid { claim: "iat", .. })
    ));
    // `iss` may be left out (the draft does not require it; the x5c chain names the provider).
    let mut body = payload(&instance);
    body.as_object_mut().unwrap().remove("iss");
    let no_iss = provider.raw(Header::new().with_typ(CLIENT_ATTESTATION_TYP), &body);
    assert_eq!(check(&provider, &no_iss, &pop, &policy).unwrap().provider, None);
    for (claim, value) in [("exp", json!("tomorrow")), ("sub", json!(7)), ("sub", json!("")), ("iss", json!(7))] {
        let refused = check(&provider, &with(claim, value), &pop, &policy);
        assert!(
            matches!(refused, Err(ClientAttestationError::MissingClaim { part: AttestationPart::Attestation, claim: c }) if c == claim),
            "{claim}"
        );
    }
    let mut body = payload(&instance);
    body.as_object_mut().unwrap().remove("exp");
    let no_exp = provider.raw(Header::new().with_typ(CLIENT_ATTESTATION_TYP), &body);
    assert!(matches!(
        check(&provider, &no_exp, &pop, &policy),
        Err(ClientAttestationError::MissingClaim { claim: "exp", .. })
    ));
    let refused = check(&provider, &with("cnf", json!({"kid": "k"})), &pop, &policy);
    assert!(matches!(refused, Err(ClientAttestationError::MissingClaim { claim: "cnf.jwk", .. })));
    assert_eq!(refused.unwrap_err().error_code(), "invalid_client");
}

#[test]
fn a_private_key_in_cnf_is_refused() {
    let provider = provider();
    let instance = es256();
    let mut jwk = instance.verifying_key().to_jwk();
    jwk.insert("d".into(), json!("AAAA"));
    let mut body = payload(&instance);
    body["cnf"] = json!({ "jwk": jwk });
    let attestation = provider.raw(Header::new().with_typ(CLIENT_ATTESTATION_TYP), &body);
    assert!(matches!(
        check(&provider, &attestation, &pop(&instance), &ClientAttestationPolicy::new(AS)),
        Err(ClientAttestationError::PrivateKeyInCnf)
    ));
}

#[test]
fn a_pop_by_another_key_for_another_server_stale_or_without_jti_is_refused() {
    let provider = provider();
    let instance = es256();
    let attestation = provider.attest(&instance);
    let policy = ClientAttestationPolicy::new(AS);
    let by_other = sign_client_attestation_pop(&es256(), AS, "j", NOW, None).unwrap();
    assert!(matches!(
        check(&provider, &attestation, &by_other, &policy),
        Err(ClientAttestationError::BadSignature { part: AttestationPart::Pop, .. })
    ));
    for aud in ["https://other.example", "https://school.example/", "https://SCHOOL.example"] {
        let pop = sign_client_attestation_pop(&instance, aud, "j", NOW, None).unwrap();
        assert!(
            matches!(check(&provider, &attestation, &pop, &policy), Err(ClientAttestationError::AudienceMismatch)),
            "{aud}"
        );
    }
    let stale = sign_client_attestation_pop(&instance, AS, "j", NOW - 301, None).unwrap();
    assert!(matches!(
        check(&provider, &attestation, &stale, &policy),
        Err(ClientAttestationError::PopNotFresh { iat, now: NOW }) if iat == NOW - 301
    ));
    let future = sign_client_attestation_pop(&instance, AS, "j", NOW + 61, None).unwrap();
    assert!(matches!(
        check(&provider, &attestation, &future, &policy),
        Err(ClientAttestationError::PopNotFresh { .. })
    ));
    let header = Header::new().with_typ(CLIENT_ATTESTATION_POP_TYP);
    for (claims, missing) in [
        (json!({"aud": AS, "iat": NOW}), "jti"),
        (json!({"aud": AS, "jti": "", "iat": NOW}), "jti"),
        (json!({"aud": [AS], "jti": "j", "iat": NOW}), "aud"),
        (json!({"aud": AS, "jti": "j"}), "iat"),
    ] {
        let pop = sign_compact(&header, claims.to_string().as_bytes(), &instance).unwrap();
        assert!(
            matches!(
                check(&provider, &attestation, &pop, &policy),
                Err(ClientAttestationError::MissingClaim { part: AttestationPart::Pop, claim }) if claim == missing
            ),
            "{claims}"
        );
    }
    let long = sign_client_attestation_pop(&instance, AS, &"j".repeat(MAX_POP_JTI_LEN + 1), NOW, None).unwrap();
    assert!(matches!(check(&provider, &attestation, &long, &policy), Err(ClientAttestationError::JtiTooLong)));
}

#[test]
fn a_required_challenge_must_be_the_servers() {
    let provider = provider();
    let instance = es256();
    let attestation = provider.attest(&instance);
    let policy = ClientAttestationPolicy::new(AS).require_challenge(vec!["c-1".into()]);
    for challenge in [None, Some("c-0")] {
        let pop = sign_client_attestation_pop(&instance, AS, "j", NOW, challenge).unwrap();
        let refused = check(&provider, &attestation, &pop, &policy);
        assert!(matches!(refused, Err(ClientAttestationError::UseChallenge)), "{challenge:?}");
        assert_eq!(refused.unwrap_err().error_code(), "use_attestation_challenge");
    }
    // Without a required challenge, one in the PoP is ignored.
    let pop = sign_client_attestation_pop(&instance, AS, "j", NOW, Some("anything")).unwrap();
    assert!(check(&provider, &attestation, &pop, &ClientAttestationPolicy::new(AS)).is_ok());
}

#[test]
fn errors_carry_no_token_or_client_identifier() {
    let provider = provider();
    let instance = es256();
    let attestation = provider.attest(&instance);
    let pop = sign_client_attestation_pop(&instance, "https://other.example", "secret-jti", NOW, None).unwrap();
    let message = check(&provider, &attestation, &pop, &ClientAttestationPolicy::new(AS)).unwrap_err().to_string();
    assert!(!message.contains("secret-jti") && !message.contains(WALLET) && !message.contains("other.example"));
    assert!(!format!("{:?}", UnverifiedClientAttestation::parse(&attestation, &pop).unwrap()).contains("eyJ"));
}

/// The draft's own examples (test-vectors/ietf-oauth-attestation-client-auth): both signatures
/// verify with the README's keys, the PoP with the attestation's `cnf.jwk`; our HAIP verifier
/// refuses the attestation, which names its key by `kid` instead of an `x5c` chain.
#[test]
fn the_drafts_examples_verify_with_its_keys_and_are_refused_without_x5c() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/ietf-oauth-attestation-client-auth/examples.json"
    ))
    .unwrap();
    let vector: Value = serde_json::from_str(&text).unwrap();
    let attestation = vector["client_attestation"].as_str().unwrap();
    let pop = vector["client_attestation_pop"].as_str().unwrap();
    let attester = VerifyingKey::from_jwk(vector["client_attester_key"].as_object().unwrap()).unwrap();
    let pop_key = VerifyingKey::from_jwk(vector["pop_key"].as_object().unwrap()).unwrap();

    let jws = CompactJws::parse(attestation).unwrap();
    assert_eq!(jws.header().typ(), Some(CLIENT_ATTESTATION_TYP));
    let claims = claims_of(jws.verify(&attester).unwrap().payload(), AttestationPart::Attestation).unwrap();
    let cnf = VerifyingKey::from_jwk(claims["cnf"]["jwk"].as_object().unwrap()).unwrap();
    assert_eq!(cnf, pop_key);
    let pop_jws = CompactJws::parse(pop).unwrap();
    assert_eq!(pop_jws.header().typ(), Some(CLIENT_ATTESTATION_POP_TYP));
    let pop_claims = claims_of(pop_jws.verify(&cnf).unwrap().payload(), AttestationPart::Pop).unwrap();
    assert_eq!(pop_claims["aud"], vector["audience"]);
    assert_eq!(pop_claims["challenge"], vector["challenge"]);
    assert_eq!(pop_claims["iat"], vector["iat"]);
    // The attester key does not verify the PoP (nor the PoP key the attestation).
    assert!(matches!(pop_jws.verify(&attester), Err(schooltas_did::Error::InvalidSignature)));
    assert!(matches!(jws.verify(&pop_key), Err(schooltas_did::Error::InvalidSignature)));

    assert!(matches!(UnverifiedClientAttestation::parse(attestation, pop), Err(ClientAttestationError::MissingX5c)));
}
