import { NO_STOP_REASON } from '../claude/backend.ts';
import type { NeuronConfig, PerformanceConfig } from '../config/types.ts';
import { type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import { signalLimit, withinSignalBudget } from './budget.ts';
import type { BudgetLeft } from './budget-left.ts';
import { detached } from './detached.ts';
import { type Misread, type ParsedAnswer, parseAnswer } from './protocol.ts';
import {
  contentIds,
  type DroppedTarget,
  droppedTotal,
  type ForwardPlan,
  MAX_DROPPED_LISTED,
  type PlannedForward,
  planForwards,
} from './routing.ts';
import type { ResultEntry, Signal, TraceEntry } from './signal.ts';

// What a neuron's answer does to its signal, as a pure function: the answer's RESULT lines become
// the request's results, its FORWARD_TO directives become child signals (routing.ts's policy, cut to
// the request's signal budget), and the rest is dropped with reasons. Ids come from `nextId`, so the
// same input gives the same output.

/**
 * The most results one answer gives. A model's answer holds a few; a broken or hostile upstream can
 * send an 8 MiB answer of one-line RESULT blocks, each of which would become a result object in the
 * request's response (hundreds of thousands of them: hundreds of MB). The rest are not kept, and the
 * branch says so (`RESULT_LIMIT_EXCEEDED`).
 */
export const MAX_RESULTS_PER_ANSWER = 100;

export interface RouteInput {
  readonly signal: Signal;
  readonly neuron: NeuronConfig;
  /** The answer's text. */
  readonly text: string;
  /** `text` parsed already (the cache parsed it to decide whether to store it), else parsed here. */
  readonly parsed?: ParsedAnswer;
  /** The model did not finish the answer: a code fence it left open quotes the rest. */
  readonly cutOff?: boolean;
  /** Neuron ids this runtime knows (local or remote). */
  readonly known: ReadonlyMap<string, unknown>;
  readonly performance: Pick<PerformanceConfig, 'hop_limit' | 'request_budget'>;
  /** Signals the request has started so far (RequestRun.spent.signals). */
  readonly spentSignals: number;
  /** What the request had left where it was forwarded from (RequestRun.spent.carried): max_signals is held to it too. */
  readonly carried?: BudgetLeft;
  readonly nextId: () => string;
}

export interface RoutedAnswer extends Pick<ForwardPlan, 'dropped' | 'unlisted' | 'errors'> {
  readonly results: readonly ResultEntry[];
  readonly children: readonly Signal[];
  /** BACKWARD_TO / ERROR_TYPE, for the trace only: at most MAX_DROPPED_LISTED targets, ERROR_TYPE cut to 200 characters. */
  readonly backward: TraceEntry['backward'];
}

/**
 * Whether an answer of `neuron` can go anywhere, whatever the request: a RESULT, or a FORWARD_TO naming
 * a neuron of its forward_connections that a runtime hosts (a cycle, the hop limit or a budget depend
 * on the request, not on the answer). Only such answers are cached: one that cannot would fail its
 * signal again on every hit, for the cache's whole TTL, without the model being asked again.
 */
export function answerCanRoute(
  neuron: NeuronConfig,
  known: ReadonlyMap<string, unknown>,
  parsed: ParsedAnswer,
): boolean {
  if (parsed.results.length > 0) return true;
  const connections = neuron.forward_connections;
  return parsed.forwards.some((f) => f.targets.some((t) => connections.includes(t) && known.has(t)));
}

export function routeAnswer(i: RouteInput): RoutedAnswer {
  const { signal, neuron, performance } = i;
  // An answer cut off reads its open fence as CommonMark does (parseAnswer): the cache's parse of it,
  // made for storing, is not that reading.
  const parsed = i.cutOff ? parseAnswer(i.text, true) : (i.parsed ?? parseAnswer(i.text));
  const plan = withinSignalBudget(
    planForwards({
      neuron,
      known: i.known,
      path: signal.path,
      hop: signal.hop,
      hopLimit: performance.hop_limit,
      maxFanout: performance.request_budget.max_fanout,
      incoming: signal.content,
      parsed,
    }),
    i.spentSignals,
    signalLimit(performance.request_budget, i.carried),
    neuron.id,
  );
  // What the trace keeps of the answer is copied out of it (detached.ts), as the dropped targets are.
  const backward = parsed.backward && {
    targets: parsed.backward.targets.slice(0, MAX_DROPPED_LISTED).map((t) => detached(t.slice(0, 253))),
    errorType: detached(parsed.backward.errorType.slice(0, 200)),
  };
  const unroutable = parsed.results.length === 0 && parsed.forwards.length === 0;
  // Forwards that all went nowhere, with no result and no error of their own (a cycle, the hop
  // limit, a budget) to say why: the branch would "complete" with nothing.
  const forwardedNowhere =
    parsed.results.length === 0 &&
    parsed.forwards.length > 0 &&
    plan.children.length === 0 &&
    plan.errors.length === 0;
  const over = parsed.results.length - MAX_RESULTS_PER_ANSWER;
  const results = keptApart(
    over > 0 ? parsed.results.slice(0, MAX_RESULTS_PER_ANSWER) : parsed.results,
    i.text.length,
  );
  const copy = contentCopies(plan.children, signal.content, i.text.length);
  // One path array shared by every child: it is never mutated.
  const path = plan.children.length > 0 ? [...signal.path, neuron.id] : signal.path;
  return {
    results: results.map((content) => ({ neuron: neuron.id, layer: neuron.layer, content })),
    children: plan.children.map(
      (c): Signal => ({
        id: i.nextId(),
        requestId: signal.requestId,
        traceId: signal.traceId,
        parentId: signal.id,
        from: neuron.id,
        to: c.target,
        hop: signal.hop + 1,
        // A CONTENT equal to the incoming one is still a piece of this answer: the signal's own string
        // takes its place.
        content: c.content === signal.content ? signal.content : copy ? copy(c.content) : c.content,
        path,
        metadata: signal.metadata,
      }),
    ),
    dropped: plan.dropped,
    ...(plan.unlisted ? { unlisted: plan.unlisted } : {}),
    errors: withMisread(
      unroutable
        ? [...plan.errors, unroutableError(neuron.id, backward)]
        : forwardedNowhere
          ? [droppedAllError(neuron, plan)]
          : over > 0
            ? [...plan.errors, resultLimitError(neuron.id, parsed.results.length)]
            : plan.errors,
      neuron.id,
      parsed.misread,
    ),
    backward,
  };
}

// Last: when the branch ends here with nothing, a line the model meant as a directive is the likelier cause.
function withMisread(errors: readonly ErrorInfo[], id: string, m: Misread | undefined): readonly ErrorInfo[] {
  if (!m) return errors;
  const quoted = m.lines.map((l) => JSON.stringify(l)).join(', ');
  const more = m.count > m.lines.length ? ` and ${m.count - m.lines.length} more` : '';
  const error = toErrorInfo(
    new Hal9Error(
      'MALFORMED_DIRECTIVE',
      `${id}'s answer has ${m.count === 1 ? 'a line' : `${m.count} lines`} written as a directive but not read as one: ${quoted}${more}. ` +
        'A directive starts its line with its name in capitals and an ASCII colon (FORWARD_TO:, CONTENT:, RESULT:, BACKWARD_TO:, ERROR_TYPE:), ' +
        'with no mark before it; such a line was read as text, or dropped before the first directive',
    ),
    id,
  );
  return [...errors, error];
}

// An answer that neither results nor forwards would end its branch with nothing to show: it is an
// error the caller sees, naming what the answer held.
function unroutableError(id: string, backward: RoutedAnswer['backward']): ErrorInfo {
  const what = backward
    ? `only BACKWARD_TO (ERROR_TYPE ${backward.errorType})`
    : 'no text, no RESULT with text and no FORWARD_TO';
  return toErrorInfo(new Hal9Error('UNROUTABLE_ANSWER', `${id}'s answer had ${what}`), id);
}

/** Targets named in the message; the rest are counted (the trace lists up to MAX_DROPPED_LISTED). */
const NAMED_TARGETS = 10;

// Why a target was not followed, in the words of the config that decides it.
function droppedWhy(n: NeuronConfig, d: DroppedTarget): string {
  if (d.reason !== 'not_connected') return d.reason;
  return n.forward_connections.includes(d.target) ? 'no runtime hosts it' : 'not in its forward_connections';
}

// An answer whose every FORWARD_TO target was dropped (or that named none) has nothing to show for
// the branch: an error naming each target and why, as an empty answer gets. The plan's targets are
// already quoted at a neuron id's length (routing.ts quotedTarget).
function droppedAllError(n: NeuronConfig, plan: Pick<ForwardPlan, 'dropped' | 'unlisted'>): ErrorInfo {
  const total = droppedTotal(plan);
  const named = plan.dropped.slice(0, NAMED_TARGETS).map((d) => `${d.target} (${droppedWhy(n, d)})`);
  const more = total > NAMED_TARGETS ? ` and ${total - NAMED_TARGETS} more` : '';
  const what =
    total === 0
      ? 'no result and a FORWARD_TO with no target'
      : `no result, and FORWARD_TO only to ${named.join(', ')}${more}`;
  return toErrorInfo(new Hal9Error('UNROUTABLE_ANSWER', `${n.id}'s answer had ${what}`), n.id);
}

/**
 * The results as the request keeps them. Each is a piece of the answer, which keeps the whole answer
 * alive (detached.ts): when they are under half of it, each is copied out (at most half the answer's
 * length, less than parsing it took), so the request store's estimate of a result is what it holds.
 */
function keptApart(results: readonly string[], answerLength: number): readonly string[] {
  let kept = 0;
  for (const r of results) kept += r.length;
  return kept * 2 >= answerLength ? results : results.map(detached);
}

/**
 * The children's contents as they travel on, on the same terms as the results: a CONTENT is a piece
 * of the answer, and a child's content outlives it. The next layer's cache keys its answer by it for
 * the cache's TTL (response-cache.ts) while the cache's byte budget counts only the stored answer,
 * so a short CONTENT after 8 MiB of other text kept 8 MiB per cached entry. Copies when the pieces are
 * under half of the answer; undefined when none is needed. Children often share one content (every
 * target of a FORWARD_TO, up to max_fanout, 1,000): they are told apart by contentIds, which digests
 * the one string they share once, not once per child.
 */
function contentCopies(
  children: readonly PlannedForward[],
  incoming: string,
  answerLength: number,
): ((content: string) => string) | undefined {
  const idOf = contentIds();
  let kept = 0;
  let pieces: Map<string, string> | undefined;
  for (const { content } of children) {
    // The incoming content is the signal's own string (routeAnswer), whether or not the answer
    // repeated it: it was copied, if it had to be, where it was cut.
    if (content === incoming) continue;
    pieces ??= new Map();
    const id = idOf(content);
    if (pieces.has(id)) continue;
    pieces.set(id, content);
    kept += content.length;
  }
  if (!pieces || kept * 2 >= answerLength) return undefined;
  const copies = pieces;
  for (const [id, p] of copies) copies.set(id, detached(p));
  return (c) => copies.get(idOf(c)) ?? c;
}

// A Map: the stop reason is the upstream's string, and `constructor` must not read Object's.
const STOPPED_BY: ReadonlyMap<string, string> = new Map(
  Object.entries({
    model_context_window_exceeded: "the model's context window is full",
    refusal: "the model API's policy classifiers stopped it",
    tool_use: 'the model paused for a tool, and the runtime offers none',
    pause_turn: 'the model paused its turn, and the runtime does not resume one',
  }),
);
const UNKNOWN_STOP = 'not a stop reason the runtime knows as finished (end_turn, stop_sequence)';

/**
 * An answer the model did not finish (claude/backend.ts cutOff): what it held is routed as it stands,
 * since a partial result is the caller's to judge, and the request's errors say it is partial and
 * which limit cut it. Pure.
 */
export function cutOffError(id: string, finishReason: string, maxTokens: number): ErrorInfo {
  const atLimit = finishReason === 'max_tokens';
  const why = atLimit
    ? `at claude.max_tokens (${maxTokens} tokens)`
    : finishReason === NO_STOP_REASON
      ? '(it gave no stop_reason, which a finished Messages answer always gives)'
      : `(stop_reason ${finishReason}: ${STOPPED_BY.get(finishReason) ?? UNKNOWN_STOP})`;
  return toErrorInfo(
    new Hal9Error(
      'ANSWER_TRUNCATED',
      `${id}'s answer was cut off ${why}; what it held was routed as it stands`,
      atLimit ? { field: 'claude.max_tokens' } : {},
    ),
    id,
  );
}

function resultLimitError(id: string, held: number): ErrorInfo {
  return toErrorInfo(
    new Hal9Error(
      'RESULT_LIMIT_EXCEEDED',
      `${id}'s answer held ${held} RESULT blocks; the first ${MAX_RESULTS_PER_ANSWER} are kept (at most ${MAX_RESULTS_PER_ANSWER} per answer)`,
    ),
    id,
  );
}
