import type { PerformanceConfig } from '../config/types.ts';
import { SignalBuffer } from './buffer.ts';
import type { Clock } from './clock.ts';
import { Executor } from './executor.ts';
import { LOCAL_BATCH_TARGET, type PipelineObserver } from './observer.ts';

// This pod's slots (performance.max_concurrent_signals) and what waits for them. A signal arrives in
// the buffer, which hands it over at once while a slot is free (buffer.ts); otherwise it waits there
// until a slot frees and the executor pulls it (executor.ts), or until buffer_flush_ms sends its batch
// to the executor's queue (bounded by max_queue_depth at admission). Each batch taken is observed. In
// both, a signal that continues a request already under way goes before the first signal of a new one.

export interface LocalSlotsDeps<T> {
  readonly performance: Pick<
    PerformanceConfig,
    'signal_buffer_size' | 'buffer_flush_ms' | 'max_concurrent_signals' | 'max_queue_depth'
  >;
  readonly clock: Clock;
  readonly observer: PipelineObserver;
  /** Runs an item in its slot. */
  readonly process: (item: T) => Promise<void>;
  /** Items whose turn came too late (their request ended, or they missed their objective) are skipped. */
  readonly isStale: (item: T) => boolean;
  /** Items that continue work already under way: they start before the others (two-class-queue.ts). */
  readonly urgent: (item: T) => boolean;
  /** The executor's active or queued count changed. */
  readonly onChange: () => void;
}

export interface LocalSlots<T> {
  readonly buffer: SignalBuffer<T>;
  readonly executor: Executor<T>;
}

export function createLocalSlots<T>(d: LocalSlotsDeps<T>): LocalSlots<T> {
  const { performance: p, observer } = d;
  const buffer: SignalBuffer<T> = new SignalBuffer<T>({
    size: p.signal_buffer_size,
    flushMs: p.buffer_flush_ms,
    clock: d.clock,
    capacity: () => executor.free,
    urgent: d.urgent,
    flush: (batch) => {
      observer.batch(LOCAL_BATCH_TARGET, batch.length);
      executor.submit(batch);
    },
  });
  const executor: Executor<T> = new Executor<T>({
    limit: p.max_concurrent_signals,
    maxQueue: p.max_queue_depth,
    process: d.process,
    isStale: d.isStale,
    urgent: d.urgent,
    pull: (free, urgentOnly) => {
      const batch = buffer.take(free, urgentOnly);
      if (batch.length > 0) observer.batch(LOCAL_BATCH_TARGET, batch.length);
      return batch;
    },
    onChange: d.onChange,
  });
  observer.executor(0, 0, p.max_concurrent_signals, 0);
  return { buffer, executor };
}
