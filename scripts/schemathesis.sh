#!/usr/bin/env bash
# Spec fuzzing: schemathesis against the committed openapi/openapi.json and a live Hearth.
#
#   scripts/schemathesis.sh [extra schemathesis run options]
#
# What it does:
#   1. keeps schemathesis (pinned below) in the git-ignored virtualenv .venv/ at the repo root,
#      installing it from PyPI only when it is missing or the pin changed;
#   2. creates a fresh database hearth_st_<random> on the admin URL HEARTH_TEST_DATABASE_URL
#      (or the private test cluster, `scripts/pg.sh start test`), dropped again on exit;
#   3. starts the backend (HEARTH_BIN, default target/debug/hearth, built by
#      `cargo test --workspace --no-run`) with `serve --seed-if-empty` on a free port;
#   4. makes the seeded user alice staff, logs her in, and runs every check and every phase
#      (examples, coverage, fuzzing, stateful) with her bearer token against the committed spec;
#   5. runs every check again without credentials, as an anonymous client (or an attacker)
#      meets the API: the unsupported-method and authentication checks then cover every path.
#
# The server also serves a stand-in for the built SPA, as `make run` does, so that its
# fallback routes are fuzzed too (a GET on a POST-only API path must stay a 405).
#
# Exits non-zero on any failure: a 5xx, a response the spec does not describe (status code,
# content type, headers, body schema), an accepted invalid request, an unhandled error.
#
# Knobs (environment): HEARTH_ST_MAX_EXAMPLES (per operation and phase, default 40),
# HEARTH_ST_MAX_TIME (seconds for the run with credentials, default 120),
# HEARTH_ST_ANON_MAX_TIME (seconds for the run without, default 45), HEARTH_ST_SEED (default a
# fixed seed, so a run is reproducible; `random` for a new one each run, printed),
# HEARTH_ST_WORKERS (default 1: see the note at --workers), HEARTH_ST_KEEP_LOG=1 (print the server's log even on success).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

