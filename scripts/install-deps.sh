#!/usr/bin/env bash
# install-deps.sh - install every Debian package PEL needs to build and test.
# Idempotent: packages already installed are skipped; apt-get update runs
# only when something is missing. --if-missing is accepted for `make run`
# (same behaviour; it only documents the intent).
set -euo pipefail

PACKAGES=(
  build-essential   # gcc, make
  pkg-config
  libsodium-dev     # Ed25519, BLAKE2b, SHA-256
  liblmdb-dev       # the node's store
  libmicrohttpd-dev # the node's HTTP API
  libcjson-dev      # JSON for the API, config and genesis
  libcurl4-openssl-dev # the CLI's HTTP client
  clang             # libFuzzer fuzz targets
  libclang-rt-14-dev
  python3           # test and bench helper scripts
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
