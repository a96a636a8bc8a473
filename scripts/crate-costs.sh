#!/usr/bin/env bash
# What a package costs to build: the number of distinct crates compiled for it and, with
# --cold, the time of a build from nothing.
#
#   scripts/crate-costs.sh [--cold] [--release] SPEC...
#
# SPEC is a workspace package, optionally with its features:
#   schooltas-did                 its default features
#   schooltas-did/                no default features, no features
#   schooltas-did/https           no default features, then `https` (list more with commas;
#                                 write `default` to keep the defaults as well)
#
# The crate count is cargo tree's: normal and build dependencies (proc-macros included, dev
# dependencies not), the package itself included, each name+version once:
#   cargo tree -e normal,build --prefix none -p PKG [--no-default-features --features F] \
#     | sed 's/ (\*)//' | sort -u | wc -l
# --cold also builds the package in a throw-away CARGO_TARGET_DIR (a dev build; --release for
# the release profile), prints the wall time and the number of `Compiling` lines cargo printed
# (a crate built both as a build dependency and as a normal one with other features is
# compiled, and counted there, twice), and deletes the directory. It runs under `nice -n 10`,
# uses Cargo.lock as it is (--locked) and needs no network once `cargo fetch` has run.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }

cold=false
profile=()
specs=()
for arg in "$@"; do
    case "$arg" in
        --cold) cold=true ;;
        --release) profile=(--release) ;;
        -h | --help) usage; exit 0 ;;
        -*) echo "unknown option $arg" >&2; usage >&2; exit 2 ;;
        *) specs+=("$arg") ;;
    esac
done
if [ "${#specs[@]}" -eq 0 ]; then
    usage >&2
    exit 2
fi

# The cargo arguments selecting SPEC's package and features.
spec_args() {
    local spec=$1
    if [[ "$spec" == */* ]]; then
        local package=${spec%%/*} features=${spec#*/}
        if [ -n "$features" ]; then
            echo "-p $package --no-default-features --features $features"
        else
            echo "-p $package --no-default-features"
        fi
    else
        echo "-p $spec"
    fi
}

if $cold; then
    printf '%-40s %8s %11s %9s\n' "package/features" "crates" "compiling" "cold s"
else
    printf '%-40s %8s\n' "package/features" "crates"
fi
for spec in "${specs[@]}"; do
    # shellcheck disable=SC2046 # the arguments are meant to split
    crates=$(cargo tree --locked -e normal,build --prefix none $(spec_args "$spec") | sed 's/ (\*)//' | sort -u | wc -l)
    if ! $cold; then
        printf '%-40s %8d\n' "$spec" "$crates"
        continue
    fi
    target=$(mktemp -d "${TMPDIR:-/tmp}/crate-costs.XXXXXX")
    start=$(date +%s.%N)
    # shellcheck disable=SC2046
    log=$(CARGO_TARGET_DIR="$target" nice -n 10 cargo build --locked "${profile[@]}" $(spec_args "$spec") 2>&1) || {
        echo "$log" >&2
        rm -rf "$target"
        exit 1
    }
    end=$(date +%s.%N)
    rm -rf "$target"
    compiling=$(grep -c '^ *Compiling ' <<<"$log" || true)
    printf '%-40s %8d %11d %9.1f\n' "$spec" "$crates" "$compiling" "$(echo "$end - $start" | bc)"
done
