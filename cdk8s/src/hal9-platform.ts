import type { Hal9ClusterSpec, NeuronSpec } from '@hal9/api';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { sysctlsNotAllowed } from '../../operator/src/spec/effective-spec.ts';
import { SyncOption, SyncWave, syncIn } from './argocd.ts';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { type GrafanaDashboard, GrafanaDashboards, needsServerSideApply } from './grafana-dashboards.ts';
import { Hal9Cluster } from './hal9-cluster.ts';
import { isLabelKey } from './label-key.ts';
import { mergeProblems } from './merge-rules.ts';
import { Neuron } from './neuron.ts';
import { PrometheusRule, type PrometheusRuleGroups } from './prometheus-rule.ts';

/** The rule group of monitoring/prometheus/hal9-rules.yaml that alerts on the operator itself. */
export const OPERATOR_ALERTS_GROUP = 'hal9-operator.alerts';

/** One neuron of a platform: its id (the Neuron's name) and its spec without `cluster`, which the platform sets. */
export interface NeuronDefinition extends Omit<NeuronSpec, 'cluster'> {
  /** The neuron id: the Neuron's name and what connections refer to. A DNS label. */
  readonly id: string;
}

export interface Hal9PlatformProps {
  /**
   * Name of the Hal9Cluster (a DNS label); also the prefix of the dashboard and rule object names.
   * It is every Neuron's `spec.cluster`, which the CRD makes immutable: once applied, a renamed
   * platform's Neurons are refused ("spec.cluster is immutable") and an Argo CD sync of them fails.
   * Keep the name, or delete the Neurons before applying the new one (cdk8s/README.md).
   */
  readonly name: string;
  /**
   * Namespace of every namespaced object.
   * @default - none: objects take the namespace of the Argo CD Application (or `kubectl -n`)
   */
  readonly namespace?: string;
  /**
   * Emit the Namespace itself (sync wave before the custom resources). Needs `namespace`.
   * @default false
   */
  readonly createNamespace?: boolean;
  /**
   * The Hal9Cluster spec: defaults of every neuron. Its `entryNeuron` may name a neuron added
   * later with addNeuron: it is checked at synth.
   * @default {} - the CRD's defaults
   */
  readonly cluster?: Hal9ClusterSpec;
  /** The neurons. More can be added with addNeuron. */
  readonly neurons: readonly NeuronDefinition[];
  /**
   * Labels on every object.
   * @default { 'app.kubernetes.io/part-of': 'hal9' }
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Grafana dashboards, one ConfigMap each labelled `grafana_dashboard: "1"`.
   * @default [] - none
   */
  readonly dashboards?: readonly GrafanaDashboard[];
  /**
   * Prometheus rule groups, emitted as a PrometheusRule (needs the Prometheus Operator's CRD).
   * @default - no PrometheusRule
   */
  readonly prometheusRules?: PrometheusRuleGroups;
  /**
   * Keep the `hal9-operator.alerts` group of `prometheusRules`. Set false when Prometheus does not
   * scrape the operator (the chart's `serviceMonitor.enabled: false`, or a ServiceMonitor no Prometheus
   * selects): Hal9OperatorDown is an `absent()` alert and would fire for good. The chart leaves the
   * group out by itself in that case. When `prometheusRules` holds only that group, no PrometheusRule
   * is emitted.
   * @default true
   */
  readonly operatorAlerts?: boolean;
  /**
   * Extra labels on the PrometheusRule, for a Prometheus whose ruleSelector needs them (e.g. `release`).
   * @default {}
   */
  readonly prometheusRuleLabels?: Readonly<Record<string, string>>;
  /**
   * Add Argo CD sync waves and sync options to the objects.
   * @default true
   */
  readonly argoCd?: boolean;
}

