import type { RefusedDelivery } from './neuron-memory.ts';

/**
 * Pure: which Ready pods have not taken `value`, for the parallelism condition; undefined when
 * none refused. Names the first pod by name, so the message (and the status) does not change with
 * the order the PUTs completed in.
 */
export function undelivered(
  refused: ReadonlyMap<string, Pick<RefusedDelivery, 'pod' | 'error'>>,
  value: number,
): string | undefined {
  if (refused.size === 0) return undefined;
  const [first] = [...refused.values()].sort((a, b) => a.pod.localeCompare(b.pod));
  const n = refused.size;
  return `${n} pod${n === 1 ? '' : 's'} did not take max_concurrent_signals ${value} (${first!.pod}: ${first!.error})`;
}
