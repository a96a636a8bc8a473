#!/usr/bin/env bash
# The issue 17 figures on this machine (docs/benchmarks.md, docs/scaling.md): a throwaway
# PostgreSQL server with durable commits (fsync on, the defaults otherwise, shared_buffers a
# quarter of memory as a production server would have), then examples/national.rs in release.
#
#   bash crates/postgres/bench.sh                 # all: issue, status-list, may-use (10 M)
#   bash crates/postgres/bench.sh may-use 1000000 # one of them, with its arguments
#
# Not part of CI (minutes and several GB of disk); run as root.
set -euo pipefail
cd "$(dirname "$0")/../.."

source crates/postgres/throwaway.sh
memory_mb="$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
start_postgres -c shared_buffers="$((memory_mb / 4))MB" -c max_wal_size=8GB -c checkpoint_timeout=30min

cargo build --release --locked -p schooltas-postgres --example national
run() { SCHOOLTAS_BENCH_POSTGRES="$SCHOOLTAS_TEST_POSTGRES" "${CARGO_TARGET_DIR:-target}/release/examples/national" "$@"; }
if [ "$#" -gt 0 ]; then
    run "$@"
else
    for threads in 1 2 4 8; do run issue "$threads" 4000; done
    run status-list
    run may-use 10000000
fi
