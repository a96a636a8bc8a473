//! Token Status List: hostile lists and tokens refused, the cache's freshness rules, and
//! revoked / suspended credentials refused end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use schooltas_did::jws::{Header, sign_compact_json};
use schooltas_did::{Algorithm, Signer, SigningKey, base64url};
use schooltas_sd_jwt::{
    HolderSdJwt, KeyBinding, KeyBindingInput, RandomSalts, SdJwtBuilder, UnverifiedSdJwt, Vct, VerifyOptions,
};
use schooltas_status_list::Error;
use schooltas_status_list::{
    Bits, CachePolicy, DecodeLimits, FetchError, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken,
    StatusListTokenOptions, StatusListUri, StatusReference, StatusValue, UnverifiedStatusListToken,
};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

fn uri(path: &str) -> StatusListUri {
    StatusListUri::new(format!("https://school.example/status/{path}")).unwrap()
}

fn school() -> SigningKey {
    SigningKey::from_ed25519_seed(&[7; 32])
}

fn list_with(bits: Bits, entries: &[(u64, StatusValue)]) -> StatusList {
    let mut list = StatusList::new(bits, 1024).unwrap();
    for &(index, value) in entries {
        list.set(index, value).unwrap();
    }
    list
}

/// A token with arbitrary claims and header, signed by the school.
fn raw_token(header: Header, claims: Value) -> String {
    sign_compact_json(&header, &claims, &school()).unwrap()
}

fn good_claims() -> Value {
    json!({"sub": uri("1").as_str(), "iat": NOW, "exp": NOW + 3600, "ttl": 600,
           "status_list": list_with(Bits::One, &[(3, StatusValue::INVALID)]).to_json()})
}

fn typ() -> Header {
    Header::new().with_typ("statuslist+jwt")
}

fn verify(token: &str) -> Result<StatusListToken, Error> {
    UnverifiedStatusListToken::parse(token)?.verify(school().verifying_key(), &StatusListTokenOptions::default(), NOW)
}

// ---- the list -------------------------------------------------------------------------------

fn lst(compressed: &[u8]) -> Value {
    Value::String(base64url::encode(compressed))
}

fn decode(json: Value) -> Result<StatusList, Error> {
    StatusList::from_json(&json, &DecodeLimits::default())
}

#[test]
fn refuses_bits_other_than_1_2_4_8() {
    let good = list_with(Bits::One, &[]).to_json();
    for bits in [json!(0), json!(3), json!(16), json!(-1), json!("1"), json!(1.5)] {
        let error = decode(json!({"bits": bits, "lst": good["lst"]})).unwrap_err();
        assert!(matches!(error, Error::InvalidStatusList { .. }), "{bits}: {error}");
    }
    assert!(decode(json!({"lst": good["lst"]})).unwrap_err().to_string().contains("bits is missing"));
    assert!(decode(json!({"bits": 1})).unwrap_err().to_string().contains("lst is missing"));
}

#[test]
fn refuses_lst_that_is_not_base64url_zlib() {
    let zlib = miniz_like_zlib();
    for (lst, says) in [
        (json!("eNrbuRgAAhcBXQ=="), "base64url"),
        (json!("eNrbuRgAAhcB+Q"), "base64url"),
        (json!(12), "not a string"),
        (lst(b"plain bytes, no zlib header"), "ZLIB"),
        // The draft's list with its Adler-32 checksum broken.
        (lst(&[&zlib[..zlib.len() - 1], &[zlib[zlib.len() - 1] ^ 1]].concat()), "ZLIB"),
        // Truncated stream.
        (lst(&zlib[..zlib.len() - 5]), "ZLIB"),
    ] {
        let error = decode(json!({"bits": 1, "lst": lst})).unwrap_err();
        assert!(matches!(error, Error::InvalidStatusList { .. }), "{error}");
        assert!(error.to_string().contains(says), "{error} should mention {says}");
    }
}

fn miniz_like_zlib() -> Vec<u8> {
    // 78dadbb918000217015d: the compressed array of draft §4.1.
    vec![0x78, 0xda, 0xdb, 0xb9, 0x18, 0x00, 0x02, 0x17, 0x01, 0x5d]
}

