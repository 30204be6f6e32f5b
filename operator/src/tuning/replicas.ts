// The replica law (pure), after Knative's autoscaler: desired pods = observed concurrency (signals
// in flight plus queued) ÷ what one pod should hold. The stable window's average decides; the
// short panic window takes over when it asks for at least `panicThreshold` × the ready pods, and
// then replicas only go up until the stable window passes without such a burst. Scale-up is
// immediate; scale-down goes to the highest count wanted over `scaleDownDelayMs`, at most halving
// per decision. A drop is the mirror of a panic: when the panic window holds at most 1 ÷
// `panicThreshold` of the stable window's concurrency, the load fell, and for a stable window (until
// it holds only data from after the drop) the panic window decides both ways, so a step down is
// followed within a panic window instead of a stable one, and the old load still in the stable
// window does not scale straight back up. Graph-aware pre-scaling adds a predicted concurrency from upstream intake. No data
// holds the value: an empty observation is never a zero.
//
// Pods are added on the stable window only while the panic window asks for more than the current
// count too (a step's backlog lingers in the stable window after the load has settled).
//
// Hysteresis: pods are added when the load passes the per-pod target, but taken away only when the
// smaller count would hold the load at `SCALE_DOWN_MARGIN` of it. Without the band a load that sits
// on the target (a window's average crossing it by noise) adds a pod and removes it again seconds
// later; with it such a load costs at most one step up and no step back.

export interface ReplicaBounds {
  readonly min: number;
  readonly max: number;
  /** targetConcurrencyPerPod: the most one pod should hold. */
  readonly targetPerPod: number;
  /** targetUtilizationPercentage / 100: the share of what a pod runs at once to keep busy. */
  readonly targetUtilization: number;
  /**
   * The most model calls one pod runs at once (model-call-cap.ts); undefined: no cap. A pod runs no
   * more signals than that whatever its slots: the rest wait for a call, as queued ones do.
   */
  readonly callsPerPod?: number;
  /** panicThresholdPercentage / 100. */
  readonly panicThreshold: number;
  readonly stableWindowMs: number;
  readonly scaleDownDelayMs: number;
  /**
   * How long a pre-scale is held after the last pass that predicted more than the Neuron's own
   * windows (the tuner passes two panic windows). Default: the stable window.
   */
  readonly prescaleHoldMs?: number;
}

export interface ReplicaInputs {
  /** Pods counted ready (the denominator of the panic test). */
  readonly readyPods: number;
  /** Average concurrency over the stable window, all pods; undefined: no data. */
  readonly stableConcurrency: number | undefined;
  /**
   * How much of the stable window its average covers (ms); undefined: all of it. Less after a
   * restart or a leader change (this process has read the pods for a few seconds): scale-up goes
   * on, but no pod is taken away on seconds of load (a lull in bursty load) until it is full.
   */
  readonly stableCoveredMs?: number | undefined;
  /** Average concurrency over the panic window; undefined: no data. */
  readonly panicConcurrency: number | undefined;
  /**
   * In flight the panic window's arrivals need at its service time (arrival rate × time a signal
   * holds a slot), when known: what a burst keeps needing once the backlog it built is drained.
   */
  readonly panicDemand?: number | undefined;
  /** Executor limit per pod in effect (as just decided by the parallelism law). */
  readonly slotsPerPod: number;
  /** The upstream pushes back (429/529): more pods would only send more into the same limit. */
  readonly throttled: boolean;
  /** Concurrency predicted from upstream intake × fan-out × latency (pre-scaling). */
  readonly predictedConcurrency?: number | undefined;
  /**
   * The part of the prediction the upstream's intake keeps needing (without its backlog × fan-out,
   * which passes through once), when known: what a pre-scale holds for a stable window.
   */
  readonly predictedDemand?: number | undefined;
}

