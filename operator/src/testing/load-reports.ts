import type { LoadReport } from '../tuning/load-report.ts';

// Builds recorded load-report sequences: a pod process whose load is described in steps (in flight,
// queued, arrivals/s, latency), integrated the way the runtime integrates it, read every `everyMs`.

export const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface LoadStep {
  /** Seconds this step lasts. */
  readonly seconds: number;
  readonly active: number;
  readonly queued?: number;
  readonly limit?: number;
  /** Arrivals (= completions) per second. */
  readonly rate?: number;
  /** Latency of each completion, seconds. */
  readonly latency?: number;
  readonly throttledPerSecond?: number;
  /** Signals forwarded per completion, per target. */
  readonly fanOut?: Readonly<Record<string, number>>;
}

export interface PodProcess {
  /** Advances the process by the steps, reading a report every `everyMs`; returns the reports. */
  run(steps: readonly LoadStep[], everyMs?: number): LoadReport[];
  readonly startedAt: number;
}

/** A runtime process started at `startedAt` (epoch ms) hosting `neuron`. */
export function aPodProcess(neuron: string, startedAt = 1_700_000_000_000): PodProcess {
  let at = startedAt;
  let busy = 0;
  let conc = 0;
  let arrived = 0;
  let throttled = 0;
  let sum = 0;
  const buckets = new Array<number>(BOUNDS.length + 1).fill(0);
  const forwarded: Record<string, number> = {};
  const exact: Record<string, number> = {};
  let carry = 0;
  return {
    startedAt,
    run(steps, everyMs = 1000) {
      const out: LoadReport[] = [];
      for (const s of steps) {
        const ticks = Math.round((s.seconds * 1000) / everyMs);
        for (let i = 0; i < ticks; i++) {
          const dt = everyMs / 1000;
          at += everyMs;
          busy += s.active * dt;
          conc += (s.active + (s.queued ?? 0)) * dt;
          carry += (s.rate ?? 0) * dt;
          const n = Math.floor(carry + 1e-9);
          carry -= n;
          arrived += n;
          throttled += (s.throttledPerSecond ?? 0) * dt;
          if (n > 0) {
            const lat = s.latency ?? 0.05;
            let b = 0;
            while (b < BOUNDS.length && lat > BOUNDS[b]!) b++;
            buckets[b]! += n;
            sum += lat * n;
            // Whole signals, as the runtime counts them: the windowed ratio wobbles like a real one.
            for (const [t, f] of Object.entries(s.fanOut ?? {})) {
              exact[t] = (exact[t] ?? 0) + n * f;
              forwarded[t] = Math.floor(exact[t] + 1e-9);
            }
          }
          const counts: number[] = [];
          let acc = 0;
          for (const c of buckets) {
            acc += c;
            counts.push(acc);
          }
          const latency = { bounds: BOUNDS, counts, sum };
          out.push({
            startedAt,
            at,
            limit: s.limit ?? 8,
            active: s.active,
            queued: s.queued ?? 0,
            busySeconds: busy,
            concurrencySeconds: conc,
            arrived,
            completed: arrived,
            throttled: Math.floor(throttled),
            latency,
            neurons: { [neuron]: { arrived, completed: arrived, latency, forwarded: { ...forwarded } } },
          });
        }
      }
      return out;
    },
  };
}

export type LiveLoad = Omit<LoadStep, 'seconds'>;

export interface LivePod {
  /** Changes the load from now on; a `limit` in it is a limit set by hand (it stays until changed). */
  set(load: LiveLoad): void;
  /** Takes an executor limit, as PUT /v1/admin/performance does. */
  put(limit: number): void;
  /** The report at `now` (epoch ms), integrating the load since the last one. */
  report(now: number): LoadReport;
}

/** A runtime process whose load the test sets, read at any time (for a loop on a fake clock). */
export function aLivePod(neuron: string, startedAt: number, load: LiveLoad = { active: 0 }): LivePod {
  let current = load;
  let limit = load.limit ?? 8;
  let last = startedAt;
  const proc = aPodProcess(neuron, startedAt);
  let latest: LoadReport | undefined;
  return {
    set(l) {
      current = l;
      if (l.limit !== undefined) limit = l.limit;
    },
    put(l) {
      limit = l;
    },
    report(now) {
      const ms = now - last;
      if (ms > 0) {
        const reports = proc.run([{ ...current, limit, seconds: ms / 1000 }], ms);
        latest = reports.at(-1) ?? latest;
        last = now;
      }
      if (!latest) latest = proc.run([{ ...current, limit, seconds: 0.001 }], 1).at(-1) ?? latest;
      return latest!;
    },
  };
}

/** The reports with `served` set: all but the `shed` share of the signals that finished held a slot. */
export const withShed = (reports: readonly LoadReport[], shed: number): LoadReport[] =>
  reports.map((r) => ({
    ...r,
    served: Math.round(r.completed * (1 - shed)),
    neurons: Object.fromEntries(
      Object.entries(r.neurons).map(([id, n]) => [
        id,
        { ...n, served: Math.round(n.completed * (1 - shed)) },
      ]),
    ),
  }));
