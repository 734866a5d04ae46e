#!/usr/bin/env bash
# Installs the npm packages the tests need (the independent OCPP implementation
# ocpp-rpc, which also ships the official OCA JSON schemas) from the npm registry.
# Safe to run again: it does nothing when the installed tree matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../interop/node"
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.openev-lock; then
  exit 0
fi
echo "setup-node: installing npm packages for interop tests (interop/node)..." >&2
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.openev-lock
