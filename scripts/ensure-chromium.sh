#!/usr/bin/env bash
# Makes sure a Chromium for the browser tests exists (Debian's package; never a download by
# Playwright). Prints the executable's path. CHROMIUM_PATH overrides /usr/bin/chromium.
set -euo pipefail

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [[ -x $chromium ]]; then
  echo "$chromium"
  exit 0
fi
if [[ -z ${CHROMIUM_PATH:-} ]] && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo 'ensure-chromium: installing the Debian package chromium' >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be missing or stale on a fresh machine.
  apt-get install -y -qq chromium >&2 \
    || { apt-get update -qq >&2 && apt-get install -y -qq chromium >&2; }
  if [[ -x $chromium ]]; then
    echo "$chromium"
    exit 0
  fi
fi
echo "ensure-chromium: no Chromium at $chromium; install Debian's package (sudo apt-get install chromium) or set CHROMIUM_PATH" >&2
exit 1