export interface ReplicaState {
  readonly current: number;
  /** Epoch ms until which panic mode lasts; 0 when calm. */
  readonly panicUntil: number;
  /** Epoch ms until which a pre-scale is held (like a panic); 0 or absent when none. */
  readonly prescaleUntil?: number;
  /**
   * Highest panic-window concurrency seen in this panic. Panic holds this much capacity, counted
   * in concurrency and not in pods, so slots raised meanwhile let the pod count come down.
   */
  readonly panicPeak?: number;
  /** Epoch ms until which the panic window decides after a drop in load; 0 or absent when none. */
  readonly dropUntil?: number;
  /** Recommendations within the scale-down delay window. */
  readonly recent: readonly { readonly at: number; readonly value: number }[];
}

export type ReplicaReason =
  | 'NoData'
  | 'OutOfBounds'
  | 'Concurrency'
  | 'Panic'
  | 'PreScaled'
  | 'ScaleDownStabilized'
  | 'UpstreamThrottling'
  | 'Steady';

export interface ReplicaDecision {
  readonly value: number;
  readonly changed: boolean;
  readonly reason: ReplicaReason;
  readonly message: string;
  readonly panic: boolean;
  readonly perPodTarget: number;
  readonly state: ReplicaState;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
/** Pods that hold `concurrency` at `perPod` each (a hair of float noise is not another pod). */
const podsFor = (concurrency: number, perPod: number) => Math.ceil(concurrency / perPod - 1e-9);

/**
 * The share of the per-pod target a smaller count must hold the load at before pods are taken away:
 * 10 % of the target is the hysteresis band (a window's noise at a steady load is a few percent).
 */
export const SCALE_DOWN_MARGIN = 0.9;
const f1 = (n: number) => n.toFixed(1);

/** What one pod runs at once: its slots, or the model calls it runs at once when fewer. */
const runningPerPod = (b: ReplicaBounds, slotsPerPod: number): number =>
  Math.min(slotsPerPod, b.callsPerPod ?? Number.POSITIVE_INFINITY);

/**
 * What one pod is sized to hold: the lower of the target and what it runs at once × target
 * utilization. The concurrency it is compared with counts queued signals too, and a signal in a slot
 * past the model-call cap waits like a queued one: sized by its 32 slots at 70 %, a pod that runs
 * 10 calls would take 22 signals, 12 of them waiting, before another pod is added.
 */
export const perPodTarget = (b: ReplicaBounds, slotsPerPod: number): number =>
  Math.max(0.1, Math.min(b.targetPerPod, runningPerPod(b, slotsPerPod) * b.targetUtilization));

/** What the per-pod target is a share of, in words. */
const running = (b: ReplicaBounds, slots: number) =>
  runningPerPod(b, slots) < slots ? `limit ${slots} held to ${b.callsPerPod} model calls` : `limit ${slots}`;

export function decideReplicas(
  state: ReplicaState,
  x: ReplicaInputs,
  b: ReplicaBounds,
  now: number,
): ReplicaDecision {
  const max = Math.max(b.min, b.max);
  const perPod = perPodTarget(b, x.slotsPerPod);
  const result = (
    value: number,
    reason: ReplicaReason,
    message: string,
    next: Partial<ReplicaState> = {},
    panic = false,
  ): ReplicaDecision => ({
    value,
    changed: value !== state.current,
    reason,
    message,
    panic,
    perPodTarget: perPod,
    state: { ...state, ...next, current: value },
  });

  // A figure that is not a finite number (a pod's counters that overflowed the windows' arithmetic)
  // is no data: compared, NaN would freeze the count wherever it is.
  if (x.stableConcurrency === undefined || !Number.isFinite(x.stableConcurrency)) {
    if (state.current < b.min || state.current > max)
      return result(
        clamp(state.current, b.min, max),
        'OutOfBounds',
        `replicas moved into [${b.min}, ${max}]`,
      );
    return result(
      state.current,
      'NoData',
      `no load reports over the stable window; holding ${state.current}`,
    );
  }

  const ready = Math.max(1, x.readyPods);
  const stableConcurrency = x.stableConcurrency;
  const stable = podsFor(stableConcurrency, perPod);
  const burst = x.panicConcurrency === undefined ? stable : podsFor(x.panicConcurrency, perPod);
  const predicted = x.predictedConcurrency === undefined ? 0 : podsFor(x.predictedConcurrency, perPod);
  const panicking = burst / ready >= b.panicThreshold;
  // A pre-scale is held like a panic, so it is not undone (by a dip in the upstream's intake) before
  // its pods are even ready. But only for `prescaleHoldMs` after the last pass that predicted more:
  // by then the Neuron's own panic window holds the load that arrived, and the floor below keeps
  // what it needs. Held for a stable window, a prediction the load did not need cost a late step
  // down a minute after the step up (the graph bench: L3's second pod went at 67 s).
  const prescaling = predicted > stable;
  const panicUntil = panicking ? now + b.stableWindowMs : state.panicUntil;
  const prescaleUntil = prescaling
    ? now + (b.prescaleHoldMs ?? b.stableWindowMs)
    : (state.prescaleUntil ?? 0);
  const inPanic = now < panicUntil || now < prescaleUntil;
  // The capacity a panic holds is its arrivals' need, not the backlog they built: the burst itself
  // scales on the whole concurrency (so the backlog drains fast), but holding a backlog's peak for
  // a stable window keeps pods nobody needs once it is drained, and scales down a minute late.
  const sustained = Math.min(
    x.panicConcurrency ?? x.stableConcurrency,
    x.panicDemand ?? Number.POSITIVE_INFINITY,
  );
  const panicPeak = inPanic
    ? Math.max(
        state.panicPeak ?? 0,
        sustained,
        // Like a burst's backlog, an upstream's backlog is scaled for but not held: it passes once.
        prescaling ? Math.min(x.predictedConcurrency ?? 0, x.predictedDemand ?? Number.POSITIVE_INFINITY) : 0,
      )
    : undefined;

  const dropping =
    !inPanic &&
    x.panicConcurrency !== undefined &&
    burst < stable &&
    x.panicConcurrency * b.panicThreshold <= stableConcurrency;
  // A panic that starts inside a drop keeps it: the stable window still holds the load from before
  // the drop, so sizing the burst on it would scale on load that has left (1 → 4 pods for a burst
  // that needs 2), and hold that for a stable window.
  const dropUntil = dropping ? now + b.stableWindowMs : (state.dropUntil ?? 0);
  const inDrop = now < dropUntil;

  // The count the windows ask for when each pod holds `per`: the per-pod target for a raise, the
  // target × SCALE_DOWN_MARGIN for how far a scale-down may go.
  const recommend = (per: number, floor: boolean): { value: number; reason: ReplicaReason } => {
    const s = podsFor(stableConcurrency, per);
    const p = x.panicConcurrency === undefined ? s : podsFor(x.panicConcurrency, per);
    // Panic never scales down below the capacity its peak asked for (Knative holds the pod count;
    // this holds the concurrency, so a per-pod target raised by the slots lowers the count). What
    // the peak asked for is counted at the per-pod target, not with the scale-down margin: the peak
    // is already a maximum, and a margin on it kept a pod a whole stable window for a peak 5 % over
    // what one pod holds (the graph bench of 2026-12-02).
    const held = panicPeak === undefined ? 0 : podsFor(panicPeak, perPod);
    // Pods are added on the stable window only while the panic window asks for more than the current
    // count too. After a step up, the backlog the step built (while new pods started) stays in the
    // stable window as the quieter seconds before the step leave it, so its average rose above the
    // steady load a minute later and added a pod the last seconds did not need (taken away again
    // 10-20 s later). A load still rising is in the panic window first.
    const stableUp = floor || p > state.current ? s : Math.min(s, state.current);
    let value = inPanic ? Math.max(inDrop ? 0 : stableUp, p, held) : inDrop ? p : stableUp;
    let reason: ReplicaReason = inPanic ? 'Panic' : 'Concurrency';
    const pre = x.predictedConcurrency === undefined ? 0 : podsFor(x.predictedConcurrency, per);
    if (prescaling && pre >= value) {
      value = pre;
      reason = 'PreScaled';
    }
    // Going down, never below what the panic window asks for: out of a panic the stable window can
    // still hold the load from before a rise (below the panic threshold), and would take pods away
    // that the last seconds need, only to add them again when it catches up.
    if (floor && !inDrop && p > value) value = p;
    return { value: clamp(value, b.min, max), reason };
  };
  const up = recommend(perPod, false);
  let rec = up.value;
  const reason = up.reason;
  let banded = false;
  if (rec < state.current) {
    const down = Math.min(state.current, recommend(perPod * SCALE_DOWN_MARGIN, true).value);
    banded = down > Math.min(state.current, recommend(perPod, true).value);
    rec = down;
  }
  const recent = [...state.recent.filter((r) => now - r.at < b.scaleDownDelayMs), { at: now, value: rec }];
  const inputs =
    `concurrency ${f1(stableConcurrency)} stable, ${x.panicConcurrency === undefined ? '-' : f1(x.panicConcurrency)} panic` +
    `${x.predictedConcurrency === undefined ? '' : `, ${f1(x.predictedConcurrency)} predicted`}; ` +
    `per-pod target ${f1(perPod)} (${running(b, x.slotsPerPod)} × ${Math.round(b.targetUtilization * 100)} %, at most ${b.targetPerPod}); ready ${x.readyPods}`;
  const next = {
    panicUntil,
    prescaleUntil,
    dropUntil,
    recent,
    ...(panicPeak === undefined ? { panicPeak: undefined } : { panicPeak }),
  };

  if (state.current < b.min || state.current > max) {
    return result(
      clamp(state.current, b.min, max),
      'OutOfBounds',
      `replicas moved into [${b.min}, ${max}]; ${inputs}`,
      next,
      inPanic,
    );
  }
  if (rec > state.current) {
    if (x.throttled)
      return result(
        state.current,
        'UpstreamThrottling',
        `would scale to ${rec}, but the upstream pushes back; ${inputs}`,
        next,
        inPanic,
      );
    return result(rec, reason, `${state.current} → ${rec}: ${inputs}`, next, inPanic);
  }
  if (banded && rec >= state.current)
    return result(
      state.current,
      'ScaleDownStabilized',
      `${up.value} wanted at the per-pod target, but ${state.current - 1} would hold the load above ${Math.round(SCALE_DOWN_MARGIN * 100)} % of it (hysteresis); ${inputs}`,
      next,
      inPanic,
    );
  if (rec < state.current && x.stableCoveredMs !== undefined && x.stableCoveredMs < b.stableWindowMs)
    return result(
      state.current,
      'ScaleDownStabilized',
      `${rec} wanted, but the stable window holds ${f1(x.stableCoveredMs / 1000)}s of load reports of ${f1(b.stableWindowMs / 1000)}s (the operator started reading these pods since); ${inputs}`,
      next,
      inPanic,
    );
  if (rec < state.current) {
    const held = Math.max(...recent.map((r) => r.value));
    // At most halve per decision (Knative's max scale-down rate 2).
    const to = Math.max(held, Math.ceil(state.current / 2));
    if (to >= state.current)
      return result(
        state.current,
        'ScaleDownStabilized',
        `${rec} wanted, ${held} within the scale-down delay; ${inputs}`,
        next,
        inPanic,
      );
    return result(
      to,
      'Concurrency',
      `${state.current} → ${to}: ${inDrop ? 'load dropped (the panic window decides until the stable window holds only data from after the drop); ' : ''}${inputs}`,
      next,
      inPanic,
    );
  }
  return result(state.current, 'Steady', inputs, next, inPanic);
}
