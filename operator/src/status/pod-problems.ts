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
  const missing = `a missing Secret or key keeps it there (kubectl describe pod ${pod.metadata?.name ?? ''} shows FailedMount), else its image is still being pulled`;
  return secrets.length > 0 ? `mounts ${secrets.join(', ')}: ${missing}` : missing;
}

/**
 * Why a Neuron's pods do not run, from the scheduler and the kubelet: pods Pending with the
 * scheduler's reason (Unschedulable: 0/3 nodes are available: 3 Insufficient cpu), containers
 * waiting in CrashLoopBackOff or an image pull, pods scheduled slowStartMs ago whose containers the
 * kubelet has not created (with the Secrets they mount). Grouped by reason with a count, one sample
 * message each, bounded; undefined when no pod has such a problem. Pure.
 */
export function podProblems(pods: readonly V1Pod[], nowMs: number): string | undefined {
  const groups = new Map<string, { count: number; message: string }>();
  const add = (key: string, message: string) => {
    const g = groups.get(key);
    if (g) g.count++;
    else
      groups.set(key, {
        count: 1,
        message: message.length > maxMessage ? `${message.slice(0, maxMessage)}…` : message,
      });
  };
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
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
