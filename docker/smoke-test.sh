#!/usr/bin/env bash
# Builds the images from docker/Dockerfile and runs a tiny study through
# them, each part in its own container with its own address on a network of
# its own: a server, two workers, the CLI. Checks the result (every trial
# finished, both workers worked, a best trial with parameters), then
# replaces the server container by a new one on the same volume and finds
# the study intact. Then starts docker/systemd/parzen-server.service under
# systemd as a container's init, where systemd can run in a container here,
# and says plainly when it cannot. The containers run as they would under
# the Kubernetes manifests: read-only root, no capabilities, no new
# privileges, the token from a file.
# Removes what it started, also when it fails.
# Usage: docker/smoke-test.sh        (podman, or docker where podman is not)
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v podman >/dev/null; then
  ENGINE=podman
  # runc, no default ulimits, cgroupfs: what podman needs on our machines.
  export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/docker/podman.conf}"
  docker/base-image.sh podman
elif command -v docker >/dev/null; then
  ENGINE=docker
else
  echo "smoke-test: neither podman nor docker (scripts/install-deps.sh --containers)" >&2
  exit 1
fi
TAG="${PARZEN_IMAGE_TAG:-0.1.0}"
RUN_ID="smoke-$$"
NET="parzen-$RUN_ID"
VOLUME="parzen-db-$RUN_ID"
SERVER="server-$RUN_ID"
STUDY=smoke
TRIALS_PER_WORKER=2
tmp="$(mktemp -d)"
containers=()
cleanup() {
  local status=$?
  if [ $status -ne 0 ]; then
    for c in "${containers[@]}"; do
      echo "--- logs of $c" >&2
      "$ENGINE" logs --tail 30 "$c" >&2 2>&1 || true
    done
  fi
  for c in "${containers[@]}"; do "$ENGINE" rm -f "$c" >/dev/null 2>&1 || true; done
  "$ENGINE" network rm "$NET" >/dev/null 2>&1 || true
  "$ENGINE" volume rm "$VOLUME" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit $status
}
trap cleanup EXIT
start=$(date +%s)
say() { echo "smoke-test [$(( $(date +%s) - start )) s]: $*"; }
fail() { echo "smoke-test: FAIL: $*" >&2; exit 1; }

# --- Images ---------------------------------------------------------------
build_args=()
# podman: apt in the build reaches the archive by the host's route; the
# docker image format keeps HEALTHCHECK (OCI's has no such field).
[ "$ENGINE" = podman ] && build_args+=(--network=host --format docker)
for target in server worker cli; do
  say "building parzen-$target:$TAG"
  "$ENGINE" build "${build_args[@]}" -q -f docker/Dockerfile --target "$target" \
    -t "parzen-$target:$TAG" . >/dev/null
