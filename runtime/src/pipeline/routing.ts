import type { NeuronConfig } from '../config/types.ts';
import { type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import type { DropReason } from './observer.ts';
import type { ParsedAnswer } from './protocol.ts';

// Routing policy as a pure function: which targets of an answer's FORWARD_TO directives are followed,
// which are dropped and why. No ids, no clocks, no metrics: the engine turns forwards into signals.
// A target named twice is followed once; beyond `maxFanout` distinct targets the rest are dropped,
// so one crafted answer cannot multiply into thousands of (paid) calls.

export interface RoutingInput {
  readonly neuron: NeuronConfig;
  /** Neuron ids this runtime knows (local or remote). */
  readonly known: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  /** Neurons already visited on this branch, this neuron excluded. */
  readonly path: readonly string[];
  readonly hop: number;
  readonly hopLimit: number;
  /** Distinct targets one answer may forward to. */
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

export interface ForwardPlan {
  readonly children: readonly PlannedForward[];
  readonly dropped: readonly DroppedTarget[];
  readonly errors: readonly ErrorInfo[];
}

/** Dropped targets listed per answer; the rest are counted in metrics but not repeated in the trace. */
export const MAX_DROPPED_LISTED = 100;

export function planForwards(i: RoutingInput): ForwardPlan {
  const children: PlannedForward[] = [];
  const dropped: DroppedTarget[] = [];
  const errors: ErrorInfo[] = [];
  const id = i.neuron.id;
  const seen = new Set<string>();
  let overflow = 0;
  for (const f of i.parsed.forwards) {
    for (const target of f.targets) {
      if (seen.has(target)) continue;
      seen.add(target);
      if (!i.neuron.forward_connections.includes(target) || !i.known.has(target)) {
        dropped.push({ target, reason: 'not_connected' });
      } else if (target === id || i.path.includes(target)) {
        dropped.push({ target, reason: 'cycle' });
        const path = [...i.path, id, target].join(' → ');
        errors.push(
          toErrorInfo(
            new Hal9Error('CYCLE_DETECTED', `${id} → ${target} would revisit ${target} (path ${path})`),
            id,
          ),
        );
      } else if (i.hop + 1 >= i.hopLimit) {
        dropped.push({ target, reason: 'hop_limit' });
        errors.push(
          toErrorInfo(
            new Hal9Error(
              'HOP_LIMIT_EXCEEDED',
              `forwarding ${id} → ${target} would exceed the hop limit of ${i.hopLimit}`,
            ),
            id,
          ),
        );
      } else if (children.length >= i.maxFanout) {
        dropped.push({ target, reason: 'fanout_limit' });
        overflow++;
      } else {
        children.push({ target, content: f.content ?? i.incoming });
      }
    }
  }
  if (overflow > 0) {
    errors.push(
      toErrorInfo(
        new Hal9Error(
          'FANOUT_LIMIT_EXCEEDED',
          `${id} named ${overflow} more target(s) than performance.request_budget.max_fanout (${i.maxFanout})`,
          { field: 'performance.request_budget.max_fanout' },
        ),
        id,
      ),
    );
  }
  return { children, dropped, errors };
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
