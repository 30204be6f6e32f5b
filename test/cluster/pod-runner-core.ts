// The pod runner's decisions, as pure functions: which pods should have a runtime process, which
// processes must stop, and which Service backends a connection may go to.
import type { V1Pod, V1PodStatus, V1Service } from '@kubernetes/client-node';

export type ProcessState = 'starting' | 'ready' | 'stopping' | 'exited' | 'failed';

/** What the runner knows about one pod's process (its own bookkeeping, not the API's). */
export interface RunnerEntry {
  readonly key: string;
  readonly uid: string;
  readonly ip: string;
  readonly port: number;
  readonly state: ProcessState;
  readonly labels: Readonly<Record<string, string>>;
}

export const podKey = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/** A pod gets a process while it is Running with an IP and not being deleted (as a kubelet keeps its containers). */
export function wantsProcess(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !!pod.status.podIP && !pod.metadata?.deletionTimestamp;
}

const holdsAddress = (e: RunnerEntry) =>
  e.state === 'starting' || e.state === 'ready' || e.state === 'stopping';

export interface RunnerDecision {
  /** Keys of processes to stop: pod gone, not Running, being deleted, or replaced (new uid or IP). */
  readonly stop: readonly string[];
  /** Entries to forget (their process is over and the pod no longer wants one). */
  readonly forget: readonly string[];
  /** Pods to start now. */
  readonly start: readonly V1Pod[];
  /** Pods that must wait: their address is still held by a stopping process, or the process limit is reached. */
  readonly waiting: readonly { readonly pod: V1Pod; readonly reason: string }[];
}

/**
 * Compares the pods the API lists with the runner's entries. A finished process (exited or
 * failed) is not restarted for the same pod: the pod keeps its error until it is replaced.
 */
export function decide(
  pods: readonly V1Pod[],
  entries: ReadonlyMap<string, RunnerEntry>,
  maxProcesses: number,
): RunnerDecision {
  const wanted = new Map(pods.filter(wantsProcess).map((p) => [podKey(p), p]));
  const stop: string[] = [];
  const forget: string[] = [];
  for (const [key, e] of entries) {
    const pod = wanted.get(key);
    const same = pod && pod.metadata?.uid === e.uid && pod.status?.podIP === e.ip;
    if (same) continue;
    if (e.state === 'starting' || e.state === 'ready') stop.push(key);
    else if (e.state !== 'stopping') forget.push(key);
  }
  const stopping = new Set(stop);
  const busy = new Set([...entries.values()].filter((e) => holdsAddress(e)).map((e) => e.ip));
  let live = [...entries.values()].filter(holdsAddress).length;
  const start: V1Pod[] = [];
  const waiting: { pod: V1Pod; reason: string }[] = [];
  const forgotten = new Set(forget);
  for (const [key, pod] of wanted) {
    const e = entries.get(key);
    if (e && !forgotten.has(key)) {
      // A replaced pod (new uid or IP) starts once the previous process has exited.
      if (stopping.has(key) || e.state === 'stopping') {
        waiting.push({ pod, reason: `${key}: the previous process of this pod is stopping` });
      }
      continue;
    }
    const ip = pod.status?.podIP ?? '';
    if (busy.has(ip)) {
      waiting.push({ pod, reason: `address ${ip} is still held by a stopping process` });
    } else if (live >= maxProcesses) {
      waiting.push({
        pod,
        reason: `HAL9_TEST_POD_RUNNER: ${key} not started: maxProcesses ${maxProcesses} reached (raise PodRunnerOptions.maxProcesses)`,
      });
    } else {
      start.push(pod);
      busy.add(ip);
      live++;
    }
  }
  return { stop, forget, start, waiting };
}

/** True when every key=value of the Service's selector is among the labels. */
export function selectorMatches(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

export interface ProxyRoute {
  /** `<clusterIP>:<port>` the proxy listens on. */
  readonly listen: { readonly host: string; readonly port: number };
  readonly service: string;
  /** Ready backends as `ip:port`, in a stable order. */
  readonly backends: readonly string[];
}

/**
 * What kube-proxy would program for the Services: each TCP port of a Service with a selector and a
 * ClusterIP, to the ready processes whose pod labels match, on the targetPort (a number, or the
 * runner's port when it is a name or absent).
 */
export function proxyRoutes(
  services: readonly V1Service[],
  entries: readonly RunnerEntry[],
  isLoopback: (ip: string) => boolean,
): ProxyRoute[] {
  const routes: ProxyRoute[] = [];
  for (const s of services) {
    const ip = s.spec?.clusterIP;
    if (!ip || ip === 'None' || !isLoopback(ip) || !s.spec?.selector) continue;
    const ns = s.metadata?.namespace;
    const ready = entries.filter(
      (e) => e.state === 'ready' && e.key.startsWith(`${ns}/`) && selectorMatches(s.spec?.selector, e.labels),
    );
    for (const p of s.spec.ports ?? []) {
      if ((p.protocol ?? 'TCP') !== 'TCP') continue;
      const target = typeof p.targetPort === 'number' ? p.targetPort : undefined;
      routes.push({
        listen: { host: ip, port: p.port },
        service: `${ns}/${s.metadata?.name}`,
        backends: ready.map((e) => `${e.ip}:${target ?? e.port}`).sort(),
      });
    }
  }
  return routes;
}

/**
 * The pod status a kubelet would report from its readiness probe: Ready and ContainersReady (and
 * each container's `ready`) follow whether the runtime process answers. kwok marks a pod Ready when
 * it starts it and never again once it is Running, so the runner owns readiness from then on.
 * Returns undefined when the status already says so.
 */
export function readinessStatus(pod: V1Pod, ready: boolean, now: Date): V1PodStatus | undefined {
  const current = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  if (current === ready) return undefined;
  const status = ready ? 'True' : 'False';
  const reason = ready
    ? {}
    : { reason: 'ContainersNotReady', message: 'the runtime process does not answer yet' };
  const conditions = (pod.status?.conditions ?? []).filter(
    (c) => c.type !== 'Ready' && c.type !== 'ContainersReady',
  );
  conditions.push(
    { type: 'ContainersReady', status, lastTransitionTime: now, ...reason },
    { type: 'Ready', status, lastTransitionTime: now, ...reason },
  );
  return {
    ...pod.status,
    conditions,
    containerStatuses: (pod.status?.containerStatuses ?? []).map((c) => ({ ...c, ready })),
  };
}
