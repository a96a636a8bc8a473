//! The UniFFI binding generator, pinned to this crate's `uniffi` version (generator and
//! scaffolding must match): `cargo run -p schooltas-ffi --bin uniffi-bindgen -- generate
//! --library target/debug/libschooltas_ffi.so --language kotlin --out-dir out/kotlin`.
#![forbid(unsafe_code)]

fn main() {
    uniffi::uniffi_bindgen_main()
}
