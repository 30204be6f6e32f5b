import { describe, expect, it } from 'vitest';
import type { ConditionInput } from './conditions.ts';
import { kstatusConditions } from './kstatus.ts';

const c = (type: string, status: 'True' | 'False', reason: string, message = reason): ConditionInput => ({
  type,
  status,
  reason,
  message,
  observedGeneration: 3,
});
const pick = (list: ConditionInput[]) => Object.fromEntries(list.map((x) => [x.type, [x.status, x.reason]]));

// What kstatus (sigs.k8s.io/cli-utils) computes from a status: Reconciling=True → InProgress, then
// Stalled=True → Failed, then Ready; the cases below are the ones Ready alone read wrongly.
describe('kstatusConditions', () => {
  it('a rollout with old pods serving (Ready=True) is Reconciling, so kstatus says InProgress, not Current', () => {
    const next = [
      c('Ready', 'True', 'Available'),
      c('Progressing', 'True', 'RollingOut'),
      c('Degraded', 'False', 'AsExpected'),
    ];
    expect(pick(kstatusConditions(next))).toEqual({
      Reconciling: ['True', 'RollingOut'],
      Stalled: ['False', 'AsExpected'],
    });
  });

  it('a failure is Stalled (kstatus: Failed) and not Reconciling, with its reason, message and generation', () => {
    const next = [
      c('Ready', 'True', 'Available'),
      c('Progressing', 'True', 'RollingOut'),
      c('Degraded', 'True', 'ApplyFailed', 'HAL9_ERR_REJECTED: …'),
    ];
    const out = kstatusConditions(next);
    expect(pick(out)).toEqual({ Reconciling: ['False', 'ApplyFailed'], Stalled: ['True', 'ApplyFailed'] });
    expect(out.find((x) => x.type === 'Stalled')).toMatchObject({
      message: 'HAL9_ERR_REJECTED: …',
      observedGeneration: 3,
    });
  });

  it('a settled object is neither, so kstatus reads Ready', () => {
    const next = [
      c('Ready', 'True', 'Available'),
      c('Progressing', 'False', 'Reconciled'),
      c('Degraded', 'False', 'AsExpected'),
    ];
    expect(pick(kstatusConditions(next))).toEqual({
      Reconciling: ['False', 'Reconciled'],
      Stalled: ['False', 'AsExpected'],
    });
  });
});
