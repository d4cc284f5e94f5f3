#!/usr/bin/env bash
# Private PostgreSQL clusters for Hearth, one per purpose (dev, test, bench).
#
#   scripts/pg.sh start  dev|test|bench   ensure the cluster exists and runs; print its URL
#   scripts/pg.sh stop   dev|test|bench   fast shutdown if running
#   scripts/pg.sh url    dev|test|bench   print the URL without starting anything
#   scripts/pg.sh status dev|test|bench   print whether it runs (exit 0 running, 3 stopped)
#
# dev keeps `make run`'s data; test is for disposable test databases and skips fsync; bench is
# for `make bench`/`make soak`, with PostgreSQL's durable defaults (every commit is flushed, as a
# user's database would be), so write-heavy figures are not flattered by a database that may lose
# committed data.
#
# Why private clusters: the project must not depend on (or pollute) whatever
# system PostgreSQL a machine happens to run. Each cluster lives in the
# git-ignored .hearth/pg-NAME/ and listens only on 127.0.0.1.
#
# stdout carries only the URL (so `url=$(scripts/pg.sh start dev)` works);
# every diagnostic goes to stderr.
#
# Environment: HEARTH_PG_DEV_PORT (default 25432), HEARTH_PG_TEST_PORT (25433),
# HEARTH_PG_BENCH_PORT (25434). The defaults sit below 32768, outside the range
# Linux hands out to outgoing connections, so a passing client can never be
# holding them.
set -euo pipefail

die() { printf 'pg.sh: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'pg.sh: %s\n' "$*" >&2; }

usage() {
  printf 'usage: %s start|stop|url|status dev|test|bench\n' "$0" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
cmd=$1
name=$2

# Resolve the repo root from the script's own location so the script works
# from any cwd (make, CI, an editor's terminal).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

case $name in
  dev)
    port=${HEARTH_PG_DEV_PORT:-25432}
    dbname=hearth
    ;;
  test)
    port=${HEARTH_PG_TEST_PORT:-25433}
    # Tests create their own databases; they only need an admin entry point.
    dbname=postgres
    ;;
  bench)
    port=${HEARTH_PG_BENCH_PORT:-25434}
    # hearth-bench creates (and drops) a database of its own per run.
    dbname=postgres
    ;;
  *) usage ;;
esac
[[ $port =~ ^[0-9]+$ ]] && ((port >= 1 && port <= 65535)) ||
  die "invalid port '$port' for the $name cluster"

BASE=$ROOT/.hearth/pg-$name
DATA=$BASE/data
LOG=$BASE/log
URL=postgres://postgres@127.0.0.1:$port/$dbname

