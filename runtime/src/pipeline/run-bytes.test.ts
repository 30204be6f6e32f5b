import { describe, expect, it } from 'vitest';
import type { ErrorInfo } from '../errors.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { RunRegistry } from './run-registry.ts';
import { RunStore, runBytes } from './run-store.ts';
import type { TraceEntry } from './signal.ts';
import { traceEntry } from './trace-entry.ts';

// The request store's size estimate is what keeps server.results_max_bytes true: it weighs every
// string a finished run holds, not a flat size per trace entry. A trace entry may come from a peer
// pod, whose answer to one batch may be 64 MiB.

const MiB = 1024 * 1024;
const empty = { results: [], trace: [], errors: [] };

const entry = (o: Partial<TraceEntry> = {}): TraceEntry => ({
  ...traceEntry(signalTo('impl'), neuronConfig('impl'), false, 1, [], []),
  ...o,
});
const error = (message: string): ErrorInfo => ({ code: 'PEER_ERROR', message, neuron: 'impl' });

describe('runBytes', () => {
  it('weighs the strings of a trace entry at two bytes a character, wherever they are', () => {
    const base = runBytes({ ...empty, trace: [entry()] });
    const big = 'x'.repeat(MiB);
    for (const e of [
      entry({ dropped: [big] }),
      entry({ forwardedTo: [big] }),
      entry({ backward: { targets: [big], errorType: 'e' } }),
      entry({ backward: { targets: [], errorType: big } }),
      entry({ error: error(big) }),
      entry({ errors: [error('e'), error(big)] }),
      entry({ model: big }),
      entry({ responseModel: big }),
      entry({ fellBackFrom: [big] }),
      entry({ neuron: big }),
    ]) {
      // (less the few characters `big` replaced)
      expect(runBytes({ ...empty, trace: [e] }) - base).toBeGreaterThan(2 * MiB - 64);
    }
  });

  it('weighs the message of each error, and a result’s neuron as well as its text', () => {
    const big = 'y'.repeat(MiB);
    expect(runBytes({ ...empty, errors: [error(big)] }) - runBytes(empty)).toBeGreaterThanOrEqual(2 * MiB);
    expect(
      runBytes({ ...empty, results: [{ neuron: big, layer: 'L2', content: 'ok' }] }) - runBytes(empty),
    ).toBeGreaterThanOrEqual(2 * MiB);
  });
});

describe('RunStore with runs whose trace is large', () => {
  it('keeps them within maxBytes: a peer’s entries of 1 MiB each count as such', () => {
    const clock = new ManualClock();
    const store = new RunStore({ maxEntries: 1000, maxBytes: 8 * MiB, ttlMs: 60_000 }, clock);
    const runs = new RunRegistry(clock);
    for (let i = 0; i < 10; i++) {
      const run = runs.open({
        id: `r${i}`,
        traceId: 't',
        entry: 'lead',
        timeoutMs: 1000,
        onEnd: (r) => store.finished(r.view()),
      });
      const signal = signalTo('lead');
      run.open(signal);
      store.add(run);
      // What a peer pod's answer carried: one trace entry naming a 1 MiB target (2 MiB as estimated).
      run.close(signal, { trace: [entry({ dropped: [`${i}`.padEnd(MiB, 'z')] })] }, 'peer');
    }
    const kept = Array.from({ length: 10 }, (_, i) => store.get(`r${i}`) !== undefined);
    // Three fit in 8 MiB; the newest are kept.
    expect(kept).toEqual([false, false, false, false, false, false, false, true, true, true]);
  });
});
