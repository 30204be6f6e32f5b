import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiserverStub, startApiserverStub } from '../testing/apiserver-stub.ts';
import { createKubeClients } from './clients.ts';
import { createKubeWriter, resourceName } from './writer.ts';

const stubs: ApiserverStub[] = [];
afterEach(async () => {
  for (const s of stubs.splice(0)) await s.close();
});

describe('resourceName', () => {
  it('names each kind the operator writes as the apiserver serves it', () => {
    const kinds = {
      ConfigMap: 'configmaps',
      Deployment: 'deployments',
      Service: 'services',
      HorizontalPodAutoscaler: 'horizontalpodautoscalers',
      PodDisruptionBudget: 'poddisruptionbudgets',
      ServiceMonitor: 'servicemonitors',
      NetworkPolicy: 'networkpolicies',
      Neuron: 'neurons',
      Hal9Cluster: 'hal9clusters',
      Ingress: 'ingresses',
    };
    expect(Object.fromEntries(Object.keys(kinds).map((k) => [k, resourceName(k)]))).toEqual(kinds);
  });
});

describe('the writes counter', () => {
  it('counts a NetworkPolicy apply and delete under its resource name, networkpolicies', async () => {
    const policy: KubernetesObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p', namespace: 'ns' },
    };
    const s = await startApiserverStub((req) =>
      req.method === 'GET'
        ? {
            body: {
              kind: 'APIResourceList',
              groupVersion: 'networking.k8s.io/v1',
              resources: [{ name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true, verbs: [] }],
            },
          }
        : { body: policy },
    );
    stubs.push(s);
    const counted: string[] = [];
    const writer = createKubeWriter(createKubeClients(s.kc), (resource, verb) =>
      counted.push(`${verb} ${resource}`),
    );
    await writer.apply(policy);
    await writer.delete(policy);
    expect(counted).toEqual(['apply networkpolicies', 'delete networkpolicies']);
    expect(s.requests.map((r) => `${r.method} ${r.url?.split('?')[0]}`)).toContain(
      'PATCH /apis/networking.k8s.io/v1/namespaces/ns/networkpolicies/p',
    );
  });
});