/**
 * A whole Hal9 platform: one Hal9Cluster, its Neurons, and optionally the Namespace, the Grafana
 * dashboards and the alert rules, ordered in Argo CD sync waves.
 *
 * Checks at construction: ids are unique. Checked at synth (so that addNeuron can add neurons
 * later, in any order): there is at least one neuron, the cluster's entry neuron and every forward and backward connection name
 * a neuron of the platform, a neuron in api mode has a key Secret on it or on the cluster, and no neuron merged over the
 * cluster needs a repair the operator would only warn about (merge-rules.ts). Each Hal9Cluster and Neuron
 * also checks its own spec against the CRD.
 *
 * @example
 * new Hal9Platform(chart, 'hal9', {
 *   name: 'hal9', namespace: 'hal9', createNamespace: true,
 *   neurons: [
 *     { id: 'strategic-1', layer: 'L4', forwardConnections: ['impl-1'] },
 *     { id: 'impl-1', layer: 'L2', backwardConnections: ['strategic-1'] },
 *   ],
 * });
 */
export class Hal9Platform extends Construct {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly cluster: Hal9Cluster;
  readonly namespaceObject: kplus.Namespace | undefined;
  readonly dashboards: GrafanaDashboards | undefined;
  readonly prometheusRule: PrometheusRule | undefined;
  private readonly argoCd: boolean;
  /** The uids of the dashboards it ships (the JSON's `uid`, else the dashboard's name). */
  private readonly dashboardUids: readonly string[];
  private readonly neuronsById = new Map<string, Neuron>();

  constructor(scope: Construct, id: string, props: Hal9PlatformProps) {
    super(scope, id);
    this.name = props.name;
    this.namespace = props.namespace;
    const problems = propsProblems(props);
    if (problems.length > 0) {
      throw new Hal9Cdk8sError(
        Hal9Cdk8sErrorCode.InvalidPlatform,
        `Hal9Platform ${JSON.stringify(props?.name ?? id)} is invalid`,
        problems,
      );
    }
    this.labels = props.labels ?? { 'app.kubernetes.io/part-of': 'hal9' };
    this.argoCd = props.argoCd ?? true;

    if (props.createNamespace && props.namespace) {
      this.namespaceObject = new kplus.Namespace(this, 'namespace', {
        metadata: { name: props.namespace, labels: { ...this.labels } },
      });
      if (this.argoCd) syncIn(this.namespaceObject, SyncWave.namespace);
    }

    this.cluster = new Hal9Cluster(this, 'cluster', {
      metadata: this.metadata(props.name),
      spec: props.cluster ?? {},
    });
    this.syncCustomResource(this.cluster);
    for (const n of props.neurons) this.addNeuron(n);

    this.dashboardUids = (props.dashboards ?? []).map((d) => {
      try {
        const uid = (JSON.parse(d.json) as { uid?: unknown }).uid;
        return typeof uid === 'string' && uid !== '' ? uid : d.name;
      } catch {
        return d.name; // Not JSON: GrafanaDashboards refuses it below.
      }
    });
    if (props.dashboards && props.dashboards.length > 0) {
      this.dashboards = new GrafanaDashboards(this, 'dashboards', {
        namePrefix: props.name,
        dashboards: props.dashboards,
        labels: this.labels,
        ...(props.namespace ? { namespace: props.namespace } : {}),
      });
      if (this.argoCd) {
        for (const [i, d] of props.dashboards.entries()) {
          const options = needsServerSideApply(d) ? [SyncOption.serverSideApply] : [];
          syncIn(this.dashboards.configMaps[i]!, SyncWave.monitoring, options);
        }
      }
    }
    const rules = props.prometheusRules;
    const groups =
      props.operatorAlerts === false && Array.isArray(rules?.groups)
        ? rules.groups.filter((g) => g.name !== OPERATOR_ALERTS_GROUP)
        : rules?.groups;
    // A rule file of the operator's group alone, with operatorAlerts: false, leaves nothing to alert
    // on: no PrometheusRule, as asked, rather than an empty one (which PrometheusRule refuses, as it
    // still refuses a file with no groups at all).
    const onlyOperatorAlerts = groups?.length === 0 && rules?.groups.length !== 0;
    if (rules && !onlyOperatorAlerts) {
      this.prometheusRule = new PrometheusRule(this, 'rules', {
        metadata: this.metadata(`${props.name}-rules`, props.prometheusRuleLabels),
        rules: { ...rules, groups: groups ?? rules.groups },
      });
      if (this.argoCd) {
        syncIn(this.prometheusRule, SyncWave.monitoring, [SyncOption.skipDryRunOnMissingResource]);
      }
    }

    this.node.addValidation({
      validate: () => {
        const problems = [
          ...this.entryNeuronProblems(),
          ...this.connectionProblems(),
          ...this.apiKeyProblems(),
          ...this.privilegedProblems(),
          ...this.tracingProblems(),
          ...[...this.neuronsById].flatMap(([id, n]) => mergeProblems(id, this.cluster.spec, n.spec)),
          ...this.sharedMonitoringProblems(),
        ];
        // Thrown, not returned: cdk8s wraps returned problems in an Error of its own, without the
        // code and problem list a caller branches on (README "Errors").
        if (problems.length > 0) {
          throw new Hal9Cdk8sError(
            Hal9Cdk8sErrorCode.InvalidPlatform,
            `Hal9Platform "${this.name}" is invalid`,
            problems,
          );
        }
        return [];
      },
    });
  }

