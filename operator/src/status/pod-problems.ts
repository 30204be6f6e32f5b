import type { V1Pod } from '@kubernetes/client-node';

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

const maxMessage = 300;

/**
 * Why a Neuron's pods do not run, from the scheduler and the kubelet: pods Pending with the
 * scheduler's reason (Unschedulable: 0/3 nodes are available: 3 Insufficient cpu), containers
 * waiting in CrashLoopBackOff or an image pull. Grouped by reason with a count, one sample message
 * each, bounded; undefined when no pod has such a problem. Pure.
 */
export function podProblems(pods: readonly V1Pod[]): string | undefined {
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
