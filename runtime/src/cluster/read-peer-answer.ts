import { StringDecoder } from 'node:string_decoder';
import type { Agent } from 'undici';
import { nestsDeeperThan } from '../claude/answer-json.ts';
import { retryAfterMs } from '../claude/retry-after.ts';
import type { NeuronConfig } from '../config/types.ts';
import { type ErrorCode, type ErrorInfo, Hal9Error } from '../errors.ts';
import { cutTo } from '../pipeline/detached.ts';
import type { BranchOutcome, ResultEntry, TraceEntry } from '../pipeline/signal.ts';
import type { PeerAnswerChecks } from './peer-answer.ts';

// Reading a peer's answer to one batch, bounded: its streamed progress (NDJSON, when the call asked
// for it), its outcomes (JSON), or its refusal, each checked (peer-answer.ts) before a caller sees it.

export interface PeerProgress {
  readonly trace?: TraceEntry;
  readonly result?: ResultEntry;
}

/** The longest line a streaming peer may send (one trace entry or result). */
export const MAX_PEER_LINE_BYTES = 16 * 1024 * 1024;
/** The most a peer's answer to one batch may hold, streamed or not. */
export const MAX_PEER_ANSWER_BYTES = 64 * 1024 * 1024;
/**
 * The deepest a peer's JSON (its answer, or one streamed line) may nest; ours nest about eight
 * levels. Checked before it is parsed: 16 MB of `[[[…` parsed whole took seconds of the event loop
 * and hundreds of MB.
 */
export const MAX_PEER_ANSWER_DEPTH = 32;

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

/** A peer's answer that is not what a runtime sends: its branches fail with PEER_ERROR naming `why`. */
export const malformedPeerAnswer = (target: Pick<NeuronConfig, 'id'>, why: string): Hal9Error =>
  new Hal9Error('PEER_ERROR', `${target.id} sent a malformed answer: ${why}`, {
    upstream: `peer:${target.id}`,
    malformed: true,
  });

/** The peer's answer to one batch of `count` signals: its streamed progress and errors, its outcomes, or its refusal. */
export async function readPeerAnswer(
  target: NeuronConfig,
  res: Awaited<ReturnType<Agent['request']>>,
  count: number,
  onProgress: ((index: number, p: PeerProgress) => void) | undefined,
  checks: PeerAnswerChecks,
  maxAnswerBytes: number,
): Promise<BranchOutcome[]> {
  const bad = (why: string) => malformedPeerAnswer(target, why);
  if (res.statusCode === 200 && onProgress && String(res.headers['content-type']).includes('ndjson')) {
    return readProgress(res.body, count, onProgress, checks, bad, maxAnswerBytes);
  }
  const text = await readCapped(res.body, bad, maxAnswerBytes);
  if (nestsDeeperThan(text, MAX_PEER_ANSWER_DEPTH)) throw bad(tooDeep);
  const payload = jsonObject(text) as
    | { outcomes?: unknown; error?: { code?: unknown; message?: unknown } }
    | undefined;
  if (res.statusCode === 200 && payload && 'outcomes' in payload) {
    const outcomes = checks.outcomes(payload.outcomes, count);
    if (typeof outcomes === 'string') throw bad(outcomes);
    return outcomes;
  }
  // Cut to copies of their own (cutTo): the error goes into the run's trace and errors, which the
  // request store keeps, and a slice would keep the whole text (up to maxAnswerBytes).
  const code = typeof payload?.error?.code === 'string' ? cutTo(payload.error.code, 64) : undefined;
  const message =
    typeof payload?.error?.message === 'string' ? cutTo(payload.error.message, 300) : 'malformed response';
  // Seconds or an HTTP date, read as the model API's is.
  const retryAfter = retryAfterMs({
    get: (name) => {
      const v = res.headers[name];
      return typeof v === 'string' ? v : null;
    },
  });
  const passed = code !== undefined && PASSED_ON.has(code);
  // A 2xx here is an answer without its outcomes: malformed, not a refusal with that status.
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  throw new Hal9Error(
    passed ? (code as ErrorCode) : 'PEER_ERROR',
    `${target.id} answered ${res.statusCode}${passed || !code ? '' : ` ${code}`}: ${message}`,
    {
      upstream: `peer:${target.id}`,
      ...(ok ? { malformed: true } : { status: res.statusCode }),
      // Whole seconds within an hour, as a caller's Retry-After (a fraction rounded up); none or a
      // passed date: 1.
      ...(passed
        ? {
            retryAfterSeconds:
              retryAfter !== undefined && retryAfter > 0 ? Math.min(3600, Math.ceil(retryAfter / 1000)) : 1,
          }
        : {}),
    },
  );
}

