#!/usr/bin/env bash
# Brings MetricStream up in a local kind cluster and smoke-tests it: create the cluster, build the image and load it,
# helm install, wait for the Ready conditions, then send metrics, query them back and watch an AlertRule fire.
#
# NEEDS DOCKER (and kind, kubectl, helm on PATH or in the install-tools cache). This project's CI machines have no
# Docker engine, so this script is checked by shellcheck there but was not run.
#
# Usage: scripts/kind-up.sh [cluster-name]   (default: metricstream; scripts/kind-down.sh removes it)
set -euo pipefail

cluster=${1:-metricstream}
namespace=metricstream
release=metricstream
image=metricstream:dev
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools_bin="${METRICSTREAM_TOOLS:-$HOME/.cache/metricstream-tools}/bin"
PATH="$PATH:$tools_bin"

for tool in docker kind kubectl helm; do
  command -v "$tool" > /dev/null || {
    echo "kind-up: $tool is required" >&2
    exit 1
  }
done

log() {
  echo "kind-up: $*"
}

if ! kind get clusters | grep -qx "$cluster"; then
  log "creating kind cluster $cluster"
  kind create cluster --name "$cluster" --wait 120s
fi
kubectl config use-context "kind-$cluster" > /dev/null

log "building $image"
docker build -t "$image" "$repo_root"
kind load docker-image "$image" --name "$cluster"

log "installing the chart"
kubectl apply --server-side -f "$repo_root/crds/"
kubectl wait --for=condition=Established crd --all --timeout=60s
helm upgrade --install "$release" "$repo_root/charts/metricstream" \
  --namespace "$namespace" --create-namespace \
  --set image.repository=metricstream --set image.tag=dev --set image.pullPolicy=Never \
  --wait --timeout 10m

log "waiting for the queue and storage to be Ready"
kubectl -n "$namespace" wait --for=condition=Ready queuecluster --all --timeout=10m
kubectl -n "$namespace" wait --for=condition=Ready storageshard --all --timeout=10m

log "smoke test: metrics in, query out"
helm test "$release" --namespace "$namespace" --timeout 5m

log "smoke test: an AlertRule fires"
kubectl -n "$namespace" apply -f - << 'YAML'
apiVersion: metricstream.io/v1alpha1
kind: AlertRule
metadata:
  name: smoke-always-firing
spec:
  query: avg(smoke_gauge) > 1
  duration: 0s
  window: 5m
  interval: 5s
YAML
kubectl -n "$namespace" wait --for=condition=Synced alertrule/smoke-always-firing --timeout=2m
kubectl -n "$namespace" run smoke-writer --rm -i --restart=Never --image="$image" --image-pull-policy=Never \
  --command -- node -e "
    fetch('http://$release-ingestion:8080/metrics', {
      method: 'POST',
      headers: { Authorization: 'smoke', 'Content-Type': 'application/json' },
      body: JSON.stringify({ metrics: [{ name: 'smoke_gauge', value: 5 }] }),
    }).then((response) => process.exit(response.status === 202 ? 0 : 1));"
for _ in $(seq 1 60); do
  state=$(kubectl -n "$namespace" get alertrule smoke-always-firing -o jsonpath='{.status.state}')
  if [[ $state == firing ]]; then
    log "AlertRule smoke-always-firing is firing"
    kubectl -n "$namespace" get queueclusters,storageshards,alertrules
    log "MetricStream is up in kind cluster $cluster"
    exit 0
  fi
  sleep 5
done
echo "kind-up: the smoke AlertRule never fired" >&2
exit 1
