import type { ScenarioRecord } from './recorder.ts';

// Renders RELIABILITY.md from the fault suite's records (pure; scripts/reliability-report.ts gathers the
// inputs and writes the file). Every number in it comes from a record.

export interface OperatorCase {
  readonly fault: string;
  /** Test file relative to the repository root, and the test's title in it; absent when not covered. */
  readonly test?: { readonly file: string; readonly title: string };
  /** How much of the fault the test exercises. */
  readonly coverage: 'covered' | 'partly' | 'not covered';
  readonly proves: string;
  /** Outcome of the test in this run when the operator tests were run (`--operator`). */
  readonly result?: { readonly status: string; readonly durationMs: number; readonly measured?: string };
}

export interface KnownDefect {
  readonly file: string;
  readonly title: string;
  readonly description: string;
}

export interface ReportInput {
  readonly records: readonly ScenarioRecord[];
  /** ISO date (YYYY-MM-DD) of the run. */
  readonly date: string;
  readonly machine: string;
  readonly suiteMs: number;
  readonly defects: readonly KnownDefect[];
  readonly operator: readonly OperatorCase[];
  /** Whether the operator tests were run for this report. */
  readonly operatorRun: boolean;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const codes = (c: Readonly<Record<string, number>>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '—';

const breakers = (b: ScenarioRecord['breakerStates']) =>
  Object.entries(b)
    // The mock back-end's breaker never changes; it only adds noise.
    .filter(([k, v]) => !(k.endsWith('mock') && v.length === 1))
    .map(([k, v]) => `\`${k}\`: ${v.join(' → ')}`)
    .join('<br>') || '—';

const runtimeCounts = (r: ScenarioRecord) =>
  Object.keys(r.runtimeCounts).length === 0
    ? 'not read (process exited)'
    : Object.entries(r.runtimeCounts)
        .map(([label, c]) => `${label}: ${c.completed}/${c.failed}/${c.timed_out}/${c.rejected}`)
        .join('<br>');

const healthy = (r: ScenarioRecord) =>
  r.healthyAfter === null ? 'exited (by design)' : r.healthyAfter ? 'yes' : '**no**';

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);

function scenario(r: ScenarioRecord): string {
  const sum = r.completed + r.failed + r.timed_out + r.rejected;
  const rows: [string, string][] = [
    ['fault', r.fault],
    ['expected', r.expected],
    [
      'submitted = completed + failed + timed out + rejected',
      `${r.submitted} = ${r.completed} + ${r.failed} + ${r.timed_out} + ${r.rejected}${sum === r.submitted ? '' : ' **(MISMATCH)**'}`,
    ],
    ['error codes (requests not completed)', codes(r.codes)],
    ['hal9_requests_total completed/failed/timed_out/rejected', runtimeCounts(r)],
    ['breaker states seen', breakers(r.breakerStates)],
    ['healthy after (/healthz 200)', healthy(r)],
    ['recovery time (fault removed → first normal request completed)', ms(r.recoveryMs)],
  ];
  if (r.peakRssMiB !== undefined) rows.push(['peak RSS (VmHWM)', `${r.peakRssMiB} MiB`]);
  if (r.latencyMs) {
    const within = r.latencyMs.p99 <= r.latencyMs.sloP99Ms ? 'within' : '**beyond**';
    rows.push([
      'latency of completed requests',
      `p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms: ${within} the SLO, ${r.latencyMs.slo}`,
    ]);
  }
  if (r.notes) rows.push(['notes', r.notes]);
  return [
    `### ${r.id}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${cell(v)} |`),
    '',
    `Test: [\`${r.test}\`](${r.test})`,
    '',
  ].join('\n');
}

function summary(records: readonly ScenarioRecord[]): string {
  return [
    '| scenario | submitted | completed | failed | timed out | rejected | healthy after | recovery | peak RSS |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|',
    ...records.map(
      (r) =>
        `| [${r.id}](#${r.id}) | ${r.submitted} | ${r.completed} | ${r.failed} | ${r.timed_out} | ${r.rejected} | ${healthy(r)} | ${ms(r.recoveryMs)} | ${r.peakRssMiB === undefined ? '—' : `${r.peakRssMiB} MiB`} |`,
    ),
  ].join('\n');
}

function operatorTable(cases: readonly OperatorCase[], run: boolean): string {
  const head = run
    ? ['| fault | test | what it proves | this run (result, test duration) |', '|---|---|---|---|']
    : ['| fault | test | what it proves |', '|---|---|---|'];
  return [
    ...head,
    ...cases.map((c) => {
      const link = c.test ? `[\`${c.test.file}\`](${c.test.file}) “${cell(c.test.title)}”` : '';
      const test = c.coverage === 'covered' ? link : `**${c.coverage}**${link ? ` — ${link}` : ''}`;
      const res = c.result
        ? `${c.result.status}, ${Math.round(c.result.durationMs / 100) / 10} s${c.result.measured ? `; ${c.result.measured}` : ''}`
        : '—';
      return `| ${cell(c.fault)} | ${test} | ${cell(c.proves)} |${run ? ` ${cell(res)} |` : ''}`;
    }),
  ].join('\n');
}

export function renderReliability(input: ReportInput): string {
  const records = [...input.records].sort((a, b) => a.id.localeCompare(b.id));
  const defects = input.defects.length
    ? input.defects.map((d) => `- [\`${d.file}\`](${d.file}) “${d.title}”: ${d.description}`).join('\n')
    : 'None pinned.';
  return `# Reliability: the fault matrix

Generated by \`npm run reliability\` on ${input.date} (${input.machine}); the fault suite took
${Math.round(input.suiteMs / 1000)} s. Do not edit by hand: every number below is written by the suite
(\`runtime/test/faults/\`, run with \`HAL9_FAULT_REPORT\` set) and rendered by \`scripts/reliability-report.ts\`.
The same tests run in the ordinary \`vitest run\` (project \`runtime\`) with the recorder off.

Each scenario runs real runtime processes (\`node runtime/src/main.ts\`) on 127.0.0.1, in \`api\` mode
against the fake Messages API (the real Anthropic SDK) or in mock mode for cluster, drain and overload
runs, sends a bounded burst of concurrent requests, and asserts that every request got exactly one answer
(none lost, none outside the error catalogue, every 429/503 with \`Retry-After\`), that each live process's
\`hal9_requests_total\` equals what the client counted, the breaker's transitions, \`/healthz\` 200 after
the fault, and that a normal request completes afterwards. Recovery times, latencies and memory are
recorded, never asserted. Breakers here: open after 5 failures in 60 s, half-open after 1 s, closed after
2 successes.

## Summary

${summary(records)}

## Scenarios

${records.map(scenario).join('\n')}
## Known defects pinned by the suite

Tests marked \`it.fails\`: they pass while the defect exists and start failing once it is fixed.

${defects}

## Operator side

Covered by the operator's integration tests against the real local control plane (etcd, kube-apiserver,
controller-manager, scheduler, kwok). ${input.operatorRun ? 'They were run for this report; the last column is their result in this run.' : 'They were not run for this report (run `npm run reliability -- --operator` to include their results).'}

${operatorTable(input.operator, input.operatorRun)}
`;
}
