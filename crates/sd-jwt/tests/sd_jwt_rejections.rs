//! Every verification rule of RFC 9901 §7 / SD-JWT VC with a hand-made hostile input, plus the
//! round trips they are measured against.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::jws::{self, Header};
use schooltas_did::{Algorithm, Signer, SigningKey, base64url};
use schooltas_sd_jwt::{ClaimPath, Error};
use schooltas_sd_jwt::{
    HolderSdJwt, KeyBinding, KeyBindingInput, KeyBindingPolicy, Limits, RandomSalts, SdJwtBuilder, TypPolicy,
    UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions, key_binding_jwt,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_800_000_000;
const NONCE: &str = "nonce-4f1c";
const AUD: &str = "https://fotograaf.example";
/// A claim value that must never show up in an error message.
const SECRET_NAME: &str = "Sanne-de-Vries";

struct Fixture {
    school: SigningKey,
    child: SigningKey,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            school: SigningKey::generate(Algorithm::EdDsa).unwrap(),
            child: SigningKey::generate(Algorithm::EdDsa).unwrap(),
        }
    }

    fn claims() -> Map<String, Value> {
        json!({
            "iss": "did:web:basisschool.example",
            "vct": "https://schooltas.example/credentials/enrolment",
            "iat": NOW - 1000,
            "exp": NOW + 100_000,
            "given_name": SECRET_NAME,
            "family_name": "de Vries",
            "birth_date": "2014-03-01",
            "age_over_12": false,
            "school": {"name": "De Linde", "brin": "12AB", "location": "12AB00", "group": "7"},
            "nationalities": ["NL", "BE"]
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn issue(&self) -> String {
        SdJwtBuilder::new(Self::claims())
            .disclosable(ClaimPath::claim("given_name"))
            .disclosable(ClaimPath::claim("family_name"))
            .disclosable(ClaimPath::claim("birth_date"))
            .disclosable(ClaimPath::claim("age_over_12"))
            .disclosable(ClaimPath::claim("school"))
            .disclosable(ClaimPath::parse_dotted("school.group").unwrap())
            .disclosable(ClaimPath::parse_dotted("nationalities.*").unwrap())
            .decoy_digests(3)
            .holder_key(self.child.verifying_key())
            .kid("did:web:basisschool.example#key-1")
            .issue(&self.school, &mut RandomSalts)
            .unwrap()
            .to_string()
    }

    fn present(&self, issued: &str, paths: &[&str]) -> String {
        let holder = HolderSdJwt::parse(issued).unwrap();
        let paths: Vec<ClaimPath> = paths.iter().map(|p| ClaimPath::parse_dotted(p).unwrap()).collect();
        let kb = KeyBindingInput { nonce: NONCE.into(), audience: AUD.into(), issued_at: NOW - 5 };
        holder.present(&paths, Some((&self.child, &kb))).unwrap()
    }

    fn verify(&self, presentation: &str) -> Result<VerifiedSdJwt, Error> {
        verify_with(presentation, &self.school, &options())
    }
}

fn options() -> VerifyOptions {
    VerifyOptions::sd_jwt_vc(KeyBinding::new(NONCE, AUD))
}

fn verify_with(presentation: &str, key: &SigningKey, options: &VerifyOptions) -> Result<VerifiedSdJwt, Error> {
    UnverifiedSdJwt::parse_with_limits(presentation, &options.limits)?.verify(key.verifying_key(), options, NOW)
}

/// Asserts the error and that its message does not leak the child's name.
fn refused(result: Result<VerifiedSdJwt, Error>) -> Error {
    let err = result.expect_err("verification must fail");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SECRET_NAME), "error leaks a claim value: {text}");
    err
}

fn disclosure(items: Value) -> String {
    base64url::encode(items.to_string())
}

fn digest(disclosure: &str) -> String {
    base64url::encode(Sha256::digest(disclosure.as_bytes()))
}