done
mb() { "$ENGINE" image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f", $1 / 1e6}'; }
server_mb=$(mb "parzen-server:$TAG"); worker_mb=$(mb "parzen-worker:$TAG"); cli_mb=$(mb "parzen-cli:$TAG")
say "image sizes: server ${server_mb} MB, worker ${worker_mb} MB, cli ${cli_mb} MB"
[ "$server_mb" -lt 150 ] || fail "the server image is ${server_mb} MB (limit 150)"
[ "$worker_mb" -lt 250 ] || fail "the worker image is ${worker_mb} MB (limit 250)"

# --- A study across containers --------------------------------------------
head -c 24 /dev/urandom | base64 >"$tmp/token"
chmod 0444 "$tmp/token"
"$ENGINE" network create "$NET" >/dev/null
"$ENGINE" volume create "$VOLUME" >/dev/null
hardened=(--read-only --cap-drop=ALL --security-opt=no-new-privileges
          -v "$tmp/token:/etc/parzen/token:ro")

start_server() {
  containers+=("$SERVER")
  "$ENGINE" run -d --name "$SERVER" --network "$NET" "${hardened[@]}" \
    -v "$VOLUME:/var/lib/parzen" "parzen-server:$TAG" --token-file /etc/parzen/token >/dev/null
  # What the image's HEALTHCHECK runs, from inside the container.
  for _ in $(seq 60); do
    if "$ENGINE" exec "$SERVER" parzen health --timeout-s 2 >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  fail "the server container never answered its health check"
}
cli() {
  "$ENGINE" run --rm --network "$NET" "${hardened[@]}" "parzen-cli:$TAG" \
    --server "$SERVER:50051" --token-file /etc/parzen/token "$@"
}
address() {
  "$ENGINE" inspect --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$1"
}

say "starting the server"
start_server
# The image's own HEALTHCHECK, as the engine runs it.
if [ "$ENGINE" = podman ]; then
  podman healthcheck run "$SERVER" || fail "the server image's HEALTHCHECK does not pass"
else
  for _ in $(seq 60); do
    [ "$(docker inspect --format '{{.State.Health.Status}}' "$SERVER")" = healthy ] && break
    sleep 1
  done
  [ "$(docker inspect --format '{{.State.Health.Status}}' "$SERVER")" = healthy ] ||
    fail "the server image's HEALTHCHECK does not pass"
fi
cli create "$STUDY" --max-trials $((2 * TRIALS_PER_WORKER)) --pruner median >/dev/null
say "two workers, $TRIALS_PER_WORKER trials each"
workers=()
for i in 1 2; do
  name="worker$i-$RUN_ID"
  containers+=("$name")
  workers+=("$name")
  "$ENGINE" run -d --name "$name" --network "$NET" "${hardened[@]}" "parzen-worker:$TAG" \
    --server "$SERVER:50051" --token-file /etc/parzen/token --study "$STUDY" \
    --n-trials "$TRIALS_PER_WORKER" --epochs 2 --train-size 2000 --val-size 1000 --threads 1 \
    --worker-id "$name" >/dev/null
done
addresses="$(for c in "$SERVER" "${workers[@]}"; do address "$c"; done)"
[ "$(echo "$addresses" | grep -c .)" -eq 3 ] && [ "$(echo "$addresses" | sort -u | wc -l)" -eq 3 ] ||
  fail "the containers do not have an address each: $(echo "$addresses" | tr '\n' ' ')"
for w in "${workers[@]}"; do
  code="$("$ENGINE" wait "$w")"
  [ "$code" = 0 ] || fail "$w exited with $code"
done

cli trials "$STUDY" --json >"$tmp/trials.json"
cli best "$STUDY" --json >"$tmp/best.json"
python3 - "$tmp/trials.json" "$tmp/best.json" "$((2 * TRIALS_PER_WORKER))" "${workers[@]}" <<'PY'
import json, sys
trials = json.load(open(sys.argv[1]))
best = json.load(open(sys.argv[2]))
want, workers = int(sys.argv[3]), set(sys.argv[4:])
states = [t["state"] for t in trials]
assert len(trials) == want, f"{len(trials)} trials, not {want}"
assert all(s in ("COMPLETE", "PRUNED") for s in states), f"not every trial finished: {states}"
assert "COMPLETE" in states, f"no trial completed: {states}"
seen = {t.get("worker_id") for t in trials}
assert seen == workers, f"trials ran on {seen}, not on both workers {workers}"
assert best.get("params"), f"the best trial has no parameters: {best}"
print(f"smoke-test: {len(trials)} trials finished ({', '.join(states)}) on {len(seen)} workers; "
      f"best #{best['number']} value {best['values']} params {best['params']}")
PY

say "a new server container on the same volume"
"$ENGINE" stop -t 30 "$SERVER" >/dev/null
"$ENGINE" rm "$SERVER" >/dev/null
start_server
cli trials "$STUDY" --json >"$tmp/trials-after.json"
cmp -s "$tmp/trials.json" "$tmp/trials-after.json" ||
  fail "the study changed across the restart: $(diff "$tmp/trials.json" "$tmp/trials-after.json" | head -20)"
say "the study is intact after the restart"

# --- The systemd unit, under systemd --------------------------------------
# An image of the server's programs with systemd as init; the unit file is
# docker/systemd/parzen-server.service as shipped.
systemd_skip() { say "SKIP systemd: $*"; }
if ! "$ENGINE" build "${build_args[@]}" -q -f docker/systemd/Containerfile \
     --build-arg "SERVER_IMAGE=parzen-server:$TAG" -t "parzen-systemd-smoke:$TAG" docker/systemd \
     >"$tmp/systemd-build.log" 2>&1; then
  cat "$tmp/systemd-build.log" >&2
  fail "the systemd test image did not build"
fi
SYSTEMD="systemd-$RUN_ID"
containers+=("$SYSTEMD")
systemd_args=(--name "$SYSTEMD" --network "$NET")
[ "$ENGINE" = podman ] && systemd_args+=(--systemd=always)
if ! "$ENGINE" run -d "${systemd_args[@]}" "parzen-systemd-smoke:$TAG" >"$tmp/systemd-run.log" 2>&1; then
  systemd_skip "$ENGINE cannot start a container with systemd as init here: $(tail -n 3 "$tmp/systemd-run.log")"
else
  state=""
  for _ in $(seq 60); do
    state="$("$ENGINE" exec "$SYSTEMD" systemctl is-system-running 2>/dev/null || true)"
    case "$state" in running|degraded) break ;; esac
    if [ "$("$ENGINE" inspect --format '{{.State.Running}}' "$SYSTEMD")" != true ]; then break; fi
    sleep 1
  done
  case "$state" in
    running|degraded)
      "$ENGINE" exec "$SYSTEMD" systemctl is-active parzen-server >/dev/null ||
        fail "parzen-server.service is not active: $("$ENGINE" exec "$SYSTEMD" systemctl status parzen-server 2>&1 | tail -n 15)"
      for _ in $(seq 30); do
        if "$ENGINE" exec "$SYSTEMD" parzen health --timeout-s 2 >/dev/null 2>&1; then break; fi
        sleep 1
      done
      "$ENGINE" exec "$SYSTEMD" parzen health --timeout-s 5 >/dev/null ||
        fail "parzen-server.service runs but does not serve: $("$ENGINE" exec "$SYSTEMD" journalctl -u parzen-server --no-pager 2>&1 | tail -n 15)"
      "$ENGINE" exec "$SYSTEMD" parzen create systemd-smoke >/dev/null
      "$ENGINE" exec "$SYSTEMD" systemctl restart parzen-server
      "$ENGINE" exec "$SYSTEMD" parzen --server 127.0.0.1:50051 status systemd-smoke >/dev/null ||
        fail "the unit's database did not keep its study across a restart"
      user="$("$ENGINE" exec "$SYSTEMD" sh -c 'ps -o user= -C parzen-server' || true)"
      say "systemd: parzen-server.service active (system $state, user ${user:-?}), serving, study kept across systemctl restart"
      ;;
    *)
      systemd_skip "systemd did not come up as the container's init (state '${state:-none}'): $("$ENGINE" logs --tail 5 "$SYSTEMD" 2>&1 | tr '\n' ' ')"
      ;;
  esac
fi
say "passed"
