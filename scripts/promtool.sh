#!/usr/bin/env bash
# Checks the Prometheus alert rules with promtool: `promtool check rules` (YAML, PromQL, templates), then
# `promtool test rules` (every alert fires on the synthetic series of deploy/prometheus/alerts.test.yml and
# clears again). promtool comes from PATH when it is there, else it is built from its Go module into .cache/ —
# a first build downloads and compiles a few hundred modules (about 35 minutes on 2 cores; 30 s once Go's caches
# are warm), which is why CI does not run this script and checks the rules' syntax with the Prometheus project's
# npm parser instead (test/e2e/alert-rules.e2e.spec.ts). Run it when you change the rules.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version=v0.316.0
promtool="$(command -v promtool || true)"
if [[ -z "$promtool" ]]; then
  promtool="$PWD/.cache/promtool-$version/promtool"
  if [[ ! -x "$promtool" ]]; then
    echo "promtool.sh: building promtool $version from its Go module into .cache/ (long the first time)" >&2
    GOBIN="$(dirname "$promtool")" go install "github.com/prometheus/prometheus/cmd/promtool@$version"
  fi
fi
cd deploy/prometheus
"$promtool" check rules alerts.yml
"$promtool" test rules alerts.test.yml
