import { randomUUID } from 'node:crypto';
import type { Hal9Error } from '../errors.ts';

// The forwarded batches this pod is running for senders that may cancel part of one: a batch carries
// signals of several requests, and when one of those requests ends at its sender (its caller gone,
// its deadline, a drain's cut), the sender names the batch and that request's signals, and
// only they stop here (POST /v1/internal/batches/:batch/cancel); the batch's other signals run on.
// A batch is here from its arrival until its answer is sent, so there are never more than the
// batches in flight; its id is random, so only the pod it was given by can name it.

/** Ends one forwarded signal's sub-run here with `cause`; false when it had ended already (a no-op). */
export type StopSignal = (cause: Hal9Error) => boolean;

export interface OpenBatch {
  readonly id: string;
  /** Registers a signal of the batch as it starts running (by its id). */
  add(signalId: string, stop: StopSignal): void;
  /** The batch's answer is sent: its signals can no longer be named. */
  close(): void;
}

export class PeerBatches {
  readonly #batches = new Map<string, Map<string, StopSignal>>();

  open(): OpenBatch {
    const id = randomUUID();
    const stops = new Map<string, StopSignal>();
    this.#batches.set(id, stops);
    return {
      id,
      add: (signalId, stop) => stops.set(signalId, stop),
      close: () => this.#batches.delete(id),
    };
  }

  /**
   * Stops the named signals of a batch; ids of no running batch or signal, or of a signal whose
   * sub-run has ended already, are ignored. Returns how many it stopped.
   */
  cancel(batch: string, signals: readonly string[], cause: Hal9Error): number {
    const stops = this.#batches.get(batch);
    if (!stops) return 0;
    let n = 0;
    for (const id of new Set(signals)) {
      const stop = stops.get(id);
      if (!stop) continue;
      stops.delete(id);
      if (stop(cause)) n++;
    }
    return n;
  }

  /** Batches running (tests). */
  get size(): number {
    return this.#batches.size;
  }
}
