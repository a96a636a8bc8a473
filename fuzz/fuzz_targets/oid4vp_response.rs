//! OpenID4VP 1.0 authorization responses as a verifier receives them at its `response_uri`
//! (§8.2 `direct_post`): the form body and the JSON form, `vp_token` shapes, `state`, strict
//! form decoding (RFC 3986 percent-encoding, repeated parameters), and transaction data
//! (§5.1, base64url JSON).
//!
//! Modes (first byte `mod 3`): 0 a form body, 1 a JSON body, 2 transaction data and form
//! components.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_oid4vc::oid4vp::{AuthorizationResponse, TransactionData, form, transaction_data_hash};
use schooltas_school::consent;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match mode % 3 {
        0 => {
            if let Ok(response) = consent::response_from_form(text) {
                round_trip(&response);
            }
            if let Ok(pairs) = form::decode(text) {
                let again = form::encode(&pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
                assert!(form::decode(&again).is_ok_and(|p| p == pairs), "form encoding does not round-trip");
            }
        }
        1 => {
            if let Ok(response) = consent::response_from_json(text) {
                round_trip(&response);
            }
        }
        _ => {
            if let Ok(data) = TransactionData::decode(text) {
                let _ = data.encode();
                let _ = transaction_data_hash(text);
            }
            if let Ok(component) = form::decode_component(text) {
                let _ = component.len();
            }
        }
    }
});

fn round_trip(response: &AuthorizationResponse) {
    let _ = (response.state_matches(None), response.state_matches(Some("state-0123456789abcdef")));
    let _ = format!("{response:?}");
    let form = response.to_form();
    assert!(consent::response_from_form(&form).is_ok(), "a response's own form is refused");
    assert!(AuthorizationResponse::from_form(&form).is_ok(), "a response's own form is refused without its parameters");
    let json = response.to_json().to_string();
    assert!(consent::response_from_json(&json).is_ok(), "a response's own JSON is refused");
}
