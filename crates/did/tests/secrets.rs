//! Secrets are boring to print: no `Debug` of a private key type shows key material.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::{Algorithm, PrivateJwk, Signer as _, SigningKey, base64url};
use zeroize::Zeroizing;

/// The private scalar `d` of a key, base64url, read from its JWK.
fn d_of(key: &SigningKey) -> String {
    let jwk: serde_json::Value = serde_json::from_str(&key.to_private_jwk()).unwrap();
    jwk["d"].as_str().unwrap().to_owned()
}

/// Every form the secret may take in text: base64url, hex, and Rust's byte-array `Debug`.
fn forms(d: &str) -> Vec<String> {
    let bytes = base64url::decode(d).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let array = format!("{:?}", bytes);
    let start = format!("{:?}", &bytes[..4]).trim_end_matches(']').to_owned();
    vec![d.to_owned(), hex, array, start]
}

fn assert_prints_no_secret(printed: &str, secret_forms: &[String]) {
    for form in secret_forms {
        assert!(!printed.contains(form.as_str()), "{printed} shows the secret as {form}");
    }
    assert!(!printed.contains("\"d\""), "{printed} shows a private JWK member");
}

#[test]
fn debug_of_each_secret_type_prints_no_key_material() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let key = SigningKey::generate(alg).unwrap();
        let secret = forms(&d_of(&key));

        assert_prints_no_secret(&format!("{key:?}"), &secret);
        assert_prints_no_secret(&format!("{key:#?}"), &secret);

        let jwk = key.to_private_jwk();
        assert_eq!(format!("{jwk:?}"), "PrivateJwk(<redacted>)");
        assert_prints_no_secret(&format!("{:?}", Some(&jwk)), &secret);
        // What a struct holding one derives prints.
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            key: PrivateJwk,
        }
        assert_prints_no_secret(&format!("{:?}", Holder { key: jwk.clone() }), &secret);

        if let Some(x25519) = key.derive_x25519_secret() {
            let x_forms = forms(&base64url::encode(x25519.as_bytes()));
            assert_eq!(format!("{x25519:?}"), "X25519SecretKey(<redacted>)");
            assert_prints_no_secret(&format!("{x25519:?}"), &x_forms);
        }
    }
}

#[test]
fn a_private_jwk_round_trips_through_serde_as_a_string_and_back_to_the_key() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let jwk = key.to_private_jwk();
    let json = Zeroizing::new(serde_json::to_string(&jwk).unwrap());
    assert!(json.starts_with('"'), "a JSON string");
    let back: PrivateJwk = serde_json::from_str(&json).unwrap();
    assert_eq!(back.to_signing_key().unwrap().verifying_key(), key.verifying_key());
    assert_eq!(back.as_str(), jwk.as_str());
}

#[test]
fn a_private_jwk_that_is_no_key_is_refused_when_used() {
    let junk = PrivateJwk::from_text(Zeroizing::new("{\"kty\":\"OKP\"}".to_owned()));
    let error = junk.to_signing_key().unwrap_err();
    assert!(matches!(error, schooltas_did::Error::InvalidPrivateKey { .. }), "{error}");
}
