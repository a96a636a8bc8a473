//! Keys and JWKs: round trips, refusals, and secrets that never show.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed step is a failed test

use schooltas_did::{Algorithm, Error, PublicKey, Signer, SigningKey, VerifyingKey, base64url};
use serde_json::{Map, Value, json};

fn map(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("object")
}

#[test]
fn private_jwk_round_trips_for_both_algorithms() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let key = SigningKey::generate(alg).unwrap();
        let jwk = key.to_private_jwk();
        let parsed: Value = serde_json::from_str(&jwk).unwrap();
        assert!(parsed.get("d").is_some());
        let again = SigningKey::from_jwk_json(&jwk).unwrap();
        assert_eq!(again.verifying_key(), key.verifying_key());
        // Same key, same signatures verify across the two instances.
        let sig = again.sign(b"msg").unwrap();
        key.verifying_key().verify(alg, b"msg", &sig).unwrap();
        // The public JWK has no private member and parses back to the same key.
        let public = key.verifying_key().to_jwk();
        assert!(!public.contains_key("d"));
        assert_eq!(&VerifyingKey::from_jwk(&public).unwrap(), key.verifying_key());
    }
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let key = SigningKey::generate(alg).unwrap();
        let jwk: Value = serde_json::from_str(&key.to_private_jwk()).unwrap();
        let d = jwk["d"].as_str().unwrap().to_owned();
        let debug = format!("{key:?} {:#?}", key);
        assert!(!debug.contains(&d), "Debug leaks the private key: {debug}");
        assert!(debug.contains("SigningKey"));

        // A private JWK whose public part belongs to another key: the error must not echo d.
        let other = SigningKey::generate(alg).unwrap();
        let mut mismatched = map(jwk.clone());
        for (k, v) in other.verifying_key().to_jwk() {
            mismatched.insert(k, v);
        }
        let err = SigningKey::from_jwk(&mismatched).unwrap_err();
        assert!(matches!(err, Error::InvalidPrivateKey { .. }), "{err}");
        assert!(!format!("{err} {err:?}").contains(&d));

        // A private JWK where only a public one is allowed.
        let err = VerifyingKey::from_jwk(&map(jwk)).unwrap_err();
        assert!(matches!(err, Error::UnexpectedPrivateKey));
        assert!(!format!("{err} {err:?}").contains(&d));
    }
}

#[test]
fn malformed_jwks_are_refused_with_reasons() {
    let good = SigningKey::generate(Algorithm::Es256).unwrap().verifying_key().to_jwk();
    let x = good["x"].as_str().unwrap().to_owned();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"crv": "P-256", "x": x, "y": good["y"]}), "kty"),
        (json!({"kty": "EC", "x": x, "y": good["y"]}), "crv"),
        (json!({"kty": "EC", "crv": "P-256", "x": x}), "\"y\""),
        (json!({"kty": "EC", "crv": "P-256", "x": x, "y": 5}), "\"y\""),
        (json!({"kty": "EC", "crv": "P-256", "x": &x[1..], "y": good["y"]}), "32 bytes"),
        (json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}), "32 bytes"),
        (json!({"kty": "OKP", "crv": "Ed25519", "x": format!("{}=", base64url::encode([9u8; 32]))}), "32 bytes"),
    ];
    for (jwk, needle) in cases {
        let err = VerifyingKey::from_jwk(&map(jwk.clone())).unwrap_err();
        assert!(matches!(err, Error::InvalidJwk { .. }), "{jwk}: {err}");
        assert!(err.to_string().contains(needle), "{jwk}: {err}");
    }
}

#[test]
fn unsupported_key_types_are_named() {
    for (jwk, kty) in [
        (json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}), "RSA"),
        (json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}), "EC"),
        (json!({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}), "EC"),
        (json!({"kty": "oct", "k": "c2VjcmV0"}), "oct"),
        (json!({"kty": "OKP", "crv": "Ed448", "x": "AA"}), "OKP"),
    ] {
        let err = VerifyingKey::from_jwk(&map(jwk)).unwrap_err();
        assert!(matches!(err, Error::UnsupportedKeyType { kty: ref k, .. } if k == kty), "{err}");
    }
}

#[test]
fn points_off_the_curve_are_refused() {
    let good = SigningKey::generate(Algorithm::Es256).unwrap().verifying_key().to_jwk();
    let mut y = base64url::decode(good["y"].as_str().unwrap()).unwrap();
    y[31] ^= 1;
    let mut bad = good.clone();
    bad.insert("y".into(), base64url::encode(&y).into());
    assert!(matches!(VerifyingKey::from_jwk(&bad), Err(Error::InvalidPublicKey { key_type: "P-256", .. })));
}

