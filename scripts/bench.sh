#!/usr/bin/env bash
# make bench: load-test a release build of Hearth on this machine (issue 6).
# make soak:  the same with --soak <seconds> (issue 7): one server under rounds of mixed REST and
#             WebSocket load for that long; fails on any failed request, any lost or duplicated
#             message, a dead server, or memory that keeps growing (bench-results/soak-<time>.json).
#
#   scripts/bench.sh [hearth-bench options]     e.g. --runs 3, --only is_member,chat, --quick
#   scripts/bench.sh --soak 600                 the soak (--soak 60 for a short one)
#
# Builds `hearth` and `hearth-bench` in release mode, raises the open-files limit as far as this
# shell may (the idle scenario holds 20,000 sockets on each side), and runs hearth-bench against
# the project's private bench PostgreSQL cluster (`scripts/pg.sh start bench`: durable defaults,
# unlike the test cluster; or HEARTH_BENCH_ADMIN_URL when set). hearth-bench
# creates a database of its own there, starts the server on a free loopback port, runs every
# scenario for a bounded time, prints the table, writes bench-results/bench-<time>.json, and
# drops the database and stops the servers again, also on Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

note() { printf 'bench.sh: %s\n' "$*" >&2; }

# The soft limit up to the hard one; root may go further. Children (the server) inherit it.
want=65536
hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < want)); then
  ulimit -Hn "$want" 2>/dev/null && hard=$want || true
fi
if [[ $hard == unlimited ]] || ((hard >= want)); then
  ulimit -Sn "$want"
else
  ulimit -Sn "$hard"
fi
note "open-files limit $(ulimit -Sn)"

if [[ -z ${HEARTH_BENCH_ADMIN_URL:-} ]]; then
  HEARTH_BENCH_ADMIN_URL=$(scripts/pg.sh start bench)
fi
export HEARTH_BENCH_ADMIN_URL

cargo build --release --locked -p hearth-api -p hearth-bench
exec target/release/hearth-bench --server target/release/hearth --out bench-results "$@"
