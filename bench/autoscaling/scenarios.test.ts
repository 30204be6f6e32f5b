import { describe, expect, it } from 'vitest';
import { clusterSpec, graphProfile, nonDefaultFields, singleNeuronProfile } from './scenarios.ts';

describe('the configurations', () => {
  const upstream = 'http://127.0.0.1:1';

  it.each([singleNeuronProfile(), graphProfile()])(
    '$name: both keep the model-call settings at the CRD defaults, and differ only in autoscaling',
    (p) => {
      const shared = [
        `entryNeuron: ${p.entry}`,
        'claude.mode: api',
        `claude.baseURL: ${upstream}`,
        'claude.apiKeySecretRef.name: anthropic',
        'performance.cacheLayers: []',
      ];
      expect(nonDefaultFields(clusterSpec(p, 'static', upstream))).toEqual(shared);
      expect(nonDefaultFields(clusterSpec(p, 'operator', upstream))).toEqual([
        ...shared,
        'autoscaling.enabled: true',
        `autoscaling.maxReplicas: ${p.maxReplicas}`,
        'autoscaling.parallelism.enabled: true',
        'autoscaling.parallelism.latencySLOMs: 1000',
      ]);
    },
  );

  it('lists a field set to its default as not changed, and one without a default as changed', () => {
    expect(
      nonDefaultFields({
        performance: { maxConcurrentNeurons: 10, connectionPool: { maxConnectionsPerHost: 64 } },
        autoscaling: { enabled: false, mode: 'operator' },
        entryNeuron: 'impl',
      }),
    ).toEqual(['performance.connectionPool.maxConnectionsPerHost: 64', 'entryNeuron: impl']);
  });
});
