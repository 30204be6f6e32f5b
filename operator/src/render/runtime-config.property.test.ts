import { readFileSync } from 'node:fs';
import type { Hal9Cluster, Neuron } from '@hal9/api';
import { parseConfigText } from '@hal9/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderNeuron } from './render-neuron.ts';
import { RenderRefusedError } from './render-refused.ts';

// Every Neuron and Hal9Cluster the CRD schemas admit must render a configuration that the runtime's
// own parser accepts: a bound the runtime enforces and the CRD does not is found here, not by a pod
// that crash-loops. The objects are generated from the CRD YAML itself (crds/), so a new field is
// covered as soon as it is in the schema.

interface Schema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: Schema;
  readonly items?: Schema;
  readonly required?: readonly string[];
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-validations'?: readonly { readonly rule: string }[];
}

const specSchema = (file: string): Schema =>
  (
    parse(readFileSync(new URL(`../../../crds/${file}`, import.meta.url), 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: Schema } } } }[] };
    }
  ).spec.versions[0]!.schema.openAPIV3Schema.properties.spec;

const layers = ['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8', 'L9'];
const modelId = fc.stringMatching(/^[A-Za-z0-9][-A-Za-z0-9._:@]{0,20}$/);
const quantity = fc.constantFrom('100m', '1', '2', '500Mi', '1Gi', '4000m', '2Gi', '0.5');
// Strings whose pattern the generator cannot invert: samples that match the CRD's pattern.
const byPattern: Readonly<Record<string, fc.Arbitrary<string>>> = {
  '^[A-Za-z0-9][-A-Za-z0-9._:@]*$': modelId,
  '^[a-z]([-a-z0-9]*[a-z0-9])?$': fc.constantFrom('a', 'impl-1', 'design-2'),
  '^[0-9]+(ms|s|m|h)$': fc.constantFrom('15s', '1m', '500ms'),
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$': fc.constantFrom(
    's',
    'anthropic-key',
    'a.b',
  ),
  '^[.]?[-_a-zA-Z0-9][-._a-zA-Z0-9]*$': fc.constantFrom('api-key', 'token', 'k.1', '.dockercfg'),
};
// Fields whose CEL rules say more than a pattern (a URL with a host and port): samples they admit.
const byField: Readonly<Record<string, fc.Arbitrary<string>>> = {
  baseURL: fc.constantFrom('', 'http://127.0.0.1:9999', 'https://api.example.test/v1'),
  prometheusURL: fc.constantFrom('', 'http://127.0.0.1:9090', 'https://prometheus.example.test'),
};
/** A pattern written as a CEL rule (`self.matches('…')`, so the apiserver answers with its message). */
const patternOf = (schema: Schema): string | undefined =>
  schema.pattern ??
  schema['x-kubernetes-validations']
    ?.map((r) => /^self\.matches\('([^'\\]*)'\)$/.exec(r.rule)?.[1])
    .find((p) => p);
// Map keys the CEL rules constrain.
const keysOf: Readonly<Record<string, fc.Arbitrary<string>>> = {
  mockResponses: fc.constantFrom(...layers),
  prices: modelId,
};

