import type { Condition } from '../api-types.ts';
import { matchesLive } from '../kube/compare.ts';

/**
 * Whether the live status already says everything `computed` says. Conditions compare by type,
 * so conditions other writers add do not force a write; other fields compare as in matchesLive.
 */
export function statusUpToDate(computedStatus: object, liveStatus: object | undefined): boolean {
  if (!liveStatus) return false;
  const computed = computedStatus as Record<string, unknown>;
  const live = liveStatus as Record<string, unknown>;
  for (const [k, v] of Object.entries(computed)) {
    if (k === 'conditions') {
      const liveConds = (live.conditions ?? []) as Condition[];
      for (const c of v as Condition[]) {
        const l = liveConds.find((x) => x.type === c.type);
        if (!l || !sameCondition(c, l)) return false;
      }
    } else if (!matchesLive(v, live[k]) || (v !== undefined && live[k] === undefined)) {
      return false;
    }
  }
  return true;
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration &&
    a.lastTransitionTime === b.lastTransitionTime
  );
}
