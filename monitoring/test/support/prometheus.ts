// A real Prometheus on 127.0.0.1 with temporary storage, a 1 s scrape and rule interval and the rule file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Child, startChild, waitForHttp, waitForOutput } from './processes.ts';

export interface ScrapeJob {
  readonly job: string;
  readonly targets: readonly string[];
  /** Target labels, e.g. the `namespace` Kubernetes service discovery would add. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly honorLabels?: boolean;
  /** Extra labels of single targets (e.g. the `pod` a runtime stands in for), on top of `labels`. */
  readonly targetLabels?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface PrometheusOptions {
  readonly ruleFiles: readonly string[];
  readonly jobs: readonly ScrapeJob[];
  /**
   * Also scrape Prometheus itself (job `prometheus`), as kube-prometheus-stack does, for the series about its
   * own rule evaluations. Its port is the kernel's choice: the job is added once it listens, by a reload.
   */
  readonly selfScrape?: boolean;
}

export interface PromResult {
  readonly status: 'success' | 'error';
  readonly errorType?: string;
  readonly error?: string;
  readonly data?: {
    resultType: string;
    result: { metric: Record<string, string>; values?: unknown[]; value?: unknown }[];
  };
}

export interface RunningPrometheus {
  readonly url: string;
  query(expr: string, time?: number): Promise<PromResult>;
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromResult>;
  labelValues(label: string, match: string): Promise<string[]>;
  /** Every target: its job, health, last error, and when its newest completed scrape started (s since the epoch). */
  scrapedTargets(): Promise<{ job: string; health: string; lastError: string; lastScrape: number }[]>;
  /** When each rule group was last evaluated (s since the epoch; 0 before its first evaluation). */
  ruleEvaluations(): Promise<number[]>;
  /** Every rule: its group, name, health ("ok", "err" or "unknown" before its first evaluation) and last error. */
  ruleHealth(): Promise<{ group: string; name: string; health: string; lastError: string }[]>;
  stop(): Promise<void>;
  readonly child: Child;
}

export function prometheusConfig(options: PrometheusOptions): string {
  return stringify({
    global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
    rule_files: [...options.ruleFiles],
    scrape_configs: options.jobs.map((j) => ({
      job_name: j.job,
      honor_labels: j.honorLabels ?? false,
      static_configs: j.targetLabels
        ? j.targets.map((t) => ({
            targets: [t],
            labels: { ...(j.labels ?? {}), ...(j.targetLabels?.[t] ?? {}) },
          }))
        : [{ targets: [...j.targets], labels: { ...(j.labels ?? {}) } }],
    })),
  });
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'hal9-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig(options));
  // Port 0, as for a runtime: the port is the kernel's choice at bind time, read from the log line
  // "Listening on" (at info), never taken by another process between a check and the bind.
  const child = startChild(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--storage.tsdb.retention.time=1h',
      '--log.level=info',
    ],
    dir,
  );
  const listening = await waitForOutput(child, /msg="Listening on" address=(127\.0\.0\.1:\d+)/);
  const url = `http://${listening[1]}`;
  await waitForHttp(`${url}/-/ready`, child);
  if (options.selfScrape) {
    const self: ScrapeJob = { job: 'prometheus', targets: [listening[1] ?? ''] };
    writeFileSync(
      join(dir, 'prometheus.yml'),
      prometheusConfig({ ...options, jobs: [...options.jobs, self] }),
    );
    const loaded = () => child.output().match(/Completed loading of configuration file/g)?.length ?? 0;
    const before = loaded();
    child.process.kill('SIGHUP');
    const deadline = Date.now() + 30_000;
    while (loaded() === before) {
      if (Date.now() > deadline)
        throw new Error(`Prometheus did not reload its configuration\n${child.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const api = async (path: string, params: Record<string, string>): Promise<PromResult> => {
    const res = await fetch(`${url}/api/v1/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
    return (await res.json()) as PromResult;
  };
  return {
    url,
    child,
    query: (expr, time) => api('query', { query: expr, ...(time ? { time: String(time) } : {}) }),
    queryRange: (expr, start, end, step) =>
      api('query_range', { query: expr, start: String(start), end: String(end), step: String(step) }),
    labelValues: async (label, match) => {
      const qs = new URLSearchParams(match ? { 'match[]': match } : {});
      const res = await fetch(`${url}/api/v1/label/${label}/values?${qs}`);
      const body = (await res.json()) as { status: string; data: string[]; error?: string };
      if (body.status !== 'success') throw new Error(`label_values(${match}, ${label}): ${body.error}`);
      return body.data;
    },
    scrapedTargets: async () => {
      const res = await fetch(`${url}/api/v1/targets`);
      const body = (await res.json()) as {
        data: {
          activeTargets: { labels: { job: string }; health: string; lastError: string; lastScrape: string }[];
        };
      };
      return body.data.activeTargets.map((t) => ({
        job: t.labels.job,
        health: t.health,
        lastError: t.lastError,
        lastScrape: seconds(t.lastScrape),
      }));
    },
    ruleEvaluations: async () => {
      const res = await fetch(`${url}/api/v1/rules`);
      const body = (await res.json()) as { data: { groups: { lastEvaluation: string }[] } };
      return body.data.groups.map((g) => seconds(g.lastEvaluation));
    },
    ruleHealth: async () => {
      const res = await fetch(`${url}/api/v1/rules`);
      const body = (await res.json()) as {
        data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
      };
      return body.data.groups.flatMap((g) =>
        g.rules.map((r) => ({ group: g.name, name: r.name, health: r.health, lastError: r.lastError ?? '' })),
      );
    },
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An RFC 3339 time from the API in seconds since the epoch; 0 for Go's zero time (never). */
const seconds = (t: string): number => Math.max(0, Date.parse(t) / 1000 || 0);
