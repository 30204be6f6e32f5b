import type { Agent } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { type ErrorCode, ErrorCodes, type ErrorInfo, Hal9Error } from '../errors.ts';
import type { BranchOutcome, ResultEntry, Signal, TraceEntry } from '../pipeline/signal.ts';

// Forwarding to a neuron hosted by another runtime pod: one HTTP request per batch over the shared
// keep-alive pool; the peer answers with each signal's whole sub-tree outcome, so results flow back
// to the request's entry pod on the same connection.

export interface PeerTransport {
  /** `signal` cancels the call once no request in the batch is waiting for it. */
  send(
    target: NeuronConfig,
    signals: readonly Signal[],
    deadlineMs: number,
    signal?: AbortSignal,
    /** W3C context of the peer call's span. */
    traceparent?: string,
    /**
     * Follow the sub-trees as they run: each trace entry and result arrives here by signal index
     * (and is then left out of the returned outcomes, which carry only the errors).
     */
    onProgress?: (index: number, p: PeerProgress) => void,
  ): Promise<BranchOutcome[]>;
}

export interface PeerProgress {
  readonly trace?: TraceEntry;
  readonly result?: ResultEntry;
}

/** The longest line a streaming peer may send (one trace entry or result). */
export const MAX_PEER_LINE_BYTES = 16 * 1024 * 1024;
/** How many times a batch refused by a draining pod is sent again (each on a new connection). */
export const MAX_DRAINING_RESENDS = 2;

export interface PeerBatchBody {
  readonly deadlineMs: number;
  readonly signals: readonly Signal[];
}

export class HttpPeerTransport implements PeerTransport {
  readonly #agent: Agent;
  readonly #auth: Record<string, string>;
  constructor(agent: Agent, peerToken?: string) {
    this.#agent = agent;
    this.#auth = peerToken ? { authorization: `Bearer ${peerToken}` } : {};
  }

  /**
   * Sends a batch; a pod that answers DRAINING refused it before running anything, so the batch is
   * sent again on a new connection (the refusal closed the old one): behind the Neuron's Service it
   * reaches a pod that still serves. At most MAX_DRAINING_RESENDS times, then the refusal stands.
   */
  async send(
    target: NeuronConfig,
    signals: readonly Signal[],
    deadlineMs: number,
    signal?: AbortSignal,
    traceparent?: string,
    onProgress?: (index: number, p: PeerProgress) => void,
  ): Promise<BranchOutcome[]> {
    for (let resends = 0; ; resends++) {
      try {
        return await this.#sendOnce(target, signals, deadlineMs, signal, traceparent, onProgress);
      } catch (e) {
        if (!(e instanceof Hal9Error && e.code === 'DRAINING') || resends >= MAX_DRAINING_RESENDS) throw e;
        if (signal?.aborted) throw e;
      }
    }
  }

  async #sendOnce(
    target: NeuronConfig,
    signals: readonly Signal[],
    deadlineMs: number,
    signal?: AbortSignal,
    traceparent?: string,
    onProgress?: (index: number, p: PeerProgress) => void,
  ): Promise<BranchOutcome[]> {
    const url = new URL(`${target.endpoint}/v1/neurons/${encodeURIComponent(target.id)}/signals`);
    const body: PeerBatchBody = { deadlineMs, signals };
    let res: Awaited<ReturnType<Agent['request']>>;
    try {
      res = await this.#agent.request({
        origin: url.origin,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(onProgress ? { accept: 'application/x-ndjson' } : {}),
          ...this.#auth,
          ...(traceparent ? { traceparent } : {}),
        },
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
        headersTimeout: deadlineMs + 1000,
        bodyTimeout: deadlineMs + 1000,
      });
    } catch (e) {
      if (signal?.aborted) throw new Hal9Error('REQUEST_TIMEOUT', `the call to ${target.id} was cancelled`);
      throw new Hal9Error(
        'PEER_ERROR',
        `cannot reach ${target.id} at ${target.endpoint}: ${(e as Error).message}`,
        {
          upstream: `peer:${target.id}`,
        },
      );
    }
    if (res.statusCode === 200 && onProgress && String(res.headers['content-type']).includes('ndjson')) {
      return readProgress(res.body, signals.length, onProgress, target);
    }
    const payload = (await res.body.json().catch(() => undefined)) as
      | { outcomes?: BranchOutcome[]; error?: { code?: string; message?: string } }
      | undefined;
    if (
      res.statusCode === 200 &&
      Array.isArray(payload?.outcomes) &&
      payload.outcomes.length === signals.length
    ) {
      return payload.outcomes;
    }
    const code = payload?.error?.code;
    const known = code && code in ErrorCodes ? (code as ErrorCode) : 'PEER_ERROR';
    throw new Hal9Error(
      known,
      `${target.id} answered ${res.statusCode}: ${payload?.error?.message ?? 'malformed response'}`,
      { upstream: `peer:${target.id}`, status: res.statusCode },
    );
  }
}

/** Reads a streaming peer's lines: progress as it comes, then the errors of each outcome. */
async function readProgress(
  body: AsyncIterable<Buffer>,
  count: number,
  onProgress: (index: number, p: PeerProgress) => void,
  target: NeuronConfig,
): Promise<BranchOutcome[]> {
  const bad = (why: string) =>
    new Hal9Error('PEER_ERROR', `${target.id} sent a malformed stream: ${why}`, {
      upstream: `peer:${target.id}`,
    });
  let pending = '';
  let errors: ErrorInfo[][] | undefined;
  const line = (text: string) => {
    if (text === '') return;
    let msg: { i?: unknown; trace?: TraceEntry; result?: ResultEntry; errors?: ErrorInfo[][] };
    try {
      msg = JSON.parse(text);
    } catch {
      throw bad('a line is not JSON');
    }
    if (Array.isArray(msg.errors)) {
      if (msg.errors.length !== count) throw bad(`${msg.errors.length} outcomes for ${count} signals`);
      errors = msg.errors;
    } else if (typeof msg.i === 'number' && Number.isInteger(msg.i) && msg.i >= 0 && msg.i < count) {
      onProgress(msg.i, {
        ...(msg.trace ? { trace: msg.trace } : {}),
        ...(msg.result ? { result: msg.result } : {}),
      });
    } else throw bad('a line names no signal');
  };
  for await (const chunk of body) {
    pending += chunk.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      line(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    if (pending.length > MAX_PEER_LINE_BYTES) throw bad(`a line is longer than ${MAX_PEER_LINE_BYTES} bytes`);
  }
  line(pending);
  if (!errors) throw bad('it ended before the outcomes');
  return errors.map((e) => ({ results: [], trace: [], errors: e }));
}