const tooDeep = `its JSON nests deeper than ${MAX_PEER_ANSWER_DEPTH} levels (the runtime's limit for a peer's answer)`;

/** The JSON object a text holds; undefined when it holds none (a refusal in another format). */
function jsonObject(text: string): object | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
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
  let errors: ErrorInfo[][] | undefined;
  // Signals whose trace entry came: a repeated one would be a second entry for one signal, and its
  // model calls counted twice in the request's totals and budgets.
  const traced = new Set<string>();
  const line = (text: string) => {
    if (text === '') return;
    if (errors) throw bad('a line came after the outcomes');
    if (nestsDeeperThan(text, MAX_PEER_ANSWER_DEPTH)) throw bad(tooDeep);
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
      if (p.trace) {
        if (traced.has(p.trace.signal))
          throw bad(`a line repeats the trace entry of signal ${JSON.stringify(cutTo(p.trace.signal, 64))}`);
        traced.add(p.trace.signal);
      }
      onProgress(msg.i, p);
    } else throw bad('a line names no signal');
  };
  // The line in progress, as the pieces it came in: only each new piece is searched for its end, and
  // the line is joined once, when it ends. Appended to one string and searched from its start at
  // every chunk, a 16 MiB line in small writes cost seconds of CPU (its length squared over the chunk).
  let pending: string[] = [];
  // Bytes of the line in progress, counted on the wire (a newline is one byte in UTF-8 and in no
  // other character's bytes): counted in decoded characters, a line of 3-byte characters was let
  // through at three times the bound.
  let pendingBytes = 0;
  const tooLong = () => bad(`a line is longer than ${MAX_PEER_LINE_BYTES} bytes`);
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > max) throw bad(`it is over ${max} bytes`);
    // Each line that ends in this chunk is measured too, not only the one left open: a 16 MiB line
    // and its end in one large chunk were read.
    let lastNewline = chunk.indexOf(0x0a);
    if (lastNewline >= 0) {
      if (pendingBytes + lastNewline > MAX_PEER_LINE_BYTES) throw tooLong();
      // The lines after the first lie within the chunk: only a chunk longer than the bound holds one too long.
      if (chunk.length <= MAX_PEER_LINE_BYTES) lastNewline = chunk.lastIndexOf(0x0a);
      else
        for (let nl = chunk.indexOf(0x0a, lastNewline + 1); nl >= 0; nl = chunk.indexOf(0x0a, nl + 1)) {
          if (nl - lastNewline - 1 > MAX_PEER_LINE_BYTES) throw tooLong();
          lastNewline = nl;
        }
    }
    pendingBytes = lastNewline < 0 ? pendingBytes + chunk.length : chunk.length - lastNewline - 1;
    const piece = decoder.write(chunk);
    let from = 0;
    for (let nl = piece.indexOf('\n'); nl >= 0; nl = piece.indexOf('\n', from)) {
      pending.push(piece.slice(from, nl));
      line(pending.join(''));
      pending = [];
      from = nl + 1;
    }
    if (from < piece.length) pending.push(piece.slice(from));
    if (pendingBytes > MAX_PEER_LINE_BYTES) throw tooLong();
  }
  pending.push(decoder.end());
  line(pending.join(''));
  if (!errors) throw bad('it ended before the outcomes');
  return errors.map((e) => ({ results: [], trace: [], errors: e }));
}
