//! JWS compact serialization (RFC 7515 §7.1): header parsing, the algorithm allow-list, the
//! signature check with the algorithm pinned to the key, and the payload decoding.
//!
//! Modes (first byte, see `schooltas_fuzz::split`):
//! - even: the rest is a token as received; it is parsed and verified against the fixed
//!   Ed25519 and P-256 keys. Nothing unsigned may verify.
//! - odd: field 0 is the raw protected header, field 1 the raw payload; the harness signs them
//!   (bit 1 of the mode picks the key), so the code after the signature check is reached. A
//!   token that parses and names the signer's algorithm must then verify and give back the
//!   payload exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_did::jws::{CompactJws, Header};
use schooltas_did::{Signer, jws};
use schooltas_fuzz::{field, field_bytes, issuer, p256, sign_raw, signer_for, split};

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    if mode & 1 == 0 {
        let Ok(token) = std::str::from_utf8(data.get(1..).unwrap_or_default()) else { return };
        raw(token);
    } else {
        let signer = signer_for(mode >> 1);
        let header = field_bytes(&fields, 0);
        let payload = field_bytes(&fields, 1);
        let token = sign_raw(header, payload, signer);
        if let Ok(parsed) = CompactJws::parse(&token) {
            touch(&parsed);
            if parsed.algorithm() == signer.algorithm() {
                let verified = parsed.verify(signer.verifying_key());
                // A correctly signed token whose header was accepted must verify.
                let Ok(verified) = verified else { panic!("a correctly signed JWS failed to verify") };
                assert_eq!(verified.payload(), payload);
            }
        }
        // The library's own signer with a fuzzer-chosen typ and kid: must round-trip.
        let built = Header::new().with_typ(field(&fields, 2)).with_kid(field(&fields, 3));
        if let Ok(again) = jws::sign_compact(&built, payload, signer) {
            match CompactJws::parse(&again).map(|p| p.verify(signer.verifying_key())) {
                Ok(Ok(verified)) => assert_eq!(verified.payload(), payload),
                // Only the length limit may refuse what the library itself signed.
                Ok(Err(e)) => panic!("own JWS failed to verify: {e}"),
                Err(_) => {}
            }
        }
        raw(field(&fields, 4));
    }
});

fn raw(token: &str) {
    let Ok(parsed) = CompactJws::parse(token) else { return };
    touch(&parsed);
    for key in [issuer().verifying_key(), p256().verifying_key()] {
        if parsed.verify(key).is_ok() {
            // Only the harness can sign with these keys; a raw input cannot carry a valid
            // signature unless the corpus was built by the harness itself.
            let _ = parsed.dangerous_unverified_payload();
        }
    }
}

fn touch(parsed: &CompactJws<'_>) {
    let header = parsed.header();
    let _ = (header.alg(), header.typ(), header.kid(), header.members().len());
    let _ = format!("{parsed:?}");
    let _ = parsed.dangerous_unverified_payload();
}
