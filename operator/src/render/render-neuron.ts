import {
  compareAnyQuantities,
  type Hal9Cluster,
  isQuantity,
  milliCpu,
  type Neuron,
  quantityString,
  runtimeMemoryProblem,
} from '@hal9/api';
import type { KubernetesObject, V1ResourceRequirements } from '@kubernetes/client-node';
import { type EffectiveNeuronSpec, effectiveSpec } from '../spec/effective-spec.ts';
import { adminSecretName, adminTokenKey } from './admin-secret.ts';
import { limitBounds, parallelismBounds, renderHpa, renderPdb, replicaBounds } from './autoscaling.ts';
import { renderConfigMap } from './config-map.ts';
import { renderDeployment } from './deployment.ts';
import { childNames, neuronLabels, neuronOwnerReference, selectorLabels } from './labels.ts';
import { operatorReplicas } from './operator-replicas.ts';
import { renderRuntimeConfig } from './runtime-config.ts';
import { renderService } from './service.ts';
import { renderServiceMonitor } from './service-monitor.ts';
import { sortKeys } from './sort-keys.ts';
import { type PrivilegedPolicy, renderTuning } from './tuning.ts';
import type { YamlText } from './yaml-text.ts';

export interface RenderNeuronInput {
  readonly cluster: Hal9Cluster;
  readonly neuron: Neuron;
  /** Neurons of the same namespace (may include the neuron itself); connected ones become remote entries. */
  readonly peers: readonly Neuron[];
  /** Namespace of the operator; reserved for policies that admit the operator's traffic. */
  readonly operatorNamespace?: string;
  /** Whether privileged init containers may be rendered; unset: they may (the operator always sets it). */
  readonly privileged?: PrivilegedPolicy;
  /** The operator makes `<cluster>-admin-token` for a cluster that names no admin token Secret. */
  readonly generatedAdminToken?: boolean;
  /** Whether the Prometheus Operator's ServiceMonitor API is served; unset: it is. */
  readonly serviceMonitorServed?: boolean;
  /** How the runtime's configuration becomes YAML (runtime-config.ts; the same text either way). */
  readonly yaml?: YamlText;
}

export interface RenderNeuronOutput {
  /** Desired objects, in apply order: ConfigMap, Service, Deployment, then HPA, PDB, ServiceMonitor when wanted. */
  readonly objects: KubernetesObject[];
  /** Things the user should know (privileged tuning, settings that could not be applied); for a condition. */
  readonly warnings: string[];
  /** The runtime's configuration file, as stored in the ConfigMap. */
  readonly runtimeConfig: string;
  /** The executor limit that file gives new pods (performance.max_concurrent_signals). */
  readonly maxConcurrentSignals: number;
  /** The operator tunes the Neuron's parallelism: status.parallelism.current is the tuner's. */
  readonly parallelismTuned: boolean;
  /** Something the spec asks for that was not rendered (privileged containers not allowed): Degraded. */
  readonly failure?: { readonly reason: string; readonly message: string };
}

/** Executor limit new pods start with: the tuner's current value when tuning is on, within its bounds. */
export function startingParallelism(spec: EffectiveNeuronSpec, neuron: Neuron): number {
  if (!spec.autoscaling.parallelism.enabled) return spec.performance.maxConcurrentSignals;
  // The tuner's bounds, the pod's model-call cap included: new pods start where it would hold them.
  const { min, max } = limitBounds(spec);
  const current = neuron.status?.parallelism?.current ?? spec.performance.maxConcurrentSignals;
  return Math.min(Math.max(current, min), max);
}

