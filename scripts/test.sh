#!/usr/bin/env bash
# The README's test command (`npm test`): installs what the tests need, builds, checks and runs every test.
# Extra arguments go to jest (e.g. `npm test -- services/queue`).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
bash scripts/install-test-deps.sh
bash scripts/install-tools.sh >/dev/null

npm run build --silent
npx tsc -p tsconfig.test.json
npx tsc -p load-tests/tsconfig.json
npx eslint --quiet .
npx prettier --check --log-level warn .
bash scripts/check-k8s.sh

mkdir -p test-output
status=0
npx jest --ci --maxWorkers=2 --json --outputFile=test-output/jest.json "$@" || status=$?
node scripts/jest-summary.js test-output/jest.json

if [ "$#" -eq 0 ]; then
  node load-tests/runner/run.js || status=$?
fi
exit "$status"