# Unix socket paths are limited to 107 bytes, and the directory ends up
# inside pg_ctl's -o string (parsed by a shell, then by postgres), so only
# use the in-repo directory when it is short and free of odd characters.
# Otherwise fall back to a /tmp directory that is stable per repo checkout.
RUN=$BASE/run
if ((${#RUN} + ${#port} + 10 > 107)) || [[ $RUN =~ [^A-Za-z0-9/._-] ]]; then
  RUN=/tmp/hearth-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)-$name
fi

is_root() { [[ $(id -u) -eq 0 ]]; }

# Quote for /bin/sh (used by the `su` fallback); printf %q emits bash-only
# syntax that dash would misread.
sh_quote() {
  local out='' arg
  for arg in "$@"; do
    out+="'${arg//\'/\'\\\'\'}' "
  done
  printf '%s' "$out"
}

# initdb and pg_ctl refuse to run as root, so as root we act as the
# `postgres` system user. cd / first so the tools don't warn about a cwd
# (e.g. /root) that postgres cannot enter.
as_pg() {
  if ! is_root; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && su postgres -s /bin/sh -c "$(sh_quote "$@")")
  fi
}

# ---------------------------------------------------------------------------
# Locating (or installing) the server binaries

find_bindir() {
  local dir ver
  # An existing cluster must be run by the major version that created it,
  # even if a newer PostgreSQL has been installed since.
  if [[ -f $DATA/PG_VERSION ]]; then
    ver=$(<"$DATA/PG_VERSION")
    if [[ -x /usr/lib/postgresql/$ver/bin/initdb ]]; then
      printf '%s\n' "/usr/lib/postgresql/$ver/bin"
      return 0
    fi
  fi
  # Debian/Ubuntu keep server binaries off PATH; pick the newest version.
  dir=$(
    for d in /usr/lib/postgresql/*/bin; do
      [[ -x $d/initdb ]] && printf '%s\n' "$d"
    done | sort -V | tail -n 1
  )
  if [[ -n $dir ]]; then
    printf '%s\n' "$dir"
    return 0
  fi
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null || true)
    if [[ -n $dir && -x $dir/initdb ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  fi
  return 1
}

install_postgres() {
  if is_root && command -v apt-get >/dev/null 2>&1; then
    note "PostgreSQL server binaries not found; installing the Debian package 'postgresql'"
    # The package's postinst may create and start a system cluster on 5432.
    # We neither need nor mind it: our clusters use their own ports.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y postgresql >&2
    return 0
  fi
  cat >&2 <<'EOF'
pg.sh: error: PostgreSQL server binaries (initdb, pg_ctl, pg_isready) not found.
Install PostgreSQL 15 or newer, for example:
  Debian/Ubuntu:  sudo apt-get install postgresql
  Fedora/RHEL:    sudo dnf install postgresql-server postgresql
  macOS:          brew install postgresql@15 && brew link postgresql@15
If it is installed in an unusual place, put its pg_config on PATH.
EOF
  exit 1
}

# Sets BIN. Only `start` may install; stop/status must stay side-effect free.
resolve_bindir() {
  local may_install=$1
  if BIN=$(find_bindir); then
    return 0
  fi
  [[ $may_install == yes ]] || return 1
  install_postgres
  BIN=$(find_bindir) || die "installed 'postgresql' but still cannot find initdb"
}

# ---------------------------------------------------------------------------
# Cluster state

# PID of our postmaster if it is alive, from postmaster.pid. Liveness alone
# is not enough: after a container restart a stale postmaster.pid can name
# a PID that now belongs to an unrelated process, and pg_ctl would then
# wrongly believe the server runs. The postmaster chdirs into its data
# directory, so its cwd identifies it exactly.
running_pid() {
  local pid cwd comm
  [[ -r $DATA/postmaster.pid ]] || return 1
  pid=$(sed -n 1p "$DATA/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  if [[ -d /proc/$pid ]]; then
    # A killed postmaster nobody has reaped yet lingers as a zombie.
    [[ $(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) != Z ]] || return 1
    if cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null); then
      [[ $cwd == "$DATA" ]] || return 1
    else
      comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
      [[ $comm == postgres || $comm == postmaster ]] || return 1
    fi
  elif [[ -d /proc/self ]]; then
    return 1 # Linux, and the process is gone
  else
    kill -0 "$pid" 2>/dev/null || return 1 # no procfs (e.g. macOS)
  fi
  printf '%s\n' "$pid"
}

# The port a running cluster actually listens on (line 4 of postmaster.pid).
running_port() {
  sed -n 4p "$DATA/postmaster.pid" 2>/dev/null
}

port_in_use() {
  # bash's /dev/tcp avoids depending on ss/netstat/lsof being installed.
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$port" 2>/dev/null
}

# Whether the server on our port lets us in as postgres without a password.
accepts_us() {
  [[ $("$BIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c 'select 1' 2>/dev/null) == 1 ]]
}

wait_ready() {
  local i
  for ((i = 0; i < 120; i++)); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
      return 0
    fi
    # Don't sit out the full timeout for a server that has already died.
    running_pid >/dev/null || break
    sleep 0.5
  done
  note "server log tail ($LOG):"
  tail -n 30 "$LOG" >&2 2>/dev/null || true
  die "the $name cluster is not accepting connections on 127.0.0.1:$port"
}

# ---------------------------------------------------------------------------
# Permissions (root only)

# When root owns the checkout, postgres needs at least search (x) permission
# on every ancestor of .hearth/. We don't chmod the user's directories behind
# their back (e.g. /root is 0700 on purpose); we explain what to do instead.
check_traversable() {
  local target=$1 path='' part
  local -a parts
  as_pg test -x "$target" && return 0
  # Walk down from / so we name the outermost directory that blocks.
  IFS=/ read -ra parts <<<"${target#/}"
  for part in "${parts[@]}"; do
    path+=/$part
    if ! as_pg test -x "$path"; then
      die "the 'postgres' user cannot enter $path (needed to reach $target).
Either allow it, e.g.:  chmod o+x $path
or move the repository somewhere postgres can reach (e.g. under /work or /srv)."
    fi
  done
  die "the 'postgres' user cannot enter $target"
}

owner_of() {
  stat -c %U "$1" 2>/dev/null || stat -f %Su "$1"
}

prepare_dirs() {
  local d want
  want=$(id -un)
  is_root && want=postgres

  # The /tmp socket fallback lives in a world-writable place: refuse one
  # that somebody else pre-created (and check before any chown below).
  if [[ $RUN == /tmp/* && ( -e $RUN || -L $RUN ) ]]; then
    [[ ! -L $RUN && -d $RUN && $(owner_of "$RUN") == "$want" ]] ||
      die "$RUN exists but is not a directory owned by $want; remove it and retry"
  fi

  mkdir -p "$ROOT/.hearth"
  if is_root; then
    id postgres >/dev/null 2>&1 ||
      die "running as root needs a 'postgres' system user to own the cluster (installing the 'postgresql' package creates it)"
    # The parent stays root-owned; postgres only needs to pass through it.
    chmod 0755 "$ROOT/.hearth"
    for d in "$BASE" "$RUN"; do
      mkdir -p "$d"
      chown postgres: "$d"
    done
    # A cluster initialised earlier by a non-root user would otherwise be
    # inaccessible to postgres.
    if [[ -d $DATA && $(owner_of "$DATA") != postgres ]]; then
      note "handing $BASE over to the postgres user"
      chown -R postgres: "$BASE"
    fi
    check_traversable "$BASE"
    check_traversable "$RUN"
  else
    mkdir -p "$BASE" "$RUN"
  fi
  chmod 0700 "$BASE" "$RUN"
}

# A cluster created by root belongs to postgres; a plain user can neither
# inspect nor drive it, and should be told so rather than see "stopped".
check_access() {
  local d
  for d in "$BASE" "$DATA"; do
    if [[ -e $d && ! -x $d ]]; then
      die "$d belongs to $(owner_of "$d"); run this as root or as that user"
    fi
  done
}

# ---------------------------------------------------------------------------
# Commands

init_cluster() {
  local tmp=$BASE/data.init
  local -a opts=(-U postgres -A trust -E UTF8)
  # Test data is disposable, so skip the fsyncs that make initdb slow.
  [[ $name == test ]] && opts+=(--no-sync)

  # A data directory without PG_VERSION is not a cluster. Clear it only if
  # empty; anything else may be someone's data and needs a human decision.
  if [[ -e $DATA ]]; then
    as_pg rmdir "$DATA" 2>/dev/null ||
      die "$DATA exists but is not a PostgreSQL cluster; move it away or run 'make clean-db'"
  fi
  # Initialise into a scratch directory and rename at the end, so an
  # interrupted initdb never leaves a half-built data directory behind.
  as_pg rm -rf "$tmp"
  note "initialising the $name cluster in $DATA"
  # C.UTF-8 gives UTF-8 ctype with byte-order collation, which is stable
  # across glibc upgrades. Not every system has that locale, and plain C is
  # equivalent for collation, so fall back to it.
  if ! as_pg "$BIN/initdb" -D "$tmp" "${opts[@]}" --locale=C.UTF-8 >"$BASE/initdb.log" 2>&1; then
    note "initdb with --locale=C.UTF-8 failed; retrying with --locale=C"
    as_pg rm -rf "$tmp"
    if ! as_pg "$BIN/initdb" -D "$tmp" "${opts[@]}" --locale=C >"$BASE/initdb.log" 2>&1; then
      cat "$BASE/initdb.log" >&2
      die "initdb failed (log above, also in $BASE/initdb.log)"
    fi
  fi
  as_pg mv "$tmp" "$DATA"
}

start_cluster() {
  local -a srv=(
    -c listen_addresses=127.0.0.1
    -p "$port"
    -c "unix_socket_directories=$RUN"
    -c max_connections=300
  )
  # Test data is thrown away, so trade crash safety for speed. Dev keeps the
  # durable defaults because people keep real work in it, and bench because
  # it measures what a user's database would do.
  if [[ $name == test ]]; then
    srv+=(-c fsync=off -c full_page_writes=off -c synchronous_commit=off)
  fi

  if port_in_use; then
    die "127.0.0.1:$port is already in use by another process (not this checkout's $name cluster).
Stop that process, or pick another port: HEARTH_PG_$(tr a-z A-Z <<<"$name")_PORT=<port>"
  fi

  # running_pid has established that no postmaster of ours is alive, so any
  # lock files left are stale. Postgres itself would refuse to start if
  # they name a PID that is alive again (recycled) or an unreaped zombie.
  local f
  for f in "$DATA/postmaster.pid" "$RUN/.s.PGSQL.$port.lock" "$RUN/.s.PGSQL.$port"; do
    if [[ -e $f ]]; then
      note "removing stale $f"
      as_pg rm -f "$f"
    fi
  done

  # A port chosen through HEARTH_PG_*_PORT may sit inside Linux's ephemeral
  # range (32768-60999 by default), where an outgoing connection elsewhere on
  # the machine can hold it for a few seconds without listening on it; the
  # probe above cannot see that, but bind() fails. Such collisions are
  # transient, so retry a few times.
  local attempt offset
  for attempt in 1 2 3 4 5; do
    offset=1
    [[ -f $LOG ]] && offset=$(($(wc -c <"$LOG") + 1))
    note "starting the $name cluster on 127.0.0.1:$port (log: $LOG)"
    # 9>&-: the postmaster must not inherit the start lock (see cmd_start),
    # or it would hold it for its whole lifetime and block every later start.
    if as_pg "$BIN/pg_ctl" start -w -t 60 -D "$DATA" -l "$LOG" -o "${srv[*]}" >&2 9>&-; then
      return 0
    fi
    # (grep without -q: an early exit would SIGPIPE tail and, under
    # pipefail, turn a match into a failure.)
    if ! tail -c +"$offset" "$LOG" 2>/dev/null | grep 'Address already in use' >/dev/null; then
      break
    fi
    if ((attempt < 5)); then
      note "127.0.0.1:$port is momentarily taken by another socket; retrying in $((attempt * 2))s"
      sleep $((attempt * 2))
    fi
  done
  note "server log tail ($LOG):"
  tail -n 20 "$LOG" >&2 2>/dev/null || true
  if command -v ss >/dev/null 2>&1; then
    note "sockets using port $port:"
    ss -tanp "( sport = :$port )" >&2 2>/dev/null || true
  fi
  die "could not start the $name cluster"
}

ensure_database() {
  local exists
  exists=$("$BIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "select 1 from pg_database where datname = '$dbname'")
  [[ $exists == 1 ]] && return 0
  note "creating database $dbname"
  # Tolerate losing a race with a concurrent `start`: only fail if the
  # database still doesn't exist afterwards.
  as_pg "$BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$dbname" >&2 ||
    [[ $("$BIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d postgres \
      -c "select 1 from pg_database where datname = '$dbname'") == 1 ]] ||
    die "could not create database $dbname"
}

cmd_start() {
  local pid rport
  resolve_bindir yes
  prepare_dirs

  # Serialise concurrent starts (e.g. parallel make jobs) so they don't race
  # on initdb or on the port. The lock is released when this script exits.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$ROOT/.hearth/pg-$name.lock"
    flock 9
  fi

  # Another checkout's cluster (CI clones the repository next to a working copy
  # whose clusters still run) already serves this port: share it rather than
  # fail. That is safe because tests create a database of their own each, and
  # a dev database is only Hearth's schema and demo data.
  if ! running_pid >/dev/null && port_in_use && accepts_us; then
    note "127.0.0.1:$port is another PostgreSQL that accepts us (another checkout's $name cluster?); using it"
    [[ $dbname == postgres ]] || ensure_database
    printf '%s\n' "$URL"
    return 0
  fi

  [[ -f $DATA/PG_VERSION ]] || init_cluster

  if pid=$(running_pid); then
    rport=$(running_port)
    [[ $rport == "$port" ]] ||
      die "the $name cluster is already running on port $rport, not $port; run 'scripts/pg.sh stop $name' first"
    note "the $name cluster is already running (pid $pid)"
  else
    start_cluster
  fi

  wait_ready
  [[ $dbname == postgres ]] || ensure_database
  printf '%s\n' "$URL"
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then
    note "the $name cluster is not running"
    return 0
  fi
  resolve_bindir no || die "the $name cluster runs (pid $pid) but pg_ctl was not found to stop it"
  note "stopping the $name cluster (pid $pid)"
  as_pg "$BIN/pg_ctl" stop -m fast -w -t 60 -D "$DATA" >&2
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    printf '%s: running (pid %s, 127.0.0.1:%s, data %s)\n' "$name" "$pid" "$(running_port)" "$DATA"
  elif [[ -f $DATA/PG_VERSION ]]; then
    printf '%s: stopped (data %s)\n' "$name" "$DATA"
    exit 3
  else
    printf '%s: not initialised (would live in %s)\n' "$name" "$DATA"
    exit 3
  fi
}

case $cmd in
  start) check_access; cmd_start ;;
  stop) check_access; cmd_stop ;;
  url) printf '%s\n' "$URL" ;;
  status) check_access; cmd_status ;;
  *) usage ;;
esac
