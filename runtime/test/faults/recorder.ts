import { appendFileSync } from 'node:fs';
import type { BreakerState, RuntimeCounts } from './prom-text.ts';

// One JSON line per scenario, appended to the file named by HAL9_FAULT_REPORT (scripts/reliability-report.ts
// sets it and renders RELIABILITY.md from the lines). Without it nothing is written: the suite then runs
// as ordinary tests.

export interface ScenarioRecord {
  /** Stable key, also the order of the matrix (e.g. "01-upstream-500"). */
  readonly id: string;
  readonly fault: string;
  readonly expected: string;
  /** The test file that produced it (relative to the repository root). */
  readonly test: string;
  readonly submitted: number;
  readonly completed: number;
  readonly failed: number;
  readonly timed_out: number;
  readonly rejected: number;
  /** First error code of each request that did not complete → count. */
  readonly codes: Readonly<Record<string, number>>;
  /** hal9_requests_total per process still alive at the end (label → counts); matches the client's. */
  readonly runtimeCounts: Readonly<Record<string, RuntimeCounts>>;
  /** Distinct breaker states seen, in order, per upstream. */
  readonly breakerStates: Readonly<Record<string, readonly BreakerState[]>>;
  /** /healthz answered 200 on every surviving process after the fault; null when none was meant to survive. */
  readonly healthyAfter: boolean | null;
  /** From the fault's end to the first normal request that completed (ms); null when not applicable. */
  readonly recoveryMs: number | null;
  /** Peak resident set (VmHWM, MiB) of the process under test, where measured. */
  readonly peakRssMiB?: number;
  /** Latency of completed requests (ms), where it matters. */
  readonly latencyMs?: {
    readonly p50: number;
    readonly p99: number;
    /** The p99 the SLO allows, and what it covers. */
    readonly sloP99Ms: number;
    readonly slo: string;
  };
  /** Anything the numbers alone do not say. */
  readonly notes?: string;
}

export function recordScenario(rec: ScenarioRecord, file: string | undefined): void {
  if (!file) return;
  appendFileSync(file, `${JSON.stringify(rec)}\n`);
}

/** The report file from the environment (the test shell is this suite's composition root). */
export const reportFile = (): string | undefined => process.env.HAL9_FAULT_REPORT || undefined;
