import { describe, expect, it } from 'vitest';
import { Hal9Error } from '../errors.ts';
import { signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { RunRegistry } from './run-registry.ts';

/** The one signal of the runs here (a run is open while a signal of it is). */
const ONLY = signalTo('impl');

const run = (id: string, timeoutMs = 1000) => ({ id, traceId: 't', entry: 'impl', timeoutMs });

describe('RunRegistry', () => {
  it('forgets a run when it ends, then calls its onEnd', () => {
    const reg = new RunRegistry(new ManualClock());
    const ended: string[] = [];
    const r = reg.open({ ...run('a'), onEnd: (x) => ended.push(`${x.id}:${reg.size}`) });
    r.open(ONLY);
    expect(reg.size).toBe(1);
    r.close(ONLY, { results: [{ neuron: 'impl', layer: 'L2', content: 'ok' }] });
    expect(ended).toEqual(['a:0']);
    expect(r.status).toBe('completed');
  });

  it('tells which of some requests have a run here not yet ended', () => {
    const reg = new RunRegistry(new ManualClock());
    const a = reg.open(run('a'));
    a.open(ONLY);
    const sub = reg.open(run('b'));
    sub.open(ONLY);
    expect(reg.running(new Set(['a', 'b', 'c']))).toEqual(new Set(['a', 'b']));
    a.close(ONLY, { results: [] });
    expect(reg.running(new Set(['a', 'b']))).toEqual(new Set(['b']));
    expect(reg.running(new Set())).toEqual(new Set());
  });

  it('times a run out at its deadline on the injected clock', () => {
    const clock = new ManualClock();
    const reg = new RunRegistry(clock);
    const r = reg.open(run('a', 50));
    r.open(ONLY);
    clock.advance(49);
    expect(r.status).toBe('running');
    clock.advance(1);
    expect(r.status).toBe('timed_out');
    expect(reg.size).toBe(0);
  });

  it('settle() waits for runs that end and times out the ones still running at its limit', async () => {
    const clock = new ManualClock();
    const reg = new RunRegistry(clock);
    const quick = reg.open(run('quick', 60_000));
    const stuck = reg.open(run('stuck', 60_000));
    quick.open(ONLY);
    stuck.open(ONLY);
    const settled = reg.settle(100, new Hal9Error('DRAINING', 'shut down'));
    quick.close(ONLY, { results: [{ neuron: 'impl', layer: 'L2', content: 'ok' }] });
    clock.advance(100);
    expect(await settled).toBe(1);
    expect(quick.status).toBe('completed');
    expect(stuck.status).toBe('timed_out');
    expect(stuck.view().errors).toEqual([
      expect.objectContaining({ code: 'DRAINING', message: 'shut down' }),
    ]);
    expect(reg.size).toBe(0);
  });

  it('settle() waits, within the same limit, for runs opened while it waits', async () => {
    const clock = new ManualClock();
    const reg = new RunRegistry(clock);
    const first = reg.open(run('first', 60_000));
    first.open(ONLY);
    let cut: number | undefined;
    const settled = reg.settle(10_000, new Hal9Error('DRAINING', 'shut down')).then((n) => {
      cut = n;
    });
    // A peer's batch for a request that still runs here, taken during the drain.
    const late = reg.open(run('late', 60_000));
    late.open(ONLY);
    first.close(ONLY, { results: [] });
    clock.advance(4_000);
    await new Promise((r) => setImmediate(r));
    expect(cut).toBeUndefined();
    expect(late.status).toBe('running');
    late.close(ONLY, { results: [{ neuron: 'impl', layer: 'L2', content: 'ok' }] });
    await settled;
    expect(cut).toBe(0);
    expect(late.status).toBe('completed');
    // And one that opens late and outlives the limit is cut at the limit, not before.
    const last = reg.open(run('last', 60_000));
    last.open(ONLY);
    const again = reg.settle(1_000, new Hal9Error('DRAINING', 'shut down'));
    const later = reg.open(run('later', 60_000));
    later.open(ONLY);
    last.close(ONLY, { results: [] });
    clock.advance(1_000);
    expect(await again).toBe(1);
    expect(later.status).toBe('timed_out');
  });
});
