import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Hal9ClusterSpec } from '../generated/hal9cluster.gen.ts';
import { aHal9Cluster, aNeuron, defaultTopology, testNamespace } from '../testing/builders.ts';
import { networkPolicySelector, renderNetworkPolicies } from './network-policy.ts';
import { peerSecretName, peerTokenFile, renderPeerSecret } from './peer-secret.ts';
import { renderNeuron } from './render-neuron.ts';
import { privilegedNotAllowedReason, privilegedPolicy } from './tuning.ts';

const privilegedTuning: Hal9ClusterSpec = {
  nodeTuning: {
    privilegedSysctlInitContainer: true,
    sysctls: [{ name: 'vm.swappiness', value: '1' }],
    transparentHugepages: 'madvise',
    thpInitContainer: true,
  },
};

function render(cluster: Hal9ClusterSpec, allowList?: readonly string[]) {
  return renderNeuron({
    cluster: aHal9Cluster(cluster),
    neuron: aNeuron('impl-1'),
    peers: defaultTopology(),
    ...(allowList ? { privileged: privilegedPolicy(allowList, testNamespace) } : {}),
  });
}
const podOf = (objects: readonly { kind?: string }[]): V1PodSpec =>
  (objects.find((o) => o.kind === 'Deployment') as V1Deployment).spec!.template.spec!;

describe('privileged init containers need the operator allow-list', () => {
  it('are not rendered where the namespace is not allowed: a failure says how to allow them', () => {
    const out = render(privilegedTuning, ['other-namespace']);
    const pod = podOf(out.objects);
    expect(pod.initContainers).toBeUndefined();
    expect(pod.volumes?.some((v) => v.hostPath)).toBe(false);
    expect(out.failure?.reason).toBe(privilegedNotAllowedReason);
    expect(out.failure?.message).toContain('sysctl-tuning, thp-tuning');
    expect(out.failure?.message).toContain(`--allow-privileged-namespaces=${testNamespace}`);
    expect(out.warnings.some((w) => w.startsWith('a privileged init container'))).toBe(false);
  });

  it('are rendered where the namespace is listed, or with *', () => {
    for (const list of [[testNamespace], ['*']]) {
      const out = render(privilegedTuning, list);
      expect(podOf(out.objects).initContainers?.map((c) => c.name)).toEqual(['sysctl-tuning', 'thp-tuning']);
      expect(out.failure).toBeUndefined();
    }
  });

  it('an empty allow-list denies, and a spec without privileged tuning is not a failure', () => {
    expect(render(privilegedTuning, []).failure?.reason).toBe(privilegedNotAllowedReason);
    const plain = render({ nodeTuning: { hugepages: { quantity: '64Mi' } } }, []);
    expect(plain.failure).toBeUndefined();
    expect(podOf(plain.objects).volumes?.some((v) => v.name === 'hugepages')).toBe(true);
  });
});

describe('the peer token', () => {
  it('is mounted read-only from the cluster Secret into every runtime pod and named by HAL9_PEER_TOKEN_FILE', () => {
    const pod = podOf(render({}).objects);
    const volume = pod.volumes?.find((v) => v.secret);
    expect(volume?.secret).toEqual({ secretName: peerSecretName('hal9'), defaultMode: 0o440 });
    const runtime = pod.containers[0]!;
    expect(runtime.volumeMounts).toContainEqual({
      name: volume!.name,
      mountPath: '/var/run/hal9/peer',
      readOnly: true,
    });
    expect(runtime.env).toContainEqual({ name: 'HAL9_PEER_TOKEN_FILE', value: peerTokenFile });
    expect(peerTokenFile).toBe('/var/run/hal9/peer/token');
  });

  it('Secret is owned by the Hal9Cluster and carries the token it is given', () => {
    const secret = renderPeerSecret(aHal9Cluster({}, 'brain'), 'abc');
    expect(secret.metadata?.name).toBe('brain-peer-token');
    expect(secret.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Hal9Cluster',
        name: 'brain',
        uid: 'uid-cluster-brain',
        controller: true,
      }),
    ]);
    expect(secret.stringData).toEqual({ token: 'abc' });
  });
});

describe('the runtime pod passes the restricted Pod Security Standard by construction', () => {
  it('runs as non-root with RuntimeDefault seccomp, no privilege escalation, all capabilities dropped, no host paths', () => {
    const pod = podOf(
      render({ nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }] } }).objects,
    );
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
    }
    expect(pod.volumes?.every((v) => v.configMap || v.emptyDir || v.secret)).toBe(true);
  });
});

describe('renderNetworkPolicies', () => {
  const input = {
    cluster: aHal9Cluster({}, 'brain'),
    entryNeuron: 'strategic-1',
    operatorNamespace: 'hal9-system',
    prometheusNamespaceSelector: { 'kubernetes.io/metadata.name': 'monitoring' },
  };

  it('admits peers of the same cluster, the operator and Prometheus to every runtime pod on 8080 only', () => {
    const [runtime] = renderNetworkPolicies(input);
    // client-node's `_from` goes on the wire as `from` (the integration test reads it back).
    const wire = runtime!;
    expect(wire.metadata?.name).toBe('brain-hal9-runtime');
    expect(wire.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Hal9Cluster', name: 'brain' });
    expect(wire.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'hal9-runtime', 'hal9.ai/cluster': 'brain' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          _from: [
            {
              podSelector: {
                matchLabels: { 'app.kubernetes.io/name': 'hal9-runtime', 'hal9.ai/cluster': 'brain' },
              },
            },
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'hal9-system' } } },
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
          ],
          ports: [{ port: 8080, protocol: 'TCP' }],
        },
      ],
    });
  });

  it('admits anyone to the entry Neuron only, and renders no entry policy without an entry', () => {
    const [, entry] = renderNetworkPolicies(input);
    const wire = entry!;
    expect(wire.metadata?.name).toBe('brain-hal9-entry');
    expect(wire.spec?.podSelector?.matchLabels?.['hal9.ai/neuron']).toBe('strategic-1');
    expect(wire.spec?.ingress).toEqual([{ ports: [{ port: 8080, protocol: 'TCP' }] }]);
    expect(renderNetworkPolicies({ ...input, entryNeuron: undefined }).map((p) => p.metadata?.name)).toEqual([
      'brain-hal9-runtime',
    ]);
  });

  it('labels every policy so that the informer selector (networkPolicySelector) selects it', () => {
    const selects = (labels: Record<string, string> | undefined) =>
      networkPolicySelector.split(',').every((term) => {
        const [key, value] = term.split('=') as [string, string | undefined];
        return value === undefined ? labels?.[key] !== undefined : labels?.[key] === value;
      });
    const policies = renderNetworkPolicies(input);
    expect(policies).toHaveLength(2);
    for (const p of policies) expect(selects(p.metadata?.labels), p.metadata?.name).toBe(true);
    expect(policies[0]!.metadata?.labels?.['hal9.ai/cluster']).toBe('brain');
  });

  it('has no operator rule when the operator runs out of cluster, and is deterministic', () => {
    const [runtime] = renderNetworkPolicies({ ...input, operatorNamespace: undefined });
    expect(runtime!.spec!.ingress![0]!._from).toHaveLength(2);
    expect(JSON.stringify(renderNetworkPolicies(input))).toBe(JSON.stringify(renderNetworkPolicies(input)));
  });
});
