import type { NeuronConfig } from '../config/types.ts';
import type { CallAttempts, ErrorInfo } from '../errors.ts';
import type { ModelAnswer } from './model-call.ts';
import type { Signal, TraceEntry } from './signal.ts';

/** What the caller's trace says about one signal at one neuron. Pure. */
export function traceEntry(
  signal: Signal,
  neuron: NeuronConfig,
  cached: boolean,
  durationMs: number,
  forwardedTo: string[],
  dropped: string[],
  error?: ErrorInfo,
  call?: ModelAnswer,
  backward?: TraceEntry['backward'],
): TraceEntry {
  // Which model answered, what it cost and how it got there; only for real model calls (the mock has
  // no usage), and a cache hit names the model but was free.
  const model = call?.usage
    ? call.responseModel && call.responseModel !== call.model
      ? { model: call.model, responseModel: call.responseModel }
      : { model: call.model }
    : {};
  const paid =
    call?.usage && !cached
      ? {
          usage: call.usage,
          ...(call.costUsd !== undefined ? { costUsd: call.costUsd } : {}),
          ...attemptFields(call),
        }
      : {};
  return {
    signal: signal.id,
    parent: signal.parentId,
    neuron: neuron.id,
    layer: neuron.layer,
    hop: signal.hop,
    cached,
    durationMs: Math.round(durationMs * 1000) / 1000,
    forwardedTo,
    dropped,
    ...model,
    ...paid,
    ...(backward ? { backward } : {}),
    ...(error ? { error } : {}),
  };
}

/**
 * A model call's trace fields of what it tried: the model that answered (or, failed, the one it tried
 * last), its retries and the models before it.
 */
export const attemptFields = (a: CallAttempts): Partial<TraceEntry> => ({
  model: a.model,
  ...(a.retries > 0 ? { retries: a.retries } : {}),
  ...(a.fellBackFrom.length > 0 ? { fellBackFrom: a.fellBackFrom } : {}),
});
