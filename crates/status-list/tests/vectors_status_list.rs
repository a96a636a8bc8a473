//! draft-ietf-oauth-status-list-20: the figures of §4 and Appendix C (2^20 entries at 1, 2, 4
//! and 8 bits), the upstream example files, and the draft's signed status list token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use schooltas_did::{Algorithm, VerifyingKey, base64url};
use schooltas_status_list::{
    Bits, DecodeLimits, StatusList, StatusListTokenOptions, StatusReference, StatusValue, UnverifiedStatusListToken,
};
use serde_json::Value;

const VECTORS: &str = "../../test-vectors/ietf-status-list";

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{VECTORS}/{path}")).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn vectors() -> Value {
    serde_json::from_str(&read("extracted/status_list_vectors.json")).unwrap()
}

/// The statuses a vector lists, by index.
fn listed(vector: &Value) -> BTreeMap<u64, u8> {
    let statuses = vector["statuses"].as_object().unwrap();
    statuses.iter().map(|(index, value)| (index.parse().unwrap(), value.as_u64().unwrap() as u8)).collect()
}

#[test]
fn every_vector_decodes_to_its_statuses() {
    let all = vectors();
    let vectors = all["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 6, "§4.1 (bits 1, 2) and Appendix C.1–C.4");
    for vector in vectors {
        let id = vector["id"].as_str().unwrap();
        let list = StatusList::from_json(&vector["json"], &DecodeLimits::default()).unwrap();
        assert_eq!(u64::from(list.bits().get()), vector["bits"].as_u64().unwrap(), "{id}");
        assert_eq!(list.as_bytes().len() as u64, vector["decompressed_len"].as_u64().unwrap(), "{id}");
        let statuses = listed(vector);
        for (&index, &value) in &statuses {
            assert_eq!(list.get(index).unwrap(), StatusValue::new(value), "{id} index {index}");
        }
        if let Some(bytes) = vector.get("byte_array") {
            let expected: Vec<u8> = bytes.as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
            assert_eq!(list.as_bytes(), expected, "{id}");
        }
        if vector.get("all_statuses_listed") == Some(&Value::Bool(true)) {
            assert_eq!(list.len(), statuses.len(), "{id}: every entry is listed");
        }
        if vector.get("all_other_statuses_zero") == Some(&Value::Bool(true)) {
            assert_eq!(list.len() as u64, vector["size"].as_u64().unwrap(), "{id}: 2^20 entries");
            let non_zero: BTreeMap<u64, u8> = list.non_valid().map(|(index, value)| (index, value.get())).collect();
            let expected: BTreeMap<u64, u8> = statuses.into_iter().filter(|(_, value)| *value != 0).collect();
            assert_eq!(non_zero, expected, "{id}: every other entry is VALID");
        }
    }
}

#[test]
fn our_encoding_of_every_vector_round_trips() {
    for vector in vectors()["vectors"].as_array().unwrap() {
        let id = vector["id"].as_str().unwrap();
        let list = StatusList::from_json(&vector["json"], &DecodeLimits::default()).unwrap();
        let mut rebuilt = StatusList::new(list.bits(), list.len()).unwrap();
        for (index, value) in listed(vector) {
            rebuilt.set(index, StatusValue::new(value)).unwrap();
        }
        assert_eq!(rebuilt, list, "{id}: setting the listed statuses rebuilds the list");
        let encoded = rebuilt.to_json();
        assert_eq!(encoded["bits"], vector["json"]["bits"], "{id}");
        let decoded = StatusList::from_json(&encoded, &DecodeLimits::default()).unwrap();
        assert_eq!(decoded, list, "{id}");
        // Highest compression: never larger than the draft's own encoding of the same list.
        let ours = encoded["lst"].as_str().unwrap().len();
        let theirs = vector["json"]["lst"].as_str().unwrap().len();
        assert!(ours <= theirs + 8, "{id}: our lst is {ours} characters, the draft's {theirs}");
    }
}

#[test]
fn the_upstream_example_files_are_the_extracted_figures() {
    let all = vectors();
    let by_lst: BTreeMap<&str, &str> = all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["json"]["lst"].as_str().unwrap(), v["id"].as_str().unwrap()))
        .collect();
    for (file, id) in [
        ("status_list_encoding_json.md", "sec4_bits1"),
        ("status_list_encoding2_json.md", "sec4_bits2"),
        ("status_list_encoding1_long_json.md", "appC_bits1"),
        ("status_list_encoding2_long_json.md", "appC_bits2"),
        ("status_list_encoding4_json.md", "appC_bits4"),
        ("status_list_encoding8_json.md", "appC_bits8"),
    ] {
        let text = read(&format!("examples/{file}"));
        let json: String = text[text.find('{').unwrap()..].chars().filter(|c| !c.is_whitespace()).collect();
        let json: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(by_lst.get(json["lst"].as_str().unwrap()), Some(&id), "{file}");
        StatusList::from_json(&json, &DecodeLimits::default()).unwrap();
    }
}

