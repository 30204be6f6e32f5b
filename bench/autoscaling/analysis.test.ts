import { describe, expect, it } from 'vitest';
import {
  ceiling,
  clientFigures,
  type Decision,
  deliveries,
  downstreamFigures,
  oscillation,
  type RequestResult,
  type Sample,
  stepFigures,
} from './analysis.ts';
import { decisionOf } from './operator-process.ts';
import { deliveryRows, type ProfileRun, ratioCell } from './report.ts';
import { graphProfile, manifests, singleNeuronProfile } from './scenarios.ts';

const result = (t: number, latencyMs: number, code = 200): RequestResult => ({ t, code, latencyMs });
const decision = (
  t: number,
  kind: Decision['kind'],
  from: number,
  to: number,
  neuron = 'impl',
): Decision => ({
  t,
  neuron,
  kind,
  from,
  to,
  reason: 'Test',
});
const sample = (
  t: number,
  ready: number,
  limits: number[],
  queued: number[] = [],
  neuron = 'impl',
): Sample => ({
  t,
  neuron,
  ready,
  limits,
  queued,
});

describe('client figures', () => {
  it('counts as good only 2xx answers within the SLO, by send time in the window', () => {
    const rs = [
      result(500, 100),
      result(1500, 900),
      result(1600, 100, 429),
      result(2500, 100),
      result(3000, 10),
    ];
    const c = clientFigures(rs, 1, 3, 250);
    expect(c.goodput).toBe(0.5); // one good answer (2.5 s) over 2 s; 3.0 s is outside
    expect(c.throughput).toBe(1);
    expect(c.errors).toBe(1);
    expect(c.offered).toBe(1.5);
  });
});

describe('step figures', () => {
  const phase = { name: 'up', from: 30, to: 140, stepAt: 30, reaction: 'up' as const };
  it('takes the first decision in the step’s direction and the last change as the settle time', () => {
    const ds = [
      decision(20_000, 'replicas', 1, 2), // before the step
      decision(33_000, 'parallelism', 8, 6), // a cut is not the reaction to a step up
      decision(36_000, 'replicas', 2, 3),
      decision(70_000, 'parallelism', 6, 12),
    ];
    const f = stepFigures(ds, phase);
    expect(f.firstReactionS).toBe(6);
    expect(f.settleS).toBe(40);
    expect(f.settledInWindow).toBe(true);
    expect(f.changes).toBe(3);
  });
  it('cannot call a phase settled when values change in its last 10 s', () => {
    expect(stepFigures([decision(135_000, 'replicas', 2, 3)], phase).settledInWindow).toBe(false);
  });
  it('counts changes of value per kind in a steady window', () => {
    const o = oscillation(
      [decision(91_000, 'parallelism', 8, 10), decision(95_000, 'replicas', 2, 3)],
      90,
      140,
    );
    expect([o.parallelism, o.replicas]).toEqual([1, 1]);
  });
});

describe('deliveries', () => {
  it('waits for every ready pod at the new limit, and for that many ready pods', () => {
    const ds = [decision(1000, 'parallelism', 8, 12), decision(1000, 'replicas', 1, 2)];
    const ss = [
      sample(1100, 1, [8]),
      sample(1400, 1, [12]), // the limit on the one pod
      sample(2000, 2, [12]), // the second pod ready, its report not read yet
      sample(4200, 2, [12, 12]),
    ];
    const [p, r] = deliveries(ds, ss);
    expect(p?.delayMs).toBe(400);
    expect(r?.delayMs).toBe(1000);
  });
  it('gives a decision superseded before it showed no delay', () => {
    const ds = [decision(1000, 'parallelism', 8, 12), decision(1500, 'parallelism', 12, 16)];
    const [a, b] = deliveries(ds, [sample(2000, 1, [16])]);
    expect(a?.delayMs).toBeUndefined();
    expect(b?.delayMs).toBe(500);
  });
});

describe('downstream figures', () => {
  const phase = { name: 'g', from: 30, to: 100, stepAt: 30, downstream: ['design'] };
  it('compares the first raise and when it ran with the first queue over a batch', () => {
    const ds = [decision(31_000, 'replicas', 1, 2, 'design')];
    const ss = [
      sample(30_500, 1, [8], [2], 'design'),
      sample(33_000, 2, [8, 8], [4, 0], 'design'),
      sample(40_000, 2, [8, 8], [11, 3], 'design'),
    ];
    const f = downstreamFigures('design', phase, ds, ss, 10);
    expect(f.raisedS).toBe(1);
    expect(f.runningS).toBe(3);
    expect(f.queueOverBatchS).toBe(10);
    expect(f.maxQueue).toBe(11);
    expect(f.capacityFirst).toBe(true);
  });
  it('judges by when the raise ran, not when it was decided', () => {
    // Decided at 1 s, but the second pod ready only at 8 s; the queue passed a batch at 5 s.
    const ds = [decision(31_000, 'replicas', 1, 2, 'design')];
    const ss = [
      sample(30_500, 1, [8], [2], 'design'),
      sample(35_000, 1, [8], [12], 'design'),
      sample(38_000, 2, [8, 8], [6, 0], 'design'),
    ];
    const f = downstreamFigures('design', phase, ds, ss, 10);
    expect(f.raisedS).toBe(1);
    expect(f.runningS).toBe(8);
    expect(f.queueOverBatchS).toBe(5);
    expect(f.capacityFirst).toBe(false);
    // A queue that never passed a batch is met, raised or not.
    expect(downstreamFigures('design', phase, [], ss.slice(0, 1), 10).capacityFirst).toBe(true);
  });
});

