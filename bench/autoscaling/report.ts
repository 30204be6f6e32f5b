// Pure: the markdown the bench prints, from what each profile recorded for both configurations.
import {
  ceiling,
  clientFigures,
  type Decision,
  deliveries,
  downstreamFigures,
  oscillation,
  quantile,
  type RequestResult,
  type Sample,
  stepFigures,
  timeline,
} from './analysis.ts';
import { BATCH, type Config, type Profile, profileSeconds } from './scenarios.ts';

/** A pod process the runner started during the run (ms after the profile started). */
export interface ProcessStart {
  readonly pod: string;
  /** The runner saw the pod Running (after creation, scheduling and kwok). */
  readonly seenMs: number;
  readonly spawnedMs: number;
  /** It answered /healthz on its pod IP; undefined: never. */
  readonly readyMs: number | undefined;
}

export interface ConfigRun {
  readonly results: readonly RequestResult[];
  readonly decisions: readonly Decision[];
  readonly samples: readonly (Sample & { readonly cpuMs: number })[];
  /** Absent in runs recorded before it was kept. */
  readonly starts?: readonly ProcessStart[];
}

export interface ProfileRun {
  readonly profile: Profile;
  readonly runs: Readonly<Record<Config, ConfigRun>>;
}

const f = (x: number | undefined, digits = 1) =>
  x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits);
const s = (x: number | undefined) => (x === undefined ? 'none' : `${x.toFixed(1)} s`);
const mark = (good: boolean) => (good ? '✓' : '✗');

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** A CPU HPA's recommendation for the static pods over a window: ceil(pods × utilization / target). */
export function cpuHpa(
  samples: ConfigRun['samples'],
  neuron: string,
  from: number,
  to: number,
  requestCores: number,
  targetPercent: number,
) {
  const w = samples.filter((x) => x.neuron === neuron && x.t >= from * 1000 && x.t < to * 1000);
  const a = w[0];
  const b = w.at(-1);
  if (!a || !b || b.t <= a.t || b.ready === 0) return undefined;
  const utilization = (b.cpuMs - a.cpuMs) / (b.t - a.t) / (b.ready * requestCores);
  return {
    utilizationPercent: utilization * 100,
    replicas: Math.max(1, Math.ceil((b.ready * utilization * 100) / targetPercent)),
  };
}

/**
 * The goodput ratio against the static configuration (target 1.5×). With static at 0 there is no
 * ratio to print; when the ceiling itself is less than 1.5 × static, the target cannot be met by
 * any configuration, and the cell says so (it stays ✗: the target is not met).
 */
export function ratioCell(staticGoodput: number, operatorGoodput: number, ceilingPerS: number): string {
  if (staticGoodput === 0) return operatorGoodput > 0 ? 'static 0 ✓' : 'both 0 ✗';
  const ratio = operatorGoodput / staticGoodput;
  const best = ceilingPerS / staticGoodput;
  return `${ratio.toFixed(2)}× ${mark(ratio >= 1.5)}${best < 1.5 ? ` (1.5× unreachable: the ceiling is ${best.toFixed(2)}× static)` : ''}`;
}

/** Goodput as a share of the ceiling, static / operator. */
export function ceilingCell(ceilingPerS: number, staticGoodput: number, operatorGoodput: number): string {
  const pct = (g: number) => (ceilingPerS > 0 ? `${Math.round((100 * g) / ceilingPerS)} %` : '–');
  return `${f(ceilingPerS)} (${pct(staticGoodput)} / ${pct(operatorGoodput)})`;
}

export function scenarioRows(p: ProfileRun): string[][] {
  const { static: st, operator: op } = p.runs;
  return p.profile.phases.map((phase) => {
    const a = clientFigures(st.results, phase.from, phase.to, p.profile.clientSloMs);
    const b = clientFigures(op.results, phase.from, phase.to, p.profile.clientSloMs);
    const top = ceiling(p.profile, phase.from, phase.to);
    const step = phase.stepAt === undefined ? undefined : stepFigures(op.decisions, phase);
    const osc = phase.steady ? oscillation(op.decisions, phase.from, phase.to) : undefined;
    return [
      phase.name,
      `${f(a.goodput)} / ${f(b.goodput)}`,
      ratioCell(a.goodput, b.goodput, top),
      ceilingCell(top, a.goodput, b.goodput),
      `${f(a.p95Ms, 0)} / ${f(b.p95Ms, 0)}`,
      `${a.errors} / ${b.errors}`,
      step
        ? `${s(step.firstReactionS)}${step.firstReaction ? ` (${step.firstReaction.neuron} ${step.firstReaction.kind} ${step.firstReaction.from}→${step.firstReaction.to} ${step.firstReaction.reason})` : ''} ${mark((step.firstReactionS ?? 99) <= 10)}`
        : '',
      step
        ? `${s(step.settleS)}${step.settledInWindow ? '' : ' (still changing at the end)'} ${mark((step.settleS ?? 0) <= 60 && step.settledInWindow)}`
        : '',
      osc
        ? `${osc.parallelism} slots, ${osc.replicas} pods ${mark(osc.parallelism <= 1 && osc.replicas <= 1)}`
        : step
          ? `${step.changes}`
          : '',
    ];
  });
}

