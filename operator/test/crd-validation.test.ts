// The CRDs against a real kube-apiserver: samples are accepted, invalid objects are rejected by
// kubectl with messages that say what to fix, and explain/printer columns show what users see.
import { readdirSync, readFileSync } from 'node:fs';
import type { Hal9Cluster, Hal9ClusterSpec, Neuron, NeuronSpec } from '@hal9/api';
import { createTestNamespace, kubeConfigFromInject, kubectl, waitFor, waitForCrdDiscovery } from '@hal9/test';
import { loadAllYaml, type V1Deployment } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { liveDiffers } from '../src/kube/applied-hash.ts';
import { renderNeuron } from '../src/render/index.ts';
import { aHal9Cluster, aNeuron } from '../src/testing/builders.ts';

const root = new URL('../../', import.meta.url).pathname;
let ns = '';

beforeAll(async () => {
  const namespace = await createTestNamespace(kubeConfigFromInject(), 'crd-validation');
  ns = namespace.name;
  return namespace.delete;
});

/** What a user would write: apiVersion, kind, name and spec (no uid or generation). */
function manifest(o: Hal9Cluster | Neuron): string {
  return JSON.stringify({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: o.metadata?.name },
    spec: o.spec,
  });
}
const apply = (o: Hal9Cluster | Neuron, extra: string[] = []) =>
  kubectl(['apply', '-n', ns, ...extra, '-f', '-'], { stdin: manifest(o), allowFailure: true });
const cluster = (spec: Hal9ClusterSpec) => aHal9Cluster(spec, 'invalid');
const neuron = (spec: Partial<NeuronSpec>, name = 'impl-1') => aNeuron(name, spec);
const pinned = { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } };

const samples = (dir: string) =>
  readdirSync(`${root}samples/${dir}`)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `samples/${dir}/${f}`);

