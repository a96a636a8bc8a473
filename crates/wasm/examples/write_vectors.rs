//! Writes `crates/wasm/js/vectors/schooltas.json`: a credential, presentations made by the
//! Rust API, and for each tampered one the error code the Rust API (`schooltas-sd-jwt`) gives,
//! so that the Node and Chromium tests check the WebAssembly module against it.
//! `cargo run -p schooltas-wasm --example write_vectors`

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use fixture::*;
use schooltas_did::{Resolver, Signer};
use schooltas_sd_jwt::{HolderSdJwt, KeyBinding, KeyBindingInput, UnverifiedSdJwt, VerifyOptions, issuer_key_via_did};
use schooltas_wasm::{HeldCredential, PresentRequest, sd_jwt_code};
use serde_json::json;

/// The Rust API's refusal of `presentation` (with `nonce`, `audience`), as its code.
fn rust_code(presentation: &str, nonce: &str, audience: &str) -> String {
    let resolver = Resolver::offline();
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(nonce, audience));
    let result = UnverifiedSdJwt::parse(presentation)
        .and_then(|p| p.verify_with(|header, iss| issuer_key_via_did(&resolver, header, iss), &options, NOW));
    match result {
        Ok(_) => "accepted".to_owned(),
        Err(error) => sd_jwt_code(&error),
    }
}

fn main() -> Result<(), Failure> {
    let f = Fixture::new()?;
    let request = PresentRequest::from_json(&f.present_options())?;
    let presentation = HeldCredential::parse(&f.issued)?.present(&request, &f.child)?;
    let revoked = HeldCredential::parse(&f.revoked)?.present(&request, &f.child)?;
    let kb = |nonce: &str, aud: &str| KeyBindingInput { nonce: nonce.into(), audience: aud.into(), issued_at: NOW };
    let claims = request.claims.clone();
    let present = |kb: KeyBindingInput| HolderSdJwt::parse(&f.issued)?.present(&claims, Some((&f.child, &kb)));
    let wrong_nonce = present(kb("n-other", AUDIENCE))?;
    let wrong_audience = present(kb(NONCE, "https://other.example"))?;
    let changed_disclosure = swap_first_disclosure(&presentation, &f.revoked);
    let bad_signature = break_issuer_signature(&presentation);
    let mut refusals = Vec::new();
    for (name, text) in [
        ("wrong nonce", &wrong_nonce),
        ("wrong audience", &wrong_audience),
        ("changed disclosure", &changed_disclosure),
        ("bad issuer signature", &bad_signature),
    ] {
        refusals.push(json!({"name": name, "presentation": text, "code": rust_code(text, NONCE, AUDIENCE)}));
    }
    // The status refusal is the status list crate's (through the module's status step).
    refusals.push(json!({"name": "revoked", "presentation": revoked, "code": "StatusList.Revoked"}));
    let mut issuer_key = f.school.verifying_key().to_jwk();
    issuer_key.insert("kid".into(), json!(f.kid()));
    let vectors = json!({
        "source": "schooltas-wasm examples/write_vectors.rs (the Rust API)",
        "issued": f.issued,
        "issuerKey": issuer_key,
        "holderKey": serde_json::from_str::<serde_json::Value>(f.child.to_private_jwk().as_str())?,
        "verifyOptions": f.verify_options(),
        "presentOptions": f.present_options(),
        "presentation": presentation,
        "refusals": refusals,
    });
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/js/vectors/schooltas.json");
    std::fs::write(path, serde_json::to_string_pretty(&vectors)? + "\n")?;
    println!("wrote {path}");
    Ok(())
}
