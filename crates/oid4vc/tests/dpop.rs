//! DPoP proofs (RFC 9449): round trips, and each refusal with its reason.
#![allow(clippy::unwrap_used, clippy::panic)]

use schooltas_did::jws::{Header, sign_compact_json};
use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_oid4vc::dpop::{DpopError, DpopPolicy, access_token_hash, htu, sign_dpop_proof, verify_dpop_proof};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const URL: &str = "https://school.example/oid4vci/credential";
const TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";

fn verify(proof: &str, token: Option<&str>) -> Result<schooltas_oid4vc::dpop::VerifiedDpop, DpopError> {
    verify_dpop_proof(proof, "POST", URL, token, &DpopPolicy::default(), NOW)
}

fn reason(result: Result<impl std::fmt::Debug, DpopError>) -> String {
    match result {
        Err(DpopError::InvalidProof(reason)) => reason,
        other => panic!("expected invalid_dpop_proof, got {other:?}"),
    }
}

/// A proof with these header members and claims, signed by `key` (bypassing `sign_dpop_proof`).
fn raw(key: &SigningKey, header: Header, claims: Value) -> String {
    sign_compact_json(&header, &claims, key).unwrap()
}

fn header(key: &SigningKey) -> Header {
    Header::new().with_typ("dpop+jwt").with_member("jwk", Value::Object(key.verifying_key().to_jwk()))
}

fn claims() -> Value {
    json!({"jti": "e1j3V_bKic8-LAEB", "htm": "POST", "htu": URL, "iat": NOW, "ath": access_token_hash(TOKEN)})
}

#[test]
fn ath_is_the_rfc_9449_example_hash() {
    // RFC 9449 §7.1: the example access token and its `ath`.
    assert_eq!(access_token_hash(TOKEN), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}

#[test]
fn proofs_of_both_algorithms_round_trip_and_name_their_key() {
    for algorithm in [Algorithm::Es256, Algorithm::EdDsa] {
        let key = SigningKey::generate(algorithm).unwrap();
        let proof = sign_dpop_proof(&key, "POST", URL, Some(TOKEN), Some("server-nonce"), NOW).unwrap();
        let verified = verify(&proof, Some(TOKEN)).unwrap();
        assert_eq!(verified.jkt, key.verifying_key().thumbprint());
        assert_eq!(verified.nonce.as_deref(), Some("server-nonce"));
        assert_eq!(verified.issued_at, NOW);
        assert!(verified.jti.len() >= 22, "128 random bits");
        // Two proofs never share a jti.
        let again = verify(&sign_dpop_proof(&key, "POST", URL, Some(TOKEN), None, NOW).unwrap(), Some(TOKEN)).unwrap();
        assert_ne!(again.jti, verified.jti);
        // A token-endpoint proof carries no ath.
        let token_proof = sign_dpop_proof(&key, "POST", URL, None, None, NOW).unwrap();
        assert!(verify(&token_proof, None).unwrap().nonce.is_none());
    }
}

#[test]
fn htu_is_compared_without_query_fragment_default_port_or_case() {
    assert_eq!(htu("HTTPS://School.Example:443/oid4vci/credential?x=1#f").unwrap(), URL);
    assert_eq!(htu("https://school.example").unwrap(), "https://school.example/");
    assert_eq!(htu("https://school.example:8443/a").unwrap(), "https://school.example:8443/a");
    for bad in ["ftp://school.example/", "school.example/a", "https:///a", "https://user@school.example/"] {
        assert!(htu(bad).is_none(), "{bad}");
    }
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let proof =
        sign_dpop_proof(&key, "POST", "https://SCHOOL.example:443/oid4vci/credential?q", None, None, NOW).unwrap();
    assert!(verify(&proof, None).is_ok());
}

#[test]
fn a_proof_for_another_request_is_refused() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let proof = sign_dpop_proof(&key, "POST", URL, Some(TOKEN), None, NOW).unwrap();
    let policy = DpopPolicy::default();
    let other_url =
        verify_dpop_proof(&proof, "POST", "https://school.example/oid4vci/token", Some(TOKEN), &policy, NOW);
    assert!(reason(other_url).contains("htu"));
    let other_method = verify_dpop_proof(&proof, "GET", URL, Some(TOKEN), &policy, NOW);
    assert!(reason(other_method).contains("htm"));
    assert!(reason(verify(&proof, Some("another-token"))).contains("ath is not"));
    assert!(reason(verify(&proof, None)).contains("none was presented"));
    let without_ath = sign_dpop_proof(&key, "POST", URL, None, None, NOW).unwrap();
    assert!(reason(verify(&without_ath, Some(TOKEN))).contains("ath is missing"));
}