describe('samples', () => {
  it.each([...samples('production'), ...samples('minimal')])(
    '%s is accepted (server-side dry run)',
    async (file) => {
      const r = await kubectl(['apply', '-n', ns, '--dry-run=server', '-f', `${root}${file}`], {
        allowFailure: true,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    },
  );

  it('the production sample renders to objects the apiserver accepts (server-side dry run)', async () => {
    const docs = [...samples('production')].flatMap((f) => loadAllYaml(readFileSync(`${root}${f}`, 'utf8')));
    const h9c = docs.find((d) => d.kind === 'Hal9Cluster') as Hal9Cluster;
    const neurons = docs.filter((d) => d.kind === 'Neuron') as Neuron[];
    const withMeta = (n: Neuron): Neuron => ({
      ...n,
      metadata: { ...n.metadata, namespace: ns, uid: `uid-${n.metadata?.name}` },
    });
    const peers = neurons.map(withMeta);
    for (const n of peers) {
      const { objects, warnings } = renderNeuron({ cluster: h9c, neuron: n, peers });
      expect(warnings).toEqual([]);
      // The sample has the Prometheus Operator scrape its pods; this control plane has no such API
      // (where it is missing the operator skips the ServiceMonitor with a warning), so it is left out
      // of the dry run (operator/test/service-monitor.test.ts applies one to its CRD).
      expect(objects.map((o) => o.kind)).toContain('ServiceMonitor');
      // The owner does not exist, so drop ownerReferences: the dry run checks the objects themselves.
      const list = {
        apiVersion: 'v1',
        kind: 'List',
        items: objects
          .filter((o) => o.kind !== 'ServiceMonitor')
          .map((o) => ({ ...o, metadata: { ...o.metadata, ownerReferences: undefined } })),
      };
      const r = await kubectl(['apply', '-n', ns, '--server-side', '--dry-run=server', '-f', '-'], {
        stdin: JSON.stringify(list),
        allowFailure: true,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('deployment.apps/');
      // Autoscaling mode operator: the operator sizes the Deployment, no HPA.
      expect(r.stdout).not.toContain('horizontalpodautoscaler');
      expect(r.stdout).toContain('poddisruptionbudget.policy/');
    }
  });
});

describe('rendered objects with every tuning option', () => {
  it('are accepted by the apiserver (server-side dry run)', async () => {
    const h9c = aHal9Cluster({
      claude: { mode: 'api', apiKeySecretRef: { name: 'anthropic' } },
      resources: pinned,
      placement: {
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        requiredNodeLabels: [{ key: 'node-type', operator: 'In', values: ['performance'] }],
        preferredNodeLabels: [{ weight: 20, key: 'zone', operator: 'Exists' }],
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'hal9', effect: 'NoSchedule' }],
        topologySpread: { whenUnsatisfiable: 'DoNotSchedule' },
      },
      nodeTuning: {
        cpuPinning: true,
        hugepages: { size: '1Gi', quantity: '1Gi' },
        privilegedSysctlInitContainer: true,
        sysctls: [
          { name: 'net.ipv4.tcp_slow_start_after_idle', value: '0' },
          { name: 'net.ipv4.ip_local_port_range', value: '1024 65000' },
        ],
        transparentHugepages: 'madvise',
        thpInitContainer: true,
      },
      autoscaling: {
        enabled: true,
        minReplicas: 2,
        behavior: {
          scaleUp: { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
        },
      },
    });
    const n = aNeuron('tuned', {}, { namespace: ns });
    const { objects, warnings } = renderNeuron({ cluster: h9c, neuron: n, peers: [n] });
    expect(warnings).toHaveLength(2);
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: objects.map((o) => ({ ...o, metadata: { ...o.metadata, ownerReferences: undefined } })),
    };
    const r = await kubectl(['apply', '-n', ns, '--server-side', '--dry-run=server', '-f', '-'], {
      stdin: JSON.stringify(list),
      allowFailure: true,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('deployment.apps/tuned serverside-applied (server dry run)');
  });
});

describe('quantities written as numbers, as in a Pod', () => {
  const numbers = {
    requests: { cpu: 1, memory: 1073741824 },
    limits: { cpu: 2, memory: 2147483648 },
  };

  it('are accepted in a Hal9Cluster and a Neuron: cpu: 1, memory in bytes, hugepages in bytes', async () => {
    const hugepages = { nodeTuning: { hugepages: { quantity: 536870912 } } };
    for (const o of [
      cluster({ resources: numbers, ...hugepages }),
      neuron({ resources: numbers, ...hugepages }),
      // Whole CPUs as numbers pin, equal to limits in another notation.
      cluster({
        resources: { requests: { cpu: 2, memory: '2Gi' }, limits: { cpu: '2000m', memory: 2147483648 } },
        nodeTuning: { cpuPinning: true },
      }),
    ]) {
      const r = await apply(o, ['--dry-run=server']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('cpuPinning takes whole CPUs in any notation ("2000m", "2.0"), as the kubelet does, and refuses "2001m"', async () => {
    const pin = (cpu: number | string) =>
      cluster({
        resources: { requests: { cpu, memory: '2Gi' }, limits: { cpu, memory: '2Gi' } },
        nodeTuning: { cpuPinning: true },
      });
    for (const cpu of [2, '2', '2000m', '2.0']) {
      const r = await apply(pin(cpu), ['--dry-run=server']);
      expect(r.stderr, String(cpu)).toBe('');
    }
    const r = await apply(pin('2001m'), ['--dry-run=server']);
    expect(r.stderr).toContain('nodeTuning.cpuPinning needs an integer CPU limit');
  });

  it('are compared by value: a limit of 1 CPU below a request of "1500m" is refused', async () => {
    const r = await apply(cluster({ resources: { requests: { cpu: '1500m' }, limits: { cpu: 1 } } }));
    expect(r.stderr).toContain('resources.limits.cpu is lower than resources.requests.cpu');
  });

  it('render into a Deployment the apiserver accepts, as the same quantities', async () => {
    const n = aNeuron('numbers', {}, { namespace: ns });
    const h9c = aHal9Cluster({ resources: numbers });
    const deployment = renderNeuron({ cluster: h9c, neuron: n, peers: [n] }).objects.find(
      (o) => o.kind === 'Deployment',
    );
    const r = await kubectl(
      ['apply', '-n', ns, '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'],
      {
        stdin: JSON.stringify({
          ...deployment,
          metadata: { ...deployment?.metadata, ownerReferences: undefined },
        }),
        allowFailure: true,
      },
    );
    expect(r.stderr).toBe('');
    const applied = JSON.parse(r.stdout) as V1Deployment;
    // The Pod template holds the quantities the Hal9Cluster wrote as numbers, as strings.
    expect(applied.spec?.template.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: '1', memory: '1073741824' },
      limits: { cpu: '2', memory: '2147483648' },
    });
  });
});

describe('a fraction written as a number (cpu: 0.5), which no CRD field can take', () => {
  // A structural schema cannot type a field "number or string", and a field without a type is not
  // visible to CEL, so the apiserver refuses it by its type, before any rule. What is left to do is
  // to say that once: an anyOf of integer and string beside x-kubernetes-int-or-string added three
  // more lines, one saying the field must be an integer.
  const fields = [
    ['resources.requests.cpu', { resources: { requests: { cpu: 0.5 } } }],
    ['resources.requests.memory', { resources: { requests: { memory: 0.5 } } }],
    ['resources.limits.cpu', { resources: { limits: { cpu: 1.5 } } }],
    ['resources.limits.memory', { resources: { limits: { memory: 1.5 } } }],
    ['nodeTuning.hugepages.quantity', { nodeTuning: { hugepages: { quantity: 0.5 } } }],
  ] as const;
  const objects = fields.flatMap(([field, spec]) => [
    [field, 'Hal9Cluster', cluster(spec as Hal9ClusterSpec)] as const,
    [field, 'Neuron', neuron(spec as Partial<NeuronSpec>)] as const,
  ]);

  it.each(objects)('is reported once, as the type of %s, in a %s', async (field, kind, object) => {
    const r = await apply(object);
    expect(r.code).not.toBe(0);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .map((l) => l.trimEnd()),
    ).toEqual([
      `The ${kind} "${object.metadata?.name}" is invalid:`,
      `* spec.${field}: Invalid value: "number": spec.${field} in body must be of type integer,string: "number"`,
      '* <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
  });

  it('kubectl explain says to quote a fraction', async () => {
    for (const kind of ['hal9cluster', 'neuron']) {
      const cpu = (await kubectl(['explain', `${kind}.spec.resources.limits.cpu`])).stdout;
      expect(cpu.replaceAll(/\s+/g, ' ')).toContain('a fraction in quotes ("0.5")');
    }
  });
});

describe('a memory request or limit too small for a runtime', () => {
  const tail =
    'A runtime holds about 100 MB once it listens: a memory request must be at least 64Mi and a limit at least 128Mi';

  it.each<[string, Hal9Cluster | Neuron, string]>([
    [
      'a limit written as a bare number (bytes)',
      cluster({ resources: { limits: { memory: 512 } } }),
      `spec.resources.limits.memory: Invalid value: 512: resources.limits.memory 512 is 512 bytes (a number without a unit is bytes); did you mean 512Mi? ${tail}`,
    ],
    [
      "a Neuron's request as a string of digits",
      neuron({ resources: { requests: { memory: '256' } } }),
      `spec.resources.requests.memory: Invalid value: "256": resources.requests.memory 256 is 256 bytes (a number without a unit is bytes); did you mean 256Mi? ${tail}`,
    ],
    [
      'a limit in millibytes',
      cluster({ resources: { limits: { memory: '512m' } } }),
      `spec.resources.limits.memory: Invalid value: "512m": resources.limits.memory 512m is 512 thousandths of a byte (m is milli); did you mean 512Mi? ${tail}`,
    ],
    [
      'a bare number that reads as too few MiB (meant as GiB)',
      neuron({ resources: { limits: { memory: 4 } } }),
      `resources.limits.memory 4 is 4 bytes (a number without a unit is bytes); did you mean 4Gi? ${tail}`,
    ],
    [
      'no memory at all',
      cluster({ resources: { requests: { memory: 0 } } }),
      `resources.requests.memory 0 is 0 bytes (a number without a unit is bytes). ${tail}`,
    ],
    [
      'a limit in MiB below 128Mi',
      neuron({ resources: { limits: { memory: '100Mi' } } }),
      `spec.resources.limits.memory: Invalid value: "100Mi": resources.limits.memory 100Mi is too little. ${tail}`,
    ],
    [
      'a request in MiB below 64Mi',
      cluster({ resources: { requests: { memory: '32Mi' } } }),
      `resources.requests.memory 32Mi is too little. ${tail}`,
    ],
  ])('is refused on apply: %s', async (_name, object, message) => {
    const r = await apply(object);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('is accepted from 64Mi for a request and 128Mi for a limit, in any notation', async () => {
    const small = [
      { requests: { memory: '64Mi' }, limits: { memory: '128Mi' } },
      { requests: { memory: 67108864 }, limits: { memory: 134217728 } },
      { requests: { memory: '0.0625Gi' }, limits: { memory: '134217728000m' } },
    ];
    for (const resources of small) {
      for (const o of [cluster({ resources }), neuron({ resources })]) {
        const r = await apply(o, ['--dry-run=server']);
        expect(r.stderr, JSON.stringify(resources)).toBe('');
      }
    }
  });

  it('a malformed amount is reported by its own rule only', async () => {
    const r = await apply(cluster({ resources: { limits: { memory: '512MB' } } }));
    expect(r.stderr).toContain('resources.limits.memory must be a non-negative memory quantity');
    expect(r.stderr).not.toContain(tail);
  });
});

describe('monitoring.scrapeInterval', () => {
  const bounds = 'monitoring.scrapeInterval must be between 1s and 1m, such as 15s or 30s';

  it('takes durations from 1s to 1m as Prometheus writes them, compound ones included (server-side dry run)', async () => {
    // Leading zeros aside: the guard before duration() counts significant digits.
    for (const scrapeInterval of [
      '15s',
      '30s500ms',
      '1s',
      '1m',
      '0h1m',
      '59s999ms',
      '1000ms',
      '0001s',
      '0000001m',
      '00000059999ms',
    ]) {
      const r = await apply(cluster({ monitoring: { scrapeInterval } }), ['--dry-run=server']);
      expect(r.stderr, scrapeInterval).toBe('');
      const n = await apply(neuron({ monitoring: { scrapeInterval } }), ['--dry-run=server']);
      expect(n.stderr, scrapeInterval).toBe('');
    }
  });

  it.each(['0s', '15', '30s1m', ''])('refuses %j, saying how to write one', async (scrapeInterval) => {
    const r = await apply(cluster({ monitoring: { scrapeInterval } }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('monitoring.scrapeInterval must be a positive duration in h, m, s and ms');
    expect(r.stderr).not.toContain(bounds);
  });

  // The tuner's window is four intervals: 999h would have Prometheus read 166 days at every pass.
  it.each(['2m', '1m1s', '1m30s', '15m', '999h', '500ms', '1000000ms', '999999999999999h'])(
    'refuses %j in a Hal9Cluster and a Neuron, saying the bounds (never a CEL evaluation error)',
    async (scrapeInterval) => {
      for (const o of [
        cluster({ monitoring: { scrapeInterval } }),
        neuron({ monitoring: { scrapeInterval } }),
      ]) {
        const r = await apply(o);
        expect(r.code, scrapeInterval).not.toBe(0);
        expect(r.stderr, scrapeInterval).toContain(bounds);
        expect(r.stderr, scrapeInterval).not.toContain('evaluating rule');
        expect(r.stderr, scrapeInterval).not.toContain('positive duration');
      }
    },
  );
});

describe('claude.fallbackModels', () => {
  it('takes other models than claude.model, each once (server-side dry run)', async () => {
    for (const o of [
      cluster({ claude: { model: 'claude-a', fallbackModels: ['claude-b', 'claude-c'] } }),
      neuron({ claude: { model: 'claude-a', fallbackModels: ['claude-b', 'claude-c'] } }),
      // A Neuron without its own model may name the cluster's: the operator leaves it out after the merge.
      neuron({ claude: { fallbackModels: ['claude-sonnet-5-5'] } }),
    ]) {
      const r = await apply(o, ['--dry-run=server']);
      expect(r.stderr, JSON.stringify(o.spec)).toBe('');
    }
  });

  const primary =
    'claude.fallbackModels must not contain claude.model: a fallback stands in for claude.model when it is overloaded, so remove claude.model from claude.fallbackModels';
  it.each<[string, Hal9Cluster | Neuron, string]>([
    [
      'a model listed twice in a Hal9Cluster',
      cluster({ claude: { fallbackModels: ['claude-b', 'claude-c', 'claude-b'] } }),
      'spec.claude.fallbackModels[2]: Duplicate value: "claude-b"',
    ],
    [
      'a model listed twice in a Neuron',
      neuron({ claude: { fallbackModels: ['claude-b', 'claude-b'] } }),
      'spec.claude.fallbackModels[1]: Duplicate value: "claude-b"',
    ],
    [
      'claude.model in a Hal9Cluster',
      cluster({ claude: { model: 'claude-a', fallbackModels: ['claude-b', 'claude-a'] } }),
      `spec.claude.fallbackModels: Invalid value: ${primary}`,
    ],
    [
      'the default claude.model in a Hal9Cluster (defaults apply before the rule)',
      cluster({ claude: { fallbackModels: ['claude-sonnet-5-5'] } }),
      primary,
    ],
    [
      'claude.model in a Neuron',
      neuron({ claude: { model: 'claude-a', fallbackModels: ['claude-a'] } }),
      primary,
    ],
  ])('refuses %s', async (_name, object, message) => {
    const r = await apply(object);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});

describe('valid ServiceMonitor labels', () => {
  it('are accepted in a Hal9Cluster (server-side dry run)', async () => {
    const labels = { release: 'kube-prometheus-stack', 'example.com/team': 'platform', empty: '' };
    const r = await apply(cluster({ monitoring: { serviceMonitor: true, serviceMonitorLabels: labels } }), [
      '--dry-run=server',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('tracing', () => {
  const tracing = {
    endpoint: 'http://otel-collector.observability:4318',
    samplingRatio: 0.05,
    resourceAttributes: { 'deployment.environment.name': 'production', 'team.note': 'a,b=c' },
  };

  it('is accepted in a Hal9Cluster and a Neuron, and a Neuron may override only part of it (server-side dry run)', async () => {
    for (const o of [cluster({ tracing }), neuron({ tracing }), neuron({ tracing: { samplingRatio: 0 } })]) {
      const r = await apply(o, ['--dry-run=server']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('takes an endpoint on any port from 1 to 65535, in a Hal9Cluster and a Neuron (server-side dry run)', async () => {
    for (const endpoint of [
      'http://otel-collector.observability:65535',
      'https://otel-collector.observability:1',
    ]) {
      for (const o of [cluster({ tracing: { endpoint } }), neuron({ tracing: { endpoint } })]) {
        const r = await apply(o, ['--dry-run=server']);
        expect(r.stderr, endpoint).toBe('');
        expect(r.code).toBe(0);
      }
    }
  });

  it('takes gzip or none and a timeout from 1ms to 30s, in a Hal9Cluster and a Neuron (server-side dry run)', async () => {
    for (const [compression, timeout] of [
      ['gzip', '5s'],
      ['none', '30s'],
      ['gzip', '1ms'],
      ['none', '2s500ms'],
      ['gzip', '0m30s'],
      // Leading zeros aside: the guard before duration() counts significant digits ("0000001s" was
      // refused as above 30s).
      ['none', '0000001s'],
      ['gzip', '0000000030000ms'],
    ] as const) {
      for (const o of [
        cluster({ tracing: { ...tracing, compression, timeout } }),
        neuron({ tracing: { compression, timeout } }),
      ]) {
        const r = await apply(o, ['--dry-run=server']);
        expect(r.stderr, `${compression} ${timeout}`).toBe('');
        expect(r.code).toBe(0);
      }
    }
  });

  it('refuses a compression the runtime does not speak, naming the ones it does', async () => {
    for (const o of [
      cluster({ tracing: { ...tracing, compression: 'zstd' as never } }),
      neuron({ tracing: { compression: 'zstd' as never } }),
    ]) {
      const r = await apply(o);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('spec.tracing.compression');
      expect(r.stderr).toContain('supported values: "gzip", "none"');
    }
  });

  it.each([
    ['45s', 'tracing.timeout must be at most 30s'],
    ['0000031s', 'tracing.timeout must be at most 30s'],
    ['1000000ms', 'tracing.timeout must be at most 30s'],
    ['30s1ms', 'tracing.timeout must be at most 30s'],
    ['1h', 'tracing.timeout must be at most 30s'],
    ['99999999h', 'tracing.timeout must be at most 30s'],
    ['0s', 'tracing.timeout must be a duration above 0'],
    ['0ms', 'tracing.timeout must be a duration above 0'],
    ['10', 'tracing.timeout must be a duration above 0 in h, m, s and ms'],
    ['1.5s', 'tracing.timeout must be a duration above 0 in h, m, s and ms'],
  ])('refuses timeout %j, saying what to write', async (timeout, message) => {
    for (const o of [cluster({ tracing: { ...tracing, timeout } }), neuron({ tracing: { timeout } })]) {
      const r = await apply(o);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('spec.tracing.timeout');
      expect(r.stderr).toContain(message);
    }
  });

  it('renders a Deployment the apiserver accepts, the pod name from the downward API (server-side dry run)', async () => {
    const n = aNeuron('traced', {}, { namespace: ns });
    const deployment = renderNeuron({
      cluster: aHal9Cluster({ tracing }),
      neuron: n,
      peers: [n],
    }).objects.find((o) => o.kind === 'Deployment');
    const r = await kubectl(
      ['apply', '-n', ns, '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'],
      {
        stdin: JSON.stringify({
          ...deployment,
          metadata: { ...deployment?.metadata, ownerReferences: undefined },
        }),
        allowFailure: true,
      },
    );
    expect(r.stderr).toBe('');
    const applied = JSON.parse(r.stdout) as V1Deployment;
    const env = applied.spec!.template.spec!.containers[0]!.env ?? [];
    expect(env.find((e) => e.name === 'HAL9_POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.find((e) => e.name === 'OTEL_RESOURCE_ATTRIBUTES')?.value).toContain(
      'k8s.pod.name=$(HAL9_POD_NAME)',
    );
  });

  const tls = {
    endpoint: 'https://tempo.observability:4318',
    headersSecretRef: { name: 'otlp-auth' },
    caSecretRef: { name: 'otlp-ca', key: 'bundle.pem' },
    clientCertSecretRef: { name: 'otlp-client' },
  };

  it("takes the collector's Secrets in a Hal9Cluster and a Neuron, which may name only a Secret (server-side dry run)", async () => {
    for (const o of [
      cluster({ tracing: tls }),
      neuron({ tracing: tls }),
      neuron({ tracing: { headersSecretRef: { name: 'mine' }, caSecretRef: { name: 'ca' } } }),
      // Headers alone over http: a collector inside the cluster may take a token without TLS.
      cluster({ tracing: { endpoint: tracing.endpoint, headersSecretRef: { name: 'otlp-auth' } } }),
    ]) {
      const r = await apply(o, ['--dry-run=server']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('names only Secrets and keys that can exist: a dotted name or key is taken, ".." in a name or a key of dots is refused', async () => {
    const refs = (name: string, key: string) => ({
      claude: { mode: 'api' as const, apiKeySecretRef: { name, key } },
      tracing: { endpoint: tls.endpoint, headersSecretRef: { name, key } },
    });
    for (const o of [cluster(refs('otlp.auth', '.dockercfg')), neuron(refs('a.b-c', 'k..1'))]) {
      const r = await apply(o, ['--dry-run=server']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    for (const [name, key, field] of [
      ['a..b', 'token', 'name'],
      ['a.-b', 'token', 'name'],
      ['ok', '..', 'key'],
      ['ok', '.', 'key'],
      ['ok', '..x', 'key'],
    ] as const) {
      for (const o of [cluster(refs(name, key)), neuron(refs(name, key))]) {
        const r = await apply(o, ['--dry-run=server']);
        expect(r.code, `${name} ${key}`).not.toBe(0);
        expect(r.stderr).toContain(`spec.claude.apiKeySecretRef.${field}: Invalid value`);
        expect(r.stderr).toContain(`spec.tracing.headersSecretRef.${field}: Invalid value`);
      }
    }
  });

  it('renders the headers, CA and client certificate mounts into a Deployment the apiserver accepts (server-side dry run)', async () => {
    const n = aNeuron('traced-tls', {}, { namespace: ns });
    const deployment = renderNeuron({
      cluster: aHal9Cluster({ tracing: tls }),
      neuron: n,
      peers: [n],
    }).objects.find((o) => o.kind === 'Deployment');
    const r = await kubectl(
      ['apply', '-n', ns, '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'],
      {
        stdin: JSON.stringify({
          ...deployment,
          metadata: { ...deployment?.metadata, ownerReferences: undefined },
        }),
        allowFailure: true,
      },
    );
    expect(r.stderr).toBe('');
    const pod = (JSON.parse(r.stdout) as V1Deployment).spec!.template.spec!;
    const env = pod.containers[0]!.env ?? [];
    expect(env.find((e) => e.name === 'HAL9_OTLP_HEADERS_FILE')?.value).toBe(
      '/var/run/hal9/otlp-headers/headers',
    );
    expect(pod.volumes?.find((v) => v.name === 'otlp-headers')?.secret?.secretName).toBe('otlp-auth');
    expect(env.find((e) => e.name === 'OTEL_EXPORTER_OTLP_CERTIFICATE')?.value).toBe(
      '/var/run/hal9/otlp-ca/ca.crt',
    );
    expect(pod.volumes?.find((v) => v.name === 'otlp-ca')?.secret?.secretName).toBe('otlp-ca');
    expect(pod.volumes?.find((v) => v.name === 'otlp-client')?.secret?.secretName).toBe('otlp-client');
    // What the apiserver stores (its defaults filled in) matches what the operator sends: no apply on
    // every resync, no perpetual diff.
    expect(
      liveDiffers(
        { ...deployment!, metadata: { ...deployment!.metadata, ownerReferences: undefined } },
        JSON.parse(r.stdout),
      ),
    ).toBeUndefined();
  });

  it.each<[string, Hal9Cluster | Neuron, string]>([
    [
      'a CA for a collector whose endpoint is http://',
      cluster({ tracing: { ...tls, endpoint: tracing.endpoint, clientCertSecretRef: undefined } }),
      'tracing.caSecretRef is the CA of a collector behind TLS, but tracing.endpoint is not https://: write the endpoint as https://<host>:<port>, or remove caSecretRef',
    ],
    [
      'a client certificate for a collector whose endpoint is http://, on a Neuron',
      neuron({ tracing: { endpoint: tracing.endpoint, clientCertSecretRef: { name: 'otlp-client' } } }),
      'tracing.clientCertSecretRef is a client certificate for a collector behind TLS, but tracing.endpoint is not https://',
    ],
    [
      'a headers Secret without a name',
      cluster({
        tracing: {
          endpoint: tracing.endpoint,
          headersSecretRef: { key: 'h' } as unknown as { name: string },
        },
      }),
      'spec.tracing.headersSecretRef.name: Required value',
    ],
    [
      'a base URL holding credentials',
      cluster({ claude: { baseURL: 'http://user:pw@messages-proxy.ai:8080' } }),
      'claude.baseURL must be an http:// or https:// URL with a host, a port from 1 to 65535 if any, and without credentials (user:password@)',
    ],
    [
      'a base URL whose port is above 65535 (the runtime would not start)',
      cluster({ claude: { baseURL: 'http://messages-proxy.ai:65536' } }),
      'claude.baseURL must be an http:// or https:// URL with a host, a port from 1 to 65535 if any',
    ],
    [
      'a base URL whose port would overflow an integer, on a Neuron',
      neuron({ claude: { baseURL: `http://messages-proxy.ai:${'9'.repeat(30)}` } }),
      'claude.baseURL must be an http:// or https:// URL with a host, a port from 1 to 65535 if any',
    ],
    [
      'a Prometheus URL whose port would overflow an integer',
      cluster({ autoscaling: { parallelism: { prometheusURL: `http://prometheus:${'9'.repeat(30)}` } } }),
      'with a host, a port from 1 to 65535 and no credentials',
    ],
    [
      'a base URL holding credentials, on a Neuron',
      neuron({ claude: { baseURL: 'https://key@messages-proxy.ai' } }),
      'claude.baseURL must be an http:// or https:// URL with a host, a port from 1 to 65535 if any, and without credentials',
    ],
    [
      'a Prometheus URL whose port is out of range',
      cluster({ autoscaling: { parallelism: { prometheusURL: 'http://prometheus:99999' } } }),
      'autoscaling.parallelism.prometheusURL must be the http:// or https:// base URL of the Prometheus API, with a host, a port from 1 to 65535 and no credentials (user:password@), query or fragment',
    ],
    [
      'a Prometheus URL holding credentials',
      cluster({ autoscaling: { parallelism: { prometheusURL: 'http://admin:hunter2@prometheus:9090' } } }),
      'no credentials (user:password@), query or fragment, in printable ASCII, for example http://prometheus.monitoring.svc:9090; for a Prometheus behind auth, start the operator with --prometheus-bearer-token-file',
    ],
    [
      'a Prometheus URL holding a user, on a Neuron',
      neuron({ autoscaling: { parallelism: { prometheusURL: 'https://token@prometheus/api' } } }),
      'autoscaling.parallelism.prometheusURL must be the http:// or https:// base URL of the Prometheus API',
    ],
    [
      'a Prometheus URL with a query, on a Neuron',
      neuron({ autoscaling: { parallelism: { prometheusURL: 'http://prometheus:9090?x=1' } } }),
      'autoscaling.parallelism.prometheusURL must be the http:// or https:// base URL of the Prometheus API',
    ],
    [
      'an endpoint whose port is above 65535 (the runtime would not start)',
      cluster({ tracing: { endpoint: 'http://collector:99999' } }),
      'spec.tracing.endpoint: Invalid value: "http://collector:99999": tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector, with a host, a port from 1 to 65535, and no credentials (user:password@), query or fragment, for example http://otel-collector.observability:4318: a password in it would be in the Deployment\'s environment; the collector\'s credentials go in the Secret tracing.headersSecretRef names',
    ],
    [
      'an endpoint whose port is above 65535, on a Neuron',
      neuron({ tracing: { endpoint: 'https://collector:65536' } }),
      'spec.tracing.endpoint: Invalid value: "https://collector:65536": tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector, with a host, a port from 1 to 65535, and no credentials (user:password@), query or fragment, for example http://otel-collector.observability:4318: a password in it would be in the Deployment\'s environment; the collector\'s credentials go in the Secret tracing.headersSecretRef names',
    ],
    [
      'an endpoint that is not a URL',
      cluster({ tracing: { endpoint: 'otel-collector:4318' } }),
      'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector',
    ],
    [
      'an endpoint of another scheme, on a Neuron',
      neuron({ tracing: { endpoint: 'grpc://otel-collector:4317' } }),
      'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector',
    ],
    [
      'a sampling ratio above 1',
      cluster({ tracing: { endpoint: tracing.endpoint, samplingRatio: 1.5 } }),
      'spec.tracing.samplingRatio: Invalid value: 1.5: spec.tracing.samplingRatio in body should be less than or equal to 1',
    ],
    [
      "a cluster's tracing without an endpoint",
      cluster({ tracing: { samplingRatio: 0.5 } as Hal9ClusterSpec['tracing'] }),
      'tracing needs an endpoint: set tracing.endpoint',
    ],
    [
      'a resource attribute key with a comma',
      cluster({ tracing: { endpoint: tracing.endpoint, resourceAttributes: { 'a,b': 'x' } } }),
      'each tracing.resourceAttributes key must be at most 128 letters, digits and -_./',
    ],
  ])('%s', async (_what, o, message) => {
    const r = await apply(o);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});

describe('a Hal9Cluster created without resources (the defaults), then given some', () => {
  // The defaults are the operator's, not stored: a schema default would stay behind, owned by no
  // field manager, when the section is added, and a user who wrote only limits below it was refused.
  it.each([
    ['client-side', []],
    ['server-side', ['--server-side']],
  ])(
    'takes only limits below the defaults, and keeps only what was written (%s apply)',
    async (_how, how) => {
      const name = `grown-${how.length}`;
      const first = await apply(aHal9Cluster({}, name), how);
      expect(first.stderr).toBe('');
      const stored = await kubectl(['get', 'hal9cluster', name, '-n', ns, '-o', 'json']);
      expect(JSON.parse(stored.stdout).spec.resources).toBeUndefined();
      const limits = { cpu: '1', memory: '1Gi' };
      const second = await apply(
        aHal9Cluster({ resources: { limits }, nodeTuning: { cpuPinning: true } }, name),
        how,
      );
      expect(second.stderr).toBe('');
      expect(second.code).toBe(0);
      const after = await kubectl(['get', 'hal9cluster', name, '-n', ns, '-o', 'json']);
      expect(JSON.parse(after.stdout).spec.resources).toEqual({ limits });
    },
  );

  it('takes hugepages and hpa mode with resources left out, and hugepages with a memory limit alone', async () => {
    for (const spec of [
      {
        nodeTuning: { hugepages: { quantity: '512Mi' } },
        autoscaling: { enabled: true, mode: 'hpa' as const },
      },
      { resources: pinned, nodeTuning: { cpuPinning: true, hugepages: { quantity: '512Mi' } } },
      {
        resources: { limits: { cpu: '2', memory: '2Gi' } },
        nodeTuning: { hugepages: { quantity: '512Mi' } },
      },
    ]) {
      const r = await apply(cluster(spec), ['--dry-run=server']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });
});

describe('valid tolerations and node selectors', () => {
  const longestPrefix = `${['a', 'b', 'c'].map((c) => c.repeat(63)).join('.')}.${'d'.repeat(61)}`;
  const placement = {
    // The longest prefix a label key may have: 253 characters, in parts of up to 63.
    nodeSelector: { 'node-type': 'performance', 'example.com/empty': '', [`${longestPrefix}/edge`]: 'x' },
    requiredNodeLabels: [{ key: 'topology.kubernetes.io/zone', operator: 'In' as const, values: ['a'] }],
    preferredNodeLabels: [{ weight: 5, key: 'node_type.v2', operator: 'Exists' as const }],
    tolerations: [
      // Every taint.
      { operator: 'Exists' as const },
      // Every taint with this key, bound for 60 s after a NoExecute taint appears.
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists' as const,
        effect: 'NoExecute' as const,
        tolerationSeconds: 60,
      },
      { key: 'dedicated', operator: 'Equal' as const, value: 'hal9', effect: 'NoSchedule' as const },
      // Equal with an empty value matches a taint without a value.
      { key: 'gpu' },
    ],
  };

  it('are accepted in a Hal9Cluster and a Neuron (server-side dry run)', async () => {
    for (const o of [cluster({ placement }), neuron({ placement })]) {
      const r = await apply(o, ['--dry-run=server']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('render a Deployment the apiserver accepts (server-side dry run)', async () => {
    const h9c = aHal9Cluster({ placement });
    const n = aNeuron('tolerant', {}, { namespace: ns });
    const deployment = renderNeuron({ cluster: h9c, neuron: n, peers: [n] }).objects.find(
      (o) => o.kind === 'Deployment',
    );
    expect(deployment).toBeDefined();
    const r = await kubectl(['apply', '-n', ns, '--server-side', '--dry-run=server', '-f', '-'], {
      stdin: JSON.stringify({
        ...deployment,
        metadata: { ...deployment?.metadata, ownerReferences: undefined },
      }),
      allowFailure: true,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('deployment.apps/tolerant serverside-applied (server dry run)');
  });
});

describe('node affinity without an operator, and hugepages a Neuron merges with 1Gi pages', () => {
  const dryRunDeployment = async (h9c: Hal9Cluster, n: Neuron) => {
    const { objects, warnings } = renderNeuron({ cluster: h9c, neuron: n, peers: [n] });
    const deployment = objects.find((o) => o.kind === 'Deployment');
    const r = await kubectl(['apply', '-n', ns, '--server-side', '--dry-run=server', '-f', '-'], {
      stdin: JSON.stringify({
        ...deployment,
        metadata: { ...deployment?.metadata, ownerReferences: undefined },
      }),
      allowFailure: true,
    });
    return { ...r, warnings };
  };

  it('a Neuron requirement without an operator (In) with values is accepted and renders a Deployment the apiserver accepts', async () => {
    const placement = {
      requiredNodeLabels: [{ key: 'node-type', values: ['performance'] }],
      preferredNodeLabels: [{ key: 'disk', values: ['ssd'] }],
    };
    const created = await apply(neuron({ placement }), ['--dry-run=server']);
    expect(created.stderr).toBe('');
    const r = await dryRunDeployment(aHal9Cluster(), aNeuron('affinity', { placement }, { namespace: ns }));
    expect(r.stderr).toBe('');
  });

  it("a Neuron's hugepages that are not whole pages of its cluster's size render rounded up, accepted, with a warning", async () => {
    const h9c = aHal9Cluster({ nodeTuning: { hugepages: { size: '1Gi', quantity: '2Gi' } } });
    const n = aNeuron('pages', { nodeTuning: { hugepages: { quantity: '1536Mi' } } }, { namespace: ns });
    // Each object alone passes its rule: 1536Mi is 768 pages of 2Mi, the Neuron's size when unset.
    expect((await apply(n, ['--dry-run=server'])).stderr).toBe('');
    const r = await dryRunDeployment(h9c, n);
    expect(r.stderr).toBe('');
    expect(r.warnings.join('\n')).toContain(
      'nodeTuning.hugepages.quantity 1536Mi is not a whole number of 1Gi pages',
    );
  });
});

describe('invalid objects are rejected with a message that says what to fix', () => {
  it.each<[string, Hal9Cluster | Neuron, string]>([
    [
      'a forward connection to the neuron itself',
      neuron({ forwardConnections: ['impl-1'] }),
      'spec.forwardConnections must not contain the neuron itself',
    ],
    [
      'a backward connection to the neuron itself',
      neuron({ backwardConnections: ['impl-1'] }),
      'spec.backwardConnections must not contain the neuron itself',
    ],
    [
      'a duplicate forward connection',
      neuron({ forwardConnections: ['a', 'a'] }),
      'spec.forwardConnections[1]: Duplicate value: "a"',
    ],
    [
      'a connection that is not a neuron name',
      neuron({ forwardConnections: ['Impl_2'] }),
      'spec.forwardConnections[0]: Invalid value',
    ],
    ['a layer outside L1..L9', neuron({ layer: 'L0' as 'L1' }), 'spec.layer: Unsupported value: "L0"'],
    [
      'a pull secret named twice',
      cluster({ imagePullSecrets: [{ name: 'registry' }, { name: 'registry' }] }),
      'spec.imagePullSecrets[1]: Duplicate value: {"name":"registry"}',
    ],
    [
      'a pull secret name that cannot name a Secret',
      cluster({ imagePullSecrets: [{ name: 'Registry Key' }] }),
      'spec.imagePullSecrets[0].name: Invalid value: "Registry Key"',
    ],
    ['a Neuron name that cannot name a Service', neuron({}, '1st'), 'Neuron names must be DNS labels'],
    [
      'negative replicas',
      neuron({ replicas: -1 }),
      'spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
    ],
    [
      'minReplicas above maxReplicas',
      cluster({ autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
      'spec.autoscaling.minReplicas: Invalid value: autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas',
    ],
    [
      'minReplicas above maxReplicas in a Neuron override',
      neuron({ autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
      'autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas',
    ],
    [
      'parallelism min above max',
      cluster({ autoscaling: { parallelism: { min: 50, max: 2 } } }),
      'autoscaling.parallelism.min must be less than or equal to autoscaling.parallelism.max',
    ],
    [
      'a panic window longer than the stable window',
      cluster({ autoscaling: { panicWindowSeconds: 30, stableWindowSeconds: 20 } }),
      'spec.autoscaling.panicWindowSeconds: Invalid value: autoscaling.panicWindowSeconds must not exceed autoscaling.stableWindowSeconds',
    ],
    [
      'a panic window longer than the stable window in a Neuron override',
      neuron({ autoscaling: { panicWindowSeconds: 30, stableWindowSeconds: 20 } }),
      'autoscaling.panicWindowSeconds must not exceed autoscaling.stableWindowSeconds',
    ],
    [
      'a cache TTL of 0 (the runtime refuses it)',
      cluster({ performance: { cacheTtlSeconds: 0 } }),
      'performance.cacheTtlSeconds must be at least 1: the runtime refuses 0 and negative values. To turn the cache off, remove the layer from performance.cacheLayers',
    ],
    [
      'a negative cache TTL',
      cluster({ performance: { cacheTtlSeconds: -5 } }),
      'spec.performance.cacheTtlSeconds: Invalid value: -5: performance.cacheTtlSeconds must be at least 1: the runtime refuses 0 and negative values.',
    ],
    [
      'a cache size of 0 (the runtime refuses it)',
      cluster({ performance: { cacheMaxEntries: 0 } }),
      'performance.cacheMaxEntries must be at least 1: the runtime refuses 0 and negative values. To turn the cache off',
    ],
    [
      "a Neuron's cache TTL of 0",
      neuron({ cache: { ttlSeconds: 0 } }),
      'cache.ttlSeconds must be at least 1: the runtime refuses 0 and negative values. To turn the cache off, set cache.enabled: false',
    ],
    [
      "a Neuron's cache size of 0",
      neuron({ cache: { maxEntries: 0 } }),
      'cache.maxEntries must be at least 1: the runtime refuses 0 and negative values. To turn the cache off, set cache.enabled: false',
    ],
    [
      "a Neuron's negative cache TTL",
      neuron({ cache: { ttlSeconds: -5 } }),
      'spec.cache.ttlSeconds: Invalid value: -5: cache.ttlSeconds must be at least 1: the runtime refuses 0 and negative values.',
    ],
    [
      "a Neuron's performance cache TTL of 0",
      neuron({ performance: { cacheTtlSeconds: 0 } }),
      'performance.cacheTtlSeconds must be at least 1',
    ],
    [
      'a request budget without fan-out',
      cluster({ performance: { requestBudget: { maxFanout: 0 } } }),
      'spec.performance.requestBudget.maxFanout: Invalid value: 0',
    ],
    [
      'a retry base delay above the longest delay',
      cluster({ claude: { retry: { baseDelayMs: 5000, maxDelayMs: 1000 } } }),
      'claude.retry.baseDelayMs must not exceed claude.retry.maxDelayMs',
    ],
    [
      'a price without an output price',
      cluster({ claude: { prices: { 'claude-sonnet-5-5': { input: 3 } as never } } }),
      'spec.claude.prices.claude-sonnet-5-5.output: Required value',
    ],
    [
      'a price for something that is not a model id',
      neuron({ claude: { prices: { 'not a model': { input: 1, output: 1 } } } }),
      'claude.prices keys must be model ids',
    ],
    [
      'more than 8 fallback models',
      cluster({ claude: { fallbackModels: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] } }),
      'spec.claude.fallbackModels: Too many: 9: must have at most 8 items',
    ],
    [
      'an autoscaling mode that does not exist',
      cluster({ autoscaling: { mode: 'keda' as 'hpa' } }),
      'spec.autoscaling.mode: Unsupported value: "keda"',
    ],
    [
      'hugepages without a memory request',
      cluster({ resources: { requests: { cpu: '1' } }, nodeTuning: { hugepages: { quantity: '512Mi' } } }),
      'nodeTuning.hugepages needs a memory request: set resources.requests.memory',
    ],
    [
      'autoscaling mode hpa without a CPU request (an HPA on CPU utilization never scales)',
      cluster({
        resources: { requests: { memory: '2Gi' }, limits: { memory: '4Gi' } },
        autoscaling: { enabled: true, mode: 'hpa' },
      }),
      'spec.resources: Required value: autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request, and an HPA without one never scales: set resources.requests.cpu (or resources.limits.cpu, which is then the request), or use autoscaling.mode: operator',
    ],
    [
      'cpuPinning with a fractional CPU',
      cluster({
        resources: { requests: { cpu: '1500m', memory: '1Gi' }, limits: { cpu: '1500m', memory: '1Gi' } },
        nodeTuning: { cpuPinning: true },
      }),
      'nodeTuning.cpuPinning needs an integer CPU limit',
    ],
    [
      'cpuPinning with requests below limits',
      cluster({
        resources: { ...pinned, limits: { cpu: '4', memory: '4Gi' } },
        nodeTuning: { cpuPinning: true },
      }),
      'nodeTuning.cpuPinning needs Guaranteed QoS: make resources.requests equal resources.limits',
    ],
    [
      'limits below requests',
      cluster({ resources: { requests: { cpu: '8', memory: '1Gi' }, limits: { cpu: '4', memory: '1Gi' } } }),
      'resources.limits.cpu is lower than resources.requests.cpu: raise the limit or lower the request',
    ],
    [
      'a quantity that is not one',
      cluster({ resources: { requests: { cpu: 'lots' } } }),
      'spec.resources.requests.cpu: Invalid value: "lots"',
    ],
    [
      'a memory request in GB, which is not a Kubernetes unit',
      cluster({ resources: { requests: { memory: '2GB' } } }),
      'spec.resources.requests.memory: Invalid value: "2GB": resources.requests.memory must be a non-negative memory quantity such as "512Mi" or "2Gi" (Ki, Mi, Gi, Ti: powers of 1024; k, M, G, T: powers of 1000); "GB" and "MiB" are not units',
    ],
    [
      "a Neuron's CPU limit in cores",
      neuron({ resources: { limits: { cpu: '2cores' } } }),
      'spec.resources.limits.cpu: Invalid value: "2cores": resources.limits.cpu must be a non-negative CPU quantity: cores (2, "0.5") or millicores ("1500m")',
    ],
    [
      'a negative CPU request',
      cluster({ resources: { requests: { cpu: '-1' } } }),
      'spec.resources.requests.cpu: Invalid value: "-1": resources.requests.cpu must be a non-negative CPU quantity',
    ],
    [
      'a negative CPU request written as a number',
      cluster({ resources: { requests: { cpu: -1 } } }),
      'spec.resources.requests.cpu: Invalid value: -1: resources.requests.cpu must be a non-negative CPU quantity: cores (2, "0.5") or millicores ("1500m")',
    ],
    [
      "a Neuron's negative memory limit written as a number",
      neuron({ resources: { limits: { memory: -1073741824 } } }),
      'spec.resources.limits.memory: Invalid value: -1073741824: resources.limits.memory must be a non-negative memory quantity',
    ],
    [
      'a negative hugepages quantity written as a number',
      cluster({ nodeTuning: { hugepages: { quantity: -512 } } }),
      'spec.nodeTuning.hugepages.quantity: Invalid value: -512: nodeTuning.hugepages.quantity must be a non-negative memory quantity',
    ],
    [
      'a memory limit of "Gi", a unit without a number',
      cluster({ resources: { limits: { memory: 'Gi' } } }),
      'spec.resources.limits.memory: Invalid value: "Gi": resources.limits.memory must be a non-negative memory quantity',
    ],
    [
      'a CPU fraction written as a number, which a CRD cannot take (int-or-string)',
      cluster({ resources: { requests: { cpu: 0.5 } } }),
      'spec.resources.requests.cpu in body must be of type integer,string: "number"',
    ],
    [
      'a hugepages quantity in MB',
      cluster({ nodeTuning: { hugepages: { quantity: '512MB' } } }),
      'spec.nodeTuning.hugepages.quantity: Invalid value: "512MB": nodeTuning.hugepages.quantity must be a non-negative memory quantity such as "512Mi" or "1Gi"',
    ],
    [
      'mode api without apiKeySecretRef',
      cluster({ claude: { mode: 'api' } }),
      'claude.mode is api but claude.apiKeySecretRef is missing',
    ],
    [
      'a sysctl outside the safe set without the privileged init container',
      cluster({ nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_slow_start_after_idle', value: '0' }] } }),
      'spec.nodeTuning.sysctls: Invalid value: nodeTuning.sysctls has a sysctl outside the safe set, net.ipv4.tcp_slow_start_after_idle: set nodeTuning.privilegedSysctlInitContainer: true',
    ],
    [
      'a neuronSysctls pattern that would allow any kernel parameter',
      cluster({ nodeTuning: { neuronSysctls: ['net.core.*', '*'] } }),
      'spec.nodeTuning.neuronSysctls[1]: Invalid value: "*": nodeTuning.neuronSysctls holds sysctl names with dots (net.core.somaxconn), or a prefix ending in .* (net.core.*); a lone * or a name without a dot would allow any kernel parameter',
    ],
    [
      'a neuronSysctls name without a dot',
      cluster({ nodeTuning: { neuronSysctls: ['kernel'] } }),
      'spec.nodeTuning.neuronSysctls[0]: Invalid value: "kernel": nodeTuning.neuronSysctls holds sysctl names with dots',
    ],
    [
      'two sysctls outside the safe set in a Neuron',
      neuron({
        nodeTuning: {
          sysctls: [
            { name: 'net.core.somaxconn', value: '4096' },
            { name: 'vm.swappiness', value: '1' },
          ],
        },
      }),
      'nodeTuning.sysctls has a sysctl outside the safe set, net.core.somaxconn and others: set nodeTuning.privilegedSysctlInitContainer: true',
    ],
    [
      'a safe sysctl with a value the kernel would refuse',
      cluster({ nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_fin_timeout', value: 'abc' }] } }),
      'spec.nodeTuning.sysctls[0].value: Invalid value: this sysctl takes one whole number, for example "600"',
    ],
    [
      'tcp_wmem with two numbers in a Neuron',
      neuron({ nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_wmem', value: '4096 16384' }] } }),
      'spec.nodeTuning.sysctls[0].value: Invalid value: this sysctl takes three whole numbers (min, default, max)',
    ],
    [
      'a malformed sysctl name',
      cluster({ nodeTuning: { sysctls: [{ name: 'net..ipv4', value: '1' }] } }),
      'spec.nodeTuning.sysctls[0].name: Invalid value: "net..ipv4"',
    ],
    [
      'transparent hugepages without the init container',
      cluster({ nodeTuning: { transparentHugepages: 'never' } }),
      'nodeTuning.transparentHugepages needs nodeTuning.thpInitContainer: true',
    ],
    [
      'the THP init container without a mode',
      cluster({ nodeTuning: { thpInitContainer: true } }),
      'nodeTuning.thpInitContainer is true but transparentHugepages is unset',
    ],
    [
      'mock responses for a layer that does not exist',
      cluster({ claude: { mockResponses: { L10: [{ trigger: 'a', response: 'b' }] } } }),
      'claude.mockResponses keys must be layers L1 to L9',
    ],
    [
      'operator In without values',
      cluster({ placement: { requiredNodeLabels: [{ key: 'node-type', operator: 'In' }] } }),
      'operator In and NotIn need at least one entry in values',
    ],
    [
      'a Neuron node affinity requirement with neither operator nor values (a missing operator is In)',
      neuron({ placement: { requiredNodeLabels: [{ key: 'node-type' }] } }),
      'spec.placement.requiredNodeLabels[0].values: Required value: operator In and NotIn need at least one entry in values (a missing operator is In): list the label values to match, or use operator Exists or DoesNotExist',
    ],
    [
      'a Neuron preferred node label with neither operator nor values',
      neuron({ placement: { preferredNodeLabels: [{ key: 'disk' }] } }),
      'spec.placement.preferredNodeLabels[0].values: Required value: operator In and NotIn need at least one entry in values',
    ],
    [
      'operator Exists with values',
      cluster({
        placement: { requiredNodeLabels: [{ key: 'node-type', operator: 'Exists', values: ['x'] }] },
      }),
      'operator Exists and DoesNotExist take no values',
    ],
    // Label and taint keys a pod would refuse (the Deployment's apply failed with 422 on every pass).
    [
      'a required node label key with a space',
      cluster({ placement: { requiredNodeLabels: [{ key: 'bad key!', operator: 'Exists' }] } }),
      'spec.placement.requiredNodeLabels[0].key: Invalid value: key must be a node label key',
    ],
    [
      'a preferred node label key with two slashes in a Neuron',
      neuron({
        placement: { preferredNodeLabels: [{ weight: 5, key: 'a/b/c', operator: 'In', values: ['x'] }] },
      }),
      'spec.placement.preferredNodeLabels[0].key: Invalid value: key must be a node label key',
    ],
    [
      'a toleration key with a space',
      cluster({ placement: { tolerations: [{ key: 'sp ace', operator: 'Exists' }] } }),
      'spec.placement.tolerations[0].key: Invalid value: key must be a taint key',
    ],
    [
      'a nodeSelector key with a space in a Neuron',
      neuron({ placement: { nodeSelector: { 'node type': 'fast' } } }),
      'each nodeSelector key must be a node label key',
    ],
    // A prefix is a DNS subdomain: parts joined by single dots, each starting and ending with a letter
    // or digit, 253 characters at most (the Deployment was refused with "prefix part … RFC 1123").
    [
      'a nodeSelector key whose prefix has two dots in a row, in a Neuron',
      neuron({ placement: { nodeSelector: { 'a..b/c': 'x' } } }),
      'each nodeSelector key must be a node label key: an optional prefix and / (a DNS subdomain',
    ],
    [
      'a toleration key whose prefix has a part ending in -',
      cluster({ placement: { tolerations: [{ key: 'a-.b/c', operator: 'Exists' }] } }),
      'spec.placement.tolerations[0].key: Invalid value: key must be a taint key',
    ],
    [
      'a required node label key whose prefix is 254 characters',
      cluster({ placement: { requiredNodeLabels: [{ key: `${'a'.repeat(254)}/k`, operator: 'Exists' }] } }),
      'spec.placement.requiredNodeLabels[0].key: Invalid value: key must be a node label key',
    ],
    [
      'a serviceMonitorLabels key whose prefix has a part starting with -',
      cluster({ monitoring: { serviceMonitorLabels: { 'x.-y/z': 'v' } } }),
      'each serviceMonitorLabels key must be a label key',
    ],
    // Tolerations: what the apiserver refuses in a pod (ValidateTolerations) is refused on apply, not by
    // the Deployment the operator renders later.
    [
      'an Equal toleration without a key (operator defaults to Equal)',
      cluster({ placement: { tolerations: [{ value: 'hal9', effect: 'NoSchedule' }] } }),
      'spec.placement.tolerations[0].key: Required value: a toleration with operator Equal needs a key; use operator: Exists to tolerate every taint',
    ],
    [
      'an Equal toleration with an empty key in a Neuron (no operator: Equal, as in a pod)',
      neuron({ placement: { tolerations: [{ key: 'dedicated' }, { key: '', value: 'hal9' }] } }),
      'spec.placement.tolerations[1].key: Required value: a toleration with operator Equal needs a key; use operator: Exists to tolerate every taint',
    ],
    [
      'tolerationSeconds with effect NoSchedule',
      cluster({
        placement: {
          tolerations: [{ key: 'k', value: 'v', effect: 'NoSchedule', tolerationSeconds: 30 }],
        },
      }),
      'tolerationSeconds applies only to effect NoExecute: set effect: NoExecute or remove tolerationSeconds',
    ],
    [
      'tolerationSeconds without an effect in a Neuron',
      neuron({ placement: { tolerations: [{ key: 'k', operator: 'Exists', tolerationSeconds: 30 }] } }),
      'spec.placement.tolerations[0].tolerationSeconds: Invalid value',
    ],
    [
      'an Exists toleration with a value',
      neuron({ placement: { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] } }),
      'a toleration with operator Exists takes no value: remove value or use Equal',
    ],
    [
      'a toleration value that is not a label value',
      cluster({ placement: { tolerations: [{ key: 'k', value: 'two words' }] } }),
      'spec.placement.tolerations[0].value: Invalid value: "two words"',
    ],
    [
      'a nodeSelector value that is not a label value',
      neuron({ placement: { nodeSelector: { 'node-type': 'fast/nodes' } } }),
      'spec.placement.nodeSelector[node-type]: Invalid value: "fast/nodes": must be a label value',
    ],
    [
      'a serviceMonitorLabels key that is not a label key',
      cluster({ monitoring: { serviceMonitor: true, serviceMonitorLabels: { 'has space': 'x' } } }),
      'each serviceMonitorLabels key must be a label key',
    ],
    [
      'a serviceMonitorLabels value that is not a label value',
      cluster({ monitoring: { serviceMonitorLabels: { release: 'a b' } } }),
      'spec.monitoring.serviceMonitorLabels[release]: Invalid value: "a b": must be a label value',
    ],
    // Values a pod refuses (the Deployment's apply failed with 422): refused on apply instead.
    [
      'an empty topologyKey',
      cluster({ placement: { topologySpread: { topologyKey: '' } } }),
      'spec.placement.topologySpread.topologyKey: Invalid value: "": placement.topologySpread.topologyKey must be a node label key such as kubernetes.io/hostname',
    ],
    [
      'a topologyKey that is not a label key in a Neuron',
      neuron({ placement: { topologySpread: { topologyKey: 'bad key!' } } }),
      'placement.topologySpread.topologyKey must be a node label key',
    ],
    [
      'a node affinity value that is not a label value in a Neuron',
      neuron({ placement: { requiredNodeLabels: [{ key: 'a', operator: 'In', values: ['not a label!'] }] } }),
      'spec.placement.requiredNodeLabels[0].values[0]: Invalid value: "not a label!"',
    ],
    [
      'a preferred node label value that is not a label value',
      cluster({ placement: { preferredNodeLabels: [{ key: 'a', operator: 'NotIn', values: ['a/b'] }] } }),
      'spec.placement.preferredNodeLabels[0].values[0]: Invalid value: "a/b"',
    ],
    [
      'hugepages of 1000 bytes (a part of one 2Mi page)',
      cluster({ nodeTuning: { hugepages: { quantity: '1000' } } }),
      'spec.nodeTuning.hugepages.quantity: Invalid value: nodeTuning.hugepages.quantity must be a positive whole number of pages of nodeTuning.hugepages.size (2Mi unless set to 1Gi): round it to a multiple of the page size',
    ],
    [
      'hugepages of 1536Mi in 1Gi pages',
      cluster({ nodeTuning: { hugepages: { size: '1Gi', quantity: '1536Mi' } } }),
      'nodeTuning.hugepages.quantity must be a positive whole number of pages',
    ],
    [
      'no hugepages (quantity 0)',
      cluster({ nodeTuning: { hugepages: { quantity: 0 } } }),
      'nodeTuning.hugepages.quantity must be a positive whole number of pages',
    ],
    [
      "a Neuron's hugepages of 3Mi",
      neuron({ nodeTuning: { hugepages: { quantity: '3Mi' } } }),
      'nodeTuning.hugepages.quantity must be a positive whole number of pages',
    ],
    [
      'an image with a leading space',
      cluster({ image: ' hal9/runtime:0.1.0' }),
      'spec.image: Invalid value: " hal9/runtime:0.1.0": image must be a container image reference such as "hal9/runtime:0.1.0", without spaces or other non-printing characters: remove them',
    ],
    [
      'an init image with a trailing space',
      cluster({ nodeTuning: { initImage: 'busybox:1.37 ' } }),
      'spec.nodeTuning.initImage: Invalid value: "busybox:1.37 ": nodeTuning.initImage must be a container image reference',
    ],
    [
      "a Neuron's empty init image",
      neuron({ nodeTuning: { initImage: '' } }),
      'spec.nodeTuning.initImage: Invalid value: "": nodeTuning.initImage must be a container image reference',
    ],
    [
      'cpuPinning with a CPU limit and no memory limit (Burstable)',
      cluster({ resources: { limits: { cpu: '2' } }, nodeTuning: { cpuPinning: true } }),
      'spec.resources.limits: Required value: nodeTuning.cpuPinning needs a memory limit for Guaranteed QoS: set resources.limits.memory',
    ],
    [
      'cpuPinning with requests equal to limits for cpu only',
      cluster({
        resources: { requests: { cpu: '2' }, limits: { cpu: '2' } },
        nodeTuning: { cpuPinning: true },
      }),
      'nodeTuning.cpuPinning needs a memory limit for Guaranteed QoS',
    ],
    [
      'an empty list of scaling policies (an HPA would refuse it, and nothing would scale)',
      cluster({ autoscaling: { enabled: true, maxReplicas: 3, behavior: { scaleDown: { policies: [] } } } }),
      'spec.autoscaling.behavior.scaleDown.policies: Invalid value: 0: spec.autoscaling.behavior.scaleDown.policies in body should have at least 1 items',
    ],
    [
      'an empty list of scaling policies in a Neuron override',
      neuron({ autoscaling: { behavior: { scaleUp: { policies: [] } } } }),
      'spec.autoscaling.behavior.scaleUp.policies in body should have at least 1 items',
    ],
    [
      'an unknown field',
      cluster({ performance: { maxConcurrentSignal: 3 } as never }),
      'unknown field "spec.performance.maxConcurrentSignal"',
    ],
  ])('%s', async (_name, object, message) => {
    const r = await apply(object);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('names what to fix in every field checked against a pattern, never the raw pattern', async () => {
    const bad = 'Not_Valid!';
    const sections = {
      claude: {
        mode: 'api' as const,
        model: bad,
        fallbackModels: [bad],
        apiKeySecretRef: { name: bad, key: '..' },
      },
      placement: {
        nodeSelector: { pool: bad },
        tolerations: [{ key: 'gpu', operator: 'Equal' as const, value: bad }],
      },
      nodeTuning: { sysctls: [{ name: 'Net.Core', value: '1;reboot' }] },
      monitoring: { serviceMonitorLabels: { release: bad } },
    };
    const want: [string, string][] = [
      ['spec.claude.model', 'must be a model name such as claude-sonnet-4-5'],
      ['spec.claude.fallbackModels[0]', 'must be a model name such as claude-sonnet-4-5'],
      ['spec.claude.apiKeySecretRef.name', 'must be the name of a Secret'],
      ['spec.claude.apiKeySecretRef.key', 'must be a key of the Secret'],
      ['spec.placement.nodeSelector[pool]', 'must be a label value'],
      ['spec.placement.tolerations[0].value', 'must be a taint value'],
      ['spec.nodeTuning.sysctls[0].name', 'must be a sysctl name such as net.core.somaxconn'],
      ['spec.nodeTuning.sysctls[0].value', 'must be a sysctl value such as 1024'],
      ['spec.monitoring.serviceMonitorLabels[release]', 'must be a label value'],
    ];
    const c = await apply(
      cluster({
        ...sections,
        entryNeuron: 'Lead',
        imagePullSecrets: [{ name: bad }],
        claude: { ...sections.claude, baseURL: 'ftp://proxy' },
      }),
      ['--dry-run=server'],
    );
    const n = await apply(
      neuron({ ...sections, cluster: 'Hal9', forwardConnections: ['Design_1'], backwardConnections: ['x_'] }),
      ['--dry-run=server'],
    );
    for (const [r, extra] of [
      [
        c,
        [
          ['spec.entryNeuron', 'must be the name of a Neuron: lower-case letters'],
          ['spec.imagePullSecrets[0].name', 'must be the name of a Secret'],
          ['spec.claude.baseURL', 'claude.baseURL must be an http:// or https:// URL'],
        ],
      ],
      [
        n,
        [
          ['spec.cluster', 'must be the name of a Hal9Cluster in this namespace'],
          ['spec.forwardConnections[0]', 'must be the name of a Neuron'],
          ['spec.backwardConnections[0]', 'must be the name of a Neuron'],
        ],
      ],
    ] as const) {
      expect(r.code).not.toBe(0);
      for (const [field, message] of [...want, ...extra]) {
        const line = r.stderr.split('\n').find((l) => l.includes(` ${field}: Invalid value: `));
        expect(line, field).toContain(message);
      }
      expect(r.stderr).not.toContain('should match');
    }
  });

  it('a malformed quantity is reported once, by the rule that names the units, not by a raw pattern', async () => {
    const r = await apply(cluster({ resources: { requests: { memory: '2GB' } } }));
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      'The Hal9Cluster "invalid" is invalid: spec.resources.requests.memory: Invalid value: "2GB": resources.requests.memory must be a non-negative memory quantity such as "512Mi" or "2Gi" (Ki, Mi, Gi, Ti: powers of 1024; k, M, G, T: powers of 1000); "GB" and "MiB" are not units',
    );
    expect(r.stderr).not.toContain('should match');
  });

  it('a malformed quantity is not reported as a limit below its request, nor as a CEL evaluation error', async () => {
    const r = await apply(
      cluster({
        resources: { requests: { cpu: '2x', memory: '2GB' }, limits: { cpu: '2x', memory: '4GB' } },
        nodeTuning: { cpuPinning: true },
      }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('resources.limits.memory must be a non-negative memory quantity');
    expect(r.stderr).toContain('resources.requests.cpu must be a non-negative CPU quantity');
    expect(r.stderr).not.toContain('is lower than');
    expect(r.stderr).not.toContain('evaluating rule');
    expect(r.stderr).not.toContain('nodeTuning.cpuPinning needs');
  });

  it('spec.cluster cannot change', async () => {
    const created = await apply(neuron({ cluster: 'hal9' }, 'moving'));
    expect(created.stderr).toBe('');
    const r = await apply(neuron({ cluster: 'other' }, 'moving'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.cluster is immutable: delete the Neuron and create it again');
  });
});

describe('safe sysctls: a value the kernel refuses is refused on apply, its bounds are accepted', () => {
  // The bounds are the kernel's (written with `unshare -n sysctl -w` in a fresh network namespace, and
  // `unshare -i` for kernel.shm_rmid_forced): a pod with a value beyond them never gets its sandbox
  // (FailedCreatePodSandBox) although the apiserver admitted the Neuron.
  type Sysctl = { name: string; value: string };
  const clusterWith = (...sysctls: Sysctl[]) => cluster({ nodeTuning: { sysctls } });
  const neuronWith = (...sysctls: Sysctl[]) => neuron({ nodeTuning: { sysctls } });
  const item = (name: string, value: string): Sysctl => ({ name, value });
  const value = 'spec.nodeTuning.sysctls[0].value: Invalid value: ';

  it.each<[string, Hal9Cluster | Neuron, string]>([
    [
      'a port range that starts below ip_unprivileged_port_start (1024 by default)',
      clusterWith(item('net.ipv4.ip_local_port_range', '1000 65000')),
      `${value}net.ipv4.ip_local_port_range must start at 1024 or above: the kernel refuses a range that starts below net.ipv4.ip_unprivileged_port_start`,
    ],
    [
      'a port range whose last port is below its first',
      neuronWith(item('net.ipv4.ip_local_port_range', '65000 1024')),
      `${value}net.ipv4.ip_local_port_range is the first and the last port, the first not above the last: swap them`,
    ],
    [
      'a port range beyond 65535',
      clusterWith(item('net.ipv4.ip_local_port_range', '1024 70000')),
      `${value}net.ipv4.ip_local_port_range takes ports, at most 65535`,
    ],
    [
      'ip_unprivileged_port_start above the port range (32768 by default)',
      clusterWith(item('net.ipv4.ip_unprivileged_port_start', '40000')),
      `${value}net.ipv4.ip_unprivileged_port_start must be at most 8080: the runtime runs as a user without root or capabilities and listens on port 8080`,
    ],
    [
      'ip_unprivileged_port_start above the runtime port, 8080 (the runtime could not listen)',
      neuronWith(item('net.ipv4.ip_unprivileged_port_start', '8081')),
      `${value}net.ipv4.ip_unprivileged_port_start must be at most 8080: the runtime runs as a user without root or capabilities and listens on port 8080, which a higher start makes privileged`,
    ],
    [
      'ip_unprivileged_port_start above the first port of the range set beside it',
      neuronWith(
        item('net.ipv4.ip_unprivileged_port_start', '2000'),
        item('net.ipv4.ip_local_port_range', '1500 65000'),
      ),
      'spec.nodeTuning.sysctls: Invalid value: net.ipv4.ip_unprivileged_port_start must not be above the first port of net.ipv4.ip_local_port_range (the kernel refuses it): lower the start or raise the range',
    ],
    [
      '300 keepalive probes (one byte)',
      clusterWith(item('net.ipv4.tcp_keepalive_probes', '300')),
      `${value}net.ipv4.tcp_keepalive_probes is at most 255`,
    ],
    [
      'tcp_syncookies 256',
      neuronWith(item('net.ipv4.tcp_syncookies', '256')),
      `${value}net.ipv4.tcp_syncookies is at most 255`,
    ],
    [
      'tcp_rmem of zeros',
      clusterWith(item('net.ipv4.tcp_rmem', '0 0 0')),
      `${value}net.ipv4.tcp_rmem takes three sizes in bytes, each from 4096 to 2147483647`,
    ],
    [
      'tcp_rmem below 4096',
      neuronWith(item('net.ipv4.tcp_rmem', '4095 131072 6291456')),
      `${value}net.ipv4.tcp_rmem takes three sizes in bytes, each from 4096 to 2147483647`,
    ],
    [
      'tcp_wmem of zeros',
      neuronWith(item('net.ipv4.tcp_wmem', '0 0 0')),
      `${value}net.ipv4.tcp_wmem takes three sizes in bytes, each from 1 to 2147483647`,
    ],
    [
      'tcp_wmem beyond a 32-bit int',
      clusterWith(item('net.ipv4.tcp_wmem', '4096 16384 2147483648')),
      `${value}net.ipv4.tcp_wmem takes three sizes in bytes, each from 1 to 2147483647`,
    ],
    [
      'a FIN timeout beyond 2147483 seconds',
      clusterWith(item('net.ipv4.tcp_fin_timeout', '2147484')),
      `${value}net.ipv4.tcp_fin_timeout is a number of seconds, at most 2147483`,
    ],
    [
      'a keepalive interval too long for an integer',
      neuronWith(item('net.ipv4.tcp_keepalive_intvl', '99999999999999999999')),
      `${value}net.ipv4.tcp_keepalive_intvl is a number of seconds, at most 2147483`,
    ],
    [
      'a leading zero (octal to the kernel)',
      clusterWith(item('net.ipv4.tcp_keepalive_time', '0600')),
      `${value}net.ipv4.tcp_keepalive_time takes numbers without leading zeros (the kernel reads 010 as octal 8 and refuses 08)`,
    ],
    [
      'shm_rmid_forced 2',
      clusterWith(item('kernel.shm_rmid_forced', '2')),
      `${value}kernel.shm_rmid_forced takes 0 or 1`,
    ],
    [
      'a ping group beyond 4294967294',
      clusterWith(item('net.ipv4.ping_group_range', '0 4294967295')),
      `${value}net.ipv4.ping_group_range takes group IDs from 0 to 4294967294`,
    ],
    [
      'a reserved port beyond 65535',
      neuronWith(item('net.ipv4.ip_local_reserved_ports', '8080,65536')),
      `${value}net.ipv4.ip_local_reserved_ports takes ports, at most 65535`,
    ],
    [
      'a reserved range from the higher port to the lower',
      clusterWith(item('net.ipv4.ip_local_reserved_ports', '9100-9000')),
      `${value}net.ipv4.ip_local_reserved_ports ranges go from the lower port to the higher: swap them`,
    ],
    [
      'a safe sysctl named with slashes',
      clusterWith(item('net/ipv4/tcp_keepalive_time', '600')),
      'spec.nodeTuning.sysctls[0].name: Invalid value: "net/ipv4/tcp_keepalive_time": write the sysctl name with dots, net.ipv4.tcp_keepalive_time, not net/ipv4/tcp_keepalive_time: the safe set and Pod Security Admission compare names as written',
    ],
    [
      'a sysctl named with slashes, even for the privileged init container',
      neuron({
        nodeTuning: { privilegedSysctlInitContainer: true, sysctls: [item('net/core/somaxconn', '4096')] },
      }),
      'write the sysctl name with dots, net.core.somaxconn, not net/core/somaxconn',
    ],
  ])('%s', async (_name, object, message) => {
    const r = await apply(object, ['--dry-run=server']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    // Each value is taken apart by the rules, never by a CEL error; a slash name is told to use dots,
    // not also to leave the safe set.
    expect(r.stderr).not.toMatch(/evaluat|outside the safe set/);
  });

  // The bounds, from both ends, on each kind: every safe sysctl at once, the two port sysctls equal.
  const lowest = [
    item('kernel.shm_rmid_forced', '0'),
    item('net.ipv4.ip_local_port_range', '1024 1024'),
    item('net.ipv4.ip_local_reserved_ports', '0'),
    item('net.ipv4.ip_unprivileged_port_start', '0'),
    item('net.ipv4.ping_group_range', '0 0'),
    item('net.ipv4.tcp_fin_timeout', '0'),
    item('net.ipv4.tcp_keepalive_intvl', '0'),
    item('net.ipv4.tcp_keepalive_probes', '0'),
    item('net.ipv4.tcp_keepalive_time', '0'),
    item('net.ipv4.tcp_rmem', '4096 4096 4096'),
    item('net.ipv4.tcp_syncookies', '0'),
    item('net.ipv4.tcp_wmem', '1 1 1'),
  ];
  const highest = [
    item('kernel.shm_rmid_forced', '1'),
    item('net.ipv4.ip_local_port_range', '32768   65535'),
    item('net.ipv4.ip_local_reserved_ports', '0-65535,8080,9000-9100'),
    item('net.ipv4.ip_unprivileged_port_start', '8080'),
    item('net.ipv4.ping_group_range', '4294967294 4294967294'),
    item('net.ipv4.tcp_fin_timeout', '2147483'),
    item('net.ipv4.tcp_keepalive_intvl', '2147483'),
    item('net.ipv4.tcp_keepalive_probes', '255'),
    item('net.ipv4.tcp_keepalive_time', '2147483'),
    item('net.ipv4.tcp_rmem', '2147483647 2147483647 2147483647'),
    item('net.ipv4.tcp_syncookies', '255'),
    item('net.ipv4.tcp_wmem', '2147483647 2147483647 2147483647'),
  ];
  it.each<[string, Hal9Cluster | Neuron]>([
    ['the lowest values in a Hal9Cluster', clusterWith(...lowest)],
    ['the highest values in a Neuron', neuronWith(...highest)],
    [
      'a start equal to the first port of the range, ping sockets off ("1 0")',
      clusterWith(
        item('net.ipv4.ip_unprivileged_port_start', '1500'),
        item('net.ipv4.ip_local_port_range', '1500 65000'),
        item('net.ipv4.ping_group_range', '1 0'),
      ),
    ],
  ])('%s are accepted (server-side dry run)', async (_name, object) => {
    const r = await apply(object, ['--dry-run=server']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

/** Mock answers for one layer holding `chars` characters of triggers and responses, each within its bound. */
function mockLayer(chars: number, unit = 'a') {
  const answers = [];
  for (let left = chars; left > 0; left -= 16_001) {
    answers.push({ trigger: 't', response: unit.repeat(Math.min(16_000, left - 1)) });
  }
  return answers;
}

describe('claude.mockResponses: what fits a runtime configuration', () => {
  // One layer's answers go into a runtime's configuration (a ConfigMap, 1 MiB) beside its system prompt.
  // Bounded per entry only, an object reached etcd's limit and one full layer a ConfigMap over 1 MiB.
  const over =
    'holds more than 96000 characters of triggers and responses, more than the runtime configuration holds beside its system prompt (a ConfigMap holds 1 MiB): shorten or remove answers of that layer';

  it('takes 96000 characters a layer, in every layer of a Hal9Cluster, astral ones counted once (server-side dry run)', async () => {
    const layers = ['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8', 'L9'];
    for (const o of [
      // Every layer full: the rules' cost at run time stays within the apiserver's budget.
      cluster({ claude: { mockResponses: Object.fromEntries(layers.map((l) => [l, mockLayer(96_000)])) } }),
      neuron({ layer: 'L3', claude: { mockResponses: { L3: mockLayer(96_000, '😀') } } }),
    ]) {
      const r = await apply(o, ['--server-side', '--dry-run=server']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it.each<[string, Hal9Cluster | Neuron, string]>([
    [
      'a layer of 96001 characters in a Hal9Cluster, naming the layer',
      cluster({ claude: { mockResponses: { L2: mockLayer(10), L3: mockLayer(96_001) } } }),
      `spec.claude.mockResponses: Invalid value: claude.mockResponses.L3 ${over}`,
    ],
    [
      'a layer of 96001 astral characters in a Neuron',
      neuron({ claude: { mockResponses: { L2: mockLayer(96_001, '😀') } } }),
      `claude.mockResponses.L2 ${over}`,
    ],
    [
      "a Neuron's answers for another layer than its own, naming its layer",
      neuron({ layer: 'L2', claude: { mockResponses: { L1: mockLayer(10), L2: mockLayer(10) } } }),
      'spec.claude.mockResponses: Invalid value: claude.mockResponses may hold only the answers of spec.layer, L2: remove the other layers (the runtime never uses them), or set them on the Hal9Cluster or on a Neuron of their layer',
    ],
  ])('refuses %s', async (_name, object, message) => {
    const r = await apply(object, ['--server-side']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});

describe('URLs: hosts the runtime reads, ports from 1, no credentials', () => {
  // Go's URL parser (CEL's) took hosts the runtime's and the operator's WHATWG parser refuses: the
  // operator reported RenderFailed (claude.baseURL, tracing.endpoint) or MetricsUnavailable
  // ERR_INVALID_URL (prometheusURL).
  const fields = {
    'claude.baseURL': (u: string) => ({ claude: { baseURL: u } }),
    'tracing.endpoint': (u: string) => ({ tracing: { endpoint: u } }),
    'autoscaling.parallelism.prometheusURL': (u: string) => ({
      autoscaling: { parallelism: { prometheusURL: u } },
    }),
  };
  const write =
    'write a DNS name (an internationalized one in its xn-- form), an IPv4 address as four numbers from 0 to 255 without leading zeros such as 10.0.0.1, or an IPv6 address in brackets without a zone such as [fd00::1]';

  it.each([
    'http://256.1.1.1:8080',
    'http://1.2.3.4.5:4318',
    'http://[fe80::1%25eth0]:9090',
    'http://127.1',
    'http://010.0.0.1:80',
    'http://svc.0x:80',
    'http://a<b:80',
    'http://a]b:80',
    'http://%C3%A4.example:80',
  ])('refuse the host of %s in each URL field, saying what to write', async (url) => {
    for (const [field, spec] of Object.entries(fields)) {
      for (const o of [cluster(spec(url)), neuron(spec(url))]) {
        const r = await apply(o);
        expect(r.code, `${field} ${url}`).not.toBe(0);
        expect(r.stderr, `${field} ${url}`).toContain(
          `${field} has a host the runtime cannot read: ${write}`,
        );
      }
    }
  });

  it('take DNS names, IPv4 and IPv6 addresses the runtime reads, on ports 1 to 65535 (server-side dry run)', async () => {
    for (const url of [
      'http://10.0.0.1:8080',
      'https://[fd00::1]:9090',
      'http://[::ffff:10.0.0.1]:1',
      'http://prometheus.monitoring.svc:65535/prom',
      'http://api-0x.example:8080',
    ]) {
      for (const spec of Object.values(fields)) {
        const r = await apply(cluster(spec(url)), ['--dry-run=server']);
        expect(r.stderr, url).toBe('');
      }
    }
  });

  it.each([
    ['claude.baseURL', 'a port from 1 to 65535 if any'],
    ['tracing.endpoint', 'a port from 1 to 65535'],
    ['autoscaling.parallelism.prometheusURL', 'a port from 1 to 65535'],
  ] as const)('%s refuses port 0, which connects nowhere', async (field, message) => {
    for (const url of ['http://collector:0', 'http://collector:00000/v1']) {
      const r = await apply(cluster(fields[field](url)));
      expect(r.code, url).not.toBe(0);
      expect(r.stderr, url).toContain(`${field} must be`);
      expect(r.stderr, url).toContain(message);
    }
  });

  it('tracing.endpoint refuses credentials, as the other URLs do: they would be in the Deployment', async () => {
    for (const o of [
      cluster({ tracing: { endpoint: 'http://user:secret@otel-collector.observability:4318' } }),
      neuron({ tracing: { endpoint: 'HTTPS://token@otel-collector.observability:4318' } }),
    ]) {
      const r = await apply(o);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        "and no credentials (user:password@), query or fragment, for example http://otel-collector.observability:4318: a password in it would be in the Deployment's environment; the collector's credentials go in the Secret tracing.headersSecretRef names",
      );
    }
  });
});

describe('resources: more CPU or memory than any node has', () => {
  // A memory limit above ~1.4e27 bytes made --max-old-space-size a number in exponent notation, or
  // Infinity: node exits 9 ("bad option").
  it.each<[string, Hal9Cluster | Neuron, string]>([
    [
      'a memory limit of 1e30',
      cluster({ resources: { limits: { memory: '1e30' } } }),
      'spec.resources.limits.memory: Invalid value: "1e30": resources.limits.memory must be at most 1Pi, more than any node has: write the amount in Mi, Gi or Ti, for example "4Gi"',
    ],
    [
      "a Neuron's memory request of 1e1000",
      neuron({ resources: { requests: { memory: '1e1000' } } }),
      'resources.requests.memory must be at most 1Pi, more than any node has',
    ],
    [
      'a memory limit one byte above 1Pi',
      neuron({ resources: { limits: { memory: 1125899906842625 } } }),
      'resources.limits.memory must be at most 1Pi',
    ],
    [
      'a CPU limit of 1e1000',
      cluster({ resources: { limits: { cpu: '1e1000' } } }),
      'spec.resources.limits.cpu: Invalid value: "1e1000": resources.limits.cpu must be at most 8192 cores, more than any node has (Linux runs at most 8192 CPUs): write cores (2, "0.5") or millicores ("1500m")',
    ],
    [
      "a Neuron's CPU request of 8193",
      neuron({ resources: { requests: { cpu: 8193 } } }),
      'resources.requests.cpu must be at most 8192 cores',
    ],
  ])('is refused: %s', async (_name, object, message) => {
    const r = await apply(object);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('takes up to 8192 CPUs and 1Pi of memory, in any notation (server-side dry run)', async () => {
    const resources = {
      requests: { cpu: '8192000m', memory: '1024Ti' },
      limits: { cpu: 8192, memory: '1Pi' },
    };
    for (const o of [cluster({ resources }), neuron({ resources })]) {
      const r = await apply(o, ['--dry-run=server']);
      expect(r.stderr).toBe('');
    }
  });
});

describe('autoscaling mode hpa and cpuPinning: CPUs the HPA and the kubelet can use', () => {
  const hpa = { enabled: true, mode: 'hpa' as const };
  const zero =
    'spec.resources: Invalid value: autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request, and the CPU request is 0: set resources.requests.cpu (or resources.limits.cpu, which is then the request) above 0, or use autoscaling.mode: operator';

  it.each([
    ['a CPU request of "0"', { requests: { cpu: '0' }, limits: { cpu: '2' } }],
    ['a CPU request of 0m', { requests: { cpu: '0m', memory: '1Gi' } }],
    ['a CPU limit of 0 alone (then the request)', { limits: { cpu: 0 } }],
  ])('refuses hpa mode with %s: an HPA on utilization never scales', async (_name, resources) => {
    const r = await apply(cluster({ resources, autoscaling: hpa }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(zero);
  });

  it('takes a target above 100 % (limits above requests) up to 1000 %, and refuses more', async () => {
    const resources = { requests: { cpu: '500m' }, limits: { cpu: '2' } };
    for (const target of [150, 1000]) {
      for (const o of [
        cluster({ resources, autoscaling: { ...hpa, targetCPUUtilizationPercentage: target } }),
        neuron({ autoscaling: { targetCPUUtilizationPercentage: target } }),
      ]) {
        const r = await apply(o, ['--dry-run=server']);
        expect(r.stderr, String(target)).toBe('');
      }
    }
    const r = await apply(
      cluster({ resources, autoscaling: { ...hpa, targetCPUUtilizationPercentage: 1001 } }),
    );
    expect(r.stderr).toContain(
      'spec.autoscaling.targetCPUUtilizationPercentage: Invalid value: 1001: spec.autoscaling.targetCPUUtilizationPercentage in body should be less than or equal to 1000',
    );
  });

  it('refuses cpuPinning on 0 CPUs, in any notation: the static CPU manager gives them no core', async () => {
    for (const cpu of [0, '0', '0.0', '0m']) {
      const r = await apply(
        cluster({
          resources: { requests: { cpu, memory: '2Gi' }, limits: { cpu, memory: '2Gi' } },
          nodeTuning: { cpuPinning: true },
        }),
      );
      expect(r.code, String(cpu)).not.toBe(0);
      expect(r.stderr, String(cpu)).toContain(
        'spec.resources.limits: Invalid value: nodeTuning.cpuPinning needs an integer CPU limit of at least 1 (for example "2", not "1500m" or 0): set resources.limits.cpu to whole cores',
      );
    }
  });
});

/** A rule of a CRD's schema, and a schema node that holds rules. */
type Rule = { rule: string };
type RuleHolder = { 'x-kubernetes-validations'?: Rule[]; properties?: Record<string, RuleHolder> };

/**
 * A copy of a CRD from crds/ as `kind` under `group` (names of its own, no short name or category), so
 * that changing it leaves the shared CRD and what kubectl resolves alone; `edit` sees its schema.
 */
function crdCopy(file: string, group: string, kind: string, edit: (schema: RuleHolder) => void): string {
  const doc = parseYaml(readFileSync(`${root}crds/${file}`, 'utf8')) as {
    metadata: { name: string };
    spec: {
      group: string;
      names: Record<string, unknown>;
      versions: { schema: { openAPIV3Schema: RuleHolder } }[];
    };
  };
  const lower = kind.toLowerCase();
  doc.metadata.name = `${lower}s.${group}`;
  doc.spec.group = group;
  doc.spec.names = { kind, listKind: `${kind}List`, plural: `${lower}s`, singular: lower };
  edit(doc.spec.versions[0]!.schema.openAPIV3Schema);
  return JSON.stringify(doc);
}

/** A node's rules, `strip`ped of those `isNew` matches (there must be `expected` of them). */
function rulesOf(node: RuleHolder, isNew: (r: Rule) => boolean, expected: number, strip: boolean): void {
  const rules = node['x-kubernetes-validations'] ?? [];
  expect(rules.filter(isNew)).toHaveLength(expected);
  if (strip) node['x-kubernetes-validations'] = rules.filter((r) => !isNew(r));
}

describe('a CRD upgrade that adds a rule (ratcheting)', () => {
  // A copy of the Hal9Cluster CRD's schema under names and a group of its own (no short name or
  // category), so that changing it leaves the shared CRD and what kubectl resolves alone.
  const group = () => `${ns}.ratchet.test`;
  const crd = (withHpaRule: boolean): string =>
    crdCopy('hal9.ai_hal9clusters.yaml', group(), 'RatchetCluster', (schema) =>
      rulesOf(schema.properties!.spec!, (r) => r.rule.includes("'hpa'"), 2, !withHpaRule),
    );
  const resource = () => `ratchetclusters.${group()}`;

  it('keeps a Hal9Cluster stored before the hpa rule until its spec changes, then says what to set', async () => {
    await kubectl(['apply', '--server-side', '-f', '-'], { stdin: crd(false) });
    // Served once discovery lists it (kubectl wait on Established fails outright while the CRD has
    // no conditions yet).
    await waitForCrdDiscovery(kubeConfigFromInject(), JSON.parse(crd(false)));
    try {
      const stored = {
        apiVersion: `${group()}/v1alpha1`,
        kind: 'RatchetCluster',
        metadata: { name: 'stored' },
        spec: {
          resources: { requests: { memory: '2Gi' }, limits: { memory: '4Gi' } },
          autoscaling: { enabled: true, mode: 'hpa' },
        },
      };
      await waitFor(
        'the copy of the CRD served',
        async () => {
          const r = await kubectl(['apply', '-n', ns, '-f', '-'], {
            stdin: JSON.stringify(stored),
            allowFailure: true,
          });
          return r.code === 0 ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      await kubectl(['apply', '--server-side', '-f', '-'], { stdin: crd(true) });
      // The new rule is in force: a new object like it is refused.
      const fresh = { ...stored, metadata: { name: 'fresh' } };
      const refused = await waitFor(
        'the hpa rule in force',
        async () => {
          const r = await kubectl(['apply', '-n', ns, '-f', '-'], {
            stdin: JSON.stringify(fresh),
            allowFailure: true,
          });
          return r.code !== 0 ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(refused.stderr).toContain('autoscaling mode hpa scales on CPU utilization');
      // The stored one: a label is accepted, with a warning that says what to set, and so is its
      // unchanged spec applied again.
      const warning =
        'Warning: spec.resources: Required value: autoscaling mode hpa scales on CPU utilization';
      const labelled = await kubectl(['label', '-n', ns, resource(), 'stored', 'team=a'], {
        allowFailure: true,
      });
      expect(labelled.code).toBe(0);
      expect(labelled.stderr).toContain(warning);
      const again = await kubectl(['apply', '-n', ns, '-f', '-'], {
        stdin: JSON.stringify(stored),
        allowFailure: true,
      });
      expect(again.code).toBe(0);
      // A change of its spec is refused, with what to set.
      const changed = { ...stored, spec: { ...stored.spec, performance: { hopLimit: 8 } } };
      const r = await kubectl(['apply', '-n', ns, '-f', '-'], {
        stdin: JSON.stringify(changed),
        allowFailure: true,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'spec.resources: Required value: autoscaling mode hpa scales on CPU utilization',
      );
    } finally {
      await kubectl(['delete', 'crd', resource(), '--wait=false'], { allowFailure: true });
    }
  });
});

type Spec = Record<string, unknown>;
type Kubectl = Awaited<ReturnType<typeof kubectl>>;

/**
 * A CRD upgrade that adds rules, on a copy of a CRD under a group of its own: `crd(false)` is applied,
 * `stored` is stored under it, then `crd(true)` is applied, and once an object with `fresh` is refused
 * (the rules in force), `check` runs with the apply and that refusal. The copy is deleted after.
 */
async function afterRulesAdded(o: {
  crd: (withRules: boolean) => string;
  object: (name: string, spec: Spec) => string;
  resource: string;
  stored: { readonly name: string; readonly spec: Spec };
  fresh: Spec;
  check: (apply: (name: string, spec: Spec) => Promise<Kubectl>, refused: Kubectl) => Promise<void>;
}): Promise<void> {
  await kubectl(['apply', '--server-side', '-f', '-'], { stdin: o.crd(false) });
  await waitForCrdDiscovery(kubeConfigFromInject(), JSON.parse(o.crd(false)));
  const apply = (name: string, spec: Spec) =>
    kubectl(['apply', '-n', ns, '--server-side', '--force-conflicts', '-f', '-'], {
      stdin: o.object(name, spec),
      allowFailure: true,
    });
  try {
    await waitFor(
      'the copy of the CRD served',
      async () => ((await apply(o.stored.name, o.stored.spec)).code === 0 ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    await kubectl(['apply', '--server-side', '-f', '-'], { stdin: o.crd(true) });
    const refused = await waitFor(
      'the rules in force',
      async () => {
        const r = await apply('fresh', o.fresh);
        return r.code !== 0 ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    await o.check(apply, refused);
  } finally {
    await kubectl(['delete', 'crd', o.resource, '--wait=false'], { allowFailure: true });
  }
}

describe("a Neuron stored with another layer's mock answers, before the CRD refused them", () => {
  // A copy of the Neuron CRD under a group of its own, first without the rule, then with it. The rule is
  // on the whole spec: plain ratcheting re-runs it on any change of the spec, and the operator writes
  // spec.replicas through the scale subresource, so the rule keeps another layer's answers unchanged.
  const group = () => `${ns}.layers.test`;
  const crd = (withRule: boolean): string =>
    crdCopy('hal9.ai_neurons.yaml', group(), 'LayerNeuron', (schema) =>
      rulesOf(schema.properties!.spec!, (r) => r.rule.includes('k == self.layer'), 1, !withRule),
    );
  const resource = () => `layerneurons.${group()}`;
  const answers = (text: string) => [{ trigger: 'default', response: `RESULT: ${text}` }];
  const object = (name: string, spec: Record<string, unknown>) =>
    JSON.stringify({ apiVersion: `${group()}/v1alpha1`, kind: 'LayerNeuron', metadata: { name }, spec });
  const stored = {
    cluster: 'hal9',
    layer: 'L2',
    claude: { mockResponses: { L1: answers('one'), L2: answers('two') } },
  };

  it('keeps them while they stay as they are: scale, prompt and own answers change; a new one or a change of them is refused', async () => {
    await afterRulesAdded({
      crd,
      object,
      resource: resource(),
      stored: { name: 'stored', spec: stored },
      fresh: stored,
      check: async (applyObject, refused) => {
        const message =
          'claude.mockResponses may hold only the answers of spec.layer, L2: remove the other layers (the runtime never uses them)';
        expect(refused.stderr).toContain(message);
        // What the operator does (kubectl scale is the same subresource), and changes elsewhere.
        const scaled = await kubectl(['scale', '-n', ns, resource(), 'stored', '--replicas=3'], {
          allowFailure: true,
        });
        expect(scaled.stderr).toBe('');
        expect(scaled.code).toBe(0);
        for (const change of [
          { ...stored, replicas: 3, systemPrompt: 'plan' },
          { ...stored, replicas: 3, claude: { mockResponses: { L1: answers('one'), L2: answers('owned') } } },
        ]) {
          const r = await applyObject('stored', change);
          expect(r.stderr, JSON.stringify(change)).toBe('');
        }
        // Another layer's answers changed or added, or the Neuron's own made another's by a new layer.
        for (const change of [
          { ...stored, claude: { mockResponses: { L1: answers('changed'), L2: answers('owned') } } },
          { ...stored, claude: { mockResponses: { ...stored.claude.mockResponses, L3: answers('three') } } },
          { ...stored, layer: 'L1', claude: { mockResponses: { L1: answers('one'), L2: answers('owned') } } },
        ]) {
          const r = await applyObject('stored', change);
          expect(r.code, JSON.stringify(change)).not.toBe(0);
          expect(r.stderr).toContain('claude.mockResponses may hold only the answers of spec.layer');
        }
        // Removing them is a change like any other.
        const removed = await applyObject('stored', {
          ...stored,
          claude: { mockResponses: { L2: answers('two') } },
        });
        expect(removed.stderr).toBe('');
      },
    });
  });
});

describe('a Neuron stored with a connection to itself, before the CRD refused one', () => {
  // A copy of the Neuron CRD under a group of its own, first without the rules, then with them. They are
  // on the object's root, which the apiserver does not ratchet: without their transition (optionalOldSelf)
  // every write of the stored Neuron, its status and ownerReference included, was refused for good.
  const group = () => `${ns}.loops.test`;
  const crd = (withRules: boolean): string =>
    crdCopy('hal9.ai_neurons.yaml', group(), 'LoopNeuron', (schema) =>
      rulesOf(schema, (r) => r.rule.includes('self.metadata.name in self.spec'), 2, !withRules),
    );
  const resource = () => `loopneurons.${group()}`;
  const object = (name: string, spec: Record<string, unknown>) =>
    JSON.stringify({ apiVersion: `${group()}/v1alpha1`, kind: 'LoopNeuron', metadata: { name }, spec });
  const stored = { cluster: 'hal9', layer: 'L3', forwardConnections: ['loop', 'impl-1'] };

  it('keeps it writable while the list stays as it is: status, labels and other fields; a new self-connection is refused', async () => {
    await afterRulesAdded({
      crd,
      object,
      resource: resource(),
      stored: { name: 'loop', spec: stored },
      fresh: { ...stored, forwardConnections: ['fresh'] },
      check: async (applyObject, refused) => {
        expect(refused.stderr).toContain('spec.forwardConnections must not contain the neuron itself');
        // What the operator writes: the status, and the ownerReference (metadata), on the stored object.
        const status = await kubectl(
          [
            'patch',
            '-n',
            ns,
            resource(),
            'loop',
            '--subresource=status',
            '--type=merge',
            '-p',
            '{"status":{"observedGeneration":1}}',
          ],
          { allowFailure: true },
        );
        expect(status.stderr).toBe('');
        const labelled = await kubectl(['label', '-n', ns, resource(), 'loop', 'team=a'], {
          allowFailure: true,
        });
        expect(labelled.stderr).toBe('');
        expect((await applyObject('loop', { ...stored, systemPrompt: 'plan' })).stderr).toBe('');
        // A self-connection added, to the same list or the other one, is refused.
        for (const change of [
          { ...stored, forwardConnections: ['loop', 'impl-1', 'impl-2'] },
          { ...stored, backwardConnections: ['loop'] },
        ]) {
          const r = await applyObject('loop', change);
          expect(r.code, JSON.stringify(change)).not.toBe(0);
          expect(r.stderr).toContain('must not contain the neuron itself');
        }
      },
    });
  });
});

describe('what a Neuron may not choose for its Hal9Cluster: privileged tuning and where the credentials go', () => {
  const unsafe = [{ name: 'vm.swappiness', value: '1' }];

  it.each<[string, Hal9Cluster | Neuron, string]>([
    [
      "a Neuron's own allowance of sysctls",
      neuron({ nodeTuning: { neuronSysctls: ['kernel.*'] } }),
      'spec.nodeTuning.neuronSysctls: Invalid value: nodeTuning.neuronSysctls may be set only on the Hal9Cluster: it says which sysctls the privileged init container may write for its Neurons; remove it from the Neuron, and set it on the Hal9Cluster',
    ],
    [
      "a Neuron's init image",
      neuron({ nodeTuning: { initImage: 'evil/root:latest' } }),
      'spec.nodeTuning.initImage: Invalid value: nodeTuning.initImage may be set only on the Hal9Cluster: the privileged init containers run it as root on the node, so a Neuron may not choose it; remove it from the Neuron, and set it on the Hal9Cluster',
    ],
    [
      "a Neuron's init image, with the privileged switch it runs under",
      neuron({
        nodeTuning: { privilegedSysctlInitContainer: true, sysctls: unsafe, initImage: 'busybox:1.37' },
      }),
      'nodeTuning.initImage may be set only on the Hal9Cluster',
    ],
    [
      "a Neuron's base URL without its own API key",
      neuron({ claude: { mode: 'api', baseURL: 'https://collector.attacker.example' } }),
      "spec.claude.apiKeySecretRef: Required value: claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef: the Hal9Cluster's API key goes only to the Hal9Cluster's URL, never to one a Neuron chooses; name a Secret of the Neuron's namespace in claude.apiKeySecretRef, or remove claude.baseURL",
    ],
    [
      "a Neuron's empty base URL (the SDK's default) without its own API key, in mock mode",
      neuron({ claude: { baseURL: '' } }),
      "claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef",
    ],
    [
      "a Neuron's sysctl outside the safe set without the switch in its own section",
      neuron({ nodeTuning: { sysctls: unsafe } }),
      'nodeTuning.sysctls has a sysctl outside the safe set, vm.swappiness: set nodeTuning.privilegedSysctlInitContainer: true',
    ],
    [
      "a Neuron's THP mode without the switch in its own section",
      neuron({ nodeTuning: { transparentHugepages: 'always' } }),
      'nodeTuning.transparentHugepages needs nodeTuning.thpInitContainer: true',
    ],
  ])('refuses %s', async (_what, o, message) => {
    const r = await apply(o, ['--dry-run=server']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it("takes a Neuron's own key with its own base URL, its privileged switches (the operator checks its Hal9Cluster's) and a Hal9Cluster's init image (server-side dry run)", async () => {
    for (const o of [
      neuron({ claude: { baseURL: 'https://proxy.example', apiKeySecretRef: { name: 'team-key' } } }),
      neuron({ nodeTuning: { privilegedSysctlInitContainer: true, sysctls: unsafe } }),
      neuron({ nodeTuning: { thpInitContainer: true, transparentHugepages: 'madvise' } }),
      neuron({ nodeTuning: { privilegedSysctlInitContainer: false, thpInitContainer: false } }),
      neuron({
        tracing: { endpoint: 'https://team-collector.example:4318', headersSecretRef: { name: 'team' } },
      }),
      cluster({
        claude: { mode: 'api', baseURL: 'https://proxy.internal', apiKeySecretRef: { name: 'anthropic' } },
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          sysctls: unsafe,
          initImage: 'mirror/busybox:1.37',
        },
      }),
    ]) {
      const r = await apply(o, ['--dry-run=server']);
      expect(r.stderr, JSON.stringify(o.spec)).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it("renders a Neuron stored with a base URL and no key of its own into a Deployment without the cluster's key, replacing every pod at once, which the apiserver accepts (server-side dry run)", async () => {
    const n = aNeuron(
      'own-url',
      { claude: { baseURL: 'https://collector.attacker.example' } },
      { namespace: ns },
    );
    const { objects, warnings } = renderNeuron({
      cluster: aHal9Cluster({ claude: { mode: 'api', apiKeySecretRef: { name: 'anthropic' } } }),
      neuron: n,
      peers: [n],
    });
    expect(warnings).toEqual([
      expect.stringContaining('so it is not mounted and the runtime stops at its start'),
    ]);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    const r = await kubectl(
      ['apply', '-n', ns, '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'],
      {
        stdin: JSON.stringify({
          ...deployment,
          metadata: { ...deployment.metadata, ownerReferences: undefined },
        }),
        allowFailure: true,
      },
    );
    expect(r.stderr).toBe('');
    const applied = JSON.parse(r.stdout) as V1Deployment;
    expect(applied.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: '100%' });
    expect(JSON.stringify(applied.spec?.template)).not.toContain('anthropic');
  });
});

describe('a Neuron stored with an init image or a base URL without its own key, before the CRD refused them', () => {
  // A copy of the Neuron CRD under a group of its own, first without the two rules, then with them. The
  // init image's rule is on the whole spec (a transition rule: the operator writes spec.replicas through
  // the scale subresource); the base URL's on the claude section, which the apiserver ratchets.
  const group = () => `${ns}.deputies.test`;
  const isNew = (r: Rule) => r.rule.includes('nodeTuning.initImage') || r.rule.includes('has(self.baseURL)');
  const crd = (withRules: boolean): string =>
    crdCopy('hal9.ai_neurons.yaml', group(), 'DeputyNeuron', (schema) => {
      const spec = schema.properties!.spec!;
      rulesOf(spec, isNew, 1, !withRules);
      rulesOf(spec.properties!.claude!, isNew, 1, !withRules);
    });
  const resource = () => `deputyneurons.${group()}`;
  const object = (name: string, spec: Record<string, unknown>) =>
    JSON.stringify({ apiVersion: `${group()}/v1alpha1`, kind: 'DeputyNeuron', metadata: { name }, spec });
  const stored = {
    cluster: 'hal9',
    layer: 'L2',
    claude: { mode: 'api', baseURL: 'https://collector.attacker.example' },
    nodeTuning: { initImage: 'evil/root:latest' },
  };

  it('keeps them while they stay as they are (the operator ignores both): scale and other changes pass; a change of either is refused', async () => {
    await afterRulesAdded({
      crd,
      object,
      resource: resource(),
      stored: { name: 'stored', spec: stored },
      fresh: stored,
      check: async (applyObject, refused) => {
        expect(refused.stderr).toContain('nodeTuning.initImage may be set only on the Hal9Cluster');
        expect(refused.stderr).toContain(
          "claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef",
        );
        // What the operator does (kubectl scale is the same subresource), and changes elsewhere: accepted,
        // the ratcheted claude section with a warning that says what to set (the init image's transition
        // rule passes an unchanged value silently).
        const warning =
          "Warning: spec.claude.apiKeySecretRef: Required value: claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef";
        const scaled = await kubectl(['scale', '-n', ns, resource(), 'stored', '--replicas=3'], {
          allowFailure: true,
        });
        expect(scaled.code).toBe(0);
        expect(scaled.stderr.trim().split('\n')).toEqual([expect.stringContaining(warning)]);
        const elsewhere = await applyObject('stored', { ...stored, replicas: 3, systemPrompt: 'plan' });
        expect(elsewhere.code).toBe(0);
        expect(elsewhere.stderr.trim().split('\n')).toEqual([expect.stringContaining(warning)]);
        // A change of either is refused with its rule's message.
        const image = await applyObject('stored', {
          ...stored,
          replicas: 3,
          nodeTuning: { initImage: 'evil/root:v2' },
        });
        expect(image.code).not.toBe(0);
        expect(image.stderr).toContain('nodeTuning.initImage may be set only on the Hal9Cluster');
        const claude = await applyObject('stored', {
          ...stored,
          replicas: 3,
          claude: { ...stored.claude, maxTokens: 10 },
        });
        expect(claude.code).not.toBe(0);
        expect(claude.stderr).toContain(
          "claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef",
        );
        // Removing the image, and naming a key of its own, are accepted.
        const fixed = await applyObject('stored', {
          cluster: stored.cluster,
          layer: stored.layer,
          replicas: 3,
          claude: { ...stored.claude, apiKeySecretRef: { name: 'team-key' } },
        });
        expect(fixed.stderr).toBe('');
        expect(fixed.code).toBe(0);
      },
    });
  });
});

describe('what kubectl users see', () => {
  it('kubectl explain shows field descriptions', async () => {
    const stdout = await waitFor(
      'explain neuron.spec.forwardConnections',
      async () => {
        const r = await kubectl(['explain', 'neuron.spec.forwardConnections'], { allowFailure: true });
        return r.code === 0 ? r.stdout : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(stdout.replaceAll(/\s+/g, ' ')).toContain('Neurons this neuron may forward signals to');
    const perf = await kubectl(['explain', 'hal9cluster.spec.performance.maxConcurrentSignals']);
    expect(perf.stdout).toContain('Executor limit');
  });

  it("kubectl explain says each field's default: a Hal9Cluster's own, a Neuron's the cluster's it falls back to", async () => {
    const explain = async (field: string) =>
      (await kubectl(['explain', field])).stdout.replaceAll(/\s+/g, ' ');
    expect(await explain('hal9cluster.spec.performance.maxConcurrentSignals')).toContain('Default: 8.');
    expect(await explain('hal9cluster.spec.autoscaling.mode')).toContain('Default: operator.');
    expect(await explain('neuron.spec.performance.maxConcurrentSignals')).toContain(
      "Default: the Hal9Cluster's (8 unless set there).",
    );
    expect(await explain('neuron.spec.replicas')).toContain('Default: 1.');
    expect(await explain('neuron.spec.claude.apiKeySecretRef.key')).toContain('Default: api-key.');
  });

  it('kubectl explain gives quantity examples of the right kind (no millibytes of memory, no Gi of CPU)', async () => {
    const explain = async (field: string) =>
      (await kubectl(['explain', field])).stdout.replaceAll(/\s+/g, ' ');
    for (const kind of ['hal9cluster', 'neuron']) {
      const memory = await explain(`${kind}.spec.resources.limits.memory`);
      expect(memory).toContain('"512Mi", "2Gi" (powers of 1024)');
      expect(memory).not.toContain('2000m');
      const cpu = await explain(`${kind}.spec.resources.requests.cpu`);
      expect(cpu).toContain('millicores ("1500m")');
      expect(cpu).not.toContain('Gi');
      expect(await explain(`${kind}.spec.nodeTuning.hugepages.quantity`)).not.toContain('2000m');
    }
  });

  it('kubectl get shows the printer columns, and defaults are applied', async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], { stdin: manifest(aHal9Cluster({}, 'columns')) });
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      stdin: manifest(aNeuron('columns-1', { cluster: 'columns', layer: 'L3' })),
    });
    const nrn = await kubectl(['get', 'nrn', 'columns-1', '-n', ns]);
    expect(nrn.stdout.split('\n')[0]!.split(/\s+/).filter(Boolean)).toEqual([
      'NAME',
      'READY',
      'REASON',
      'DEGRADED',
      'LAYER',
      'REPLICAS',
      'PARALLELISM',
      'AGE',
    ]);
    expect(nrn.stdout).toMatch(/columns-1\s+L3/);
    const h9c = await kubectl(['get', 'h9c', 'columns', '-n', ns]);
    expect(h9c.stdout.split('\n')[0]!.split(/\s+/).filter(Boolean)).toEqual([
      'NAME',
      'READY',
      'REASON',
      'DEGRADED',
      'NEURONS',
      'AGE',
    ]);
    const stored = JSON.parse(
      (await kubectl(['get', 'h9c', 'columns', '-n', ns, '-o', 'json'])).stdout,
    ) as Hal9Cluster;
    expect(stored.spec.performance).toMatchObject({
      maxConcurrentSignals: 8,
      signalBufferSize: 10,
      cacheLayers: ['L2'],
    });
    // Resources are defaulted by the operator, not stored (see "created without resources" above).
    expect(stored.spec.resources).toBeUndefined();
  });

  it('kubectl get hal9 lists both kinds (category)', async () => {
    const r = await kubectl(['get', 'hal9', '-n', ns]);
    expect(r.stdout).toContain('hal9cluster.hal9.ai/columns');
    expect(r.stdout).toContain('neuron.hal9.ai/columns-1');
  });

  it('the scale subresource works (kubectl scale nrn)', async () => {
    await kubectl(['scale', 'nrn', 'columns-1', '-n', ns, '--replicas=3']);
    const n = JSON.parse(
      (await kubectl(['get', 'nrn', 'columns-1', '-n', ns, '-o', 'json'])).stdout,
    ) as Neuron;
    expect(n.spec.replicas).toBe(3);
  });
});
