import type { Hal9ClusterSpec, NeuronSpec, Quantity } from '@hal9/api';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parallelismBounds, replicaBounds } from '../../operator/src/render/autoscaling.ts';
import { effectiveSpec } from '../../operator/src/spec/effective-spec.ts';
import { aChart, aNeuron, aPlatform } from '../test/builders.ts';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { Hal9Platform } from './hal9-platform.ts';
import { mergeProblems } from './merge-rules.ts';

type OwnSpec = Omit<NeuronSpec, 'cluster' | 'layer'>;
const merge = (cluster: Hal9ClusterSpec, neuron: OwnSpec) =>
  mergeProblems('impl-1', cluster, { ...neuron, cluster: 'hal9', layer: 'L2' });

/** What the operator reports for the pair, as renderNeuron gathers it (operator/src/render/render-neuron.ts). */
function operatorWarnings(cluster: Hal9ClusterSpec, neuron: OwnSpec): string[] {
  const own = { ...neuron, cluster: 'hal9', layer: 'L2' } as const;
  const spec = effectiveSpec(
    { metadata: { name: 'hal9' }, spec: cluster },
    { metadata: { name: 'n' }, spec: own },
  );
  return [
    ...spec.repairs,
    ...(spec.autoscaling.enabled ? replicaBounds(spec).warnings : []),
    ...(spec.autoscaling.parallelism.enabled
      ? parallelismBounds(spec, own.autoscaling?.parallelism).warnings
      : []),
  ];
}

/** Which repair a message is about, in the operator's words or the platform's. */
function repairOf(message: string): string {
  const resource = /resources\.requests\.(cpu|memory)/.exec(message);
  if (resource) return `resources.${resource[1]}`;
  for (const [pattern, repair] of [
    [/minReplicas/, 'replicas'],
    [/parallelism\.min/, 'parallelism'],
    [/panicWindowSeconds/, 'windows'],
    [/fallbackModels/, 'fallbacks'],
  ] as const) {
    if (pattern.test(message)) return repair;
  }
  return `unknown: ${message}`;
}

/** Every combination of the values listed per key (undefined: the key left out). */
function combinations<T extends Record<string, readonly unknown[]>>(
  values: T,
): { [K in keyof T]: T[K][number] }[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, options] of Object.entries(values)) {
    out = out.flatMap((c) => options.map((v) => (v === undefined ? c : { ...c, [key]: v })));
  }
  return out as { [K in keyof T]: T[K][number] }[];
}

const some = <T extends object>(o: T): T | undefined => (Object.keys(o).length > 0 ? o : undefined);

