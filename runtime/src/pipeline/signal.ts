import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import type { TokenUsage } from '../claude/backend.ts';
import type { Layer } from '../config/types.ts';
import type { ErrorInfo } from '../errors.ts';
import type { BudgetLeft } from './budget-left.ts';

export interface Signal {
  readonly id: string;
  /** The request this signal belongs to. */
  readonly requestId: string;
  /** W3C trace id (32 hex), from the caller's traceparent when it sent one. */
  readonly traceId: string;
  readonly parentId: string | null;
  readonly from: string;
  readonly to: string;
  readonly hop: number;
  readonly content: string;
  /** Neurons already visited on this branch, for cycle detection. */
  readonly path: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A signal as another runtime forwards it: with the W3C context of the peer call it belongs to, so
 * signals of different requests sharing one batch each keep their own trace (the batch's one
 * traceparent header is the first signal's, for receivers that read only the header).
 */
export interface ForwardedSignal extends Signal {
  readonly traceparent?: string;
  /** The W3C tracestate that goes with `traceparent` (vendors' entries, passed on as received). */
  readonly tracestate?: string;
  /** What the signal's request had left of its token and cost budgets at the sender (budget-left.ts). */
  readonly budgetLeft?: BudgetLeft;
  /** The signal's request runs to a deadline its caller chose (timeout_ms), not the sender's own. */
  readonly deadlineByCaller?: boolean;
}

/** A W3C trace context as headers carry it: a traceparent and, with it, a tracestate. */
export interface TraceContext {
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export interface ResultEntry {
  readonly neuron: string;
  readonly layer: Layer;
  readonly content: string;
}

export interface TraceEntry {
  readonly signal: string;
  readonly parent: string | null;
  readonly neuron: string;
  readonly layer: Layer;
  readonly hop: number;
  readonly cached: boolean;
  readonly durationMs: number;
  readonly forwardedTo: readonly string[];
  readonly dropped: readonly string[];
  /** The model that answered (api mode); with an error, the one tried last (when retried or fallen back). */
  readonly model?: string;
  /** The model the upstream named in its answer, when it is not `model` (an alias answered by a snapshot). */
  readonly responseModel?: string;
  /** Tokens of this signal's model call (not on cache hits). */
  readonly usage?: TokenUsage;
  /** USD, when the model has a price in claude.prices. */
  readonly costUsd?: number;
  /** 429/529 retries the call took. */
  readonly retries?: number;
  /** Models that were overloaded (or whose breaker was open) before `model` answered (or failed). */
  readonly fellBackFrom?: readonly string[];
  /** The answer's BACKWARD_TO / ERROR_TYPE, recorded and not acted on. */
  readonly backward?: { readonly targets: readonly string[]; readonly errorType: string };
  /** The error that ended this branch here (also in the run's `errors`). */
  readonly error?: ErrorInfo;
  /**
   * Every error this signal's answer raised (a cycle, the hop limit, fan-out or a budget that dropped
   * targets, results past the limit, an answer cut off), also when the branch went on with the rest:
   * `dropped` names the targets, these say why. Absent when it raised none.
   */
  readonly errors?: readonly ErrorInfo[];
  /**
   * The signals this one forwarded, in `forwardedTo`'s order: only in the entries a pod streams to the
   * pod that forwarded it the signal (RequestRun.namesChildren), so that pod can still name each child
   * in its trace when its request ends before they report. Never in a response.
   */
  readonly children?: readonly ChildRef[];
}

/** A forwarded signal as its parent's streamed trace entry names it. */
export interface ChildRef {
  readonly signal: string;
  readonly layer: Layer;
}

/** What a branch of signals produced; also the unit returned by a peer runtime per forwarded signal. */
export interface BranchOutcome {
  readonly results: readonly ResultEntry[];
  readonly trace: readonly TraceEntry[];
  readonly errors: readonly ErrorInfo[];
}

/** Request ids are unguessable: GET /v1/signals/:id hands results to whoever holds one. */
export const newId = (): string => randomUUID();

/**
 * Signal ids only need to be unique within a trace across pods: a random 32-bit prefix per engine and a
 * counter, 16 hex digits like a W3C span id — a fraction of randomUUID's cost on every hop.
 */
export function signalIds(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let seq = 0;
  return () => {
    seq = (seq + 1) >>> 0;
    return prefix + seq.toString(16).padStart(8, '0');
  };
}

/**
 * Random hex strings from a 4 KiB pool refilled in one call: a trace id per request from its own
 * randomBytes() call was a measurable share of a request's CPU.
 */
export function randomHex(): (bytes: number) => string {
  const pool = Buffer.alloc(4096);
  let at = pool.length;
  return (bytes) => {
    if (at + bytes > pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    at += bytes;
    return pool.toString('hex', at - bytes, at);
  };
}
export const newSpanId = (): string => randomBytes(8).toString('hex');

/**
 * A W3C traceparent: version, trace id, parent id and flags, each lowercase hex. A version other than
 * 00 is a later one (ff is invalid): its first four fields are read as version 00's, and it may carry
 * more fields after a dash; version 00 has exactly these four.
 */
const TRACEPARENT = /^(?!ff)([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export interface TraceparentFields {
  readonly traceId: string;
  readonly parentId: string;
  /** The trace-flags byte (bit 0: sampled); of a later version, only the sampled bit. */
  readonly flags: number;
}

/** A valid W3C traceparent header's fields, else undefined (an invalid header is ignored, per spec). */
export function parseTraceparent(header: string | undefined): TraceparentFields | undefined {
  const m = header ? TRACEPARENT.exec(header.trim()) : null;
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m;
  if (version === '00' && rest !== undefined) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return undefined;
  // A later version's flags may mean more than version 00's: only its sampled bit is read.
  const byte = Number.parseInt(flags!, 16);
  return { traceId: traceId!, parentId: parentId!, flags: version === '00' ? byte : byte & 1 };
}

/** A traceparent's trace-flags field: the byte as two lowercase hex digits. */
export const traceFlagsHex = (flags: number): string => flags.toString(16).padStart(2, '0');

/** The trace id of a valid W3C traceparent header, else undefined (an invalid header is ignored, per spec). */
export const traceIdFrom = (header: string | undefined): string | undefined =>
  parseTraceparent(header)?.traceId;

/** The headers a context is sent as: its traceparent and, beside it only, its tracestate. */
export function traceHeaders(c: TraceContext): Record<string, string> {
  if (!c.traceparent) return {};
  return c.tracestate
    ? { traceparent: c.traceparent, tracestate: c.tracestate }
    : { traceparent: c.traceparent };
}

/** W3C Trace Context's limits for a tracestate: list members, and characters passed on. */
const TRACESTATE_MAX_MEMBERS = 32;
const TRACESTATE_MAX_CHARS = 512;
/** Members longer than this go first when a tracestate is cut to TRACESTATE_MAX_CHARS. */
const TRACESTATE_LARGE_MEMBER = 128;
// A key (simple, or tenant@system) and a value of printable ASCII without "," and "=", ending non-blank.
const TRACESTATE_MEMBER =
  /^([a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=([ -+\--<>-~]{0,255}[!-+\--<>-~])$/;

/**
 * A caller's tracestate, normalised (members trimmed, empty ones left out, joined by ","), else
 * undefined. It is only read beside a valid traceparent. A header the spec calls invalid (a malformed
 * member, a key twice, more than 32 members) is ignored whole, never refused: the trace goes on
 * without it. One longer than the 512 characters every participant passes on is cut as W3C Trace
 * Context recommends: members over 128 characters go first, then members from the end (the oldest
 * vendors' entries), so the caller's latest entries still reach the peers and the model API.
 */
export function parseTracestate(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const part of header.split(',')) {
    const m = part.trim();
    if (m === '') continue;
    const kv = TRACESTATE_MEMBER.exec(m);
    if (!kv || keys.has(kv[1]!) || members.length === TRACESTATE_MAX_MEMBERS) return undefined;
    keys.add(kv[1]!);
    members.push(m);
  }
  const out = withinTracestateLimit(members).join(',');
  return out === '' ? undefined : out;
}

/** Valid members cut to TRACESTATE_MAX_CHARS joined: large ones from the end first, then any from the end. */
function withinTracestateLimit(members: string[]): string[] {
  // Joined length: each member and the comma before all but the first.
  let length = members.reduce((n, m) => n + m.length + 1, -1);
  if (length <= TRACESTATE_MAX_CHARS) return members;
  const kept = [...members];
  for (let i = kept.length - 1; i >= 0 && length > TRACESTATE_MAX_CHARS; i--) {
    if (kept[i]!.length <= TRACESTATE_LARGE_MEMBER) continue;
    length -= kept[i]!.length + 1;
    kept.splice(i, 1);
  }
  while (length > TRACESTATE_MAX_CHARS) length -= kept.pop()!.length + 1;
  return kept;
}

/**
 * The context a forwarded signal's span continues: the signal's own traceparent (and its tracestate)
 * when it is valid and of the signal's trace; else the batch's headers when their traceparent is of
 * that trace (a sender that sends only the headers); else a context in the signal's trace with an
 * unknown parent and no tracestate, so the span is never put in another request's trace. A malformed
 * value is ignored, never refused.
 */
export function forwardedContext(signal: ForwardedSignal, headers: TraceContext): TraceContext {
  const own = signal.traceparent;
  if (own !== undefined && traceIdFrom(own) === signal.traceId)
    return signal.tracestate === undefined
      ? { traceparent: own }
      : { traceparent: own, tracestate: signal.tracestate };
  if (traceIdFrom(headers.traceparent) === signal.traceId) return headers;
  const flags = parseTraceparent(headers.traceparent)?.flags ?? 1;
  return { traceparent: `00-${signal.traceId}-${newSpanId()}-${traceFlagsHex(flags)}` };
}