/** Renders every object one Neuron becomes. Pure and deterministic: same input, same output. */
export function renderNeuron(input: RenderNeuronInput): RenderNeuronOutput {
  const { cluster, neuron } = input;
  const name = neuron.metadata?.name ?? '';
  const namespace = neuron.metadata?.namespace ?? 'default';
  const spec = effectiveSpec(cluster, neuron);
  const names = childNames(name);
  const labels = neuronLabels(neuron);
  const selector = selectorLabels(name);
  const ownerReference = [neuronOwnerReference(neuron)];
  const maxConcurrentSignals = startingParallelism(spec, neuron);
  const config = renderRuntimeConfig({
    clusterName: cluster.metadata?.name ?? spec.cluster,
    neuronName: name,
    namespace,
    spec,
    peers: input.peers,
    maxConcurrentSignals,
    ...(input.yaml ? { yaml: input.yaml } : {}),
    ownMockResponses: neuron.spec?.claude?.mockResponses?.[spec.layer] !== undefined,
  });
  const tuning = renderTuning(spec, input.privileged);
  const hpa = spec.autoscaling.enabled && spec.autoscaling.mode === 'hpa';
  const bounds = replicaBounds(spec);
  // Operator mode: the operator writes the Neuron's spec.replicas (scale subresource); render runs
  // its count, not another writer's (operator-replicas.ts), within the bounds.
  const operatorScaled = spec.autoscaling.enabled && spec.autoscaling.mode === 'operator';
  const replicas = operatorScaled
    ? Math.min(Math.max(operatorReplicas(neuron, spec.replicas), bounds.min), bounds.max)
    : spec.replicas;
  const scaling = {
    name: names.hpa,
    deploymentName: names.deployment,
    namespace,
    labels,
    selector,
    ownerReference,
    spec,
  };
  const objects: KubernetesObject[] = [
    renderConfigMap({
      name: names.configMap,
      namespace,
      labels,
      ownerReference,
      yaml: config.yaml,
      hash: config.hash,
    }),
    renderService({ name: names.service, namespace, labels, selector, ownerReference }),
    renderDeployment({
      name: names.deployment,
      neuron: name,
      namespace,
      labels,
      selector,
      ownerReference,
      configMapName: names.configMap,
      configHash: config.hash,
      // Without a Secret of the cluster's own, the one the operator makes: the admin API is never open.
      spec:
        spec.adminTokenSecretRef || !input.generatedAdminToken
          ? spec
          : { ...spec, adminTokenSecretRef: { name: adminSecretName(spec.cluster), key: adminTokenKey } },
      tuning,
      hpa,
      replicas,
      serviceMonitor: spec.monitoring.serviceMonitor && input.serviceMonitorServed !== false,
    }),
  ];
  if (hpa) objects.push(renderHpa(scaling));
  // A PDB whenever more than one pod may run: an autoscaler (the HPA, or the operator in operator
  // mode) may scale up to its max at any time, and maxUnavailable 1 costs nothing at one pod.
  const mostPods = spec.autoscaling.enabled ? bounds.max : replicas;
  if (mostPods > 1) objects.push(renderPdb({ ...scaling, name: names.pdb }));
  if (spec.monitoring.serviceMonitor) {
    objects.push(
      renderServiceMonitor({
        name: names.service,
        namespace,
        labels,
        extraLabels: spec.monitoring.serviceMonitorLabels ?? {},
        selector,
        ownerReference,
        interval: spec.monitoring.scrapeInterval,
      }),
    );
  }
  return {
    objects: objects.map((o) => sortKeys(o)),
    warnings: [
      ...spec.repairs,
      ...memoryWarnings(spec),
      ...otherLayerWarnings(neuron),
      ...modelSloWarnings(spec),
      ...unpricedBudgetWarnings(spec),
      ...config.warnings,
      ...tuning.warnings,
      ...(spec.autoscaling.enabled ? bounds.warnings : []),
      ...(hpa ? hpaCpuWarnings(tuning.resources) : []),
      ...(spec.autoscaling.parallelism.enabled
        ? parallelismBounds(spec, neuron.spec?.autoscaling?.parallelism).warnings
        : []),
    ],
    runtimeConfig: config.yaml,
    maxConcurrentSignals,
    parallelismTuned: spec.autoscaling.parallelism.enabled,
    ...(tuning.denied ? { failure: tuning.denied } : {}),
  };
}

/**
 * An HPA on CPU utilization divides usage by the pods' CPU request: without one it never scales. The
 * Hal9Cluster CRD refuses hpa mode without one, but a Neuron may turn hpa mode on over a cluster
 * whose resources have none: said here, not only once the HPA reports FailedGetResourceMetric.
 */
function hpaCpuWarnings(resources: V1ResourceRequirements): string[] {
  const cpu = resources.requests?.cpu ?? resources.limits?.cpu;
  if ((milliCpu(cpu === undefined ? undefined : String(cpu)) ?? 0) > 0) return [];
  return [
    'autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request, and the merged resources of the Neuron and its Hal9Cluster have none: the HPA never scales; set resources.requests.cpu (on the Neuron or its Hal9Cluster), or use autoscaling.mode: operator',
  ];
}

