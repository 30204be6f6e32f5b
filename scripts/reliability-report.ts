import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioRecord } from '../runtime/test/faults/recorder.ts';
import {
  type KnownDefect,
  type OperatorCase,
  renderReliability,
} from '../runtime/test/faults/render-report.ts';

// npm run reliability [-- --operator]
// Runs the runtime fault suite with its recorder on, then writes RELIABILITY.md from what it recorded.
// With --operator it also runs the operator integration tests the matrix links (they need the local
// control plane binaries) and adds their results. A failing run writes nothing.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = join(ROOT, 'node_modules/.bin/vitest');
const FAULTS = 'runtime/test/faults';
const OUT = join(ROOT, 'RELIABILITY.md');

/** The operator side of the matrix: which integration test covers each fault (titles are checked). */
const OPERATOR: OperatorCase[] = [
  {
    fault: 'kube-apiserver restart (stopped 5 s) while the operator runs',
    test: {
      file: 'operator/test/apiserver-restart.test.ts',
      title: 'does not stop it reconciling later changes',
    },
    coverage: 'covered',
    proves:
      'its informers notice and restart (hal9_operator_informer_restarts_total > 0); a Neuron created and a spec changed after the restart are reconciled',
  },
  {
    fault: 'etcd restart (stopped 5 s under a running apiserver) while the operator runs',
    test: {
      file: 'operator/test/apiserver-restart.test.ts',
      title: 'keeps it reconciling once storage is back',
    },
    coverage: 'covered',
    proves: 'a Neuron created and a spec changed after storage is back are reconciled',
  },
  {
    fault: '409 conflicts from a competing writer',
    test: {
      file: 'operator/test/neuron-reconcile.test.ts',
      title: 'repairs an operator-owned field another manager changed',
    },
    coverage: 'partly',
    proves:
      'another manager’s change to an operator-owned field is set back; no test makes the operator’s own write meet a 409 (stale resourceVersion or an unforced apply conflict) — only the mapping of 409 to a backoff retry (operator/src/errors.ts) and the apiserver’s 409 in test/cluster/server-side-apply.test.ts',
  },
  {
    fault: 'the leader SIGKILLed (two operator processes with --leader-elect)',
    test: {
      file: 'operator/test/leader-election.test.ts',
      title: 'let only the leader reconcile, and the standby takes over after the leader is killed',
    },
    coverage: 'covered',
    proves:
      'only the leader reconciles; after SIGKILL the standby takes the Lease (15 s lease) and reconciles a new Neuron; the takeover time is printed',
  },
  {
    fault: 'the leader stopped with SIGTERM',
    test: { file: 'operator/test/leader-election.test.ts', title: 'hands the Lease back on SIGTERM' },
    coverage: 'covered',
    proves: 'exit 0 and the Lease released at once (holder empty)',
  },
  {
    fault: 'Prometheus down (parallelism tuning reads it)',
    test: {
      file: 'operator/test/tuning.test.ts',
      title: 'holds the value and says why when Prometheus is gone',
    },
    coverage: 'covered',
    proves:
      'ParallelismTuned=False MetricsUnavailable; the last value holds on the Neuron and on the running pods; the Ready condition untouched',
  },
  {
    fault: 'no runtime pod answers its load report (the autoscaler’s default source)',
    test: {
      file: 'operator/test/autoscaling.test.ts',
      title: 'holds replicas and parallelism while no pod answers, and says why',
    },
    coverage: 'covered',
    proves: 'replicas and parallelism hold and a condition says why',
  },
];

/** Runs a command with inherited stdin/stderr; stdout is copied through and returned. */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      process.stdout.write(d);
    });
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

/** `it.fails` tests in the fault suite, with the comment above each as its description. */
function knownDefects(): KnownDefect[] {
  const out: KnownDefect[] = [];
  for (const name of readdirSync(join(ROOT, FAULTS))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()) {
    const file = `${FAULTS}/${name}`;
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /\bit\.fails\(\s*'([^']+)'/.exec(line);
      if (!m) return;
      const comment: string[] = [];
      for (let j = i - 1; j >= 0 && lines[j]!.trim().startsWith('//'); j--)
        comment.unshift(lines[j]!.trim().replace(/^\/\/\s?/, ''));
      out.push({ file, title: m[1]!, description: comment.join(' ') });
    });
  }
  return out;
}

interface JsonReport {
  testResults: { name: string; assertionResults: { title: string; status: string; duration?: number }[] }[];
}

async function runOperator(tmp: string): Promise<OperatorCase[]> {
  const files = [...new Set(OPERATOR.flatMap((c) => (c.test ? [c.test.file] : [])))];
  const json = join(tmp, 'operator.json');
  // Whole files: several of these tests build on the ones before them in the same file.
  const { stdout } = await run(
    VITEST,
    [
      'run',
      '--project',
      'operator-integration',
      ...files,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${json}`,
    ],
    process.env,
  );
  const report = existsSync(json)
    ? (JSON.parse(readFileSync(json, 'utf8')) as JsonReport)
    : { testResults: [] };
  const takeover = /standby took over (\d+) ms/.exec(stdout)?.[1];
  return OPERATOR.map((c) => {
    if (!c.test) return c;
    const t = c.test;
    const result = report.testResults
      .filter((f) => f.name.endsWith(t.file))
      .flatMap((f) => f.assertionResults)
      .find((a) => a.title === t.title);
    const measured =
      t.file.endsWith('leader-election.test.ts') && takeover && c.fault.includes('SIGKILL')
        ? `standby led ${takeover} ms after the kill`
        : undefined;
    return {
      ...c,
      result: {
        status: result?.status ?? 'not run',
        durationMs: result?.duration ?? 0,
        ...(measured ? { measured } : {}),
      },
    };
  });
}

async function main(): Promise<void> {
  const withOperator = process.argv.includes('--operator');
  // The matrix must not link tests that were renamed or removed.
  for (const c of OPERATOR) {
    if (c.test && !readFileSync(join(ROOT, c.test.file), 'utf8').includes(c.test.title))
      throw new Error(`${c.test.file} has no test "${c.test.title}": update scripts/reliability-report.ts`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'hal9-reliability-'));
  try {
    const report = join(tmp, 'faults.jsonl');
    const machine = `${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} at the start`;
    const t0 = performance.now();
    const { code } = await run(VITEST, ['run', '--project', 'runtime', FAULTS], {
      ...process.env,
      HAL9_FAULT_REPORT: report,
    });
    const suiteMs = performance.now() - t0;
    if (code !== 0) throw new Error(`the fault suite failed (exit ${code}); RELIABILITY.md not written`);
    const records = readFileSync(report, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ScenarioRecord);
    const ids = records.map((r) => r.id);
    if (records.length === 0 || new Set(ids).size !== ids.length)
      throw new Error(
        `the fault suite recorded ${ids.length} scenarios (${ids.join(', ')}): expected distinct ones`,
      );
    const operator = withOperator ? await runOperator(tmp) : OPERATOR;
    const md = renderReliability({
      records,
      date: new Date().toISOString().slice(0, 10),
      machine,
      suiteMs,
      defects: knownDefects(),
      operator,
      operatorRun: withOperator,
    });
    writeFileSync(OUT, md);
    process.stdout.write(`wrote ${OUT} (${records.length} scenarios)\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`reliability-report: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