#[test]
fn old_future_and_timeless_proofs_are_refused() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let old = sign_dpop_proof(&key, "POST", URL, None, None, NOW - 301).unwrap();
    assert!(reason(verify(&old, None)).contains("old"));
    let future = sign_dpop_proof(&key, "POST", URL, None, None, NOW + 61).unwrap();
    assert!(reason(verify(&future, None)).contains("future"));
    let mut c = claims();
    c.as_object_mut().unwrap().remove("iat");
    assert!(reason(verify(&raw(&key, header(&key), c), Some(TOKEN))).contains("iat"));
    let mut c = claims();
    c["iat"] = json!("1800000000");
    assert!(reason(verify(&raw(&key, header(&key), c), Some(TOKEN))).contains("iat"));
}

#[test]
fn headers_other_than_typ_and_a_public_jwk_are_refused() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let good = raw(&key, header(&key), claims());
    assert!(verify(&good, Some(TOKEN)).is_ok());

    let wrong_typ = Header::new().with_typ("jwt").with_member("jwk", Value::Object(key.verifying_key().to_jwk()));
    assert!(reason(verify(&raw(&key, wrong_typ, claims()), Some(TOKEN))).contains("typ"));
    let no_jwk = Header::new().with_typ("dpop+jwt");
    assert!(reason(verify(&raw(&key, no_jwk, claims()), Some(TOKEN))).contains("no jwk"));
    let with_kid = header(&key).with_kid("did:example:123#k");
    assert!(reason(verify(&raw(&key, with_kid, claims()), Some(TOKEN))).contains("kid"));
    let mut private = key.verifying_key().to_jwk();
    private.insert("d".into(), json!("c2VjcmV0"));
    let with_private = Header::new().with_typ("dpop+jwt").with_member("jwk", Value::Object(private));
    let refused = reason(verify(&raw(&key, with_private, claims()), Some(TOKEN)));
    assert!(refused.contains("private"), "{refused}");
    assert!(!refused.contains("c2VjcmV0"), "the refusal never echoes key material");
    // Signed by another key than the one in the header.
    let other = SigningKey::generate(Algorithm::Es256).unwrap();
    assert!(matches!(verify(&raw(&other, header(&key), claims()), Some(TOKEN)), Err(DpopError::InvalidProof(_))));
    // alg none / HS256: refused before any key is used.
    for alg in ["none", "HS256"] {
        let forged = format!(
            "{}.{}.",
            schooltas_did::base64url::encode(
                json!({"typ": "dpop+jwt", "alg": alg, "jwk": key.verifying_key().to_jwk()}).to_string()
            ),
            schooltas_did::base64url::encode(claims().to_string())
        );
        assert!(matches!(verify(&forged, Some(TOKEN)), Err(DpopError::InvalidProof(_))), "{alg}");
    }
}

#[test]
fn missing_or_odd_claims_are_refused() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    for (name, value, expected) in [
        ("jti", Value::Null, "jti"),
        ("jti", json!(""), "jti"),
        ("jti", json!("x".repeat(257)), "jti is too long"),
        ("htm", json!("post"), "htm"),
        ("htu", json!(7), "htu is not a string"),
        ("nonce", json!(1), "nonce is not a string"),
    ] {
        let mut c = claims();
        if value.is_null() {
            c.as_object_mut().unwrap().remove(name);
        } else {
            c[name] = value;
        }
        let refused = reason(verify(&raw(&key, header(&key), c), Some(TOKEN)));
        assert!(refused.contains(expected), "{name}: {refused}");
    }
    // Junk of every shape is a typed refusal, never a panic.
    for junk in ["", ".", "a.b.c", "a.b", &"A".repeat(5000)] {
        assert!(matches!(verify(junk, None), Err(DpopError::InvalidProof(_))), "{junk:.10}");
    }
}

#[test]
fn error_codes_follow_rfc_9449() {
    assert_eq!(DpopError::InvalidProof("x".into()).error_code(), "invalid_dpop_proof");
    assert_eq!(DpopError::UseNonce.error_code(), "use_dpop_nonce");
    assert_eq!(DpopError::Replayed.error_code(), "invalid_dpop_proof");
    assert_eq!(DpopError::KeyMismatch.error_code(), "invalid_token");
}
