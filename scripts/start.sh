#!/usr/bin/env bash
# The README's run command (`npm start`): installs and builds on first use, then runs the whole platform locally.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules/.bin ] || npm ci --no-audit --no-fund
npm run build --silent
exec node dist/services/cli/metricstream.js start "$@"
