//! OpenID4VP 1.0 Appendix A (the W3C Digital Credentials API) as a wallet and a verifier read
//! it: the `{protocol, data}` request a page passes (all three protocols, the strict shape,
//! the multi-signed JWS JSON serialization), the calling origin, the unsigned request read
//! with it, and the `{"response": <JWE>}` answer a verifier's page posts back.
//!
//! Modes (first byte `mod 3`): 0 a DC API request read at a fixed origin, 1 an origin, 2 a
//! `dc_api.jwt` answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_oid4vc::oid4vp::{DcApiRequest, Oid4vpError, Origin, dc_api_response_kid};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match mode % 3 {
        0 => {
            let Ok(request) = DcApiRequest::from_json(text) else { return };
            // Its own JSON reads back the same.
            let again = DcApiRequest::from_json(&request.to_json().to_string());
            assert!(again.is_ok_and(|a| a == request), "a DC API request's own JSON is refused or changed");
            let Ok(origin) = Origin::parse("https://verifier.example") else { return };
            if let Ok(read) = request.read_unsigned(&origin) {
                assert_eq!(read.client_id, "origin:https://verifier.example", "an unsigned request names the origin");
                assert!(read.is_dc_api() && read.response_uri.is_empty());
            }
            // No key is trusted: a signed request never verifies.
            let verified = request.verify_signed(
                &origin,
                |_, _| Err(Oid4vpError::InvalidClientId { reason: "fuzz: no key is trusted" }.into()),
                1_800_000_000,
                60,
            );
            assert!(verified.is_err(), "a request verified with no trusted key");
        }
        1 => {
            if let Ok(origin) = Origin::parse(text) {
                assert_eq!(origin.as_str(), text);
                assert!(Origin::from_client_id(&origin.audience()).is_ok_and(|o| o == origin));
            }
        }
        _ => {
            let _ = dc_api_response_kid(text);
        }
    }
});
