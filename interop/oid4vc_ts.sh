#!/usr/bin/env bash
# Interoperability with independent OpenID4VC code: the OpenWallet Foundation's oid4vc-ts
# wallet client (@openid4vc/openid4vci) redeems a Schooltas school's pre-authorized offer with
# its PIN over TLS (metadata, token, nonce, an ES256 JWT key proof, the credential), and the
# reference DCQL implementation (dcql) parses the verifier's query from its request object and
# matches the issued credential against it. Versions are pinned in package-lock.json.
# Needs: the Rust toolchain, Node 18+ with npm, and network access to the npm registry (first run).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
command -v node >/dev/null || { echo "interop: node is not installed" >&2; exit 1; }
(cd interop/oid4vc_ts && npm ci --silent --no-audit --no-fund)
cargo build -q --locked -p schooltas-server --example interop_school

coproc SCHOOL { "$target/debug/examples/interop_school"; }
trap 'kill "$SCHOOL_PID" 2>/dev/null || true' EXIT
read -r school <&"${SCHOOL[0]}"
# The school's certificate is the test CA's: Node trusts it for this run only.
wallet=$(echo "$school" | NODE_EXTRA_CA_CERTS=crates/server/tests/tls/ca.pem node interop/oid4vc_ts/wallet.mjs)
echo "oid4vc-ts: $wallet"
echo status >&"${SCHOOL[1]}"
read -r status <&"${SCHOOL[0]}"
echo "school:    $status"
python3 - "$wallet" "$status" <<'PY'
import json, sys
wallet, status = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert wallet["issued"] and wallet["dcql_satisfied"], wallet
assert wallet["iss"].startswith("did:web:localhost"), wallet
assert status["credentials_issued"] == 1 and status["copies"] == [1], status
print("interop with oid4vc-ts and dcql: OK")
PY
