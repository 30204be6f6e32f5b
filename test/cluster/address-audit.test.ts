import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { nonLoopbackAddresses } from './address-audit.ts';

const podWith = (podIP: string, hostIP = '127.9.255.1'): V1Pod => ({
  metadata: { namespace: 'ns', name: `p-${podIP}` },
  status: { podIP, podIPs: [{ ip: podIP }], hostIP, hostIPs: [{ ip: hostIP }] },
});
const nodeWith = (address: string): V1Node => ({
  metadata: { name: 'n' },
  status: {
    addresses: [
      { type: 'InternalIP', address },
      { type: 'Hostname', address: 'n' },
    ],
  },
});
const serviceWith = (clusterIP: string): V1Service => ({
  metadata: { namespace: 'ns', name: 's' },
  spec: { clusterIP, clusterIPs: [clusterIP] },
});

describe('nonLoopbackAddresses', () => {
  it('passes a cluster whose pods, nodes and Services are all on 127.x', () => {
    expect(
      nonLoopbackAddresses(
        [podWith('127.9.0.1'), { metadata: { name: 'pending' } }],
        [nodeWith('127.9.255.1')],
        [serviceWith('127.9.254.1'), serviceWith('None')],
      ),
    ).toEqual([]);
  });

  it('names every field that leaves loopback', () => {
    expect(
      nonLoopbackAddresses(
        [podWith('10.244.0.3', '10.244.255.1')],
        [nodeWith('192.168.1.5')],
        [serviceWith('10.0.0.1')],
      ),
    ).toEqual([
      'pod ns/p-10.244.0.3 status.podIP=10.244.0.3',
      'pod ns/p-10.244.0.3 status.podIPs[0]=10.244.0.3',
      'pod ns/p-10.244.0.3 status.hostIP=10.244.255.1',
      'pod ns/p-10.244.0.3 status.hostIPs[0]=10.244.255.1',
      'node n status.addresses[0] (InternalIP)=192.168.1.5',
      'service ns/s spec.clusterIP=10.0.0.1',
      'service ns/s spec.clusterIPs[0]=10.0.0.1',
    ]);
  });
});
