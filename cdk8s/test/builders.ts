// Builders for test fixtures: a small valid platform, varied per test.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Chart } from 'cdk8s';
import type { Hal9PlatformProps, NeuronDefinition } from '../src/hal9-platform.ts';

// Charts are synthesized in memory (Testing.synth); an App whose outdir is never written leaves nothing
// behind (Testing.app() makes a temporary directory per chart).
export const aChart = (): Chart =>
  new Chart(new App({ outdir: join(tmpdir(), 'hal9-cdk8s-unwritten') }), 'test');

export function aNeuron(id: string, overrides: Partial<NeuronDefinition> = {}): NeuronDefinition {
  return { id, layer: 'L2', systemPrompt: `You are ${id}.`, ...overrides };
}

/** strategic-1 (L4) → design-1 (L3) → impl-1 (L2), with backward links. */
export function aPlatform(overrides: Partial<Hal9PlatformProps> = {}): Hal9PlatformProps {
  return {
    name: 'hal9',
    namespace: 'hal9',
    neurons: [
      aNeuron('strategic-1', { layer: 'L4', forwardConnections: ['design-1'] }),
      aNeuron('design-1', {
        layer: 'L3',
        forwardConnections: ['impl-1'],
        backwardConnections: ['strategic-1'],
      }),
      aNeuron('impl-1', { layer: 'L2', backwardConnections: ['design-1'] }),
    ],
    ...overrides,
  };
}

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: any;
  data?: Record<string, string>;
}

export const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o)
    throw new Error(
      `${kind}/${name} not synthesized; got ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(' ')}`,
    );
  return o;
};
