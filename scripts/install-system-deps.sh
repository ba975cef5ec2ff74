#!/usr/bin/env bash
# Installs what the tests need outside Python: Debian's Chromium (browser tests), redis-server
# (the --state tests run against a real Redis, started by a fixture on a free port), Node.js/npm,
# and the npm tools of package.json: newman + postman-collection (Postman interop tests) and Prism (the OpenAPI
# export in other hands, notebook 11). --bench adds wrk.
#
# Works as root and as a normal user: apt-get runs directly as root, through `sudo -n` otherwise
# (never a password prompt). Where apt-get is absent or not allowed, it says which packages are
# missing and exits 0: the tests that need them are skipped with that reason, the rest run.
# With POSTMOCK_REQUIRE_ALL=1 (CI) anything missing is an error instead.
set -euo pipefail
cd "$(dirname "$0")/.."

require_all="${POSTMOCK_REQUIRE_ALL:-0}"
missing=()

note_missing() {  # note_missing "what" "which tests go without it"
  missing+=("$1")
  echo "install-system-deps: $1 is not installed and could not be installed here: $2" >&2
}

# -- system packages (apt) -------------------------------------------------------------------

packages=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || packages+=(chromium)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
if [ "${1:-}" = "--bench" ]; then command -v wrk >/dev/null 2>&1 || packages+=(wrk); fi

apt_usable() {  # prints the command prefix that runs apt-get with root rights, or fails
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u)" -eq 0 ]; then echo ""; return 0; fi
  command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1 && { echo "sudo -n"; return 0; }
  return 1
}

if [ ${#packages[@]} -gt 0 ]; then
  if prefix="$(apt_usable)"; then
    echo "installing ${packages[*]} with apt-get"
    if ! { $prefix apt-get update -qq && DEBIAN_FRONTEND=noninteractive $prefix apt-get install -y -qq "${packages[@]}" >/dev/null; }; then
      echo "install-system-deps: apt-get install ${packages[*]} failed" >&2
    fi
  else
    if ! command -v apt-get >/dev/null 2>&1; then why="there is no apt-get on this machine"
    else why="apt-get needs root (not root, and sudo is missing or asks for a password)"; fi
    echo "install-system-deps: would install Debian packages: ${packages[*]}, but $why." >&2
    echo "install-system-deps: install them yourself (e.g. sudo apt-get install ${packages[*]}) to run every test." >&2
  fi
fi

command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
  || note_missing "Chromium (Debian package chromium)" "the browser tests are skipped"
command -v redis-server >/dev/null 2>&1 \
  || note_missing "redis-server (Debian package redis-server)" "the shared-state (--state redis://) tests are skipped"
if [ "${1:-}" = "--bench" ]; then
  command -v wrk >/dev/null 2>&1 || note_missing "wrk (Debian package wrk)" "the benchmarks that use it are skipped"
fi

# -- Node tools (npm, into ./node_modules) ---------------------------------------------------

if ! command -v npm >/dev/null 2>&1; then
  note_missing "npm (Debian packages nodejs npm)" "the newman, postman-collection and Prism tests are skipped"
elif [ -f package.json ] && { [ ! -x node_modules/.bin/newman ] || [ ! -x node_modules/.bin/prism ] || [ package.json -nt node_modules/.installed ]; }; then
  echo "installing newman, postman-collection and Prism with npm"
  if npm install --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null; then
    touch node_modules/.installed
  else
    note_missing "newman, postman-collection and Prism (npm install failed)" "the newman, postman-collection and Prism tests are skipped"
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  listed="$(printf '%s; ' "${missing[@]}")"; listed="${listed%; }"
  if [ "$require_all" = "1" ]; then
    echo "install-system-deps: POSTMOCK_REQUIRE_ALL=1 and missing: $listed" >&2
    exit 1
  fi
  echo "install-system-deps: continuing without: $listed (those tests will say so when skipped)" >&2
fi
exit 0