fn example_key() -> VerifyingKey {
    let mut jwk = vectors()["example_key"].as_object().unwrap().clone();
    jwk.remove("d");
    VerifyingKey::from_jwk(&jwk).unwrap()
}

/// §8.2: the draft's status list token, signed with the draft's example key (kid 12, ES256).
fn draft_token() -> String {
    read("examples/status_list_jwt_raw.md").chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn the_drafts_signed_token_verifies() {
    let token = draft_token();
    let parsed = UnverifiedStatusListToken::parse(&token).unwrap();
    assert_eq!(parsed.header().kid(), Some("12"));
    let verified = parsed.verify(&example_key(), &StatusListTokenOptions::default(), 1_686_920_170 + 100).unwrap();
    assert_eq!(verified.subject().as_str(), "https://example.com/statuslists/1");
    assert_eq!(verified.issuer(), Some("https://example.com"));
    assert_eq!(verified.issued_at(), 1_686_920_170);
    assert_eq!(verified.expires_at(), Some(2_291_720_170));
    assert_eq!(verified.ttl(), Some(43_200));
    assert_eq!(verified.list().bits(), Bits::One);
    assert_eq!(verified.list().as_bytes(), [0xb9, 0xa3]);
    assert_eq!(verified.list().get(0).unwrap(), StatusValue::INVALID);
    assert_eq!(verified.list().get(1).unwrap(), StatusValue::VALID);
}

#[test]
fn the_drafts_signed_token_is_refused_after_exp_and_with_another_key() {
    let token = draft_token();
    let parsed = UnverifiedStatusListToken::parse(&token).unwrap();
    let expired = parsed.verify(&example_key(), &StatusListTokenOptions::default(), 2_291_720_170 + 61);
    assert!(
        matches!(expired, Err(schooltas_status_list::Error::StatusListExpired { expired_at: 2_291_720_170, .. })),
        "{expired:?}"
    );
    let other = schooltas_did::SigningKey::generate(Algorithm::Es256).unwrap();
    let forged =
        parsed.verify(schooltas_did::Signer::verifying_key(&other), &StatusListTokenOptions::default(), 1_686_920_270);
    assert!(
        matches!(forged, Err(schooltas_status_list::Error::Did(schooltas_did::Error::InvalidSignature))),
        "{forged:?}"
    );
}

#[test]
fn the_drafts_referenced_sd_jwt_points_at_entry_zero() {
    let sd_jwt = vectors()["tokens"]["referenced_token_sd_jwt"].as_str().unwrap().to_owned();
    let jwt = sd_jwt.split('~').next().unwrap();
    let payload: Value = serde_json::from_slice(&base64url::decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let reference = StatusReference::from_status_claim(&payload["status"]).unwrap().unwrap();
    assert_eq!(reference.uri().as_str(), "https://example.com/statuslists/1");
    assert_eq!(reference.index(), 0);
}
