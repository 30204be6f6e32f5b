import { describe, expect, it } from 'vitest';
import { helpRequested, parseConfig, usage } from './config.ts';
import { ipAllowed } from './tuning/pod-cidrs.ts';

describe('parseConfig: autoscaling flags', () => {
  it('reads the pods every 2 s and allows any pod address by default', () => {
    const parsed = parseConfig([], {});
    if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
    expect(parsed.config.tuningIntervalSeconds).toBe(2);
    expect(parsed.config.podCidrs).toBeUndefined();
  });

  it('takes --pod-cidrs as comma-separated CIDRs', () => {
    const parsed = parseConfig(['--pod-cidrs', '127.0.0.0/8, 10.244.0.0/16'], {});
    if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
    expect(parsed.config.podCidrs?.map((c) => c.text)).toEqual(['127.0.0.0/8', '10.244.0.0/16']);
    expect(ipAllowed('127.4.0.9', parsed.config.podCidrs)).toBe(true);
    expect(ipAllowed('192.168.0.1', parsed.config.podCidrs)).toBe(false);
  });

  it('names the flag and the entry when a CIDR is malformed or the list is empty', () => {
    expect(parseConfig(['--pod-cidrs', '10.0.0.0/8,10.1.2.3'], {})).toEqual({
      errors: ['--pod-cidrs: "10.1.2.3" is not a CIDR like 10.244.0.0/16 or fd00::/8'],
    });
    expect(parseConfig(['--pod-cidrs', ','], {})).toEqual({ errors: ['--pod-cidrs names no CIDR'] });
  });
});

describe('parseConfig: least-privilege flags', () => {
  const ok = (argv: string[]) => {
    const parsed = parseConfig(argv, {});
    if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
    return parsed.config;
  };

  it('allows privileged init containers nowhere, renders NetworkPolicies and admits the monitoring namespace by default', () => {
    const c = ok([]);
    expect(c.allowPrivilegedNamespaces).toEqual([]);
    expect(c.networkPolicies).toBe(true);
    expect(c.neuronClusterOwner).toBe(true);
    expect(c.prometheusNamespaceSelector).toEqual({ 'kubernetes.io/metadata.name': 'monitoring' });
    expect(ok(['--no-neuron-cluster-owner']).neuronClusterOwner).toBe(false);
  });

  it('takes the allow-list, --no-network-policies and a namespace selector', () => {
    const c = ok([
      '--allow-privileged-namespaces',
      'perf, batch',
      '--no-network-policies',
      '--prometheus-namespace-selector',
      'team=obs,tier=metrics',
    ]);
    expect(c.allowPrivilegedNamespaces).toEqual(['perf', 'batch']);
    expect(c.networkPolicies).toBe(false);
    expect(c.prometheusNamespaceSelector).toEqual({ team: 'obs', tier: 'metrics' });
    expect(ok(['--allow-privileged-namespaces', '*']).allowPrivilegedNamespaces).toEqual(['*']);
  });

  it('names the flag and the entry when a value is malformed', () => {
    expect(parseConfig(['--allow-privileged-namespaces', 'Bad_NS'], {})).toEqual({
      errors: ['--allow-privileged-namespaces: "Bad_NS" is not a namespace name (or *)'],
    });
    expect(parseConfig(['--allow-privileged-namespaces', ','], {})).toEqual({
      errors: ['--allow-privileged-namespaces names no namespace'],
    });
    expect(parseConfig(['--prometheus-namespace-selector', 'team'], {})).toEqual({
      errors: [
        '--prometheus-namespace-selector: "team" is not a label equality like kubernetes.io/metadata.name=monitoring',
      ],
    });
  });

  it('takes --prometheus-bearer-token-file only with the --prometheus-url it is sent to', () => {
    expect(parseConfig(['--prometheus-bearer-token-file', '/var/run/token'], {})).toEqual({
      errors: [
        '--prometheus-bearer-token-file needs --prometheus-url: the token is sent to that Prometheus only, never to a URL a Hal9Cluster or Neuron names',
      ],
    });
    const parsed = parseConfig(
      ['--prometheus-url', 'https://thanos.example:9091', '--prometheus-bearer-token-file', '/var/run/token'],
      {},
    );
    expect(parsed).toMatchObject({ config: { prometheusBearerTokenFile: '/var/run/token' } });
  });

  it('takes a --prometheus-url only as the CRDs take a Neuron’s prometheusURL', () => {
    for (const url of [
      'http://prometheus.monitoring.svc:9090',
      'https://10.0.0.1/prom/',
      'http://[::1]:9090',
    ]) {
      const parsed = parseConfig(['--prometheus-url', url], {});
      expect('config' in parsed && parsed.config.prometheusURL, url).toBe(url);
    }
    for (const url of [
      'http:prometheus:9090',
      'http:///prom:9090',
      'http:\\\\prom\\x',
      'http://',
      'http://a b',
      'http://p:9090/?x=1',
      'http://p#f',
      'http://p:70000',
      'ftp://p',
      'http://ü.de',
    ]) {
      const parsed = parseConfig(['--prometheus-url', url], {});
      expect('errors' in parsed && parsed.errors, url).toEqual([
        `--prometheus-url must be the http:// or https:// base URL of the Prometheus API, with a host, a port up to 65535 and no credentials (user:password@: use --prometheus-bearer-token-file), query or fragment, in printable ASCII (for example http://prometheus.monitoring.svc:9090), got ${JSON.stringify(url)}`,
      ]);
    }
  });

  it('takes --prometheus-origins as a list of origins, refusing a path, credentials or another scheme', () => {
    const ok = parseConfig(
      ['--prometheus-origins', 'http://prom.monitoring:9090, https://thanos.example/'],
      {},
    );
    expect('config' in ok && ok.config.prometheusOrigins).toEqual([
      'http://prom.monitoring:9090',
      'https://thanos.example',
    ]);
    const none = parseConfig([], {});
    expect('config' in none && none.config.prometheusOrigins).toBeUndefined();
    for (const o of ['http://prom:9090/api', 'ftp://prom', 'prom:9090', 'http://u:secret@prom']) {
      const bad = parseConfig(['--prometheus-origins', o], {});
      expect('errors' in bad && bad.errors, o).toEqual([
        expect.stringMatching(/^--prometheus-origins: .* is not an http:\/\/ or https:\/\/ origin/),
      ]);
      expect(String('errors' in bad && bad.errors)).not.toContain('secret');
    }
  });

  it('refuses a --prometheus-url holding credentials without printing them', () => {
    // fetch refuses such a URL, and every query's error (in each Neuron's status) would quote it.
    for (const url of ['http://admin:hunter2@prom:9090', 'https://token@prom/api', 'http://@prom']) {
      const parsed = parseConfig(['--prometheus-url', url], {});
      expect('errors' in parsed && parsed.errors, url).toEqual([
        expect.stringContaining('no credentials (user:password@: use --prometheus-bearer-token-file)'),
      ]);
      expect(String('errors' in parsed && parsed.errors)).not.toMatch(/hunter2|token@|admin/);
    }
  });

  it('recognises --help and -h; the usage names every flag', () => {
    expect(helpRequested(['--namespace', 'x', '--help'])).toBe(true);
    expect(helpRequested(['-h'])).toBe(true);
    expect(helpRequested(['--namespace', 'x'])).toBe(false);
    for (const flag of [
      'kubeconfig',
      'namespace',
      'leader-elect',
      'pod-cidrs',
      'allow-privileged-namespaces',
      'no-network-policies',
      'prometheus-namespace-selector',
      'help',
    ]) {
      expect(usage).toContain(`--${flag}`);
    }
  });
});

