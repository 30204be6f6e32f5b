// client-node's KubernetesObjectApi serializes objects through its generated models before sending
// them, and silently drops fields those models do not know. The rendered objects must survive that.
// Internal modules (the package has no exports map, so they resolve).
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import { describe, expect, it } from 'vitest';
import { aHal9Cluster, defaultTopology } from '../testing/builders.ts';
import { renderNeuron } from './render-neuron.ts';

describe('rendered objects through client-node serialization', () => {
  it('lose no field when serialized the way KubernetesObjectApi.patch does', () => {
    const cluster = aHal9Cluster({
      autoscaling: {
        enabled: true,
        minReplicas: 2,
        behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      },
      placement: {
        requiredNodeLabels: [{ key: 'node-type', operator: 'In', values: ['performance'] }],
        preferredNodeLabels: [{ weight: 10, key: 'zone', values: ['a'] }],
        tolerations: [{ key: 'k', operator: 'Exists' }],
        topologySpread: {},
      },
      nodeTuning: {
        hugepages: { quantity: '512Mi' },
        sysctls: [
          { name: 'net.ipv4.tcp_fin_timeout', value: '15' },
          { name: 'net.core.somaxconn', value: '1024' },
        ],
        privilegedSysctlInitContainer: true,
        thpInitContainer: true,
        transparentHugepages: 'never',
      },
      claude: { mode: 'api', apiKeySecretRef: { name: 's' } },
    });
    const { objects } = renderNeuron({ cluster, neuron: defaultTopology()[2]!, peers: defaultTopology() });
    for (const o of objects) {
      const wire = ObjectSerializer.serialize(o, getSerializationType(o.apiVersion, o.kind));
      expect(JSON.parse(JSON.stringify(wire)), o.kind).toEqual(JSON.parse(JSON.stringify(o)));
    }
  });
});
