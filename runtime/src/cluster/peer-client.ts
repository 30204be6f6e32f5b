import { StringDecoder } from 'node:string_decoder';
import type { Agent } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { type ErrorCode, type ErrorInfo, Hal9Error } from '../errors.ts';
import type { BranchOutcome, ResultEntry, Signal, TraceEntry } from '../pipeline/signal.ts';
import { type PeerAnswerChecks, peerAnswerChecks } from './peer-answer.ts';

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
/** The most a peer's answer to one batch may hold, streamed or not. */
export const MAX_PEER_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * A peer's refusals that mean the same to our caller (load, shutdown, a failing upstream: retry
 * later). Any other refusal (401, 404, 413, 400) is about the call between two pods, not about what
 * the caller sent, so it reaches the caller as PEER_ERROR (502) with the peer's code in the message.
 */
const PASSED_ON: ReadonlySet<string> = new Set<ErrorCode>([
  'DRAINING',
  'QUEUE_FULL',
  'QUEUE_TIMEOUT',
  'BREAKER_OPEN',
]);
/** How many times a batch refused by a draining pod is sent again (each on a new connection). */
export const MAX_DRAINING_RESENDS = 2;

export interface PeerBatchBody {
  readonly deadlineMs: number;
  readonly signals: readonly Signal[];
}

export class HttpPeerTransport implements PeerTransport {
  readonly #agent: Agent;
  readonly #auth: Record<string, string>;
  readonly #checks: PeerAnswerChecks;
  readonly #maxAnswerBytes: number;
  constructor(agent: Agent, peerToken?: string, maxAnswerBytes = MAX_PEER_ANSWER_BYTES) {
    this.#agent = agent;
    this.#maxAnswerBytes = maxAnswerBytes;
    this.#auth = peerToken ? { authorization: `Bearer ${peerToken}` } : {};
    this.#checks = peerAnswerChecks();
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
    const bad = (why: string) =>
      new Hal9Error('PEER_ERROR', `${target.id} sent a malformed answer: ${why}`, {
        upstream: `peer:${target.id}`,
      });
    if (res.statusCode === 200 && onProgress && String(res.headers['content-type']).includes('ndjson')) {
      return readProgress(res.body, signals.length, onProgress, this.#checks, bad, this.#maxAnswerBytes);
    }
    let payload: { outcomes?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      payload = JSON.parse(await readCapped(res.body, bad, this.#maxAnswerBytes));
    } catch (e) {
      if (e instanceof Hal9Error) throw e;
      payload = undefined;
    }
    if (res.statusCode === 200 && payload && 'outcomes' in payload) {
      const outcomes = this.#checks.outcomes(payload.outcomes, signals.length);
      if (typeof outcomes === 'string') throw bad(outcomes);
      return outcomes;
    }
    const code = typeof payload?.error?.code === 'string' ? payload.error.code.slice(0, 64) : undefined;
    const message =
      typeof payload?.error?.message === 'string'
        ? payload.error.message.slice(0, 300)
        : 'malformed response';
    const retryAfter = Number(res.headers['retry-after']);
    const passed = code !== undefined && PASSED_ON.has(code);
    throw new Hal9Error(
      passed ? (code as ErrorCode) : 'PEER_ERROR',
      `${target.id} answered ${res.statusCode}${passed || !code ? '' : ` ${code}`}: ${message}`,
      {
        upstream: `peer:${target.id}`,
        status: res.statusCode,
        ...(passed ? { retryAfterSeconds: retryAfter > 0 && retryAfter <= 3600 ? retryAfter : 1 } : {}),
      },
    );
  }
}

/** A peer's answer as text, read whole up to `max` bytes (then the call is cut off). */
async function readCapped(
  body: AsyncIterable<Buffer>,
  bad: (why: string) => Hal9Error,
  max: number,
): Promise<string> {
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let text = '';
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > max) throw bad(`it is over ${max} bytes`);
    text += decoder.write(chunk);
  }
  return text + decoder.end();
}

/**
 * Reads a streaming peer's lines: progress as it comes, then the errors of each outcome. Chunks are
 * decoded with a StringDecoder, so a character split across two chunks arrives whole.
 */
async function readProgress(
  body: AsyncIterable<Buffer>,
  count: number,
  onProgress: (index: number, p: PeerProgress) => void,
  checks: PeerAnswerChecks,
  bad: (why: string) => Hal9Error,
  max: number,
): Promise<BranchOutcome[]> {
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let pending = '';
  let errors: ErrorInfo[][] | undefined;
  const line = (text: string) => {
    if (text === '') return;
    let msg: { i?: unknown; trace?: unknown; result?: unknown; errors?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      throw bad('a line is not JSON');
    }
    if (typeof msg !== 'object' || msg === null) throw bad('a line is not an object');
    if (msg.errors !== undefined) {
      const checked = checks.errors(msg.errors, count);
      if (typeof checked === 'string') throw bad(checked);
      errors = checked;
    } else if (typeof msg.i === 'number' && Number.isInteger(msg.i) && msg.i >= 0 && msg.i < count) {
      const p = checks.progress(msg.trace, msg.result);
      if (typeof p === 'string') throw bad(p);
      onProgress(msg.i, p);
    } else throw bad('a line names no signal');
  };
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > max) throw bad(`it is over ${max} bytes`);
    pending += decoder.write(chunk);
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      line(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    if (pending.length > MAX_PEER_LINE_BYTES) throw bad(`a line is longer than ${MAX_PEER_LINE_BYTES} bytes`);
  }
  line(pending + decoder.end());
  if (!errors) throw bad('it ended before the outcomes');
  return errors.map((e) => ({ results: [], trace: [], errors: e }));
}
