//! One test per refusal: each asserts its specific error variant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::base64url;
use schooltas_jwe::{ContentEncryption, Encryption, EncryptionKey, JweError, ParsedJwe, RecipientKey, decrypt};
use serde_json::{Value, json};

const BOTH: [ContentEncryption; 2] = ContentEncryption::ALL;
const SECRET: &[u8] = b"{\"vp_token\":{\"q\":[\"child-name-Anna\"]},\"state\":\"s1\"}";

fn setup() -> (EncryptionKey, String) {
    let key = EncryptionKey::generate("verifier-enc-1").unwrap();
    let jwe = Encryption::new(ContentEncryption::A256Gcm).encrypt(&key.recipient(), SECRET).unwrap();
    (key, jwe)
}

/// Replaces part `index` of the compact JWE.
fn with_part(jwe: &str, index: usize, part: &str) -> String {
    let mut parts: Vec<&str> = jwe.split('.').collect();
    parts[index] = part;
    parts.join(".")
}

/// Flips one bit of the decoded part `index`.
fn flip(jwe: &str, index: usize) -> String {
    let part = jwe.split('.').nth(index).unwrap();
    let mut bytes = base64url::decode(part).unwrap();
    bytes[0] ^= 1;
    with_part(jwe, index, &base64url::encode(bytes))
}

fn header(jwe: &str) -> serde_json::Map<String, Value> {
    serde_json::from_slice(&base64url::decode(jwe.split('.').next().unwrap()).unwrap()).unwrap()
}

fn with_header(jwe: &str, header: &serde_json::Map<String, Value>) -> String {
    with_part(jwe, 0, &base64url::encode(serde_json::to_vec(header).unwrap()))
}

#[test]
fn round_trip_both_encs_and_error_text_never_echoes_plaintext() {
    let key = EncryptionKey::generate("k").unwrap();
    for enc in BOTH {
        let jwe = Encryption::new(enc).encrypt(&key.recipient(), SECRET).unwrap();
        assert_eq!(decrypt(&jwe, &key, &[enc]).unwrap().as_slice(), SECRET);
        assert!(!jwe.contains("Anna"));
    }
    let (key, jwe) = setup();
    let error = decrypt(&flip(&jwe, 3), &key, &BOTH).unwrap_err();
    assert!(!format!("{error} {error:?}").contains("Anna"));
    assert!(!format!("{key:?}").contains(&base64url::encode(key.to_scalar_bytes().as_slice())));
}

#[test]
fn tampered_tag_is_refused() {
    let (key, jwe) = setup();
    assert!(matches!(decrypt(&flip(&jwe, 4), &key, &BOTH), Err(JweError::DecryptionFailed)));
}

#[test]
fn tampered_ciphertext_is_refused() {
    let (key, jwe) = setup();
    assert!(matches!(decrypt(&flip(&jwe, 3), &key, &BOTH), Err(JweError::DecryptionFailed)));
}

#[test]
fn tampered_iv_is_refused() {
    let (key, jwe) = setup();
    assert!(matches!(decrypt(&flip(&jwe, 2), &key, &BOTH), Err(JweError::DecryptionFailed)));
}

#[test]
fn tampered_header_is_refused_by_the_tag() {
    let (key, jwe) = setup();
    let mut h = header(&jwe);
    h.insert("typ".into(), "JWT".into());
    assert!(matches!(decrypt(&with_header(&jwe, &h), &key, &BOTH), Err(JweError::DecryptionFailed)));
}

#[test]
fn wrong_key_is_refused() {
    let (_, jwe) = setup();
    let other = EncryptionKey::generate("verifier-enc-1").unwrap();
    assert!(matches!(decrypt(&jwe, &other, &BOTH), Err(JweError::DecryptionFailed)));
}

#[test]
fn another_kid_is_refused() {
    let (_, jwe) = setup();
    let other = EncryptionKey::generate("verifier-enc-2").unwrap();
    match decrypt(&jwe, &other, &BOTH) {
        Err(JweError::KeyIdMismatch { expected, found }) => {
            assert_eq!((expected.as_str(), found.as_str()), ("verifier-enc-2", "verifier-enc-1"));
        }
        other => panic!("expected KeyIdMismatch, got {other:?}"),
    }
}

#[test]
fn epk_off_the_curve_is_refused() {
    let (_, jwe) = setup();
    let mut h = header(&jwe);
    let y = h["epk"]["y"].as_str().unwrap().to_owned();
    let mut y = base64url::decode(y).unwrap();
    y[31] ^= 1;
    h["epk"]["y"] = base64url::encode(y).into();
    assert!(matches!(
        ParsedJwe::parse(&with_header(&jwe, &h)),
        Err(JweError::InvalidEphemeralKey { reason: "the point is not on the P-256 curve" })
    ));
}

#[test]
fn epk_of_another_curve_or_missing_is_refused() {
    let (key, jwe) = setup();
    let mut h = header(&jwe);
    h["epk"]["crv"] = "P-384".into();
    assert!(matches!(decrypt(&with_header(&jwe, &h), &key, &BOTH), Err(JweError::InvalidEphemeralKey { .. })));
    h.remove("epk");
    assert!(matches!(decrypt(&with_header(&jwe, &h), &key, &BOTH), Err(JweError::InvalidEphemeralKey { .. })));
}

