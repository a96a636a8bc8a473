#!/usr/bin/env bash
# Two-way interoperability check against sd-jwt-python (PyPI sd-jwt, OpenWallet Foundation):
# builds the schooltas CLI, installs the pinned Python package into a directory under the cargo
# target directory (nothing global), and runs interop/python_sd_jwt.py. Exits non-zero on any
# mismatch. Needs: the Rust toolchain, Python 3 with pip, and network access to PyPI (first run).
set -euo pipefail
cd "$(dirname "$0")/.."

SD_JWT_VERSION=0.10.4
target="${CARGO_TARGET_DIR:-$PWD/target}"
pydir="$target/interop/sd-jwt-$SD_JWT_VERSION"

cargo build -q --locked -p schooltas-cli
bin="$target/debug/schooltas"

# Install once per target directory; a half-finished install is redone.
if [ ! -f "$pydir/.complete" ]; then
    rm -rf "$pydir"
    mkdir -p "$pydir"
    python3 -m pip --version >/dev/null 2>&1 || { echo "interop: python3 -m pip is not available" >&2; exit 1; }
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
        --target "$pydir" "sd-jwt==$SD_JWT_VERSION"
    touch "$pydir/.complete"
fi

PYTHONPATH="$pydir" PYTHONDONTWRITEBYTECODE=1 python3 interop/python_sd_jwt.py --schooltas "$bin"
