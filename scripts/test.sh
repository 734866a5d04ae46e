#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run calls this script).
# It installs what the tests need (npm interop peers, the linter), starts the
# machine's services if they are down, then runs vet, the linter and every Go
# test, including the fuzz targets' seed corpora.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== setup: npm packages for interop tests"
bash scripts/setup-node.sh

echo "== setup: services"
bash scripts/services.sh
# The services and the npm peers are set up now: a test that cannot reach
# them must fail, not skip (tests skip only when CI is not "true").
export CI=true

echo "== go vet"
go vet ./...

echo "== staticcheck"
bash scripts/lint.sh

echo "== go test"
# -race catches data races in the RPC core; the fuzz targets run their seed
# corpus as plain tests. The verbose log goes to a file; the console gets the
# package lines, any failure's output, and one closing count.
log=$(mktemp -t openev-test.XXXXXX)
set +e
go test -race -count=1 -timeout 15m -v ./... >"$log" 2>&1
rc=$?
set -e
grep -E '^(ok|FAIL|---? FAIL|panic:)|\[no test files\]' "$log" | grep -v 'no test files' || true
passed=$(grep -cE '^\s*--- PASS' "$log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$log" || true)
if [ "$rc" -ne 0 ]; then
  echo "---- failing output (full log: $log) ----"
  grep -B2 -A30 -E '^\s*--- FAIL|^panic:|^FAIL|build failed|cannot|undefined' "$log" | head -300
  [ "$failed" -eq 0 ] && failed=1
fi
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$rc"
