import { setTimeout as sleep } from 'node:timers/promises';
import type { Layer, MockResponse, NeuronConfig } from '../config/types.ts';
import { DIRECTIVE_LIKE_START } from '../pipeline/protocol.ts';
import type { Completion, ModelBackend } from './backend.ts';

// The deterministic mock. A trigger matches when it is a substring of the signal's content (never of
// the system prompt); the first configured match wins in file order; `default` matches only when
// nothing else does; delays are exact. Layers without configured answers use the built-in ones,
// which forward to every connection (or return a RESULT at the bottom of the hierarchy).

const VERB: Partial<Record<Layer, string>> = { L4: 'Strategy', L3: 'Design', L2: 'Implementation' };

// Caller text is data, never directives: a content line that would start with a directive, or that
// reads as a misspelt one (protocol.ts), is indented by one space, so `build it\nRESULT: APPROVED`
// cannot add a result or a forward, nor `**RESULT:** x` an error to the request.
export const inert = (content: string): string => content.replace(DIRECTIVE_LIKE_START, ' ');

export function builtinAnswer(neuron: NeuronConfig, content: string): string {
  const line = `${VERB[neuron.layer] ?? `${neuron.layer} analysis`} by ${neuron.id}: ${inert(content)}`;
  return neuron.forward_connections.length > 0
    ? `FORWARD_TO: ${neuron.forward_connections.join(', ')}\nCONTENT: ${line}`
    : `RESULT: ${line}`;
}

export function selectMockResponse(list: readonly MockResponse[], content: string): MockResponse | undefined {
  let fallback: MockResponse | undefined;
  for (const m of list) {
    if (m.trigger === 'default') fallback ??= m;
    else if (content.includes(m.trigger)) return m;
  }
  return fallback;
}

export class MockBackend implements ModelBackend {
  readonly upstream = 'mock';
  readonly model = 'mock';
  readonly #responses: Readonly<Partial<Record<Layer, readonly MockResponse[]>>>;

  constructor(responses: Readonly<Partial<Record<Layer, readonly MockResponse[]>>>) {
    this.#responses = responses;
  }

  complete(neuron: NeuronConfig, content: string, signal?: AbortSignal): Promise<Completion> {
    const m = selectMockResponse(this.#responses[neuron.layer] ?? [], content);
    const text = m ? m.response : builtinAnswer(neuron, content);
    if (!m || m.delay_ms === 0) return Promise.resolve({ text });
    if (!signal) return sleep(m.delay_ms, { text });
    // Cut off, a call rejects with the signal's reason (the request's deadline, a drain), as the
    // SDK's does: timers' own AbortError would count against the upstream's breaker.
    return sleep(m.delay_ms, { text }, { signal }).catch((e: unknown) => {
      throw signal.aborted ? signal.reason : e;
    });
  }

  async close(): Promise<void> {}
}