/// An SD-JWT VC signed by `key` over an arbitrary payload, with the given disclosures and a
/// valid KB-JWT by `holder`.
fn crafted(key: &SigningKey, holder: &SigningKey, mut payload: Map<String, Value>, disclosures: &[String]) -> String {
    let mut cnf = Map::new();
    cnf.insert("jwk".into(), Value::Object(holder.verifying_key().to_jwk()));
    payload.insert("cnf".into(), Value::Object(cnf));
    let jwt = jws::sign_compact_json(&Header::new().with_typ("dc+sd-jwt"), &payload, key).unwrap();
    let mut text = format!("{jwt}~");
    for d in disclosures {
        text.push_str(d);
        text.push('~');
    }
    with_kb(&text, holder, NONCE, AUD, NOW)
}

fn with_kb(presented: &str, holder: &SigningKey, nonce: &str, aud: &str, iat: i64) -> String {
    let kb = KeyBindingInput { nonce: nonce.into(), audience: aud.into(), issued_at: iat };
    format!("{presented}{}", key_binding_jwt(presented, holder, &kb).unwrap())
}

fn base_payload() -> Map<String, Value> {
    json!({"iss": "did:web:basisschool.example", "vct": "https://schooltas.example/credentials/enrolment", "iat": NOW - 10})
        .as_object()
        .unwrap()
        .clone()
}

// ------------------------------------------------------------------------------------------
// Round trips

#[test]
fn round_trip_discloses_exactly_what_was_selected() {
    let f = Fixture::new();
    let issued = f.issue();
    let verified = f.verify(&f.present(&issued, &["given_name", "school.group"])).unwrap();
    let claims = verified.claims();
    assert_eq!(claims["given_name"], SECRET_NAME);
    // Selecting school.group brings the school disclosure (its parent) and the group, but not
    // the other school members, which are plain inside the disclosed school object.
    assert_eq!(claims["school"]["group"], "7");
    assert!(claims.get("family_name").is_none() && claims.get("birth_date").is_none());
    assert_eq!(claims["nationalities"], json!([]), "undisclosed array elements are removed");
    assert!(claims.get("_sd").is_none() && claims.get("_sd_alg").is_none());
    assert_eq!(verified.vct(), Some("https://schooltas.example/credentials/enrolment"));
    assert_eq!(verified.holder_key(), Some(f.child.verifying_key()));
    let kb = verified.key_binding().unwrap();
    assert_eq!((kb.nonce.as_str(), kb.audience.as_str()), (NONCE, AUD));
    let paths: Vec<String> = verified.disclosed_paths().iter().map(|p| p.to_string()).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
}

#[test]
fn round_trip_array_elements_and_everything() {
    let f = Fixture::new();
    let issued = f.issue();
    let verified = f.verify(&f.present(&issued, &["nationalities.1"])).unwrap();
    assert_eq!(verified.claims()["nationalities"], json!(["BE"]));
    let all = f
        .verify(
            &f.present(&issued, &["given_name", "family_name", "birth_date", "age_over_12", "school", "nationalities"]),
        )
        .unwrap();
    let mut expected = Fixture::claims();
    expected.insert("cnf".into(), json!({"jwk": f.child.verifying_key().to_jwk()}));
    assert_eq!(all.claims(), &expected);
}

#[test]
fn round_trip_es256() {
    let school = SigningKey::generate(Algorithm::Es256).unwrap();
    let child = SigningKey::generate(Algorithm::Es256).unwrap();
    let f = Fixture { school, child };
    let verified = f.verify(&f.present(&f.issue(), &["age_over_12"])).unwrap();
    assert_eq!(verified.claims()["age_over_12"], false);
}

#[test]
fn presenting_a_claim_that_does_not_exist_is_refused() {
    let f = Fixture::new();
    let holder = HolderSdJwt::parse(&f.issue()).unwrap();
    let err = holder.disclosures_for(&[ClaimPath::claim("bsn")]).unwrap_err();
    assert!(matches!(err, Error::InvalidClaimPath { .. }), "{err}");
}

// ------------------------------------------------------------------------------------------
// Issuer signature and header

