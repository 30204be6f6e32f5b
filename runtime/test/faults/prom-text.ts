// Reads the few series the fault matrix needs from a runtime's /metrics text (Prometheus exposition).

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export type RuntimeCounts = Record<'completed' | 'failed' | 'timed_out' | 'rejected', number>;

/** hal9_requests_total by outcome (0 for outcomes not yet seen). */
export function requestCounts(samples: readonly Sample[]): RuntimeCounts {
  const counts: RuntimeCounts = { completed: 0, failed: 0, timed_out: 0, rejected: 0 };
  for (const s of samples) {
    if (s.name !== 'hal9_requests_total') continue;
    const o = s.labels.outcome as keyof RuntimeCounts;
    if (o in counts) counts[o] += s.value;
  }
  return counts;
}

export type BreakerState = 'closed' | 'half-open' | 'open';
const STATES: Record<number, BreakerState> = { 0: 'closed', 1: 'half-open', 2: 'open' };

/** hal9_circuit_breaker_state per upstream. */
export function breakerStates(samples: readonly Sample[]): Record<string, BreakerState> {
  const out: Record<string, BreakerState> = {};
  for (const s of samples) {
    if (s.name === 'hal9_circuit_breaker_state' && s.labels.upstream && STATES[s.value])
      out[s.labels.upstream] = STATES[s.value]!;
  }
  return out;
}

/** The sum of a series' samples whose labels include `labels`. */
export function sumOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}
