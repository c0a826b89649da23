#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as
# errors, runs ctest. Usage: scripts/test.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# The worker integration tests train on real MNIST.
scripts/fetch-mnist.sh data/mnist
BUILD_DIR="${PARZEN_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARZEN_WERROR=ON
cmake --build "$BUILD_DIR" -j "$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"