#[test]
fn alg_none_is_refused() {
    let f = Fixture::new();
    let presentation = f.present(&f.issue(), &["given_name"]);
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let forged = format!("{}.{payload}.~{rest}", base64url::encode(r#"{"alg":"none","typ":"dc+sd-jwt"}"#));
    let err =
        refused(UnverifiedSdJwt::parse(&forged).and_then(|u| u.verify(f.school.verifying_key(), &options(), NOW)));
    assert!(matches!(err, Error::Did(schooltas_did::Error::AlgNone)), "{err}");
}

#[test]
fn hs256_with_the_issuer_public_key_is_refused() {
    use hmac::{KeyInit, Mac};
    let f = Fixture::new();
    let presentation = f.present(&f.issue(), &["given_name"]);
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let input = format!("{}.{payload}", base64url::encode(r#"{"alg":"HS256","typ":"dc+sd-jwt"}"#));
    let secret = Value::Object(f.school.verifying_key().to_jwk()).to_string();
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    let forged = format!("{input}.{}~{rest}", base64url::encode(mac.finalize().into_bytes()));
    let err =
        refused(UnverifiedSdJwt::parse(&forged).and_then(|u| u.verify(f.school.verifying_key(), &options(), NOW)));
    assert!(matches!(err, Error::Did(schooltas_did::Error::HmacAlgorithm { .. })), "{err}");
}

#[test]
fn algorithm_must_match_the_issuer_key() {
    let f = Fixture::new();
    let other = SigningKey::generate(Algorithm::Es256).unwrap();
    let presentation = f.present(&f.issue(), &["given_name"]);
    let err = refused(verify_with(&presentation, &other, &options()));
    assert!(matches!(err, Error::Did(schooltas_did::Error::AlgorithmMismatch { .. })), "{err}");
    let same_type = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let err = refused(verify_with(&presentation, &same_type, &options()));
    assert!(matches!(err, Error::Did(schooltas_did::Error::InvalidSignature)), "{err}");
}

#[test]
fn tampered_payload_disclosure_or_signature_is_refused() {
    let f = Fixture::new();
    let presentation = f.present(&f.issue(), &["given_name"]);
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();

    // Payload: a claim changed.
    let mut payload: Value = serde_json::from_slice(&base64url::decode(parts[1]).unwrap()).unwrap();
    payload["vct"] = json!("https://schooltas.example/credentials/diploma");
    let forged = format!("{}.{}.{}~{rest}", parts[0], base64url::encode(payload.to_string()), parts[2]);
    assert!(matches!(refused(f.verify(&forged)), Error::Did(schooltas_did::Error::InvalidSignature)));

    // Signature: one bit flipped.
    let mut sig = base64url::decode(parts[2]).unwrap();
    sig[5] ^= 0x01;
    let forged = format!("{}.{}.{}~{rest}", parts[0], parts[1], base64url::encode(&sig));
    assert!(matches!(refused(f.verify(&forged)), Error::Did(schooltas_did::Error::InvalidSignature)));

    // Disclosure: the value changed, so its digest is no longer in the payload.
    let (disc, after) = rest.split_once('~').unwrap();
    let mut items: Value = serde_json::from_slice(&base64url::decode(disc).unwrap()).unwrap();
    items[2] = json!("Someone Else");
    let forged_disc = base64url::encode(items.to_string());
    let kb_less = format!("{jwt}~{forged_disc}~");
    let _ = after;
    let forged = with_kb(&kb_less, &f.child, NONCE, AUD, NOW);
    let err = refused(f.verify(&forged));
    assert!(matches!(err, Error::UnreferencedDisclosure { .. }), "{err}");
}

#[test]
fn wrong_typ_is_refused() {
    let f = Fixture::new();
    let issued = SdJwtBuilder::new(Fixture::claims())
        .typ("vc+sd-jwt")
        .holder_key(f.child.verifying_key())
        .issue(&f.school, &mut RandomSalts)
        .unwrap()
        .to_string();
    let presentation = f.present(&issued, &[]);
    let err = refused(f.verify(&presentation));
    assert!(matches!(err, Error::WrongTyp { ref found, .. } if found.as_deref() == Some("vc+sd-jwt")), "{err}");
    // The same credential passes when the verifier asks for exactly that typ.
    let mut opts = options();
    opts.typ = TypPolicy::Exact("vc+sd-jwt".into());
    verify_with(&presentation, &f.school, &opts).unwrap();
}

#[test]
fn unsupported_sd_alg_is_refused() {
    let f = Fixture::new();
    let mut payload = base_payload();
    payload.insert("_sd_alg".into(), json!("sha-1"));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[])));
    assert!(matches!(err, Error::UnsupportedHashAlgorithm { ref alg } if alg == "sha-1"), "{err}");
}

// ------------------------------------------------------------------------------------------
// Disclosures

#[test]
fn unreferenced_disclosure_is_refused() {
    let f = Fixture::new();
    let extra = disclosure(json!(["c2FsdHNhbHRzYWx0", "given_name", SECRET_NAME]));
    let err = refused(f.verify(&crafted(&f.school, &f.child, base_payload(), std::slice::from_ref(&extra))));
    assert!(matches!(err, Error::UnreferencedDisclosure { ref digest } if *digest == self::digest(&extra)), "{err}");
}

#[test]
fn duplicated_disclosure_is_refused() {
    let f = Fixture::new();
    let d = disclosure(json!(["c2FsdHNhbHRzYWx0", "given_name", SECRET_NAME]));
    let mut payload = base_payload();
    payload.insert("_sd".into(), json!([digest(&d)]));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[d.clone(), d])));
    assert!(matches!(err, Error::DuplicateDisclosure { .. }), "{err}");
}