  /** The Neurons, by id, in the order they were added. */
  get neurons(): ReadonlyMap<string, Neuron> {
    return this.neuronsById;
  }

  /** Adds a neuron of this platform's cluster. Its connections, and the entry neuron, are checked at synth. */
  addNeuron(definition: NeuronDefinition): Neuron {
    const { id, ...rest } = definition;
    if (this.neuronsById.has(id)) {
      throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidPlatform, `Hal9Platform "${this.name}" is invalid`, [
        `neuron id ${JSON.stringify(id)} is used twice: neuron ids are Neuron names and must be unique`,
      ]);
    }
    const neuron = new Neuron(this, `neuron-${id}`, {
      metadata: this.metadata(id),
      spec: { ...rest, cluster: this.name },
    });
    this.syncCustomResource(neuron);
    this.neuronsById.set(id, neuron);
    return neuron;
  }

  private metadata(name: string, extraLabels: Readonly<Record<string, string>> = {}) {
    return {
      name,
      ...(this.namespace ? { namespace: this.namespace } : {}),
      labels: { ...this.labels, ...extraLabels },
    };
  }

  private syncCustomResource(obj: Hal9Cluster | Neuron): void {
    // The CRD may be in an earlier wave of the same sync or in another Application.
    if (this.argoCd) syncIn(obj, SyncWave.platform, [SyncOption.skipDryRunOnMissingResource]);
  }

  private entryNeuronProblems(): string[] {
    if (this.neuronsById.size === 0)
      return ['the platform has no neurons: list at least one in neurons or add one with addNeuron'];
    const entry = this.cluster.spec.entryNeuron;
    if (entry === undefined || this.neuronsById.has(entry)) return [];
    const ids = [...this.neuronsById.keys()];
    return [
      `cluster.entryNeuron names ${JSON.stringify(entry)}, which is not a neuron of platform "${this.name}" (neurons: ${ids.join(', ')}); add it (in neurons or with addNeuron) or fix cluster.entryNeuron`,
    ];
  }

  /**
   * A Neuron in api mode may take its key Secret from its Hal9Cluster, so neither object's own rules
   * can tell; the operator refuses to render the pair when neither sets one (the runtime would not start).
   */
  private apiKeyProblems(): string[] {
    const cluster = this.cluster.spec.claude;
    const problems: string[] = [];
    for (const [id, neuron] of this.neuronsById) {
      const own = neuron.spec.claude;
      // The cluster's mode defaults to mock.
      const mode = own?.mode ?? cluster?.mode ?? 'mock';
      if (mode === 'api' && !own?.apiKeySecretRef && !cluster?.apiKeySecretRef) {
        problems.push(
          `neuron ${JSON.stringify(id)}: claude.mode is api but neither the Neuron nor its Hal9Cluster sets claude.apiKeySecretRef: the runtime would refuse to start without an API key. Set claude.apiKeySecretRef on the neuron or in cluster.claude, or claude.mode: mock`,
        );
      }
    }
    return problems;
  }

  /**
   * Privileged tuning is the Hal9Cluster's to allow: a Neuron's privilegedSysctlInitContainer or
   * thpInitContainer is on only where the cluster's is, and its sysctls past the safe set are written
   * only where the cluster allows their names, which neither object's own rules can tell. The operator
   * renders it off or leaves them out (with a warning), so a synth says so first.
   */
  private privilegedProblems(): string[] {
    const cluster = this.cluster.spec.nodeTuning;
    const problems: string[] = [];
    for (const [id, neuron] of this.neuronsById) {
      for (const s of ['privilegedSysctlInitContainer', 'thpInitContainer'] as const) {
        if (neuron.spec.nodeTuning?.[s] === true && !cluster?.[s]) {
          problems.push(
            `neuron ${JSON.stringify(id)}: nodeTuning.${s} is true but the Hal9Cluster's is not: privileged tuning is the Hal9Cluster's to allow (a Neuron may only turn it off), so the operator would render it off. Set nodeTuning.${s}: true in cluster.nodeTuning, or remove it from the neuron`,
          );
        }
      }
      const own = neuron.spec.nodeTuning;
      const on =
        cluster?.privilegedSysctlInitContainer === true && own?.privilegedSysctlInitContainer !== false;
      const refused = on && own?.sysctls ? sysctlsNotAllowed(cluster, own.sysctls) : [];
      if (refused.length > 0) {
        problems.push(
          `neuron ${JSON.stringify(id)}: nodeTuning.sysctls ${refused.join(', ')} outside the safe set, which the Hal9Cluster does not allow a Neuron: the privileged init container writes only what cluster.nodeTuning.neuronSysctls allows (or the names of cluster.nodeTuning.sysctls), so the operator would leave them out. Add them to cluster.nodeTuning.neuronSysctls, or remove them from the neuron`,
        );
      }
    }
    return problems;
  }

  /**
   * A Neuron's tracing may take its endpoint from its Hal9Cluster; where neither sets one the operator
   * exports nothing for it and only warns, so a synth says so first.
   */
  private tracingProblems(): string[] {
    const cluster = this.cluster.spec.tracing;
    const problems: string[] = [];
    for (const [id, neuron] of this.neuronsById) {
      const own = neuron.spec.tracing;
      if (!own) continue;
      const endpoint = own.endpoint ?? cluster?.endpoint;
      if (!endpoint) {
        problems.push(
          `neuron ${JSON.stringify(id)}: tracing has no endpoint and the Hal9Cluster has no tracing section: no spans would be exported. Set tracing.endpoint on the neuron or cluster.tracing`,
        );
        continue;
      }
      // Each section's own rule pairs its TLS Secrets with https; only the merge can break that, and
      // the operator would then mount neither (a warning), so the synth says so first. A Neuron with its
      // own endpoint takes none of the cluster's Secrets (they are for the cluster's collector).
      const tls = ['caSecretRef', 'clientCertSecretRef'] as const;
      const unused = tls.filter((r) => own[r] ?? (own.endpoint === undefined ? cluster?.[r] : undefined));
      if (!endpoint.toLowerCase().startsWith('https://') && unused.length > 0)
        problems.push(
          `neuron ${JSON.stringify(id)}: tracing.endpoint ${endpoint} is not https://, so tracing.${unused.join(' and tracing.')} of the neuron or the cluster would not be used: use an https:// endpoint, or remove them`,
        );
    }
    return problems;
  }

  // Dashboards have fixed uids and the rules aggregate over every namespace: a second copy in the same
  // app is a second Grafana dashboard with one uid and every alert evaluated twice. The later platform
  // reports it, so the message names the one that shipped them first.
  private sharedMonitoringProblems(): string[] {
    const platforms = this.node.root.node
      .findAll()
      .filter((c): c is Hal9Platform => c instanceof Hal9Platform);
    const earlier = platforms.slice(0, platforms.indexOf(this));
    const problems: string[] = [];
    const first = (has: (p: Hal9Platform) => boolean) => earlier.find(has);
    // Dashboards collide by uid (Grafana keeps one per uid): two platforms may ship different ones.
    const mine = new Set(this.dashboardUids);
    const dashboards = first((p) => p.dashboardUids.some((u) => mine.has(u)));
    if (dashboards) {
      const shared = dashboards.dashboardUids.filter((u) => mine.has(u));
      problems.push(
        `dashboards: Hal9Platform ${JSON.stringify(dashboards.name)} already ships the Grafana dashboards of uid ${shared.join(', ')}: ship each dashboard from one platform per Grafana and leave it out of the others`,
      );
    }
    const rules = this.prometheusRule && first((p) => p.prometheusRule !== undefined);
    if (rules)
      problems.push(
        `prometheusRules: Hal9Platform ${JSON.stringify(rules.name)} already ships the Prometheus rules (they aggregate over every namespace, so each alert would fire twice): ship them from one platform per cluster and leave prometheusRules out of the others`,
      );
    return problems;
  }

  private connectionProblems(): string[] {
    const ids = [...this.neuronsById.keys()];
    const problems: string[] = [];
    for (const [id, neuron] of this.neuronsById) {
      for (const field of ['forwardConnections', 'backwardConnections'] as const) {
        for (const [i, target] of (neuron.spec[field] ?? []).entries()) {
          if (!this.neuronsById.has(target)) {
            problems.push(
              `neuron ${JSON.stringify(id)}: ${field}[${i}] names ${JSON.stringify(target)}, which is not a neuron of platform "${this.name}" (neurons: ${ids.join(', ')}); add it or fix the name`,
            );
          } else if (target === id) {
            problems.push(
              `neuron ${JSON.stringify(id)}: ${field}[${i}] names the neuron itself; remove its own id from the list`,
            );
          }
        }
      }
    }
    return problems;
  }
}

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The props' shape: a platform module outside this repository is plain JavaScript to Node (types
 * erased), so a missing list or a list where an object goes must be a problem listed, not a TypeError.
 */
