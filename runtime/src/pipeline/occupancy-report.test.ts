import { describe, expect, it } from 'vitest';
import type { Completion, ModelBackend } from '../claude/backend.ts';
import { parseConfig } from '../config/parse.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { Engine } from './engine.ts';
import { silentObserver } from './observer.ts';

// The queue gauge and the load report (which the operator scales from) hear of occupancy only through
// the observer: a signal waiting in the batching buffer, behind busy slots, must reach it when it
// arrives, not when its batch is flushed (buffer_flush_ms later, up to a minute).

function engine(performance: Record<string, unknown>) {
  const clock = new ManualClock();
  const calls: ((c: Completion) => void)[] = [];
  const backend: ModelBackend = {
    upstream: 'claude-api',
    model: 'claude-test-1',
    complete: () => new Promise<Completion>((resolve) => calls.push(resolve)),
    close: async () => {},
  };
  const reports: { active: number; queued: number }[] = [];
  const e = new Engine({
    config: parseConfig({
      neurons: [{ id: 'impl', layer: 'L2' }],
      performance: { cache_layers: [], ...performance },
    }),
    backend,
    observer: { ...silentObserver(), executor: (active, queued) => reports.push({ active, queued }) },
    peers: { send: () => Promise.reject(new Error('no peers here')) },
    clock,
    random: () => 0,
    tracing: noTracing(),
  });
  return { e, clock, calls, reports };
}

describe('occupancy reports', () => {
  it('count a signal the buffer holds behind busy slots as soon as it arrives', () => {
    const { e, calls, reports } = engine({ max_concurrent_signals: 1, buffer_flush_ms: 60_000 });
    e.submit({ content: 'a' });
    expect(calls).toHaveLength(1);
    e.submit({ content: 'b' });
    e.submit({ content: 'c' });
    expect(e.occupancy).toMatchObject({ active: 1, queued: 2 });
    expect(reports.at(-1)).toEqual({ active: 1, queued: 2 });
  });
});
