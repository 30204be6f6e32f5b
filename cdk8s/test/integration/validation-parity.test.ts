// Synth-time validation agrees with the apiserver: each definition the constructs reject is rejected by
// a server-side dry run with the same CRD message, and each one they accept is accepted.

import { type Hal9ClusterSpec, hal9ClusterSpecDefaults, type NeuronSpec } from '@hal9/api';
import { createTestNamespace, kubeConfigFromInject, kubectl } from '@hal9/test';
import { Yaml } from 'cdk8s';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Hal9Cdk8sError } from '../../src/errors.ts';
import { Hal9Cluster } from '../../src/hal9-cluster.ts';
import { Neuron } from '../../src/neuron.ts';
import { aChart } from '../builders.ts';

let ns: string;
beforeAll(async () => {
  const namespace = await createTestNamespace(kubeConfigFromInject(), 'cdk8s-parity');
  ns = namespace.name;
  return namespace.delete;
});

type Case = readonly [
  string,
  'Hal9Cluster' | 'Neuron',
  string,
  Hal9ClusterSpec | NeuronSpec,
  string | undefined,
];

// Strings of characters outside the Basic Multilingual Plane: each is one code point (what the apiserver
// counts for maxLength) but two UTF-16 code units (what String.length counts). Refused, the apiserver
// says "Too long: may not be more than N bytes" though it counts code points, and synth says "has N
// characters": the field path is what the two messages share.
const astral = (n: number): string => '😀'.repeat(n);
const mockTrigger = (trigger: string): Hal9ClusterSpec => ({
  claude: { mockResponses: { L2: [{ trigger, response: 'ok' }] } },
});

/** The Hal9Cluster's default claude.model, from its CRD. */
const DEFAULT_MODEL = hal9ClusterSpecDefaults.properties.claude.properties.model.default;

