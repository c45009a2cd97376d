#!/usr/bin/env bash
# Install every build and test dependency of mini on Debian 12 (run as root).
# Idempotent: when everything is already installed, apt is not touched at all.
set -euo pipefail

PACKAGES=(
  meson ninja-build pkg-config gcc
  libcurl4-openssl-dev libjansson-dev libarchive-dev libssl-dev
  # unpack/layer.c: ISA-L's igzip inflates gzip layers (headers at build time,
  # libisal2 dlopen()ed at run time; libarchive's zlib filter without it).
  libisal-dev
  check bats
  docker-registry skopeo
  curl iproute2 procps util-linux
  # tests/system/registry_hub.bats: the Hub-like registry (nginx for TLS, the CDN and a
  # basic-auth registry; openssl for its test CA; htpasswd; python3 for the token service;
  # script(1) from bsdutils for a terminal).  The nginx service stays stopped
  # (policy-rc.d below): the tests run their own instances on free loopback ports.
  nginx-light apache2-utils openssl python3 bsdutils
  # bench/run (meson test bench-quick): the peers mini is measured against.
  # podman brings conmon; runc is its runtime here (crun fails on hybrid cgroups).
  # With --no-install-recommends no CNI/netavark bridge is set up and the
  # policy-rc.d below keeps podman.socket/podman.service from starting.
  podman runc umoci hyperfine time
  # tests/system/unpack.bats: umoci unpack is the oracle for `mini unpack`; python3
  # builds the test images (tests/system/unpack/mkimage.py) and compares trees.
  umoci python3
  # tests/system/curl_lazy.bats: strace shows when openssl.cnf is read.
  strace
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  if [[ $status != ii* ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if ((EUID != 0)); then
  echo "deps.sh: missing packages: ${missing[*]}; run this script as root to install them" >&2
  exit 1
fi

echo "deps.sh: installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# Packages such as docker-registry start a system service from their postinst
# (listening on all interfaces, with htpasswd auth).  We only ever run our own
# loopback instances, so forbid service starts while installing.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"
