#!/usr/bin/env bash
# Notice load benchmark: builds `ipguard` and the load generator in release
# mode, then runs the generator against `ipguard serve` on a fresh SQLite
# file and on a throwaway PostgreSQL cluster (initdb + pg_ctl in a temporary
# directory on a free loopback port, removed afterwards).
#
# Usage: bash bench/notices/run.sh [sqlite|postgres|both] [extra load-generator flags]
#   e.g. bash bench/notices/run.sh both --notices 20000 --concurrency 16
# Everything stays on 127.0.0.1; every run is bounded by --notices and --time-cap.
set -euo pipefail

which_backends="${1:-both}"
shift || true
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"

cargo build --release -p ipguard --bin ipguard --example notices_load
ipguard="$target/release/ipguard"
load="$target/release/examples/notices_load"

work="$(mktemp -d /tmp/ipguard-bench-notices.XXXXXX)"
pgdata=""
pgctl=""
cleanup() {
    if [[ -n "$pgdata" && -f "$pgdata/postmaster.pid" ]]; then
        as_postgres "$pgctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root; run its tools as the postgres user then.
as_postgres() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ)"

if [[ "$which_backends" == sqlite || "$which_backends" == both ]]; then
    echo "== SQLite"
    "$load" --db "sqlite:$work/bench.db" --ipguard "$ipguard" "$@"
fi

if [[ "$which_backends" == postgres || "$which_backends" == both ]]; then
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    if [[ -z "$bindir" ]]; then
        echo "PostgreSQL binaries not found under /usr/lib/postgresql; skipping" >&2
        exit 1
    fi
    pgctl="$bindir/pg_ctl"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    pgdata="$work/pgdata"
    mkdir -p "$pgdata"
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres "$work" "$pgdata"
    fi
    as_postgres "$bindir/initdb" -D "$pgdata" -U ipguard -A trust --no-sync >/dev/null
    # Server settings stay at their defaults (fsync and synchronous_commit
    # on) apart from the address, the socket directory and the connections.
    as_postgres "$pgctl" -D "$pgdata" -l "$work/postgres.log" -w \
        -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null
    as_postgres "$bindir/createdb" -h 127.0.0.1 -p "$port" -U ipguard ipguard
    echo "== PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port"
    "$load" --db "postgres://ipguard@127.0.0.1:$port/ipguard" --ipguard "$ipguard" "$@"
fi
