#!/usr/bin/env bash
# Sourced by ci.sh and bench.sh: `start_postgres [server options…]` starts a throwaway
# PostgreSQL server (Debian's `postgresql` package, installed if missing) on a random port on
# 127.0.0.1 only, with its data and Unix socket in a temporary folder, creates a plain role
# (not a superuser: row-level security must apply to it) and a database it owns, and exports
# SCHOOLTAS_TEST_POSTGRES (that role's URL) and SCHOOLTAS_TEST_POSTGRES_SUPERUSER. The server
# is stopped and the folder removed when the calling shell exits.
#
# Run as root (CI is): PostgreSQL refuses to run as root, so the server runs as `postgres`.

pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; fi
    done | sort -V | tail -1
}

start_postgres() {
    bin="$(pg_bin)"
    if [ -z "$bin" ]; then
        echo "PostgreSQL is not installed: apt-get install -y postgresql"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin="$(pg_bin)"
    fi
    if [ -z "$bin" ]; then
        echo "no initdb/pg_ctl under /usr/lib/postgresql/*/bin after installing postgresql"; exit 1
    fi
    "$bin/postgres" --version

    work="$(mktemp -d /tmp/schooltas-pg.XXXXXX)"
    chown postgres: "$work"
    as_postgres() { runuser -u postgres -- "$@"; }
    stop() {
        as_postgres "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$work"
    }
    trap stop EXIT

    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"

    # Password (SCRAM-SHA-256) over TCP, as an application connects; trust only on the socket,
    # which sits in a folder only `postgres` (and root) can enter.
    as_postgres "$bin/initdb" -D "$work/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    mkdir "$work/socket" && chown postgres: "$work/socket" && chmod 700 "$work/socket"
    as_postgres "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $work/socket -c max_connections=200 $*" start \
        || { cat "$work/server.log"; exit 1; }

    psql_admin() { as_postgres psql -X -q -h "$work/socket" -p "$port" -U postgres -v ON_ERROR_STOP=1 "$@"; }
    psql_admin -d postgres -c "CREATE ROLE schooltas LOGIN PASSWORD '$password'"
    psql_admin -d postgres -c "CREATE DATABASE schooltas OWNER schooltas"

    export SCHOOLTAS_TEST_POSTGRES="postgres://schooltas:$password@127.0.0.1:$port/schooltas"
    # A superuser's connection, for the test that such a role is refused (RLS would not apply).
    export SCHOOLTAS_TEST_POSTGRES_SUPERUSER="host=$work/socket port=$port user=postgres dbname=schooltas"
}
