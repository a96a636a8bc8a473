//! Wallet attestations at the token endpoint (OpenID4VCI 1.0 Appendix E, HAIP 1.0 §4.4.1):
//! the metadata, the round trip, and each refusal with its error code — a refused attestation
//! costs no code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use schooltas_did::{Algorithm, Signer as _, SigningKey};
use schooltas_issuer::oid4vci::ClientAuthHeaders;
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Issuer, OfferPolicy, WalletAttestationRequirement};
use schooltas_oid4vc::client_attestation::{
    ClientAttestationClaims, sign_client_attestation, sign_client_attestation_pop,
};
use schooltas_oid4vc::form;
use schooltas_oid4vc::oid4vci::{CredentialOfferUri, ErrorCode, TokenRequest};
use schooltas_x509::{CertificateAuthority, Profile, Subject, TrustAnchors, Validity};

const NOW: i64 = 1_800_000_000;
const AS: &str = "https://delinde.example";
const WALLET: &str = "https://wallet.example/schooltas";

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
    let chain = root
        .issue_wallet_provider_certificate(
            key.verifying_key(),
            "https://wallet.example",
            &Subject::new("Wallet BV", "Wallet BV attestations").unwrap(),
            Validity::days_from(NOW - 86_400, 365).unwrap(),
        )
        .unwrap()
        .chain()
        .certificates()
        .to_vec();
    Provider { root, key, chain }
}

impl Provider {
    fn anchors(&self) -> TrustAnchors {
        TrustAnchors::from_der(vec![self.root.certificate_der().to_vec()]).unwrap()
    }

    fn attest(&self, client_id: &str, instance: &SigningKey) -> String {
        let claims = ClientAttestationClaims::new(
            "https://wallet.example",
            client_id,
            NOW + 86_400,
            instance.verifying_key().clone(),
        );
        sign_client_attestation(&self.key, self.chain.clone(), &claims).unwrap()
    }
}

fn issuer(requirement: WalletAttestationRequirement) -> Issuer<SqliteStore> {
    common::school(SqliteStore::in_memory().unwrap()).with_wallet_attestation(requirement)
}

fn token_body(issuer: &Issuer<SqliteStore>) -> String {
    let (offer, secrets) =
        issuer.offer(&OfferPolicy::default(), "pupil-17", &["pupil_enrolment".to_owned()], NOW).unwrap();
    let CredentialOfferUri::ByValue(offer) = CredentialOfferUri::parse(&offer.to_uri().unwrap()).unwrap() else {
        panic!("an offer by value")
    };
    let grant = offer.pre_authorized_grant().unwrap();
    TokenRequest {
        pre_authorized_code: grant.pre_authorized_code.clone(),
        tx_code: Some(secrets.pin.as_ref().unwrap().to_string()),
    }
    .to_form()
}

fn headers<'a>(attestation: &'a str, pop: &'a str) -> Option<ClientAuthHeaders<'a>> {
    Some(ClientAuthHeaders { attestation: Some(attestation), pop: Some(pop) })
}

fn pop(instance: &SigningKey, jti: &str) -> String {
    sign_client_attestation_pop(instance, AS, jti, NOW, None).unwrap()
}

#[test]
fn the_metadata_names_the_method_and_its_algorithms() {
    let provider = provider();
    let metadata = issuer(WalletAttestationRequirement::new(provider.anchors())).authorization_server_metadata();
    assert_eq!(metadata.token_endpoint_auth_methods_supported, ["attest_jwt_client_auth"]);
    assert_eq!(metadata.client_attestation_signing_alg_values_supported, ["ES256"]);
    assert_eq!(metadata.client_attestation_pop_signing_alg_values_supported, ["ES256"]);
    let json = serde_json::to_value(&metadata).unwrap();
    assert_eq!(json["token_endpoint_auth_methods_supported"][0], "attest_jwt_client_auth");
    // Off: the members are left out.
    let plain = serde_json::to_value(common::school(SqliteStore::in_memory().unwrap()).authorization_server_metadata())
        .unwrap();
    assert!(plain.get("token_endpoint_auth_methods_supported").is_none());
    assert!(plain.get("client_attestation_signing_alg_values_supported").is_none());
}

#[test]
fn a_missing_attestation_is_invalid_client_and_the_code_still_redeems_with_one() {
    let provider = provider();
    let issuer = issuer(WalletAttestationRequirement::new(provider.anchors()));
    let policy = OfferPolicy::default();
    let body = token_body(&issuer);
    let instance = SigningKey::generate(Algorithm::Es256).unwrap();
    let attestation = provider.attest(WALLET, &instance);

    for refused in [
        issuer.token_endpoint_with(&policy, &body, None, None, NOW).unwrap_err(),
        issuer.token_endpoint_with_dpop(&policy, &body, None, NOW).unwrap_err(),
        issuer.token_endpoint(&policy, &body, NOW).unwrap_err(),
        issuer
            .token_endpoint_with(
                &policy,
                &body,
                None,
                Some(ClientAuthHeaders { attestation: Some(&attestation), pop: None }),
                NOW,
            )
            .unwrap_err(),
    ] {
        assert_eq!(refused.error, ErrorCode::InvalidClient);
        let description = refused.error_description.unwrap_or_default();
        assert!(description.contains("OAuth-Client-Attestation and OAuth-Client-Attestation-PoP"), "{description}");
    }

    let token =
        issuer.token_endpoint_with(&policy, &body, None, headers(&attestation, &pop(&instance, "jti-1")), NOW).unwrap();
    assert_eq!(token.token_type, "Bearer");
    // check_client_attestation on its own returns who the wallet is.
    let verified = issuer.check_client_attestation(Some(&attestation), Some(&pop(&instance, "jti-2")), NOW).unwrap();
    assert_eq!(verified.client_id, WALLET);
    assert_eq!(verified.instance_key, *instance.verifying_key());
}

