import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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
    // A rule that only matches a pattern is checked by the structural schema, which keeps its message.
    const schema = readFileSync(
      `${root}api/src/generated/${file.includes('neurons') ? 'neuron' : 'hal9cluster'}.schema.gen.ts`,
      'utf8',
    );
    const patternMessages = [
      ...crd.matchAll(/^\s+- rule: "self\.matches\('[^'\\]*'\)"\n\s+message: (.*)$/gm),
    ];
    expect(patternMessages.length).toBeGreaterThan(5);
    for (const [, m] of patternMessages)
      expect(schema).toContain(`"patternMessage": ${JSON.stringify(parse(m!) as string)}`);
    const messages = [
      ...crd
        .replace(/^\s+- rule: "self\.matches\('[^'\\]*'\)"\n\s+message: .*$/gm, '')
        .matchAll(/^\s+message: (.*)$/gm),
    ]
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
      // requests and limits of cpu and memory, their upper bounds, and the hugepages quantity.
      expect(messages).toHaveLength(9);
      for (const m of messages) expect(rules, m).toContain(m);
    },
  );

  it('refuse a tracing endpoint whose port is above 65535, as the CRD does (the runtime would not start)', () => {
    const message =
      'tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector, with a host, a port from 1 to 65535';
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
    ['0000030s', true],
    ['0000000001s', true],
    ['1s0000000ms', true],
    ['0000031s', false],
    ['1000000ms', false],
    ['29s999999ms', false],
  ] as const)(
    'reads a tracing.timeout %s as the CRD does (accepted: %s): leading zeros aside, a number of 7 digits or more is refused',
    (timeout, ok) => {
      const problems = neuronRules('n', { cluster: 'c', layer: 'L2', tracing: { timeout } });
      expect(problems.join('\n')).toEqual(
        ok ? '' : expect.stringContaining('tracing.timeout must be at most 30s'),
      );
    },
  );

  // The CRDs' second rule on each URL field: hosts Go's parser takes and WHATWG's (the runtime's and the
  // operator's) refuses.
  const hostFields = {
    baseURL: [
      'claude.baseURL has a host the runtime cannot read',
      (u: string) => ({ claude: { baseURL: u } }),
    ],
    endpoint: [
      'tracing.endpoint has a host the runtime cannot read',
      (u: string) => ({ tracing: { endpoint: u } }),
    ],
    prometheusURL: [
      'autoscaling.parallelism.prometheusURL has a host the runtime cannot read',
      (u: string) => ({ autoscaling: { parallelism: { prometheusURL: u } } }),
    ],
  } as const;
  const hostCases: readonly (readonly [string, boolean])[] = [
    ['http://256.1.1.1:8080', false],
    ['http://1.2.3.4.5:4318', false],
    ['http://[fe80::1%25eth0]:9090', false],
    ['http://127.1', false],
    ['http://010.0.0.1', false],
    ['http://a.0x', false],
    ['http://a.b.1/v1', false],
    ['http://1.2.3.4.', false],
    ['http://a<b', false],
    ['http://a>b', false],
    ['http://a]b', false],
    ['http://%C3%A4.example', false],
    ['http://10.0.0.1:8080', true],
    ['http://255.255.255.255', true],
    ['http://[fd00::1]:9090', true],
    ['http://[::ffff:1.2.3.4]', true],
    ['http://1.2.3.4..', true],
    ['http://a.0xg', true],
    ['http://x.1e3', true],
    ['http://prometheus.monitoring.svc:9090/prom', true],
    // Not URLs, or a fragment: the first rule's.
    ['256.1.1.1', true],
    ['http://256.1.1.1#x', true],
    ['', true],
  ];
  describe.each(Object.entries(hostFields))('%s', (_, [message, spec]) => {
    it.each(hostCases)('reads the host of %s as the CRD does (accepted: %s)', (url, ok) => {
      const problems = clusterRules('c', spec(url)).filter((p) => p.includes(message));
      expect(problems).toHaveLength(ok ? 0 : 1);
    });
  });

  it('refuses port 0 in every URL field, and credentials in tracing.endpoint as in the others', () => {
    for (const [message, spec] of Object.values(urlFields)) {
      expect(clusterRules('c', spec('http://host:0')).join('\n')).toContain(message);
      expect(clusterRules('c', spec('http://host:00000/x')).join('\n')).toContain(message);
      expect(clusterRules('c', spec('http://u:p@host:1')).join('\n')).toContain(message);
      expect(clusterRules('c', spec('http://host:1'))).toEqual([]);
    }
  });

  it('bound each layer of claude.mockResponses to 96000 characters of triggers and responses, in code points', () => {
    // Entries within their own bounds (16384 characters a response), `chars` in all.
    const layer = (chars: number, unit = 'a') => {
      const entries = [];
      for (let left = chars; left > 0; left -= 16_001) {
        entries.push({ trigger: 't', response: unit.repeat(Math.min(16_000, left - 1)) });
      }
      return entries;
    };
    const message =
      'claude.mockResponses holds more than 96000 characters of triggers and responses in one layer';
    expect(
      clusterRules('c', { claude: { mockResponses: { L2: layer(96_000), L3: layer(96_000, '😀') } } }),
    ).toEqual([]);
    expect(clusterRules('c', { claude: { mockResponses: { L3: layer(96_001) } } }).join('\n')).toContain(
      `spec.claude.mockResponses.L3 (96001 characters): ${message}`,
    );
    expect(
      neuronRules('n', {
        cluster: 'c',
        layer: 'L2',
        claude: { mockResponses: { L2: layer(96_001, '😀') } },
      }).join('\n'),
    ).toContain(message);
  });

  it("refuse a Neuron's mock answers for another layer than its own, naming its layer", () => {
    const answers = [{ trigger: 'default', response: 'RESULT: ok' }];
    expect(
      neuronRules('n', { cluster: 'c', layer: 'L2', claude: { mockResponses: { L2: answers } } }),
    ).toEqual([]);
    expect(
      neuronRules('n', {
        cluster: 'c',
        layer: 'L2',
        claude: { mockResponses: { L1: answers, L2: answers } },
      }),
    ).toEqual([
      'spec.claude.mockResponses (L1): claude.mockResponses may hold only the answers of spec.layer, L2: remove the other layers (the runtime never uses them), or set them on the Hal9Cluster or on a Neuron of their layer',
    ]);
    // A Hal9Cluster holds every layer's.
    expect(clusterRules('c', { claude: { mockResponses: { L1: answers, L2: answers } } })).toEqual([]);
  });

  it.each([
    ['limits', 'memory', '1e30', 'resources.limits.memory must be at most 1Pi'],
    ['requests', 'memory', '1e1000', 'resources.requests.memory must be at most 1Pi'],
    ['limits', 'memory', '1125899906842625', 'resources.limits.memory must be at most 1Pi'],
    ['limits', 'cpu', '1e1000', 'resources.limits.cpu must be at most 8192 cores'],
    ['requests', 'cpu', '8193', 'resources.requests.cpu must be at most 8192 cores'],
    ['requests', 'cpu', '8192001m', 'resources.requests.cpu must be at most 8192 cores'],
  ] as const)('refuse resources.%s.%s %s above any node, as the CRDs do', (side, res, q, message) => {
    expect(clusterRules('c', { resources: { [side]: { [res]: q } } }).join('\n')).toContain(message);
    expect(
      neuronRules('n', { cluster: 'c', layer: 'L2', resources: { [side]: { [res]: q } } }).join('\n'),
    ).toContain(message);
  });

  it('take the largest CPU and memory the CRDs admit', () => {
    const resources = { requests: { cpu: '8192', memory: '1Pi' }, limits: { cpu: 8192, memory: '1024Ti' } };
    expect(clusterRules('c', { resources })).toEqual([]);
  });

  it.each([
    [{ requests: { cpu: '0' } }, false],
    [{ requests: { cpu: '0m' }, limits: { cpu: '2' } }, false],
    [{ limits: { cpu: 0 } }, false],
    [{ requests: { cpu: '1m' } }, true],
    [{ requests: { cpu: '1e-1000' } }, true],
    [{ requests: { cpu: '-1' } }, true],
  ] as const)('read a CPU request %j of 0 as none in hpa mode (accepted: %s)', (resources, ok) => {
    const problems = clusterRules('c', { resources, autoscaling: { enabled: true, mode: 'hpa' } }).filter(
      (p) => p.includes('and the CPU request is 0'),
    );
    expect(problems).toHaveLength(ok ? 0 : 1);
  });

  it.each([
    [0, false],
    ['0.0', false],
    ['0m', false],
    [1, true],
    ['1000m', true],
  ] as const)('take cpuPinning on %j CPUs only from 1 (accepted: %s)', (cpu, ok) => {
    const resources = { requests: { cpu, memory: '2Gi' }, limits: { cpu, memory: '2Gi' } };
    const problems = clusterRules('c', { resources, nodeTuning: { cpuPinning: true } });
    expect(problems.join('\n')).toEqual(
      ok ? '' : expect.stringContaining('nodeTuning.cpuPinning needs an integer CPU limit of at least 1'),
    );
  });
});
