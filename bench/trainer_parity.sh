#!/usr/bin/env bash
# Parzen's trainer against PyTorch on the same images: for each seed,
# parzen-train and bench/torch_mnist.py train one configuration on the same
# seeded 20,000 / 10,000 train / validation split (parzen-train --split-out),
# one thread each, and the validation and test accuracies are paired by
# seed. The default configuration is the best trial of Optuna's arm in
# bench/study_outcome (BENCHMARKS.md): Adam, batch 32, high dropout.
#
#   scripts/install-deps.sh --bench && bench/trainer_parity.sh [--seeds N] [--build DIR]
#
# Prints one line per seed and pair, then
#   trainer_parity seeds=N parzen_val=A torch_val=B val_diff=D val_diff_se=S parzen_test=T torch_test=U
# with D = mean(Parzen - PyTorch) over the seeds and S its standard error.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=18
build=build
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    *) echo "usage: bench/trainer_parity.sh [--seeds N] [--build DIR]" >&2; exit 2 ;;
  esac
done

optimizer=adam lr=0.0018461 batch=32 conv1=16 conv2=32 fc=183 dropout1=0.43159 dropout2=0.13043
weight_decay=2.9224e-06 epochs=4 train=20000 val=10000
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Parzen runs ahead, seed by seed, and leaves each split for PyTorch's run.
(
  for s in $(seq 1 "$seeds"); do
    "$build/worker/parzen-train" --data-dir data/mnist --optimizer "$optimizer" --lr "$lr" \
      --batch-size "$batch" --conv1-channels "$conv1" --conv2-channels "$conv2" --fc-units "$fc" \
      --dropout1 "$dropout1" --dropout2 "$dropout2" --weight-decay "$weight_decay" \
      --epochs "$epochs" --train-size "$train" --val-size "$val" --threads 1 --seed "$s" \
      --split-out "$work/split_$s" | tail -n 1 > "$work/parzen_$s"
    touch "$work/done_$s"
  done
) &
parzen_lane=$!
for s in $(seq 1 "$seeds"); do
  while [ ! -e "$work/done_$s" ]; do
    kill -0 "$parzen_lane" 2>/dev/null || [ -e "$work/done_$s" ] || { echo "parzen-train failed" >&2; exit 1; }
    sleep 1
  done
  /usr/bin/python3 bench/torch_mnist.py --train-mnist data/mnist --split-file "$work/split_$s" \
    --optimizer "$optimizer" --lr "$lr" --batches "$batch" --conv1 "$conv1" --conv2 "$conv2" \
    --fc "$fc" --dropout1 "$dropout1" --dropout2 "$dropout2" --weight-decay "$weight_decay" \
    --epochs "$epochs" --train-size "$train" --val-size "$val" --threads 1 --seed "$s" \
    > "$work/torch_$s"
  echo "seed $s parzen: $(cat "$work/parzen_$s")"
  echo "seed $s torch:  $(cat "$work/torch_$s")"
done
wait

/usr/bin/python3 - "$work" "$seeds" <<'PY'
import re, statistics, sys
work, n = sys.argv[1], int(sys.argv[2])
def field(path, key):
    return float(re.search(key + r"=([0-9.]+)", open(path).read()).group(1))
pv = [field(f"{work}/parzen_{s}", "val_accuracy") for s in range(1, n + 1)]
tv = [field(f"{work}/torch_{s}", "val_accuracy") for s in range(1, n + 1)]
pt = [field(f"{work}/parzen_{s}", "test_accuracy") for s in range(1, n + 1)]
tt = [field(f"{work}/torch_{s}", "test_accuracy") for s in range(1, n + 1)]
diff = [p - t for p, t in zip(pv, tv)]
se = statistics.stdev(diff) / n ** 0.5 if n > 1 else float("nan")
print(f"trainer_parity seeds={n} parzen_val={statistics.mean(pv):.5f} torch_val={statistics.mean(tv):.5f} "
      f"val_diff={statistics.mean(diff):+.5f} val_diff_se={se:.5f} "
      f"parzen_test={statistics.mean(pt):.5f} torch_test={statistics.mean(tt):.5f}")
PY
