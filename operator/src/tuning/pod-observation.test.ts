import { describe, expect, it } from 'vitest';
import { aPodProcess, withShed } from '../testing/load-reports.ts';
import type { LoadReport } from './load-report.ts';
import { appendReport, windowStats } from './load-windows.ts';
import { podObservation } from './pod-observation.ts';
import type { PodView } from './pod-view.ts';

// The service time the tuner weighs against the SLO is Little's law over the signals that held a
// slot: busy slots ÷ signals served. Signals shed past their latency objective finish without one.

const windows = { panicMs: 6000, stableMs: 60_000 };

/** A view of one pod over its reports: 6 s panic and 60 s stable windows. */
function view(reports: readonly LoadReport[]): PodView {
  const h = reports.reduce<LoadReport[]>((acc, r) => appendReport(acc, r, 60_000), []);
  const o = { now: h.at(-1)!.at, staleMs: 3000 };
  return {
    ready: 1,
    reporting: 1,
    silent: 0,
    refused: 0,
    errors: [],
    stable: windowStats([h], 'impl-1', { ...o, windowMs: 60_000 }),
    panic: windowStats([h], 'impl-1', { ...o, windowMs: 6000 }),
    latest: undefined,
    limits: new Map(),
  };
}

describe('podObservation', () => {
  // 8 slots busy all along, 40 signals finishing per second.
  const reports = aPodProcess('impl-1').run([{ seconds: 66, active: 8, queued: 4, rate: 40, latency: 0.2 }]);

  it('takes the service time from the signals that held a slot: half shed, twice the time', () => {
    const o = podObservation(view(withShed(reports, 0.5)), undefined, 1, windows)!;
    // 8 busy slots ÷ 20 served per second = 400 ms a slot, not 8 ÷ 40 = 200 ms.
    expect(o.serviceMs).toBeCloseTo(400, 6);
  });

  it('takes it from every finished signal for a runtime that does not report served', () => {
    expect(reports.at(-1)!.served).toBeUndefined();
    const o = podObservation(view(reports), undefined, 1, windows)!;
    expect(o.serviceMs).toBeCloseTo(200, 6);
  });

  it('has no service time when no signal that held a slot finished', () => {
    const o = podObservation(view(withShed(reports, 1)), undefined, 1, windows)!;
    expect(o.serviceMs).toBeUndefined();
    expect(o.throughput).toBeCloseTo(40, 6);
  });

  it('says how far back its latency reaches: the panic window when it finished 20 signals, else the stable one', () => {
    expect(podObservation(view(reports), undefined, 1, windows)!.latencyWindowMs).toBe(6000);
    // 2 signals a second: 12 in the panic window, too few for a p95 of its own.
    const quiet = aPodProcess('impl-1').run([{ seconds: 66, active: 1, rate: 2, latency: 0.5 }]);
    expect(podObservation(view(quiet), undefined, 1, windows)!.latencyWindowMs).toBe(60_000);
  });
});
