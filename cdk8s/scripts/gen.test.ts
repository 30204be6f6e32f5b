import { describe, expect, it } from 'vitest';
import { checkCdk8sDrift, generateCdk8sFiles } from './gen.ts';

const root = new URL('../../', import.meta.url).pathname;

describe('the Argo CD patch generated from argocd/health/', () => {
  it('is up to date with the health scripts (npm run gen:cdk8s)', () => {
    expect(checkCdk8sDrift(root)).toEqual([]);
  });

  it('embeds both health checks', () => {
    const patch = generateCdk8sFiles(root).get('argocd/argocd-cm-patch.yaml')!;
    expect(patch).toContain('resource.customizations.health.hal9.ai_Neuron: |');
    expect(patch).toContain('resource.customizations.health.hal9.ai_Hal9Cluster: |');
  });
});
