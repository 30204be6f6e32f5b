import type { Hal9ClusterSpec } from '@hal9/api';
import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { aHal9Cluster, aNeuron, defaultTopology } from '../testing/builders.ts';
import { RUNTIME_V8_FLAGS } from './deployment.ts';
import { renderNeuron } from './render-neuron.ts';

function nodeOptionsOf(cluster: Hal9ClusterSpec): string | undefined {
  const { objects } = renderNeuron({
    cluster: aHal9Cluster(cluster),
    neuron: aNeuron('impl-1', {}),
    peers: defaultTopology(),
  });
  const deployment = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
  const runtime = deployment.spec!.template.spec!.containers[0]!;
  return runtime.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
}

describe('renderDeployment: NODE_OPTIONS', () => {
  it("leaves the heap to V8 without a memory limit: a request is not a bound, and the runtime's semi-space stays", () => {
    expect(nodeOptionsOf({ resources: { requests: { memory: '256Mi' } } })).toBe(RUNTIME_V8_FLAGS.join(' '));
    expect(nodeOptionsOf({ resources: { requests: { cpu: '1', memory: '64Mi' } } })).not.toMatch(
      /--max-old-space-size/,
    );
  });

  it('bounds both generations by the memory limit when there is one', () => {
    expect(nodeOptionsOf({ resources: { requests: { memory: '256Mi' }, limits: { memory: '256Mi' } } })).toBe(
      '--max-semi-space-size=4 --max-old-space-size=192',
    );
  });

  // The CRDs bound memory to 1Pi; an object stored before holds what it held. 1e30 bytes made
  // --max-old-space-size=7.152557373046876e+23 ("1e1000": =Infinity), and node exits on both ("bad
  // option"): every pod crash-looped.
  it.each([
    ['1e30', '--max-semi-space-size=16 --max-old-space-size=805306368'],
    ['1e1000', '--max-semi-space-size=16 --max-old-space-size=805306368'],
    ['2Ei', '--max-semi-space-size=16 --max-old-space-size=805306368'],
    ['1Pi', '--max-semi-space-size=16 --max-old-space-size=805306368'],
    ['0e1000', '--max-semi-space-size=1 --max-old-space-size=0'],
  ])(
    'sizes the heap of a memory limit of %s stored before the bound as for 1Pi at most: %s',
    (memory, flags) => {
      expect(nodeOptionsOf({ resources: { requests: { memory: '256Mi' }, limits: { memory } } })).toBe(flags);
      for (const flag of flags.split(' ')) expect(flag).toMatch(/^--max-(semi|old)-space-size=[0-9]+$/);
    },
  );
});