#[test]
fn unsupported_alg_is_refused() {
    let (key, jwe) = setup();
    for alg in ["ECDH-ES+A128KW", "RSA-OAEP", "dir", "none"] {
        let mut h = header(&jwe);
        h["alg"] = alg.into();
        match decrypt(&with_header(&jwe, &h), &key, &BOTH) {
            Err(JweError::UnsupportedAlgorithm { alg: found }) => assert_eq!(found, alg),
            other => panic!("expected UnsupportedAlgorithm for {alg}, got {other:?}"),
        }
    }
}

#[test]
fn unsupported_enc_is_refused() {
    let (key, jwe) = setup();
    let mut h = header(&jwe);
    h["enc"] = "A128CBC-HS256".into();
    assert!(matches!(
        decrypt(&with_header(&jwe, &h), &key, &BOTH),
        Err(JweError::UnsupportedEncryption { enc }) if enc == "A128CBC-HS256"
    ));
}

#[test]
fn enc_not_offered_is_refused() {
    let (key, jwe) = setup();
    assert!(matches!(
        decrypt(&jwe, &key, &[ContentEncryption::A128Gcm]),
        Err(JweError::EncryptionNotOffered { enc: ContentEncryption::A256Gcm })
    ));
}

#[test]
fn zip_and_crit_are_refused() {
    let (key, jwe) = setup();
    let mut h = header(&jwe);
    h.insert("zip".into(), "DEF".into());
    assert!(matches!(decrypt(&with_header(&jwe, &h), &key, &BOTH), Err(JweError::CompressionRefused)));
    let mut h = header(&jwe);
    h.insert("crit".into(), json!(["exp"]));
    assert!(matches!(decrypt(&with_header(&jwe, &h), &key, &BOTH), Err(JweError::CriticalExtension)));
}

#[test]
fn duplicate_header_member_is_refused() {
    let (key, jwe) = setup();
    let text = String::from_utf8(base64url::decode(jwe.split('.').next().unwrap()).unwrap()).unwrap();
    let duplicated = text.replacen("{", "{\"enc\":\"A128GCM\",", 1);
    let forged = with_part(&jwe, 0, &base64url::encode(duplicated));
    assert!(matches!(
        decrypt(&forged, &key, &BOTH),
        Err(JweError::HeaderJson(schooltas_did::strict_json::Error::DuplicateMember { .. }))
    ));
}

#[test]
fn structure_is_strict() {
    let (key, jwe) = setup();
    assert!(matches!(decrypt(&format!("{jwe}.x"), &key, &BOTH), Err(JweError::Malformed { .. })));
    let four: Vec<&str> = jwe.split('.').take(4).collect();
    assert!(matches!(decrypt(&four.join("."), &key, &BOTH), Err(JweError::Malformed { .. })));
    assert!(matches!(decrypt(&with_part(&jwe, 1, "AAAA"), &key, &BOTH), Err(JweError::EncryptedKeyPresent)));
    assert!(matches!(decrypt(&with_part(&jwe, 2, "AAAA"), &key, &BOTH), Err(JweError::Malformed { .. })));
    assert!(matches!(decrypt(&with_part(&jwe, 3, "a+b/"), &key, &BOTH), Err(JweError::Malformed { .. })));
    assert!(matches!(decrypt(&with_part(&jwe, 0, "W10"), &key, &BOTH), Err(JweError::InvalidHeader { .. })));
}

#[test]
fn recipient_jwk_rules() {
    let key = EncryptionKey::generate("k").unwrap();
    let jwk = key.public_jwk();
    assert_eq!(
        (jwk["use"].as_str(), jwk["alg"].as_str(), jwk["kid"].as_str()),
        (Some("enc"), Some("ECDH-ES"), Some("k"))
    );
    assert_eq!(RecipientKey::from_jwk(&jwk).unwrap(), key.recipient());
    for (member, value, reason) in [
        ("use", json!("sig"), "\"use\" is not enc"),
        ("alg", json!("ECDH-ES+A256KW"), "\"alg\" is not ECDH-ES"),
        ("crv", json!("P-384"), "\"crv\" is not P-256"),
        ("kty", json!("OKP"), "\"kty\" is not EC"),
        ("d", json!("AAAA"), "the JWK carries a private key (\"d\")"),
    ] {
        let mut bad = jwk.clone();
        bad.insert(member.into(), value);
        match RecipientKey::from_jwk(&bad) {
            Err(JweError::UnusableRecipientKey { reason: found }) => assert_eq!(found, reason),
            other => panic!("expected UnusableRecipientKey for {member}, got {other:?}"),
        }
    }
}

#[test]
fn scalar_round_trip_and_invalid_scalar() {
    let key = EncryptionKey::generate("k").unwrap();
    let again = EncryptionKey::from_scalar_bytes(&key.to_scalar_bytes(), "k").unwrap();
    assert_eq!(again.public_jwk(), key.public_jwk());
    assert!(matches!(EncryptionKey::from_scalar_bytes(&[0; 32], "k"), Err(JweError::InvalidSecretKey)));
    assert!(matches!(EncryptionKey::from_scalar_bytes(&[0xff; 32], "k"), Err(JweError::InvalidSecretKey)));
}
