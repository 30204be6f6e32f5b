import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { defaultFakeNodes, fakeNodeAnnotation, isNodeSchedulable, renderFakeNode } from './nodes.ts';

const readyNode = (taints: NonNullable<V1Node['spec']>['taints'] = []): V1Node => ({
  ...renderFakeNode({ name: 'n' }),
  spec: { taints },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
});

describe('renderFakeNode', () => {
  it('marks the node for kwok and keeps extra capacity as allocatable', () => {
    const node = renderFakeNode({
      name: 'p',
      labels: { 'node-type': 'performance' },
      capacity: { 'hugepages-2Mi': '2Gi' },
    });
    expect(node.metadata?.annotations?.[fakeNodeAnnotation.key]).toBe(fakeNodeAnnotation.value);
    expect(node.metadata?.labels).toMatchObject({
      'node-type': 'performance',
      'kubernetes.io/hostname': 'p',
    });
    expect(node.status?.capacity).toMatchObject({ 'hugepages-2Mi': '2Gi', cpu: '32' });
    expect(node.status?.allocatable).toEqual(node.status?.capacity);
  });

  it('gives no hugepages to nodes that do not ask for them', () => {
    expect(renderFakeNode({ name: 'plain' }).status?.capacity?.['hugepages-2Mi']).toBeUndefined();
  });
});

describe('defaultFakeNodes', () => {
  it('is two performance nodes with hugepages and one plain node', () => {
    const nodes = defaultFakeNodes();
    expect(
      nodes.filter((n) => n.labels?.['node-type'] === 'performance' && n.capacity?.['hugepages-2Mi']),
    ).toHaveLength(2);
    expect(nodes.filter((n) => !n.labels?.['node-type'] && !n.capacity)).toHaveLength(1);
  });
});

describe('isNodeSchedulable', () => {
  it('needs Ready=True and no NoSchedule/NoExecute taint', () => {
    expect(isNodeSchedulable(readyNode())).toBe(true);
    expect(
      isNodeSchedulable(readyNode([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }])),
    ).toBe(false);
    expect(isNodeSchedulable(readyNode([{ key: 'x', effect: 'PreferNoSchedule' }]))).toBe(true);
    expect(isNodeSchedulable(renderFakeNode({ name: 'new' }))).toBe(false);
  });
});
