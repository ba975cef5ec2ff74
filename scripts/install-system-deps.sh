#!/usr/bin/env bash
# Installs what the tests need outside Python: Debian's Chromium (browser tests) and
# newman + postman-collection from npm (Postman interop tests). --bench adds wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
if [ "${1:-}" = "--bench" ]; then command -v wrk >/dev/null 2>&1 || packages+=(wrk); fi
if [ ${#packages[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${packages[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if [ -f package.json ] && { [ ! -x node_modules/.bin/newman ] || [ package.json -nt node_modules/.installed ]; }; then
  echo "installing newman and postman-collection with npm"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.installed
fi
