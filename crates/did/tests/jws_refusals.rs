//! Every refusal of the JWS and key layer, each with a hand-made hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed step is a failed test

use hmac::{KeyInit, Mac};
use schooltas_did::jws::{self, CompactJws, Header};
use schooltas_did::strict_json::Error as JsonError;
use schooltas_did::{Algorithm, Error, Signer, SigningKey, VerifyingKey, base64url};
use serde_json::{Value, json};

fn b64(s: &str) -> String {
    base64url::encode(s.as_bytes())
}

/// A compact JWS with an arbitrary header, signed by `key` over whatever the header says.
fn signed_with_header(header_json: &str, payload: &str, key: &SigningKey) -> String {
    let input = format!("{}.{}", b64(header_json), b64(payload));
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", base64url::encode(sig.as_bytes()))
}

fn ed25519() -> SigningKey {
    SigningKey::generate(Algorithm::EdDsa).unwrap()
}

#[test]
fn round_trip_eddsa_and_es256() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let key = SigningKey::generate(alg).unwrap();
        let header = Header::new().with_typ("dc+sd-jwt").with_kid("did:example:school#key-1");
        let token = jws::sign_compact_json(&header, &json!({"given_name": "Sanne"}), &key).unwrap();
        let parsed = CompactJws::parse(&token).unwrap();
        assert_eq!(parsed.algorithm(), alg);
        assert_eq!(parsed.header().kid(), Some("did:example:school#key-1"));
        let verified = parsed.verify(key.verifying_key()).unwrap();
        let claims: Value = verified.payload_json().unwrap();
        assert_eq!(claims["given_name"], "Sanne");
    }
}

