#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries the given
# programs load (as ldd resolves them here), one per line, sorted: what a
# runtime image installs so that it carries only what its programs use.
# Fails when a library belongs to no package (it would be missing there).
# Usage: docker/runtime-packages.sh PROGRAM...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: docker/runtime-packages.sh PROGRAM..." >&2; exit 2; }

owner() {
  # Merged /usr: dpkg may have registered the file under either prefix.
  local path="$1" alt
  case "$path" in
    /usr/*) alt="${path#/usr}" ;;
    *) alt="/usr$path" ;;
  esac
  dpkg -S "$path" 2>/dev/null || dpkg -S "$alt" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null
}

for program in "$@"; do
  if ldd "$program" | grep -q 'not found'; then
    echo "runtime-packages: $program needs a library that is not here:" >&2
    ldd "$program" | grep 'not found' >&2
    exit 1
  fi
  ldd "$program" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
    while read -r lib; do
      line="$(owner "$lib")" || { echo "runtime-packages: no package holds $lib" >&2; exit 1; }
      # "libfoo1:amd64: /usr/lib/..." -> libfoo1
      echo "${line%%:*}"
    done
done | sort -u
