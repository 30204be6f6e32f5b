import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCdk8sDrift, generateCdk8sFiles } from './gen.ts';

const root = new URL('../../', import.meta.url).pathname;

describe('cdk8s types generated from crds/', () => {
  it('are up to date with the CRDs (npm run gen:cdk8s)', () => {
    expect(checkCdk8sDrift(root)).toEqual([]);
  });

  it('type metadata with cdk8s ApiObjectMetadata and carry the CRD defaults', () => {
    const files = generateCdk8sFiles(root);
    const neuron = files.get('cdk8s/src/generated/neuron.gen.ts')!;
    expect(neuron).toContain("import type { ApiObjectMetadata } from 'cdk8s';");
    expect(neuron).toContain('readonly metadata?: ApiObjectMetadata;');
    expect(neuron).toContain('readonly layer: "L1" | "L2"');
    expect(neuron).toContain('export const neuronSpecDefaults');
  });

  it('keep every structural constraint of the CRD in the schema module', () => {
    const schema = generateCdk8sFiles(root).get('cdk8s/src/generated/neuron.schema.gen.ts')!;
    const crd = readFileSync(`${root}crds/hal9.ai_neurons.yaml`, 'utf8');
    // systemPrompt's bound and the connection name pattern come from the CRD.
    expect(crd).toContain('maxLength: 32768');
    expect(schema).toContain('"maxLength": 32768');
    expect(schema).not.toContain('"description"');
    expect(schema).not.toContain('x-kubernetes-validations');
  });
});
