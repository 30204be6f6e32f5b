import type { Hal9ClusterSpec } from '@hal9/api';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { aChart, find, type Obj } from '../test/builders.ts';
import { Hal9Cdk8sError } from './errors.ts';
import { Hal9Cluster } from './hal9-cluster.ts';

const synthCluster = (spec: Hal9ClusterSpec, name = 'hal9'): Obj => {
  const chart = aChart();
  new Hal9Cluster(chart, 'c', { metadata: { name }, spec });
  return find(Testing.synth(chart), 'Hal9Cluster', name);
};

const problemsOf = (spec: Hal9ClusterSpec, name = 'hal9'): readonly string[] => {
  try {
    synthCluster(spec, name);
  } catch (err) {
    expect(err).toBeInstanceOf(Hal9Cdk8sError);
    expect((err as Hal9Cdk8sError).code).toBe('HAL9_ERR_INVALID_SPEC');
    expect((err as Error).message).toContain(`Hal9Cluster "${name}" is invalid`);
    return (err as Hal9Cdk8sError).problems;
  }
  throw new Error('expected the construct to throw');
};

describe('Hal9Cluster', () => {
  it('synthesizes a hal9.ai/v1alpha1 Hal9Cluster with the spec as given', () => {
    const spec: Hal9ClusterSpec = {
      image: 'hal9/runtime:0.1.0',
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 10 },
      nodeTuning: { hugepages: { size: '2Mi', quantity: '512Mi' } },
    };
    const obj = synthCluster(spec);
    expect(obj.apiVersion).toBe('hal9.ai/v1alpha1');
    expect(obj.spec).toEqual(spec);
  });

  it('keeps an empty spec, so every field takes the CRD default', () => {
    expect(synthCluster({}).spec).toEqual({});
  });

  it('copies the spec, so later edits of the input do not leak into the output', () => {
    const spec = { autoscaling: { minReplicas: 1 } };
    const chart = aChart();
    new Hal9Cluster(chart, 'c', { metadata: { name: 'hal9' }, spec });
    spec.autoscaling.minReplicas = 5;
    expect(find(Testing.synth(chart), 'Hal9Cluster', 'hal9').spec.autoscaling.minReplicas).toBe(1);
  });

  it('checks tracing as the CRD does: an http(s) endpoint with a host, attribute keys, an endpoint present', () => {
    const endpoint = 'http://otel-collector.observability:4318';
    expect(() =>
      synthCluster({ tracing: { endpoint, resourceAttributes: { 'service.name': 'x' } } }),
    ).not.toThrow();
    expect(problemsOf({ tracing: { endpoint: 'otel-collector:4318' } }).join('\n')).toContain(
      'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector',
    );
    expect(problemsOf({ tracing: { endpoint, resourceAttributes: { 'a,b': 'x' } } }).join('\n')).toContain(
      'each tracing.resourceAttributes key must be at most 128 letters',
    );
    expect(problemsOf({ tracing: { samplingRatio: 0.5 } }).join('\n')).toContain('tracing needs an endpoint');
  });

  it('checks claude.baseURL as the CRD does: a host, no credentials', () => {
    expect(() => synthCluster({ claude: { baseURL: 'http://messages-proxy.ai:8080' } })).not.toThrow();
    for (const bad of [
      'http://user:pw@messages-proxy.ai',
      'http://@messages-proxy.ai',
      'ftp://messages-proxy.ai',
    ]) {
      expect(problemsOf({ claude: { baseURL: bad } }).join('\n'), bad).toContain(
        'claude.baseURL must be an http:// or https:// URL with a host, a port from 1 to 65535 if any, and without credentials',
      );
    }
  });

  it('checks the Prometheus URL of parallelism tuning as the CRD does', () => {
    const url = (prometheusURL: string) => ({ autoscaling: { parallelism: { prometheusURL } } });
    expect(() => synthCluster(url('http://prometheus.monitoring.svc:9090'))).not.toThrow();
    expect(() => synthCluster(url(''))).not.toThrow();
    // The apiserver's Go URL parser lets a host with a no-break space through; no resolver would find it.
    const bads = ['http://prom:99999', 'http://prom:9090?x=1', 'http://prom:9090#q', 'http://a\u00a0b'];
    for (const bad of bads) {
      expect(problemsOf(url(bad)).join('\n'), bad).toContain(
        'autoscaling.parallelism.prometheusURL must be the http:// or https:// base URL of the Prometheus API',
      );
    }
  });

  it('takes the export’s compression and timeout, and checks the timeout as the CRD does (above 0, at most 30s)', () => {
    const endpoint = 'http://otel-collector.observability:4318';
    const tracing = { endpoint, compression: 'gzip', timeout: '2s500ms' } as const;
    expect(synthCluster({ tracing }).spec.tracing).toEqual(tracing);
    expect(problemsOf({ tracing: { endpoint, timeout: '45s' } }).join('\n')).toContain(
      'spec.tracing.timeout ("45s"): tracing.timeout must be at most 30s',
    );
    expect(problemsOf({ tracing: { endpoint, timeout: '0s' } }).join('\n')).toContain(
      'tracing.timeout must be a duration above 0',
    );
  });

  it('takes the collector’s Secrets, and checks as the CRD does that a CA or client certificate has an https endpoint', () => {
    const refs = {
      headersSecretRef: { name: 'otlp-auth' },
      caSecretRef: { name: 'otlp-ca' },
      clientCertSecretRef: { name: 'otlp-client' },
    };
    const synthed = synthCluster({ tracing: { endpoint: 'https://tempo.observability:4318', ...refs } });
    expect(synthed.spec.tracing).toMatchObject(refs);
    const problems = problemsOf({ tracing: { endpoint: 'http://tempo.observability:4318', ...refs } }).join(
      '\n',
    );
    expect(problems).toContain(
      'tracing.caSecretRef is the CA of a collector behind TLS, but tracing.endpoint is not https://',
    );
    expect(problems).toContain(
      'tracing.clientCertSecretRef is a client certificate for a collector behind TLS',
    );
    expect(problems).not.toContain('headersSecretRef');
  });

  it.each<[string, Hal9ClusterSpec]>([
    [
      'a cpu limit equal to its request in another notation',
      { resources: { requests: { cpu: '700m' }, limits: { cpu: '0.7' } } },
    ],
    [
      'a memory limit equal to its request in another notation',
      { resources: { requests: { memory: '4100M' }, limits: { memory: '4.1G' } } },
    ],
    [
      'cpuPinning with requests equal to limits in other notations',
      {
        nodeTuning: { cpuPinning: true },
        resources: { requests: { cpu: '3000m', memory: '8.2G' }, limits: { cpu: '3', memory: '8200M' } },
      },
    ],
  ])('accepts %s, as CEL compares quantities exactly', (_, spec) => {
    expect(() => synthCluster(spec)).not.toThrow();
  });

  it.each<[string, Hal9ClusterSpec]>([
    ['hugepages of 1.5Gi in 2Mi pages (768 pages)', { nodeTuning: { hugepages: { quantity: '1.5Gi' } } }],
    ['hugepages of 2Gi in 1Gi pages', { nodeTuning: { hugepages: { size: '1Gi', quantity: '2Gi' } } }],
    ['hugepages in bytes', { nodeTuning: { hugepages: { quantity: 536870912 } } }],
    [
      'an image by digest from a registry with a port',
      {
        image: 'registry.example.com:5000/hal9/runtime@sha256:0123456789abcdef',
        nodeTuning: { initImage: 'busybox:1.37' },
      },
    ],
    [
      'a topology key with a prefix',
      { placement: { topologySpread: { topologyKey: 'topology.kubernetes.io/zone' } } },
    ],
    [
      'node affinity values that are label values, one empty',
      { placement: { requiredNodeLabels: [{ key: 'node-type', values: ['performance', ''] }] } },
    ],
    [
      'cpuPinning with only limits (requests default to them in the pod)',
      { nodeTuning: { cpuPinning: true }, resources: { limits: { cpu: '2', memory: '2Gi' } } },
    ],
  ])('accepts %s, as the apiserver does', (_, spec) => {
    expect(() => synthCluster(spec)).not.toThrow();
  });

  it('still rejects a limit a millicore below its request, and cpuPinning on 2001m', () => {
    expect(problemsOf({ resources: { requests: { cpu: '0.7' }, limits: { cpu: '699m' } } })).toEqual([
      'spec.resources.limits.cpu: resources.limits.cpu is lower than resources.requests.cpu: raise the limit or lower the request',
    ]);
    expect(
      problemsOf({
        nodeTuning: { cpuPinning: true },
        resources: { requests: { cpu: '2001m', memory: '2Gi' }, limits: { cpu: '2001m', memory: '2Gi' } },
      }),
    ).toEqual([
      'spec.resources.limits: nodeTuning.cpuPinning needs an integer CPU limit of at least 1 (for example "2", not "1500m" or 0): set resources.limits.cpu to whole cores',
    ]);
  });

  it('accepts quantities written as numbers, as a Pod does, and keeps them as written', () => {
    const spec: Hal9ClusterSpec = {
      resources: { requests: { cpu: 1, memory: 1073741824 }, limits: { cpu: 2, memory: '2Gi' } },
      nodeTuning: { hugepages: { quantity: 536870912 } },
    };
    expect(synthCluster(spec).spec).toEqual(spec);
  });

  it('accepts cpuPinning on whole CPUs written as numbers, equal to their limits in another notation', () => {
    const spec: Hal9ClusterSpec = {
      nodeTuning: { cpuPinning: true },
      resources: { requests: { cpu: 2, memory: '2Gi' }, limits: { cpu: '2000m', memory: 2147483648 } },
    };
    expect(() => synthCluster(spec)).not.toThrow();
  });

  it.each<[string, Hal9ClusterSpec, string]>([
    [
      'a negative CPU request',
      { resources: { requests: { cpu: -1 } } },
      'spec.resources.requests.cpu (-1): resources.requests.cpu must be a non-negative CPU quantity: cores (2, "0.5") or millicores ("1500m")',
    ],
    [
      'a negative CPU limit in a string',
      { resources: { limits: { cpu: '-2' } } },
      'spec.resources.limits.cpu ("-2"): resources.limits.cpu must be a non-negative CPU quantity',
    ],
    [
      'a memory request in GB',
      { resources: { requests: { memory: '2GB' } } },
      'spec.resources.requests.memory ("2GB"): resources.requests.memory must be a non-negative memory quantity such as "512Mi" or "2Gi" (Ki, Mi, Gi, Ti: powers of 1024; k, M, G, T: powers of 1000); "GB" and "MiB" are not units',
    ],
    [
      'a unit without a number',
      { resources: { limits: { memory: 'Gi' } } },
      'spec.resources.limits.memory ("Gi"): resources.limits.memory must be a non-negative memory quantity',
    ],
    [
      'a negative hugepages quantity',
      { nodeTuning: { hugepages: { quantity: -512 } } },
      'spec.nodeTuning.hugepages.quantity (-512): nodeTuning.hugepages.quantity must be a non-negative memory quantity',
    ],
  ])('rejects %s with the CRD rule message, and nothing else', (_, spec, message) => {
    const problems = problemsOf(spec);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('rejects a fraction written as a number, saying to quote it: the CRD takes whole numbers or strings', () => {
    expect(problemsOf({ resources: { requests: { cpu: 0.5 } } })).toEqual([
      'spec.resources.requests.cpu is 0.5: must be an integer or a string: quote a fraction ("0.5")',
    ]);
    expect(problemsOf({ nodeTuning: { hugepages: { quantity: 1.5 } } })).toEqual([
      'spec.nodeTuning.hugepages.quantity is 1.5: must be an integer or a string: quote a fraction ("1.5")',
    ]);
  });

  it('rejects a number beyond int64, which the apiserver reads as a fraction would be', () => {
    expect(problemsOf({ resources: { limits: { memory: 1e20 } } })).toEqual([
      'spec.resources.limits.memory is 100000000000000000000: must be an integer or a string: quote it ("100000000000000000000")',
    ]);
  });

  const memoryFloor =
    'A runtime holds about 100 MB once it listens: a memory request must be at least 64Mi and a limit at least 128Mi';
  it.each<[string, Hal9ClusterSpec, string]>([
    [
      'a limit written as a bare number (bytes)',
      { resources: { limits: { memory: 512 } } },
      `spec.resources.limits.memory (512): resources.limits.memory 512 is 512 bytes (a number without a unit is bytes); did you mean 512Mi? ${memoryFloor}`,
    ],
    [
      'a request as a string of digits',
      { resources: { requests: { memory: '256' } } },
      `spec.resources.requests.memory ("256"): resources.requests.memory 256 is 256 bytes (a number without a unit is bytes); did you mean 256Mi? ${memoryFloor}`,
    ],
    [
      'a limit in millibytes',
      { resources: { limits: { memory: '512m' } } },
      `spec.resources.limits.memory ("512m"): resources.limits.memory 512m is 512 thousandths of a byte (m is milli); did you mean 512Mi? ${memoryFloor}`,
    ],
    [
      'a bare number too small even as MiB',
      { resources: { limits: { memory: 4 } } },
      `resources.limits.memory 4 is 4 bytes (a number without a unit is bytes); did you mean 4Gi? ${memoryFloor}`,
    ],
    [
      'no memory at all',
      { resources: { requests: { memory: 0 } } },
      `resources.requests.memory 0 is 0 bytes (a number without a unit is bytes). ${memoryFloor}`,
    ],
    [
      'a limit below 128Mi',
      { resources: { limits: { memory: '100Mi' } } },
      `spec.resources.limits.memory ("100Mi"): resources.limits.memory 100Mi is too little. ${memoryFloor}`,
    ],
    [
      'a request below 64Mi',
      { resources: { requests: { memory: '0.03Gi' } } },
      `resources.requests.memory 0.03Gi is too little. ${memoryFloor}`,
    ],
  ])('rejects a memory amount too small for a runtime: %s', (_, spec, message) => {
    const problems = problemsOf(spec);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('accepts a memory request from 64Mi and a limit from 128Mi, in any notation', () => {
    for (const resources of [
      { requests: { memory: '64Mi' }, limits: { memory: '128Mi' } },
      { requests: { memory: 67108864 }, limits: { memory: 134217728 } },
      { requests: { memory: '0.0625Gi' }, limits: { memory: '134217728000m' } },
    ]) {
      expect(() => synthCluster({ resources }), JSON.stringify(resources)).not.toThrow();
    }
  });

  it('reports a malformed quantity once: not also as a limit below its request, nor as a fractional CPU', () => {
    const problems = problemsOf({
      resources: { requests: { cpu: '2x', memory: '2GB' }, limits: { cpu: '2x', memory: '4GB' } },
      nodeTuning: { cpuPinning: true },
    });
    expect(problems.map((p) => p.slice(0, p.indexOf(' ')))).toEqual([
      'spec.resources.requests.cpu',
      'spec.resources.limits.cpu',
      'spec.resources.requests.memory',
      'spec.resources.limits.memory',
    ]);
  });

  it('accepts hugepages without a resources section: the default requests 2Gi of memory', () => {
    expect(() => synthCluster({ nodeTuning: { hugepages: { quantity: '512Mi' } } })).not.toThrow();
  });

  it.each<[string, Hal9ClusterSpec, string]>([
    [
      'minReplicas above maxReplicas',
      { autoscaling: { minReplicas: 12, maxReplicas: 10 } },
      'spec.autoscaling.minReplicas (12): autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas (10)',
    ],
    [
      'parallelism min above max',
      { autoscaling: { parallelism: { min: 64, max: 2 } } },
      'autoscaling.parallelism.min must be less than or equal to autoscaling.parallelism.max',
    ],
    [
      'hugepages without a memory request',
      { resources: { requests: { cpu: '2' } }, nodeTuning: { hugepages: { quantity: '512Mi' } } },
      'nodeTuning.hugepages needs a memory request: set resources.requests.memory',
    ],
    [
      'a limit below its request',
      { resources: { requests: { memory: '4Gi' }, limits: { memory: '2Gi' } } },
      'resources.limits.memory is lower than resources.requests.memory',
    ],
    [
      'cpuPinning with a fractional CPU limit',
      { nodeTuning: { cpuPinning: true }, resources: { limits: { cpu: '1500m' } } },
      'nodeTuning.cpuPinning needs an integer CPU limit',
    ],
    ['api mode without a key Secret', { claude: { mode: 'api' } }, 'claude.apiKeySecretRef is missing'],
    [
      'hpa mode without a CPU request',
      { resources: { requests: { memory: '2Gi' } }, autoscaling: { enabled: true, mode: 'hpa' } },
      'spec.resources: autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request',
    ],
    [
      'a sysctl outside the safe set',
      { nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_slow_start_after_idle', value: '0' }] } },
      'nodeTuning.sysctls has a sysctl outside the safe set',
    ],
    [
      'operator In without values',
      { placement: { requiredNodeLabels: [{ key: 'node-type' }] } },
      'spec.placement.requiredNodeLabels[0].values: operator In and NotIn need at least one entry in values',
    ],
    // Values a pod refuses, refused on apply by the CRD rather than by the Deployment later.
    [
      'an empty topologyKey',
      { placement: { topologySpread: { topologyKey: '' } } },
      'spec.placement.topologySpread.topologyKey (""): placement.topologySpread.topologyKey must be a node label key',
    ],
    [
      'a node affinity value that is not a label value',
      { placement: { requiredNodeLabels: [{ key: 'a', values: ['not a label!'] }] } },
      'spec.placement.requiredNodeLabels[0].values[0] is "not a label!": must be a label value: letters, digits',
    ],
    [
      'hugepages of 1000 bytes (not a whole 2Mi page)',
      { nodeTuning: { hugepages: { quantity: '1000' } } },
      'spec.nodeTuning.hugepages.quantity ("1000"): nodeTuning.hugepages.quantity must be a positive whole number of pages',
    ],
    [
      'hugepages of 1536Mi in 1Gi pages',
      { nodeTuning: { hugepages: { size: '1Gi', quantity: '1536Mi' } } },
      'nodeTuning.hugepages.quantity must be a positive whole number of pages',
    ],
    [
      'no hugepages at all (quantity 0)',
      { nodeTuning: { hugepages: { quantity: 0 } } },
      'nodeTuning.hugepages.quantity must be a positive whole number of pages',
    ],
    [
      'an image with a leading space',
      { image: ' hal9/runtime:0.1.0' },
      'spec.image is " hal9/runtime:0.1.0": image must be a container image reference',
    ],
    [
      'an empty init image',
      { nodeTuning: { initImage: '' } },
      'spec.nodeTuning.initImage is "": nodeTuning.initImage must be a container image reference',
    ],
    [
      'cpuPinning with a CPU limit only (Burstable: no memory limit)',
      { nodeTuning: { cpuPinning: true }, resources: { limits: { cpu: '2' } } },
      'spec.resources.limits: nodeTuning.cpuPinning needs a memory limit for Guaranteed QoS',
    ],
    [
      'cpuPinning with requests equal to limits for cpu only',
      { nodeTuning: { cpuPinning: true }, resources: { requests: { cpu: '2' }, limits: { cpu: '2' } } },
      'nodeTuning.cpuPinning needs a memory limit for Guaranteed QoS',
    ],
    [
      'a misspelt field',
      { autoscalling: {} } as Hal9ClusterSpec,
      'spec.autoscalling is not a field of the schema',
    ],
    [
      'a value outside the enum',
      { imagePullPolicy: 'Sometimes' } as never,
      'spec.imagePullPolicy is "Sometimes"',
    ],
    [
      'a number above the maximum',
      { autoscaling: { maxReplicas: 100000 } },
      'spec.autoscaling.maxReplicas is 100000',
    ],
  ])('rejects %s with a message naming the field', (_, spec, message) => {
    expect(problemsOf(spec).join('\n')).toContain(message);
  });

  it('rejects a name that is not a DNS label', () => {
    expect(problemsOf({}, 'Hal9_Prod').join('\n')).toContain('Hal9Cluster names must be DNS labels');
  });

  it('lists every rule problem at once', () => {
    const problems = problemsOf({
      autoscaling: { minReplicas: 5, maxReplicas: 1, parallelism: { min: 9, max: 1 } },
      claude: { mode: 'api' },
    });
    expect(problems).toHaveLength(3);
  });
});
