#!/usr/bin/env bash
# Builds Jaeger v2 (github.com/jaegertracing/jaeger/cmd/jaeger) from the Go module proxy, once per
# version. Output: the path of the jaeger executable (printed on stdout as the last line). Skips the
# build when present. Separate from build-k8s-tools.sh so that script's cache key does not change.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# JAEGER_VERSION (module tag) and JAEGER_RELEASE (the v2 name of the same release)
source "$here/tools/versions.env"
# A prebuilt binary, like KUBEBUILDER_ASSETS for the control plane: no Go toolchain needed.
if [ -n "${HAL9_JAEGER_BIN:-}" ] && [ -x "$HAL9_JAEGER_BIN" ]; then
  echo "$HAL9_JAEGER_BIN"; exit 0
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hal9
bin=$cache/bin/jaeger-$JAEGER_RELEASE-$(go env GOVERSION)
export GOFLAGS=-modcacherw CGO_ENABLED=0
# The wrapper module pins the same version (bump both together; see tools/README.md).
grep -q "github.com/jaegertracing/jaeger $JAEGER_VERSION" "$here/tools/jaeger-bin/go.mod" || {
  echo "tools/versions.env and tools/jaeger-bin/go.mod disagree" >&2; exit 1; }
mkdir -p "$cache"
# One build at a time per machine: a second caller waits, then finds the binary present.
exec 9>"$cache/jaeger-build.lock"
flock 9
if [ -x "$bin/jaeger" ]; then echo "$bin/jaeger"; exit 0; fi
mkdir -p "$bin"
echo "building jaeger $JAEGER_RELEASE ($JAEGER_VERSION) into $bin" >&2
start=$(date +%s)
(
  cd "$here/tools/jaeger-bin"
  go build -trimpath \
    -ldflags "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_RELEASE" \
    -o "$bin/jaeger.partial" github.com/jaegertracing/jaeger/cmd/jaeger
)
# Renamed only when complete, so an interrupted build is never taken for a binary.
mv "$bin/jaeger.partial" "$bin/jaeger"
echo "built in $(( $(date +%s) - start )) s" >&2
echo "$bin/jaeger"
