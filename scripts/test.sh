#!/usr/bin/env bash
# The README's test command (`npm test`): installs what the tests need, builds, type-checks and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
bash scripts/install-test-deps.sh
npm run build --silent
npx tsc -p tsconfig.test.json
npx eslint --quiet .

mkdir -p test-output
status=0
npx jest --ci --maxWorkers=2 --json --outputFile=test-output/jest.json "$@" || status=$?
node -e '
  const r = require("./test-output/jest.json");
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
'
exit "$status"
