import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { RunRegistry } from './run-registry.ts';
import { RunStore } from './run-store.ts';

function setup(maxEntries: number) {
  const store = new RunStore(maxEntries, 60_000);
  const runs = new RunRegistry(new ManualClock());
  const start = (id: string) => {
    const run = runs.open({
      id,
      traceId: 't',
      entry: 'impl',
      timeoutMs: 1000,
      onEnd: (r) => store.finished(r.view()),
    });
    run.open();
    store.add(run);
    return run;
  };
  const finish = (run: ReturnType<typeof start>) =>
    run.close({ results: [{ neuron: 'impl', layer: 'L2', content: 'ok' }] });
  return { store, start, finish };
}

describe('RunStore', () => {
  it('keeps a running request however many finish after it, and finds it when it ends', () => {
    const { store, start, finish } = setup(3);
    const slow = start('slow');
    for (let i = 0; i < 10; i++) finish(start(`quick-${i}`));
    expect(store.get('slow')?.status).toBe('running');
    finish(slow);
    expect(store.get('slow')?.status).toBe('completed');
  });

  it('keeps at most maxEntries finished requests, the most recent', () => {
    const { store, start, finish } = setup(3);
    for (let i = 0; i < 5; i++) finish(start(`r${i}`));
    expect(store.get('r0')).toBeUndefined();
    expect(store.get('r1')).toBeUndefined();
    expect(store.get('r4')?.status).toBe('completed');
  });
});
