#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as
# errors, runs ctest; then the same server, client and CLI tests built with
# clang under AddressSanitizer + UndefinedBehaviorSanitizer, with the
# locking annotations checked and each fuzz target run briefly; then
# docker/smoke-test.sh (the images and a study through them; PARZEN_SMOKE=0
# leaves it out).
# Usage: scripts/test.sh [ctest args...]
#        scripts/test.sh --sanitize=address|thread [ctest args...]
#   The whole suite under one sanitizer, in build-address or build-thread.
#   Under thread the worker is left out: libgomp and oneDNN are not
#   instrumented, so ThreadSanitizer cannot follow their threads.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
if [ $# -gt 0 ] && [[ "$1" == --sanitize=* ]]; then
  sanitize="${1#--sanitize=}"
  shift
  case "$sanitize" in
    address|thread) ;;
    *) echo "usage: scripts/test.sh [--sanitize=address|thread] [ctest args...]" >&2; exit 2 ;;
  esac
fi

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

# A sanitizer's report fails the test whose process printed it: the test
# binaries exit non-zero, and the tests fail on a report in the log of a
# server or CLI they started (tests/testing/child_process.h).
export ASAN_OPTIONS="detect_stack_use_after_return=1:strict_string_checks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan/tsan.supp:second_deadlock_stack=1:${TSAN_OPTIONS:-}"

# Clang, unoptimised but for the sanitizers' -O1, with -Wthread-safety as
# errors: every ABSL_GUARDED_BY member is reached only under its lock.
sanitized_build() {  # dir sanitizer worker fuzz
  cmake -S . -B "$1" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DPARZEN_WERROR=ON -DPARZEN_THREAD_SAFETY=ON -DPARZEN_SANITIZE="$2" \
    -DPARZEN_BUILD_WORKER="$3" -DPARZEN_FUZZ="$4" -DPARZEN_BUILD_BENCH=OFF
  cmake --build "$1" -j "$(nproc)"
}

if [ -n "$sanitize" ]; then
  if [ "$sanitize" = address ]; then
    sanitized_build build-address address ON ON
  else
    sanitized_build build-thread thread OFF OFF
  fi
  exec ctest --test-dir "build-$sanitize" --output-on-failure -j "$(nproc)" "$@"
fi

BUILD_DIR="${PARZEN_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARZEN_WERROR=ON
cmake --build "$BUILD_DIR" -j "$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"

# The sanitized run. Without the worker (trainer tests under ASan would
# take longer than CI has) and without the tests of the orchestrators'
# files, which build nothing of ours.
sanitized_build "$BUILD_DIR-asan" address OFF ON
ctest --test-dir "$BUILD_DIR-asan" --output-on-failure -j "$(nproc)" -E '^Docker' "$@"

# With ctest arguments (a subset of the tests) it is left out too.
if [ "${PARZEN_SMOKE:-1}" != 0 ] && [ $# -eq 0 ]; then
  docker/smoke-test.sh
fi