describe('mergeProblems', () => {
  it.each<[string, Hal9ClusterSpec, OwnSpec, string]>([
    [
      "a neuron's minReplicas above the cluster's maxReplicas",
      { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 10 } },
      { autoscaling: { minReplicas: 12 } },
      'neuron "impl-1": the neuron\'s autoscaling.minReplicas 12 is above cluster.autoscaling.maxReplicas 10 after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would scale up to 12 pods (it takes minReplicas as maxReplicas), and only warn. Lower the neuron\'s autoscaling.minReplicas to 10 or less, or set autoscaling.maxReplicas on the neuron',
    ],
    [
      "a neuron's maxReplicas below the cluster's minReplicas, the max being the CRD's default",
      { autoscaling: { enabled: true, minReplicas: 4 } },
      { autoscaling: { maxReplicas: 3 } },
      'neuron "impl-1": cluster.autoscaling.minReplicas 4 is above the neuron\'s autoscaling.maxReplicas 3 after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would scale up to 4 pods (it takes minReplicas as maxReplicas), and only warn. Raise the neuron\'s autoscaling.maxReplicas to 4 or more, or set autoscaling.minReplicas on the neuron',
    ],
    [
      "a neuron's parallelism.min above the merged parallelism.max",
      { autoscaling: { parallelism: { enabled: true, min: 2, max: 10 } } },
      { autoscaling: { parallelism: { min: 16 } } },
      'neuron "impl-1": the neuron\'s autoscaling.parallelism.min 16 is above cluster.autoscaling.parallelism.max 10 after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would tune parallelism up to 16 (it takes parallelism.min as parallelism.max), and only warn. Lower the neuron\'s autoscaling.parallelism.min to 10 or less, or set autoscaling.parallelism.max on the neuron',
    ],
    [
      "a neuron's panic window above the cluster's stable window, in operator mode",
      { autoscaling: { enabled: true, mode: 'operator', stableWindowSeconds: 20, panicWindowSeconds: 6 } },
      { autoscaling: { panicWindowSeconds: 30 } },
      'neuron "impl-1": the neuron\'s autoscaling.panicWindowSeconds 30 is above cluster.autoscaling.stableWindowSeconds 20 after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would use a panic window of 20s, and only warn. Lower the neuron\'s autoscaling.panicWindowSeconds to 20 or less, or set autoscaling.stableWindowSeconds on the neuron',
    ],
    [
      "a neuron's CPU request above the default limit of a cluster without resources",
      {},
      { resources: { requests: { cpu: 8 } } },
      'neuron "impl-1": the neuron\'s resources.requests.cpu 8 is above resources.limits.cpu (the default) 4000m after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would raise the limit to 8, and only warn. Lower the neuron\'s resources.requests.cpu to 4000m or less, or set resources.limits.cpu on the neuron',
    ],
    [
      "a neuron's memory limit below the cluster's request",
      { resources: { requests: { memory: '2Gi' }, limits: { memory: '4Gi' } } },
      { resources: { limits: { memory: '1Gi' } } },
      'neuron "impl-1": cluster.resources.requests.memory 2Gi is above the neuron\'s resources.limits.memory 1Gi after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would lower the request to 1Gi, and only warn. Raise the neuron\'s resources.limits.memory to 2Gi or more, or set resources.requests.memory on the neuron',
    ],
    [
      "the cluster's fallbacks holding the neuron's model",
      { claude: { model: 'claude-a', fallbackModels: ['claude-b'] } },
      { claude: { model: 'claude-b' } },
      'neuron "impl-1": cluster.claude.fallbackModels [claude-b] contains the neuron\'s claude.model claude-b after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would leave claude-b out of the fallbacks, which stand in for the model when it is overloaded, and only warn. Set claude.fallbackModels on the neuron without claude-b, or another claude.model',
    ],
    [
      "the neuron's fallbacks holding the cluster's default model",
      {},
      { claude: { fallbackModels: ['claude-sonnet-5-5'] } },
      'neuron "impl-1": the neuron\'s claude.fallbackModels [claude-sonnet-5-5] contains claude.model (the default) claude-sonnet-5-5 after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would leave claude-sonnet-5-5 out of the fallbacks, which stand in for the model when it is overloaded, and only warn. Remove claude-sonnet-5-5 from the neuron\'s claude.fallbackModels, or set another claude.model on the neuron',
    ],
  ])('refuses %s, naming both fields and values and the fix', (_, cluster, neuron, message) => {
    expect(merge(cluster, neuron)).toEqual([message]);
  });

  it.each<[string, Hal9ClusterSpec, OwnSpec]>([
    [
      'replica bounds crossed while autoscaling is off (the operator uses neither)',
      { autoscaling: { enabled: false, maxReplicas: 10 } },
      { autoscaling: { minReplicas: 12 } },
    ],
    [
      'parallelism bounds crossed while tuning is off',
      { autoscaling: { parallelism: { enabled: false, max: 10 } } },
      { autoscaling: { parallelism: { min: 16 } } },
    ],
    [
      'a panic window above the stable window in hpa mode without tuning (the windows are unused)',
      { autoscaling: { enabled: true, mode: 'hpa', stableWindowSeconds: 20 } },
      { autoscaling: { panicWindowSeconds: 30 } },
    ],
    [
      'a request equal in value to the limit ("700m" and "0.7")',
      { resources: { requests: { cpu: '700m' }, limits: { cpu: '1' } } },
      { resources: { limits: { cpu: '0.7' } } },
    ],
  ])('accepts %s', (_, cluster, neuron) => {
    expect(merge(cluster, neuron)).toEqual([]);
  });

  // The operator's repairs are not exported one by one, so the rules are mirrored; this holds them
  // to what the operator reports over every combination of values on either side of each bound.
  it('refuses exactly the pairs the operator repairs with a warning', () => {
    const cases: [Hal9ClusterSpec, OwnSpec][] = [];
    const bounds = [undefined, 3, 12] as const;
    for (const c of combinations({
      enabled: [true, false],
      tuning: [true, false],
      mode: ['operator', 'hpa'] as const,
      clusterLow: bounds,
      clusterHigh: bounds,
      neuronLow: bounds,
      neuronHigh: bounds,
    })) {
      const pair = (low: number | undefined, high: number | undefined) => ({
        minReplicas: low,
        maxReplicas: high,
        panicWindowSeconds: low === undefined ? undefined : low * 10,
        stableWindowSeconds: high === undefined ? undefined : high * 10,
        parallelism: { enabled: c.tuning, min: low, max: high },
      });
      cases.push([
        { autoscaling: { enabled: c.enabled, mode: c.mode, ...pair(c.clusterLow, c.clusterHigh) } },
        { autoscaling: pair(c.neuronLow, c.neuronHigh) },
      ]);
    }
    const quantities = [undefined, '700m', '0.7', 2, '3Gi'] as const;
    for (const c of combinations({
      clusterRequest: quantities,
      clusterLimit: quantities,
      neuronRequest: quantities,
      neuronLimit: quantities,
    })) {
      // Memory crosses in some combinations too; with neither side set, a cluster has no resources
      // section and takes the default resources.
      const resources = (request: Quantity | undefined, limit: Quantity | undefined) =>
        some({
          ...(request === undefined
            ? {}
            : { requests: { cpu: request, memory: request === 2 ? '1Gi' : '256Mi' } }),
          ...(limit === undefined ? {} : { limits: { cpu: limit, memory: limit === 2 ? '128Mi' : '512Mi' } }),
        });
      const cluster = resources(c.clusterRequest, c.clusterLimit);
      const neuron = resources(c.neuronRequest, c.neuronLimit);
      cases.push([cluster ? { resources: cluster } : {}, neuron ? { resources: neuron } : {}]);
    }
    for (const c of combinations({
      clusterModel: [undefined, 'claude-a'],
      clusterFallbacks: [undefined, ['claude-a'], ['claude-b']],
      neuronModel: [undefined, 'claude-a', 'claude-b'],
      neuronFallbacks: [undefined, ['claude-a'], ['claude-sonnet-5-5']],
    })) {
      const claude = (model?: string, fallbackModels?: string[]) =>
        some({ ...(model ? { model } : {}), ...(fallbackModels ? { fallbackModels } : {}) });
      const cluster = claude(c.clusterModel, c.clusterFallbacks);
      const neuron = claude(c.neuronModel, c.neuronFallbacks);
      cases.push([cluster ? { claude: cluster } : {}, neuron ? { claude: neuron } : {}]);
    }
    let refused = 0;
    for (const [cluster, neuron] of cases) {
      const ours = merge(cluster, neuron).map(repairOf).sort();
      expect(ours, JSON.stringify({ cluster, neuron })).toEqual(
        operatorWarnings(cluster, neuron).map(repairOf).sort(),
      );
      if (ours.length > 0) refused++;
    }
    // The grid crosses every bound both ways: a good share of it is refused, and a good share is not.
    expect(refused).toBeGreaterThan(cases.length / 10);
    expect(refused).toBeLessThan(cases.length);
  });

  it('is checked by Hal9Platform at synth, for a neuron added later too', () => {
    const chart = aChart();
    const platform = new Hal9Platform(
      chart,
      'p',
      aPlatform({ cluster: { autoscaling: { enabled: true, maxReplicas: 4 } } }),
    );
    platform.addNeuron(aNeuron('extra-1', { autoscaling: { minReplicas: 6 } }));
    try {
      Testing.synth(chart);
      expect.unreachable('synth should refuse the merge');
    } catch (err) {
      expect(err).toBeInstanceOf(Hal9Cdk8sError);
      expect((err as Hal9Cdk8sError).code).toBe(Hal9Cdk8sErrorCode.InvalidPlatform);
      expect((err as Hal9Cdk8sError).problems).toEqual([
        expect.stringContaining(
          'neuron "extra-1": the neuron\'s autoscaling.minReplicas 6 is above cluster.autoscaling.maxReplicas 4',
        ),
      ]);
    }
  });
});
