#!/usr/bin/env bash
# Every test, on a fresh machine of ours: Debian packages the tests use (openssl for throw-away
# certificates, prometheus/promtool for the monitoring tests), the control-plane binaries built from
# the Go module proxy (cached outside the repository), type check and lint, then the whole vitest run.
# Run after `npm ci` (npm run test:all).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" GOFLAGS=-modcacherw

phase_start=0
phase() { phase_start=$(date +%s); echo "::: $1"; }
done_phase() { echo "::: $1 took $(( $(date +%s) - phase_start )) s"; }
total_start=$(date +%s)

phase "system packages"
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v promtool >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The Debian package starts a Prometheus service; tests run their own on loopback.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
done_phase "system packages"

node --version

phase "control-plane binaries"
bin_dir=$(bash scripts/build-k8s-tools.sh | tail -n 1)
echo "binaries in $bin_dir"
jaeger_start=$(date +%s)
jaeger_bin=$(bash scripts/build-jaeger.sh | tail -n 1)
echo "jaeger at $jaeger_bin ($(( $(date +%s) - jaeger_start )) s)"
done_phase "control-plane binaries"

phase "type check and lint"
npm run --silent check
done_phase "type check and lint"

phase "tests"
report=$(mktemp -d)/vitest.json
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
# One plain summary line for CI, from vitest's own JSON report.
node -e '
const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || true
done_phase "tests"
[ "$status" -eq 0 ] || exit "$status"

echo "::: total $(( $(date +%s) - total_start )) s"
