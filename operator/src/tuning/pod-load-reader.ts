import { errorMessage } from '../errors.ts';
import type { LoadReport } from './load-report.ts';
import { appendReport, windowPart } from './load-windows.ts';
import { urlAllowed } from './pod-cidrs.ts';
import { type PodHistory, type PodView, podView } from './pod-view.ts';
import { pool } from './pool.ts';
import type { RuntimePod } from './runtime-pods.ts';
import type { TunerDeps } from './tuner-deps.ts';
import type { TuningTarget } from './tuning-targets.ts';

// The tuner's gather step for Neurons whose metricsSource is pods: GET /v1/admin/load on every
// Ready pod inside --pod-cidrs, each pod's recent reports kept between passes, and each Neuron's
// windows over them (pod-view.ts).

/**
 * The most a kept report may weigh on average (approxBytes): a Neuron's windowPart is about 5.8 KB at
 * most (two histograms of 64 buckets, 32 connections of 63-character names).
 */
export const REPORT_BYTES = 8 * 1024;

export interface NextReportsOptions {
  /** The Neuron's name, its pods' key under `neurons`. */
  readonly neuron: string;
  /** Its forwardConnections. */
  readonly targets: readonly string[];
  readonly keepMs: number;
  readonly intervalMs: number;
}

/**
 * A pod's history after its new report: of each report only what the Neuron's windows read
 * (windowPart), at most twice the reads a window takes at this interval (room for reads closer
 * together), and at most REPORT_BYTES a report in all, so a field kept later cannot grow a history
 * past what a window's reads need either.
 */
export function nextReports(
  prior: Pick<PodHistory, 'reports' | 'targets'> | undefined,
  report: LoadReport,
  o: NextReportsOptions,
): LoadReport[] {
  const most = 2 * Math.ceil(o.keepMs / o.intervalMs) + 4;
  // After the connections changed, the older reports keep the same targets as the new one: a target
  // in the older only would read as a forwarded count gone back, and start the history again.
  const same =
    prior?.targets?.length === o.targets.length && o.targets.every((t, i) => prior.targets?.[i] === t);
  const history =
    prior === undefined
      ? []
      : same
        ? prior.reports
        : prior.reports.map((r) => windowPart(r, o.neuron, o.targets));
  return appendReport(history, windowPart(report, o.neuron, o.targets), o.keepMs, most, most * REPORT_BYTES);
}

/** The most earlier processes of one pod kept (a container in a crash loop restarts often). */
export const MAX_EARLIER_PROCESSES = 4;

/**
 * A pod's earlier processes after a read whose history is `reports`: the prior history joins them
 * when the container restarted (a new startedAt), and any whose newest report is older than `keepMs`
 * before the new one (by the pod's clock), which no window reaches, leaves them; at most
 * MAX_EARLIER_PROCESSES, the newest.
 */
export function earlierProcesses(
  prior: Pick<PodHistory, 'reports' | 'earlier'> | undefined,
  reports: readonly LoadReport[],
  keepMs: number,
): (readonly LoadReport[])[] {
  const newest = reports.at(-1);
  if (!prior || !newest) return [];
  const before = prior.reports.at(-1);
  const restarted = before !== undefined && before.startedAt !== newest.startedAt;
  const all = [...(prior.earlier ?? []), ...(restarted ? [prior.reports] : [])];
  return all.filter((h) => (h.at(-1)?.at ?? 0) > newest.at - keepMs).slice(-MAX_EARLIER_PROCESSES);
}

/** Reads the load of every Ready pod of the pod-sourced Neurons; returns each Neuron's view. */
export type PodLoadReader = (
  list: readonly TuningTarget[],
  pods: ReadonlyMap<string, readonly RuntimePod[]>,
) => Promise<Map<string, PodView>>;

export type PodLoadReaderDeps = Pick<TunerDeps, 'readLoad' | 'clock' | 'logger' | 'observer' | 'options'> & {
  /** The Neuron's runtime admin token (throws when it cannot be read). */
  readonly tokenFor: (t: TuningTarget) => Promise<string | undefined>;
};

