import { upstreamPushesBack } from './throttled.ts';

// The parallelism tuner's decision: a pure function of what was observed and what was decided
// before. Increase while the slots are saturated and the p95 keeps 20 % headroom under the SLO — also
// when signals queue behind full slots and the service itself fits the SLO, whether the queue wait
// eats that headroom or breaks the SLO: more slots shorten it; multiplicative
// decrease at once when the service time itself breaks the SLO or the upstream pushes back (429/529;
// then never below the slots in use at 80 %);
// a p95 left over from a queue that has drained holds. Increases wait
// for a stable window after any change, decreases only for a short panic window (or until the
// window the latency came from is past the last cut), so the value settles instead of oscillating;
// a raise that broke the SLO is undone to the value before it, which raises then stay below for a
// while. An empty observation holds the last value: no data is not zero.

export interface Observation {
  /** p95 processing latency over the window, milliseconds. */
  readonly p95Ms: number;
  /** hal9_parallel_tasks_active / hal9_parallel_tasks_max, 0..1. */
  readonly utilization: number;
  /** Signals waiting for a slot (average over the window). */
  readonly queueDepth: number;
  /** Upstream 429/529 answers per second. */
  readonly throttledPerSecond: number;
  /** Signals processed per second. */
  readonly throughput: number;
  /**
   * Average signals in flight plus queued per pod, when known: a raise then goes straight to the
   * slots that demand needs at 80 % utilization (at most doubling) instead of one small step.
   */
  readonly demandPerPod?: number;
  /**
   * Mean time a signal holds its slot (busy slots ÷ completions, Little's law), milliseconds, when
   * known. It tells a slow upstream (cut) from a long queue (raise) when p95 breaks the SLO.
   */
  readonly serviceMs?: number;
  /**
   * Signals in flight plus queued per ready pod predicted from the upstream Neurons' intake ×
   * fan-out (graph pre-scaling), when known: slots are raised for it before the queue grows.
   */
  readonly predictedPerPod?: number;
  /**
   * How far back the p95 and service time reach, milliseconds (the stable window when the panic
   * window finished too few signals). A cut on them waits until they hold only data from after the
   * last cut: cut again on the same old samples, a quiet Neuron would step down to its minimum.
   */
  readonly latencyWindowMs?: number;
}

export interface TuningBounds {
  readonly min: number;
  readonly max: number;
  readonly sloMs: number;
  /** Seconds after any change before an increase (default 30). */
  readonly stableWindowSeconds?: number;
  /** Seconds after a decrease before another decrease (default 5). */
  readonly panicWindowSeconds?: number;
  /**
   * Seconds after an increase before another increase (default: the stable window). The fast loop
   * uses the panic window: a window that holds only data from after the raise is enough, while
   * after a cut the next raise waits the whole stable window, so a ceiling is not probed again at once.
   */
  readonly raiseAfterRaiseSeconds?: number;
  /**
   * Why `max` is below parallelism.max (the model calls a pod runs at once, model-call-cap.ts),
   * and what to raise: said when a decision is held at it or brought down to it.
   */
  readonly maxNote?: string;
}

export type DecisionReason =
  | 'NoData'
  | 'UpstreamThrottling'
  | 'LatencyAboveSLO'
  | 'QueueDrained'
  | 'Saturated'
  | 'PreScaled'
  | 'WithinSLO'
  | 'Cooldown'
  | 'AtBound'
  | 'OutOfBounds'
  /** A raise held: some Ready pods have not taken the current value (parallelism-decision.ts). */
  | 'Undelivered';

export interface Decision {
  readonly value: number;
  readonly reason: DecisionReason;
  readonly changed: boolean;
  /** A cut back to the value before a raise that broke the SLO: the raised value is a ceiling. */
  readonly afterRaise?: boolean;
  readonly message: string;
}

export interface TunerState {
  readonly current: number;
  /** Epoch milliseconds of the last change, 0 if never. */
  readonly lastChangeAt: number;
  /**
   * 'trim': a cut on push-back, which removes only slots the admitted calls leave idle. The next
   * saturation is then new load, not the same ceiling found again, so a raise waits only the panic
   * window, as after a raise.
   */
  readonly lastDirection: 'up' | 'down' | 'trim' | 'none';
  /** The value before the last change: a cut right after a raise goes back to it. */
  readonly previous?: number;
  /**
   * A raised value whose service time broke the SLO, and when: raises stay below it for five
   * stable windows, or a steady load near the ceiling would probe it again and again (a sawtooth).
   */
  readonly ceiling?: { readonly value: number; readonly at: number };
}

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

