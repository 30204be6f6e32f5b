import type { Agent } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { type ErrorCode, ErrorCodes, Hal9Error } from '../errors.ts';
import type { BranchOutcome, Signal } from '../pipeline/signal.ts';

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
  ): Promise<BranchOutcome[]>;
}

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

  async send(
    target: NeuronConfig,
    signals: readonly Signal[],
    deadlineMs: number,
    signal?: AbortSignal,
    traceparent?: string,
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