export function createPodLoadReader(deps: PodLoadReaderDeps): PodLoadReader {
  const { clock, logger, observer, options } = deps;
  /** Pod uid → its Neuron, its recent load reports and when it last answered (operator clock). */
  const histories = new Map<string, PodHistory>();
  const refusedLogged = new Set<string>();
  /**
   * Pod uid → its last read's error: each new one is logged with the pod's name once (while the
   * Neuron's other pods answer, no condition names it: a pod sending bad reports would show only in
   * hal9_operator_load_reads_total), and its first good read after.
   */
  const readErrors = new Map<string, string>();
  return async (list, pods) => {
    const now = clock.now();
    const sourced = list.filter((t) => t.fromPods);
    const jobs: { t: TuningTarget; pod: RuntimePod; token: string | undefined }[] = [];
    const errors = new Map<string, string[]>();
    const failed = (key: string, message: string) => errors.set(key, [...(errors.get(key) ?? []), message]);
    const refused = new Map<string, number>();
    // Every Neuron's token at once: read one after the other, K clusters whose Secret reads hang
    // stretched every pass by K of their deadlines before the first pod was read.
    const tokens = await Promise.all(
      sourced.map(async (t) => {
        try {
          return { token: await deps.tokenFor(t) };
        } catch (err) {
          return { error: errorMessage(err) };
        }
      }),
    );
    for (const [i, t] of sourced.entries()) {
      const got = tokens[i]!;
      if ('error' in got) {
        failed(t.key, `cannot read the runtime admin token: ${got.error}`);
        continue;
      }
      const { token } = got;
      for (const pod of pods.get(t.key) ?? []) {
        if (urlAllowed(pod.url, options.podCidrs)) {
          jobs.push({ t, pod, token });
          continue;
        }
        refused.set(t.key, (refused.get(t.key) ?? 0) + 1);
        observer?.loadRead?.('refused');
        if (refusedLogged.has(pod.uid)) continue;
        refusedLogged.add(pod.uid);
        logger.warn(
          { neuron: t.key, pod: pod.name, url: pod.url },
          'Refused to reach a pod outside --pod-cidrs',
        );
      }
    }
    const read = deps.readLoad;
    if (read) {
      await pool(jobs, options.readConcurrency ?? 16, async ({ t, pod, token }) => {
        try {
          const readAt = clock.now();
          const report = await read(pod.url, token);
          const keepMs = t.spec.autoscaling.stableWindowSeconds * 1000 + 10_000;
          const targets = t.spec.forwardConnections;
          const reports = nextReports(histories.get(pod.uid), report, {
            neuron: t.neuron.metadata?.name ?? '',
            targets,
            keepMs,
            intervalMs: options.intervalMs,
          });
          const earlier = earlierProcesses(histories.get(pod.uid), reports, keepMs);
          histories.set(pod.uid, {
            neuron: t.key,
            targets,
            reports,
            ...(earlier.length > 0 ? { earlier } : {}),
            okAt: clock.now(),
            readAt,
            keepMs,
          });
          observer?.loadRead?.('ok');
          if (readErrors.delete(pod.uid))
            logger.info({ neuron: t.key, pod: pod.name }, 'Read the pod’s load report again');
        } catch (err) {
          observer?.loadRead?.('error');
          const message = errorMessage(err);
          failed(t.key, message);
          if (readErrors.get(pod.uid) !== message)
            logger.warn(
              { neuron: t.key, pod: pod.name, err: message },
              'Failed to read the pod’s load report',
            );
          readErrors.set(pod.uid, message);
        }
      });
    }
    const views = new Map<string, PodView>();
    const live = new Set<string>();
    for (const t of sourced) {
      const ready = pods.get(t.key) ?? [];
      for (const p of ready) live.add(p.uid);
      views.set(
        t.key,
        podView({
          target: t,
          ready,
          histories,
          now,
          intervalMs: options.intervalMs,
          refused: refused.get(t.key) ?? 0,
          // Sorted: reads end in any order, and the condition quotes the first error.
          errors: (errors.get(t.key) ?? []).sort(),
        }),
      );
    }
    for (const [uid, h] of histories) if (!live.has(uid) && now - h.okAt > h.keepMs) histories.delete(uid);
    // A pod gone (or whose Neuron is no longer pod-sourced) is warned about again if it comes back.
    for (const uid of refusedLogged) if (!live.has(uid)) refusedLogged.delete(uid);
    for (const uid of readErrors.keys()) if (!live.has(uid)) readErrors.delete(uid);
    return views;
  };
}
