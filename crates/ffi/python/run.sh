#!/usr/bin/env bash
# The Python flow test of the phone bindings: builds the schooltas-ffi library, the binding
# generator and the school's services (examples/test_school.rs); generates the Python module
# (and, as a check that generation works for the apps, the Kotlin and Swift sources) into a
# temporary folder; makes a venv with pytest and cryptography (PyPI, pinned) under the cargo
# target directory, once; and runs test_photo_consent.py against the services on loopback.
# Needs: the Rust toolchain, Python 3 with venv (python3-venv on Debian) and network access to
# PyPI on the first run. `CARGO_TARGET_DIR` is honoured. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../../.."

PYTEST_VERSION=8.3.4
CRYPTOGRAPHY_VERSION=44.0.0
target="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$target/ffi-python/venv-pytest-$PYTEST_VERSION-cryptography-$CRYPTOGRAPHY_VERSION"

cargo build -q --locked -p schooltas-ffi --lib --bin uniffi-bindgen --example test_school
case "$(uname -s)" in
    Darwin) library="$target/debug/libschooltas_ffi.dylib" ;;
    *) library="$target/debug/libschooltas_ffi.so" ;;
esac

out="$(mktemp -d "${TMPDIR:-/tmp}/schooltas-ffi.XXXXXX")"
trap 'rm -rf "$out"' EXIT
for language in python kotlin swift; do
    "$target/debug/uniffi-bindgen" generate --no-format --library "$library" --language "$language" \
        --out-dir "$out/$language" >/dev/null
done
# What the apps get: a Kotlin file, a Swift file with its C header and module map.
for generated in python/schooltas_ffi.py kotlin/uniffi/schooltas_ffi/schooltas_ffi.kt \
    swift/schooltas_ffi.swift swift/schooltas_ffiFFI.h swift/schooltas_ffiFFI.modulemap; do
    if [ ! -s "$out/$generated" ]; then
        echo "ffi: uniffi-bindgen did not write $generated" >&2
        exit 1
    fi
done
grep -q "class Wallet" "$out/kotlin/uniffi/schooltas_ffi/schooltas_ffi.kt" \
    && grep -q "protocol ForeignKeyStore" "$out/swift/schooltas_ffi.swift" \
    || { echo "ffi: the Kotlin or Swift sources lack the wallet's API" >&2; exit 1; }
# The Python module loads the library from its own folder.
ln -s "$library" "$out/python/$(basename "$library")"

# The venv, made once per target directory; a half-finished one is made again.
if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv" || {
        echo "ffi: python3 -m venv failed; on Debian install python3-venv (apt-get install python3-venv)" >&2
        exit 1
    }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "pytest==$PYTEST_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
    touch "$venv/.complete"
fi

SCHOOLTAS_FFI_BINDINGS="$out/python" SCHOOLTAS_TEST_SCHOOL="$target/debug/examples/test_school" \
    PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    --rootdir crates/ffi/python crates/ffi/python "$@"
