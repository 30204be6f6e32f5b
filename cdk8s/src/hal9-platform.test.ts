import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { aChart, aNeuron, aPlatform, find, type Obj } from '../test/builders.ts';
import { Hal9Cdk8sError } from './errors.ts';
import { clientSideApplyLimitBytes } from './grafana-dashboards.ts';
import { Hal9Platform, type Hal9PlatformProps } from './hal9-platform.ts';

const synth = (props: Hal9PlatformProps): Obj[] => {
  const chart = aChart();
  new Hal9Platform(chart, 'p', props);
  return Testing.synth(chart);
};

const dashboard = (title: string) => JSON.stringify({ title, panels: [] });
const rules = { groups: [{ name: 'hal9.rules', rules: [{ alert: 'HighLatency', expr: 'vector(1) > 0' }] }] };

describe('Hal9Platform', () => {
  it('produces the Hal9Cluster and one Neuron per definition, each naming the cluster', () => {
    const objs = synth(aPlatform({ cluster: { entryNeuron: 'strategic-1' } }));
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Hal9Cluster/hal9',
      'Neuron/strategic-1',
      'Neuron/design-1',
      'Neuron/impl-1',
    ]);
    const cluster = find(objs, 'Hal9Cluster', 'hal9');
    expect(cluster.spec).toEqual({ entryNeuron: 'strategic-1' });
    const design = find(objs, 'Neuron', 'design-1');
    expect(design.metadata.namespace).toBe('hal9');
    expect(design.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'hal9' });
    expect(design.spec).toEqual({
      cluster: 'hal9',
      layer: 'L3',
      systemPrompt: 'You are design-1.',
      forwardConnections: ['impl-1'],
      backwardConnections: ['strategic-1'],
    });
  });

  it('puts the custom resources in a later sync wave than the namespace, skipping the dry run while the CRD is missing', () => {
    const objs = synth(aPlatform({ createNamespace: true }));
    const ns = find(objs, 'Namespace', 'hal9');
    expect(ns.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '-5' });
    for (const o of objs.filter((x) => x.apiVersion === 'hal9.ai/v1alpha1')) {
      expect(o.metadata.annotations).toEqual({
        'argocd.argoproj.io/sync-wave': '10',
        'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true',
      });
    }
  });

  it('leaves Argo CD annotations out when asked', () => {
    for (const o of synth(aPlatform({ argoCd: false, createNamespace: true }))) {
      expect(o.metadata.annotations ?? {}).toEqual({});
    }
  });

  it('emits one dashboard ConfigMap per dashboard, labelled for the Grafana sidecar', () => {
    const objs = synth(
      aPlatform({ dashboards: [{ name: 'hal9-performance', json: dashboard('Hal9 performance') }] }),
    );
    const cm = find(objs, 'ConfigMap', 'hal9-dashboard-hal9-performance');
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(cm.metadata.namespace).toBe('hal9');
    expect(JSON.parse(cm.data!['hal9-performance.json']!).title).toBe('Hal9 performance');
    expect(cm.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '0' });
  });

  it('has Argo CD apply a dashboard server-side when client-side apply would overflow its annotation', () => {
    // Each `"` is `\"` in the annotation's JSON, so what counts is the escaped size: `"",` is 3 bytes
    // in the dashboard and 5 in the annotation.
    const large = JSON.stringify({
      title: 'large',
      panels: Array(Math.ceil(clientSideApplyLimitBytes / 4)).fill(''),
    });
    expect(large.length).toBeLessThan(clientSideApplyLimitBytes);
    const objs = synth(
      aPlatform({
        dashboards: [
          { name: 'small', json: dashboard('small') },
          { name: 'large', json: large },
        ],
      }),
    );
    expect(find(objs, 'ConfigMap', 'hal9-dashboard-small').metadata.annotations).toEqual({
      'argocd.argoproj.io/sync-wave': '0',
    });
    expect(find(objs, 'ConfigMap', 'hal9-dashboard-large').metadata.annotations).toEqual({
      'argocd.argoproj.io/sync-wave': '0',
      'argocd.argoproj.io/sync-options': 'ServerSideApply=true',
    });
  });

  it("leaves the operator's alerts out when the operator is not scraped, keeping the other groups", () => {
    const withOperator = {
      groups: [
        ...rules.groups,
        { name: 'hal9-operator.alerts', rules: [{ alert: 'Hal9OperatorDown', expr: 'absent(up)' }] },
      ],
    };
    const names = (props: Partial<Hal9PlatformProps>) =>
      (
        find(synth(aPlatform({ prometheusRules: withOperator, ...props })), 'PrometheusRule', 'hal9-rules')
          .spec as {
          groups: { name: string }[];
        }
      ).groups.map((g) => g.name);
    expect(names({})).toEqual(['hal9.rules', 'hal9-operator.alerts']);
    expect(names({ operatorAlerts: false })).toEqual(['hal9.rules']);
  });

  it('emits no PrometheusRule when operatorAlerts: false leaves out the only group, and still refuses one with no groups', () => {
    const operatorOnly = {
      groups: [{ name: 'hal9-operator.alerts', rules: [{ alert: 'Hal9OperatorDown', expr: 'absent(up)' }] }],
    };
    const kinds = (props: Partial<Hal9PlatformProps>) =>
      synth(aPlatform({ prometheusRules: operatorOnly, ...props })).map((o) => o.kind);
    expect(kinds({})).toContain('PrometheusRule');
    expect(kinds({ operatorAlerts: false })).not.toContain('PrometheusRule');
    expect(() => synth(aPlatform({ prometheusRules: { groups: [] }, operatorAlerts: false }))).toThrow(
      'groups must list at least one rule group',
    );
  });

  it('refuses at synth a second platform shipping the dashboards or rules, naming the first; one shipping them is fine', () => {
    const chart = aChart();
    const json = dashboard('Hal9 performance');
    new Hal9Platform(
      chart,
      'a',
      aPlatform({ name: 'a', namespace: 'a', dashboards: [{ name: 'perf', json }] }),
    );
    new Hal9Platform(chart, 'b', aPlatform({ name: 'b', namespace: 'b', prometheusRules: rules }));
    expect(() => Testing.synth(chart)).not.toThrow();
    new Hal9Platform(
      chart,
      'c',
      aPlatform({ name: 'c', namespace: 'c', dashboards: [{ name: 'perf', json }], prometheusRules: rules }),
    );
    const message = (() => {
      try {
        Testing.synth(chart);
      } catch (err) {
        return String(err);
      }
      return '';
    })();
    expect(message).toContain(
      'dashboards: Hal9Platform "a" already ships the Grafana dashboards of uid perf',
    );
    expect(message).toContain('prometheusRules: Hal9Platform "b" already ships the Prometheus rules');
  });

  it('lets two platforms ship different dashboards (their uids differ)', () => {
    const chart = aChart();
    const uid = (u: string) => JSON.stringify({ uid: u, title: u, panels: [] });
    new Hal9Platform(
      chart,
      'a',
      aPlatform({ name: 'a', namespace: 'a', dashboards: [{ name: 'x', json: uid('one') }] }),
    );
    new Hal9Platform(
      chart,
      'b',
      aPlatform({ name: 'b', namespace: 'b', dashboards: [{ name: 'x', json: uid('two') }] }),
    );
    expect(() => Testing.synth(chart)).not.toThrow();
    new Hal9Platform(
      chart,
      'c',
      aPlatform({ name: 'c', namespace: 'c', dashboards: [{ name: 'y', json: uid('two') }] }),
    );
    expect(() => Testing.synth(chart)).toThrow('already ships the Grafana dashboards of uid two');
  });

  it('wraps the rule groups in a PrometheusRule with the extra labels', () => {
    const objs = synth(
      aPlatform({ prometheusRules: rules, prometheusRuleLabels: { release: 'prometheus' } }),
    );
    const rule = find(objs, 'PrometheusRule', 'hal9-rules');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'hal9', release: 'prometheus' });
    expect(rule.spec).toEqual(rules);
    expect(rule.metadata.annotations!['argocd.argoproj.io/sync-options']).toBe(
      'SkipDryRunOnMissingResource=true',
    );
  });

  it('rejects a forward connection to a neuron the platform does not have, at synth', () => {
    const props = aPlatform({
      neurons: [
        aNeuron('strategic-1', { layer: 'L4', forwardConnections: ['design-2'] }),
        aNeuron('design-1'),
      ],
    });
    expect(() => synth(props)).toThrow(
      'neuron "strategic-1": forwardConnections[0] names "design-2", which is not a neuron of platform "hal9" (neurons: strategic-1, design-1); add it or fix the name',
    );
  });

  it('throws its cross-object problems at synth as one Hal9Cdk8sError with their list', () => {
    const props = aPlatform({
      neurons: [aNeuron('strategic-1', { layer: 'L4', forwardConnections: ['design-2', 'design-3'] })],
    });
    let thrown: unknown;
    try {
      synth(props);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Hal9Cdk8sError);
    const e = thrown as Hal9Cdk8sError;
    expect(e.code).toBe('HAL9_ERR_INVALID_PLATFORM');
    expect(e.problems).toHaveLength(2);
    expect(e.problems[1]).toContain('forwardConnections[1] names "design-3"');
  });

  it('rejects a backward connection to a neuron the platform does not have', () => {
    const props = aPlatform({ neurons: [aNeuron('impl-1', { backwardConnections: ['design-1'] })] });
    expect(() => synth(props)).toThrow('backwardConnections[0] names "design-1", which is not a neuron');
  });

  it('accepts a connection to a neuron added later with addNeuron', () => {
    const chart = aChart();
    const p = new Hal9Platform(
      chart,
      'p',
      aPlatform({ neurons: [aNeuron('a', { forwardConnections: ['b'] })] }),
    );
    p.addNeuron(aNeuron('b'));
    expect(Testing.synth(chart).filter((o) => o.kind === 'Neuron')).toHaveLength(2);
    expect([...p.neurons.keys()]).toEqual(['a', 'b']);
  });

  it('accepts an entry neuron added after construction with addNeuron, and the Hal9Cluster carries it', () => {
    const chart = aChart();
    const p = new Hal9Platform(
      chart,
      'p',
      aPlatform({ cluster: { entryNeuron: 'ceo-1' }, neurons: [aNeuron('impl-1')] }),
    );
    p.addNeuron(aNeuron('ceo-1', { layer: 'L5', forwardConnections: ['impl-1'] }));
    const objs = Testing.synth(chart);
    expect(find(objs, 'Hal9Cluster', 'hal9').spec).toEqual({ entryNeuron: 'ceo-1' });
    expect(find(objs, 'Neuron', 'ceo-1').spec).toMatchObject({ cluster: 'hal9', layer: 'L5' });
  });

  it('rejects an entry neuron the platform does not have at synth, naming the field and the fix', () => {
    const chart = aChart();
    // Constructing is fine: the neuron could still be added.
    const p = new Hal9Platform(chart, 'p', aPlatform({ cluster: { entryNeuron: 'ceo-1' } }));
    p.addNeuron(aNeuron('ceo-2'));
    expect(() => Testing.synth(chart)).toThrow(
      'cluster.entryNeuron names "ceo-1", which is not a neuron of platform "hal9" (neurons: strategic-1, design-1, impl-1, ceo-2); add it (in neurons or with addNeuron) or fix cluster.entryNeuron',
    );
  });

  it('builds a platform from neurons added only after construction, and refuses one left empty at synth', () => {
    const chart = aChart();
    const p = new Hal9Platform(chart, 'p', aPlatform({ neurons: [], cluster: { entryNeuron: 'ceo-1' } }));
    p.addNeuron(aNeuron('ceo-1'));
    expect(find(Testing.synth(chart), 'Neuron', 'ceo-1').spec).toMatchObject({ cluster: 'hal9' });

    const empty = aChart();
    new Hal9Platform(empty, 'p', aPlatform({ neurons: [] }));
    expect(() => Testing.synth(empty)).toThrow(
      'the platform has no neurons: list at least one in neurons or add one with addNeuron',
    );
  });

  it.each<[string, Partial<Hal9PlatformProps>, string]>([
    ['a duplicate id', { neurons: [aNeuron('a'), aNeuron('a')] }, 'neuron id "a" is used twice'],
    [
      'createNamespace without a namespace',
      { namespace: undefined, createNamespace: true },
      'createNamespace needs namespace',
    ],
  ])('rejects %s when constructed', (_, overrides, message) => {
    let error: unknown;
    try {
      new Hal9Platform(aChart(), 'p', aPlatform(overrides));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Hal9Cdk8sError);
    expect((error as Hal9Cdk8sError).code).toBe('HAL9_ERR_INVALID_PLATFORM');
    expect((error as Error).message).toContain('Hal9Platform "hal9" is invalid');
    expect((error as Error).message).toContain(message);
  });

  it('accepts a neuron in api mode whose key Secret is on the Hal9Cluster', () => {
    const props = aPlatform({
      cluster: { claude: { apiKeySecretRef: { name: 'anthropic' } } },
      neurons: [aNeuron('strategic-1', { layer: 'L4', claude: { mode: 'api' } })],
    });
    expect(find(synth(props), 'Neuron', 'strategic-1').spec.claude).toEqual({ mode: 'api' });
  });

  it('rejects at synth a neuron in api mode with a key Secret on neither it nor the Hal9Cluster', () => {
    const props = aPlatform({
      neurons: [
        aNeuron('strategic-1', { layer: 'L4', claude: { mode: 'api' } }),
        aNeuron('impl-1', { claude: { mode: 'api', apiKeySecretRef: { name: 'anthropic' } } }),
      ],
    });
    expect(() => synth(props)).toThrow(
      'neuron "strategic-1": claude.mode is api but neither the Neuron nor its Hal9Cluster sets claude.apiKeySecretRef: the runtime would refuse to start without an API key. Set claude.apiKeySecretRef on the neuron or in cluster.claude, or claude.mode: mock',
    );
    // A neuron in mock mode under an api-mode cluster needs no key either.
    const mock = aPlatform({
      cluster: { claude: { mode: 'api', apiKeySecretRef: { name: 'anthropic' } } },
      neurons: [aNeuron('impl-1', { claude: { mode: 'mock' } })],
    });
    expect(() => synth(mock)).not.toThrow();
  });

  it("rejects at synth a neuron's tracing with an endpoint on neither it nor the Hal9Cluster", () => {
    const endpoint = 'http://otel-collector.observability:4318';
    const bare = aPlatform({ neurons: [aNeuron('impl-1', { tracing: { samplingRatio: 0.1 } })] });
    expect(() => synth(bare)).toThrow(
      'neuron "impl-1": tracing has no endpoint and the Hal9Cluster has no tracing section: no spans would be exported. Set tracing.endpoint on the neuron or cluster.tracing',
    );
    for (const props of [
      aPlatform({
        cluster: { tracing: { endpoint } },
        neurons: [aNeuron('impl-1', { tracing: { samplingRatio: 0.1 } })],
      }),
      aPlatform({ neurons: [aNeuron('impl-1', { tracing: { endpoint } })] }),
    ])
      expect(() => synth(props)).not.toThrow();
  });

  it("refuses a neuron's collector CA over the cluster's http endpoint, which the operator would not mount", () => {
    const props = aPlatform({
      cluster: { tracing: { endpoint: 'http://otel-collector.observability:4318' } },
      neurons: [aNeuron('impl-1', { tracing: { caSecretRef: { name: 'otlp-ca' } } })],
    });
    expect(() => synth(props)).toThrow(
      'neuron "impl-1": tracing.endpoint http://otel-collector.observability:4318 is not https://, so tracing.caSecretRef of the neuron or the cluster would not be used',
    );
    const tls = { endpoint: 'https://tempo.observability:4318', caSecretRef: { name: 'otlp-ca' } };
    const inherits = aPlatform({
      cluster: { tracing: tls },
      neurons: [aNeuron('impl-1', { tracing: { samplingRatio: 0.1 } })],
    });
    expect(() => synth(inherits)).not.toThrow();
    // A neuron with its own endpoint takes none of the cluster's collector Secrets: nothing is left unused.
    const own = aPlatform({
      cluster: { tracing: tls },
      neurons: [aNeuron('impl-1', { tracing: { endpoint: 'http://otel-collector.observability:4318' } })],
    });
    expect(() => synth(own)).not.toThrow();
  });

  it("rejects at synth a neuron's privileged tuning that its Hal9Cluster does not allow; turning it off is fine", () => {
    const unsafe = [{ name: 'vm.swappiness', value: '1' }];
    const props = aPlatform({
      neurons: [
        aNeuron('impl-1', { nodeTuning: { privilegedSysctlInitContainer: true, sysctls: unsafe } }),
        aNeuron('design-1', {
          layer: 'L3',
          nodeTuning: { thpInitContainer: true, transparentHugepages: 'madvise' },
        }),
      ],
    });
    const problems = (() => {
      try {
        synth(props);
        return [];
      } catch (err) {
        return (err as Hal9Cdk8sError).problems;
      }
    })();
    expect(problems).toEqual([
      `neuron "impl-1": nodeTuning.privilegedSysctlInitContainer is true but the Hal9Cluster's is not: privileged tuning is the Hal9Cluster's to allow (a Neuron may only turn it off), so the operator would render it off. Set nodeTuning.privilegedSysctlInitContainer: true in cluster.nodeTuning, or remove it from the neuron`,
      `neuron "design-1": nodeTuning.thpInitContainer is true but the Hal9Cluster's is not: privileged tuning is the Hal9Cluster's to allow (a Neuron may only turn it off), so the operator would render it off. Set nodeTuning.thpInitContainer: true in cluster.nodeTuning, or remove it from the neuron`,
    ]);
    const allowed = aPlatform({
      cluster: {
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          neuronSysctls: ['vm.swappiness'],
          thpInitContainer: true,
          transparentHugepages: 'never',
        },
      },
      neurons: [
        aNeuron('impl-1', { nodeTuning: { privilegedSysctlInitContainer: true, sysctls: unsafe } }),
        aNeuron('design-1', {
          layer: 'L3',
          nodeTuning: { thpInitContainer: false, transparentHugepages: 'unset' },
        }),
      ],
    });
    expect(() => synth(allowed)).not.toThrow();
    // Its sysctls past the safe set only where the cluster allows their names (neuronSysctls).
    const names = (neuronSysctls?: string[]) =>
      aPlatform({
        cluster: {
          nodeTuning: { privilegedSysctlInitContainer: true, ...(neuronSysctls ? { neuronSysctls } : {}) },
        },
        neurons: [
          aNeuron('impl-1', {
            nodeTuning: {
              privilegedSysctlInitContainer: true,
              sysctls: [...unsafe, { name: 'kernel.modprobe', value: '/x' }],
            },
          }),
        ],
      });
    expect(() => synth(names())).toThrow(
      'neuron "impl-1": nodeTuning.sysctls vm.swappiness, kernel.modprobe outside the safe set, which the Hal9Cluster does not allow a Neuron',
    );
    expect(() => synth(names(['vm.*']))).toThrow('nodeTuning.sysctls kernel.modprobe outside the safe set');
    expect(() => synth(names(['vm.swappiness', 'kernel.modprobe']))).not.toThrow();
  });

  it('passes a neuron spec error through with the neuron named', () => {
    const props = aPlatform({ neurons: [aNeuron('impl-1', { layer: 'L10' as never })] });
    expect(() => synth(props)).toThrow(/Neuron "impl-1" is invalid:\n {2}- spec.layer is "L10"/);
  });

  it('rejects a dashboard that is not JSON', () => {
    expect(() => synth(aPlatform({ dashboards: [{ name: 'broken', json: '{' }] }))).toThrow(
      /dashboards\[0\] \(broken\) is not JSON/,
    );
  });

  it('rejects a rule without an expression', () => {
    expect(() =>
      synth(aPlatform({ prometheusRules: { groups: [{ name: 'g', rules: [{ alert: 'A' }] }] } })),
    ).toThrow('groups[0].rules[0].expr is required');
  });

  it('rejects rule groups of one name and a `for` that is no duration, as Prometheus would', () => {
    const rule = { alert: 'A', expr: 'vector(1)' };
    expect(() =>
      synth(
        aPlatform({
          prometheusRules: {
            groups: [
              { name: 'g', rules: [rule] },
              { name: 'g', rules: [rule] },
            ],
          },
        }),
      ),
    ).toThrow('groups[1].name "g" is used twice: group names must be unique');
    expect(() =>
      synth(
        aPlatform({ prometheusRules: { groups: [{ name: 'g', rules: [{ ...rule, for: '5 minutes' }] }] } }),
      ),
    ).toThrow('groups[0].rules[0].for "5 minutes" is not a Prometheus duration such as 5m or 1h30m');
    expect(() =>
      synth(aPlatform({ prometheusRules: { groups: [{ name: 'g', rules: [{ ...rule, for: '' }] }] } })),
    ).toThrow('groups[0].rules[0].for "" is not a Prometheus duration');
    expect(() =>
      synth(aPlatform({ prometheusRules: { groups: [{ name: 'g', rules: [{ ...rule, for: '1h30m' }] }] } })),
    ).not.toThrow();
  });

  it('rejects a namespace and labels the apiserver would refuse, naming each', () => {
    let error: unknown;
    try {
      synth(
        aPlatform({
          namespace: 'Bad NS',
          labels: { 'bad key!': 'v', team: 'v v', 'a..b/x': 'v' },
          prometheusRuleLabels: { release: 'x'.repeat(64) },
        }),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Hal9Cdk8sError);
    const message = (error as Error).message;
    expect(message).toContain('namespace "Bad NS" is not a namespace name');
    expect(message).toContain('labels: "bad key!" is not a label key');
    expect(message).toContain('labels.team: "v v" is not a label value');
    expect(message).toContain('labels: "a..b/x" is not a label key');
    expect(message).toContain(`prometheusRuleLabels.release: "${'x'.repeat(64)}" is not a label value`);
    expect(() =>
      synth(aPlatform({ namespace: 'team-a', labels: { 'example.com/team': 'a', tier: '' } })),
    ).not.toThrow();
  });
});
