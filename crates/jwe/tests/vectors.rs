//! The RFC test vectors in test-vectors/rfc7516-rfc7518/jwe.json.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::base64url;
use schooltas_jwe::content::{open, seal};
use schooltas_jwe::{ContentEncryption, EncryptionKey, RecipientKey, derive_key};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors/rfc7516-rfc7518/jwe.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bytes(value: &Value) -> Vec<u8> {
    value.as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect()
}

fn private_key(jwk: &Value) -> EncryptionKey {
    let d = base64url::decode_array::<32>(jwk["d"].as_str().unwrap()).unwrap();
    EncryptionKey::from_scalar_bytes(&d, "").unwrap()
}

fn public_key(jwk: &Value) -> RecipientKey {
    let mut public = jwk.as_object().unwrap().clone();
    public.remove("d");
    RecipientKey::from_jwk(&public).unwrap()
}

#[test]
fn rfc7518_appendix_c_ecdh_es_derived_key_both_ways() {
    let v = &vectors()["rfc7518_appendix_c"];
    let enc = ContentEncryption::from_enc(v["enc"].as_str().unwrap()).unwrap();
    let apu = base64url::decode(v["apu"].as_str().unwrap()).unwrap();
    let apv = base64url::decode(v["apv"].as_str().unwrap()).unwrap();
    assert_eq!((apu.as_slice(), apv.as_slice()), (&b"Alice"[..], &b"Bob"[..]));
    let expected = base64url::decode(v["derived_key"].as_str().unwrap()).unwrap();

    // Alice (the sender) with her ephemeral key and Bob's public key …
    let alice = private_key(&v["alice_ephemeral"]);
    let sender_side = derive_key(enc, &alice, &public_key(&v["bob_static"]), &apu, &apv);
    assert_eq!(sender_side.as_slice(), expected.as_slice());
    // … and Bob (the recipient) with his static key and Alice's epk agree.
    let bob = private_key(&v["bob_static"]);
    let recipient_side = derive_key(enc, &bob, &public_key(&v["alice_ephemeral"]), &apu, &apv);
    assert_eq!(recipient_side.as_slice(), expected.as_slice());
    // The public half of the d values is the published x/y.
    assert_eq!(alice.public_jwk()["x"], v["alice_ephemeral"]["x"]);
    assert_eq!(bob.public_jwk()["y"], v["bob_static"]["y"]);
}

#[test]
fn rfc7516_appendix_a1_aes_256_gcm_content_encryption() {
    let v = &vectors()["rfc7516_appendix_a1"];
    let enc = ContentEncryption::from_enc(v["enc"].as_str().unwrap()).unwrap();
    let cek = bytes(&v["cek"]);
    let iv = base64url::decode_array::<12>(v["iv"].as_str().unwrap()).unwrap();
    let aad = v["protected"].as_str().unwrap().as_bytes();
    let mut buffer = v["plaintext"].as_str().unwrap().as_bytes().to_vec();
    let tag = seal(enc, &cek, &iv, aad, &mut buffer).unwrap();
    assert_eq!(base64url::encode(&buffer), v["ciphertext"].as_str().unwrap());
    assert_eq!(base64url::encode(tag), v["tag"].as_str().unwrap());

    open(enc, &cek, &iv, aad, &mut buffer, &tag).unwrap();
    assert_eq!(buffer, v["plaintext"].as_str().unwrap().as_bytes());
}

#[test]
fn rfc7518_appendix_c_full_jwe_with_fixed_randomness_decrypts_at_bob() {
    // The Appendix C keys and apu/apv in a whole JWE: Bob decrypts what Alice's fixed
    // ephemeral key encrypted, and the header carries the published epk.
    let v = &vectors()["rfc7518_appendix_c"];
    let bob = {
        let d = base64url::decode_array::<32>(v["bob_static"]["d"].as_str().unwrap()).unwrap();
        EncryptionKey::from_scalar_bytes(&d, "bob").unwrap()
    };
    let randomness = schooltas_jwe::Randomness { ephemeral: private_key(&v["alice_ephemeral"]), iv: [7; 12] };
    let jwe = schooltas_jwe::Encryption::new(ContentEncryption::A128Gcm)
        .with_apu(*b"Alice")
        .with_apv(*b"Bob")
        .encrypt_with(&bob.recipient(), b"hello Bob", randomness)
        .unwrap();
    let parsed = schooltas_jwe::ParsedJwe::parse(&jwe).unwrap();
    assert_eq!(parsed.header().apu.as_deref(), Some(&b"Alice"[..]));
    assert_eq!(parsed.header().kid.as_deref(), Some("bob"));
    let header: Value = serde_json::from_slice(&base64url::decode(jwe.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["epk"]["x"], v["alice_ephemeral"]["x"]);
    assert_eq!(header["alg"], "ECDH-ES");
    assert_eq!(parsed.decrypt(&bob, &[ContentEncryption::A128Gcm]).unwrap().as_slice(), b"hello Bob");
}