#[test]
fn refuses_a_decompression_bomb() {
    // 17 MiB of zeros compress to ~17 KiB; inflation must stop at the 16 MiB limit.
    let bomb = StatusList::new(Bits::Eight, 17 << 20).unwrap().to_json();
    assert!(bomb["lst"].as_str().unwrap().len() < 50_000);
    let error = decode(bomb).unwrap_err();
    assert!(error.to_string().contains("inflates to more than 16777216 bytes"), "{error}");
    let tight = DecodeLimits { max_encoded_len: 8, max_decompressed_len: 1 << 20 };
    let error = StatusList::from_json(&list_with(Bits::One, &[]).to_json(), &tight).unwrap_err();
    assert!(error.to_string().contains("the limit is 8"), "{error}");
}

// ---- the status list token ------------------------------------------------------------------

#[test]
fn a_signed_token_round_trips_at_every_width() {
    for bits in [Bits::One, Bits::Two, Bits::Four, Bits::Eight] {
        let value = StatusValue::new(if bits == Bits::One { 1 } else { 2 });
        let list = list_with(bits, &[(0, value), (1023, value)]);
        let token =
            StatusListToken::new(uri("w"), NOW, list.clone()).with_ttl(60).with_issuer("did:web:school.example");
        let verified = verify(&token.sign(&school(), Some("key-1")).unwrap()).unwrap();
        assert_eq!(verified, token);
        assert_eq!(verified.list().get(1023).unwrap(), value);
        assert_eq!(verified.list().get(512).unwrap(), StatusValue::VALID);
    }
}

#[test]
fn refuses_a_token_with_the_wrong_typ() {
    for header in [Header::new(), Header::new().with_typ("JWT"), Header::new().with_typ("dc+sd-jwt")] {
        let error = verify(&raw_token(header, good_claims())).unwrap_err();
        assert!(matches!(error, Error::WrongTyp { .. }), "{error}");
    }
    // RFC 7515 §4.1.9: the full media type, in any case, is the same typ.
    verify(&raw_token(Header::new().with_typ("Application/StatusList+JWT"), good_claims())).unwrap();
}

#[test]
fn refuses_a_token_missing_a_required_claim() {
    for (claim, says) in
        [("sub", "sub is missing"), ("iat", "iat is missing"), ("status_list", "status_list is missing")]
    {
        let mut claims = good_claims();
        claims.as_object_mut().unwrap().remove(claim);
        let error = verify(&raw_token(typ(), claims)).unwrap_err();
        assert!(matches!(error, Error::InvalidStatusListToken { .. }), "{error}");
        assert!(error.to_string().contains(says), "{error}");
    }
}

#[test]
fn refuses_a_token_with_malformed_claims() {
    for (claim, value, says) in [
        ("sub", json!(7), "sub is not a string"),
        ("sub", json!("statuslists/1"), "sub is not an absolute URI"),
        ("iat", json!("yesterday"), "iat is not a NumericDate"),
        ("exp", json!(null), "exp is not a NumericDate"),
        ("ttl", json!(0), "ttl is not a positive integer"),
        ("ttl", json!(-5), "ttl is not a positive integer"),
        ("ttl", json!("600"), "ttl is not a positive integer"),
        ("iss", json!(["a"]), "iss is not a string"),
    ] {
        let mut claims = good_claims();
        claims[claim] = value;
        let error = verify(&raw_token(typ(), claims)).unwrap_err();
        assert!(error.to_string().contains(says), "{claim}: {error}");
    }
}

#[test]
fn refuses_expired_and_future_tokens() {
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - 61);
    let error = verify(&raw_token(typ(), claims)).unwrap_err();
    assert!(matches!(error, Error::StatusListExpired { expired_at, .. } if expired_at == NOW - 61), "{error}");

    let mut claims = good_claims();
    claims["iat"] = json!(NOW + 3600);
    assert!(verify(&raw_token(typ(), claims)).unwrap_err().to_string().contains("iat is in the future"));

    let mut claims = good_claims();
    claims["nbf"] = json!(NOW + 3600);
    assert!(verify(&raw_token(typ(), claims)).unwrap_err().to_string().contains("not valid yet"));

    // Within the clock skew both ways.
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - 30);
    claims["iat"] = json!(NOW + 30);
    verify(&raw_token(typ(), claims)).unwrap();
}

