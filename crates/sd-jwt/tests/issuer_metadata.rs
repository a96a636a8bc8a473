//! JWT VC Issuer Metadata (SD-JWT VC §5): reading it for an `iss` and picking the key for a
//! header, and every refusal by its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::jws::{self, CompactJws};
use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_sd_jwt::{Error, IssuerMetadataKeys, issuer_metadata_keys, key_from_jwk_set};
use serde_json::{Value, json};

fn jwk(key: &SigningKey, kid: &str) -> Value {
    let mut jwk = key.verifying_key().to_jwk();
    jwk.insert("kid".into(), json!(kid));
    Value::Object(jwk)
}

fn header_of(key: &SigningKey, kid: Option<&str>) -> jws::Header {
    let mut header = jws::Header::new();
    if let Some(kid) = kid {
        header = header.with_kid(kid);
    }
    let token = jws::sign_compact(&header, b"{}", key).unwrap();
    CompactJws::parse(&token).unwrap().header().clone()
}

fn reason(error: Error) -> &'static str {
    match error {
        Error::IssuerKey { reason } => reason,
        other => panic!("expected an IssuerKey error, got {other}"),
    }
}

#[test]
fn the_metadata_must_name_the_credentials_issuer_and_carry_one_key_set() {
    let iss = "https://scholen.example/12AB00";
    let inline = json!({"issuer": iss, "jwks": {"keys": []}}).to_string();
    assert_eq!(issuer_metadata_keys(inline.as_bytes(), iss).unwrap(), IssuerMetadataKeys::Inline(json!({"keys": []})));
    let by_reference = json!({"issuer": iss, "jwks_uri": "https://keys.example/jwks"}).to_string();
    assert_eq!(
        issuer_metadata_keys(by_reference.as_bytes(), iss).unwrap(),
        IssuerMetadataKeys::ByReference("https://keys.example/jwks".into())
    );
    // §5.3: another issuer's metadata must not be used, even one differing by a trailing slash.
    let other = json!({"issuer": format!("{iss}/"), "jwks": {"keys": []}}).to_string();
    assert!(reason(issuer_metadata_keys(other.as_bytes(), iss).unwrap_err()).contains("another issuer"));
    let both = json!({"issuer": iss, "jwks": {"keys": []}, "jwks_uri": "https://k.example"}).to_string();
    assert!(reason(issuer_metadata_keys(both.as_bytes(), iss).unwrap_err()).contains("both"));
    let neither = json!({"issuer": iss}).to_string();
    assert!(reason(issuer_metadata_keys(neither.as_bytes(), iss).unwrap_err()).contains("neither"));
    let plain = json!({"issuer": iss, "jwks_uri": "http://k.example"}).to_string();
    assert!(reason(issuer_metadata_keys(plain.as_bytes(), iss).unwrap_err()).contains("https"));
    let twice = format!(r#"{{"issuer":"{iss}","issuer":"https://evil.example","jwks":{{"keys":[]}}}}"#);
    assert!(reason(issuer_metadata_keys(twice.as_bytes(), iss).unwrap_err()).contains("strict"));
}

#[test]
fn the_key_is_the_one_the_kid_names_for_the_headers_algorithm() {
    let p256 = SigningKey::generate(Algorithm::Es256).unwrap();
    let ed = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let set = json!({"keys": [jwk(&p256, "k1"), jwk(&ed, "k2")]});
    assert_eq!(&key_from_jwk_set(&set, &header_of(&p256, Some("k1"))).unwrap(), p256.verifying_key());
    // Without a kid: the only key of the header's algorithm.
    assert_eq!(&key_from_jwk_set(&set, &header_of(&ed, None)).unwrap(), ed.verifying_key());
    // A kid naming a key of another algorithm is refused, as is an unknown kid.
    assert!(
        reason(key_from_jwk_set(&set, &header_of(&ed, Some("k1"))).unwrap_err()).contains("not a public signing key")
    );
    assert!(reason(key_from_jwk_set(&set, &header_of(&ed, Some("k9"))).unwrap_err()).contains("no key"));
    // Two keys with one kid: ambiguous.
    let twice = json!({"keys": [jwk(&p256, "k1"), jwk(&p256, "k1")]});
    assert!(reason(key_from_jwk_set(&twice, &header_of(&p256, Some("k1"))).unwrap_err()).contains("several"));
    // A JWK with private members, or for encryption, is never a verification key.
    let mut private = jwk(&p256, "k1");
    private["d"] = json!("AAAA");
    let error = key_from_jwk_set(&json!({"keys": [private]}), &header_of(&p256, Some("k1"))).unwrap_err();
    assert!(matches!(error, Error::IssuerKey { .. } | Error::Did(_)), "{error:?}");
    assert!(!format!("{error:?}").contains("AAAA"), "a private member is never echoed");
    let mut enc = jwk(&p256, "k1");
    enc["use"] = json!("enc");
    let error = key_from_jwk_set(&json!({"keys": [enc]}), &header_of(&p256, Some("k1"))).unwrap_err();
    assert!(matches!(error, Error::IssuerKey { .. }), "{error:?}");
    let two_p256 = json!({"keys": [jwk(&p256, "a"), jwk(&SigningKey::generate(Algorithm::Es256).unwrap(), "b")]});
    assert!(reason(key_from_jwk_set(&two_p256, &header_of(&p256, None)).unwrap_err()).contains("several"));
}
