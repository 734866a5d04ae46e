#!/usr/bin/env bash
# Regenerates the OCPP payload packages ocpp/v16, ocpp/v201 and ocpp/v21 from
# the official OCA JSON schemas, which come with the npm package ocpp-rpc.
# The schemas are not committed; the generated Go code is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup-node.sh"
schemas="$root/interop/node/node_modules/ocpp-rpc/lib/schemas"
cd "$root"
gen="$(mktemp -d)/ocppgen"
trap 'rm -rf "$(dirname "$gen")"' EXIT
go build -o "$gen" ./internal/ocppgen/cmd/ocppgen
"$gen" -version 1.6 -schema "$schemas/ocpp1_6.json" -out ocpp/v16
"$gen" -version 2.0.1 -schema "$schemas/ocpp2_0_1.json" -out ocpp/v201
"$gen" -version 2.1 -schema "$schemas/ocpp2_1.json" -out ocpp/v21
gofmt -w ocpp/v16 ocpp/v201 ocpp/v21
