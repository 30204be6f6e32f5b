import type { ConditionInput } from './conditions.ts';
import { ConditionType } from './reasons.ts';

/**
 * kstatus's own conditions (sigs.k8s.io/cli-utils: Flux health checks, kpt, `kstatus` in CI), from
 * Progressing and Degraded. kstatus reads Reconciling and Stalled first and Ready only without them,
 * so without these a rollout with old pods serving (Ready=True) read as Current and a failure as
 * InProgress until a timeout. Stalled wins: Reconciling is True only while nothing needs the user.
 * Both are always written, True or False, so a status that drops one is still written. Pure.
 */
export function kstatusConditions(next: readonly ConditionInput[]): ConditionInput[] {
  const progressing = next.find((c) => c.type === ConditionType.Progressing);
  const degraded = next.find((c) => c.type === ConditionType.Degraded);
  const stalled = degraded?.status === 'True';
  const out: ConditionInput[] = [];
  if (progressing) {
    const from = stalled && degraded ? degraded : progressing;
    out.push({
      ...from,
      type: ConditionType.Reconciling,
      status: !stalled && progressing.status === 'True' ? 'True' : 'False',
    });
  }
  if (degraded) out.push({ ...degraded, type: ConditionType.Stalled, status: stalled ? 'True' : 'False' });
  return out;
}
