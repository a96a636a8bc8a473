//! Issue 14's "done when", as a test: a wallet on one side and the school's services on the
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
