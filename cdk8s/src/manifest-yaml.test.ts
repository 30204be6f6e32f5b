import { Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manifestYaml, needsQuotes } from './manifest-yaml.ts';

// What go-yaml (kubectl, Argo CD) would read differently is quoted; the apiserver round trip is in
// test/integration/bundle.test.ts.

describe('manifestYaml', () => {
  it.each([
    '0o644',
    '0O17',
    '0X1F',
    '0b101',
    '1e1_0',
    '1_000',
    '-0x1f',
    '+.5',
    'Plan.\u2028Be brief.',
    'a\u2029',
  ])('quotes %j, which go-yaml would read as a number or not read at all', (s) => {
    expect(needsQuotes(s)).toBe(true);
    const text = manifestYaml({ spec: { [s]: s } });
    expect(text).toContain(`${JSON.stringify(s)}: ${JSON.stringify(s)}`);
    expect(parse(text, { version: '1.1' })).toEqual({ spec: { [s]: s } });
  });

  it('writes everything else as cdk8s does', () => {
    const m = {
      apiVersion: 'hal9.ai/v1alpha1',
      kind: 'Neuron',
      metadata: { name: 'impl-1', labels: { 'app.kubernetes.io/name': 'hal9' } },
      spec: { cpu: '512Mi', prompt: 'line one\nline two\n', yes: 'yes', n: '10', list: ['a', '1'], on: true },
    };
    for (const s of ['512Mi', 'impl-1', 'v1.2.3', '0.5.1', 'e5']) expect(needsQuotes(s), s).toBe(false);
    expect(manifestYaml(m)).toBe(Yaml.stringify(m));
  });
});
