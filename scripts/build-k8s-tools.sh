#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy, once per version set.
# Output: $HAL9_TOOLS_BIN (printed on stdout as the last line). Skips the build when present.
set -euo pipefail
K8S_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
GO_VERSION=$(go env GOVERSION)
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hal9
bin=${HAL9_TOOLS_BIN:-$cache/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION-$GO_VERSION}
export GOFLAGS=-modcacherw CGO_ENABLED=0

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ]; then
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi
need=()
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok helm; do
  [ -x "$bin/$b" ] || need+=("$b")
done
if [ ${#need[@]} -eq 0 ]; then echo "$bin"; exit 0; fi
mkdir -p "$bin"
echo "building ${need[*]} into $bin" >&2
start=$(date +%s)

has() { [[ " ${need[*]} " == *" $1 "* ]]; }

if has kube-apiserver || has kube-controller-manager || has kube-scheduler || has kubectl; then
  (
    cd "$here/tools/k8s-bin"
    ver="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/component-base/version.gitTreeState=clean"
    ver="$ver -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=37 -X k8s.io/client-go/pkg/version.gitTreeState=clean"
    go build -trimpath -ldflags "-s -w $ver" -o "$bin/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  )
fi
if has etcd; then (cd "$here/tools/etcd-bin" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3); fi
if has kwok; then GOBIN="$bin" go install -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION; fi
if has helm; then GOBIN="$bin" go install -trimpath -ldflags "-s -w" helm.sh/helm/v3/cmd/helm@$HELM_VERSION; fi
echo "built in $(( $(date +%s) - start )) s" >&2
echo "$bin"
