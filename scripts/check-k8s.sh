#!/usr/bin/env bash
# The Kubernetes packaging checks CI runs (after scripts/install-tools.sh):
#   1. helm lint --strict on the chart (default values and a cluster-wide, external-redis variant)
#   2. helm template | kubeconform -strict, with schemas generated offline for the built-in kinds (from the pinned
#      Kubernetes module's OpenAPI spec) and for our CRDs, plus manifests/ (rendered and examples)
#   3. manifests/metricstream.yaml is current (scripts/render-manifests.sh --check)
#   4. shellcheck over scripts/*.sh (this part's scripts at every severity, the rest at warning and above)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=envtest/versions.env
source "$repo_root/scripts/envtest/versions.env"
tools_bin="${METRICSTREAM_TOOLS:-$HOME/.cache/metricstream-tools}/bin"
helm="$tools_bin/helm"
kubeconform="$tools_bin/kubeconform"
chart="$repo_root/charts/metricstream"
for tool in "$helm" "$kubeconform"; do
  [[ -x $tool ]] || {
    echo "check-k8s: $tool is missing; run scripts/install-tools.sh" >&2
    exit 1
  }
done

step() {
  echo "== $*"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "helm lint --strict"
"$helm" lint --strict "$chart" 2> /dev/null
"$helm" lint --strict "$chart" --set operator.watchNamespace='*' \
  --set redis.bundled=false --set redis.externalUrl=redis://redis.example:6379 2> /dev/null

step "kubeconform -strict (schemas generated offline)"
openapi_dir="$(go env GOMODCACHE)/k8s.io/kubernetes@$KUBERNETES_VERSION/api/openapi-spec/v3"
if [[ ! -d $openapi_dir ]]; then
  (cd "$repo_root/scripts/envtest/kube-apiserver" && go mod download "k8s.io/kubernetes@$KUBERNETES_VERSION")
fi
python3 "$repo_root/scripts/envtest/k8s-json-schemas.py" "$openapi_dir" "$repo_root/crds" "$work/schemas"
validate() {
  "$kubeconform" -strict -summary -schema-location "$work/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$@"
}
"$helm" template metricstream "$chart" --namespace metricstream --include-crds 2> /dev/null | validate -
"$helm" template metricstream "$chart" --namespace metricstream --set operator.watchNamespace='*' \
  --set redis.bundled=false --set redis.externalUrl=redis://redis.example:6379 2> /dev/null | validate -
validate "$repo_root/manifests" "$repo_root/crds"

step "rendered manifests are current"
"$repo_root/scripts/render-manifests.sh" --check > /dev/null

step "shellcheck"
if command -v shellcheck > /dev/null; then
  own=(check-k8s.sh install-tools.sh kind-up.sh kind-down.sh render-manifests.sh)
  (cd "$repo_root/scripts" && shellcheck -x "${own[@]}")
  # Every other script is held to warnings and errors.
  (cd "$repo_root/scripts" && shellcheck -x --severity=warning ./*.sh)
else
  echo "check-k8s: shellcheck is not installed (apt-get install -y shellcheck)" >&2
  exit 1
fi
echo "check-k8s: all checks passed"