#[test]
fn same_digest_twice_is_refused() {
    let f = Fixture::new();
    let d = disclosure(json!(["c2FsdHNhbHRzYWx0", "given_name", SECRET_NAME]));
    // Twice in one _sd …
    let mut payload = base_payload();
    payload.insert("_sd".into(), json!([digest(&d), digest(&d)]));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, std::slice::from_ref(&d))));
    assert!(matches!(err, Error::DuplicateDigest { .. }), "{err}");
    // … and once at the top and once nested, even when the digest is a decoy.
    let decoy = digest("decoy");
    let mut payload = base_payload();
    payload.insert("_sd".into(), json!([decoy]));
    payload.insert("school".into(), json!({"_sd": [decoy]}));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[])));
    assert!(matches!(err, Error::DuplicateDigest { .. }), "{err}");
    // … and a disclosed digest met again at another level after its disclosure was used there
    // (nested objects are processed before the top level's own `_sd`).
    let mut payload = base_payload();
    payload.insert("_sd".into(), json!([digest(&d)]));
    payload.insert("school".into(), json!({"_sd": [digest(&d)]}));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, std::slice::from_ref(&d))));
    assert!(matches!(err, Error::DuplicateDigest { ref digest } if *digest == self::digest(&d)), "{err}");
}

#[test]
fn disclosure_claiming_reserved_names_is_refused() {
    let f = Fixture::new();
    for name in ["_sd", "..."] {
        let d = disclosure(json!(["c2FsdHNhbHRzYWx0", name, ["x"]]));
        let mut payload = base_payload();
        payload.insert("_sd".into(), json!([digest(&d)]));
        let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[d])));
        assert!(matches!(err, Error::ReservedClaimName { name: ref n, .. } if n == name), "{err}");
    }
}

#[test]
fn disclosure_overwriting_an_existing_claim_is_refused() {
    let f = Fixture::new();
    let d = disclosure(json!(["c2FsdHNhbHRzYWx0", "iss", "did:web:evil.example"]));
    let mut payload = base_payload();
    payload.insert("_sd".into(), json!([digest(&d)]));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[d])));
    assert!(matches!(err, Error::ClaimCollision { ref name, .. } if name == "iss"), "{err}");
}

#[test]
fn disclosure_of_the_wrong_shape_is_refused() {
    let f = Fixture::new();
    // An array-element disclosure referenced from an object's _sd.
    let element = disclosure(json!(["c2FsdHNhbHRzYWx0", "NL"]));
    let mut payload = base_payload();
    payload.insert("_sd".into(), json!([digest(&element)]));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[element])));
    assert!(matches!(err, Error::DisclosureKindMismatch { .. }), "{err}");
    // An object-property disclosure referenced as an array element.
    let property = disclosure(json!(["c2FsdHNhbHRzYWx0", "country", "NL"]));
    let mut payload = base_payload();
    payload.insert("nationalities".into(), json!([{"...": digest(&property)}]));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[property])));
    assert!(matches!(err, Error::DisclosureKindMismatch { .. }), "{err}");
    // Garbage that is not a disclosure at all.
    for garbage in [base64url::encode("not json"), base64url::encode("[1,2,3,4]"), base64url::encode(r#"[5,"a","b"]"#)]
    {
        let err = refused(f.verify(&crafted(&f.school, &f.child, base_payload(), &[garbage])));
        assert!(matches!(err, Error::MalformedDisclosure { .. }), "{err}");
    }
}

#[test]
fn registered_vc_claims_must_not_be_disclosable() {
    let f = Fixture::new();
    let d = disclosure(json!(["c2FsdHNhbHRzYWx0", "exp", NOW + 5]));
    let mut payload = base_payload();
    payload.insert("_sd".into(), json!([digest(&d)]));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[d])));
    assert!(matches!(err, Error::InvalidPayload { ref reason } if reason.contains("exp")), "{err}");
}

