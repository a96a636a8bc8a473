//! OpenID4VP 1.0 authorization requests as a wallet receives them: the `openid4vp://` URI
//! (§5, RFC 9101 §5), the signed request object (JAR, `oauth-authz-req+jwt`, §5.9.3
//! `decentralized_identifier:` client ids, `kid` ↔ `client_id`), the request's own rules
//! (`response_mode`, nonce length, https `response_uri`, DCQL, transaction data, the
//! Schooltas extension) and the over-asking check against a trust list.
//!
//! Modes (first byte `mod 3`):
//! - 0: the rest is a request object as received, verified against the fixed key and with
//!   the offline resolver.
//! - 1: the rest is an authorization request URI; a by-value request object in it is parsed
//!   and verified as in mode 0.
//! - 2: field 0 extra header members, field 1 the payload (`"$CLIENT_ID"` →
//!   `decentralized_identifier:<fixed DID>`, `"$NOW"`, `"$ISS"`); the harness signs it with
//!   the key its `kid` names, so everything after the signature check is reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_did::Resolver;
use schooltas_fuzz::{
    NOW, bounded, expand, field, header, issuer, issuer_did, issuer_key, issuer_kid, sign_raw, split, trust_list,
};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, AuthorizationRequestUri, UnverifiedRequestObject};
use schooltas_school::SchooltasExtension;

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    let Ok(text) = std::str::from_utf8(data.get(1..).unwrap_or_default()) else { return };
    match mode % 3 {
        0 => request_object(text, None),
        1 => {
            if let Ok(uri) = AuthorizationRequestUri::parse(text) {
                let _ = AuthorizationRequestUri::parse(&uri.to_uri());
                if let AuthorizationRequestUri::ByValue { request_jwt, .. } = &uri {
                    request_object(request_jwt, Some(&uri));
                }
            }
        }
        _ => {
            let client_id = serde_json::Value::from(schooltas_fuzz::client_id()).to_string();
            let header = header(issuer(), "oauth-authz-req+jwt", Some(&issuer_kid()), bounded(field(&fields, 0), 4096));
            let payload = expand(field(&fields, 1)).replace("\"$CLIENT_ID\"", &client_id);
            request_object(&sign_raw(&header, payload.as_bytes(), issuer()), None);
        }
    }
});

fn request_object(jwt: &str, uri: Option<&AuthorizationRequestUri>) {
    let Ok(parsed) = UnverifiedRequestObject::parse(jwt) else { return };
    let _ = parsed.header().kid();
    let _ = parsed.verify_with_resolver(&Resolver::offline(), NOW, 60);
    if let Ok(request) = parsed.verify_with(|_, _| Ok(issuer_key().clone()), NOW, 60) {
        // A wallet reads the Schooltas member as soon as it has verified the request, and
        // refuses the request when that member is malformed.
        let Ok(extension) = SchooltasExtension::from_request(&request) else { return };
        checks(&request, extension.as_ref());
        if let Some(uri) = uri {
            let _ = uri.check_client_id(&request);
        }
    }
}

fn checks(request: &AuthorizationRequest, extension: Option<&SchooltasExtension>) {
    // What a verified request must already satisfy.
    assert!(request.validate().is_ok(), "a verified request object fails its own validation");
    let _ = request.client_did();
    let _ = request.decoded_transaction_data();
    if let Some(extension) = extension {
        for query in &request.dcql_query.credentials {
            let _ = extension.basis_for(&query.id);
        }
    }
    let Ok(list) = trust_list().at(NOW) else { panic!("the fixture trust list is not current") };
    if let Some(registration) = list.verifier(issuer_did()) {
        let _ = registration.over_asking(request);
    }
    let _ = list.check_request(request);
    // A wallet re-serializes and re-reads requests it stores.
    if let Ok(json) = serde_json::to_string(request) {
        let _ = serde_json::from_str::<AuthorizationRequest>(&json);
    }
}
