#!/usr/bin/env bash
# Every test, on a fresh machine of ours: Debian packages the tests use (openssl for throw-away
# certificates, prometheus/promtool for the monitoring tests), the control-plane binaries built from
# the Go module proxy (cached outside the repository), type check and lint, then the whole vitest run.
# Run after `npm ci` (npm run test:all). A failure that does not repeat when its files run again is
# printed as FLAKY (README "Development"), unless the run also failed outside its failed tests.
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
# vegeta, the benchmarks' load generator (a bench test sends through it), cached outside the repository.
node --input-type=module -e "const m = await import('./bench/src/vegeta.ts'); console.log('vegeta at', await m.ensureVegeta(console.log));"
done_phase "control-plane binaries"

phase "type check and lint"
npm run --silent check
done_phase "type check and lint"

phase "tests"
report_dir=$(mktemp -d)
report=$report_dir/vitest.json
# vitest's JSON report names the failed tests and their files, nothing else that fails a run: neither
# an unhandled error or rejection (vitest hands those to reporters as the run ends: this one counts
# them) nor an error of a global setup's teardown, such as test/cluster/global-setup.ts finding a
# non-loopback address (vitest prints it to stderr as "error during close", after every report).
cat >"$report_dir/unhandled-errors.mjs" <<END_OF_REPORTER
import { writeFileSync } from 'node:fs';
export default class {
  onTestRunEnd(_modules, errors) {
    writeFileSync('$report_dir/unhandled', String(errors.length));
  }
}
END_OF_REPORTER
status=0
# stderr goes to the terminal and to a file as well; stdout is left as it is.
{ npx vitest run --reporter=default --reporter=json --outputFile.json="$report" \
  --reporter="$report_dir/unhandled-errors.mjs" "$@" 2>&1 1>&3 3>&- | tee "$report_dir/stderr" >&2; } 3>&1 ||
  status=$?
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
# Whether the run failed in its failed files alone: it reached its end (the count of unhandled errors
# was written), that count is 0, and nothing failed at close. Else running the files again would hide the rest.
failed_in_files_only() {
  [ -n "$failed_files" ] && [ "$(cat "$report_dir/unhandled" 2>/dev/null)" = 0 ] &&
    ! grep -q 'error during close' "$report_dir/stderr"
}
# A failure that does not repeat is still printed above and here; only its files run again, once, on
# their own. A test that fails twice fails the run, and so does any failure outside the failed files.
if [ "$status" -ne 0 ] && [ -n "$failed_files" ] && ! failed_in_files_only; then
  echo "::: not run again: the run also failed outside its failed tests (an unhandled error, or at close)"
elif [ "$status" -ne 0 ] && [ -n "$failed_files" ] && [ "$(wc -l <<<"$failed_files")" -le 3 ]; then
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