// ------------------------------------------------------------------------------------------
// Key binding

#[test]
fn missing_key_binding_is_refused_when_required() {
    let f = Fixture::new();
    let issued = f.issue();
    let holder = HolderSdJwt::parse(&issued).unwrap();
    let without = holder.present(&[ClaimPath::claim("given_name")], None).unwrap();
    assert!(matches!(refused(f.verify(&without)), Error::MissingKeyBinding));
    // Allowed when the verifier does not require it (checking an issuance).
    let mut opts = options();
    opts.key_binding = KeyBindingPolicy::NotRequired;
    verify_with(&without, &f.school, &opts).unwrap();
    verify_with(&issued, &f.school, &opts).unwrap();
}

#[test]
fn key_binding_over_another_presentation_is_refused() {
    let f = Fixture::new();
    let issued = f.issue();
    let a = f.present(&issued, &["age_over_12"]);
    let b = f.present(&issued, &["given_name", "age_over_12"]);
    // Take b's disclosures with a's KB-JWT: the verifier would see more than the KB covers.
    let kb_of_a = a.rsplit('~').next().unwrap();
    let b_without_kb = &b[..=b.rfind('~').unwrap()];
    let err = refused(f.verify(&format!("{b_without_kb}{kb_of_a}")));
    assert!(matches!(err, Error::SdHashMismatch), "{err}");
}

#[test]
fn wrong_nonce_audience_or_time_is_refused() {
    let f = Fixture::new();
    let issued = f.issue();
    let holder = HolderSdJwt::parse(&issued).unwrap();
    let presented = holder.present(&[ClaimPath::claim("given_name")], None).unwrap();

    let err = refused(f.verify(&with_kb(&presented, &f.child, "replayed-nonce", AUD, NOW)));
    assert!(matches!(err, Error::NonceMismatch), "{err}");
    let err = refused(f.verify(&with_kb(&presented, &f.child, NONCE, "https://other-verifier.example", NOW)));
    assert!(matches!(err, Error::AudienceMismatch { .. }), "{err}");
    let err = refused(f.verify(&with_kb(&presented, &f.child, NONCE, AUD, NOW - 3600)));
    assert!(matches!(err, Error::KeyBindingStale { .. }), "too old: {err}");
    let err = refused(f.verify(&with_kb(&presented, &f.child, NONCE, AUD, NOW + 3600)));
    assert!(matches!(err, Error::KeyBindingStale { .. }), "future: {err}");
    // Signed by someone other than the holder.
    let thief = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let err = refused(f.verify(&with_kb(&presented, &thief, NONCE, AUD, NOW)));
    assert!(
        matches!(err, Error::KeyBindingSignature { source: schooltas_did::Error::InvalidSignature }),
        "the holder's signature, not the issuer's: {err}"
    );
    // Signed with a key of another algorithm than the holder key: refused as key binding too.
    let es256 = SigningKey::generate(Algorithm::Es256).unwrap();
    let err = refused(f.verify(&with_kb(&presented, &es256, NONCE, AUD, NOW)));
    assert!(matches!(err, Error::KeyBindingSignature { .. }), "{err}");
    // A KB-JWT that is not a JWS at all.
    let err = refused(f.verify(&format!("{presented}not-a-jws")));
    assert!(matches!(err, Error::InvalidKeyBinding { .. }), "{err}");
}

