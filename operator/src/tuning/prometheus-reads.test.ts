import { describe, expect, it } from 'vitest';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import type { PrometheusClient } from './prometheus.ts';
import { createPrometheusReads } from './prometheus-reads.ts';
import type { PrometheusSource } from './prometheus-source.ts';

const source = (url: string): PrometheusSource => ({
  url,
  series: { namespace: 'team-a', neuron: 'impl-1', cluster: 'hal9' },
  window: 20,
  bounds: { maxLimit: 64, maxQueue: 1000 },
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

  it.each([
    ['gives no answer', undefined, true],
    ['answers 503', 503, true],
    ['answers 429', 429, true],
    ['answers 400 (a bad query of one path)', 400, false],
  ])('counts a server that %s as down for the rest of the pass, by origin', async (_what, status, down) => {
    const asked: string[] = [];
    const startPass = createPrometheusReads(
      (url): PrometheusClient => ({
        url,
        query: async () => {
          asked.push(url);
          throw new OperatorError(OperatorErrorCode.MetricsUnavailable, `Prometheus ${url}: failed`, {
            ...(status !== undefined ? { status } : {}),
          });
        },
      }),
    );
    const read = startPass();
    const first = await read(source('http://tenant-prometheus:9090/a'));
    const second = await read(source('http://tenant-prometheus:9090/b'));
    const errorOf = (r: Awaited<typeof first>) => (r && 'error' in r ? r.error : undefined);
    expect(errorOf(first)).toContain('failed');
    // The other path on the same server is told the same without a request, or asks its own.
    expect(errorOf(second)).toContain('failed');
    // (A read is several queries of one URL.)
    expect([...new Set(asked)]).toEqual(
      down
        ? ['http://tenant-prometheus:9090/a']
        : ['http://tenant-prometheus:9090/a', 'http://tenant-prometheus:9090/b'],
    );
    // A new pass asks again.
    await startPass()(source('http://tenant-prometheus:9090/b'));
    expect(asked.at(-1)).toBe('http://tenant-prometheus:9090/b');
  });
});
