#!/usr/bin/env bash
# Builds the schooltas-wasm ES module into crates/wasm/pkg/: schooltas_wasm.js (ES module, the
# `web` target: browsers load it by URL, Node by passing the .wasm bytes to `init`),
# schooltas_wasm_bg.wasm and schooltas_wasm.d.ts. Fails if the module is over its budget of
# 400 KB gzipped. Needs rustup and network access to crates.io on the first run (the target and
# wasm-bindgen-cli at exactly the Cargo.lock version of the wasm-bindgen crate).
set -euo pipefail
cd "$(dirname "$0")/../.."

budget=$((400 * 1000))
target="${CARGO_TARGET_DIR:-$PWD/target}"
out=crates/wasm/pkg

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# The CLI must match the crate exactly: wasm-bindgen refuses a module made by another version.
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$version" ] || { echo "build.sh: wasm-bindgen is not in Cargo.lock" >&2; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
    # --locked first, as asked; a registry mirror without one of its locked versions falls
    # back to the newest compatible ones (the CLI's own version is pinned either way).
    cargo install wasm-bindgen-cli --version "$version" --locked \
        || cargo install wasm-bindgen-cli --version "$version"
fi

nice -n 10 cargo build --locked -p schooltas-wasm --lib --target wasm32-unknown-unknown --profile wasm-release
wasm-bindgen --target web --out-dir "$out" "$target/wasm32-unknown-unknown/wasm-release/schooltas_wasm.wasm"

wasm="$out/schooltas_wasm_bg.wasm"
raw=$(wc -c < "$wasm")
gzipped=$(gzip -9c "$wasm" | wc -c)
echo "schooltas-wasm: $raw bytes raw, $gzipped bytes gzipped (budget $budget gzipped)"
if [ "$gzipped" -gt "$budget" ]; then
    echo "build.sh: the module is over its size budget" >&2
    exit 1
fi
