import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { renderNeuron } from '../render/index.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { liveDiffers, withAppliedHash } from './applied-hash.ts';
import { type CachedConfigMap, configMapForCache, dataDigest } from './config-map-cache.ts';

// A Neuron's ConfigMap as rendered, with a system prompt large enough to matter.
const prompt = 'You answer in French. '.repeat(40_000);
const rendered = withAppliedHash(
  renderNeuron({
    cluster: aHal9Cluster(),
    neuron: aNeuron('a', { systemPrompt: prompt }),
    peers: [],
  }).objects.find((o) => o.kind === 'ConfigMap') as V1ConfigMap,
);

/** The ConfigMap as the apiserver serves it (listed items carry no apiVersion or kind). */
function served(data = rendered.data): V1ConfigMap {
  const { apiVersion: _v, kind: _k, ...rest } = structuredClone(rendered);
  return {
    ...rest,
    metadata: {
      ...rest.metadata,
      uid: 'u-1',
      resourceVersion: '12',
      managedFields: [{ manager: 'hal9-operator', operation: 'Apply', fieldsV1: { 'f:data': {} } }],
    },
    data,
  };
}

const cached = (cm: V1ConfigMap) => configMapForCache()(cm as KubernetesObject) as CachedConfigMap;

describe('configMapForCache', () => {
  it('keeps a digest of each value in place of the data, and what else the cache keeps', () => {
    const live = cached({ ...served(), binaryData: { blob: 'AAAA' } });
    expect(JSON.stringify(rendered).length).toBeGreaterThan(800_000);
    expect(JSON.stringify(live).length).toBeLessThan(2_000);
    expect(live).not.toHaveProperty('data');
    expect(live).not.toHaveProperty('binaryData');
    const [key, value] = Object.entries(rendered.data ?? {})[0]!;
    expect(live.dataDigests).toEqual({ [key]: dataDigest(value) });
    expect(live.metadata?.managedFields).toBeUndefined();
    expect(live.metadata?.annotations).toEqual(rendered.metadata?.annotations);
  });

  it('leaves a ConfigMap without data without digests', () => {
    const { data: _data, ...empty } = served();
    expect(cached(empty)).not.toHaveProperty('dataDigests');
  });
});

describe('liveDiffers of a rendered ConfigMap and the cached one', () => {
  const [key, value] = Object.entries(rendered.data ?? {})[0]!;

  it('needs no apply when the data are the same, whatever keys others added', () => {
    expect(liveDiffers(rendered, cached(served()))).toBeUndefined();
    expect(liveDiffers(rendered, cached(served({ [key]: value, 'theirs.txt': 'x' })))).toBeUndefined();
  });

  it('applies when a value was edited or removed', () => {
    expect(liveDiffers(rendered, cached(served({ [key]: `${value} ` })))).toBe(`.dataDigests.${key}`);
    expect(liveDiffers(rendered, cached(served({})))).toBe(`.dataDigests.${key}`);
  });

  it('compares the same way with a ConfigMap read from the apiserver, its data whole', () => {
    expect(liveDiffers(rendered, served())).toBeUndefined();
    expect(liveDiffers(rendered, served({ [key]: 'edited' }))).toBe(`.dataDigests.${key}`);
  });
});
