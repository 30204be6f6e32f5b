import { readFileSync } from 'node:fs';
import { parseConfigText } from '@hal9/runtime';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aHal9Cluster, aNeuron, defaultTopology } from '../testing/builders.ts';
import { configKey } from './config-map.ts';
import { renderNeuron } from './render-neuron.ts';
import { RenderRefusedError } from './render-refused.ts';
import { MAX_CONFIG_MAP_BYTES } from './runtime-config.ts';

const topology = defaultTopology();
const renderOf = (name: string, cluster = aHal9Cluster(), peers = topology) =>
  renderNeuron({ cluster, neuron: peers.find((n) => n.metadata?.name === name)!, peers });

describe('runtime configuration', () => {
  it("carries only the mock answers of the neuron's own layer", () => {
    const answers = (layer: string) => [{ trigger: 'default', response: `RESULT: ${layer}`, delayMs: 0 }];
    const cluster = aHal9Cluster({
      claude: { mockResponses: { L2: answers('L2'), L3: answers('L3'), L4: answers('L4') } },
    });
    expect(
      Object.keys(parseConfigText(renderOf('design-1', cluster).runtimeConfig).claude.mock_responses),
    ).toEqual(['L3']);
    expect(
      Object.keys(parseConfigText(renderOf('impl-1', cluster).runtimeConfig).claude.mock_responses),
    ).toEqual(['L2']);
  });

  it('refuses what the runtime or the apiserver would refuse, naming what to change', () => {
    const api = aNeuron('impl-1', { claude: { mode: 'api' } });
    expect(() => renderNeuron({ cluster: aHal9Cluster(), neuron: api, peers: [api] })).toThrow(
      RenderRefusedError,
    );
    expect(() => renderNeuron({ cluster: aHal9Cluster(), neuron: api, peers: [api] })).toThrow(
      /neither the Neuron nor its Hal9Cluster sets claude\.apiKeySecretRef/,
    );
    // 64 answers of 16,384 characters each: every one within the schema, together over 1 MiB.
    const big = Array.from({ length: 64 }, (_, i) => ({
      trigger: `t${i}`,
      response: 'r'.repeat(16_384),
      delayMs: 0,
    }));
    const huge = aNeuron('impl-1', { claude: { mockResponses: { L2: big } } });
    expect(() => renderNeuron({ cluster: aHal9Cluster(), neuron: huge, peers: [huge] })).toThrow(
      /over the 1048576 a ConfigMap holds: shorten the Neuron's spec\.claude\.mockResponses\.L2 \(about \d+ bytes\) or the Neuron's spec\.systemPrompt \(0 bytes\)/,
    );
    // The same answers set on the cluster: the message names the cluster, not the Neuron.
    const plain = aNeuron('impl-1');
    const bigCluster = aHal9Cluster({ claude: { mockResponses: { L2: big } } }, 'bigc');
    expect(() => renderNeuron({ cluster: bigCluster, neuron: plain, peers: [plain] })).toThrow(
      /shorten spec\.claude\.mockResponses\.L2 of Hal9Cluster bigc \(about \d+ bytes\)/,
    );
  });

  it('fits a ConfigMap at the largest the CRDs admit, every character written at its longest', () => {
    // The CRDs' bound on one layer of claude.mockResponses (triggers and responses, in characters), the
    // same in both, and the longest system prompt.
    const crd = (file: string) => readFileSync(new URL(`../../../crds/${file}`, import.meta.url), 'utf8');
    const bounds = ['hal9.ai_hal9clusters.yaml', 'hal9.ai_neurons.yaml'].map((f) =>
      Number(/map\(e, size\(e\.trigger\) \+ size\(e\.response\)\)\.sum\(\) <= ([0-9]+)\)/.exec(crd(f))?.[1]),
    );
    expect(bounds[0]).toBeGreaterThan(0);
    expect(bounds[1]).toBe(bounds[0]);
    const layerChars = bounds[0]!;
    const promptChars = (
      parse(crd('hal9.ai_neurons.yaml')) as {
        spec: {
          versions: {
            schema: {
              openAPIV3Schema: {
                properties: { spec: { properties: { systemPrompt: { maxLength: number } } } };
              };
            };
          }[];
        };
      }
    ).spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.systemPrompt.maxLength;
    // A control character and a line break are the longest YAML writes per character: "\x01" and the
    // break, a blank line and the indentation, 16 bytes for two characters among the mock answers.
    const longest = (n: number) => '\n\x01'.repeat(Math.ceil(n / 2)).slice(0, n);
    const named = (c: string, i: number) => `${c}${i}`.padEnd(63, c);
    const ns = 'n'.repeat(63);
    const cluster = 'c'.repeat(63);
    // 32 forward and 32 backward connections, each a remote neuron of the configuration.
    const forward = Array.from({ length: 32 }, (_, i) => named('f', i));
    const backward = Array.from({ length: 32 }, (_, i) => named('b', i));
    const peers = [...forward, ...backward].map((p) =>
      aNeuron(p, { cluster, layer: 'L1' }, { namespace: ns }),
    );
    // 64 answers, the most a layer holds, with every character the layer may hold.
    const answers = Array.from({ length: 64 }, (_, i) => {
      const chars = Math.floor(layerChars / 64) + (i < layerChars % 64 ? 1 : 0);
      return { trigger: longest(1), response: longest(chars - 1), delayMs: 600_000 };
    });
    const price = 0.0000012345678901234567;
    const neuron = aNeuron(
      'z'.repeat(63),
      {
        cluster,
        systemPrompt: longest(promptChars),
        forwardConnections: forward,
        backwardConnections: backward,
        claude: {
          model: 'm'.repeat(128),
          fallbackModels: Array.from({ length: 8 }, (_, i) => named('f', i).padEnd(128, 'f')),
          // Printable ASCII, each quote escaped in YAML.
          baseURL: `http://h/${'"'.repeat(2048 - 9)}`,
          prices: Object.fromEntries(
            Array.from({ length: 100 }, (_, i) => [
              named('p', i).padEnd(128, 'p'),
              { input: price, output: price, cacheRead: price, cacheWrite: price },
            ]),
          ),
          mockResponses: { L2: answers },
        },
        autoscaling: { parallelism: { enabled: true, latencySLOMs: 600_000 } },
      },
      { namespace: ns },
    );
    const out = renderNeuron({
      cluster: aHal9Cluster({}, cluster, { namespace: ns }),
      neuron,
      peers: [neuron, ...peers],
    });
    const bytes = Buffer.byteLength(out.runtimeConfig) + configKey.length;
    expect(bytes).toBeLessThanOrEqual(MAX_CONFIG_MAP_BYTES);
    // Most of it: the bound is not far below what fits.
    expect(bytes).toBeGreaterThan(MAX_CONFIG_MAP_BYTES * 0.95);
    const config = parseConfigText(out.runtimeConfig);
    expect(config.neurons[0]!.system_prompt).toBe(neuron.spec.systemPrompt);
    expect(config.claude.mock_responses.L2).toHaveLength(64);
  });

  it('refuses a claude.baseURL the CRD admits but the runtime refuses at start, and only those', () => {
    for (const baseURL of [
      'http://x:99999',
      'http://%zz',
      'http://a^b',
      'http://[::1',
      'https://a|b',
      'http://fake-api:8080',
      'https://api.example.com/v1/',
      'http://[::1]:9000',
      'https://api.example.com/?v=1',
      'https://api.example.com#x',
    ]) {
      const neuron = aNeuron('impl-1', { claude: { baseURL } });
      let rendered: string | undefined;
      let refusal: unknown;
      try {
        rendered = renderNeuron({ cluster: aHal9Cluster(), neuron, peers: [neuron] }).runtimeConfig;
      } catch (e) {
        refusal = e;
      }
      // Refused by render exactly when the runtime would refuse the rendered file.
      const runtimeRefuses = (() => {
        try {
          parseConfigText(`claude:\n  base_url: ${JSON.stringify(baseURL)}\n`);
          return false;
        } catch {
          return true;
        }
      })();
      expect(refusal !== undefined, baseURL).toBe(runtimeRefuses);
      if (refusal) {
        expect(refusal, baseURL).toBeInstanceOf(RenderRefusedError);
        expect((refusal as Error).message).toContain('is not a URL the runtime accepts');
      } else expect(() => parseConfigText(rendered!), baseURL).not.toThrow();
    }
  });

  it('hosts the neuron locally and its connections as remote neurons behind their Services', () => {
    const doc = parse(renderOf('design-1').runtimeConfig);
    expect(doc.cluster).toEqual({ name: 'hal9' });
    expect(doc.entry_neuron).toBe('design-1');
    expect(doc.neurons).toEqual([
      {
        id: 'design-1',
        layer: 'L3',
        system_prompt: '',
        forward_connections: ['impl-1'],
        backward_connections: ['strategic-1'],
      },
      { id: 'impl-1', layer: 'L2', endpoint: 'http://impl-1.hal9-test.svc:8080' },
      { id: 'strategic-1', layer: 'L4', endpoint: 'http://strategic-1.hal9-test.svc:8080' },
    ]);
  });

  it("is accepted by the runtime's own parser, with the values of the effective spec", () => {
    const cluster = aHal9Cluster({
      performance: { maxConcurrentSignals: 24, circuitBreaker: { failureThreshold: 7 } },
      claude: { mockResponses: { L2: [{ trigger: 'fast', response: 'RESULT: ok', delayMs: 0 }] } },
    });
    for (const n of topology) {
      const config = parseConfigText(renderOf(n.metadata!.name!, cluster).runtimeConfig);
      expect(config.performance.max_concurrent_signals).toBe(24);
      expect(config.performance.circuit_breaker.failure_threshold).toBe(7);
      expect(config.cluster.name).toBe('hal9');
    }
  });

  it('holds signals to the tuned latency objective only when parallelism tuning sheds late signals', () => {
    const slo = (autoscaling: object) =>
      parseConfigText(renderOf('impl-1', aHal9Cluster({ autoscaling })).runtimeConfig).performance
        .latency_slo_ms;
    const tuned = { enabled: true, parallelism: { enabled: true, latencySLOMs: 800 } };
    expect(slo(tuned)).toBe(800);
    expect(slo({ ...tuned, parallelism: { ...tuned.parallelism, shedLateSignals: false } })).toBe(0);
    expect(slo({ ...tuned, parallelism: { enabled: false, latencySLOMs: 800 } })).toBe(0);
    // Parallelism is tuned with replica autoscaling off too (parallelism.enabled alone): its objective
    // holds, in every replica mode.
    expect(slo({ enabled: false, parallelism: { enabled: true, latencySLOMs: 800 } })).toBe(800);
    expect(slo({ ...tuned, mode: 'hpa' })).toBe(800);
    expect(slo({ enabled: false, parallelism: { enabled: false, latencySLOMs: 800 } })).toBe(0);
  });

  it('keeps the pods when replica autoscaling is switched on, off or to hpa while parallelism is tuned', () => {
    const parallelism = { enabled: true, latencySLOMs: 800 };
    const podTemplate = (autoscaling: object) => {
      const out = renderOf('impl-1', aHal9Cluster({ autoscaling: { ...autoscaling, parallelism } }));
      const deployment = out.objects.find((o) => o.kind === 'Deployment') as { spec: { template: unknown } };
      return { config: out.runtimeConfig, template: deployment.spec.template };
    };
    const operatorMode = podTemplate({ enabled: true });
    expect(podTemplate({ enabled: false })).toEqual(operatorMode);
    expect(podTemplate({ enabled: true, mode: 'hpa' })).toEqual(operatorMode);
  });

  it('turns the cache on only for its own layer when the neuron caches', () => {
    expect(parse(renderOf('impl-1').runtimeConfig).performance.cache_layers).toEqual(['L2']);
    expect(parse(renderOf('design-1').runtimeConfig).performance.cache_layers).toEqual([]);
  });

  it('renders api mode with base URL and no key in the file', () => {
    const cluster = aHal9Cluster({
      claude: {
        mode: 'api',
        baseURL: 'http://fake-anthropic:8080',
        apiKeySecretRef: { name: 's', key: 'k' },
      },
    });
    const out = renderOf('impl-1', cluster);
    expect(parse(out.runtimeConfig).claude).toEqual({
      mode: 'api',
      model: 'claude-sonnet-5-5',
      max_tokens: 1024,
      timeout_ms: 30000,
      max_retries: 0,
      base_url: 'http://fake-anthropic:8080',
      retry: { max_retries: 2, base_delay_ms: 250, max_delay_ms: 8000 },
    });
    expect(out.warnings).toEqual([]);
  });

  it('renders request budgets, retries, prices and fallback models, which the runtime parses', () => {
    const cluster = aHal9Cluster({
      performance: { requestBudget: { maxFanout: 3, maxCostUSD: 0.5 } },
      claude: {
        retry: { maxRetries: 4, maxDelayMs: 2000 },
        prices: {
          'claude-sonnet-5-5': { input: 3, output: 15 },
          'claude-haiku-5': { input: 1, output: 5, cacheRead: 0.2 },
        },
        fallbackModels: ['claude-haiku-5'],
      },
    });
    const neuron = aNeuron('impl-1', {
      performance: { requestBudget: { maxSignals: 50 } },
      claude: { prices: { 'claude-haiku-5': { input: 2, output: 6 } } },
    });
    const config = parseConfigText(renderNeuron({ cluster, neuron, peers: [] }).runtimeConfig);
    expect(config.performance.request_budget).toEqual({
      max_fanout: 3,
      max_signals: 50,
      max_model_calls: 200,
      max_tokens: 2_000_000,
      max_cost_usd: 0.5,
    });
    expect(config.claude.retry).toEqual({ max_retries: 4, base_delay_ms: 250, max_delay_ms: 2000 });
    // Maps merge per key: the neuron's haiku price replaces the cluster's, sonnet stays.
    expect(config.claude.prices).toEqual({
      'claude-haiku-5': { input: 2, output: 6, cache_read: 0.2, cache_write: 2.5 },
      'claude-sonnet-5-5': { input: 3, output: 15, cache_read: 0.30000000000000004, cache_write: 3.75 },
    });
    expect(config.neurons[0]?.fallback_models).toEqual(['claude-haiku-5']);
  });

  it('renders one retry layer and a backoff base within its ceiling, repairing a merge and saying so', () => {
    // The SDK's retry with the CRD's default retry.maxRetries (2) would stack; the runtime refuses both.
    const sdk = renderNeuron({
      cluster: aHal9Cluster({ claude: { maxRetries: 1 } }),
      neuron: aNeuron('impl-1'),
      peers: [],
    });
    const config = parseConfigText(sdk.runtimeConfig);
    expect(config.claude.max_retries).toBe(1);
    expect(config.claude.retry.max_retries).toBe(0);
    expect(sdk.warnings).toEqual([expect.stringContaining('retries are not stacked')]);
    // Each object passes the CRD's rule (base ≤ max); merged, the cluster's base is over the Neuron's max.
    const merged = renderNeuron({
      cluster: aHal9Cluster({ claude: { retry: { baseDelayMs: 5000 } } }),
      neuron: aNeuron('impl-1', { claude: { retry: { maxDelayMs: 1000 } } }),
      peers: [],
    });
    expect(parseConfigText(merged.runtimeConfig).claude.retry).toEqual({
      max_retries: 2,
      base_delay_ms: 1000,
      max_delay_ms: 1000,
    });
    expect(merged.warnings).toEqual([expect.stringContaining('claude.retry.baseDelayMs 5000 is over')]);
  });

  it('leaves out a connection whose Neuron does not exist (yet) and warns', () => {
    const peers = [
      aNeuron('design-1', { layer: 'L3', forwardConnections: ['impl-1', 'ghost'] }),
      ...topology.slice(2),
    ];
    const out = renderNeuron({ cluster: aHal9Cluster(), neuron: peers[0]!, peers });
    const doc = parse(out.runtimeConfig);
    expect(doc.neurons[0].forward_connections).toEqual(['impl-1']);
    expect(doc.neurons.map((n: { id: string }) => n.id)).toEqual(['design-1', 'impl-1']);
    expect(out.warnings).toEqual([expect.stringContaining('connection ghost: no Neuron named ghost')]);
  });

  it('ignores a connection to the Neuron itself (stored before the CRDs refused one), and says so', () => {
    const peers = [
      aNeuron('design-1', {
        layer: 'L3',
        forwardConnections: ['impl-1', 'design-1'],
        backwardConnections: ['design-1'],
      }),
      ...topology.slice(2),
    ];
    const out = renderNeuron({ cluster: aHal9Cluster(), neuron: peers[0]!, peers });
    const doc = parse(out.runtimeConfig);
    expect(doc.neurons[0].forward_connections).toEqual(['impl-1']);
    expect(doc.neurons[0].backward_connections).toEqual([]);
    expect(doc.neurons.map((n: { id: string }) => n.id)).toEqual(['design-1', 'impl-1']);
    expect(out.warnings).toEqual([
      "connection design-1: a Neuron's connection to itself is ignored; remove its own name from spec.forwardConnections and spec.backwardConnections",
    ]);
  });

  it('does not connect to a Neuron of another Hal9Cluster', () => {
    const peers = [aNeuron('a', { forwardConnections: ['b'] }), aNeuron('b', { cluster: 'other' })];
    const out = renderNeuron({ cluster: aHal9Cluster(), neuron: peers[0]!, peers });
    expect(parse(out.runtimeConfig).neurons).toHaveLength(1);
    expect(out.warnings).toHaveLength(1);
  });

  it('stores the same text in the ConfigMap', () => {
    const out = renderOf('impl-1');
    const cm = out.objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    expect(cm.data['config.yaml']).toBe(out.runtimeConfig);
  });
});
