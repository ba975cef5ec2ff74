#!/usr/bin/env bash
# Sets the GitHub account that hosts this repository where a link leaves the repository: the
# marked link block at the end of README.md (the Binder badge; every link into the repository
# is relative, so it needs no owner).
#   bash scripts/set-owner.sh your-account
set -euo pipefail
cd "$(dirname "$0")/.."
owner="${1:-}"
if ! [[ "$owner" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,38})$ ]]; then
  echo "usage: bash scripts/set-owner.sh GITHUB-ACCOUNT (letters, digits and dashes)" >&2
  exit 2
fi
current="$(sed -n 's#^\[binder\]: https://mybinder.org/v2/gh/\([^/]*\)/postmock_nb/.*#\1#p' README.md)"
if [ -z "$current" ]; then
  echo "set-owner: README.md has no [binder] link definition in its OWNER block" >&2
  exit 1
fi
sed -i "/^<!-- OWNER:/,/^<!-- end of the OWNER block -->/ s#/$current/postmock_nb#/$owner/postmock_nb#g" README.md
echo "owner: $current -> $owner (README.md link block)"