export function decide(
  state: TunerState,
  obs: Observation | undefined,
  b: TuningBounds,
  now: number,
): Decision {
  const stable = (b.stableWindowSeconds ?? 30) * 1000;
  const panic = (b.panicWindowSeconds ?? 5) * 1000;
  const since = now - state.lastChangeAt;
  const hold = (reason: DecisionReason, message: string): Decision => ({
    value: state.current,
    reason,
    changed: false,
    message,
  });
  const to = (value: number, reason: DecisionReason, message: string): Decision => ({
    value,
    reason,
    changed: value !== state.current,
    message,
  });

  const capped = b.maxNote ? `: ${b.maxNote}` : '';
  if (state.current < b.min || state.current > b.max) {
    const why = state.current > b.max ? capped : '';
    return to(
      clamp(state.current, b.min, b.max),
      'OutOfBounds',
      `limit moved into [${b.min}, ${b.max}]${why}`,
    );
  }
  if (!obs || !Number.isFinite(obs.p95Ms)) return hold('NoData', 'no latency data for the window; holding');

  /** A cut to `value` (at least one slot, within the bounds), `settleMs` (a panic window) after the last one. */
  const down = (reason: DecisionReason, value: number, why: string, settleMs = panic): Decision => {
    if (state.current <= b.min) return hold('AtBound', `${why}, already at the minimum ${b.min}`);
    if ((state.lastDirection === 'down' || state.lastDirection === 'trim') && since < settleMs)
      return hold('Cooldown', `${why}; waiting for the last cut to take effect`);
    return to(clamp(value, b.min, state.current - 1), reason, why);
  };
  // Raises stay below a value that broke the SLO on service time, for a while.
  const ceiling =
    state.ceiling && now - state.ceiling.at < 5 * stable ? state.ceiling.value - 1 : Number.POSITIVE_INFINITY;
  const top = Math.min(b.max, ceiling);
  if (upstreamPushesBack(obs.throttledPerSecond, obs.throughput)) {
    // Push-back trims the slots the upstream's admissions leave idle, never those in use: under
    // open-loop load fewer slots do not mean fewer arrivals, so a deeper cut only turns fast
    // refusals into queue wait (the autoscaling bench's 429 storm).
    const why = `upstream throttled ${obs.throttledPerSecond.toFixed(2)}/s`;
    const busy = obs.utilization * state.current;
    const needed = Math.ceil(busy / 0.8);
    if (needed >= state.current)
      return hold(
        'UpstreamThrottling',
        `${why}; the ${busy.toFixed(1)} slots in use carry what it admits, so a cut would only queue: holding`,
      );
    // Straight to what is in use: idle slots carry nothing, so there is nothing to step down from.
    return down('UpstreamThrottling', needed, why);
  }
  const saturated = obs.utilization >= 0.8 || obs.queueDepth >= 1;
  // Queue wait, not service, breaks the SLO: cutting slots would lengthen the queue and break it more.
  const serviceFits = obs.serviceMs !== undefined && obs.serviceMs <= b.sloMs * 0.8;
  const queueBound = obs.p95Ms > b.sloMs && saturated && serviceFits;
  // Within the SLO but past its 80 % headroom, with full slots and signals queued behind them: the
  // margin is queue wait, which only grows while the slots stay as they are, and the service fits.
  const queueing = obs.p95Ms <= b.sloMs && saturated && obs.queueDepth >= 1 && serviceFits;
  if (obs.p95Ms > b.sloMs && !serviceFits) {
    // Right after a raise, the raise broke it: back to the value before (the last good one), not a
    // fifth under the new one, which would leave a steady load below what it held. "Right after": the
    // window the breach was read over began after the raise, at most a stable window ago. A raise
    // long before (a value that served for minutes) did not break it: the upstream got slower, and
    // one slot back would be a token cut, followed by raises held below a value that was fine.
    const back =
      state.lastDirection === 'up' &&
      state.previous !== undefined &&
      state.previous < state.current &&
      since <= Math.max(stable, obs.latencyWindowMs ?? 0);
    const cut = down(
      'LatencyAboveSLO',
      back ? state.previous! : Math.floor(state.current * 0.8),
      `p95 ${obs.p95Ms.toFixed(1)} ms above the ${b.sloMs} ms SLO`,
      Math.max(panic, obs.latencyWindowMs ?? 0),
    );
    return back && cut.changed ? { ...cut, afterRaise: true } : cut;
  }
  const headroom = obs.p95Ms <= b.sloMs * 0.8 || queueBound || queueing;
  const wait =
    state.lastDirection === 'up' || state.lastDirection === 'trim'
      ? (b.raiseAfterRaiseSeconds ?? stable / 1000) * 1000
      : stable;
  // Graph pre-scaling: the intake predicted from upstream would fill the slots past 80 %. The live
  // limit is the fastest capacity there is (pods take seconds to start), so it goes first, whenever
  // the service itself fits the SLO (a p95 made of queue wait is what it is meant to prevent).
  // A raise waits for a window of its own measurements from after the last raise; a prediction is
  // the upstream's measurement, so a pre-scale follows a raise at once (a pass right after the
  // upstream's step sees a fraction of it, and the rest must not wait a panic window). After a cut
  // it waits the stable window like any raise.
  const ahead = obs.predictedPerPod === undefined ? 0 : Math.ceil(obs.predictedPerPod / 0.8);
  if (ahead > state.current && (obs.p95Ms <= b.sloMs * 0.8 || serviceFits) && state.current < top) {
    if (state.lastDirection === 'down' && since < wait)
      return hold('Cooldown', 'intake predicted from upstream; waiting for a window after the last cut');
    return to(
      clamp(Math.min(ahead, state.current * 2), b.min, top),
      'PreScaled',
      `${obs.predictedPerPod!.toFixed(1)} per pod predicted in flight and queued from upstream intake, p95 ${obs.p95Ms.toFixed(1)} ms`,
    );
  }
  // The p95 still holds signals that waited in a queue which has since drained (the slots are no
  // longer saturated) while the service fits: neither a cut nor a raise would help.
  if (obs.p95Ms > b.sloMs && !saturated) {
    return hold(
      'QueueDrained',
      `p95 ${obs.p95Ms.toFixed(1)} ms is queue wait that has drained (service ${obs.serviceMs!.toFixed(1)} ms fits the SLO, slots ${(obs.utilization * 100).toFixed(0)} % busy); holding`,
    );
  }
  if (saturated && headroom) {
    if (state.current >= b.max) return hold('AtBound', `saturated, already at the maximum ${b.max}${capped}`);
    if (state.current >= top)
      return hold(
        'Cooldown',
        `saturated, but ${state.ceiling!.value} broke the SLO ${Math.round((now - state.ceiling!.at) / 1000)} s ago; holding below it`,
      );
    if (since < wait)
      return hold('Cooldown', 'saturated within the SLO; waiting for a window after the last change');
    const step = Math.max(1, Math.ceil(state.current / 8));
    const demand = obs.demandPerPod === undefined ? 0 : Math.ceil(obs.demandPerPod / 0.8);
    const target = Math.max(state.current + step, Math.min(demand, state.current * 2));
    const latency = queueBound
      ? `p95 ${obs.p95Ms.toFixed(1)} ms is queue wait (service ${obs.serviceMs!.toFixed(1)} ms fits the SLO)`
      : obs.p95Ms > b.sloMs * 0.8
        ? `p95 ${obs.p95Ms.toFixed(1)} ms past 80 % of the SLO on queue wait (service ${obs.serviceMs!.toFixed(1)} ms fits the SLO)`
        : `p95 ${obs.p95Ms.toFixed(1)} ms within the SLO`;
    return to(
      clamp(target, b.min, top),
      'Saturated',
      `slots ${(obs.utilization * 100).toFixed(0)} % busy, queue ${obs.queueDepth.toFixed(1)}${obs.demandPerPod === undefined ? '' : `, ${obs.demandPerPod.toFixed(1)} per pod in flight and queued`}, ${latency}`,
    );
  }
  return hold(
    'WithinSLO',
    `p95 ${obs.p95Ms.toFixed(1)} ms, slots ${(obs.utilization * 100).toFixed(0)} % busy`,
  );
}

/** The state after applying a decision. */
export function advance(state: TunerState, d: Decision, now: number): TunerState {
  if (!d.changed) return state;
  // A service-time break right after a raise marks the raised value as a ceiling.
  const ceiling = d.afterRaise ? { value: state.current, at: now } : state.ceiling;
  return {
    current: d.value,
    lastChangeAt: now,
    lastDirection: d.value > state.current ? 'up' : d.reason === 'UpstreamThrottling' ? 'trim' : 'down',
    previous: state.current,
    ...(ceiling ? { ceiling } : {}),
  };
}
