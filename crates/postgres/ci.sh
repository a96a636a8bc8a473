#!/usr/bin/env bash
# CI for the PostgreSQL stores: a throwaway PostgreSQL server (throwaway.sh: Debian's
# `postgresql`, loopback only, a plain role that row-level security applies to) and the
# conformance suite against it with SCHOOLTAS_TEST_POSTGRES set. Run as root (CI is).
set -euo pipefail
cd "$(dirname "$0")/../.."

source crates/postgres/throwaway.sh
# fsync off: a throwaway server, a faster run.
start_postgres -c fsync=off

if [ "$#" -gt 0 ]; then
    # e.g. `bash crates/postgres/ci.sh --test postgres -- --nocapture`
    cargo test -p schooltas-postgres --locked "$@"
else
    cargo test -p schooltas-postgres --locked
    # `[store]` in school.toml: `schooltas serve`'s issuer on the school's PostgreSQL tenant
    cargo test -p schooltas-server --locked --test school a_store_section
    # two verifier instances over one database: the same answer to both is accepted once
    cargo test -p schooltas-server --locked --test verifier_instances
    # Issuer scale-out: two `schooltas serve` instances over one database, and the kill -9 test
    cargo test -p schooltas-cli --locked --test serve_postgres
fi
