import { afterEach, describe, expect, it } from 'vitest';
import { type ApiserverStub, startApiserverStub } from '../testing/apiserver-stub.ts';
import { sharedConnections } from './api-client.ts';
import { createKubeClients } from './clients.ts';

// Every client of a set carries the set's deadline and the operator's User-Agent, against a
// loopback stand-in for the apiserver that never answers.

const stubs: ApiserverStub[] = [];
afterEach(async () => {
  for (const s of stubs.splice(0)) await s.close();
});

describe('createKubeClients', () => {
  it("gives every API client the set's deadline and the operator's User-Agent", async () => {
    const s = await startApiserverStub(() => 'hang');
    stubs.push(s);
    const c = createKubeClients(s.kc, 100);
    const calls = [
      () => c.core.readNamespace({ name: 'a' }),
      () => c.apps.readNamespacedDeployment({ name: 'a', namespace: 'a' }),
      () => c.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'a', namespace: 'a' }),
      () => c.policy.readNamespacedPodDisruptionBudget({ name: 'a', namespace: 'a' }),
      () => c.networking.readNamespacedNetworkPolicy({ name: 'a', namespace: 'a' }),
      () => c.custom.getAPIResources({ group: 'hal9.ai', version: 'v1alpha1' }),
      () => c.coordination.readNamespacedLease({ name: 'a', namespace: 'a' }),
      () => c.objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'a' } }),
    ];
    for (const call of calls) await expect(call()).rejects.toThrow();
    expect(s.requests).toHaveLength(calls.length);
    expect(new Set(s.requests.map((r) => r.headers['user-agent']))).toEqual(new Set(['hal9-operator']));
  });

  it("watches over the KubeConfig's shared connections", async () => {
    const s = await startApiserverStub(() => 'hang');
    stubs.push(s);
    expect(createKubeClients(s.kc).watch.config).toBe(sharedConnections(s.kc));
  });
});
