import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { appliedHashAnnotation, liveDiffers, withAppliedHash } from './applied-hash.ts';

const deployment = (podSpec: Record<string, unknown>): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'n', namespace: 'ns', labels: { a: 'b' } },
    spec: { template: { spec: { containers: [{ name: 'runtime', image: 'x:1' }], ...podSpec } } },
  }) as KubernetesObject;

// What the apiserver returns after an apply: what we sent plus defaults and other writers' fields.
const served = (applied: KubernetesObject): KubernetesObject => {
  const o = structuredClone(applied) as KubernetesObject & { spec: { template: { spec: object } } };
  o.spec.template.spec = { ...o.spec.template.spec, restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' };
  return o;
};

describe('liveDiffers', () => {
  it('needs no apply when the live object is what we applied plus defaults', () => {
    const d = withAppliedHash(deployment({ nodeSelector: { zone: 'a' } }));
    expect(liveDiffers(d, served(d))).toBeUndefined();
  });

  it('sees a field we stopped sending (removed nodeSelector, affinity, init container)', () => {
    for (const before of [
      { nodeSelector: { zone: 'a' } },
      { affinity: { nodeAffinity: {} } },
      { initContainers: [{ name: 'sysctl', image: 'busybox' }] },
    ]) {
      const live = served(withAppliedHash(deployment(before)));
      const now = withAppliedHash(deployment({}));
      expect(liveDiffers(now, live)).toBe(`.metadata.annotations.${appliedHashAnnotation}`);
    }
  });

  it('sees a field we send that another writer changed', () => {
    const d = withAppliedHash(deployment({}));
    const live = served(d) as KubernetesObject & {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    live.spec.template.spec.containers[0]!.image = 'tampered:1';
    expect(liveDiffers(d, live)).toBe('.spec.template.spec.containers[0].image');
  });

  it('needs no apply for list items other managers added where server-side apply merges by key', () => {
    // `kubectl set env`, a webhook's sidecar and volume: our apply keeps them, so they are no drift.
    const d = withAppliedHash(
      deployment({
        containers: [
          {
            name: 'runtime',
            image: 'x:1',
            env: [{ name: 'A', value: '1' }],
            ports: [{ name: 'http', containerPort: 8080 }],
            volumeMounts: [{ name: 'config', mountPath: '/etc/hal9' }],
          },
        ],
        volumes: [{ name: 'config', configMap: { name: 'n-config' } }],
      }),
    );
    const live = served(d) as KubernetesObject & { spec: { template: { spec: Record<string, unknown[]> } } };
    const pod = live.spec.template.spec;
    const runtime = pod.containers![0] as Record<string, unknown[]>;
    runtime.env = [{ name: 'EXTRA', value: 'x' }, ...runtime.env!];
    runtime.ports = [
      { ...(runtime.ports![0] as object), protocol: 'TCP' },
      { containerPort: 9090, protocol: 'TCP' },
    ];
    runtime.volumeMounts!.push({ name: 'ca', mountPath: '/etc/ca' });
    pod.containers!.unshift({ name: 'sidecar', image: 'proxy:1' });
    pod.volumes!.push({ name: 'ca', secret: { secretName: 'ca' } });
    expect(liveDiffers(d, live)).toBeUndefined();
    // Ours are still compared, found by key wherever they are.
    runtime.env!.splice(1, 1, { name: 'A', value: 'tampered' });
    expect(liveDiffers(d, live)).toBe('.spec.template.spec.containers[0].env[0].value');
    runtime.env!.splice(1, 1);
    expect(liveDiffers(d, live)).toBe('.spec.template.spec.containers[0].env[0]');
  });

  it('sees an item added to an atomic list (our apply replaces it whole)', () => {
    const d = withAppliedHash(deployment({ tolerations: [{ key: 'a', operator: 'Exists' }] }));
    const live = served(d) as KubernetesObject & { spec: { template: { spec: { tolerations: object[] } } } };
    live.spec.template.spec.tolerations.push({ key: 'b', operator: 'Exists' });
    expect(liveDiffers(d, live)).toBe('.spec.template.spec.tolerations');
  });

  it('applies once to an object written before the hash existed', () => {
    const d = deployment({});
    expect(liveDiffers(withAppliedHash(d), served(d))).toBeDefined();
  });

  it('hashes content, so equal renders give equal hashes and other annotations are kept', () => {
    const a = withAppliedHash({ ...deployment({}), metadata: { name: 'n', annotations: { x: 'y' } } });
    const b = withAppliedHash({ ...deployment({}), metadata: { name: 'n', annotations: { x: 'y' } } });
    expect(a.metadata?.annotations).toEqual(b.metadata?.annotations);
    expect(a.metadata?.annotations?.x).toBe('y');
    const hashOf = (o: KubernetesObject) => o.metadata?.annotations?.[appliedHashAnnotation];
    const hash = hashOf(a);
    expect(hash).toMatch(/\S{8,}/);
    // Other content, another hash.
    const c = withAppliedHash({ ...deployment({}), metadata: { name: 'n', annotations: { x: 'z' } } });
    expect(hashOf(c)).not.toBe(hash);
  });
});