#[test]
fn key_binding_jwt_with_wrong_typ_or_missing_claims_is_refused() {
    let f = Fixture::new();
    let issued = f.issue();
    let presented = HolderSdJwt::parse(&issued).unwrap().present(&[], None).unwrap();
    let sd_hash = base64url::encode(Sha256::digest(presented.as_bytes()));
    let claims = json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash});
    let kb = jws::sign_compact_json(&Header::new().with_typ("JWT"), &claims, &f.child).unwrap();
    let err = refused(f.verify(&format!("{presented}{kb}")));
    assert!(matches!(err, Error::WrongTyp { .. }), "{err}");
    let claims = json!({"iat": NOW, "aud": AUD, "sd_hash": sd_hash});
    let kb = jws::sign_compact_json(&Header::new().with_typ("kb+jwt"), &claims, &f.child).unwrap();
    let err = refused(f.verify(&format!("{presented}{kb}")));
    assert!(matches!(err, Error::InvalidKeyBinding { .. }), "{err}");
}

// ------------------------------------------------------------------------------------------
// Validity period

#[test]
fn expired_not_yet_valid_and_future_credentials_are_refused() {
    let f = Fixture::new();
    for (claim, value, check) in [("exp", NOW - 61, "expired"), ("nbf", NOW + 61, "nbf"), ("iat", NOW + 61, "iat")] {
        let mut payload = base_payload();
        payload.insert(claim.into(), json!(value));
        let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[])));
        let ok = match check {
            "expired" => matches!(err, Error::Expired { .. }),
            "nbf" => matches!(err, Error::NotYetValid { .. }),
            _ => matches!(err, Error::IssuedInFuture { .. }),
        };
        assert!(ok, "{claim}: {err}");
    }
    // Within the 60 s skew everything is accepted.
    let mut payload = base_payload();
    payload.insert("exp".into(), json!(NOW - 30));
    payload.insert("nbf".into(), json!(NOW + 30));
    f.verify(&crafted(&f.school, &f.child, payload, &[])).unwrap();
}

// ------------------------------------------------------------------------------------------
// Limits

#[test]
fn oversize_input_is_refused_before_any_work() {
    let f = Fixture::new();
    let huge = "a".repeat(Limits::default().max_len + 1);
    let err = UnverifiedSdJwt::parse(&huge).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { what: "SD-JWT length", .. }), "{err}");
    let many = format!("{}{}", f.issue(), "WyJhIiwiYiJd~".repeat(600));
    let err = UnverifiedSdJwt::parse(&many).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { what: "number of disclosures", .. }), "{err}");
}

#[test]
fn deep_nesting_is_refused() {
    let f = Fixture::new();
    let mut deep = json!("bottom");
    for _ in 0..40 {
        deep = json!({ "x": deep });
    }
    let mut payload = base_payload();
    payload.insert("deep".into(), deep);
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[])));
    assert!(matches!(err, Error::LimitExceeded { what: "nesting depth", .. }), "{err}");
    // Nesting through disclosures counts too.
    let mut inner = disclosure(json!(["c2FsdA", "x", "bottom"]));
    let mut all = vec![inner.clone()];
    for _ in 0..40 {
        inner = disclosure(json!(["c2FsdA", "x", {"_sd": [digest(&inner)]}]));
        all.push(inner.clone());
    }
    let mut payload = base_payload();
    payload.insert("_sd".into(), json!([digest(&inner)]));
    let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &all)));
    assert!(matches!(err, Error::LimitExceeded { what: "nesting depth", .. }), "{err}");
}

#[test]
fn malformed_structure_is_refused() {
    let f = Fixture::new();
    let issued = f.issue();
    for bad in ["", "no-tilde-at-all", "~", "a~~b~"] {
        assert!(UnverifiedSdJwt::parse(bad).is_err(), "{bad:?}");
    }
    let jwt = issued.split('~').next().unwrap();
    let err = UnverifiedSdJwt::parse(&format!("{jwt}~~")).unwrap_err();
    assert!(matches!(err, Error::MalformedSdJwt { .. }), "{err}");
    // _sd that is not an array of strings, and "..." outside arrays.
    for bad in [json!({"_sd": "x"}), json!({"_sd": [1]}), json!({"...": "x"}), json!({"a": [{"...": "x", "b": 1}]})] {
        let mut payload = base_payload();
        for (k, v) in bad.as_object().unwrap() {
            payload.insert(k.clone(), v.clone());
        }
        let err = refused(f.verify(&crafted(&f.school, &f.child, payload, &[])));
        assert!(matches!(err, Error::InvalidPayload { .. }), "{bad}: {err}");
    }
}

