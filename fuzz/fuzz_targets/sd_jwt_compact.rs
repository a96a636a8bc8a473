//! SD-JWT compact serialization with and without key binding (RFC 9901 §4, §7; SD-JWT VC §3):
//! splitting, disclosure decoding, digest processing (objects, arrays, recursion, limits), the
//! VC rules, time checks, `cnf`, and the KB-JWT (`typ`, signature, `sd_hash`, nonce, `aud`,
//! `iat`).
//!
//! Modes (first byte):
//! - `0 mod 3`: the rest is a presentation as received, verified against the fixed issuer key
//!   with key binding required, and as issued (no key binding); the holder's parser
//!   (`HolderSdJwt`) and the disclosure parser see it too.
//! - `1 mod 3`, `2 mod 3`: a presentation the harness assembles and signs, so every check
//!   after the issuer signature is reachable:
//!   field 0 extra issuer-header members, field 1 the payload (`"$SD"`, `"$D<n>"`, `"$CNF"`,
//!   `"$ISS"`, `"$NOW"` placeholders), field 2 disclosures as JSON text one per line,
//!   field 3 extra KB-JWT header members, field 4 the KB-JWT payload (`"$SD_HASH"`,
//!   `"$NOW"`); with mode `2 mod 3` no KB-JWT is attached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_fuzz::{KB_AUDIENCE, KB_NONCE, NOW, assemble_sd_jwt, issuer_key, split};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{
    Disclosure, HolderSdJwt, KeyBinding, KeyBindingPolicy, Limits, TypPolicy, UnverifiedSdJwt, VerifyOptions,
};

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    match mode % 3 {
        0 => {
            let Ok(text) = std::str::from_utf8(data.get(1..).unwrap_or_default()) else { return };
            check(text, mode);
        }
        with_kb => check(&assemble_sd_jwt(&fields, with_kb == 1), mode),
    }
});

fn options(mode: u8) -> [VerifyOptions; 3] {
    let limits =
        if mode & 0x80 != 0 { Limits { max_len: 4096, max_disclosures: 4, max_depth: 3 } } else { Limits::default() };
    let required = VerifyOptions { limits, ..VerifyOptions::sd_jwt_vc(KeyBinding::new(KB_NONCE, KB_AUDIENCE)) };
    let as_issued = VerifyOptions { limits, ..VerifyOptions::sd_jwt_vc_as_issued() };
    let plain = VerifyOptions {
        typ: TypPolicy::DangerousAny,
        key_binding: KeyBindingPolicy::NotRequired,
        clock_skew: 60,
        limits,
    };
    [required, as_issued, plain]
}

fn check(text: &str, mode: u8) {
    for options in options(mode) {
        let Ok(parsed) = UnverifiedSdJwt::parse_with_limits(text, &options.limits) else { continue };
        let _ = (parsed.sd_hash(), parsed.issuer_header().typ(), parsed.has_key_binding());
        match parsed.verify(issuer_key(), &options, NOW) {
            Ok(verified) => {
                let _ = (verified.claims().len(), verified.holder_key(), verified.key_binding());
                let _ = format!("{verified:?}");
                if matches!(options.key_binding, KeyBindingPolicy::Required(_)) {
                    // Key binding was demanded: a KB-JWT must have been checked.
                    assert!(verified.key_binding().is_some(), "verified without the required key binding");
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    for part in text.split('~').skip(1).take(64) {
        if let Ok(d) = Disclosure::parse(part) {
            let _ = (d.digest(), d.as_str(), format!("{d:?}"));
        }
    }
    // The holder's side: a wallet parses what an issuer hands it.
    if let Ok(holder_view) = HolderSdJwt::parse(text) {
        let paths = [ClaimPath::claim("given_name"), ClaimPath::claim("address"), ClaimPath::claim("nationalities")];
        let _ = holder_view.disclosures_for(&paths);
        let _ = format!("{holder_view:?}");
    }
}
