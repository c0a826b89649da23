#!/usr/bin/env bash
# systemd-analyze verify on docker/systemd/*.service, with the units'
# /usr/local/bin/ pointed at the programs just built (verify checks that
# each command exists). Any complaint fails, a warning too ("Unknown key
# ..., ignoring" does not change verify's exit code). A copy with a
# misspelt key must then fail, so the check is seen to catch one.
# Usage: systemd_units_test.sh SERVER_BINARY WORKER_BINARY
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SERVER_BINARY WORKER_BINARY" >&2; exit 2; }
UNITS="$(cd "$(dirname "$0")/../../docker/systemd" && pwd)"
if ! command -v systemd-analyze >/dev/null; then
  echo "FAIL: systemd-analyze is missing (scripts/install-deps.sh --containers installs systemd)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
ln -s "$(realpath "$1")" "$tmp/bin/parzen-server"
ln -s "$(realpath "$2")" "$tmp/bin/parzen-worker"
for unit in "$UNITS"/*.service; do
  sed "s|/usr/local/bin/|$tmp/bin/|g" "$unit" >"$tmp/$(basename "$unit")"
done

verify() {  # prints what verify said; fails when it said anything
  local out
  out="$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$@" 2>&1)" || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}
if ! out="$(verify "$tmp"/*.service)"; then
  echo "FAIL: systemd-analyze verify:" >&2
  echo "$out" >&2
  exit 1
fi
sed -i 's/^ProtectSystem=/ProtectSystm=/' "$tmp/parzen-server.service"
if out="$(verify "$tmp/parzen-server.service")"; then
  echo "FAIL: a misspelt key went through verify" >&2
  exit 1
fi
[[ "$out" == *ProtectSystm* ]] || { echo "FAIL: verify did not name the misspelt key: $out" >&2; exit 1; }
echo "ok: $(ls "$UNITS"/*.service | wc -l) units verified; a misspelt key is caught"