#[test]
fn alg_and_use_members_must_fit_the_key() {
    let ed = SigningKey::generate(Algorithm::EdDsa).unwrap().verifying_key().to_jwk();
    let mut with_alg = ed.clone();
    with_alg.insert("alg".into(), "ES256".into());
    assert!(matches!(VerifyingKey::from_jwk(&with_alg), Err(Error::AlgorithmMismatch { .. })));
    with_alg.insert("alg".into(), "HS256".into());
    assert!(matches!(VerifyingKey::from_jwk(&with_alg), Err(Error::HmacAlgorithm { .. })));
    with_alg.insert("alg".into(), "EdDSA".into());
    VerifyingKey::from_jwk(&with_alg).unwrap();

    let mut enc = ed.clone();
    enc.insert("use".into(), "enc".into());
    assert!(matches!(VerifyingKey::from_jwk(&enc), Err(Error::InvalidJwk { .. })));

    let x25519 = json!({"kty": "OKP", "crv": "X25519", "x": base64url::encode([9u8; 32])});
    assert!(matches!(VerifyingKey::from_jwk(&map(x25519.clone())), Err(Error::NotASignatureKey { .. })));
    assert!(matches!(PublicKey::from_jwk(&map(x25519)), Ok(PublicKey::X25519(_))));
}

#[test]
fn thumbprints_are_stable_and_distinct() {
    let a = SigningKey::generate(Algorithm::Es256).unwrap();
    let b = SigningKey::generate(Algorithm::Es256).unwrap();
    let ta = a.verifying_key().thumbprint();
    assert_eq!(ta, a.verifying_key().thumbprint());
    assert_ne!(ta, b.verifying_key().thumbprint());
    assert_eq!(ta.len(), 43, "base64url of 32 bytes");
    // Extra members do not change the thumbprint (RFC 7638 §3.2).
    let mut jwk = a.verifying_key().to_jwk();
    jwk.insert("kid".into(), "school-key-2026".into());
    assert_eq!(VerifyingKey::from_jwk(&jwk).unwrap().thumbprint(), ta);
}

#[test]
fn generated_keys_differ() {
    let a = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let b = SigningKey::generate(Algorithm::EdDsa).unwrap();
    assert_ne!(a.verifying_key(), b.verifying_key());
}

#[test]
fn invalid_private_scalars_are_refused() {
    // P-256: d = 0 and d ≥ n are not private keys.
    assert!(matches!(SigningKey::from_p256_scalar(&[0u8; 32]), Err(Error::InvalidPrivateKey { .. })));
    assert!(matches!(SigningKey::from_p256_scalar(&[0xffu8; 32]), Err(Error::InvalidPrivateKey { .. })));
    // A private JWK with a short d.
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let mut jwk = map(serde_json::from_str(&key.to_private_jwk()).unwrap());
    jwk.insert("d".into(), "AAAA".into());
    assert!(matches!(SigningKey::from_jwk(&jwk), Err(Error::InvalidPrivateKey { .. })));
    jwk.remove("d");
    assert!(matches!(SigningKey::from_jwk(&jwk), Err(Error::InvalidPrivateKey { .. })));
}

#[test]
fn es256_backends_agree_with_an_independent_implementation() {
    // Our ES256 signatures (p256 signs, ring verifies) must also verify with p256's own
    // verifier, and signatures made by p256 directly must verify with ours.
    use p256::ecdsa::signature::{Signer as _, Verifier as _};
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let jwk: Value = serde_json::from_str(&key.to_private_jwk()).unwrap();
    let d = base64url::decode(jwk["d"].as_str().unwrap()).unwrap();
    let independent = p256::ecdsa::SigningKey::from_slice(&d).unwrap();
    let message = b"eyJhbGciOiJFUzI1NiJ9.e30";

    let ours = key.sign(message).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(ours.as_bytes()).unwrap();
    independent.verifying_key().verify(message, &sig).unwrap();

    let theirs: p256::ecdsa::Signature = independent.sign(message);
    let theirs = schooltas_did::Signature::from_slice(&theirs.to_bytes()).unwrap();
    key.verifying_key().verify(Algorithm::Es256, message, &theirs).unwrap();

    // The compressed point we write into did:key is p256's own compression.
    let compressed = independent.verifying_key().to_sec1_point(true);
    assert_eq!(key.verifying_key().to_compressed_bytes(), compressed.as_bytes());
}
