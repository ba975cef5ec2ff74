#!/usr/bin/env bash
# The benchmark's own setup: wrk (load), Java (WireMock), and the peer mocks from npm into
# benchmarks/peers/node_modules: wiremock (ships the standalone jar) and @mockoon/cli.
# (postman-local-mock-server is not published on npm.) Nothing else is installed by hand.
set -euo pipefail
cd "$(dirname "$0")"

packages=()
command -v wrk >/dev/null 2>&1 || packages+=(wrk)
command -v java >/dev/null 2>&1 || packages+=(default-jre-headless)
command -v taskset >/dev/null 2>&1 || packages+=(util-linux)
if [ ${#packages[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${packages[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if [ ! -f peers/node_modules/.installed ] || [ peers/package.json -nt peers/node_modules/.installed ]; then
  echo "installing the peer mocks with npm (benchmarks/peers)"
  (cd peers && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  touch peers/node_modules/.installed
fi