function shapeProblems(props: Hal9PlatformProps): string[] {
  const p = props as unknown as Record<string, unknown>;
  if (!isPlainObject(p)) return ['the props must be an object with name and neurons'];
  const problems: string[] = [];
  if (typeof p.name !== 'string')
    problems.push(
      `name is ${JSON.stringify(p.name) ?? 'missing'}: it must be a string, the Hal9Cluster's name`,
    );
  if (!Array.isArray(p.neurons)) problems.push('neurons must be a list of neurons ({ id, layer, … })');
  else
    p.neurons.forEach((n: unknown, i) => {
      if (!isPlainObject(n)) problems.push(`neurons[${i}] must be an object ({ id, layer, … })`);
      else if (typeof (n as { id?: unknown }).id !== 'string')
        problems.push(`neurons[${i}].id is required: a string, the Neuron's name`);
    });
  for (const field of ['dashboards'])
    if (p[field] !== undefined && !Array.isArray(p[field])) problems.push(`${field} must be a list`);
  for (const field of ['labels', 'prometheusRuleLabels', 'cluster'])
    if (p[field] !== undefined && !isPlainObject(p[field])) problems.push(`${field} must be an object`);
  return problems;
}

function propsProblems(props: Hal9PlatformProps): string[] {
  const shape = shapeProblems(props);
  if (shape.length > 0) return shape;
  const problems: string[] = [];
  const ids = props.neurons.map((n) => n.id);
  const dup = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  for (const id of dup) {
    problems.push(
      `neuron id ${JSON.stringify(id)} is used twice: neuron ids are Neuron names and must be unique`,
    );
  }
  if (props.createNamespace && !props.namespace) problems.push('createNamespace needs namespace');
  if (props.namespace !== undefined && !namespaceName.test(props.namespace)) {
    problems.push(
      `namespace ${JSON.stringify(props.namespace)} is not a namespace name: at most 63 lower-case letters, digits and -, starting and ending with a letter or digit`,
    );
  }
  for (const [field, labels] of [
    ['labels', props.labels],
    ['prometheusRuleLabels', props.prometheusRuleLabels],
  ] as const) {
    for (const [k, v] of Object.entries(labels ?? {})) {
      if (!isLabelKey(k)) {
        problems.push(
          `${field}: ${JSON.stringify(k)} is not a label key: an optional prefix and / (a DNS subdomain: lower-case parts of letters, digits and -, joined by single dots, at most 253 characters), then at most 63 letters, digits and -_., starting and ending with a letter or digit`,
        );
      }
      if (typeof v !== 'string' || !labelValue.test(v)) {
        problems.push(
          `${field}.${k}: ${JSON.stringify(v)} is not a label value: at most 63 letters, digits and -_., starting and ending with a letter or digit (or empty)`,
        );
      }
    }
  }
  return problems;
}

const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
