#!/usr/bin/env bash
# CI smoke for the Schooltas fuzz targets (docs/security/fuzzing.md).
#
# Builds every target once, then runs each for a few seconds from its committed seed corpus
# (fuzz/seeds/<target>) in a throw-away working corpus, and exits non-zero if any target
# crashes (panic, overflow, timeout, out-of-memory). The crash input is kept in
# fuzz/artifacts/<target>/ for the CI log and for `cargo +nightly fuzz run <target> <file>`.
#
# Environment:
#   FUZZ_SMOKE_SECONDS  seconds per target (default 12: 15 targets ≈ 3 min of fuzzing on 2 cores,
#                       plus the build: about 15 min cold on 2 busy cores, seconds when warm)
#   FUZZ_TOOLCHAIN      the nightly toolchain to use (default: nightly)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
seconds="${FUZZ_SMOKE_SECONDS:-12}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Same build as the long runs: release, debug assertions (so integer overflow is a crash),
# no sanitizer (the targets are safe Rust; see docs/security/fuzzing.md for why).
flags=(--debug-assertions --sanitizer none)
cargo "+$toolchain" fuzz build "${flags[@]}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for target in $(cargo "+$toolchain" fuzz list); do
    mkdir -p "$work/$target" "artifacts/$target"
    echo "== $target (${seconds}s)"
    if ! cargo "+$toolchain" fuzz run "${flags[@]}" "$target" "$work/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" 2>"$work/$target.log"; then
        tail -n 40 "$work/$target.log"
        failed+=("$target")
    else
        grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$work/$target.log" || true
    fi
done

if ((${#failed[@]})); then
    echo "fuzz smoke: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz smoke: all targets ran without a crash"