const cases: readonly Case[] = [
  ['an empty cluster', 'Hal9Cluster', 'c', {}, undefined],
  [
    'a mock trigger of 1024 astral characters (its maxLength, in code points)',
    'Hal9Cluster',
    'c',
    mockTrigger(astral(1024)),
    undefined,
  ],
  [
    'a mock trigger of 1025 astral characters',
    'Hal9Cluster',
    'c',
    mockTrigger(astral(1025)),
    'spec.claude.mockResponses.L2[0].trigger',
  ],
  [
    'a system prompt of 32768 astral characters (its maxLength, in code points)',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', systemPrompt: astral(32768) },
    undefined,
  ],
  [
    'a system prompt of 32769 astral characters',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', systemPrompt: astral(32769) },
    'spec.systemPrompt',
  ],
  [
    'hugepages with the default memory request',
    'Hal9Cluster',
    'c',
    { nodeTuning: { hugepages: { quantity: '512Mi' } } },
    undefined,
  ],
  [
    'hugepages without a memory request',
    'Hal9Cluster',
    'c',
    { resources: { requests: { cpu: '2' } }, nodeTuning: { hugepages: { quantity: '512Mi' } } },
    'nodeTuning.hugepages needs a memory request',
  ],
  [
    'hpa mode with only a CPU limit (the request defaults to it)',
    'Hal9Cluster',
    'c',
    { resources: { limits: { cpu: '2', memory: '2Gi' } }, autoscaling: { enabled: true, mode: 'hpa' } },
    undefined,
  ],
  [
    'hpa mode without a CPU request',
    'Hal9Cluster',
    'c',
    { resources: { requests: { memory: '2Gi' } }, autoscaling: { enabled: true, mode: 'hpa' } },
    'autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request',
  ],
  [
    'min above max replicas',
    'Hal9Cluster',
    'c',
    { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
    'autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas',
  ],
  [
    'a limit below its request',
    'Hal9Cluster',
    'c',
    { resources: { requests: { cpu: '2' }, limits: { cpu: '1500m' } } },
    'resources.limits.cpu is lower than resources.requests.cpu',
  ],
  [
    'a limit equal to its request in another notation (CEL compares quantities exactly)',
    'Hal9Cluster',
    'c',
    { resources: { requests: { cpu: '700m', memory: '4100M' }, limits: { cpu: '0.7', memory: '4.1G' } } },
    undefined,
  ],
  [
    'a limit one millicore below its request',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', resources: { requests: { cpu: '0.7' }, limits: { cpu: '699m' } } },
    'resources.limits.cpu is lower than resources.requests.cpu',
  ],
  [
    'cpuPinning with requests equal to limits in other notations',
    'Hal9Cluster',
    'c',
    {
      nodeTuning: { cpuPinning: true },
      resources: { requests: { cpu: '3000m', memory: '8.2G' }, limits: { cpu: '3', memory: '8200M' } },
    },
    undefined,
  ],
  [
    'cpuPinning with 1500m',
    'Hal9Cluster',
    'c',
    {
      nodeTuning: { cpuPinning: true },
      resources: { requests: { cpu: '1500m', memory: '2Gi' }, limits: { cpu: '1500m', memory: '2Gi' } },
    },
    'nodeTuning.cpuPinning needs an integer CPU limit',
  ],
  [
    'quantities written as numbers (cpu: 1, memory in bytes), as in a Pod',
    'Hal9Cluster',
    'c',
    { resources: { requests: { cpu: 1, memory: 1073741824 }, limits: { cpu: 2, memory: '2Gi' } } },
    undefined,
  ],
  [
    'cpuPinning on whole CPUs written as numbers, a hugepages quantity in bytes',
    'Hal9Cluster',
    'c',
    {
      nodeTuning: { cpuPinning: true, hugepages: { quantity: 536870912 } },
      resources: { requests: { cpu: 2, memory: '2Gi' }, limits: { cpu: '2000m', memory: 2147483648 } },
    },
    undefined,
  ],
  [
    'cpuPinning on "2.0" CPUs (whole by value, as the kubelet counts them)',
    'Hal9Cluster',
    'c',
    {
      nodeTuning: { cpuPinning: true },
      resources: { requests: { cpu: '2.0', memory: '2Gi' }, limits: { cpu: '2.0', memory: '2Gi' } },
    },
    undefined,
  ],
  [
    'a Neuron CPU limit written as a number',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', resources: { limits: { cpu: 4 } } },
    undefined,
  ],
  // A CRD field cannot be a number or a string: a fraction or a number beyond int64 is refused by its type.
  [
    'a CPU request of 0.5 written as a number',
    'Hal9Cluster',
    'c',
    { resources: { requests: { cpu: 0.5 } } },
    'spec.resources.requests.cpu',
  ],
  [
    'a Neuron hugepages quantity of 1.5 written as a number',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', nodeTuning: { hugepages: { quantity: 1.5 } } },
    'spec.nodeTuning.hugepages.quantity',
  ],
  [
    'a memory limit beyond int64 written as a number',
    'Hal9Cluster',
    'c',
    { resources: { limits: { memory: 1e20 } } },
    'spec.resources.limits.memory',
  ],
  // Memory a runtime cannot start with (it holds about 100 MB once it listens).
  [
    'a memory limit written as a bare number (bytes)',
    'Hal9Cluster',
    'c',
    { resources: { limits: { memory: 512 } } },
    'resources.limits.memory 512 is 512 bytes (a number without a unit is bytes); did you mean 512Mi? A runtime holds about 100 MB once it listens: a memory request must be at least 64Mi and a limit at least 128Mi',
  ],
  [
    'a Neuron memory limit in millibytes',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', resources: { limits: { memory: '512m' } } },
    'resources.limits.memory 512m is 512 thousandths of a byte (m is milli); did you mean 512Mi? A runtime holds',
  ],
  [
    'a Neuron memory request of 4 (meant as GiB)',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', resources: { requests: { memory: '4' } } },
    'resources.requests.memory 4 is 4 bytes (a number without a unit is bytes); did you mean 4Gi? A runtime holds',
  ],
  [
    'a memory request of 0',
    'Hal9Cluster',
    'c',
    { resources: { requests: { memory: 0 } } },
    'resources.requests.memory 0 is 0 bytes (a number without a unit is bytes). A runtime holds',
  ],
  [
    'a memory limit of 100Mi',
    'Hal9Cluster',
    'c',
    { resources: { limits: { memory: '100Mi' } } },
    'resources.limits.memory 100Mi is too little. A runtime holds about 100 MB once it listens',
  ],
  [
    'a Neuron memory request of 63Mi',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', resources: { requests: { memory: '63Mi' } } },
    'resources.requests.memory 63Mi is too little. A runtime holds',
  ],
  [
    'the smallest memory request and limit, in other notations',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      resources: { requests: { memory: '0.0625Gi' }, limits: { memory: 134217728 } },
    },
    undefined,
  ],
  [
    'a negative CPU request',
    'Hal9Cluster',
    'c',
    { resources: { requests: { cpu: -1 } } },
    'resources.requests.cpu must be a non-negative CPU quantity: cores (2, "0.5") or millicores ("1500m")',
  ],
  [
    'a memory request in GB',
    'Hal9Cluster',
    'c',
    { resources: { requests: { memory: '2GB' } } },
    'resources.requests.memory must be a non-negative memory quantity such as "512Mi" or "2Gi"',
  ],
  [
    'a Neuron memory limit of "Gi", a unit without a number',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', resources: { limits: { memory: 'Gi' } } },
    'resources.limits.memory must be a non-negative memory quantity',
  ],
  [
    'api mode without a Secret',
    'Hal9Cluster',
    'c',
    { claude: { mode: 'api' } },
    'claude.apiKeySecretRef is missing',
  ],
  [
    'a safe sysctl with a value that is not a number',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_fin_timeout', value: 'abc' }] },
    },
    'this sysctl takes one whole number',
  ],
  [
    'a port range with one number',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024' }] } },
    'this sysctl takes two whole numbers',
  ],
  [
    'tcp_rmem with two numbers',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '4096 87380' }] } },
    'this sysctl takes three whole numbers',
  ],
  [
    'reserved ports with a space',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_local_reserved_ports', value: '8080 9000' }] },
    },
    'net.ipv4.ip_local_reserved_ports takes ports and ranges separated by commas',
  ],
  [
    'an unsafe sysctl',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } },
    'nodeTuning.sysctls has a sysctl outside the safe set',
  ],
  [
    'a port range starting below 1024',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1000 65000' }] } },
    'net.ipv4.ip_local_port_range must start at 1024 or above',
  ],
  [
    'a port range upside down, on a Neuron',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '65000 1024' }] },
    },
    'the first not above the last: swap them',
  ],
  [
    'a port above 65535',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 70000' }] } },
    'net.ipv4.ip_local_port_range takes ports, at most 65535',
  ],
  [
    'an unprivileged port start above the default range',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '40000' }] } },
    'net.ipv4.ip_unprivileged_port_start must be at most 8080',
  ],
  [
    'an unprivileged port start above the runtime port',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '8081' }] },
    },
    'net.ipv4.ip_unprivileged_port_start must be at most 8080: the runtime runs as a user without root or capabilities and listens on port 8080',
  ],
  [
    'an unprivileged port start above the range set beside it',
    'Hal9Cluster',
    'c',
    {
      nodeTuning: {
        sysctls: [
          { name: 'net.ipv4.ip_unprivileged_port_start', value: '2000' },
          { name: 'net.ipv4.ip_local_port_range', value: '1500 65000' },
        ],
      },
    },
    'must not be above the first port of net.ipv4.ip_local_port_range',
  ],
  [
    'keepalive probes above a byte, on a Neuron',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_probes', value: '300' }] },
    },
    'net.ipv4.tcp_keepalive_probes is at most 255',
  ],
  [
    'tcp_rmem of zeros',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '0 0 0' }] } },
    'net.ipv4.tcp_rmem takes three sizes in bytes, each from 4096',
  ],
  [
    'a number with a leading zero',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_fin_timeout', value: '015' }] } },
    'net.ipv4.tcp_fin_timeout takes numbers without leading zeros',
  ],
  [
    'reserved ports upside down',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_local_reserved_ports', value: '9100-9000' }] } },
    'ranges go from the lower port to the higher',
  ],
  [
    'a sysctl name with slashes',
    'Hal9Cluster',
    'c',
    { nodeTuning: { sysctls: [{ name: 'net/ipv4/tcp_keepalive_time', value: '600' }] } },
    'write the sysctl name with dots',
  ],
  [
    'every safe sysctl at a bound',
    'Hal9Cluster',
    'c',
    {
      nodeTuning: {
        sysctls: [
          { name: 'net.ipv4.ip_local_port_range', value: '1024 65535' },
          { name: 'net.ipv4.ip_unprivileged_port_start', value: '1024' },
          { name: 'net.ipv4.tcp_keepalive_probes', value: '255' },
          { name: 'net.ipv4.tcp_rmem', value: '4096 4096 2147483647' },
          { name: 'net.ipv4.tcp_wmem', value: '1 1 1' },
          { name: 'net.ipv4.tcp_keepalive_time', value: '2147483' },
          { name: 'kernel.shm_rmid_forced', value: '1' },
          { name: 'net.ipv4.ping_group_range', value: '0 4294967294' },
          { name: 'net.ipv4.ip_local_reserved_ports', value: '1-65535' },
        ],
      },
    },
    undefined,
  ],
  [
    'THP without its init container',
    'Hal9Cluster',
    'c',
    { nodeTuning: { transparentHugepages: 'always' } },
    'nodeTuning.transparentHugepages needs nodeTuning.thpInitContainer',
  ],
  [
    'a mock response for a non-layer',
    'Hal9Cluster',
    'c',
    { claude: { mockResponses: { L0: [{ trigger: 'x', response: 'y' }] } } },
    'claude.mockResponses keys must be layers L1 to L9',
  ],
  ['a plain neuron', 'Neuron', 'n', { cluster: 'c', layer: 'L2' }, undefined],
  [
    'a forward connection to itself',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', forwardConnections: ['n'] },
    'spec.forwardConnections must not contain the neuron itself',
  ],
  [
    'a backward connection to itself',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', backwardConnections: ['n'] },
    'spec.backwardConnections must not contain the neuron itself',
  ],
  [
    'an Exists toleration with a value',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', placement: { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] } },
    'a toleration with operator Exists takes no value',
  ],
  [
    'an Equal toleration without a key',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', placement: { tolerations: [{ value: 'v', effect: 'NoSchedule' }] } },
    'a toleration with operator Equal needs a key; use operator: Exists to tolerate every taint',
  ],
  [
    'tolerationSeconds without effect NoExecute',
    'Hal9Cluster',
    'c',
    { placement: { tolerations: [{ key: 'k', value: 'v', effect: 'NoSchedule', tolerationSeconds: 30 }] } },
    'tolerationSeconds applies only to effect NoExecute',
  ],
  [
    'a required node label key with a space',
    'Hal9Cluster',
    'c',
    { placement: { requiredNodeLabels: [{ key: 'bad key!', operator: 'Exists' }] } },
    'key must be a node label key',
  ],
  [
    'a preferred node label key with two slashes',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      placement: { preferredNodeLabels: [{ weight: 5, key: 'a/b/c', operator: 'In', values: ['x'] }] },
    },
    'key must be a node label key',
  ],
  [
    'a toleration key with a space',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', placement: { tolerations: [{ key: 'sp ace', operator: 'Exists' }] } },
    'key must be a taint key',
  ],
  [
    'a nodeSelector key that is not a label key',
    'Hal9Cluster',
    'c',
    { placement: { nodeSelector: { 'node type': 'fast' } } },
    'each nodeSelector key must be a node label key',
  ],
  [
    'hugepages with resources left out (the defaults the operator applies)',
    'Hal9Cluster',
    'c',
    { nodeTuning: { hugepages: { quantity: '512Mi' } } },
    undefined,
  ],
  [
    'hugepages with a memory limit alone (then the request)',
    'Hal9Cluster',
    'c',
    { resources: { limits: { cpu: '2', memory: '2Gi' } }, nodeTuning: { hugepages: { quantity: '512Mi' } } },
    undefined,
  ],
  [
    'hugepages with resources but no memory',
    'Hal9Cluster',
    'c',
    { resources: { requests: { cpu: '1' } }, nodeTuning: { hugepages: { quantity: '512Mi' } } },
    'nodeTuning.hugepages needs a memory request',
  ],
  [
    'a nodeSelector key whose prefix has two dots in a row',
    'Hal9Cluster',
    'c',
    { placement: { nodeSelector: { 'a..b/c': 'fast' } } },
    'each nodeSelector key must be a node label key',
  ],
  [
    'a toleration key whose prefix is 254 characters',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      placement: { tolerations: [{ key: `${'a'.repeat(254)}/k`, operator: 'Exists' }] },
    },
    'key must be a taint key',
  ],
  [
    'a nodeSelector key with the longest prefix, 253 characters in parts of 63',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      placement: {
        nodeSelector: { [`${['a', 'b', 'c'].map((c) => c.repeat(63)).join('.')}.${'d'.repeat(61)}/k`]: 'x' },
      },
    },
    undefined,
  ],
  [
    'a ServiceMonitor label key that is not a label key',
    'Hal9Cluster',
    'c',
    { monitoring: { serviceMonitorLabels: { 'not a key': 'x' } } },
    'each serviceMonitorLabels key must be a label key',
  ],
  [
    'a Neuron ServiceMonitor label key that is not a label key',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', monitoring: { serviceMonitorLabels: { 'team/': 'x' } } },
    'each serviceMonitorLabels key must be a label key',
  ],
  [
    'a Neuron monitoring override',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      monitoring: { serviceMonitor: false, scrapeInterval: '5s', serviceMonitorLabels: { tier: 'l2' } },
    },
    undefined,
  ],
  [
    'a scrape interval of zero',
    'Hal9Cluster',
    'c',
    { monitoring: { scrapeInterval: '0s' } },
    'monitoring.scrapeInterval must be a positive duration',
  ],
  [
    'a Neuron scrape interval with its units out of order',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', monitoring: { scrapeInterval: '30s1m' } },
    'monitoring.scrapeInterval must be a positive duration',
  ],
  [
    'a compound scrape interval',
    'Hal9Cluster',
    'c',
    { monitoring: { scrapeInterval: '30s500ms' } },
    undefined,
  ],
  [
    'a scrape interval above 1m',
    'Hal9Cluster',
    'c',
    { monitoring: { scrapeInterval: '1m1s' } },
    'monitoring.scrapeInterval must be between 1s and 1m',
  ],
  [
    'a Neuron scrape interval below 1s',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', monitoring: { scrapeInterval: '999ms' } },
    'monitoring.scrapeInterval must be between 1s and 1m',
  ],
  ['a scrape interval of 1m', 'Hal9Cluster', 'c', { monitoring: { scrapeInterval: '0h1m' } }, undefined],
  [
    'a fallback model equal to the cluster default model',
    'Hal9Cluster',
    'c',
    { claude: { fallbackModels: [DEFAULT_MODEL] } },
    'claude.fallbackModels must not contain claude.model',
  ],
  [
    'a Neuron fallback model equal to its own model',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', claude: { model: 'claude-x', fallbackModels: ['claude-y', 'claude-x'] } },
    'claude.fallbackModels must not contain claude.model',
  ],
  [
    'a Neuron fallback list without its own model (the cluster default may be in it: the merge drops it)',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', claude: { fallbackModels: [DEFAULT_MODEL] } },
    undefined,
  ],
  [
    'a tracing export timeout above 30s',
    'Hal9Cluster',
    'c',
    { tracing: { endpoint: 'http://otel-collector.observability:4318', timeout: '45s' } },
    'tracing.timeout must be at most 30s',
  ],
  [
    'a Neuron tracing export timeout of zero',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', tracing: { timeout: '0s' } },
    'tracing.timeout must be a duration above 0',
  ],
  [
    'a Neuron tracing export timeout of one minute',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', tracing: { timeout: '1m' } },
    'tracing.timeout must be at most 30s',
  ],
  [
    'a compression the runtime does not speak',
    'Hal9Cluster',
    'c',
    { tracing: { endpoint: 'http://otel-collector.observability:4318', compression: 'zstd' as never } },
    'compression',
  ],
  [
    'gzip and a compound export timeout of 30s',
    'Hal9Cluster',
    'c',
    {
      tracing: {
        endpoint: 'http://otel-collector.observability:4318',
        compression: 'gzip',
        timeout: '29s1000ms',
      },
    },
    undefined,
  ],

  [
    'valid ServiceMonitor labels',
    'Hal9Cluster',
    'c',
    { monitoring: { serviceMonitorLabels: { release: 'kube-prometheus-stack', 'example.com/team': 'a' } } },
    undefined,
  ],
  [
    'valid tolerations (Exists without a key, NoExecute with tolerationSeconds)',
    'Hal9Cluster',
    'c',
    {
      placement: {
        tolerations: [
          { operator: 'Exists' },
          { key: 'k', value: 'v', effect: 'NoExecute', tolerationSeconds: 30 },
        ],
      },
    },
    undefined,
  ],
  [
    'parallelism min above max',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', autoscaling: { parallelism: { min: 8, max: 2 } } },
    'autoscaling.parallelism.min must be less than or equal to autoscaling.parallelism.max',
  ],
  // A node affinity requirement without an operator is In (the renderer writes it so), which needs values.
  [
    'a Neuron node affinity requirement with neither operator nor values',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      placement: { requiredNodeLabels: [{ key: 'node-type' }], preferredNodeLabels: [{ key: 'disk' }] },
    },
    'operator In and NotIn need at least one entry in values (a missing operator is In)',
  ],
  [
    'a Neuron node affinity requirement without an operator, with values',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      placement: {
        requiredNodeLabels: [{ key: 'node-type', values: ['performance'] }],
        preferredNodeLabels: [{ key: 'disk', values: ['ssd'] }],
      },
    },
    undefined,
  ],
  // The key may come from the Neuron's Hal9Cluster: api mode needs one only on the cluster.
  [
    'a Neuron in api mode without its own key Secret',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L4', claude: { mode: 'api' } },
    undefined,
  ],
  // Values a pod refuses: refused on apply, not by the Deployment the operator renders later.
  [
    'an empty topologyKey',
    'Hal9Cluster',
    'c',
    { placement: { topologySpread: { topologyKey: '' } } },
    'placement.topologySpread.topologyKey must be a node label key',
  ],
  [
    'a Neuron topologyKey with a space',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', placement: { topologySpread: { topologyKey: 'bad key!' } } },
    'placement.topologySpread.topologyKey must be a node label key',
  ],
  [
    'a Neuron node affinity value that is not a label value',
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      placement: { requiredNodeLabels: [{ key: 'a', values: ['not a label!'] }] },
    },
    'spec.placement.requiredNodeLabels[0].values[0]',
  ],
  [
    'hugepages of 1000 bytes',
    'Hal9Cluster',
    'c',
    { nodeTuning: { hugepages: { quantity: '1000' } } },
    'nodeTuning.hugepages.quantity must be a positive whole number of pages',
  ],
  [
    'hugepages of 1536Mi in 1Gi pages',
    'Hal9Cluster',
    'c',
    { nodeTuning: { hugepages: { size: '1Gi', quantity: '1536Mi' } } },
    'nodeTuning.hugepages.quantity must be a positive whole number of pages',
  ],
  [
    'hugepages of 1.5Gi in 2Mi pages (768 pages, by value)',
    'Hal9Cluster',
    'c',
    { nodeTuning: { hugepages: { quantity: '1.5Gi' } } },
    undefined,
  ],
  [
    'Neuron hugepages of 3Mi',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', nodeTuning: { hugepages: { quantity: '3Mi' } } },
    'nodeTuning.hugepages.quantity must be a positive whole number of pages',
  ],
  [
    'an image with a leading space',
    'Hal9Cluster',
    'c',
    { image: ' hal9/runtime:0.1.0' },
    'image must be a container image reference such as "hal9/runtime:0.1.0"',
  ],
  [
    'an empty Neuron init image',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', nodeTuning: { initImage: '' } },
    'nodeTuning.initImage must be a container image reference',
  ],
  // What a Neuron may not choose for its Hal9Cluster: the image its privileged init containers run as
  // root, and a URL for the cluster's API key. Its privileged switches are checked against the cluster's
  // by the operator (and Hal9Platform), not by either object's rules.
  [
    "a Neuron's init image",
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', nodeTuning: { initImage: 'evil/root:latest' } },
    'nodeTuning.initImage may be set only on the Hal9Cluster: the privileged init containers run it as root on the node, so a Neuron may not choose it; remove it from the Neuron, and set it on the Hal9Cluster',
  ],
  [
    "a Neuron's init image with its privileged switch on",
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      nodeTuning: {
        privilegedSysctlInitContainer: true,
        sysctls: [{ name: 'vm.swappiness', value: '1' }],
        initImage: 'busybox:1.37',
      },
    },
    'nodeTuning.initImage may be set only on the Hal9Cluster',
  ],
  [
    'a Hal9Cluster init image',
    'Hal9Cluster',
    'c',
    { nodeTuning: { initImage: 'mirror/busybox:1.37' } },
    undefined,
  ],
  [
    "a Neuron's privileged switches and an unsafe sysctl",
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      nodeTuning: {
        privilegedSysctlInitContainer: true,
        sysctls: [{ name: 'vm.swappiness', value: '1' }],
        thpInitContainer: true,
        transparentHugepages: 'madvise',
      },
    },
    undefined,
  ],
  [
    "a Neuron's unsafe sysctl without the switch in its own section",
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', nodeTuning: { sysctls: [{ name: 'vm.swappiness', value: '1' }] } },
    'nodeTuning.sysctls has a sysctl outside the safe set',
  ],
  [
    "a Neuron's base URL without its own API key",
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', claude: { mode: 'api', baseURL: 'https://proxy.example' } },
    "claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef: the Hal9Cluster's API key goes only to the Hal9Cluster's URL, never to one a Neuron chooses",
  ],
  [
    "a Neuron's empty base URL without its own API key",
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', claude: { baseURL: '' } },
    "claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef",
  ],
  [
    "a Neuron's base URL with its own API key",
    'Neuron',
    'n',
    {
      cluster: 'c',
      layer: 'L2',
      claude: { baseURL: 'https://proxy.example', apiKeySecretRef: { name: 'team-key' } },
    },
    undefined,
  ],
  [
    'a Hal9Cluster base URL with its key',
    'Hal9Cluster',
    'c',
    { claude: { baseURL: 'https://proxy.example', apiKeySecretRef: { name: 'anthropic' } } },
    undefined,
  ],
  [
    'cpuPinning with a CPU limit and no memory limit',
    'Hal9Cluster',
    'c',
    { nodeTuning: { cpuPinning: true }, resources: { limits: { cpu: '2' } } },
    'nodeTuning.cpuPinning needs a memory limit for Guaranteed QoS',
  ],
  [
    'cpuPinning with requests equal to limits for cpu only',
    'Hal9Cluster',
    'c',
    { nodeTuning: { cpuPinning: true }, resources: { requests: { cpu: '2' }, limits: { cpu: '2' } } },
    'nodeTuning.cpuPinning needs a memory limit for Guaranteed QoS',
  ],
  [
    'a tracing endpoint whose port is above 65535',
    'Hal9Cluster',
    'c',
    { tracing: { endpoint: 'http://otel-collector.observability:99999' } },
    'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector, with a host, a port from 1 to 65535',
  ],
  [
    'a Neuron tracing endpoint whose port is above 65535',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', tracing: { endpoint: 'https://otel-collector.observability:65536' } },
    'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector, with a host, a port from 1 to 65535',
  ],
  [
    'a tracing endpoint with no // (WHATWG reads a host, Go none)',
    'Hal9Cluster',
    'c',
    { tracing: { endpoint: 'http:otel-collector:4318' } },
    'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector',
  ],
  [
    'a base URL with three slashes (WHATWG reads a host, Go none)',
    'Hal9Cluster',
    'c',
    { claude: { baseURL: 'https:///api.example.com' } },
    'claude.baseURL must be',
  ],
  [
    'a base URL with a query (the paths appended to it would fall into it)',
    'Hal9Cluster',
    'c',
    { claude: { baseURL: 'https://api.example.com/?v=1' } },
    'claude.baseURL must be',
  ],
  [
    'a base URL with a fragment, on a Neuron',
    'Neuron',
    'impl-1',
    { cluster: 'c', layer: 'L2', claude: { baseURL: 'https://api.example.com#x' } },
    'claude.baseURL must be',
  ],
  [
    'a tracing endpoint on port 65535',
    'Hal9Cluster',
    'c',
    { tracing: { endpoint: 'http://otel-collector.observability:65535' } },
    undefined,
  ],
  // RE2's \s is ASCII whitespace, and Go's URL parser takes a non-ASCII host as it is: the CRD's rule
  // asks for printable ASCII, and synth refuses what it refuses.
  [
    'a Prometheus URL with a no-break space',
    'Hal9Cluster',
    'c',
    { autoscaling: { parallelism: { prometheusURL: 'http://a\u00a0b' } } },
    'autoscaling.parallelism.prometheusURL must be the http:// or https:// base URL of the Prometheus API',
  ],
  [
    'a Prometheus URL with credentials',
    'Hal9Cluster',
    'c',
    { autoscaling: { parallelism: { prometheusURL: 'http://u:p@prometheus.monitoring.svc:9090' } } },
    'no credentials (user:password@)',
  ],
  [
    'a Prometheus URL with credentials behind an upper-case scheme',
    'Hal9Cluster',
    'c',
    { autoscaling: { parallelism: { prometheusURL: 'HTTP://u:p@prometheus.monitoring.svc:9090' } } },
    // The rule takes only a lower-case scheme.
    'autoscaling.parallelism.prometheusURL must be the http:// or https:// base URL of the Prometheus API',
  ],
  [
    'a base URL with credentials behind a mixed-case scheme, on a Neuron',
    'Neuron',
    'impl-1',
    { cluster: 'c', layer: 'L2', claude: { baseURL: 'Https://u:p@api.example.com' } },
    'claude.baseURL must be an http:// or https:// URL',
  ],
  [
    'a Prometheus URL with a user, on a Neuron',
    'Neuron',
    'impl-1',
    {
      cluster: 'c',
      layer: 'L2',
      autoscaling: { parallelism: { prometheusURL: 'https://reader@prom:9090' } },
    },
    'no credentials (user:password@)',
  ],
  [
    'a base URL with a no-break space, on a Neuron',
    'Neuron',
    'impl-1',
    { cluster: 'c', layer: 'L2', claude: { baseURL: 'http://a\u00a0b' } },
    'claude.baseURL must be an http:// or https:// URL with a host, a port from 1 to 65535 if any, and without credentials',
  ],
  // tracing.timeout: the CRD refuses a number of 7 significant digits or more (duration() could
  // overflow) before reading it; leading zeros do not count.
  ...(
    [
      ['000030s', undefined],
      ['0000030s', undefined],
      ['0000000001s', undefined],
      ['1s0000000ms', undefined],
      ['0000031s', 'tracing.timeout must be at most 30s'],
      ['1000000ms', 'tracing.timeout must be at most 30s'],
    ] as const
  ).map(
    ([timeout, message]): Case => [
      `a tracing export timeout of ${timeout}`,
      'Hal9Cluster',
      'c',
      { tracing: { endpoint: 'http://otel-collector.observability:4318', timeout } },
      message,
    ],
  ),
  // The CEL rules read URLs with Go's net/url, which the WHATWG URL parser contradicts both ways: synth
  // reads them as Go does (go-url.ts), in the three URL fields.
  ...urlCases(),
  // One layer of mock answers goes into a runtime's configuration, which must fit a ConfigMap: at most
  // 96000 characters of triggers and responses (code points, as CEL's size() counts them).
  ['a layer of 96000 characters of mock answers', 'Hal9Cluster', 'c', mockLayer('L3', 96_000), undefined],
  [
    'a layer of 96000 astral characters of mock answers, on a Neuron',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L3', ...mockLayer('L3', 96_000, '😀') },
    undefined,
  ],
  [
    'a layer of 96001 characters of mock answers',
    'Hal9Cluster',
    'c',
    mockLayer('L3', 96_001),
    ' holds more than 96000 characters of triggers and responses',
  ],
  [
    'a layer of 96001 astral characters of mock answers, on a Neuron',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', ...mockLayer('L2', 96_001, '😀') },
    ' holds more than 96000 characters of triggers and responses',
  ],
  // A Neuron's runtime answers with its own layer's entries only.
  [
    "mock answers for another layer than the Neuron's",
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', claude: { mockResponses: { L1: [{ trigger: 'x', response: 'y' }] } } },
    'claude.mockResponses may hold only the answers of spec.layer, L2: remove the other layers (the runtime never uses them), or set them on the Hal9Cluster or on a Neuron of their layer',
  ],
  [
    'mock answers for every layer on a Hal9Cluster',
    'Hal9Cluster',
    'c',
    {
      claude: {
        mockResponses: Object.fromEntries(
          ['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8', 'L9'].map((l) => [
            l,
            [{ trigger: 'x', response: l }],
          ]),
        ),
      },
    },
    undefined,
  ],
  // More CPU or memory than any node has (a memory limit of 1e30 made a heap flag node refuses).
  [
    'a memory limit of 1e30',
    'Hal9Cluster',
    'c',
    { resources: { limits: { memory: '1e30' } } },
    'resources.limits.memory must be at most 1Pi, more than any node has: write the amount in Mi, Gi or Ti, for example "4Gi"',
  ],
  [
    'a Neuron memory request of 1e1000',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', resources: { requests: { memory: '1e1000' } } },
    'resources.requests.memory must be at most 1Pi',
  ],
  [
    'a CPU limit of 1e1000',
    'Hal9Cluster',
    'c',
    { resources: { limits: { cpu: '1e1000' } } },
    'resources.limits.cpu must be at most 8192 cores, more than any node has (Linux runs at most 8192 CPUs)',
  ],
  [
    'a Neuron CPU request of 8193 written as a number',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', resources: { requests: { cpu: 8193 } } },
    'resources.requests.cpu must be at most 8192 cores',
  ],
  [
    'the most CPU and memory, in other notations',
    'Hal9Cluster',
    'c',
    { resources: { requests: { cpu: '8192000m', memory: '1024Ti' }, limits: { cpu: 8192, memory: '1Pi' } } },
    undefined,
  ],
  // An HPA on utilization divides by the CPU request: 0 is none.
  [
    'hpa mode with a CPU request of 0',
    'Hal9Cluster',
    'c',
    {
      resources: { requests: { cpu: '0' }, limits: { cpu: '2' } },
      autoscaling: { enabled: true, mode: 'hpa' },
    },
    'autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request, and the CPU request is 0: set resources.requests.cpu (or resources.limits.cpu, which is then the request) above 0',
  ],
  [
    'hpa mode with a CPU limit of 0 alone',
    'Hal9Cluster',
    'c',
    { resources: { limits: { cpu: 0 } }, autoscaling: { enabled: true, mode: 'hpa' } },
    'and the CPU request is 0',
  ],
  [
    'hpa mode at 150 % of a CPU request of 1m',
    'Hal9Cluster',
    'c',
    {
      resources: { requests: { cpu: '1m' }, limits: { cpu: '2' } },
      autoscaling: { enabled: true, mode: 'hpa', targetCPUUtilizationPercentage: 150 },
    },
    undefined,
  ],
  [
    'a Neuron HPA target of 1001 %',
    'Neuron',
    'n',
    { cluster: 'c', layer: 'L2', autoscaling: { targetCPUUtilizationPercentage: 1001 } },
    'spec.autoscaling.targetCPUUtilizationPercentage',
  ],
  [
    'cpuPinning on 0 CPUs',
    'Hal9Cluster',
    'c',
    {
      nodeTuning: { cpuPinning: true },
      resources: { requests: { cpu: 0, memory: '2Gi' }, limits: { cpu: 0, memory: '2Gi' } },
    },
    'nodeTuning.cpuPinning needs an integer CPU limit of at least 1 (for example "2", not "1500m" or 0)',
  ],
];

