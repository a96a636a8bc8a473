#!/usr/bin/env bash
# Builds the schooltas-wasm ES module (build.sh) and runs its Node and headless Chromium tests
# (js/node.test.mjs, js/chromium.test.mjs). Needs Node 20+ with npm (network access to the
# npm registry on the first run) and Chromium (/usr/bin/chromium, Debian's `chromium`).
set -euo pipefail
cd "$(dirname "$0")"

bash build.sh
command -v node >/dev/null || { echo "test.sh: node is not installed" >&2; exit 1; }
(cd js && npm ci --silent --no-audit --no-fund)
node --test js/node.test.mjs
node --test js/chromium.test.mjs
