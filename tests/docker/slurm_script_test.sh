#!/usr/bin/env bash
# docker/slurm/parzen-workers.sbatch under a stand-in srun that runs each
# task here, in turn, with the variables Slurm sets; the worker is a
# stand-in that records its arguments. Checks one worker per task, --threads
# from SLURM_CPUS_PER_TASK, a distinct --worker-id each, the server, study,
# token and extra flags passed through, and a clear refusal without
# PARZEN_SERVER.
set -euo pipefail
SCRIPT="$(cd "$(dirname "$0")/../.." && pwd)/docker/slurm/parzen-workers.sbatch"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
cat >"$tmp/bin/srun" <<'SH'
#!/usr/bin/env bash
# Drops srun's own options, then runs the command once per task.
while [[ "$1" == --* ]]; do shift; done
for ((task = 0; task < SLURM_NTASKS; task++)); do
  SLURM_PROCID=$task "$@"
done
SH
cat >"$tmp/bin/fake-worker" <<'SH'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$RECORD"
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS" >>"$RECORD.env"
SH
chmod +x "$tmp/bin/srun" "$tmp/bin/fake-worker"

fail() { echo "FAIL: $*" >&2; exit 1; }
export PATH="$tmp/bin:$PATH" RECORD="$tmp/record" PARZEN_WORKER=fake-worker
SLURM_NTASKS=3 SLURM_CPUS_PER_TASK=4 SLURM_JOB_ID=77 PARZEN_SERVER=study-host:50051 \
  PARZEN_STUDY=big PARZEN_TOKEN_FILE=/shared/token PARZEN_WORKER_ARGS="--n-trials=10 --epochs=3" \
  bash "$SCRIPT"

[ "$(wc -l <"$RECORD")" -eq 3 ] || fail "expected 3 workers, got: $(cat "$RECORD")"
while read -r line; do
  for want in "--server study-host:50051" "--study big" "--threads 4" "--token-file /shared/token" \
              "--n-trials=10 --epochs=3" "--worker-id slurm-77-"; do
    [[ "$line" == *"$want"* ]] || fail "'$want' missing from: $line"
  done
done <"$RECORD"
[ "$(grep -o 'slurm-77-[0-9]*' "$RECORD" | sort -u | wc -l)" -eq 3 ] || fail "worker ids not distinct"
[ "$(sort -u "$RECORD.env")" = "OMP_NUM_THREADS=4" ] || fail "OMP_NUM_THREADS: $(cat "$RECORD.env")"

if out="$(SLURM_NTASKS=1 bash "$SCRIPT" 2>&1)"; then fail "ran without PARZEN_SERVER"; fi
[[ "$out" == *"set PARZEN_SERVER=HOST:PORT"* ]] || fail "unclear refusal: $out"
echo "ok: 3 tasks, 3 workers with --threads 4 and their own ids"