#[test]
fn refuses_a_forged_or_tampered_token() {
    let token = StatusListToken::new(uri("1"), NOW, list_with(Bits::One, &[(3, StatusValue::INVALID)]))
        .sign(&school(), None)
        .unwrap();
    // Signed by someone else.
    let mallory = SigningKey::from_ed25519_seed(&[9; 32]);
    let forged = StatusListToken::new(uri("1"), NOW, list_with(Bits::One, &[])).sign(&mallory, None).unwrap();
    assert!(matches!(verify(&forged), Err(Error::Did(schooltas_did::Error::InvalidSignature))));
    // The payload swapped for one that clears the revocation.
    let mut parts: Vec<&str> = token.split('.').collect();
    let cleared = json!({"sub": uri("1").as_str(), "iat": NOW, "status_list": list_with(Bits::One, &[]).to_json()});
    let cleared = base64url::encode(serde_json::to_vec(&cleared).unwrap());
    parts[1] = &cleared;
    assert!(matches!(verify(&parts.join(".")), Err(Error::Did(schooltas_did::Error::InvalidSignature))));
    // alg none.
    let header = base64url::encode(br#"{"alg":"none","typ":"statuslist+jwt"}"#);
    let unsigned = format!("{header}.{}.", token.split('.').nth(1).unwrap());
    assert!(matches!(verify(&unsigned), Err(Error::Did(schooltas_did::Error::AlgNone))));
    // ES256 header on an Ed25519 key: the algorithm is pinned to the key.
    let es = SigningKey::generate(Algorithm::Es256).unwrap();
    let wrong_alg = StatusListToken::new(uri("1"), NOW, list_with(Bits::One, &[])).sign(&es, None).unwrap();
    assert!(matches!(verify(&wrong_alg), Err(Error::Did(schooltas_did::Error::AlgorithmMismatch { .. }))));
}

#[test]
fn refuses_an_oversize_token() {
    let token = StatusListToken::new(uri("1"), NOW, list_with(Bits::One, &[])).sign(&school(), None).unwrap();
    let error = UnverifiedStatusListToken::parse_with_limit(&token, 64).unwrap_err();
    assert!(matches!(error, Error::Did(schooltas_did::Error::TooLarge { .. })), "{error}");
}

// ---- references -----------------------------------------------------------------------------

#[test]
fn refuses_malformed_status_claims() {
    for (status, says) in [
        (json!("revoked"), "not a JSON object"),
        (json!({"status_list": []}), "status_list is not a JSON object"),
        (json!({"status_list": {"uri": "https://s.example/1"}}), "idx is missing"),
        (json!({"status_list": {"idx": -1, "uri": "https://s.example/1"}}), "non-negative integer"),
        (json!({"status_list": {"idx": "4", "uri": "https://s.example/1"}}), "non-negative integer"),
        (json!({"status_list": {"idx": 1.5, "uri": "https://s.example/1"}}), "non-negative integer"),
        (json!({"status_list": {"idx": 4}}), "uri is missing"),
        (json!({"status_list": {"idx": 4, "uri": "statuslists/1"}}), "absolute URI"),
        (json!({"status_list": {"idx": 4, "uri": "https://s.example/1#x"}}), "fragment"),
    ] {
        let error = StatusReference::from_status_claim(&status).unwrap_err();
        assert!(matches!(error, Error::InvalidStatusReference { .. }), "{error}");
        assert!(error.to_string().contains(says), "{status}: {error}");
    }
    // Another mechanism only: no status list to check.
    assert_eq!(StatusReference::from_status_claim(&json!({"other_mechanism": {}})).unwrap(), None);
}

// ---- the cache ------------------------------------------------------------------------------

struct Published {
    lists: Arc<InMemoryStatusLists>,
    cache: StatusListCache,
}

fn publish(lists: &InMemoryStatusLists, at: &str, list: StatusList, issued_at: i64, ttl: Option<u64>) {
    let mut token = StatusListToken::new(uri(at), issued_at, list).with_expires_at(issued_at + 86_400);
    if let Some(ttl) = ttl {
        token = token.with_ttl(ttl);
    }
    lists.publish(uri(at), token.sign(&school(), None).unwrap());
}

fn published(entries: &[(u64, StatusValue)], ttl: Option<u64>) -> Published {
    let lists = Arc::new(InMemoryStatusLists::new());
    publish(&lists, "1", list_with(Bits::Two, entries), NOW, ttl);
    Published { cache: StatusListCache::new(lists.clone()), lists }
}

fn at(index: u64) -> StatusReference {
    StatusReference::new(uri("1"), index)
}

#[test]
fn revoked_suspended_and_other_statuses_are_refused() {
    let p = published(&[(1, StatusValue::INVALID), (2, StatusValue::SUSPENDED), (3, StatusValue::new(3))], None);
    let key = school();
    p.cache.check(&at(0), key.verifying_key(), NOW).unwrap();
    let revoked = p.cache.check(&at(1), key.verifying_key(), NOW).unwrap_err();
    assert!(matches!(&revoked, Error::Revoked { index: 1, uri: at_uri } if at_uri == uri("1").as_str()), "{revoked}");
    assert!(revoked.to_string().contains("revoked"));
    let suspended = p.cache.check(&at(2), key.verifying_key(), NOW).unwrap_err();
    assert!(matches!(suspended, Error::Suspended { index: 2, .. }), "{suspended}");
    let other = p.cache.check(&at(3), key.verifying_key(), NOW).unwrap_err();
    assert!(matches!(&other, Error::StatusNotValid { index: 3, .. }), "{other}");
    assert!(other.to_string().contains("application-specific status 0x03"), "{other}");
    assert_eq!(p.cache.status(&at(2), key.verifying_key(), NOW).unwrap(), StatusValue::SUSPENDED);
    assert_eq!(p.lists.fetch_count(), 1);
}

#[test]
fn an_index_beyond_the_list_is_refused() {
    let p = published(&[], None);
    let error = p.cache.check(&at(4096), school().verifying_key(), NOW).unwrap_err();
    assert!(matches!(error, Error::InvalidStatusReference { .. }), "{error}");
    assert!(error.to_string().contains("index 4096 is beyond the 1024 entries"), "{error}");
}

#[test]
fn a_fetch_failure_is_status_unavailable() {
    let cache =
        StatusListCache::new(|_: &StatusListUri| -> Result<String, FetchError> { Err("connection refused".into()) });
    let error = cache.check(&at(0), school().verifying_key(), NOW).unwrap_err();
    assert!(matches!(&error, Error::StatusUnavailable { reason, .. } if reason == "connection refused"), "{error}");
    assert!(error.to_string().starts_with("status unknown"), "{error}");
    assert!(cache.is_empty());
}

#[test]
fn a_token_for_another_uri_is_refused() {
    let lists = Arc::new(InMemoryStatusLists::new());
    // The provider serves list 2's token at list 1's URI.
    let token = StatusListToken::new(uri("2"), NOW, list_with(Bits::One, &[])).sign(&school(), None).unwrap();
    lists.publish(uri("1"), token);
    let cache = StatusListCache::new(lists);
    let error = cache.check(&at(0), school().verifying_key(), NOW).unwrap_err();
    assert!(matches!(error, Error::StatusListSubjectMismatch { .. }), "{error}");
}

#[test]
fn the_cache_answers_within_ttl_and_fetches_after() {
    let p = published(&[], Some(600));
    let key = school();
    p.cache.check(&at(5), key.verifying_key(), NOW).unwrap();
    // The school withdraws consent 5 — the verifier sees it once the ttl has run out.
    publish(&p.lists, "1", list_with(Bits::Two, &[(5, StatusValue::INVALID)]), NOW + 10, Some(600));
    p.cache.check(&at(5), key.verifying_key(), NOW + 599).unwrap();
    assert_eq!(p.lists.fetch_count(), 1);
    let error = p.cache.check(&at(5), key.verifying_key(), NOW + 600).unwrap_err();
    assert!(matches!(error, Error::Revoked { index: 5, .. }), "{error}");
    assert_eq!(p.lists.fetch_count(), 2);
    // invalidate forces a fetch.
    p.cache.invalidate(&uri("1"));
    p.cache.status(&at(5), key.verifying_key(), NOW + 601).unwrap();
    assert_eq!(p.lists.fetch_count(), 3);
}

#[test]
fn ttl_is_bounded_by_policy_and_exp() {
    // ttl of a year, capped at max_ttl = 100 s.
    let p = published(&[], Some(365 * 86_400));
    let cache =
        StatusListCache::new(p.lists.clone()).with_policy(CachePolicy { max_ttl: 100, ..CachePolicy::default() });
    cache.status(&at(0), school().verifying_key(), NOW).unwrap();
    cache.status(&at(0), school().verifying_key(), NOW + 99).unwrap();
    assert_eq!(p.lists.fetch_count(), 1);
    cache.status(&at(0), school().verifying_key(), NOW + 100).unwrap();
    assert_eq!(p.lists.fetch_count(), 2);

    // No ttl: default_ttl; and never past exp (published tokens expire after a day).
    let p = published(&[], None);
    let cache = StatusListCache::new(p.lists.clone()).with_policy(CachePolicy {
        default_ttl: 10 * 86_400,
        max_ttl: 10 * 86_400,
        ..CachePolicy::default()
    });
    cache.status(&at(0), school().verifying_key(), NOW).unwrap();
    cache.status(&at(0), school().verifying_key(), NOW + 86_399).unwrap();
    assert_eq!(p.lists.fetch_count(), 1);
    // At exp the cached copy is dropped; the re-fetched token is expired too.
    let error = cache.status(&at(0), school().verifying_key(), NOW + 86_400 + 61).unwrap_err();
    assert!(matches!(error, Error::StatusListExpired { .. }), "{error}");
    assert_eq!(p.lists.fetch_count(), 2);
}

#[test]
fn a_cached_list_is_not_trusted_for_another_issuers_key() {
    let p = published(&[], Some(600));
    p.cache.check(&at(0), school().verifying_key(), NOW).unwrap();
    // Another issuer points its credential at the school's list: the cached token was signed
    // by the school, not by this issuer, so the lookup fails rather than answer VALID.
    let other = SigningKey::from_ed25519_seed(&[3; 32]);
    let error = p.cache.check(&at(0), other.verifying_key(), NOW).unwrap_err();
    assert!(matches!(error, Error::Did(schooltas_did::Error::InvalidSignature)), "{error}");
    assert_eq!(p.lists.fetch_count(), 1);
    // A resolver that finds the school's key (e.g. by kid through its DID document) succeeds.
    let school_key = school().verifying_key().clone();
    p.cache.check_with(&at(0), |_, _| Ok(school_key.clone()), NOW).unwrap();
}

#[test]
fn the_cache_holds_at_most_max_entries() {
    let lists = Arc::new(InMemoryStatusLists::new());
    for n in 0..5 {
        publish(&lists, &n.to_string(), list_with(Bits::One, &[]), NOW, Some(600 + n));
    }
    let cache =
        StatusListCache::new(lists.clone()).with_policy(CachePolicy { max_entries: 3, ..CachePolicy::default() });
    for n in 0..5u64 {
        cache.status(&StatusReference::new(uri(&n.to_string()), 0), school().verifying_key(), NOW).unwrap();
        assert!(cache.len() <= 3);
    }
    assert_eq!(cache.len(), 3);
    // The lists closest to going stale were evicted first: 4 is still held, 0 is fetched again.
    cache.status(&StatusReference::new(uri("4"), 0), school().verifying_key(), NOW).unwrap();
    assert_eq!(lists.fetch_count(), 5);
    cache.status(&StatusReference::new(uri("0"), 0), school().verifying_key(), NOW).unwrap();
    assert_eq!(lists.fetch_count(), 6);
}

#[test]
fn the_cache_is_shared_between_threads() {
    let p = Arc::new(published(&[(9, StatusValue::INVALID)], Some(600)));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            std::thread::spawn(move || {
                for index in 0..100 {
                    let status = p.cache.status(&at(index), school().verifying_key(), NOW).unwrap();
                    assert_eq!(status.is_valid(), index != 9);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert!(p.lists.fetch_count() <= 4);
}

// ---- end to end: an SD-JWT VC with a status reference ---------------------------------------

#[test]
fn a_revoked_or_suspended_credential_is_refused_after_verification() {
    let school = school();
    let child = SigningKey::from_ed25519_seed(&[1; 32]);
    let lists = Arc::new(InMemoryStatusLists::new());
    publish(
        &lists,
        "enrolment",
        list_with(Bits::Two, &[(41, StatusValue::INVALID), (42, StatusValue::SUSPENDED)]),
        NOW,
        Some(300),
    );
    let cache = StatusListCache::new(lists);
    let vct = Vct::new("https://schooltas.nl/credentials/enrolment/v1").unwrap();

    for (index, expected) in [(40, None), (41, Some("revoked")), (42, Some("suspended"))] {
        let reference = StatusReference::new(uri("enrolment"), index);
        let claims = json!({"given_name": "Sanne", "group": "7B"}).as_object().cloned().unwrap();
        let issued = SdJwtBuilder::sd_jwt_vc(&vct, "did:web:school.example", NOW - 60, claims)
            .status(reference.to_status_claim())
            .disclosable(schooltas_sd_jwt::ClaimPath::claim("given_name"))
            .holder_key(child.verifying_key())
            .issue(&school, &mut RandomSalts)
            .unwrap()
            .to_string();
        let kb = KeyBindingInput { nonce: "n".into(), audience: "https://v.example".into(), issued_at: NOW };
        let presented = HolderSdJwt::parse(&issued).unwrap().present(&[], Some((&child, &kb))).unwrap();
        let options = VerifyOptions::sd_jwt_vc(KeyBinding::new("n", "https://v.example"));
        let verified =
            UnverifiedSdJwt::parse(&presented).unwrap().verify(school.verifying_key(), &options, NOW).unwrap();
        let found = verified.status_reference().unwrap().unwrap();
        assert_eq!(found, reference);
        let outcome = cache.check(&found, school.verifying_key(), NOW);
        match expected {
            None => outcome.unwrap(),
            Some(word) => {
                let error = outcome.unwrap_err();
                assert!(matches!(error, Error::Revoked { .. } | Error::Suspended { .. }), "{error}");
                assert!(error.to_string().contains(word), "{error}");
            }
        }
    }
}

// ---- strict JSON (issue 12 item 10) ----------------------------------------------------------

#[test]
fn a_status_list_token_naming_a_member_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let strict = |token: &str| match verify(token) {
        Err(Error::Did(schooltas_did::Error::Json(e))) => e,
        other => panic!("expected a strict JSON refusal, got {other:?}"),
    };
    let claims = good_claims().to_string();
    let sign = |text: &str| schooltas_did::jws::sign_compact(&typ(), text.as_bytes(), &school()).unwrap();
    // Two `status_list` members: one parser would see index 3 invalid, another valid.
    let doubled = claims.replacen('{', r#"{"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"},"#, 1);
    assert!(matches!(strict(&sign(&doubled)), J::DuplicateMember { name } if name == "status_list"));
    let nested = claims.replacen(r#""bits":1"#, r#""bits":1,"bits":8"#, 1);
    assert_ne!(nested, claims);
    assert!(matches!(strict(&sign(&nested)), J::DuplicateMember { name } if name == "bits"));
    let huge = claims.replacen("\"ttl\":600", "\"ttl\":18446744073709551616", 1);
    assert_ne!(huge, claims);
    assert!(matches!(strict(&sign(&huge)), J::IntegerOutOfRange));
    assert!(verify(&sign(&claims)).is_ok());
}
