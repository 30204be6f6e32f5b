import type { Readable } from 'node:stream';
import type { Agent } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { Hal9Error } from '../errors.ts';
import { type BranchOutcome, type TraceContext, traceHeaders } from '../pipeline/signal.ts';
import { CANCEL_REQUEST_HEADER } from './batch-origin.ts';
import type { PeerAnswerChecks } from './peer-answer.ts';
import { deadlineHead, deadlineLeft, signalsTail } from './peer-body.ts';
import type { PeerCancels, Watched } from './peer-cancels.ts';
import { type PeerProgress, readPeerAnswer } from './read-peer-answer.ts';

// One HTTP request of a batch to its peer: the body written as it goes on the wire, the answer read
// as it comes, and each way it can fail named for the caller and the breaker.

/**
 * How long past the deadline it was given a peer has to end its answer. A healthy peer answers at
 * that deadline at the latest (its cut-off branches as REQUEST_TIMEOUT), counted from when the batch
 * reached it, so its answer lands a transit and a turn of its event loop after the sender's own
 * deadline; a peer that has not ended its answer this long after it has hung (a stopped process, a
 * blocked event loop, a network that drops packets after connecting): PEER_TIMEOUT, a breaker failure.
 */
export const PEER_ANSWER_GRACE_MS = 1_000;

/** The deadline a batch gives its peer: `ms` as it was sent, passing at `at` on the transport's clock. */
export interface PeerDeadline {
  readonly ms: number;
  readonly at: number;
}

/** One HTTP call of a batch (or of one part of it): what goes with its signals. */
export interface PeerCall {
  readonly deadline: PeerDeadline;
  readonly signal?: AbortSignal;
  readonly context?: TraceContext;
  readonly onProgress?: (index: number, p: PeerProgress) => void;
  readonly ends?: Watched;
}

/** What every call of a transport goes through, fixed when it is built. */
export interface PeerCallDeps {
  readonly agent: Agent;
  /** Monotonic milliseconds: the clock a PeerDeadline's `at` is on. */
  readonly now: () => number;
  readonly checks: PeerAnswerChecks;
  readonly maxAnswerBytes: number;
  /** None: no cancellation of part of a batch. */
  readonly cancels: PeerCancels | undefined;
}

/** A peer that did not end its answer by the deadline it was given and PEER_ANSWER_GRACE_MS more. */
export const peerTimeout = (target: NeuronConfig, deadlineMs: number): Hal9Error =>
  new Hal9Error(
    'PEER_TIMEOUT',
    `${target.id} at ${target.endpoint} did not answer within the ${deadlineMs} ms deadline it was given and ${PEER_ANSWER_GRACE_MS} ms more`,
    { upstream: `peer:${target.id}` },
  );

/** Sends `encoded` signals (each a signal's JSON, as PeerBatchBody holds them) to `target` in one request. */
export async function peerCall(
  deps: PeerCallDeps,
  target: NeuronConfig,
  encoded: readonly string[],
  auth: Record<string, string>,
  { deadline, signal, context, onProgress, ends }: PeerCall,
): Promise<BranchOutcome[]> {
  const url = new URL(`${target.endpoint}/v1/neurons/${encodeURIComponent(target.id)}/signals`);
  const deadlineMs = deadline.ms;
  // The signals are encoded once (send measured them); the body is PeerBatchBody's JSON. Its
  // deadline is what is left as it goes on the wire, not as it was handed to the pool: a call may
  // wait there for a connection (the parts of a batch split by size share the peer's), and a peer
  // that ran a full deadline from then would answer after the grace the sender gives it, a
  // healthy peer counted as hung. The deadline is padded to its first width so the length holds.
  const width = String(deadlineMs).length;
  const rest = signalsTail(encoded);
  const length = deadlineHead(deadlineMs, width).length + Buffer.byteLength(rest);
  const now = deps.now;
  // One chunk: undici writes it with the request's head in one write, so the request leaves in one
  // segment. Two writes put the body behind the head's ACK wherever a hop runs Nagle's algorithm (a
  // userspace proxy or sidecar), which the receiver delays by up to 40 ms while it waits for the body.
  function* body() {
    yield deadlineHead(deadlineLeft(deadlineMs, deadline.at, now()), width) + rest;
  }
  let res: Awaited<ReturnType<Agent['request']>>;
  try {
    res = await deps.agent.request({
      origin: url.origin,
      path: url.pathname,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(onProgress ? { accept: 'application/x-ndjson' } : {}),
        ...(ends ? { [CANCEL_REQUEST_HEADER]: '1' } : {}),
        ...auth,
        ...(context ? traceHeaders(context) : {}),
        'content-length': String(length),
      },
      // Read as it goes on the wire (undici iterates a body only on a connected socket). An iterable
      // rather than a Readable over it, whose machinery cost more than the rest of the call; undici
      // takes one (Dispatcher.md: body … Iterable | AsyncIterable) though its types do not say so.
      body: body() as unknown as Readable,
      ...(signal ? { signal } : {}),
      // A backstop for a call no caller cuts (RemoteDispatch judges the peer on its own clock).
      headersTimeout: deadlineMs + PEER_ANSWER_GRACE_MS,
      bodyTimeout: deadlineMs + PEER_ANSWER_GRACE_MS,
    });
  } catch (e) {
    if (signal?.aborted) throw cutOff(signal, target);
    if (undiciCode(e) === 'UND_ERR_HEADERS_TIMEOUT') throw peerTimeout(target, deadlineMs);
    throw new Hal9Error(
      'PEER_ERROR',
      `cannot reach ${target.id} at ${target.endpoint}: ${(e as Error).message}`,
      {
        upstream: `peer:${target.id}`,
      },
    );
  }
  // From here the peer runs the batch: a request of it that ends now has its signals stopped there.
  const unwatch = ends && deps.cancels?.watch(target, res.headers, ends, signal);
  try {
    return await readPeerAnswer(target, res, encoded.length, onProgress, deps.checks, deps.maxAnswerBytes);
  } catch (e) {
    // Cut off by its callers (every request of the batch ended) while the answer arrived: their own
    // end, not a failing peer, so the breaker must not count it, unless they judged the peer hung
    // (PEER_TIMEOUT). undici ends the body with a bare AbortError, which would otherwise escape a
    // stream or read as a malformed answer.
    if (signal?.aborted) throw cutOff(signal, target);
    if (e instanceof Hal9Error) throw e;
    if (undiciCode(e) === 'UND_ERR_BODY_TIMEOUT') throw peerTimeout(target, deadlineMs);
    throw new Hal9Error('PEER_ERROR', `${target.id} broke off its answer: ${(e as Error).message}`, {
      upstream: `peer:${target.id}`,
    });
  } finally {
    unwatch?.();
  }
}

/** The caller's own cancellation of a peer call (its requests' deadline, a drain): not the peer's failure. */
const cancelled = (target: NeuronConfig): Hal9Error =>
  new Hal9Error('REQUEST_TIMEOUT', `the call to ${target.id} was cancelled`);

/** Why an aborted call failed: the peer's timeout when its sender judged so, else a cancellation. */
const cutOff = (signal: AbortSignal, target: NeuronConfig): Hal9Error =>
  signal.reason instanceof Hal9Error && signal.reason.code === 'PEER_TIMEOUT'
    ? signal.reason
    : cancelled(target);

const undiciCode = (e: unknown): unknown => (e as { code?: unknown } | null)?.code;