export function deliveryRows(runs: readonly ProfileRun[]): string[][] {
  const rows: string[][] = [];
  for (const kind of ['parallelism', 'replicas'] as const) {
    const all = runs.flatMap((p) =>
      deliveries(
        p.runs.operator.decisions.filter((d) => d.kind === kind),
        p.runs.operator.samples,
      ),
    );
    const shown = all.flatMap((d) => (d.delayMs === undefined ? [] : [d.delayMs / 1000]));
    rows.push([
      kind === 'parallelism' ? 'limit on every ready pod (PUT, live)' : 'that many pods running and ready',
      String(all.length),
      String(all.length - shown.length),
      f(quantile(shown, 0.5)),
      f(shown.length > 0 ? Math.max(...shown) : undefined),
      mark(shown.length > 0 && Math.max(...shown) <= 5),
    ]);
  }
  // Where a new pod's time goes once the runner (the kubelet here) sees it Running: the rest of
  // "running and ready" is the Deployment, ReplicaSet, scheduler and kwok.
  const starts = runs.flatMap((p) => p.runs.operator.starts ?? []);
  const ready = starts.flatMap((x) => (x.readyMs === undefined ? [] : [(x.readyMs - x.spawnedMs) / 1000]));
  const prepared = starts.map((x) => (x.spawnedMs - x.seenMs) / 1000);
  if (starts.length > 0) {
    rows.push(
      [
        'of which: seen Running → process spawned (config files written)',
        String(starts.length),
        '',
        f(quantile(prepared, 0.5)),
        f(Math.max(...prepared)),
        '',
      ],
      [
        'of which: process spawned → answers /healthz (Node start)',
        String(starts.length),
        String(starts.length - ready.length),
        f(quantile(ready, 0.5)),
        f(ready.length > 0 ? Math.max(...ready) : undefined),
        '',
      ],
    );
  }
  return rows;
}

export function graphRows(p: ProfileRun): string[][] {
  const rows: string[][] = [];
  for (const phase of p.profile.phases) {
    for (const n of phase.downstream ?? []) {
      const op = downstreamFigures(n, phase, p.runs.operator.decisions, p.runs.operator.samples, BATCH);
      const st = downstreamFigures(n, phase, p.runs.static.decisions, p.runs.static.samples, BATCH);
      rows.push([
        n,
        op.raisedBy
          ? `${s(op.raisedS)} (${op.raisedBy.kind} ${op.raisedBy.from}→${op.raisedBy.to}, ${op.raisedBy.reason})`
          : 'never',
        s(op.runningS),
        s(op.queueOverBatchS),
        String(op.maxQueue),
        `${s(st.queueOverBatchS)}, max ${st.maxQueue}`,
        mark(op.capacityFirst),
      ]);
    }
  }
  return rows;
}

export function timelineTable(p: ProfileRun, step: number): string {
  const seconds = profileSeconds(p.profile);
  const rate = (t: number) => p.profile.segments.find((x) => t >= x.from && t < x.to)?.rate ?? 0;
  const storm = (t: number) => {
    const e = p.profile.upstream.filter((u) => u.at <= t).at(-1);
    return e && e.maxRps < 1000 ? ` (429 > ${e.maxRps}/s)` : '';
  };
  const a = timeline(
    p.runs.static.results,
    p.runs.static.samples,
    p.profile.entry,
    seconds,
    step,
    p.profile.clientSloMs,
  );
  const b = timeline(
    p.runs.operator.results,
    p.runs.operator.samples,
    p.profile.entry,
    seconds,
    step,
    p.profile.clientSloMs,
  );
  return table(
    [
      't (s)',
      'offered /s',
      'static: slots × pods',
      'p95 ms',
      'ok /s',
      'good /s',
      'operator: slots × pods',
      'p95 ms',
      'ok /s',
      'good /s',
    ],
    a.map((x, i) => {
      const y = b[i]!;
      return [
        `${x.from}`,
        `${rate(x.from)}${storm(x.from)}`,
        `${x.limit ?? '–'} × ${x.ready ?? '–'}`,
        f(x.p95Ms, 0),
        f(x.throughput, 0),
        f(x.goodput, 0),
        `${y.limit ?? '–'} × ${y.ready ?? '–'}`,
        f(y.p95Ms, 0),
        f(y.throughput, 0),
        f(y.goodput, 0),
      ];
    }),
  );
}

export function decisionLog(p: ProfileRun): string {
  return p.runs.operator.decisions
    .map((d) => `${(d.t / 1000).toFixed(1)} s ${d.neuron} ${d.kind} ${d.from}→${d.to} ${d.reason}`)
    .join('\n');
}
