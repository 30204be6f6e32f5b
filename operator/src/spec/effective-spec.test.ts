import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { renderNeuron } from '../render/index.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { effectiveSpec } from './effective-spec.ts';

describe('effectiveSpec', () => {
  it('fills every section with the guide defaults when cluster and neuron set nothing', () => {
    const spec = effectiveSpec(aHal9Cluster(), aNeuron('impl-1'));
    expect(spec.performance).toEqual({
      signalBufferSize: 10,
      bufferFlushMs: 50,
      cacheTtlSeconds: 300,
      cacheMaxEntries: 1000,
      cacheLayers: ['L2'],
      maxConcurrentSignals: 8,
      maxQueueDepth: 1000,
      maxConcurrentNeurons: 10,
      hopLimit: 16,
      requestTimeoutMs: 30000,
      circuitBreaker: { failureThreshold: 5, successThreshold: 3, timeoutSeconds: 30, windowSeconds: 60 },
      connectionPool: { maxConnectionsPerHost: 10, idleTimeoutSeconds: 90 },
      requestBudget: {
        maxFanout: 10,
        maxSignals: 500,
        maxModelCalls: 200,
        maxTokens: 2000000,
        maxCostUSD: 0,
      },
    });
    expect(spec.resources).toEqual({
      requests: { cpu: '2000m', memory: '2Gi' },
      limits: { cpu: '4000m', memory: '4Gi' },
    });
    expect(spec.claude).toMatchObject({
      mode: 'mock',
      model: 'claude-sonnet-5-5',
      maxTokens: 1024,
      timeoutMs: 30000,
    });
    expect(spec.autoscaling).toMatchObject({
      enabled: false,
      minReplicas: 1,
      maxReplicas: 10,
      targetCPUUtilizationPercentage: 70,
    });
    expect(spec.autoscaling.parallelism).toMatchObject({ enabled: false, min: 1, max: 64, latencySLOMs: 50 });
    expect(spec.nodeTuning).toMatchObject({
      cpuPinning: false,
      transparentHugepages: 'unset',
      thpInitContainer: false,
    });
    expect(spec.replicas).toBe(1);
    expect(spec.backwardConnections).toEqual([]);
    expect(spec.cache).toEqual({ enabled: true, ttlSeconds: 300, maxEntries: 1000 });
  });

  it('lets neuron overrides win field by field and keeps the cluster values it does not set', () => {
    const cluster = aHal9Cluster({
      performance: { maxConcurrentSignals: 16, hopLimit: 8, circuitBreaker: { failureThreshold: 9 } },
      resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
    });
    const neuron = aNeuron('impl-1', {
      performance: { maxConcurrentSignals: 32, circuitBreaker: { windowSeconds: 10 } },
      resources: { limits: { memory: '8Gi' } },
    });
    const spec = effectiveSpec(cluster, neuron);
    expect(spec.performance.maxConcurrentSignals).toBe(32);
    expect(spec.performance.hopLimit).toBe(8);
    expect(spec.performance.circuitBreaker).toEqual({
      failureThreshold: 9,
      successThreshold: 3,
      timeoutSeconds: 30,
      windowSeconds: 10,
    });
    expect(spec.resources).toEqual({
      requests: { cpu: '1', memory: '1Gi' },
      limits: { cpu: '2', memory: '8Gi' },
    });
  });

  it('replaces lists as a whole and merges maps key by key', () => {
    const cluster = aHal9Cluster({
      placement: {
        nodeSelector: { 'node-type': 'performance', zone: 'a' },
        tolerations: [{ key: 'a', operator: 'Exists' }],
      },
      nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '600' }] },
      claude: {
        mockResponses: {
          L2: [{ trigger: 'x', response: 'cluster' }],
          L3: [{ trigger: 'y', response: 'c3' }],
        },
      },
    });
    const neuron = aNeuron('impl-1', {
      placement: { nodeSelector: { zone: 'b' }, tolerations: [{ key: 'b', operator: 'Exists' }] },
      nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_fin_timeout', value: '15' }] },
      claude: { mockResponses: { L2: [{ trigger: 'z', response: 'neuron' }] } },
    });
    const spec = effectiveSpec(cluster, neuron);
    expect(spec.placement.nodeSelector).toEqual({ 'node-type': 'performance', zone: 'b' });
    expect(spec.placement.tolerations).toEqual([{ key: 'b', operator: 'Exists' }]);
    expect(spec.nodeTuning.sysctls).toEqual([{ name: 'net.ipv4.tcp_fin_timeout', value: '15' }]);
    expect(spec.claude.mockResponses).toEqual({
      L2: [{ trigger: 'z', response: 'neuron', delayMs: 0 }],
      L3: [{ trigger: 'y', response: 'c3', delayMs: 0 }],
    });
  });

  it("replaces the cluster's API key Secret and a model's price as a whole, never mixing the two objects'", () => {
    const cluster = aHal9Cluster({
      claude: {
        mode: 'api',
        apiKeySecretRef: { name: 'anthropic', key: 'ANTHROPIC_API_KEY' },
        prices: {
          'claude-sonnet-5-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
          'claude-haiku-5': { input: 1, output: 5 },
        },
      },
    });
    const neuron = aNeuron('impl-1', {
      claude: {
        apiKeySecretRef: { name: 'team-a-key' },
        prices: { 'claude-sonnet-5-5': { input: 2, output: 10 } },
      },
    });
    const spec = effectiveSpec(cluster, neuron);
    // The Neuron's Secret with the default key, not the key of the cluster's Secret.
    expect(spec.claude.apiKeySecretRef).toEqual({ name: 'team-a-key', key: 'api-key' });
    // Its price for a model, whose unset cache prices the runtime derives from its input price.
    expect(spec.claude.prices).toEqual({
      'claude-sonnet-5-5': { input: 2, output: 10 },
      'claude-haiku-5': { input: 1, output: 5 },
    });
    const deployment = renderNeuron({ cluster, neuron, peers: [neuron] }).objects.find(
      (o) => o.kind === 'Deployment',
    ) as V1Deployment;
    expect(
      deployment.spec?.template.spec?.volumes?.find((v) => v.name === 'anthropic-api-key')?.secret,
    ).toEqual({
      secretName: 'team-a-key',
      items: [{ key: 'api-key', path: 'key' }],
      defaultMode: 0o440,
    });
    // A Neuron that names no Secret and no price keeps the cluster's.
    const plain = effectiveSpec(cluster, aNeuron('impl-2', { claude: { maxTokens: 10 } }));
    expect(plain.claude.apiKeySecretRef).toEqual({ name: 'anthropic', key: 'ANTHROPIC_API_KEY' });
    expect(plain.claude.prices?.['claude-sonnet-5-5']).toEqual({
      input: 3,
      output: 15,
      cacheRead: 0.3,
      cacheWrite: 3.75,
    });
  });

  describe("privileged tuning: the Hal9Cluster's to allow, the Neuron's to turn off", () => {
    // [cluster, neuron, effective]: the cluster's AND the Neuron's, which defaults to the cluster's.
    it.each([
      [undefined, undefined, false],
      [undefined, true, false],
      [false, true, false],
      [false, false, false],
      [true, undefined, true],
      [true, true, true],
      [true, false, false],
    ] as const)('cluster %s, Neuron %s: %s', (fromCluster, fromNeuron, effective) => {
      for (const s of ['privilegedSysctlInitContainer', 'thpInitContainer'] as const) {
        const cluster = aHal9Cluster(fromCluster === undefined ? {} : { nodeTuning: { [s]: fromCluster } });
        const neuron = aNeuron('n', fromNeuron === undefined ? {} : { nodeTuning: { [s]: fromNeuron } });
        const spec = effectiveSpec(cluster, neuron);
        expect(spec.nodeTuning[s], s).toBe(effective);
        // Only a Neuron's true that is not applied is reported: its own false is its choice.
        expect(spec.repairs, s).toEqual(
          fromNeuron === true && !fromCluster
            ? [
                `the Neuron's nodeTuning.${s}: true is not applied: privileged tuning is the Hal9Cluster's to allow, and Hal9Cluster hal9 has nodeTuning.${s} off (a Neuron may only turn it off); set it to true on the Hal9Cluster, or remove it from the Neuron`,
              ]
            : [],
        );
      }
    });

    it("keeps the rest of a Neuron's nodeTuning: its sysctls and THP mode under the cluster's switches", () => {
      const cluster = aHal9Cluster({
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          thpInitContainer: true,
          transparentHugepages: 'madvise',
          sysctls: [{ name: 'vm.swappiness', value: '10' }],
        },
      });
      const spec = effectiveSpec(
        cluster,
        aNeuron('n', {
          nodeTuning: { sysctls: [{ name: 'vm.swappiness', value: '1' }], transparentHugepages: 'never' },
        }),
      );
      expect(spec.nodeTuning).toMatchObject({
        privilegedSysctlInitContainer: true,
        thpInitContainer: true,
        transparentHugepages: 'never',
        sysctls: [{ name: 'vm.swappiness', value: '1' }],
      });
      expect(spec.repairs).toEqual([]);
    });

    it('writes as root only the sysctls outside the safe set that the Hal9Cluster lists: a Neuron may change their values, not add names', () => {
      const cluster = aHal9Cluster({
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          sysctls: [{ name: 'net.ipv4.tcp_slow_start_after_idle', value: '0' }],
        },
      });
      const spec = effectiveSpec(
        cluster,
        aNeuron('n', {
          nodeTuning: {
            sysctls: [
              { name: 'net.ipv4.tcp_slow_start_after_idle', value: '1' },
              { name: 'kernel.modprobe', value: '/tmp/x' },
              { name: 'kernel.randomize_va_space', value: '0' },
              { name: 'net.ipv4.tcp_fin_timeout', value: '15' },
            ],
          },
        }),
      );
      expect(spec.nodeTuning.sysctls).toEqual([
        { name: 'net.ipv4.tcp_slow_start_after_idle', value: '1' },
        { name: 'net.ipv4.tcp_fin_timeout', value: '15' },
      ]);
      expect(spec.repairs).toEqual([
        "the Neuron's nodeTuning.sysctls kernel.modprobe, kernel.randomize_va_space are not applied: outside the safe set, the privileged init container writes only sysctls Hal9Cluster hal9 allows a Neuron (its nodeTuning.neuronSysctls, or the names of its own nodeTuning.sysctls); add them to the Hal9Cluster's nodeTuning.neuronSysctls, or remove them from the Neuron",
      ]);
      // Without the Neuron's own list, the cluster's is written as it is.
      expect(effectiveSpec(cluster, aNeuron('m')).nodeTuning.sysctls).toEqual([
        { name: 'net.ipv4.tcp_slow_start_after_idle', value: '0' },
      ]);
      // neuronSysctls allows more, by name or by a prefix ending in *.
      const allowing = aHal9Cluster({
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          neuronSysctls: ['kernel.randomize_va_space', 'net.core.*'],
        },
      });
      const own = [
        { name: 'net.core.somaxconn', value: '4096' },
        { name: 'kernel.randomize_va_space', value: '0' },
        { name: 'net.corex.x', value: '1' },
        { name: 'kernel.modprobe', value: '/tmp/x' },
      ];
      const more = effectiveSpec(allowing, aNeuron('n', { nodeTuning: { sysctls: own } }));
      expect(more.nodeTuning.sysctls).toEqual(own.slice(0, 2));
      expect(more.repairs).toEqual([
        expect.stringContaining('nodeTuning.sysctls net.corex.x, kernel.modprobe are not applied'),
      ]);
    });

    it("takes the init image from the Hal9Cluster only, and reports a Neuron's (stored before the CRD refused it)", () => {
      const neuron = aNeuron('n', { nodeTuning: { initImage: 'evil/root:latest' } });
      expect(effectiveSpec(aHal9Cluster(), neuron).nodeTuning.initImage).toBe('busybox:1.37');
      const spec = effectiveSpec(aHal9Cluster({ nodeTuning: { initImage: 'mirror/busybox:1.37' } }), neuron);
      expect(spec.nodeTuning.initImage).toBe('mirror/busybox:1.37');
      expect(spec.repairs).toEqual([
        `the Neuron's nodeTuning.initImage "evil/root:latest" is not used: the image the privileged init containers run as root on the node is the Hal9Cluster's to choose (mirror/busybox:1.37, of Hal9Cluster hal9); remove it from the Neuron (the CRD refuses a change of it), and set it on the Hal9Cluster`,
      ]);
    });
  });

  describe("the Hal9Cluster's API key goes only to the Hal9Cluster's URL", () => {
    const cluster = aHal9Cluster({
      claude: {
        mode: 'api',
        baseURL: 'https://proxy.internal',
        apiKeySecretRef: { name: 'platform', key: 'k' },
      },
    });

    it("leaves the cluster's key out for a Neuron that sets its own base URL without its own key, and says why", () => {
      const spec = effectiveSpec(cluster, aNeuron('n', { claude: { baseURL: 'https://attacker.example' } }));
      expect(spec.claude.baseURL).toBe('https://attacker.example');
      expect(spec.claude.apiKeySecretRef).toBeUndefined();
      expect(spec.clusterApiKeyWithheld).toBe(true);
      expect(spec.repairs).toEqual([
        `the Neuron's spec.claude.baseURL "https://attacker.example" comes without its own claude.apiKeySecretRef: the API key of Hal9Cluster hal9 (Secret platform) goes only to the Hal9Cluster's URL, so it is not mounted and the runtime stops at its start (claude.mode is api but no API key is set); name a Secret of the Neuron's in claude.apiKeySecretRef, or remove claude.baseURL from the Neuron`,
      ]);
      // An empty base URL (the SDK's default) is not the cluster's either.
      const empty = effectiveSpec(cluster, aNeuron('n', { claude: { baseURL: '' } }));
      expect(empty.claude.apiKeySecretRef).toBeUndefined();
      expect(empty.clusterApiKeyWithheld).toBe(true);
    });

    it("uses the Neuron's own key with its own base URL, and the cluster's with the cluster's URL", () => {
      const own = effectiveSpec(
        cluster,
        aNeuron('n', { claude: { baseURL: 'https://team.example', apiKeySecretRef: { name: 'team' } } }),
      );
      expect(own.claude.apiKeySecretRef).toEqual({ name: 'team', key: 'api-key' });
      expect(own.clusterApiKeyWithheld).toBe(false);
      expect(own.repairs).toEqual([]);
      const inherits = effectiveSpec(cluster, aNeuron('n', { claude: { maxTokens: 10 } }));
      expect(inherits.claude).toMatchObject({
        baseURL: 'https://proxy.internal',
        apiKeySecretRef: { name: 'platform', key: 'k' },
      });
      expect(inherits.clusterApiKeyWithheld).toBe(false);
    });

    it('withholds nothing where the cluster names no key', () => {
      const spec = effectiveSpec(aHal9Cluster(), aNeuron('n', { claude: { baseURL: 'https://x.example' } }));
      expect(spec.clusterApiKeyWithheld).toBe(false);
      expect(spec.repairs).toEqual([]);
    });
  });

  describe("the Hal9Cluster's tracing Secrets go only to the Hal9Cluster's collector", () => {
    const refs = {
      headersSecretRef: { name: 'platform-auth', key: 'h' },
      caSecretRef: { name: 'platform-ca' },
      clientCertSecretRef: { name: 'platform-client' },
    };
    const cluster = aHal9Cluster({ tracing: { endpoint: 'https://tempo.observability:4318', ...refs } });

    it.each([
      'https://tempo.observability:4318',
      'https://tempo.observability:4318/otlp',
      'https://team-collector.example:4318',
    ])('a Neuron with its own endpoint %s gets none of them', (endpoint) => {
      const spec = effectiveSpec(cluster, aNeuron('n', { tracing: { endpoint } }));
      expect(spec.tracing).toMatchObject({
        endpoint,
        headersSecretRef: undefined,
        caSecretRef: undefined,
        clientCertSecretRef: undefined,
      });
      expect(spec.repairs).toEqual([]);
    });

    it('a Neuron with its own endpoint names its own; one without keeps the cluster collector and its Secrets', () => {
      const own = effectiveSpec(
        cluster,
        aNeuron('n', {
          tracing: { endpoint: 'https://team.example:4318', headersSecretRef: { name: 'team-auth' } },
        }),
      );
      expect(own.tracing).toMatchObject({
        headersSecretRef: { name: 'team-auth', key: 'headers' },
        caSecretRef: undefined,
        clientCertSecretRef: undefined,
      });
      const inherits = effectiveSpec(cluster, aNeuron('n', { tracing: { samplingRatio: 0.5 } }));
      expect(inherits.tracing).toMatchObject({
        endpoint: 'https://tempo.observability:4318',
        samplingRatio: 0.5,
        headersSecretRef: { name: 'platform-auth', key: 'h' },
        caSecretRef: { name: 'platform-ca', key: 'ca.crt' },
        clientCertSecretRef: { name: 'platform-client' },
      });
      // A reference the Neuron names replaces the cluster's whole; the others stay the cluster's.
      const one = effectiveSpec(cluster, aNeuron('n', { tracing: { caSecretRef: { name: 'mine' } } }));
      expect(one.tracing).toMatchObject({
        headersSecretRef: { name: 'platform-auth', key: 'h' },
        caSecretRef: { name: 'mine', key: 'ca.crt' },
      });
    });
  });

  it("overrides the cluster's monitoring per neuron: off for one, labels added to the cluster's", () => {
    const cluster = aHal9Cluster({
      monitoring: { serviceMonitor: true, serviceMonitorLabels: { release: 'kps', team: 'a' } },
    });
    const off = effectiveSpec(cluster, aNeuron('impl-1', { monitoring: { serviceMonitor: false } }));
    expect(off.monitoring).toEqual({
      serviceMonitor: false,
      scrapeInterval: '15s',
      serviceMonitorLabels: { release: 'kps', team: 'a' },
    });
    const labelled = effectiveSpec(
      cluster,
      aNeuron('impl-2', { monitoring: { scrapeInterval: '5s', serviceMonitorLabels: { team: 'b' } } }),
    );
    expect(labelled.monitoring).toEqual({
      serviceMonitor: true,
      scrapeInterval: '5s',
      serviceMonitorLabels: { release: 'kps', team: 'b' },
    });
    // A neuron that sets nothing keeps the cluster's.
    expect(effectiveSpec(cluster, aNeuron('impl-3')).monitoring.serviceMonitor).toBe(true);
  });

  it('defaults fields of an object only the neuron sets', () => {
    const spec = effectiveSpec(
      aHal9Cluster(),
      aNeuron('impl-1', { placement: { topologySpread: { maxSkew: 2 } } }),
    );
    expect(spec.placement.topologySpread).toEqual({
      maxSkew: 2,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
    });
  });

  it('keeps a cluster resources section as written (no per-field defaults inside it)', () => {
    const spec = effectiveSpec(
      aHal9Cluster({ resources: { limits: { cpu: '8', memory: '8Gi' } } }),
      aNeuron('impl-1'),
    );
    expect(spec.resources).toEqual({ limits: { cpu: '8', memory: '8Gi' } });
  });

  it.each([
    ['an L2 neuron caches by default (L2 is in cacheLayers)', 'L2', undefined, true],
    ['an L3 neuron does not cache by default', 'L3', undefined, false],
    ['cache.enabled on the neuron wins over cacheLayers', 'L3', true, true],
    ['cache.enabled false turns an L2 neuron off', 'L2', false, false],
  ] as const)('%s', (_name, layer, enabled, expected) => {
    const neuron = aNeuron('n', { layer, ...(enabled === undefined ? {} : { cache: { enabled } }) });
    expect(effectiveSpec(aHal9Cluster(), neuron).cache.enabled).toBe(expected);
  });

  it('takes cache ttl and size from the neuron, else from performance', () => {
    const cluster = aHal9Cluster({ performance: { cacheTtlSeconds: 60, cacheMaxEntries: 10 } });
    expect(effectiveSpec(cluster, aNeuron('n', { cache: { ttlSeconds: 5 } })).cache).toEqual({
      enabled: true,
      ttlSeconds: 5,
      maxEntries: 10,
    });
  });

  it("repairs a request above the limit after the merge: the Neuron's own value wins", () => {
    const cluster = aHal9Cluster({
      resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '4', memory: '4Gi' } },
    });
    const more = effectiveSpec(cluster, aNeuron('n', { resources: { requests: { cpu: '8' } } }));
    expect(more.resources).toEqual({
      requests: { cpu: '8', memory: '2Gi' },
      limits: { cpu: '8', memory: '4Gi' },
    });
    expect(more.repairs).toEqual([expect.stringContaining('resources.requests.cpu 8 is above the limit 4')]);
    const less = effectiveSpec(cluster, aNeuron('n', { resources: { limits: { memory: '1Gi' } } }));
    expect(less.resources).toEqual({
      requests: { cpu: '2', memory: '1Gi' },
      limits: { cpu: '4', memory: '1Gi' },
    });
    expect(less.repairs).toEqual([expect.stringContaining('the request is lowered to 1Gi')]);
    expect(effectiveSpec(cluster, aNeuron('n')).repairs).toEqual([]);
  });

  it('merges quantities written as numbers field by field, and repairs them by value', () => {
    const cluster = aHal9Cluster({
      resources: { requests: { cpu: '2', memory: 2147483648 }, limits: { cpu: 4, memory: '4Gi' } },
    });
    const more = effectiveSpec(cluster, aNeuron('n', { resources: { requests: { cpu: 8 } } }));
    expect(more.resources).toEqual({
      requests: { cpu: 8, memory: 2147483648 },
      limits: { cpu: 8, memory: '4Gi' },
    });
    expect(more.repairs).toEqual([expect.stringContaining('resources.requests.cpu 8 is above the limit 4')]);
    // 4 cores and 4294967296 bytes are the limits 4 and "4Gi" themselves, not above them.
    const equal = aNeuron('n', { resources: { requests: { cpu: 4, memory: 4294967296 } } });
    expect(effectiveSpec(cluster, equal).repairs).toEqual([]);
  });

  it('compares a request with its limit exactly, as the apiserver does: "700m" is not above "0.7"', () => {
    // In binary floating point 700 × 0.001 is 0.7000000000000001, above 0.7.
    const cluster = aHal9Cluster({ resources: { limits: { cpu: '0.7' } } });
    const spec = effectiveSpec(cluster, aNeuron('n', { resources: { requests: { cpu: '700m' } } }));
    expect(spec.repairs).toEqual([]);
    expect(spec.resources).toEqual({ requests: { cpu: '700m' }, limits: { cpu: '0.7' } });
  });

  it("clamps a panic window the merge leaves above the stable window, and says which object's to change", () => {
    const cluster = aHal9Cluster({
      autoscaling: { enabled: true, stableWindowSeconds: 60, panicWindowSeconds: 6 },
    });
    const longPanic = effectiveSpec(cluster, aNeuron('n', { autoscaling: { panicWindowSeconds: 90 } }));
    expect(longPanic.autoscaling).toMatchObject({ stableWindowSeconds: 60, panicWindowSeconds: 60 });
    expect(longPanic.repairs).toEqual([
      "the Neuron's spec.autoscaling.panicWindowSeconds 90 is above spec.autoscaling.stableWindowSeconds 60 of Hal9Cluster hal9 after merging the Neuron with its Hal9Cluster (each passes its own check alone): a panic window of 60s is used; lower the Neuron's panicWindowSeconds to 60 or less, or set stableWindowSeconds on the Neuron",
    ]);
    const shortStable = effectiveSpec(cluster, aNeuron('n', { autoscaling: { stableWindowSeconds: 5 } }));
    expect(shortStable.autoscaling).toMatchObject({ stableWindowSeconds: 5, panicWindowSeconds: 5 });
    expect(shortStable.repairs).toEqual([
      expect.stringContaining(
        "spec.autoscaling.panicWindowSeconds 6 of Hal9Cluster hal9 is above the Neuron's spec.autoscaling.stableWindowSeconds 5",
      ),
    ]);
    expect(shortStable.repairs[0]).toContain(
      "raise the Neuron's stableWindowSeconds to 6 or more, or set panicWindowSeconds on the Neuron",
    );
    expect(effectiveSpec(cluster, aNeuron('n', { autoscaling: { panicWindowSeconds: 60 } })).repairs).toEqual(
      [],
    );
  });

  it('clamps crossed windows without a warning while nothing reads them (autoscaling and tuning off)', () => {
    const cluster = aHal9Cluster({ autoscaling: { enabled: false, parallelism: { enabled: false } } });
    const spec = effectiveSpec(cluster, aNeuron('n', { autoscaling: { panicWindowSeconds: 120 } }));
    expect(spec.autoscaling.panicWindowSeconds).toBe(60);
    expect(spec.repairs).toEqual([]);
  });

  it("drops a fallback model the merge makes equal to the model, and says which object's to change", () => {
    const cluster = aHal9Cluster({
      claude: { model: 'claude-a', fallbackModels: ['claude-b', 'claude-c'] },
    });
    // The Neuron's model is one of the cluster's fallbacks.
    const ownModel = effectiveSpec(cluster, aNeuron('n', { claude: { model: 'claude-b' } }));
    expect(ownModel.claude).toMatchObject({ model: 'claude-b', fallbackModels: ['claude-c'] });
    expect(ownModel.repairs).toEqual([
      "spec.claude.fallbackModels of Hal9Cluster hal9 contains claude-b, the Neuron's spec.claude.model, after merging the Neuron with its Hal9Cluster: it is left out of the fallbacks, which stand in for the model when it is overloaded; remove claude-b from claude.fallbackModels, or set another claude.model",
    ]);
    // The Neuron's fallbacks name the cluster's model.
    const ownFallbacks = effectiveSpec(
      cluster,
      aNeuron('n', { claude: { fallbackModels: ['claude-a', 'claude-d'] } }),
    );
    expect(ownFallbacks.claude).toMatchObject({ model: 'claude-a', fallbackModels: ['claude-d'] });
    expect(ownFallbacks.repairs).toEqual([
      expect.stringContaining(
        "the Neuron's spec.claude.fallbackModels contains claude-a, spec.claude.model of Hal9Cluster hal9, after",
      ),
    ]);
    expect(effectiveSpec(cluster, aNeuron('n')).repairs).toEqual([]);
    expect(effectiveSpec(cluster, aNeuron('n')).claude.fallbackModels).toEqual(['claude-b', 'claude-c']);
  });

  it('drops a repeated fallback model (a list stored before the CRDs refused repeats), keeping the first', () => {
    const cluster = aHal9Cluster({ claude: { fallbackModels: ['claude-b', 'claude-c', 'claude-b'] } });
    const spec = effectiveSpec(cluster, aNeuron('n'));
    expect(spec.claude.fallbackModels).toEqual(['claude-b', 'claude-c']);
    expect(spec.repairs).toEqual([
      'spec.claude.fallbackModels of Hal9Cluster hal9 lists claude-b more than once: each fallback is tried once; remove the repeats',
    ]);
  });

  it('returns a frozen value and leaves its inputs untouched', () => {
    const cluster = aHal9Cluster({ performance: { hopLimit: 4 } });
    const neuron = aNeuron('impl-1');
    const before = structuredClone([cluster, neuron]);
    const spec = effectiveSpec(cluster, neuron);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.performance.circuitBreaker)).toBe(true);
    expect([cluster, neuron]).toEqual(before);
  });

  it('is idempotent on objects the apiserver already defaulted', () => {
    const once = effectiveSpec(aHal9Cluster(), aNeuron('impl-1'));
    const serverCluster = aHal9Cluster(structuredClone(once) as never);
    expect(effectiveSpec(serverCluster, aNeuron('impl-1')).performance).toEqual(once.performance);
  });
});
