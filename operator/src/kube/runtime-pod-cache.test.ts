import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podIPURL, readyPodsByNeuron } from '../tuning/runtime-pods.ts';
import { runtimePodForCache } from './runtime-pod-cache.ts';

/** A pod as the apiserver serves it: spec, managed fields, every condition and container state. */
function aServedPod(
  name: string,
  o: {
    ready?: boolean;
    ip?: string;
    restarts?: number;
    deleting?: boolean;
    neuron?: string;
    hostNetwork?: boolean;
  } = {},
): V1Pod {
  const time = new Date('2026-12-05T10:00:00Z');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'team-a',
      uid: `uid-${name}`,
      resourceVersion: '42',
      labels: {
        'app.kubernetes.io/name': 'hal9-runtime',
        'hal9.ai/neuron': o.neuron ?? 'impl-1',
        'pod-template-hash': '7d9f8',
      },
      annotations: { 'prometheus.io/scrape': 'true', 'hal9.ai/config-hash': 'x'.repeat(64) },
      managedFields: [
        {
          manager: 'kubelet',
          operation: 'Update',
          fieldsType: 'FieldsV1',
          fieldsV1: { f: 'x'.repeat(2000) },
        },
      ],
      ...(o.deleting ? { deletionTimestamp: time } : {}),
    },
    spec: {
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      containers: [
        {
          name: 'runtime',
          image: 'ghcr.io/hal9/runtime:1',
          env: Array.from({ length: 20 }, (_, i) => ({ name: `E${i}`, value: 'v'.repeat(50) })),
        },
      ],
    },
    status: {
      phase: 'Running',
      ...(o.ip !== undefined ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: time },
        { type: 'Initialized', status: 'True', lastTransitionTime: time },
        { type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: time },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: time },
      ],
      containerStatuses: [
        {
          name: 'runtime',
          image: 'ghcr.io/hal9/runtime:1',
          imageID: `sha256:${'a'.repeat(64)}`,
          ready: o.ready !== false,
          restartCount: o.restarts ?? 0,
          state: { running: { startedAt: time } },
        },
      ],
    },
  };
}

describe('runtimePodForCache', () => {
  const served = [
    aServedPod('impl-1-a', { ip: '10.0.0.7' }),
    aServedPod('impl-1-b', { ip: 'fd00::7', restarts: 2 }),
    aServedPod('impl-1-c', { ip: '10.0.0.8', ready: false }),
    aServedPod('impl-1-d', { ip: '10.0.0.9', deleting: true }),
    aServedPod('impl-1-e'),
    aServedPod('impl-2-a', { ip: '10.0.0.10', neuron: 'impl-2' }),
    // Made by hand with impl-1's labels, on the node's network (its IP is the node's).
    aServedPod('impl-1-f', { ip: '192.168.0.4', hostNetwork: true }),
  ];

  it('keeps every field the tuner reads: the same Ready pods, addresses, instances and ready times', () => {
    const trimmed = served.map((p) => runtimePodForCache(p) as V1Pod);
    expect(readyPodsByNeuron(trimmed, podIPURL)).toEqual(readyPodsByNeuron(served, podIPURL));
    expect([...readyPodsByNeuron(trimmed, podIPURL).keys()].sort()).toEqual([
      'team-a/impl-1',
      'team-a/impl-2',
    ]);
    expect(
      readyPodsByNeuron(trimmed, podIPURL)
        .get('team-a/impl-1')
        ?.map((p) => p.instance),
    ).toEqual(['uid-impl-1-a#0', 'uid-impl-1-b#2']);
  });

  it('holds a small fraction of a served pod', () => {
    const size = (o: unknown) => JSON.stringify(o).length;
    const [pod] = served;
    expect(size(runtimePodForCache(pod!))).toBeLessThan(size(pod) / 5);
    expect(runtimePodForCache(pod!)).not.toHaveProperty('spec');
  });
});
