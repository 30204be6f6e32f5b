import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { defaultTopology } from '../testing/builders.ts';
import { computeClusterStatus } from './cluster-status.ts';

const service = (name: string): V1Service => ({ metadata: { name }, spec: { ports: [{ port: 8080 }] } });
const statusWith = (entryNeuron?: string) =>
  computeClusterStatus({
    generation: 1,
    namespace: 'ns',
    existing: undefined,
    neurons: defaultTopology(),
    ...(entryNeuron ? { entryNeuron } : {}),
    serviceOf: service,
    now: '2026-01-01T00:00:00Z',
  });

describe('the entry endpoint', () => {
  it('is the Service of spec.entryNeuron when it names a neuron of the cluster', () => {
    expect(statusWith('design-1').entryEndpoint).toBe('http://design-1.ns.svc:8080');
  });

  it('is the highest layer without spec.entryNeuron, or when it names no neuron of the cluster', () => {
    expect(statusWith().entryEndpoint).toBe('http://strategic-1.ns.svc:8080');
    expect(statusWith('ghost').entryEndpoint).toBe('http://strategic-1.ns.svc:8080');
  });
});
