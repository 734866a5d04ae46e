#!/usr/bin/env bash
# Runs staticcheck, installing the pinned version into .cache/bin on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v0.8.2
bin=.cache/bin/staticcheck-$version
if [ ! -x "$bin" ]; then
  echo "lint: installing staticcheck $version (first run only)..." >&2
  mkdir -p .cache/bin
  GOBIN="$PWD/.cache/bin" go install honnef.co/go/tools/cmd/staticcheck@$version
  mv .cache/bin/staticcheck "$bin"
fi
"$bin" ./...
