import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.ts';

describe('interpolate', () => {
  it('substitutes bare and braced variables, including $__rate_interval', () => {
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax.
      interpolate('rate(x_total{namespace=~"$namespace", n=~"${neuron}"}[$__rate_interval])', {
        namespace: 'ai',
        neuron: '.*',
        __rate_interval: '1m',
      }),
    ).toBe('rate(x_total{namespace=~"ai", n=~".*"}[1m])');
  });

  it('does not confuse a variable with a longer one that shares its prefix', () => {
    expect(interpolate('$hal9_cluster $hal9', { hal9: 'a', hal9_cluster: 'b' })).toBe('b a');
  });

  it('leaves unknown variables in place', () => {
    expect(interpolate('$nope', {})).toBe('$nope');
  });
});
