#!/usr/bin/env bash
# Builds the pinned tools the operator's envtest suite and scripts/check-k8s.sh need, with the Go toolchain:
#   kube-apiserver  wrapper module scripts/envtest/kube-apiserver (k8s.io/kubernetes, staging modules pinned)
#   etcd            wrapper module scripts/envtest/etcd (go.etcd.io/etcd/server/v3 etcdmain)
#   helm, kubeconform  go install at a pinned version
# Versions live in scripts/envtest/versions.env. Binaries are cached outside the repository in
# ${METRICSTREAM_TOOLS:-$HOME/.cache/metricstream-tools}/<name>-<version>/, so a rerun takes seconds.
# The last line printed is the bin directory (symlinks to the cached binaries).
#
# Usage: scripts/install-tools.sh [--only NAME]...   (NAME: kube-apiserver, etcd, helm, kubeconform)
# Building kube-apiserver from source takes a long while on a small machine; set GOFLAGS=-p=1 to trade
# time for memory.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
envtest_dir="$repo_root/scripts/envtest"
# shellcheck source-path=SCRIPTDIR source=envtest/versions.env
source "$envtest_dir/versions.env"

tools_root=${METRICSTREAM_TOOLS:-$HOME/.cache/metricstream-tools}
bin_dir="$tools_root/bin"
mkdir -p "$bin_dir"

selected=()
while (($# > 0)); do
  case "$1" in
    --only)
      [[ $# -ge 2 ]] || {
        echo "install-tools: --only needs a tool name" >&2
        exit 2
      }
      selected+=("$2")
      shift 2
      ;;
    -h | --help)
      sed -n '2,13p' "$0"
      exit 0
      ;;
    *)
      echo "install-tools: unknown argument $1" >&2
      exit 2
      ;;
  esac
done

is_selected() {
  local name=$1
  ((${#selected[@]} == 0)) && return 0
  local candidate
  for candidate in "${selected[@]}"; do
    [[ $candidate == "$name" ]] && return 0
  done
  return 1
}

log() {
  echo "install-tools: $*" >&2
}

# link_tool NAME DIR: exposes DIR/NAME as bin_dir/NAME.
link_tool() {
  ln -sfn "$2/$1" "$bin_dir/$1"
}

# A build goes to a temporary directory renamed into place at the end, so an interrupted build is never
# mistaken for a cached one.
build_wrapper() {
  local name=$1 version=$2 module_dir=$3 ldflags=$4
  local dest="$tools_root/$name-$version"
  if [[ -x $dest/$name ]]; then
    log "$name $version cached in $dest"
    link_tool "$name" "$dest"
    return
  fi
  log "building $name $version from $module_dir (this can take a long time)"
  local staging
  staging=$(mktemp -d "$tools_root/.$name-$version.XXXXXX")
  chmod 755 "$staging"
  (
    cd "$module_dir"
    if [[ ! -f go.sum ]]; then
      log "$name: go.sum missing, resolving modules with go mod tidy"
      go mod tidy
    fi
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$staging/$name" .
  )
  rm -rf "$dest"
  mv "$staging" "$dest"
  link_tool "$name" "$dest"
  log "$name $version installed in $dest"
}

go_install() {
  local name=$1 version=$2 package=$3 ldflags=$4
  local dest="$tools_root/$name-$version"
  if [[ -x $dest/$name ]]; then
    log "$name $version cached in $dest"
    link_tool "$name" "$dest"
    return
  fi
  log "installing $package@$version"
  local staging
  staging=$(mktemp -d "$tools_root/.$name-$version.XXXXXX")
  chmod 755 "$staging"
  CGO_ENABLED=0 GOBIN="$staging" go install -trimpath -ldflags "$ldflags" "$package@$version"
  rm -rf "$dest"
  mv "$staging" "$dest"
  link_tool "$name" "$dest"
  log "$name $version installed in $dest"
}

command -v go > /dev/null || {
  echo "install-tools: the Go toolchain is required (go not found on PATH)" >&2
  exit 1
}

kube_minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)

if is_selected helm; then
  # Helm's built-in Kubernetes version (used by `helm template` and `helm lint` without a cluster) defaults
  # to an old minor unless set at link time, as helm's Makefile does.
  go_install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kube_minor -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kube_minor"
fi
if is_selected kubeconform; then
  go_install kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform "-s -w"
fi
if is_selected etcd; then
  build_wrapper etcd "$ETCD_VERSION" "$envtest_dir/etcd" "-s -w"
fi
if is_selected kube-apiserver; then
  version_flags="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
  version_flags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$kube_minor"
  version_flags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  build_wrapper kube-apiserver "$KUBERNETES_VERSION" "$envtest_dir/kube-apiserver" "-s -w $version_flags"
fi

echo "$bin_dir"