/** An arbitrary value admitted by `schema` (CEL rules aside, which the sections below do not need). */
function arbitrary(schema: Schema, name: string): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  // The CRDs' int-or-string fields are quantities: `cpu: 2` or `cpu: "1500m"`.
  if (schema['x-kubernetes-int-or-string']) return fc.oneof(fc.integer({ min: 0, max: 10 }), quantity);
  switch (schema.type) {
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? 0, max: schema.maximum ?? 1_000_000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'string': {
      const field = byField[name.split('.').pop() ?? ''];
      if (field) return field;
      const pattern = patternOf(schema);
      if (pattern !== undefined) {
        const arb = byPattern[pattern];
        if (arb) return arb;
        throw new Error(`no generator for the pattern of ${name}: ${pattern}`);
      }
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 64, 64) });
    }
    case 'array':
      return fc.array(arbitrary(schema.items ?? {}, `${name}[]`), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case 'object': {
      if (schema.properties) {
        const required = new Set(schema.required ?? []);
        const record: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries(schema.properties)) record[k] = arbitrary(v, `${name}.${k}`);
        return fc.record(record, {
          requiredKeys: Object.keys(record).filter((k) => required.has(k)),
        });
      }
      const value = schema.additionalProperties;
      if (!value) return fc.constant({});
      return fc.dictionary(
        keysOf[name.split('.').pop() ?? ''] ?? fc.string({ maxLength: 8 }),
        arbitrary(value, `${name}{}`),
        {
          maxKeys: Math.min(schema.maxProperties ?? 3, 3),
        },
      );
    }
    default:
      return fc.constant(undefined);
  }
}

// The sections that reach the runtime's configuration (the others render Kubernetes objects).
const configSections = ['performance', 'claude', 'autoscaling'] as const;
const sections = (schema: Schema) =>
  fc.record(Object.fromEntries(configSections.map((s) => [s, arbitrary(schema.properties![s]!, s)])), {
    requiredKeys: [],
  });
const neuronSchema = specSchema('hal9.ai_neurons.yaml');
const neuronOnly = fc.record(
  {
    layer: arbitrary(neuronSchema.properties!.layer!, 'layer'),
    systemPrompt: arbitrary(neuronSchema.properties!.systemPrompt!, 'systemPrompt'),
    cache: arbitrary(neuronSchema.properties!.cache!, 'cache'),
  },
  { requiredKeys: ['layer'] },
);

describe('every configuration the CRDs admit', () => {
  it("renders a runtime configuration that the runtime's parser accepts", { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(
        sections(specSchema('hal9.ai_hal9clusters.yaml')),
        sections(neuronSchema),
        neuronOnly,
        (c, n, own) => {
          const cluster = {
            apiVersion: 'hal9.ai/v1alpha1',
            kind: 'Hal9Cluster',
            metadata: { name: 'hal9', namespace: 'ns' },
            spec: c,
          } as unknown as Hal9Cluster;
          const neuron = {
            apiVersion: 'hal9.ai/v1alpha1',
            kind: 'Neuron',
            metadata: { name: 'n', namespace: 'ns', uid: 'u' },
            spec: { cluster: 'hal9', ...n, ...own },
          } as unknown as Neuron;
          let runtimeConfig: string;
          try {
            runtimeConfig = renderNeuron({ cluster, neuron, peers: [] }).runtimeConfig;
          } catch (e) {
            // What the schemas cannot see (the merged mode without a key anywhere, the sum of the
            // sizes) is refused by the render, naming what to fix, and never reaches a pod.
            expect(e).toBeInstanceOf(RenderRefusedError);
            expect((e as Error).message).toMatch(/sets claude\.apiKeySecretRef|a ConfigMap holds: shorten/);
            return;
          }
          expect(() => parseConfigText(runtimeConfig)).not.toThrow();
        },
      ),
      { numRuns: 400 },
    );
  });

  it('would have caught a cache TTL of 0 (the runtime needs at least 0.001)', () => {
    const cache = specSchema('hal9.ai_neurons.yaml').properties!.cache!.properties!;
    expect(cache.ttlSeconds!.minimum).toBe(1);
    expect(cache.maxEntries!.minimum).toBe(1);
    const cluster = { metadata: { name: 'hal9' }, spec: {} } as unknown as Hal9Cluster;
    const neuron = {
      metadata: { name: 'n', namespace: 'ns' },
      spec: { cluster: 'hal9', layer: 'L2', cache: { ttlSeconds: 0 } },
    } as unknown as Neuron;
    expect(() => parseConfigText(renderNeuron({ cluster, neuron, peers: [] }).runtimeConfig)).toThrow(
      /cache_ttl_seconds/,
    );
  });
});
