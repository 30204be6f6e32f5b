#!/usr/bin/env bash
# Every test, on a fresh machine of ours: Debian packages the tests use (openssl for throw-away
# certificates, prometheus/promtool for the monitoring tests), the control-plane binaries built from
# the Go module proxy (cached outside the repository), type check and lint, then the whole vitest run.
# Run after `npm ci` (npm run test:all). A failure that does not repeat when its files run again is
# printed as FLAKY (README "Development").
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
report_dir=$(mktemp -d)
report=$report_dir/vitest.json
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain summary line for CI, from vitest's own JSON report; the files with a failed test, one per line.
summary() {
  node -e '
const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.error(`${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
for (const f of r.testResults) {
  const failed = f.assertionResults.filter((a) => a.status === "failed");
  if (failed.length === 0 && f.status !== "failed") continue;
  console.log(require("node:path").relative(process.cwd(), f.name));
  for (const a of failed) console.error(`  failed: ${f.name}: ${a.fullName}`);
}
' "$1" "$2"
}
failed_files=$(summary "$report" Tests) || true
done_phase "tests"
# A failure that does not repeat is still printed above and here; only its files run again, once, on
# their own. A test that fails twice fails the run.
if [ "$status" -ne 0 ] && [ -n "$failed_files" ] && [ "$(wc -l <<<"$failed_files")" -le 3 ]; then
  phase "tests that failed, run again"
  echo "$failed_files"
  status=0
  # shellcheck disable=SC2086
  npx vitest run --reporter=default --reporter=json --outputFile.json="$report_dir/again.json" $failed_files || status=$?
  summary "$report_dir/again.json" "Tests run again" >/dev/null || true
  [ "$status" -eq 0 ] && echo "::: FLAKY: failed once, passed when run again: $(tr '\n' ' ' <<<"$failed_files")"
  done_phase "tests that failed, run again"
fi
[ "$status" -eq 0 ] || exit "$status"

echo "::: total $(( $(date +%s) - total_start )) s"