describe('the operator’s log', () => {
  it('reads decisions with their time, and ignores other lines', () => {
    const line = JSON.stringify({
      level: 30,
      time: 1234,
      neuron: 'ns-a/impl',
      from: 1,
      to: 3,
      reason: 'Panic',
      msg: 'Scaled Neuron',
    });
    expect(decisionOf(line)).toEqual({
      time: 1234,
      namespace: 'ns-a',
      neuron: 'impl',
      kind: 'replicas',
      from: 1,
      to: 3,
      reason: 'Panic',
    });
    expect(decisionOf('{"msg":"Created ConfigMap"}')).toBeUndefined();
  });
});

describe('scenarios', () => {
  it('differ between the configurations only in autoscaling and the static replica count', () => {
    const p = graphProfile();
    const [a, b] = [
      manifests(p, 'static', 'http://127.0.0.1:1'),
      manifests(p, 'operator', 'http://127.0.0.1:1'),
    ];
    const strip = (ms: typeof a) =>
      JSON.stringify(
        ms.map((m) => {
          const spec = { ...(m.spec as Record<string, unknown>) };
          delete spec.autoscaling;
          delete spec.replicas;
          return { ...m, spec };
        }),
      );
    expect(strip(a)).toBe(strip(b));
    const neurons = b.filter((m) => m.kind === 'Neuron');
    expect(neurons.map((n) => (n.spec as { forwardConnections: string[] }).forwardConnections)).toEqual([
      ['design'],
      ['impl'],
      [],
    ]);
  });
  it('scale every time of a profile together', () => {
    const p = singleNeuronProfile(0.5);
    expect(p.segments.at(-1)?.to).toBe(140);
    expect(p.phases.every((ph) => ph.from < ph.to)).toBe(true);
  });
});

describe('the ceiling and the ratio', () => {
  it('caps the storm at the admitted rate, the rest of a phase at the offered rate', () => {
    const single = singleNeuronProfile();
    const storm = single.phases.find((p) => p.name.startsWith('429'))!;
    // 30 s at the 8/s admitted; over a window past its end, the 15/s offered after it.
    expect(ceiling(single, storm.from, storm.to)).toBeCloseTo(8, 6);
    expect(ceiling(single, 200, 250)).toBeCloseTo((30 * 8 + 20 * 15) / 50, 6);
    const steady = single.phases.find((p) => p.steady)!;
    expect(ceiling(single, steady.from, steady.to)).toBeCloseTo(50, 6);
    // Three calls per request through the graph, none limited.
    const g = graphProfile();
    expect(ceiling(g, 30, 100)).toBeCloseTo(20, 6);
    expect(ceiling({ ...g, upstream: [{ at: 0, maxRps: 30 }] }, 30, 100)).toBeCloseTo(10, 6);
  });

  it('prints static 0 instead of a huge ratio, and says when the ceiling makes 1.5× unreachable', () => {
    expect(ratioCell(0, 48.1, 50)).toBe('static 0 ✓');
    expect(ratioCell(0, 0, 50)).toBe('both 0 ✗');
    expect(ratioCell(0.4, 48.1, 50)).toBe('120.25× ✓');
    expect(ratioCell(7.5, 7.6, 10.8)).toBe('1.01× ✗ (1.5× unreachable: the ceiling is 1.44× static)');
    expect(ratioCell(5.8, 9.0, 10.8)).toBe('1.55× ✓');
  });
});

describe('the start of new pods', () => {
  it('splits a pod start into preparing and the process start, counting a start that never answered', () => {
    const run: ProfileRun = {
      profile: singleNeuronProfile(),
      runs: {
        static: { results: [], decisions: [], samples: [] },
        operator: {
          results: [],
          decisions: [decision(1000, 'replicas', 1, 2)],
          samples: [sample(0, 1, [8]), sample(3500, 2, [8, 8])].map((x) => ({ ...x, cpuMs: 0 })),
          starts: [
            { pod: 'a', seenMs: 2000, spawnedMs: 2100, readyMs: 2900 },
            { pod: 'b', seenMs: 4000, spawnedMs: 4300, readyMs: 5500 },
            { pod: 'c', seenMs: 6000, spawnedMs: 6200, readyMs: undefined },
          ],
        },
      },
    };
    const rows = deliveryRows([run]);
    expect(rows.find((r) => r[0] === 'that many pods running and ready')).toEqual([
      'that many pods running and ready',
      '1',
      '0',
      '2.5',
      '2.5',
      '✓',
    ]);
    expect(rows.find((r) => r[0]?.includes('seen Running'))?.slice(1)).toEqual(['3', '', '0.2', '0.3', '']);
    expect(rows.find((r) => r[0]?.includes('Node start'))?.slice(1)).toEqual(['3', '1', '0.8', '1.2', '']);
  });
});
