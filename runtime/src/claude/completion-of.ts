import type { Message } from '@anthropic-ai/sdk/resources/messages';
import { Hal9Error } from '../errors.ts';
import { cutTo, detached } from '../pipeline/detached.ts';
import { type Completion, NO_STOP_REASON } from './backend.ts';
import { upstreamId } from './upstream-id.ts';

// A Messages answer read into a Completion, within bounds: the SDK returns the body as the
// upstream sent it, and its counts feed budgets, counters and the response cache.

/** An answer that is not a Messages answer (or not JSON): the call fails, naming what is wrong. */
export const malformed = (what: string, cause?: Error): Hal9Error =>
  new Hal9Error(
    'UPSTREAM_ERROR',
    `the model API's answer is malformed: ${what}`,
    { upstream: 'claude-api' },
    cause ? { cause } : undefined,
  );

/**
 * The most input tokens (plain, cache read or cache written) one answer may report: ten times the
 * largest context window the Messages API offers (1,000,000 tokens).
 */
export const MAX_INPUT_TOKENS = 10_000_000;
const INPUT_BOUND = "the runtime's bound for an answer's input tokens";

/**
 * Input-side tokens an answer may report beyond its prompt's bytes: the Messages API's framing of a
 * system prompt and one user message. A token is at least one byte of what was sent, so an answer that
 * reports more (a gateway or fake that says anything) charged a request's budgets for a prompt it never
 * had: 2 × 10⁷ cache tokens for a few hundred bytes, $40 against a $1 budget in one call.
 */
export const PROMPT_TOKEN_SLACK = 4096;

/** What a call sent: its system prompt and content, whose size bounds the input tokens it may report. */
export interface SentPrompt {
  readonly system: string;
  readonly content: string;
}

/**
 * The most characters kept of an answer's `stop_reason` (the API's are about 15; its `id` is kept only
 * in the API's shape, upstream-id.ts). It stays with the answer in the response cache, whose byte
 * count is its text's, and goes into traces: an upstream that sent a megabyte one would otherwise be
 * held whole by every cached answer.
 */
export const MAX_ANSWER_TAG_CHARS = 256;
const tag = (v: unknown): string | undefined =>
  typeof v === 'string' ? cutTo(v, MAX_ANSWER_TAG_CHARS) : undefined;

/**
 * A token count of the answer's `usage`: anything but a non-negative integer of at most `max` fails
 * the call. These counts feed the request's token and cost budgets and Prometheus counters, so a
 * negative or non-numeric one would lift a budget or run a counter backwards, and a huge one would
 * inflate the counters for good (and lose precision in their sums). An absent cache count is 0 (the
 * API leaves it out when prompt caching did nothing); an absent input or output count (the API always
 * sends them) fails the call too: taken as 0, a call through a gateway that strips them would count
 * nothing toward the budgets.
 */
function tokens(
  usage: Record<string, unknown>,
  key: string,
  max: number,
  bound: string,
  required = false,
): number {
  const v = usage[key];
  if (v === undefined || v === null) {
    if (required)
      throw malformed(`usage.${key} is missing (the Messages API always reports it; budgets count it)`);
    return 0;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw malformed(`usage.${key} must be a non-negative integer of at most ${max} (${bound})`);
  return v;
}

/**
 * The completion in a Messages answer, checked: the SDK returns the body as the upstream sent it.
 * Output tokens are at most the call's `max_tokens`, input ones at most MAX_INPUT_TOKENS each, and
 * together at most the prompt's bytes plus PROMPT_TOKEN_SLACK.
 */
export function completionOf(msg: Message, maxTokens: number, sent: SentPrompt): Completion {
  // The SDK hands over the text of an answer whose content-type is not JSON.
  if (typeof msg === 'string') throw malformed('its content-type is not application/json');
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    throw malformed(
      `the body is ${msg === null ? 'null' : Array.isArray(msg) ? 'a list' : typeof msg}, not a JSON object`,
    );
  const body = msg as unknown as Record<string, unknown>;
  if (!Array.isArray(body.content)) throw malformed('content must be a list');
  const usage = body.usage;
  if (typeof usage !== 'object' || usage === null) throw malformed('usage must be an object');
  let text = '';
  for (const b of body.content as { type?: unknown; text?: unknown }[]) {
    if (b?.type !== 'text') continue;
    if (typeof b.text !== 'string') throw malformed('a text block has no text');
    text += b.text;
  }
  const u = usage as Record<string, unknown>;
  // A non-streamed answer always says why it stopped: one that does not was cut short somewhere (a
  // proxy, a truncating gateway), and is not cached as a finished one would be.
  const finishReason = tag(body.stop_reason) ?? NO_STOP_REASON;
  const id = upstreamId(body.id);
  const responseModel = tag(body.model);
  // Trimmed, the text is a view into the whole: padding of megabytes around a short answer would stay
  // with it in the response cache and the request store, whose estimates count what is left.
  const trimmed = text.trim();
  const counts = {
    input: tokens(u, 'input_tokens', MAX_INPUT_TOKENS, INPUT_BOUND, true),
    output: tokens(u, 'output_tokens', maxTokens, "the call's max_tokens", true),
    cacheRead: tokens(u, 'cache_read_input_tokens', MAX_INPUT_TOKENS, INPUT_BOUND),
    cacheCreation: tokens(u, 'cache_creation_input_tokens', MAX_INPUT_TOKENS, INPUT_BOUND),
  };
  checkInputOf(counts.input + counts.cacheRead + counts.cacheCreation, sent);
  return {
    text: trimmed.length * 2 < text.length ? detached(trimmed) : trimmed,
    finishReason,
    ...(id !== undefined ? { id } : {}),
    ...(responseModel ? { responseModel } : {}),
    usage: counts,
  };
}

/** Fails the call when its input-side tokens are more than its prompt could make (PROMPT_TOKEN_SLACK). */
function checkInputOf(total: number, sent: SentPrompt): void {
  // A string's characters are at most its UTF-8 bytes: within them, no need to count the bytes.
  if (total <= sent.system.length + sent.content.length + PROMPT_TOKEN_SLACK) return;
  const bytes = Buffer.byteLength(sent.system) + Buffer.byteLength(sent.content);
  if (total <= bytes + PROMPT_TOKEN_SLACK) return;
  throw malformed(
    `usage reports ${total} input tokens (input, cache read and cache write) for a prompt of ${bytes} bytes, more than its bytes plus ${PROMPT_TOKEN_SLACK} (the runtime's bound: a token is at least one byte of what was sent)`,
  );
}
