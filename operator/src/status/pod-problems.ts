import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { mountedSecrets } from './mounted-secrets.ts';

// Waiting reasons that keep a container from running and that the user must act on.
const stuck = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

const maxMessage = 500;

/**
 * How long a scheduled pod may wait for the kubelet to start its containers before the status says
 * why it may not: a Secret it mounts that does not exist keeps it in ContainerCreating with nothing
 * but a FailedMount event, which the operator (no read access to Events or Secrets) cannot see.
 */
export const slowStartMs = 60_000;

// What the kubelet reports for containers it has not created yet.
const notCreated = new Set(['ContainerCreating', 'PodInitializing']);
const created = (c: V1ContainerStatus) => !notCreated.has(c.state?.waiting?.reason ?? '');

/** Scheduled at least slowStartMs ago, and not one container created since. */
function slowToStart(pod: V1Pod, nowMs: number): boolean {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (pod.status?.phase !== 'Pending' || scheduled?.status !== 'True') return false;
  const since = scheduled.lastTransitionTime ? new Date(scheduled.lastTransitionTime).getTime() : Number.NaN;
  if (!(nowMs - since >= slowStartMs)) return false;
  return ![...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].some(
    created,
  );
}

function slowStartMessage(pod: V1Pod): string {
  const secrets = mountedSecrets(pod);
  const sysctls = (pod.spec?.securityContext?.sysctls ?? []).map((s) => s.name);
  const describe = `kubectl describe pod ${pod.metadata?.name ?? ''}`;
  // The runtime sets a pod's sysctls when it creates its sandbox: one the node's kernel refuses or
  // lacks keeps the pod there, with nothing but a FailedCreatePodSandBox event.
  const why =
    sysctls.length > 0
      ? `a missing Secret or key (FailedMount) or a sysctl the node's kernel refuses (FailedCreatePodSandBox) keeps it there (${describe} shows which), else its image is still being pulled`
      : `a missing Secret or key keeps it there (${describe} shows FailedMount), else its image is still being pulled`;
  const what = [
    ...(secrets.length > 0 ? [`mounts ${secrets.join(', ')}`] : []),
    ...(sysctls.length > 0 ? [`sets the sysctls ${sysctls.join(', ')} (nodeTuning.sysctls)`] : []),
  ].join(' and ');
  return what ? `${what}: ${why}` : why;
}

/**
 * What to do about a pod the kubelet refused to admit (phase Failed, its status.reason), where the
 * reason alone does not say it. The ReplicaSet replaces such a pod, and the new one fares the same.
 */
function failedHint(reason: string): string | undefined {
  if (reason === 'SysctlForbidden') {
    return "the node's kubelet does not allow a sysctl of nodeTuning.sysctls (net.ipv4.tcp_rmem and tcp_wmem only from Kubernetes 1.32): leave it out, run the pods on newer nodes, or allow it in the kubelet's allowedUnsafeSysctls";
  }
  if (reason.startsWith('OutOfhugepages-')) {
    return "the node's kubelet found fewer free hugepages than nodeTuning.hugepages.quantity asks for: reserve more on the node (vm.nr_hugepages), or ask for fewer";
  }
  if (reason === 'TopologyAffinityError') {
    return "the node's topology manager cannot align the pod's CPUs (nodeTuning.cpuPinning) and memory on one NUMA node";
  }
  if (reason === 'UnexpectedAdmissionError') {
    return "the node's kubelet failed to admit the pod (a device plugin, or its CPU or memory manager): its log on the node says why";
  }
  return undefined;
}

const bounded = (message: string) =>
  message.length > maxMessage ? `${message.slice(0, maxMessage)}…` : message;

/**
 * Why a Neuron's pods do not run, from the scheduler and the kubelet: pods Pending with the
 * scheduler's reason (Unschedulable: 0/3 nodes are available: 3 Insufficient cpu), pods the kubelet
 * refused (Failed: SysctlForbidden, OutOfhugepages-2Mi, …, with what to do), containers waiting in
 * CrashLoopBackOff or an image pull, pods scheduled slowStartMs ago whose containers the kubelet has
 * not created (with the Secrets they mount and the sysctls they set). Grouped by reason with a count,
 * one sample message each, bounded; undefined when no pod has such a problem. Pure.
 */
const failedRecentMs = 10 * 60_000;

export function podProblems(pods: readonly V1Pod[], nowMs: number): string | undefined {
  const groups = new Map<string, { count: number; message: string }>();
  // The hint (constant and short) goes after the bounded message, so a long message does not cut it.
  const add = (key: string, message: string, hint?: string) => {
    const g = groups.get(key);
    if (g) g.count++;
    else
      groups.set(key, {
        count: 1,
        message: [bounded(message), hint].filter(Boolean).join('; '),
      });
  };
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    if (pod.status?.phase === 'Failed') {
      // Failed pods stay until the pod GC (thousands of them): only those of the last 10 minutes (a
      // Deployment's progress deadline) say why this rollout is stuck; a ReplicaSet whose pods the
      // kubelet refuses makes new ones all the time. An eviction of weeks ago says nothing now.
      const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ''));
      if (!(nowMs - created <= failedRecentMs)) continue;
      const reason = pod.status.reason || 'Failed';
      add(`Failed: ${reason}`, pod.status.message ?? '', failedHint(reason));
      continue;
    }
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (pod.status?.phase === 'Pending' && scheduled?.status === 'False') {
      add(`Pending (${scheduled.reason ?? 'Unschedulable'})`, scheduled.message ?? '');
      continue;
    }
    if (slowToStart(pod, nowMs)) {
      add(`ContainerCreating for over ${slowStartMs / 60_000} min`, slowStartMessage(pod));
      continue;
    }
    for (const c of [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ]) {
      const waiting = c.state?.waiting;
      if (waiting?.reason && stuck.has(waiting.reason)) {
        add(`${waiting.reason} (container ${c.name})`, waiting.message ?? '');
        break;
      }
    }
  }
  if (groups.size === 0) return undefined;
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, g]) => `${g.count} pod${g.count === 1 ? '' : 's'} ${key}${g.message ? `: ${g.message}` : ''}`)
    .join('; ');
}