#[test]
fn unusable_holder_key_is_refused_when_key_binding_is_checked() {
    let f = Fixture::new();
    let mut payload = base_payload();
    payload.insert("cnf".into(), json!({"jwk": {"kty": "RSA", "n": "0vx7", "e": "AQAB"}}));
    let jwt = jws::sign_compact_json(&Header::new().with_typ("dc+sd-jwt"), &payload, &f.school).unwrap();
    let presented = format!("{jwt}~");
    let err = refused(f.verify(&with_kb(&presented, &f.child, NONCE, AUD, NOW)));
    assert!(matches!(err, Error::InvalidHolderKey { .. }), "{err}");
    // Without key binding the credential verifies; it just has no usable holder key.
    let mut opts = options();
    opts.key_binding = KeyBindingPolicy::NotRequired;
    let verified = verify_with(&presented, &f.school, &opts).unwrap();
    assert!(verified.holder_key().is_none());
}

#[test]
fn debug_output_never_shows_claim_values() {
    let f = Fixture::new();
    let issued = f.issue();
    let holder = HolderSdJwt::parse(&issued).unwrap();
    let presentation = f.present(&issued, &["given_name"]);
    let verified = f.verify(&presentation).unwrap();
    let unverified = UnverifiedSdJwt::parse(&presentation).unwrap();
    let text =
        format!("{holder:?} {verified:?} {unverified:?} {:?} {:?}", holder.issued(), holder.issued().disclosures());
    assert!(!text.contains(SECRET_NAME), "Debug leaks a claim value: {text}");
    assert!(text.contains("given_name"), "names are fine to show: {text}");
}

#[test]
fn sd_jwt_vc_builder_keeps_registered_claims_visible() {
    use schooltas_sd_jwt::Vct;
    let f = Fixture::new();
    let vct = Vct::new("https://schooltas.example/credentials/enrolment").unwrap();
    let claims = json!({"given_name": SECRET_NAME, "group": "7"}).as_object().unwrap().clone();
    let builder = || {
        SdJwtBuilder::sd_jwt_vc(&vct, "did:web:basisschool.example", NOW - 10, claims.clone())
            .expires_at(NOW + 1000)
            .status(json!({"status_list": {"idx": 7, "uri": "https://basisschool.example/status/1"}}))
            .holder_key(f.child.verifying_key())
            .disclosable(ClaimPath::claim("given_name"))
    };
    for registered in ["vct", "iss", "exp", "status", "cnf", "status.status_list"] {
        let err =
            builder().disclosable(ClaimPath::parse_dotted(registered).unwrap()).issue(&f.school, &mut RandomSalts);
        assert!(matches!(err, Err(Error::InvalidClaimPath { .. })), "{registered}: {err:?}");
    }
    let issued = builder().issue(&f.school, &mut RandomSalts).unwrap().to_string();
    let verified = f.verify(&f.present(&issued, &["given_name"])).unwrap();
    assert_eq!(verified.vct(), Some(vct.as_str()));
    assert_eq!(verified.issuer(), Some("did:web:basisschool.example"));
    assert_eq!(verified.status().unwrap()["status_list"]["idx"], 7);
    assert_eq!(verified.claims()["group"], "7", "not marked disclosable, so always visible");
}

// ------------------------------------------------------------------------------------------
// Strict JSON (issue 12 item 10): one signed credential must read the same in every parser.

/// An SD-JWT VC whose issuer-signed payload is the raw JSON text `members` (plus `cnf`), so it
/// can hold what a serializer would never write: a member name twice, a 2^64 integer.
fn crafted_raw(key: &SigningKey, holder: &SigningKey, members: &str, disclosures: &[String]) -> String {
    let jwk = Value::Object(holder.verifying_key().to_jwk());
    let payload = format!(
        r#"{{"iss":"did:web:basisschool.example","vct":"https://schooltas.example/credentials/enrolment","iat":{},"cnf":{{"jwk":{jwk}}},{members}}}"#,
        NOW - 10
    );
    let jwt = jws::sign_compact(&Header::new().with_typ("dc+sd-jwt"), payload.as_bytes(), key).unwrap();
    let mut text = format!("{jwt}~");
    for d in disclosures {
        text.push_str(d);
        text.push('~');
    }
    with_kb(&text, holder, NONCE, AUD, NOW)
}