/** Mock answers for one layer holding `chars` characters of triggers and responses, each within its bound. */
function mockLayer(layer: string, chars: number, unit = 'a'): Hal9ClusterSpec {
  const answers = [];
  for (let left = chars; left > 0; left -= 16_001) {
    answers.push({ trigger: 't', response: unit.repeat(Math.min(16_000, left - 1)) });
  }
  return { claude: { mockResponses: { [layer]: answers } } };
}

function urlCases(): Case[] {
  const fields = {
    'claude.baseURL': [
      (u: string): Hal9ClusterSpec => ({ claude: { baseURL: u } }),
      'claude.baseURL must be an http:// or https:// URL with a host, a port from 1 to 65535 if any',
    ],
    'tracing.endpoint': [
      (u: string): Hal9ClusterSpec => ({ tracing: { endpoint: u } }),
      'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector',
    ],
    'autoscaling.parallelism.prometheusURL': [
      (u: string): Hal9ClusterSpec => ({ autoscaling: { parallelism: { prometheusURL: u } } }),
      'autoscaling.parallelism.prometheusURL must be the http:// or https:// base URL of the Prometheus API',
    ],
  } as const;
  // Which rule refuses each: the first (the URL) or the second (its host, as the runtime reads it).
  const urls: readonly (readonly [string, string, 'url' | 'host' | undefined])[] = [
    // WHATWG keeps a bad %-escape and escapes {, }, ` in a host; Go refuses them.
    ['http://host/p%zz', 'a bad %-escape in the path', 'url'],
    ['http://host/%', 'a lone % in the path', 'url'],
    ['http://host/a%2', 'a cut %-escape in the path', 'url'],
    ['http://a{b}', 'braces in the host', 'url'],
    ['http://ho`st', 'a backquote in the host', 'url'],
    // WHATWG refuses what is no IPv4 address, an IPv6 zone, < > ] in a host and an escaped non-ASCII
    // character it maps to one; Go takes them, the second rule does not.
    ['http://1.2.3.4.5:4318', 'a host of five numbers', 'host'],
    ['http://256.1.1.1:8080', 'a host of numbers above 255', 'host'],
    ['http://127.1', 'a host of two numbers', 'host'],
    ['http://010.0.0.1', 'an IPv4 address with a leading zero (octal to WHATWG)', 'host'],
    ['http://a.0x', 'a host whose last label is 0x', 'host'],
    ['http://a.b.1/v1', 'a name that ends in a number', 'host'],
    ['http://[fe80::1%25eth0]:9090', 'an IPv6 host with a zone', 'host'],
    ['http://a<b', 'a < in the host', 'host'],
    ['http://a]b', 'a ] in the host', 'host'],
    ['http://%EF%BC%92%EF%BC%95%EF%BC%96.1.1.1', 'escaped full-width digits in the host', 'host'],
    // Hosts both parsers take.
    ['http://10.0.0.1:8080', 'an IPv4 address', undefined],
    ['http://[fd00::1]:9090', 'an IPv6 address', undefined],
    ['http://[::ffff:1.2.3.4]', 'an IPv4-mapped IPv6 address', undefined],
    ['http://a.0xg', 'a name whose last label is no hex number', undefined],
    ['http://x.1e3', 'a name whose last label starts with a digit', undefined],
    ['http://host:65535', 'port 65535', undefined],
    ['http://host:65536', 'port 65536', 'url'],
    ['http://host:99999', 'port 99999', 'url'],
    ['http://host:0', 'port 0', 'url'],
    ['http://host:00000/x', 'port 00000', 'url'],
    ['http://user:secret@host:1', 'credentials', 'url'],
  ];
  const hostMessage = (field: string) =>
    `${field} has a host the runtime cannot read: write a DNS name (an internationalized one in its xn-- form), an IPv4 address as four numbers from 0 to 255 without leading zeros such as 10.0.0.1, or an IPv6 address in brackets without a zone such as [fd00::1]`;
  return Object.entries(fields).flatMap(([field, [spec, message]]) =>
    urls.map(
      ([url, what, rule]): Case => [
        `${field} with ${what} (${url})`,
        'Hal9Cluster',
        'c',
        spec(url),
        rule === 'url' ? message : rule === 'host' ? hostMessage(field) : undefined,
      ],
    ),
  );
}

describe('synth-time validation and the apiserver', () => {
  it.each(cases)('agree on %s', async (_, kind, name, spec, message) => {
    let synthError: Hal9Cdk8sError | undefined;
    try {
      if (kind === 'Hal9Cluster') new Hal9Cluster(aChart(), 'x', { metadata: { name }, spec });
      else new Neuron(aChart(), 'x', { metadata: { name }, spec: spec as NeuronSpec });
    } catch (err) {
      synthError = err as Hal9Cdk8sError;
    }
    const manifest = { apiVersion: 'hal9.ai/v1alpha1', kind, metadata: { name, namespace: ns }, spec };
    const server = await kubectl(['apply', '--dry-run=server', '--server-side', '-f', '-'], {
      // YAML 1.1 as kubectl reads it: cdk8s quotes `n`, `y`, `on` … which would otherwise be booleans.
      stdin: Yaml.stringify(manifest),
      allowFailure: true,
    });
    if (message === undefined) {
      expect(synthError).toBeUndefined();
      expect(server.stderr).toBe('');
    } else {
      expect(synthError?.message).toContain(message);
      expect(server.code).not.toBe(0);
      expect(server.stderr).toContain(message);
    }
  });
});
