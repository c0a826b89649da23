#!/usr/bin/env bash
# Puts plotly.js (the npm package plotly.js-dist-min, pinned) and its
# licence into DIR (default: data/web/plotly.js-dist-min-2.35.3) and
# verifies its SHA-256. `parzen report` and `parzen dashboard` embed it, so
# a report opens offline; CMake builds them in when the file is there.
# Idempotent.
set -euo pipefail
VERSION=2.35.3
DIR="${1:-$(dirname "$0")/../data/web/plotly.js-dist-min-$VERSION}"
SUM="fc84e3cfa55d23d3654c562ea5deb3c274eb6972a6adf66941d1a821e34825e4  plotly.min.js"
mkdir -p "$DIR"
cd "$DIR"

verify() { echo "$SUM" | sha256sum --check --quiet --status 2>/dev/null && [ -s LICENSE ]; }
if verify; then
  echo "fetch-plotly: plotly.js $VERSION present and verified in $(pwd)"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "fetch-plotly: npm is needed to fetch plotly.js (apt-get install npm)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-plotly: fetching the npm package plotly.js-dist-min@$VERSION"
if ! (cd "$tmp" && npm pack "plotly.js-dist-min@$VERSION" >"$tmp/npm.log" 2>&1); then
  echo "fetch-plotly: 'npm pack plotly.js-dist-min@$VERSION' failed; npm said:" >&2
  tail -n 20 "$tmp/npm.log" >&2
  exit 1
fi
(cd "$tmp" && tar xzf "plotly.js-dist-min-$VERSION.tgz")
# Checked where it was unpacked: a file that fails never reaches DIR (CMake
# would build it in).
if ! (cd "$tmp/package" && verify); then
  echo "fetch-plotly: SHA-256 mismatch after download:" >&2
  (cd "$tmp/package" && echo "$SUM" | sha256sum --check >&2) || true
  exit 1
fi
cp "$tmp"/package/plotly.min.js "$tmp"/package/LICENSE .
echo "fetch-plotly: plotly.js $VERSION fetched and verified in $(pwd)"
