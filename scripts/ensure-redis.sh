#!/usr/bin/env bash
# Makes sure `redis-server` is available: the Redis fan-out tests start private servers of their
# own with it. Installs Debian's package when missing and possible; otherwise says what to do.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo 'ensure-redis: installing the Debian package redis-server' >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends redis-server >&2
  command -v redis-server >/dev/null 2>&1 && exit 0
fi
echo 'ensure-redis: redis-server is missing; install it (Debian: sudo apt-get install redis-server)' >&2
exit 1
