#!/usr/bin/env bash
# RUSTC_WRAPPER for the long fuzz runs (docs/security/fuzzing.md): builds the cryptographic
# primitive crates *without* coverage instrumentation and debug assertions, everything else as
# cargo-fuzz asks. Signing and verifying were ~75 % of every execution of the signed-format
# targets, spent in constant-time field arithmetic whose branches do not depend on the input,
# and an instrumented Adler-32 was 60 % of `status_list`: instrumenting them buys the fuzzer no
# coverage, only time. Our own code, serde_json, base64, miniz_oxide's inflater and every other
# parser stay instrumented.
#
#   RUSTC_WRAPPER="$PWD/uninstrumented-crypto.sh" cargo +nightly fuzz build --debug-assertions --sanitizer none
set -euo pipefail
rustc="$1"
shift
crate=""
prev=""
for arg in "$@"; do
    if [ "$prev" = "--crate-name" ]; then crate="$arg"; break; fi
    prev="$arg"
done
case "$crate" in
    curve25519_dalek | ed25519_dalek | p256 | primeorder | elliptic_curve | crypto_bigint | ecdsa | \
    rfc6979 | sha2 | digest | block_buffer | hmac | subtle | ctutils | cpufeatures | adler2 | \
    argon2 | blake2 | chacha20 | chacha20poly1305 | poly1305 | universal_hash | aead | cipher | \
    ff | group | signature | crypto_common | hybrid_array | generic_array | zeroize | keccak | \
    rand_core | rand_chacha | rand | getrandom | base16ct | sec1 | der | spki | pkcs8 | ring)
        filtered=()
        for arg in "$@"; do
            case "$arg" in
                -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-* | -Cdebug-assertions | \
                -Cdebug-assertions=* | -Coverflow-checks | -Coverflow_checks | -Coverflow-checks=* ) ;;
                *) filtered+=("$arg") ;;
            esac
        done
        exec "$rustc" "${filtered[@]}"
        ;;
    *)
        exec "$rustc" "$@"
        ;;
esac
