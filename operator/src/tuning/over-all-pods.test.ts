import { describe, expect, it } from 'vitest';
import { aPodProcess, withShed } from '../testing/load-reports.ts';
import type { LoadReport } from './load-report.ts';
import { appendReport, windowStats } from './load-windows.ts';
import { demandOverAllPods } from './over-all-pods.ts';

const stats = (reports: readonly LoadReport[]) => {
  const h = reports.reduce<LoadReport[]>((acc, r) => appendReport(acc, r, 60_000), []);
  return windowStats([h], 'impl-1', { now: h.at(-1)!.at, staleMs: 3000, windowMs: 60_000 });
};

describe('demandOverAllPods', () => {
  // 8 slots busy all along, 40 signals arriving and finishing per second.
  const reports = aPodProcess('impl-1').run([{ seconds: 66, active: 8, queued: 4, rate: 40, latency: 0.2 }]);

  it('is arrivals × the slot time of the signals that held one', () => {
    // Every signal served: 40/s × (8 ÷ 40/s) = 8 in flight.
    expect(demandOverAllPods(stats(withShed(reports, 0)), 0)).toBeCloseTo(8, 6);
  });

  it('does not shrink when half the signals are shed before their turn', () => {
    // 20 served per second kept the 8 slots busy: 400 ms a slot, and the 40 arriving need 16.
    expect(demandOverAllPods(stats(withShed(reports, 0.5)), 0)).toBeCloseTo(16, 6);
  });

  it('counts Ready pods that fell silent with the others’ share', () => {
    expect(demandOverAllPods(stats(withShed(reports, 0)), 1)).toBeCloseTo(16, 6);
  });

  it('is unknown when no signal that held a slot finished', () => {
    expect(demandOverAllPods(stats(withShed(reports, 1)), 0)).toBeUndefined();
  });
});
