import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterRules, neuronRules, safeSysctls } from './spec-rules.ts';

const root = new URL('../../', import.meta.url).pathname;

describe('spec rules', () => {
  it.each(['hal9.ai_hal9clusters.yaml', 'hal9.ai_neurons.yaml'])(
    'use the same safe sysctl set as the CEL rule of %s',
    (file) => {
      const crd = readFileSync(`${root}crds/${file}`, 'utf8');
      const list = /s\.name in \[([^\]]*)\]/.exec(crd)?.[1];
      expect(list, 'the CRD lists the safe sysctls in a CEL rule').toBeDefined();
      const fromCrd = list!.split(',').map((s) => s.trim().replaceAll("'", ''));
      expect([...safeSysctls].sort()).toEqual(fromCrd.sort());
    },
  );

  it.each(['hal9.ai_hal9clusters.yaml', 'hal9.ai_neurons.yaml'])('mirror every CEL message of %s', (file) => {
    const crd = readFileSync(`${root}crds/${file}`, 'utf8');
    // The mirror quotes the value it found after the field's name, " (${…})": left out, its text is the CRD's.
    const rules = readFileSync(new URL('./spec-rules.ts', import.meta.url), 'utf8').replace(
      / \(\$\{[^}]*\}\)/g,
      '',
    );
    const messages = [...crd.matchAll(/^\s+message: (.*)$/gm)]
      .map((m) =>
        m[1]!
          .trim()
          .replace(/^["']|["']$/g, '')
          .replace(/\\"/g, '"')
          .replace(/''/g, "'"),
      )
      // The immutability of spec.cluster needs the old object: the apiserver alone can check it.
      .filter((m) => !m.startsWith('spec.cluster is immutable'));
    expect(messages.length).toBeGreaterThan(5);
    for (const m of messages) {
      // Whole messages: what is wrong, then (after ": ") what to do, each word for word; a mirror may
      // build the second from a text it shares between fields.
      const cut = m.indexOf(': ');
      for (const part of cut < 0 ? [m] : [m.slice(0, cut), m.slice(cut + 2)])
        expect(rules, m).toContain(part);
    }
  });

  it.each(['hal9.ai_hal9clusters.yaml', 'hal9.ai_neurons.yaml'])(
    'mirror the quantity rules of %s word for word (no value is interpolated in them)',
    (file) => {
      const crd = readFileSync(`${root}crds/${file}`, 'utf8');
      const rules = readFileSync(new URL('./spec-rules.ts', import.meta.url), 'utf8');
      const messages = [
        ...crd.matchAll(/- rule: ".*isQuantity\(string\(self\)\).*"\n\s+message: '(.*)'$/gm),
      ].map((m) => m[1]!);
      // requests and limits of cpu and memory, and the hugepages quantity.
      expect(messages).toHaveLength(5);
      for (const m of messages) expect(rules, m).toContain(m);
    },
  );

  it('refuse a tracing endpoint whose port is above 65535, as the CRD does (the runtime would not start)', () => {
    const message =
      'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector, with a host, a port up to 65535';
    for (const endpoint of ['http://collector:99999', 'https://collector:65536']) {
      expect(clusterRules('c', { tracing: { endpoint } }).join('\n'), endpoint).toContain(message);
      expect(neuronRules('n', { cluster: 'c', layer: 'L2', tracing: { endpoint } }).join('\n')).toContain(
        message,
      );
    }
    expect(clusterRules('c', { tracing: { endpoint: 'http://collector:65535' } })).toEqual([]);
  });

  // Where the WHATWG URL parser the rules used disagreed with Go's, the apiserver's (see go-url.ts).
  const urlFields = {
    baseURL: ['claude.baseURL must be', (u: string) => ({ claude: { baseURL: u } })],
    endpoint: ['tracing.endpoint must be', (u: string) => ({ tracing: { endpoint: u } })],
    prometheusURL: [
      'autoscaling.parallelism.prometheusURL must be',
      (u: string) => ({ autoscaling: { parallelism: { prometheusURL: u } } }),
    ],
  } as const;
  const urlCases: readonly (readonly [string, boolean])[] = [
    ['http://host/p%zz', false],
    ['http://host/%', false],
    ['http://host/a%2', false],
    ['http://a{b}', false],
    ['http://ho`st', false],
    ['http://1.2.3.4.5', true],
    ['http://256.1.1.1', true],
    ['http://[fe80::1%25en0]', true],
    ['http://a<b', true],
    ['http://host:65535', true],
    ['http://host:65536', false],
    ['http://host:99999', false],
    ['http://host:0000080', false],
    ['http://host:00080', true],
    ['http://[::1]:8080', true],
    ['http://a:b:80', false],
    ['http://:80', false],
  ];
  describe.each(Object.entries(urlFields))('%s', (_, [message, spec]) => {
    it.each(urlCases)('reads %s as the apiserver does (accepted: %s)', (url, ok) => {
      const problems = clusterRules('c', spec(url)).filter((p) => p.includes(message));
      expect(problems).toHaveLength(ok ? 0 : 1);
    });
  });

  it.each([
    ['30s', true],
    ['000030s', true],
    ['0000030s', false],
    ['0000000001s', false],
    ['1s0000000ms', false],
    ['29s999999ms', false],
  ] as const)(
    'refuses a tracing.timeout %s with a run of 7 digits or more, as the CRD does',
    (timeout, ok) => {
      const problems = neuronRules('n', { cluster: 'c', layer: 'L2', tracing: { timeout } });
      expect(problems.join('\n')).toEqual(
        ok ? '' : expect.stringContaining('tracing.timeout must be at most 30s'),
      );
    },
  );
});
