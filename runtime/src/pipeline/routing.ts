import { hash } from 'node:crypto';
import type { NeuronConfig } from '../config/types.ts';
import { type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import { excerpt } from './detached.ts';
import type { DropReason } from './observer.ts';
import type { ParsedAnswer } from './protocol.ts';

// Routing policy as a pure function: which targets of an answer's FORWARD_TO directives are followed,
// which are dropped and why. No ids, no clocks, no metrics: the engine turns forwards into signals.
// A target named twice with the same content is followed once, and once more for each other content
// (two pieces of work for one neuron are two pieces); beyond `maxFanout` children the rest are
// dropped, so one crafted answer cannot multiply into thousands of (paid) calls. Dropped targets are listed
// up to MAX_DROPPED_LISTED (each quoted at a neuron id's length) and the rest only counted by reason.

export interface RoutingInput {
  readonly neuron: NeuronConfig;
  /** Neuron ids this runtime knows (local or remote). */
  readonly known: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  /** Neurons already visited on this branch, this neuron excluded. */
  readonly path: readonly string[];
  readonly hop: number;
  readonly hopLimit: number;
  /** Children one answer may forward (a target once per distinct content). */
  readonly maxFanout: number;
  readonly incoming: string;
  readonly parsed: ParsedAnswer;
}

export interface PlannedForward {
  readonly target: string;
  readonly content: string;
}

export interface DroppedTarget {
  readonly target: string;
  readonly reason: DropReason;
}

export type DropCounts = Readonly<Partial<Record<DropReason, number>>>;

export interface ForwardPlan {
  readonly children: readonly PlannedForward[];
  /** The first MAX_DROPPED_LISTED dropped targets, each as the trace quotes it (quotedTarget). */
  readonly dropped: readonly DroppedTarget[];
  /** The dropped targets past those, counted by reason (absent when none). */
  readonly unlisted?: DropCounts;
  readonly errors: readonly ErrorInfo[];
}

/** Dropped targets listed per answer; the rest are counted in metrics but not repeated in the trace. */
export const MAX_DROPPED_LISTED = 100;

/** A target as the trace and messages quote it: the model's text, at a neuron id's length (63) at most. */
export const quotedTarget = (t: string): string => excerpt(t, 63);

/** Every dropped target of a plan by reason, the listed ones and the rest. */
export function dropCounts(plan: Pick<ForwardPlan, 'dropped' | 'unlisted'>): DropCounts {
  const counts: Partial<Record<DropReason, number>> = { ...plan.unlisted };
  for (const d of plan.dropped) counts[d.reason] = (counts[d.reason] ?? 0) + 1;
  return counts;
}

/** How many targets a plan dropped in all. */
export function droppedTotal(plan: Pick<ForwardPlan, 'dropped' | 'unlisted'>): number {
  let n = plan.dropped.length;
  for (const c of Object.values(plan.unlisted ?? {})) n += c;
  return n;
}

/**
 * Records a dropped target: listed (quoted) while the list has room, else only counted, so an answer
 * naming a million targets costs a count, not a million entries.
 */
export function recordDrop(
  dropped: DroppedTarget[],
  unlisted: Partial<Record<DropReason, number>>,
  target: string,
  reason: DropReason,
): void {
  if (dropped.length < MAX_DROPPED_LISTED) dropped.push({ target: quotedTarget(target), reason });
  else unlisted[reason] = (unlisted[reason] ?? 0) + 1;
}

/**
 * How a set of contents tells them apart (`seen` here, route-answer.ts's copies). V8 hashes a string longer than 16,383 characters by its length
 * alone, so long contents of one length shared one bucket of the Set and each lookup compared them
 * all (an 8 MiB answer of 512 such CONTENTs for one target took 70–110 ms to route); a long one is
 * known by its digest, as the response cache keys it.
 */
export const contentId = (c: string): string => (c.length > 1024 ? hash('sha256', c, 'base64url') : c);

/**
 * contentId, remembered for the last string asked: every target of one FORWARD_TO shares its
 * CONTENT's string, which is then digested once, not once per target (up to max_fanout, 1,000).
 */
export function contentIds(): (c: string) => string {
  let last: string | undefined;
  let lastId = '';
  return (c) => {
    if (c !== last) {
      last = c;
      lastId = contentId(c);
    }
    return lastId;
  };
}

export function planForwards(i: RoutingInput): ForwardPlan {
  const children: PlannedForward[] = [];
  const dropped: DroppedTarget[] = [];
  const unlisted: Partial<Record<DropReason, number>> = {};
  const errors: ErrorInfo[] = [];
  const id = i.neuron.id;
  const connections = i.neuron.forward_connections;
  // Connections decided on, and names outside them that are listed: both bounded, however many
  // names the answer holds (a set of every name was most of the routing time of a 900,000-name answer).
  const decided = new Set<string>();
  // The contents (by contentId) each followed target was named with, sent or dropped at max_fanout: each is decided once.
  const seen = new Map<string, Set<string>>();
  const listed = new Set<string>();
  const idOf = contentIds();
  let overflow = 0;
  /** A child within max_fanout (true), else dropped and counted (false). */
  const follow = (target: string, content: string): boolean => {
    if (children.length >= i.maxFanout) {
      recordDrop(dropped, unlisted, target, 'fanout_limit');
      overflow++;
      return false;
    }
    children.push({ target, content });
    return true;
  };
  for (const f of i.parsed.forwards) {
    for (const named of f.targets) {
      const c = connections.indexOf(named);
      if (c === -1) {
        // Past the listed names, each further name is counted, a repeated one again.
        if (listed.has(named)) continue;
        if (dropped.length < MAX_DROPPED_LISTED) listed.add(named);
        recordDrop(dropped, unlisted, named, 'not_connected');
        continue;
      }
      // The config's own id string, not a piece of the answer (detached.ts).
      const target = connections[c]!;
      const content = f.content ?? i.incoming;
      if (decided.has(target)) {
        // Dropped once, dropped for good; followed, it takes each distinct content once more.
        const contents = seen.get(target);
        if (!contents) continue;
        const id = idOf(content);
        if (contents.has(id)) continue;
        contents.add(id);
        follow(target, content);
        continue;
      }
      decided.add(target);
      if (!i.known.has(target)) {
        recordDrop(dropped, unlisted, target, 'not_connected');
      } else if (target === id || i.path.includes(target)) {
        recordDrop(dropped, unlisted, target, 'cycle');
        const path = [...i.path, id, target].join(' → ');
        errors.push(
          toErrorInfo(
            new Hal9Error('CYCLE_DETECTED', `${id} → ${target} would revisit ${target} (path ${path})`),
            id,
          ),
        );
      } else if (i.hop + 1 >= i.hopLimit) {
        recordDrop(dropped, unlisted, target, 'hop_limit');
        errors.push(
          toErrorInfo(
            new Hal9Error(
              'HOP_LIMIT_EXCEEDED',
              `forwarding ${id} → ${target} would exceed the hop limit of ${i.hopLimit}`,
            ),
            id,
          ),
        );
      } else if (follow(target, content)) {
        seen.set(target, new Set([idOf(content)]));
      }
    }
  }
  if (overflow > 0) {
    errors.push(
      toErrorInfo(
        new Hal9Error(
          'FANOUT_LIMIT_EXCEEDED',
          `${id} named ${overflow} more children (targets, or other contents for one) than performance.request_budget.max_fanout (${i.maxFanout})`,
          { field: 'performance.request_budget.max_fanout' },
        ),
        id,
      ),
    );
  }
  return { children, dropped, ...(Object.keys(unlisted).length > 0 ? { unlisted } : {}), errors };
}

/**
 * Why a signal another runtime forwarded to neuron `n` is refused, or undefined: a peer's hop count
 * and path are checked against this runtime's own hop limit and for a cycle, never trusted.
 */
export function refuseForwarded(
  n: NeuronConfig,
  s: { readonly hop: number; readonly path: readonly string[] },
  hopLimit: number,
): ErrorInfo | undefined {
  if (s.hop >= hopLimit || s.path.length >= hopLimit) {
    return toErrorInfo(
      new Hal9Error(
        'HOP_LIMIT_EXCEEDED',
        `a forwarded signal at hop ${s.hop} reached the hop limit of ${hopLimit}`,
      ),
      n.id,
    );
  }
  if (s.path.includes(n.id)) {
    return toErrorInfo(new Hal9Error('CYCLE_DETECTED', `a forwarded signal would revisit ${n.id}`), n.id);
  }
  return undefined;
}