describe('parseConfig: ports', () => {
  it('refuses one port for both servers, naming both flags', () => {
    expect(parseConfig(['--metrics-port', '9000', '--health-port', '9000'], {})).toEqual({
      errors: ['--metrics-port and --health-port must differ, both are 9000'],
    });
    expect(parseConfig(['--health-port', '8080'], {})).toEqual({
      errors: ['--metrics-port and --health-port must differ, both are 8080'],
    });
    // 0 picks a free port for each.
    expect('config' in parseConfig(['--metrics-port', '0', '--health-port', '0'], {})).toBe(true);
  });
});

describe('parseConfig: numbers', () => {
  it("waits 2 s for a new Neuron's first rollout by default, and takes 0 to 10000 ms", () => {
    const wait = (argv: string[]) => {
      const parsed = parseConfig(argv, {});
      return 'config' in parsed ? parsed.config.firstStatusWaitMs : parsed.errors;
    };
    expect(wait([])).toBe(2000);
    expect(wait(['--first-status-wait-ms', '0'])).toBe(0);
    expect(wait(['--first-status-wait-ms=10000'])).toBe(10_000);
    expect(wait(['--first-status-wait-ms', '10001'])).toEqual([
      '--first-status-wait-ms must be an integer from 0 to 10000, got "10001"',
    ]);
  });

  it('refuses a number that is not written in digits, which Number() would read', () => {
    for (const raw of ['', ' ', '0x10', '0b1', '1e3', '-0', '2.0', '1_000']) {
      expect(parseConfig([`--first-status-wait-ms=${raw}`], {})).toEqual({
        errors: [`--first-status-wait-ms must be an integer from 0 to 10000, got "${raw}"`],
      });
    }
    expect(parseConfig(['--workers=0x10'], {})).toEqual({
      errors: ['--workers must be an integer from 1 to 64, got "0x10"'],
    });
    // Written as before, with a sign or spaces around the digits: still taken.
    for (const raw of ['08', '+8', ' 8', '8 ']) {
      const parsed = parseConfig([`--workers=${raw}`], {});
      expect('config' in parsed && parsed.config.workers, raw).toBe(8);
    }
  });
});