#[test]
fn alg_none_is_refused() {
    let token = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"sub":"x"}"#));
    assert!(matches!(CompactJws::parse(&token), Err(Error::AlgNone)));
    // Even with a well-formed 64-byte signature part.
    let token = format!("{}.{}.{}", b64(r#"{"alg":"none"}"#), b64("{}"), base64url::encode([0u8; 64]));
    assert!(matches!(CompactJws::parse(&token), Err(Error::AlgNone)));
}

#[test]
fn hs256_with_the_issuers_public_key_as_secret_is_refused() {
    // The classic key-confusion attack: the attacker MACs the token with the issuer's public
    // key (which everyone knows) and hopes the verifier feeds that key into HMAC.
    let issuer = ed25519();
    let public_jwk = Value::Object(issuer.verifying_key().to_jwk()).to_string();
    let input = format!("{}.{}", b64(r#"{"alg":"HS256"}"#), b64(r#"{"iss":"did:example:school"}"#));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(public_jwk.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    let tag = mac.finalize().into_bytes();
    let token = format!("{input}.{}", base64url::encode(tag));
    let err = CompactJws::parse(&token).unwrap_err();
    assert!(matches!(err, Error::HmacAlgorithm { ref alg } if alg == "HS256"), "{err}");
    assert!(err.to_string().contains("HMAC"), "{err}");
}

#[test]
fn unknown_algorithms_are_refused() {
    for alg in ["RS256", "ES384", "ES256K", "PS256", "EdDSA2"] {
        let token = format!("{}.{}.{}", b64(&format!(r#"{{"alg":"{alg}"}}"#)), b64("{}"), base64url::encode([1u8; 64]));
        assert!(matches!(CompactJws::parse(&token), Err(Error::UnsupportedAlgorithm { .. })), "{alg}");
    }
    let token = format!("{}.{}.{}", b64(r#"{"alg":5}"#), b64("{}"), base64url::encode([1u8; 64]));
    assert!(matches!(CompactJws::parse(&token), Err(Error::InvalidHeader { .. })));
    let token = format!("{}.{}.{}", b64(r#"{"typ":"JWT"}"#), b64("{}"), base64url::encode([1u8; 64]));
    assert!(matches!(CompactJws::parse(&token), Err(Error::InvalidHeader { .. })));
}

#[test]
fn algorithm_is_pinned_to_the_key() {
    // An Ed25519 signature whose header claims ES256, checked against a P-256 key …
    let ed = ed25519();
    let p256 = SigningKey::generate(Algorithm::Es256).unwrap();
    let token = signed_with_header(r#"{"alg":"ES256"}"#, "{}", &ed);
    let err = CompactJws::parse(&token).unwrap().verify(ed.verifying_key()).unwrap_err();
    assert!(matches!(err, Error::AlgorithmMismatch { key_alg: Algorithm::EdDsa, .. }), "{err}");
    // … and an ES256 token checked with an Ed25519 key.
    let token = jws::sign_compact(&Header::new(), b"{}", &p256).unwrap();
    let err = CompactJws::parse(&token).unwrap().verify(ed.verifying_key()).unwrap_err();
    assert!(matches!(err, Error::AlgorithmMismatch { key_alg: Algorithm::EdDsa, .. }), "{err}");
    // The same key type but another key: a plain signature failure.
    let other = ed25519();
    let token = jws::sign_compact(&Header::new(), b"{}", &ed).unwrap();
    assert!(matches!(CompactJws::parse(&token).unwrap().verify(other.verifying_key()), Err(Error::InvalidSignature)));
}

#[test]
fn unknown_critical_headers_are_refused() {
    let key = ed25519();
    let token = signed_with_header(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#, "{}", &key);
    let err = CompactJws::parse(&token).unwrap_err();
    assert!(matches!(err, Error::UnknownCriticalHeader { ref name } if name == "exp"), "{err}");

    // Malformed crit values are refused too.
    for header in [
        r#"{"alg":"EdDSA","crit":[]}"#,
        r#"{"alg":"EdDSA","crit":"exp"}"#,
        r#"{"alg":"EdDSA","crit":[1]}"#,
        r#"{"alg":"EdDSA","crit":["alg"]}"#,
        r#"{"alg":"EdDSA","crit":["b64"]}"#,
    ] {
        let token = signed_with_header(header, "{}", &key);
        assert!(matches!(CompactJws::parse(&token), Err(Error::InvalidHeader { .. })), "{header}");
    }
    // crit naming b64 with b64 true is understood and fine.
    let token = signed_with_header(r#"{"alg":"EdDSA","b64":true,"crit":["b64"]}"#, "{}", &key);
    CompactJws::parse(&token).unwrap().verify(key.verifying_key()).unwrap();
}

#[test]
fn unencoded_payload_is_refused() {
    let key = ed25519();
    let token = signed_with_header(r#"{"alg":"EdDSA","b64":false,"crit":["b64"]}"#, "{}", &key);
    assert!(matches!(CompactJws::parse(&token), Err(Error::UnencodedPayload)));
    let token = signed_with_header(r#"{"alg":"EdDSA","b64":false}"#, "{}", &key);
    assert!(matches!(CompactJws::parse(&token), Err(Error::UnencodedPayload)));
}

#[test]
fn duplicate_header_members_are_refused() {
    let key = ed25519();
    let token = signed_with_header(r#"{"alg":"EdDSA","alg":"none"}"#, "{}", &key);
    let err = CompactJws::parse(&token).unwrap_err();
    assert!(matches!(err, Error::Json(JsonError::DuplicateMember { ref name }) if name == "alg"), "{err}");
    // Nested in a header member, and escaped so that only an unescaping parser sees it.
    let token = signed_with_header(r#"{"alg":"EdDSA","jwk":{"kty":"OKP","\u006bty":"EC"}}"#, "{}", &key);
    let err = CompactJws::parse(&token).unwrap_err();
    assert!(matches!(err, Error::Json(JsonError::DuplicateMember { ref name }) if name == "kty"), "{err}");
    let token = signed_with_header(r#"{"alg":"EdDSA","iat":18446744073709551616}"#, "{}", &key);
    assert!(matches!(CompactJws::parse(&token).unwrap_err(), Error::Json(JsonError::IntegerOutOfRange)));
}

#[test]
fn a_signed_payload_with_a_duplicate_or_a_huge_integer_is_refused() {
    let key = ed25519();
    for (payload, duplicate) in [
        (r#"{"sub":"a","sub":"b"}"#, true),
        (r#"{"cnf":{"jwk":{"x":"a","x":"b"}}}"#, true),
        (r#"{"exp":18446744073709551616}"#, false),
        (r#"{"n":[-9223372036854775809]}"#, false),
    ] {
        let token = jws::sign_compact(&Header::new(), payload.as_bytes(), &key).unwrap();
        let verified = CompactJws::parse(&token).unwrap().verify(key.verifying_key()).unwrap();
        let err = verified.payload_json::<Value>().unwrap_err();
        if duplicate {
            assert!(matches!(err, Error::Json(JsonError::DuplicateMember { .. })), "{payload}: {err}");
        } else {
            assert!(matches!(err, Error::Json(JsonError::IntegerOutOfRange)), "{payload}: {err}");
        }
    }
    // Malformed JSON keeps its own variant.
    let token = jws::sign_compact(&Header::new(), b"{", &key).unwrap();
    let verified = CompactJws::parse(&token).unwrap().verify(key.verifying_key()).unwrap();
    assert!(matches!(verified.payload_json::<Value>().unwrap_err(), Error::InvalidPayload(_)));
}

#[test]
fn a_did_document_with_a_duplicate_member_is_refused() {
    let doc = br#"{"id":"did:web:school.example","id":"did:web:evil.example"}"#;
    let err = schooltas_did::DidDocument::from_json(doc).unwrap_err();
    assert!(matches!(err, Error::Json(JsonError::DuplicateMember { ref name }) if name == "id"), "{err}");
    let doc = br##"{"id":"did:web:school.example","verificationMethod":[{"id":"#k","id":"#j"}]}"##;
    let err = schooltas_did::DidDocument::from_json(doc).unwrap_err();
    assert!(matches!(err, Error::Json(JsonError::DuplicateMember { .. })), "{err}");
    let err = schooltas_did::DidDocument::from_json(br#"{"id":"did:web:a.example","x":1e2,"n":99999999999999999999}"#)
        .unwrap_err();
    assert!(matches!(err, Error::Json(JsonError::IntegerOutOfRange)), "{err}");
}

#[test]
fn a_did_jwk_with_a_duplicate_member_is_refused() {
    let jwk = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","crv":"X25519"}"#;
    let did = format!("did:jwk:{}", base64url::encode(jwk.as_bytes()));
    let err = schooltas_did::Resolver::offline().resolve(&did.parse().unwrap()).unwrap_err();
    assert!(matches!(err, Error::Json(JsonError::DuplicateMember { ref name }) if name == "crv"), "{err}");
}

#[test]
fn tampered_header_payload_or_signature_fails() {
    let key = ed25519();
    let token = jws::sign_compact(&Header::new().with_typ("a+jwt"), br#"{"grade":"2F"}"#, &key).unwrap();
    let parts: Vec<&str> = token.split('.').collect();

    let header2 = b64(r#"{"alg":"EdDSA","typ":"b+jwt"}"#);
    let payload2 = b64(r#"{"grade":"1S"}"#);
    let mut sig = base64url::decode(parts[2]).unwrap();
    sig[10] ^= 1;
    let sig2 = base64url::encode(&sig);
    for forged in [
        format!("{header2}.{}.{}", parts[1], parts[2]),
        format!("{}.{payload2}.{}", parts[0], parts[2]),
        format!("{}.{}.{sig2}", parts[0], parts[1]),
    ] {
        let parsed = CompactJws::parse(&forged).unwrap();
        assert!(matches!(parsed.verify(key.verifying_key()), Err(Error::InvalidSignature)), "{forged}");
    }
}

#[test]
fn malformed_structure_is_refused() {
    let key = ed25519();
    let token = jws::sign_compact(&Header::new(), b"{}", &key).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let cases = [
        (String::new(), "empty"),
        ("a.b".to_owned(), "two parts"),
        (format!("{token}.x"), "four parts"),
        (format!("{input}.{sig}=="), "padded signature"),
        (format!("{input}.{}", &sig[..sig.len() - 2]), "short signature"),
        (format!("{input}.{}", base64url::encode([0u8; 72])), "DER-length signature"),
        (format!("!!.{}", token.split_once('.').unwrap().1), "bad header base64"),
        (format!("{}.{}.{sig}", b64("[1,2]"), b64("{}")), "header not an object"),
        (format!("{}.{}.{sig}", b64(r#"{"alg":"EdDSA""#), b64("{}")), "header not JSON"),
        (format!("{}.@@@.{sig}", b64(r#"{"alg":"EdDSA"}"#)), "bad payload base64"),
    ];
    for (token, what) in cases {
        let result = CompactJws::parse(&token);
        assert!(
            matches!(
                result,
                Err(Error::MalformedJws { .. }
                    | Error::InvalidBase64 { .. }
                    | Error::InvalidSignature
                    | Error::InvalidHeader { .. })
            ),
            "{what}: {:?}",
            result.map(|_| ())
        );
    }
}

#[test]
fn oversize_input_is_refused_before_parsing() {
    let huge = "a".repeat(jws::DEFAULT_MAX_JWS_LEN + 1);
    assert!(matches!(CompactJws::parse(&huge), Err(Error::TooLarge { what: "JWS", .. })));
    let big_header = format!("{}.e30.{}", "a".repeat(jws::MAX_HEADER_LEN + 4), base64url::encode([0u8; 64]));
    assert!(matches!(CompactJws::parse(&big_header), Err(Error::TooLarge { what: "JWS header", .. })));
    let small_limit = jws::sign_compact(&Header::new(), b"{}", &ed25519()).unwrap();
    assert!(matches!(CompactJws::parse_with_limit(&small_limit, 10), Err(Error::TooLarge { .. })));
}

#[test]
fn es256_signature_from_another_key_or_high_bits_fails() {
    let key = SigningKey::generate(Algorithm::Es256).unwrap();
    let token = jws::sign_compact(&Header::new(), b"{}", &key).unwrap();
    let (input, _) = token.rsplit_once('.').unwrap();
    // r = s = 0 and r = s = n-ish garbage are not valid signatures.
    for sig in [[0u8; 64], [0xffu8; 64]] {
        let forged = format!("{input}.{}", base64url::encode(sig));
        let parsed = CompactJws::parse(&forged).unwrap();
        assert!(matches!(parsed.verify(key.verifying_key()), Err(Error::InvalidSignature)));
    }
}

#[test]
fn ed25519_small_order_keys_and_non_canonical_signatures_are_refused() {
    // The identity point (small order) as a public key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(matches!(VerifyingKey::from_ed25519_bytes(&identity), Err(Error::InvalidPublicKey { .. })));
    // A signature with S ≥ L (non-canonical) does not verify under verify_strict.
    let key = ed25519();
    let token = jws::sign_compact(&Header::new(), b"{}", &key).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut bytes = base64url::decode(sig).unwrap();
    bytes[63] |= 0xf0;
    let forged = format!("{input}.{}", base64url::encode(&bytes));
    assert!(matches!(CompactJws::parse(&forged).unwrap().verify(key.verifying_key()), Err(Error::InvalidSignature)));
}

#[test]
fn header_builder_cannot_set_alg_crit_or_b64() {
    let key = ed25519();
    let header = Header::new()
        .with_member("alg", json!("none"))
        .with_member("crit", json!(["x"]))
        .with_member("b64", json!(false))
        .with_member("x5u", json!("https://example.com"));
    let token = jws::sign_compact(&header, b"{}", &key).unwrap();
    let parsed = CompactJws::parse(&token).unwrap();
    assert_eq!(parsed.algorithm(), Algorithm::EdDsa);
    assert!(parsed.header().get("crit").is_none() && parsed.header().get("b64").is_none());
    parsed.verify(key.verifying_key()).unwrap();
}
