#!/usr/bin/env bash
# Deletes the kind cluster scripts/kind-up.sh created. NEEDS DOCKER and kind; not run in this project's CI.
#
# Usage: scripts/kind-down.sh [cluster-name]   (default: metricstream)
set -euo pipefail

cluster=${1:-metricstream}
command -v kind > /dev/null || {
  echo "kind-down: kind is required" >&2
  exit 1
}
if kind get clusters | grep -qx "$cluster"; then
  kind delete cluster --name "$cluster"
else
  echo "kind-down: no kind cluster named $cluster"
fi
