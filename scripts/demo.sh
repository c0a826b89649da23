#!/usr/bin/env bash
# The demo study, end to end: installs what is missing, builds, fetches
# MNIST, starts parzen-server on a temporary database, runs 2 workers on a
# quick study (built-in search space, median pruner, a subset of MNIST,
# 12 trials), prints the trials and the best parameters, and stops
# everything it started. Usage: scripts/demo.sh [--trials N] [--workers N]
set -euo pipefail
cd "$(dirname "$0")/.."

TRIALS=12
WORKERS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) TRIALS="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    *) echo "usage: scripts/demo.sh [--trials N] [--workers N]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
# plotly.js for the study's HTML report (before configuring: CMake looks for it).
scripts/fetch-plotly.sh >/dev/null
BUILD_DIR="${PARZEN_BUILD_DIR:-build}"
echo "demo: building parzen-server, parzen-worker and parzen in $BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target parzen-server parzen-worker parzen >/dev/null
scripts/fetch-mnist.sh data/mnist

RUN_DIR=$(mktemp -d /tmp/parzen-demo-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

"$BUILD_DIR"/server/parzen-server --db "$RUN_DIR/demo.db" --listen 127.0.0.1:0 \
  --port-file "$RUN_DIR/port" --log-level warn 2>"$RUN_DIR/server.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$RUN_DIR/port" ] && break; sleep 0.1; done
if [ ! -s "$RUN_DIR/port" ]; then
  echo "demo: parzen-server did not start:" >&2
  cat "$RUN_DIR/server.log" >&2
  exit 1
fi
SERVER="127.0.0.1:$(cat "$RUN_DIR/port")"
echo "demo: parzen-server on $SERVER; $WORKERS workers share a $TRIALS-trial study"

# One oneDNN thread per worker: the workers, not the threads, share the cores.
WORKER_PIDS=()
for i in $(seq "$WORKERS"); do
  "$BUILD_DIR"/worker/parzen-worker --server "$SERVER" --study demo --max-trials "$TRIALS" \
    --pruner median:n_startup_trials=3 --heartbeat-grace 30 --epochs 2 \
    --train-size 5000 --val-size 2000 --threads 1 --data-dir data/mnist \
    --worker-id "worker-$i" &
  WORKER_PIDS+=($!)
  PIDS+=($!)
done
status=0
for pid in "${WORKER_PIDS[@]}"; do wait "$pid" || status=1; done
if [ "$status" -ne 0 ]; then
  echo "demo: a worker failed" >&2
  exit 1
fi

echo
"$BUILD_DIR"/cli/parzen --server "$SERVER" trials demo --attrs val_accuracy,test_accuracy \
  --params optimizer,lr,momentum,batch_size,fc_units
echo
"$BUILD_DIR"/cli/parzen --server "$SERVER" best demo
echo
"$BUILD_DIR"/cli/parzen --server "$SERVER" report demo -o data/demo-report.html
cat <<MSG

Open data/demo-report.html in a browser for the study's plots (it works
offline). To watch a study live: $BUILD_DIR/cli/parzen --server HOST:50051 dashboard

The full-size study: every training image, 10 epochs, as many workers as you
have machines (each with all its cores):
  $BUILD_DIR/server/parzen-server --db studies.db --listen 0.0.0.0:50051
  $BUILD_DIR/worker/parzen-worker --server HOST:50051 --study mnist-full \\
      --max-trials 100 --epochs 10 --data-dir data/mnist
  $BUILD_DIR/cli/parzen --server HOST:50051 trials mnist-full   # every column
MSG
