import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import {
  type BreakerState,
  breakerStates,
  parseSamples,
  type RuntimeCounts,
  requestCounts,
  type Sample,
} from './prom-text.ts';
import { recordScenario, reportFile, type ScenarioRecord } from './recorder.ts';
import {
  type Answer,
  accounted,
  addAnswer,
  emptyTally,
  type Outcome,
  percentile,
  type Tally,
  transitions,
} from './tally.ts';

// The imperative shell of a fault scenario: sends signals to real runtime processes over loopback,
// tallies every answer per process, watches breaker states on /metrics, and at the end checks that the
// client's counts add up and equal each live process's hal9_requests_total, then records the row.

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function post(url: string, path: string, body: unknown): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return {
      status: res.status,
      body: parsed,
      retryAfter: res.headers.get('retry-after'),
      ms: performance.now() - t0,
    };
  } catch {
    return { status: 0, body: undefined, retryAfter: null, ms: performance.now() - t0 };
  }
}

export async function scrape(url: string): Promise<Sample[] | undefined> {
  try {
    const res = await fetch(`${url}/metrics`);
    return res.ok ? parseSamples(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

export async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

/** Peak resident set size (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface Target {
  readonly label: string;
  readonly url: string;
}

/**
 * The breaker left `closed` during the fault. Scraped once more first: a burst that fails fast (connection
 * refused) can end before the poller's next look; by then it may even be half-open (open for 1 s).
 */
export async function expectOpened(sc: Scenario, label: string, upstream: string): Promise<void> {
  await sc.observe(label);
  const key = Object.keys(sc.breakers()).find((k) => k === upstream || k === `${label} ${upstream}`);
  const seen = sc.breakers()[key ?? upstream] ?? [];
  expect(seen[0]).toBe('closed');
  expect(['open', 'half-open']).toContain(seen[1]);
}

/** One scenario: its processes, the client's tally per process, and the breaker states polled from each. */
export class Scenario {
  readonly #tallies = new Map<string, Tally>();
  readonly #targets: Target[];
  // Scrapes overlap (poller and observe), so each state carries the time its scrape started.
  readonly #seen = new Map<string, { at: number; state: BreakerState }[]>();
  #watching: Promise<void> | undefined;
  #stop = false;

  constructor(targets: Target[]) {
    this.#targets = targets;
    for (const t of targets) this.#tallies.set(t.label, emptyTally());
  }

  /** Sends one signal to a process and tallies its answer. */
  async send(label: string, body: unknown, query = ''): Promise<{ outcome: Outcome; answer: Answer }> {
    const answer = await post(this.#url(label), `/v1/signals${query}`, body);
    return { outcome: addAnswer(this.#tallies.get(label)!, answer), answer };
  }

  /** `count` signals at once (the runtime's own limits decide how many run at the same time). */
  burst(label: string, count: number, body: (i: number) => unknown, query = '') {
    return Promise.all(Array.from({ length: count }, (_, i) => this.send(label, body(i), query)));
  }

  /** Polls /metrics of every process for breaker states until `stopWatching`. */
  watchBreakers(intervalMs = 25): void {
    const poll = async () => {
      while (!this.#stop) {
        await Promise.all(
          this.#targets.map(async (t) => {
            const at = performance.now();
            const samples = await scrape(t.url);
            if (samples) this.#note(t.label, samples, at);
          }),
        );
        await sleep(intervalMs);
      }
    };
    this.#watching = poll();
  }

  async stopWatching(): Promise<void> {
    this.#stop = true;
    await this.#watching;
  }

  /**
   * Probes with a normal request until one completes (and `done` holds for its answer); the time from
   * now to that answer.
   */
  async recover(
    label: string,
    body: (i: number) => unknown,
    o: { done?: (a: Answer) => boolean; timeoutMs?: number } = {},
  ): Promise<number> {
    const t0 = performance.now();
    const timeoutMs = o.timeoutMs ?? 20_000;
    for (let i = 0; ; i++) {
      const { outcome, answer } = await this.send(label, body(i));
      if (outcome === 'completed' && (o.done?.(answer) ?? true)) return Math.round(performance.now() - t0);
      if (performance.now() - t0 > timeoutMs) throw new Error(`${label} did not recover in ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Scrapes one process once and notes its breaker states (to catch a short-lived state for sure). */
  async observe(label: string): Promise<Record<string, BreakerState>> {
    const at = performance.now();
    const samples = await scrape(this.#url(label));
    if (!samples) return {};
    this.#note(label, samples, at);
    return breakerStates(samples);
  }

  tally(label?: string): Tally {
    if (label) return this.#tallies.get(label)!;
    const all = emptyTally();
    for (const t of this.#tallies.values()) {
      for (const k of ['submitted', 'completed', 'failed', 'timed_out', 'rejected', 'lost', 'other'] as const)
        all[k] += t[k];
      for (const [c, n] of Object.entries(t.codes)) all.codes[c] = (all.codes[c] ?? 0) + n;
      all.missingRetryAfter += t.missingRetryAfter;
      all.completedMs.push(...t.completedMs);
    }
    return all;
  }

  /** Distinct breaker states per upstream ("label upstream" when the scenario has several processes). */
  breakers(): Record<string, BreakerState[]> {
    const out: Record<string, BreakerState[]> = {};
    for (const [k, v] of this.#seen)
      out[k] = transitions([...v].sort((a, b) => a.at - b.at).map((x) => x.state));
    return out;
  }

  /**
   * Checks the counts and records the row: every request is exactly one outcome (none lost, none
   * unexplained, every 429/503 with Retry-After), and each live process counted what its clients saw.
   */
  async finish(
    row: Omit<ScenarioRecord, keyof Tally | 'runtimeCounts' | 'breakerStates' | 'healthyAfter' | 'codes'>,
    o: { alive: string[]; latency?: { sloP99Ms: number; slo: string } },
  ): Promise<ScenarioRecord> {
    await this.stopWatching();
    const all = this.tally();
    expect(all.lost, 'requests without an answer').toBe(0);
    expect(all.other, `answers outside the catalogue: ${JSON.stringify(all.codes)}`).toBe(0);
    expect(all.missingRetryAfter, '429/503 answers without Retry-After').toBe(0);
    expect(accounted(all)).toBe(all.submitted);

    const runtimeCounts: Record<string, RuntimeCounts> = {};
    let healthyAfter: boolean | null = o.alive.length > 0 ? true : null;
    for (const label of o.alive) {
      const url = this.#url(label);
      healthyAfter = (await healthy(url)) && healthyAfter;
      const at = performance.now();
      const samples = await scrape(url);
      expect(samples, `${label} /metrics`).toBeDefined();
      this.#note(label, samples!, at);
      const counts = requestCounts(samples!);
      const t = this.tally(label);
      // DRAINING refusals are not requests the runtime counts; no scenario with a live process has them.
      expect(counts, `${label}: hal9_requests_total vs the client's tally`).toEqual({
        completed: t.completed,
        failed: t.failed,
        timed_out: t.timed_out,
        rejected: t.rejected,
      });
      runtimeCounts[label] = counts;
    }
    if (healthyAfter !== null)
      expect(healthyAfter, 'every surviving process answers /healthz 200').toBe(true);

    const p50 = percentile(all.completedMs, 50);
    const p99 = percentile(all.completedMs, 99);
    const rec: ScenarioRecord = {
      ...row,
      submitted: all.submitted,
      completed: all.completed,
      failed: all.failed,
      timed_out: all.timed_out,
      rejected: all.rejected,
      codes: all.codes,
      runtimeCounts,
      breakerStates: this.breakers(),
      healthyAfter,
      ...(o.latency && p50 !== undefined && p99 !== undefined
        ? { latencyMs: { p50: Math.round(p50), p99: Math.round(p99), ...o.latency } }
        : {}),
    };
    recordScenario(rec, reportFile());
    return rec;
  }

  #url(label: string): string {
    const t = this.#targets.find((x) => x.label === label);
    if (!t) throw new Error(`no process ${label}`);
    return t.url;
  }

  #note(label: string, samples: Sample[], at: number): void {
    for (const [upstream, state] of Object.entries(breakerStates(samples))) {
      const key = this.#targets.length > 1 ? `${label} ${upstream}` : upstream;
      const list = this.#seen.get(key) ?? [];
      list.push({ at, state });
      this.#seen.set(key, list);
    }
  }
}
