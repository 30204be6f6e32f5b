import { describe, expect, it } from 'vitest';
import type { PrometheusClient } from './prometheus.ts';
import { createPrometheusReads } from './prometheus-reads.ts';
import type { PrometheusSource } from './prometheus-source.ts';

const source = (url: string): PrometheusSource => ({
  url,
  series: { namespace: 'team-a', neuron: 'impl-1', cluster: 'hal9' },
  window: 20,
});

describe('createPrometheusReads', () => {
  it('keeps one client per URL while passes read it, and drops one no pass asked for since', async () => {
    const created: string[] = [];
    const startPass = createPrometheusReads((url): PrometheusClient => {
      created.push(url);
      return { url, query: async () => [{ labels: {}, value: 1 }] };
    });
    const a = 'http://prometheus-a:9090';
    const b = 'http://prometheus-b:9090';
    let read = startPass();
    await Promise.all([read(source(a)), read(source(b))]);
    read = startPass();
    await read(source(a));
    // b was not read in the pass before this one: its client is gone, and a new one is made.
    read = startPass();
    await Promise.all([read(source(a)), read(source(b))]);
    expect(created).toEqual([a, b, b]);
  });
});
