import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { hpaCannotScale } from './hpa-stuck.ts';

const hpa = (...conditions: Record<string, string>[]): KubernetesObject =>
  ({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'impl-1' },
    status: { conditions },
  }) as KubernetesObject;

describe('hpaCannotScale', () => {
  it('quotes the HPA when it cannot get its metrics or cannot scale', () => {
    const noMetrics = hpa(
      { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale' },
      {
        type: 'ScalingActive',
        status: 'False',
        reason: 'FailedGetResourceMetric',
        message: 'the HPA was unable to compute the replica count: unable to get metrics for resource cpu',
      },
    );
    expect(hpaCannotScale(noMetrics)).toBe(
      'HorizontalPodAutoscaler impl-1 cannot scale (ScalingActive=False, FailedGetResourceMetric: the HPA was unable to compute the replica count: unable to get metrics for resource cpu): the replicas stay where they are. In mode hpa it scales on CPU, so the cluster needs metrics-server and the pods a CPU request',
    );
    expect(hpaCannotScale(hpa({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale' }))).toContain(
      '(AbleToScale=False, FailedGetScale)',
    );
  });

  it('says how to start an HPA whose Deployment is at zero (scaled to zero before autoscaling was on)', () => {
    expect(hpaCannotScale(hpa({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled' }))).toBe(
      'HorizontalPodAutoscaler impl-1 does not scale: Deployment impl-1 is at 0 replicas, which an HPA leaves alone. To start autoscaling, kubectl scale deployment impl-1 --replicas=<minReplicas or more>',
    );
  });

  it('is nothing for a working HPA or one without status yet', () => {
    expect(hpaCannotScale(hpa({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' }))).toBe(
      undefined,
    );
    expect(hpaCannotScale(hpa())).toBe(undefined);
    expect(hpaCannotScale(undefined)).toBe(undefined);
  });

  it('quotes at most 300 characters of a message', () => {
    const long = hpa({ type: 'ScalingActive', status: 'False', reason: 'X', message: 'm'.repeat(5000) });
    expect(hpaCannotScale(long)!.length).toBeLessThan(600);
  });
});
