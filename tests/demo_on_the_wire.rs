//! Issue 14's "done when", as a test (and issue 15's, in the EU profile): a wallet on one side and the school's services on the
//! other complete issuance, a consent presentation with the parent's approval from a second
//! wallet (through the guardian relay), and a withdrawal, over HTTP(S) on loopback. It runs
//! the README's demo (`examples/photo_consent.rs`), which checks each outcome itself.
#![allow(dead_code, clippy::panic)]

#[path = "../examples/photo_consent.rs"]
mod demo;

#[test]
fn the_photo_consent_demo_runs_on_the_wire() {
    if let Err(error) = demo::run() {
        panic!("the demo failed: {error}");
    }
}

/// Issue 15's "done when": the same flow in the EU profile (HAIP 1.0) — X.509 certificates from
/// the trust-list operator's CA for the school's issuer key and the desk's request-signing key,
/// an `https` issuer identifier, ES256 everywhere, DPoP-bound access tokens, `wallet_nonce` by
/// `request_uri_method=post`, and encrypted responses (`direct_post.jwt`).
#[test]
fn the_photo_consent_demo_runs_on_the_wire_in_the_eu_profile() {
    if let Err(error) = demo::run_eu_profile() {
        panic!("the demo failed in the EU profile: {error}");
    }
}
