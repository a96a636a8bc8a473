//! The native time of the verification the Node benchmark (js/bench.mjs) times through the
//! WebAssembly module: the Rust-made vector presentation, its did:key issuer and status list.
//! `cargo run --release -p schooltas-wasm --example bench_verify`
use std::time::Instant;

use schooltas_wasm::{VerifyRequest, verify_presentation};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/js/vectors/schooltas.json"))?;
    let vectors: serde_json::Value = serde_json::from_str(&text)?;
    let presentation = vectors["presentation"].as_str().ok_or("no presentation in the vectors")?;
    let request = VerifyRequest::from_json(&vectors["verifyOptions"])?;
    let rounds = 2_000u32;
    for _ in 0..100 {
        verify_presentation(presentation, &request)?;
    }
    let start = Instant::now();
    for _ in 0..rounds {
        verify_presentation(presentation, &request)?;
    }
    let per = start.elapsed() / rounds;
    println!("native verifyPresentation: {:.1} µs per verification ({rounds} rounds)", per.as_secs_f64() * 1e6);
    Ok(())
}
