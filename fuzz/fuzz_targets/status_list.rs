//! IETF Token Status List (draft-ietf-oauth-status-list): `statuslist+jwt` tokens, the JSON
//! form of a list, the bounded ZLIB inflater, status references, and the verifier's cache.
//!
//! Modes (first byte, `mod 5`):
//! - 0: the rest is a token as received: parsed, verified against the fixed key, and looked
//!   up through `StatusListCache` (published in an in-memory fetcher).
//! - 1: field 0 extra header members, field 1 the payload, in which `"$LST"` is replaced by
//!   the base64url ZLIB compression of field 2; signed by the harness and verified.
//! - 2: field 0 is a `status_list` JSON value for `StatusList::from_json`.
//! - 3: the rest is fed to the inflater directly (`StatusList::decompress`), every bit width.
//! - 4: field 0 is a `status` claim for `StatusReference::from_status_claim`, field 1 a URI
//!   for `StatusListUri::new`.
//!
//! The decode limits are small (64 KiB / 1 MiB) so a decompression bomb costs the fuzzer one
//! refusal, not 16 MiB per execution; the limit logic is the same for any value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_did::base64url;
use schooltas_fuzz::{
    NOW, bounded, expand, field, field_bytes, header, issuer, issuer_key, issuer_kid, sign_raw, split,
};
use schooltas_status_list::{
    Bits, DecodeLimits, InMemoryStatusLists, StatusList, StatusListCache, StatusListTokenOptions, StatusListUri,
    StatusReference, UnverifiedStatusListToken,
};

const LIMITS: DecodeLimits = DecodeLimits { max_encoded_len: 64 << 10, max_decompressed_len: 1 << 20 };

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    let rest = data.get(1..).unwrap_or_default();
    match mode % 5 {
        0 => {
            let Ok(token) = std::str::from_utf8(rest) else { return };
            token_checks(token, mode);
        }
        1 => {
            let lst = base64url::encode(miniz_oxide::deflate::compress_to_vec_zlib(field_bytes(&fields, 2), 1));
            let payload = expand(field(&fields, 1)).replace("\"$LST\"", &serde_json::Value::from(lst).to_string());
            let header = header(issuer(), "statuslist+jwt", Some(&issuer_kid()), bounded(field(&fields, 0), 4096));
            token_checks(&sign_raw(&header, payload.as_bytes(), issuer()), mode);
        }
        2 => {
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(field_bytes(&fields, 0)) else { return };
            if let Ok(list) = StatusList::from_json(&value, &LIMITS) {
                list_checks(&list, mode);
            }
        }
        3 => {
            for bits in [Bits::One, Bits::Two, Bits::Four, Bits::Eight] {
                if let Ok(list) = StatusList::decompress(bits, rest, &LIMITS) {
                    assert!(list.as_bytes().len() <= LIMITS.max_decompressed_len, "inflated past the limit");
                    list_checks(&list, mode);
                }
            }
        }
        _ => {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(field_bytes(&fields, 0)) {
                if let Ok(Some(reference)) = StatusReference::from_status_claim(&value) {
                    let again = StatusReference::from_status_claim(&reference.to_status_claim());
                    assert!(matches!(again, Ok(Some(r)) if r == reference), "status claim does not round-trip");
                }
            }
            if let Ok(uri) = StatusListUri::new(field(&fields, 1)) {
                let _ = uri.as_str();
            }
        }
    }
});

fn token_checks(token: &str, mode: u8) {
    let options = StatusListTokenOptions { limits: LIMITS, ..StatusListTokenOptions::default() };
    if let Ok(parsed) = UnverifiedStatusListToken::parse(token) {
        let _ = parsed.header().typ();
        if let Ok(verified) = parsed.verify(issuer_key(), &options, NOW) {
            let _ = (verified.subject().as_str(), verified.issued_at(), verified.expires_at(), verified.ttl());
            list_checks(verified.list(), mode);
            // Through the verifier's cache, as a credential's status reference would be.
            let lists = InMemoryStatusLists::new();
            lists.publish(verified.subject().clone(), token.to_owned());
            let cache = StatusListCache::new(lists);
            let index = u64::from(mode) * 7919;
            let reference = StatusReference::new(verified.subject().clone(), index);
            let _ = cache.status(&reference, issuer_key(), NOW);
            let _ = cache.check(&reference, issuer_key(), NOW + 1);
        }
    }
}

fn list_checks(list: &StatusList, mode: u8) {
    let len = list.len() as u64;
    for index in [0, 1, u64::from(mode), len.saturating_sub(1), len, len.saturating_add(1), u64::MAX] {
        let _ = list.get(index);
    }
    let _ = list.non_valid().take(16).count();
    let _ = (list.bits(), list.is_empty(), list.aggregation_uri(), format!("{list:?}"));
    if list.as_bytes().len() <= 4096 {
        let again = StatusList::from_json(&list.to_json(), &LIMITS);
        assert!(again.is_ok_and(|again| again.as_bytes() == list.as_bytes()), "status list does not round-trip");
    }
}
