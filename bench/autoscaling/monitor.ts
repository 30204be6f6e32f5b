// Samples of the pods as they run, every few hundred milliseconds: which processes the runner has
// ready, each one's executor limit and queue from its GET /v1/admin/load, and CPU time from /proc.
// The bench reads the same report the operator reads, at its own pace, with the same credential
// (the admin API is never open on the operator's pods); the operator's 2 s loop is unaffected (the
// report is a few counters). Reads that fail are counted, so a report built on none says so.
import { readFileSync } from 'node:fs';
import type { PodProcess } from '../../test/cluster/pod-runner.ts';
import type { Sample } from './analysis.ts';

export interface MonitoredSample extends Sample {
  /** CPU milliseconds used so far by the Neuron's live processes. */
  readonly cpuMs: number;
}

/** `<neuron>-<template hash>-<suffix>` → the Neuron (a Deployment names its pods so). */
export const neuronOfPod = (pod: string): string => pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');

function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

interface LoadReport {
  readonly limit: number;
  readonly queued: number;
}

async function load(url: string, token: string | undefined): Promise<LoadReport | undefined> {
  try {
    const res = await fetch(`${url}/v1/admin/load`, {
      signal: AbortSignal.timeout(1000),
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    return res.ok ? ((await res.json()) as LoadReport) : undefined;
  } catch {
    return undefined;
  }
}

export interface Monitor {
  /** Samples per namespace, times relative to t0. */
  samples(namespace: string): readonly MonitoredSample[];
  /** Ready pods' base URLs of a Neuron, now. */
  ready(namespace: string, neuron: string): readonly string[];
  /** Every pod process seen in a namespace, the last view of each (the runner forgets stopped pods). */
  seen(namespace: string): readonly PodProcess[];
  /** Load reports asked of a namespace's ready pods, and how many of them failed. */
  reads(namespace: string): { readonly asked: number; readonly failed: number };
  stop(): Promise<void>;
}

export function startMonitor(
  processes: () => readonly PodProcess[],
  namespaces: readonly string[],
  t0: () => number,
  intervalMs: number,
  /** The admin token of each namespace's pods (the Hal9Cluster's `-admin-token` Secret). */
  tokens: ReadonlyMap<string, string>,
): Monitor {
  const byNs = new Map<string, MonitoredSample[]>(namespaces.map((n) => [n, []]));
  const reads = new Map(namespaces.map((n) => [n, { asked: 0, failed: 0 }]));
  const seen = new Map<string, PodProcess>();
  let stopped = false;
  const pass = async () => {
    const current = processes();
    for (const p of current) seen.set(`${p.namespace}/${p.name}/${p.uid}`, p);
    const at = Date.now();
    for (const ns of namespaces) {
      const mine = current.filter((p) => p.namespace === ns);
      const groups = new Map<string, PodProcess[]>();
      for (const p of mine) {
        const n = neuronOfPod(p.name);
        groups.set(n, [...(groups.get(n) ?? []), p]);
      }
      const rows = await Promise.all(
        [...groups].map(async ([neuron, procs]) => {
          const ready = procs.filter((p) => p.state === 'ready');
          const answers = await Promise.all(ready.map((p) => load(p.url, tokens.get(ns))));
          const reports = answers.filter((r): r is LoadReport => r !== undefined);
          const count = reads.get(ns)!;
          count.asked += answers.length;
          count.failed += answers.length - reports.length;
          return {
            t: at - t0(),
            neuron,
            ready: ready.length,
            limits: reports.map((r) => r.limit),
            queued: reports.map((r) => r.queued),
            cpuMs: ready.reduce((s, p) => s + cpuMs(p.pid), 0),
          };
        }),
      );
      byNs.get(ns)!.push(...rows);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      await pass().catch(() => {});
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
    }
  })();
  return {
    samples: (ns) => byNs.get(ns) ?? [],
    ready: (ns, neuron) =>
      processes()
        .filter((p) => p.namespace === ns && p.state === 'ready' && neuronOfPod(p.name) === neuron)
        .map((p) => p.url),
    seen: (ns) => {
      for (const p of processes()) seen.set(`${p.namespace}/${p.name}/${p.uid}`, p);
      return [...seen.values()].filter((p) => p.namespace === ns);
    },
    reads: (ns) => ({ ...(reads.get(ns) ?? { asked: 0, failed: 0 }) }),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
