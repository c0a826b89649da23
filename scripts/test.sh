#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as
# errors, runs ctest, then docker/smoke-test.sh (the images and a study
# through them; PARZEN_SMOKE=0 leaves it out).
# Usage: scripts/test.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --browser --containers
# The worker integration tests train on real MNIST.
scripts/fetch-mnist.sh data/mnist
# parzen report embeds plotly.js (before configuring: CMake looks for it);
# the browser tests drive Chromium with playwright-core (pinned in
# tests/browser/package-lock.json).
scripts/fetch-plotly.sh
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
# The Kubernetes manifests' check types them with kubernetes-types and
# TypeScript (pinned in tests/k8s/package-lock.json).
(cd tests/k8s && npm ci --no-audit --no-fund --loglevel=error)
BUILD_DIR="${PARZEN_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARZEN_WERROR=ON
cmake --build "$BUILD_DIR" -j "$(nproc)"
# The server again with clang, which checks every ABSL_GUARDED_BY member is
# reached only under its lock (-Wthread-safety, as errors). Unoptimised:
# only the checks matter here.
cmake -S . -B "$BUILD_DIR-clang" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DPARZEN_WERROR=ON -DPARZEN_THREAD_SAFETY=ON -DPARZEN_BUILD_WORKER=OFF \
  -DPARZEN_BUILD_TESTS=OFF -DPARZEN_BUILD_BENCH=OFF
cmake --build "$BUILD_DIR-clang" -j "$(nproc)" --target parzen-server
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"
# With ctest arguments (a subset of the tests) it is left out too.
if [ "${PARZEN_SMOKE:-1}" != 0 ] && [ $# -eq 0 ]; then
  docker/smoke-test.sh
fi
