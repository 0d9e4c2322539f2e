#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed for the browser tests (tests/*browser*.test.ts, driven by
# playwright-core, which downloads no browser) and prints its path on stdout; everything else goes to
# stderr. Used by .ci/run:
#
#   CHROMIUM_PATH="$(scripts/ensure-chromium.sh)"
#
# An executable $CHROMIUM_PATH, /usr/bin/chromium or `chromium` on the PATH is used as it is. Otherwise
# `apt-get install chromium` (noninteractive; `apt-get update` first only when that install fails), which
# needs root. Exits non-zero with a message when there is still no Chromium.
set -euo pipefail

say() { echo "ensure-chromium: $*" >&2; }
die() { say "$*"; exit 1; }

find_chromium() {
  local c
  for c in "${CHROMIUM_PATH:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)"; do
    if [ -n "$c" ] && [ -f "$c" ] && [ -x "$c" ]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if path="$(find_chromium)"; then
  echo "$path"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "no Chromium and no apt-get to install it: install a Chromium and set CHROMIUM_PATH"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "no Chromium, and installing Debian's chromium needs root (or sudo)"
  SUDO=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
install() {
  "${SUDO[@]}" apt-get install -y -q chromium >&2
}
say "installing Debian's chromium (apt-get install chromium)"
if ! install; then
  say "install failed; apt-get update, then trying again"
  "${SUDO[@]}" apt-get update -q >&2 || die "apt-get update failed: cannot install chromium"
  install || die "apt-get install chromium failed"
fi

path="$(find_chromium)" || die "chromium was installed but no executable was found (/usr/bin/chromium, PATH)"
"$path" --version >&2 2>/dev/null || say "warning: '$path --version' failed"
echo "$path"