die() { printf 'schemathesis.sh: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'schemathesis.sh: %s\n' "$*" >&2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

# --- 1. schemathesis in .venv ----------------------------------------------------------------
VENV=$ROOT/.venv
installed_version() {
  "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m
print(m.version("schemathesis"))
PY
}
if [[ ! -x $VENV/bin/schemathesis || $(installed_version || true) != "$SCHEMATHESIS_VERSION" ]]; then
  command -v python3 >/dev/null || die "python3 is needed (Debian: apt-get install python3 python3-venv)"
  if [[ ! -x $VENV/bin/pip ]]; then
    note "creating the virtualenv $VENV"
    python3 -m venv "$VENV" || die "cannot create $VENV (Debian: apt-get install python3-venv)"
  fi
  note "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- 2. a fresh database -----------------------------------------------------------------------
HEARTH_BIN=${HEARTH_BIN:-$ROOT/target/debug/hearth}
[[ -x $HEARTH_BIN ]] ||
  die "no backend binary at $HEARTH_BIN: run \`cargo test --workspace --no-run\` (or set HEARTH_BIN)"
if [[ -z ${HEARTH_TEST_DATABASE_URL:-} ]]; then
  HEARTH_TEST_DATABASE_URL=$("$ROOT/scripts/pg.sh" start test)
fi
command -v psql >/dev/null || die "psql is needed (Debian: apt-get install postgresql-client)"
admin_url=$HEARTH_TEST_DATABASE_URL
# The URL with its database name replaced (keeping any ?query).
url_base=${admin_url%%\?*}
url_query=
[[ $admin_url == *\?* ]] && url_query="?${admin_url#*\?}"
scheme_and_host=${url_base%/*}
[[ $scheme_and_host == *://* ]] || die "HEARTH_TEST_DATABASE_URL has no database path: $admin_url"
database=hearth_st_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
database_url=$scheme_and_host/$database$url_query

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-st.XXXXXX")
server_pid=
schemathesis_pid=
database_created=
cleanup() {
  local status=$?
  if [[ -n $schemathesis_pid ]] && kill -0 "$schemathesis_pid" 2>/dev/null; then
    kill -TERM "$schemathesis_pid" 2>/dev/null || true
    wait "$schemathesis_pid" 2>/dev/null || true
  fi
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # Graceful shutdown takes at most 10 s; do not wait longer than that.
    for _ in $(seq 1 110); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 || -n ${HEARTH_ST_KEEP_LOG:-} ]] && [[ -s $work/server.log ]]; then
    note "the server's log (last 60 lines):"
    tail -n 60 "$work/server.log" >&2
  fi
  if [[ -n $database_created ]]; then
    psql -q -X "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 ||
      note "could not drop the database $database"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql -q -X -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE $database" >/dev/null ||
  die "cannot create a database on $admin_url (is the test cluster running? scripts/pg.sh start test)"
database_created=1

# --- 3. the server -----------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base_url=http://127.0.0.1:$port
# Run from the scratch directory so that no developer .env and no built SPA are picked up; a
# stand-in SPA instead, and rate limits raised out of the way (tests/api/limits.rs tests them:
# here they would turn most logins and registrations into 429s that exercise nothing).
mkdir -p "$work/spa"
printf '<!doctype html><title>Hearth</title><div id=root></div>\n' >"$work/spa/index.html"
(
  cd "$work"
  exec env \
    HEARTH_ENV=local \
    DATABASE_URL="$database_url" \
    HEARTH_HOST=127.0.0.1 \
    HEARTH_PORT="$port" \
    HEARTH_JWT_SECRET="schemathesis-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" \
    HEARTH_ACCESS_TOKEN_TTL_SECS=3600 \
    HEARTH_MEDIA_DIR="$work/media" \
    HEARTH_STATIC_DIR="$work/spa" \
    HEARTH_RATE_LOGIN_FAILURES=100000/1 \
    HEARTH_RATE_LOGIN_ADDRESS=100000/1 \
    HEARTH_RATE_REGISTER_ADDRESS=100000/1 \
    HEARTH_RATE_REFRESH_ACCOUNT=100000/1 \
    HEARTH_RATE_CONVERSATIONS_ACCOUNT=100000/1 \
    HEARTH_RATE_BLOCKS_ACCOUNT=100000/1 \
    HEARTH_LOG_FORMAT=pretty \
    RUST_LOG="${RUST_LOG:-warn}" \
    REDIS_URL= \
    "$HEARTH_BIN" serve --seed-if-empty
) >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || die "the server exited during start-up"
  if curl -fsS -o /dev/null "$base_url/readyz" 2>/dev/null; then break; fi
  sleep 0.2
done
curl -fsS -o /dev/null "$base_url/readyz" || die "the server did not become ready on $base_url"

# alice manages categories too, so that the category endpoints are fuzzed beyond their 403.
(
  cd "$work"
  DATABASE_URL="$database_url" RUST_LOG=warn HEARTH_LOG_FORMAT=pretty \
    "$HEARTH_BIN" create-user alice --staff --password hearth-demo
) >>"$work/server.log" 2>&1 || die "cannot make alice staff"

token=$(curl -fsS "$base_url/api/auth/token/" -H 'content-type: application/json' \
  -d '{"username":"alice","password":"hearth-demo"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])') ||
  die "cannot log the seeded user alice in"

# --- 4. schemathesis ---------------------------------------------------------------------------
seed=${HEARTH_ST_SEED:-20240611}
if [[ $seed == random ]]; then
  seed=$(python3 -c 'import random; print(random.randrange(1, 2**31))')
fi
note "seed $seed (rerun with HEARTH_ST_SEED=$seed)"

# Configuration that the command line cannot express: what both runs share, then the
# credentials of the first.
cat >"$work/anonymous.toml" <<'TOML'
# Test data, not a relaxed check: the fuzzing phases create servers in (or move them to) a
# category that exists, as any real client does, so that they reach the code behind the
# category lookup. Category 3 (the seed's "programming") keeps existing whatever alice does:
# renaming keeps its id, and it holds bob's server, so it cannot be deleted. (The examples and
# coverage phases still send other names: see below.)
[parameters]
"body.category" = 3

# Documented 400s for requests the spec cannot tell from good ones: the default statuses a
# well-formed request may get, plus 400. Every other check stays on for these operations.
#
# The compatibility contract (API.md, "Catalogue") answers 400, not an empty list, when
# `by_serverid` names no server among those the other filters leave; any int64 is a
# well-formed id.
[[operations]]
include-name = "GET /api/server/select/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# A category named in a body that does not exist is a 400 with a field error (as Django REST
# Framework answers for a related object that does not exist); any string or id is well formed.
[[operations]]
include-name = ["POST /api/servers/", "PATCH /api/servers/{server_id}/"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# A reaction's emoji is any string to the spec; whether it is exactly one Unicode emoji is
# decided against Unicode's list (400 `invalid_emoji`). A reply's `reply_to` is any id; whether
# it names a live message of the same channel is decided by the store (400 `invalid_reply`).
[[operations]]
include-name = [
    "PUT /api/messages/{message_id}/reactions/{emoji}/me/",
    "DELETE /api/messages/{message_id}/reactions/{emoji}/me/",
    "POST /api/channels/{channel_id}/messages/",
    "POST /api/dms/{conversation_id}/messages/",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# A search's `q` is any string of 1–200 characters to the spec; whether it holds 1–8 terms
# (not only spaces or quotes) and no control character is decided by parsing it (400
# `invalid_query`).
[[operations]]
include-name = "GET /api/search/messages/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# An upload is "binary" to the spec; whether the bytes are a PNG, JPEG, GIF or WebP image
# within the size bounds is decided by decoding them (400 `unsupported_image`,
# `invalid_image`, `image_too_large`, `invalid_multipart`), and random bytes never are one.
[[operations]]
include-path-regex = "^/api/(servers/\\{server_id\\}/(icon|banner)|categories/\\{category_id\\}/icon)/$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
TOML
{
  cat <<'TOML'
# The token of the seeded user alice (from the environment, not the command line), declared
# for the spec's `bearer` scheme: the auth checks then also try each secured operation without
# it and with a forged one, and expect 401.
[auth.openapi.bearer]
bearer = "${HEARTH_ST_TOKEN}"

TOML
  cat "$work/anonymous.toml"
} >"$work/schemathesis.toml"

# The two WebSocket routes are left out: their only valid request is an upgrade handshake,
# which schemathesis cannot make (it speaks plain HTTP). tests/api/gateway.rs and
# tests/api/ws_fuzz.rs test them over real sockets; tests/api/spec_fuzz.rs checks that a plain
# GET gets the documented 400.
#
# From the scratch directory: schemathesis keeps a cache (.schemathesis/) where it runs.
status=0
cd "$work"
# One worker by default: schemathesis runs its workers as threads, and Python 3.11's ast module
# (which hypothesis uses to describe its strategies) keeps its recursion counter per interpreter,
# not per thread, so two workers sometimes fail with "AST constructor recursion depth mismatch"
# (CPython gh-106905), a fault of the tool, not of Hearth. The run is bounded by --max-time, so
# one worker tests fewer cases in the same time rather than taking longer.
workers=${HEARTH_ST_WORKERS:-1}

# One run of schemathesis: its config file, its time budget, and this script's extra options.
fuzz() {
  local config=$1 max_time=$2
  shift 2
  HEARTH_ST_TOKEN=$token "$VENV/bin/schemathesis" --no-color --config-file "$config" \
    run "$ROOT/openapi/openapi.json" \
    --url "$base_url" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --exclude-path '/ws/servers/{server_id}/channels/{channel_id}' \
    --exclude-path '/{server_id}/{channel_id}' \
    --exclude-path '/ws/dms/{conversation_id}' \
    --exclude-path '/ws/me' \
    --max-examples "${HEARTH_ST_MAX_EXAMPLES:-40}" \
    --max-time "$max_time" \
    --workers "$workers" \
    --seed "$seed" \
    --request-timeout 10 \
    --generation-database none \
    --continue-on-failure \
    "$@" &
  # In the background and waited for, so that an interrupt stops it at once (bash runs traps
  # only between foreground commands).
  schemathesis_pid=$!
  local run_status=0
  wait "$schemathesis_pid" || run_status=$?
  schemathesis_pid=
  return "$run_status"
}

note "with alice's credentials"
fuzz "$work/schemathesis.toml" "${HEARTH_ST_MAX_TIME:-120}" "$@" || status=$?
note "without credentials"
fuzz "$work/anonymous.toml" "${HEARTH_ST_ANON_MAX_TIME:-45}" "$@" || status=$?

kill -0 "$server_pid" 2>/dev/null || { note "the server died during the run"; status=1; }
exit "$status"
