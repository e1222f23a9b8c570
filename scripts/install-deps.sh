#!/usr/bin/env bash
# install-deps.sh - install every Debian package PEL needs to build and test,
# and the browser test's npm package (playwright-core, pinned by
# tests/browser/package-lock.json, into tests/browser/node_modules).
# Idempotent: packages already installed are skipped; apt-get update runs
# only when something is missing; npm runs only when node_modules is
# missing. --if-missing is accepted for `make run` (same behaviour; it only
# documents the intent).
set -euo pipefail

PACKAGES=(
  build-essential   # gcc, make
  pkg-config
  libsodium-dev     # Ed25519, BLAKE2b, SHA-256
  liblmdb-dev       # the node's store
  libmicrohttpd-dev # the node's HTTP API
  libcjson-dev      # JSON for the API, config and genesis
  libcurl4-openssl-dev # the CLI's HTTP client
  libraft-dev       # the cluster's ordering log (canonical/raft, libuv I/O backend)
  libuv1-dev        # libraft's event loop
  clang             # libFuzzer fuzz targets
  libclang-rt-14-dev
  python3           # test and bench helper scripts
  chromium          # the explorer's browser test (headless, driven by playwright-core)
  fonts-dejavu-core # text in the browser test's screenshots
)
# node and npm run the browser test; a machine that has them already (from
# Debian or elsewhere, e.g. NodeSource's nodejs, which bundles npm) keeps them.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -ne 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# playwright-core drives the system chromium; it downloads no browser.
browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
  echo "install-deps: npm ci in tests/browser (playwright-core)" >&2
  (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
