#!/usr/bin/env bash
# Makes the base image docker/Dockerfile starts from, debian:bookworm-slim,
# on a machine that cannot pull from an image registry: debootstrap from the
# Debian archive apt already uses here, trimmed as Debian's official slim
# image is (no documentation, manual pages or translations, now or for any
# package installed later), then imported into podman under the official
# name. Elsewhere `docker build` pulls the official image and this script is
# not needed. Does nothing when the image is there already.
# Usage: docker/base-image.sh [ENGINE]   (podman by default)
set -euo pipefail
ENGINE="${1:-podman}"
IMAGE=docker.io/library/debian:bookworm-slim

if "$ENGINE" image exists "$IMAGE" 2>/dev/null; then
  echo "base-image: $IMAGE is there"
  exit 0
fi

# The archive apt uses on this machine (deb822 or one-line sources).
mirror="$(grep -hoE '^URIs: *\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null |
  awk '{print $2}' | grep -v security | head -n1 || true)"
if [ -z "$mirror" ]; then
  mirror="$(grep -hoE '^deb +\S+' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' |
    grep -v security | head -n1 || true)"
fi
[ -n "$mirror" ] || { echo "base-image: no Debian mirror found in apt's sources" >&2; exit 1; }

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
echo "base-image: debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null

# The sources apt uses here, updates and security included, as the official
# image's debian.sources has them.
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  cp /etc/apt/sources.list.d/*.sources "$rootfs/etc/apt/sources.list.d/"
  rm -f "$rootfs/etc/apt/sources.list"
fi

# What Debian's slim images leave out, kept out of later installs too.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/*.log \
  "$rootfs"/var/cache/debconf/*-old

tar -C "$rootfs" -c . | "$ENGINE" import - "$IMAGE" >/dev/null
echo "base-image: $IMAGE imported ($("$ENGINE" image inspect --format '{{.Size}}' "$IMAGE") bytes)"
