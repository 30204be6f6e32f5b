#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy, once per version set.
# Output: $HAL9_TOOLS_BIN (printed on stdout as the last line). Skips the build when present.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# K8S_VERSION, STAGING_VERSION, ETCD_VERSION, KWOK_VERSION, HELM_VERSION (the test harness reads them too)
source "$here/tools/versions.env"
# Prebuilt binaries need no Go toolchain: checked before anything asks for one.
if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ]; then
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hal9
# The Go version is part of the default directory's name only (bash expands it only when used).
bin=${HAL9_TOOLS_BIN:-$cache/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION-$(go env GOVERSION)}
export GOFLAGS=-modcacherw CGO_ENABLED=0
# The wrapper modules pin the same versions (bump both together; see tools/README.md).
grep -q "k8s.io/kubernetes $K8S_VERSION" "$here/tools/k8s-bin/go.mod" &&
  grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" "$here/tools/etcd-bin/go.mod" || {
  echo "tools/versions.env and tools/*/go.mod disagree" >&2; exit 1; }
mkdir -p "$cache"
# One build at a time per machine: a second caller waits, then finds the binaries present.
exec 9>"$cache/build.lock"
flock 9
need=()
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok helm; do
  [ -x "$bin/$b" ] || need+=("$b")
done
# A helm built before its default Kubernetes version was stamped is built again.
[ -x "$bin/helm" ] && [ ! -e "$bin/.helm-kube-version" ] && need+=(helm)
if [ ${#need[@]} -eq 0 ]; then echo "$bin"; exit 0; fi
mkdir -p "$bin"
echo "building ${need[*]} into $bin" >&2
start=$(date +%s)

has() { [[ " ${need[*]} " == *" $1 "* ]]; }

if has kube-apiserver || has kube-controller-manager || has kube-scheduler || has kubectl; then
  (
    cd "$here/tools/k8s-bin"
    # Stamp the version: helm's kubeVersion checks and kwokctl parse it.
    minor=$(echo "$K8S_VERSION" | cut -d. -f2)
    ver=""
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ver="$ver -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    go build -trimpath -ldflags "-s -w $ver" -o "$bin/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  )
fi
if has etcd; then (cd "$here/tools/etcd-bin" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3); fi
if has kwok; then GOBIN="$bin" go install -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION; fi
if has helm; then
  # As helm's release builds do (its Makefile): the default Kubernetes version for `helm template` and
  # `helm lint` comes from the client-go it is built with (v0.37.x -> 1.37), not the 1.20 in its source.
  helm_mod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  kminor=$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$helm_mod" | head -n 1)
  kstamp=""
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    kstamp="$kstamp -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kminor"
  done
  GOBIN="$bin" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean $kstamp" \
    helm.sh/helm/v3/cmd/helm@$HELM_VERSION
  echo "1.$kminor" >"$bin/.helm-kube-version"
fi
echo "built in $(( $(date +%s) - start )) s" >&2
echo "$bin"