/**
 * Memory a runtime cannot start with: usually a bare number meant as MiB (`memory: 512` is 512 bytes).
 * The CRDs refuse it on apply (64Mi requested, 128Mi limit); an object stored before they did keeps it
 * (the apiserver lets an unchanged value stay on update), so the Neuron's Warning says it, in the same words.
 */
function memoryWarnings(spec: EffectiveNeuronSpec): string[] {
  const out: string[] = [];
  for (const side of ['requests', 'limits'] as const) {
    const q = spec.resources[side]?.memory;
    const problem = q === undefined ? undefined : runtimeMemoryProblem(side, q);
    if (problem) out.push(problem);
    // Above the CRDs' 1Pi, compared as CEL does ("1e1000" included).
    if (q !== undefined && isQuantity(q) && compareAnyQuantities(q, '1Pi') > 0) {
      out.push(
        `resources.${side}.memory must be at most 1Pi, more than any node has: write the amount in Mi, Gi or Ti, for example "4Gi" (it is ${quantityString(q)}${side === 'limits' ? '; the Node.js heap is sized as for 1Pi' : ''})`,
      );
    }
  }
  return out;
}

/**
 * A Neuron's mock answers for another layer than its own: the runtime never uses them. The CRD refuses
 * them; one stored before it did keeps them while they stay as they are, so the Warning says to remove them.
 */
function otherLayerWarnings(neuron: Neuron): string[] {
  const others = Object.keys(neuron.spec?.claude?.mockResponses ?? {}).filter((k) => k !== neuron.spec.layer);
  if (others.length === 0) return [];
  return [
    `claude.mockResponses may hold only the answers of spec.layer, ${neuron.spec.layer}: remove the other layers (${others.join(', ')}; the runtime never uses them), or set them on the Hal9Cluster or on a Neuron of their layer`,
  ];
}

/**
 * The shortest latency objective that a model call can meet: in `api` mode every hop waits seconds
 * for the model, so an objective under this is one the tuner can never see met.
 */
export const API_MODE_MIN_SLO_MS = 1000;

/**
 * Parallelism tuning in `api` mode against a mock-sized objective (the CRD's default 50 ms): the p95
 * is the model's own, over the objective at every pass, so the tuner cuts the slots to `min`
 * (LatencyAboveSLO) and, with shedLateSignals, signals waiting for a slot past it are refused. Valid
 * as a spec (a test may want it), so a warning, not a refusal.
 */
function modelSloWarnings(spec: EffectiveNeuronSpec): string[] {
  const p = spec.autoscaling.parallelism;
  if (spec.claude.mode !== 'api' || !p.enabled || p.latencySLOMs >= API_MODE_MIN_SLO_MS) return [];
  return [
    `autoscaling.parallelism.latencySLOMs is ${p.latencySLOMs} ms with claude.mode api: a model call alone takes longer, so the tuner will cut the slots to autoscaling.parallelism.min (LatencyAboveSLO)${p.shedLateSignals ? ' and signals that wait for a slot past it are refused (503 QUEUE_TIMEOUT)' : ''}; set it above the model's p95 latency (for example 20000)`,
  ];
}

/**
 * A cost budget in `api` mode that some of the neuron's models are not priced for: the runtime counts
 * their calls as costing nothing, so the budget does not bound them (the runtime logs the same at start,
 * where a platform team would not look). Valid as a spec (prices may come later), so a warning.
 */
function unpricedBudgetWarnings(spec: EffectiveNeuronSpec): string[] {
  const c = spec.claude;
  if (c.mode !== 'api' || !(spec.performance.requestBudget.maxCostUSD > 0)) return [];
  const prices = c.prices ?? {};
  const unpriced = [...new Set([c.model, ...(c.fallbackModels ?? [])])].filter(
    (m) => !Object.hasOwn(prices, m),
  );
  if (unpriced.length === 0) return [];
  return [
    `performance.requestBudget.maxCostUSD is ${spec.performance.requestBudget.maxCostUSD} but claude.prices has no price for ${unpriced.join(', ')}: their calls count nothing toward it; add ${unpriced.map((m) => `claude.prices["${m}"]`).join(', ')}`,
  ];
}