fn strict(err: &Error) -> Option<&schooltas_did::strict_json::Error> {
    match err {
        Error::Did(schooltas_did::Error::Json(strict)) => Some(strict),
        _ => None,
    }
}

#[test]
fn a_signed_payload_naming_a_claim_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let f = Fixture::new();
    let presentation = crafted_raw(&f.school, &f.child, r#""group":"7","group":"8""#, &[]);
    let err = refused(f.verify(&presentation));
    assert!(matches!(strict(&err), Some(J::DuplicateMember { name }) if name == "group"), "{err}");
    // Nested, and spelled with an escape so that only an unescaping parser sees it.
    let presentation = crafted_raw(&f.school, &f.child, r#""school":{"brin":"12AB","\u0062rin":"99ZZ"}"#, &[]);
    let err = refused(f.verify(&presentation));
    assert!(matches!(strict(&err), Some(J::DuplicateMember { name }) if name == "brin"), "{err}");
    // The holder's own parse of what it received refuses it too.
    let issued = presentation.rsplit_once('~').unwrap().0.to_owned() + "~";
    let err = HolderSdJwt::parse(&issued).unwrap_err();
    assert!(matches!(strict(&err), Some(J::DuplicateMember { .. })), "{err}");
}

#[test]
fn a_signed_payload_with_an_integer_beyond_64_bits_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let f = Fixture::new();
    // serde_json alone would read exp as 1.8446744073709552e19 and call it a float.
    let presentation = crafted_raw(&f.school, &f.child, r#""exp":18446744073709551616"#, &[]);
    let err = refused(f.verify(&presentation));
    assert!(matches!(strict(&err), Some(J::IntegerOutOfRange)), "{err}");
    let presentation = crafted_raw(&f.school, &f.child, r#""school":{"group":-9223372036854775809}"#, &[]);
    assert!(matches!(strict(&refused(f.verify(&presentation))), Some(J::IntegerOutOfRange)));
}

#[test]
fn a_disclosure_whose_object_value_names_a_member_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let f = Fixture::new();
    let d = base64url::encode(r#"["c2FsdHNhbHRzYWx0","school",{"group":"7","group":"8"}]"#);
    let presentation = crafted_raw(&f.school, &f.child, &format!(r#""_sd":["{}"]"#, digest(&d)), &[d]);
    let err = refused(f.verify(&presentation));
    assert!(matches!(strict(&err), Some(J::DuplicateMember { name }) if name == "group"), "{err}");
    // The same shape with distinct names is a valid disclosure: the round trip.
    let d = base64url::encode(r#"["c2FsdHNhbHRzYWx0","school",{"group":"7","brin":"12AB"}]"#);
    let presentation = crafted_raw(&f.school, &f.child, &format!(r#""_sd":["{}"]"#, digest(&d)), &[d]);
    assert_eq!(f.verify(&presentation).unwrap().claims()["school"]["group"], "7");
}

#[test]
fn a_key_binding_jwt_naming_a_claim_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let f = Fixture::new();
    let presentation = f.present(&f.issue(), &["given_name"]);
    let (presented, _) = presentation.rsplit_once('~').unwrap();
    let presented = format!("{presented}~");
    let sd_hash = base64url::encode(Sha256::digest(presented.as_bytes()));
    let kb_payload =
        format!(r#"{{"nonce":"elsewhere","nonce":"{NONCE}","aud":"{AUD}","iat":{},"sd_hash":"{sd_hash}"}}"#, NOW - 5);
    let kb = jws::sign_compact(&Header::new().with_typ("kb+jwt"), kb_payload.as_bytes(), &f.child).unwrap();
    let err = refused(f.verify(&format!("{presented}{kb}")));
    assert!(matches!(strict(&err), Some(J::DuplicateMember { name }) if name == "nonce"), "{err}");
    let kb_payload = format!(r#"{{"nonce":"{NONCE}","aud":"{AUD}","iat":18446744073709551617,"sd_hash":"{sd_hash}"}}"#);
    let kb = jws::sign_compact(&Header::new().with_typ("kb+jwt"), kb_payload.as_bytes(), &f.child).unwrap();
    assert!(matches!(strict(&refused(f.verify(&format!("{presented}{kb}")))), Some(J::IntegerOutOfRange)));
}