#[test]
fn a_chain_to_an_unknown_anchor_is_invalid_client_and_costs_no_code() {
    let trusted = provider();
    let unknown = provider();
    let issuer = issuer(WalletAttestationRequirement::new(trusted.anchors()));
    let policy = OfferPolicy::default();
    let body = token_body(&issuer);
    let instance = SigningKey::generate(Algorithm::Es256).unwrap();
    let foreign = unknown.attest(WALLET, &instance);
    let refused =
        issuer.token_endpoint_with(&policy, &body, None, headers(&foreign, &pop(&instance, "j-1")), NOW).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidClient);
    assert!(refused.error_description.unwrap_or_default().contains("not a trusted wallet provider"));
    let attestation = trusted.attest(WALLET, &instance);
    assert!(
        issuer.token_endpoint_with(&policy, &body, None, headers(&attestation, &pop(&instance, "j-2")), NOW).is_ok()
    );
}

#[test]
fn a_replayed_pop_is_invalid_client() {
    let provider = provider();
    let issuer = issuer(WalletAttestationRequirement::new(provider.anchors()));
    let policy = OfferPolicy::default();
    let instance = SigningKey::generate(Algorithm::Es256).unwrap();
    let attestation = provider.attest(WALLET, &instance);
    let pop = pop(&instance, "once");
    issuer.token_endpoint_with(&policy, &token_body(&issuer), None, headers(&attestation, &pop), NOW).unwrap();
    let body = token_body(&issuer);
    let replayed = issuer.token_endpoint_with(&policy, &body, None, headers(&attestation, &pop), NOW + 1).unwrap_err();
    assert_eq!(replayed.error, ErrorCode::InvalidClient);
    assert!(replayed.error_description.unwrap_or_default().contains("used before"));
    // The same jti by another instance is another PoP.
    let other = SigningKey::generate(Algorithm::Es256).unwrap();
    let others = provider.attest(WALLET, &other);
    assert!(
        issuer.token_endpoint_with(&policy, &body, None, headers(&others, &self::pop(&other, "once")), NOW + 1).is_ok()
    );
}

#[test]
fn a_wallet_off_the_allow_list_or_naming_another_client_id_is_invalid_client() {
    let provider = provider();
    let issuer = issuer(WalletAttestationRequirement::new(provider.anchors()).allow_clients([WALLET]));
    let policy = OfferPolicy::default();
    let body = token_body(&issuer);
    let instance = SigningKey::generate(Algorithm::Es256).unwrap();
    let stranger = provider.attest("https://wallet.example/other-app", &instance);
    let refused =
        issuer.token_endpoint_with(&policy, &body, None, headers(&stranger, &pop(&instance, "a")), NOW).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidClient);
    assert!(refused.error_description.unwrap_or_default().contains("not one this authorization server accepts"));

    let attestation = provider.attest(WALLET, &instance);
    let with_client_id = format!("{body}&{}", form::encode(&[("client_id", "https://wallet.example/other-app")]));
    let refused = issuer
        .token_endpoint_with(&policy, &with_client_id, None, headers(&attestation, &pop(&instance, "b")), NOW)
        .unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidClient);
    assert!(refused.error_description.unwrap_or_default().contains("client_id is not the attestation's sub"));
    let with_own = format!("{body}&{}", form::encode(&[("client_id", WALLET)]));
    assert!(
        issuer.token_endpoint_with(&policy, &with_own, None, headers(&attestation, &pop(&instance, "c")), NOW).is_ok()
    );
}

#[test]
fn a_required_challenge_is_sent_back_with_use_attestation_challenge() {
    let provider = provider();
    let issuer = issuer(WalletAttestationRequirement::new(provider.anchors()).require_challenge());
    let policy = OfferPolicy::default();
    let body = token_body(&issuer);
    let instance = SigningKey::generate(Algorithm::Es256).unwrap();
    let attestation = provider.attest(WALLET, &instance);
    let refused =
        issuer.token_endpoint_with(&policy, &body, None, headers(&attestation, &pop(&instance, "x")), NOW).unwrap_err();
    assert_eq!(refused.error, ErrorCode::Other("use_attestation_challenge".into()));
    let challenge = issuer.attestation_challenge(NOW).unwrap();
    let pop = sign_client_attestation_pop(&instance, AS, "y", NOW, Some(&challenge)).unwrap();
    assert!(issuer.token_endpoint_with(&policy, &body, None, headers(&attestation, &pop), NOW).is_ok());
    assert!(common::school(SqliteStore::in_memory().unwrap()).attestation_challenge(NOW).is_none());
}

#[test]
fn an_issuer_without_the_requirement_ignores_the_headers() {
    let issuer = common::school(SqliteStore::in_memory().unwrap());
    let body = token_body(&issuer);
    let junk = Some(ClientAuthHeaders { attestation: Some("junk"), pop: Some("junk") });
    assert!(issuer.token_endpoint_with(&OfferPolicy::default(), &body, None, junk, NOW).is_ok());
    let refused = issuer.check_client_attestation(Some("junk"), Some("junk"), NOW).unwrap_err();
    assert_eq!(refused.error, ErrorCode::InvalidClient);
}
