#!/usr/bin/env bash
# Interoperability with independent OpenID4VC code, as a wallet would run it against a
# Schooltas school over TLS: the OpenWallet Foundation's oid4vc-ts OpenID4VCI client redeems the
# school's pre-authorized offer with its PIN (metadata, token, nonce, an ES256 JWT key proof,
# the credential); the reference DCQL implementation (dcql) validates the verifier's query and
# matches the credential; oid4vc-ts's OpenID4VP client fetches and verifies the signed request
# object (did:key client), sd-jwt-js makes the SD-JWT presentation with its key binding, and
# the response is posted with direct_post and accepted. Versions are pinned in
# package-lock.json.
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
# The presentation oid4vc-ts and sd-jwt-js made is accepted by the verifier: 200 with a JSON
# object (OpenID4VP 1.0 §8.2), the session accepted with exactly the claims asked for.
presented = wallet["presentation"]
assert presented["status"] == 200 and json.loads(presented["body"]) == {}, presented
session = status["session"]
assert session["status"] == "accepted", session
assert session["claims"]["group"] == "7B" and "birth_date" not in session["claims"], session
print("interop with oid4vc-ts (OpenID4VCI and OpenID4VP), sd-jwt-js and dcql: OK")
PY
