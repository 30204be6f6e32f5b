import { parseArgs } from 'node:util';
import { errorMessage } from './errors.ts';
import { FIRST_STATUS_WAIT_MS } from './reconcile/first-status.ts';
import { type Cidr, parseCidrs } from './tuning/pod-cidrs.ts';
import { withoutCredentials } from './without-credentials.ts';

export interface OperatorConfig {
  /** Namespace to watch; undefined watches all. */
  readonly namespace: string | undefined;
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly bindAddress: string;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string | undefined;
  readonly leaseName: string;
  /**
   * Secret in the operator's namespace with the key the admin tokens of clusters without
   * spec.adminTokenSecretRef are derived from (tuning/admin-key.ts); made when missing.
   */
  readonly adminKeySecret: string;
  readonly identity: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly workers: number;
  readonly resyncSeconds: number;
  /** How long a new Neuron's first status may wait for its first rollout (reconcile/first-status.ts); 0: none. */
  readonly firstStatusWaitMs: number;
  readonly logLevel: string;
  /** Seconds between passes of the parallelism tuner. */
  readonly tuningIntervalSeconds: number;
  /** Observation window of the tuner's queries; undefined: four scrape intervals of each Neuron. */
  readonly tuningWindowSeconds: number | undefined;
  /** Prometheus for Neurons whose spec names none. */
  readonly prometheusURL: string | undefined;
  /**
   * A file whose token is sent as `Authorization: Bearer` to --prometheus-url itself only (never to
   * a URL a custom resource names), re-read so a rotated token is taken up.
   */
  readonly prometheusBearerTokenFile: string | undefined;
  /**
   * --prometheus-origins: the only Prometheus servers (scheme://host:port) a Hal9Cluster or Neuron may
   * name, beside --prometheus-url's; undefined allows any.
   */
  readonly prometheusOrigins: readonly string[] | undefined;
  /** --pod-cidrs: the only pod addresses the operator sends to; undefined allows any. */
  readonly podCidrs: readonly Cidr[] | undefined;
  /** --allow-privileged-namespaces: where privileged init containers may be created ('*': all); empty: nowhere. */
  readonly allowPrivilegedNamespaces: readonly string[];
  /** Whether each Hal9Cluster gets its NetworkPolicies (--no-network-policies turns them off). */
  readonly networkPolicies: boolean;
  /**
   * Whether each Neuron gets an ownerReference to its Hal9Cluster, so deleting the cluster deletes its
   * Neurons (--no-neuron-cluster-owner turns it off: Argo CD never prunes an object with owners).
   */
  readonly neuronClusterOwner: boolean;
  /** Labels of the namespaces whose pods may scrape the runtime pods (Prometheus). */
  readonly prometheusNamespaceSelector: Readonly<Record<string, string>>;
}

// Defaults, each with its reason.
const defaults = Object.freeze({
  metricsPort: 8080, // controller-runtime's metrics port
  healthPort: 8081, // controller-runtime's probe port
  bindAddress: '127.0.0.1', // loopback unless asked; the chart passes :: (every address, IPv4 and IPv6)
  leaseName: 'hal9-operator-leader',
  adminKeySecret: 'hal9-operator-admin-key',
  workers: 4, // reconciles are I/O bound; a few in flight keep the apiserver busy without flooding it
  resyncSeconds: 600, // safety net only: level-triggered reconciles do not depend on it
  firstStatusWaitMs: FIRST_STATUS_WAIT_MS, // a quick rollout is one status write, not two
  logLevel: 'info',
  tuningIntervalSeconds: 2, // Knative reads its pods every 2 s: a first reaction within a panic window
  // kube-prometheus-stack's usual namespace; the label is set by the apiserver on every namespace.
  prometheusNamespaceSelector: 'kubernetes.io/metadata.name=monitoring',
});

const options = {
  namespace: { type: 'string' },
  'metrics-port': { type: 'string' },
  'health-port': { type: 'string' },
  'bind-address': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  'leader-election-namespace': { type: 'string' },
  'lease-name': { type: 'string' },
  'admin-key-secret': { type: 'string' },
  identity: { type: 'string' },
  kubeconfig: { type: 'string' },
  workers: { type: 'string' },
  'resync-seconds': { type: 'string' },
  'first-status-wait-ms': { type: 'string' },
  'log-level': { type: 'string' },
  'tuning-interval': { type: 'string' },
  'tuning-window': { type: 'string' },
  'prometheus-url': { type: 'string' },
  'prometheus-bearer-token-file': { type: 'string' },
  'prometheus-origins': { type: 'string' },
  'pod-cidrs': { type: 'string' },
  'allow-privileged-namespaces': { type: 'string' },
  'network-policies': { type: 'boolean', default: true },
  'neuron-cluster-owner': { type: 'boolean', default: true },
  'prometheus-namespace-selector': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--help`: every flag, its default and what it does. */
export const usage = `Usage: node operator/src/main.ts [flags]

Reconciles Hal9Cluster and Neuron resources. Runs in a pod (in-cluster service account) or out of
cluster against a kubeconfig (--kubeconfig, else $KUBECONFIG, else ~/.kube/config).

Flags:
  --kubeconfig PATH                    kubeconfig file (default: $KUBECONFIG, a path list, else
                                       ~/.kube/config, else the in-cluster service account)
  --namespace NS                       watch one namespace (default: all)
  --leader-elect                       hold a Lease before reconciling (run several replicas)
  --leader-election-namespace NS       namespace of the Lease (default: $POD_NAMESPACE)
  --lease-name NAME                    Lease name (default: ${defaults.leaseName})
  --admin-key-secret NAME              Secret in the operator's namespace ($POD_NAMESPACE) holding the key of the
                                       runtime admin tokens of Hal9Clusters that name none; made when missing
                                       (default: ${defaults.adminKeySecret}; without a namespace, none is made)
  --identity ID                        leader election identity (default: $POD_NAME, else host_pid_random)
  --bind-address ADDR                  address of the metrics and probe servers (default: ${defaults.bindAddress})
  --metrics-port N                     metrics port (default: ${defaults.metricsPort}; 0 picks a free one)
  --health-port N                      /healthz and /readyz port (default: ${defaults.healthPort}; 0 picks a free one)
  --workers N                          concurrent Neuron reconciles, 1-64 (default: ${defaults.workers})
  --resync-seconds N                   full resync period, 10-86400 (default: ${defaults.resyncSeconds})
  --first-status-wait-ms N             how long a new Neuron's first status waits for its first rollout, 0-10000
                                       (default: ${defaults.firstStatusWaitMs}; 0 writes it at once, for kstatus tools)
  --log-level LEVEL                    trace, debug, info, warn, error, fatal, silent (default: ${defaults.logLevel})
  --tuning-interval N                  seconds between autoscaler passes, 1-3600 (default: ${defaults.tuningIntervalSeconds})
  --tuning-window N                    Prometheus query window in seconds, 2-3600 (default: 4 scrape intervals)
  --prometheus-url URL                 Prometheus for Neurons whose spec names none
  --prometheus-bearer-token-file PATH  a token sent to --prometheus-url only (e.g. the service
                                       account's, for an OpenShift or managed Prometheus); re-read
                                       every minute
  --prometheus-origins URL[,URL]       the only Prometheus servers (scheme://host[:port]) a Hal9Cluster
                                       or Neuron may name, beside --prometheus-url (default: any)
  --pod-cidrs CIDR[,CIDR]              the only pod addresses the operator sends to (default: any)
  --allow-privileged-namespaces NS[,NS]
                                       namespaces where nodeTuning may create privileged init
                                       containers ('*': every namespace; default: none)
  --no-network-policies                do not render a Hal9Cluster's NetworkPolicies
  --no-neuron-cluster-owner            do not make a Neuron owned by its Hal9Cluster (deleting
                                       the cluster then keeps its Neurons; for Argo CD, which
                                       never prunes an object that has owners)
  --prometheus-namespace-selector K=V[,K=V]
                                       labels of the namespaces Prometheus scrapes from
                                       (default: ${defaults.prometheusNamespaceSelector})
  -h, --help                           print this help and exit
`;

/** True when the command line asks for --help (checked before anything else is parsed). */
export function helpRequested(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--help' || a === '-h');
}

const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A URL for an error message: whatever precedes an `@` in its authority is left out. */

/** The test the CRDs' rule applies to autoscaling.parallelism.prometheusURL (WHATWG URL, like Go's, refuses ports above 65535). */
function isPrometheusURL(v: string): boolean {
  // WHATWG URL reads "http:host", "http:///host" and backslashes as Go's parser (the apiserver's)
  // does not: an authority after "//", not empty, without a backslash.
  const authority = /^https?:\/\/([^/?#]*)/.exec(v)?.[1];
  // Credentials: fetch refuses a URL that carries them, and every message would print them.
  if (!authority || authority.includes('\\') || authority.includes('@') || !/^[!-~]+$/.test(v)) return false;
  if (v.includes('?') || v.includes('#') || !URL.canParse(v)) return false;
  const u = new URL(v);
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
}
const labelKey =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** `k=v,k2=v2` (equality only, as a NetworkPolicy's matchLabels takes). */
export function parseLabelSelector(text: string): { labels: Record<string, string>; errors: string[] } {
  const labels: Record<string, string> = {};
  const errors: string[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (eq < 0 || !labelKey.test(key) || !labelValue.test(value) || value.includes('=')) {
      errors.push(`"${part}" is not a label equality like kubernetes.io/metadata.name=monitoring`);
      continue;
    }
    labels[key] = value;
  }
  if (errors.length === 0 && Object.keys(labels).length === 0) errors.push('names no label');
  return { labels, errors };
}

export type ParsedConfig = { readonly config: OperatorConfig } | { readonly errors: readonly string[] };

/** Parses the command line once; every error names its flag, all of them at once. */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    }).values;
  } catch (err) {
    return { errors: [errorMessage(err)] };
  }
  const errors: string[] = [];
  const int = (flag: string, fallback: number, min: number, max: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    // Decimal digits (a sign and spaces around them allowed, as before): Number() reads "" as 0 and "0x10" as 16.
    const n = typeof raw === 'string' && /^\s*\+?[0-9]{1,9}\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      errors.push(`--${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const str = (flag: string): string | undefined => {
    const v = values[flag];
    if (v === '') errors.push(`--${flag} must not be empty`);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const logLevel = str('log-level') ?? defaults.logLevel;
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    errors.push(
      `--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "${logLevel}"`,
    );
  }
  const prometheusURL = str('prometheus-url');
  if (prometheusURL !== undefined && !isPrometheusURL(prometheusURL)) {
    errors.push(
      `--prometheus-url must be the http:// or https:// base URL of the Prometheus API, with a host, a port up to 65535 and no credentials (user:password@: use --prometheus-bearer-token-file), query or fragment, in printable ASCII (for example http://prometheus.monitoring.svc:9090), got ${JSON.stringify(withoutCredentials(prometheusURL))}`,
    );
  }
  const prometheusBearerTokenFile = str('prometheus-bearer-token-file');
  if (prometheusBearerTokenFile !== undefined && prometheusURL === undefined) {
    errors.push(
      '--prometheus-bearer-token-file needs --prometheus-url: the token is sent to that Prometheus only, never to a URL a Hal9Cluster or Neuron names',
    );
  }
  const originList = str('prometheus-origins');
  let prometheusOrigins: string[] | undefined;
  if (originList !== undefined) {
    prometheusOrigins = [];
    for (const o of originList.split(',').map((x) => x.trim())) {
      const url = o.replace(/^[a-z]+:/i, (scheme) => scheme.toLowerCase());
      const u = isPrometheusURL(url) ? new URL(url) : undefined;
      // An origin only: the allowance is per server, and a path or credentials here would mislead.
      // It is kept as WHATWG writes it (host in lower case, a default port dropped), as requests are.
      if (!u || u.pathname !== '/' || url.includes('@'))
        errors.push(
          `--prometheus-origins: ${JSON.stringify(withoutCredentials(o))} is not an http:// or https:// origin (scheme://host[:port], no path), for example http://prometheus.monitoring.svc:9090`,
        );
      else prometheusOrigins.push(u.origin);
    }
  }
  const cidrList = str('pod-cidrs');
  let podCidrs: Cidr[] | undefined;
  if (cidrList !== undefined) {
    const parsed = parseCidrs(cidrList);
    for (const e of parsed.errors) errors.push(`--pod-cidrs: ${e}`);
    if (parsed.errors.length === 0 && parsed.cidrs.length === 0) errors.push('--pod-cidrs names no CIDR');
    podCidrs = parsed.cidrs;
  }
  const privileged = str('allow-privileged-namespaces');
  const allowPrivilegedNamespaces =
    privileged === undefined
      ? []
      : privileged
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== '');
  for (const n of allowPrivilegedNamespaces) {
    if (n !== '*' && !namespaceName.test(n)) {
      errors.push(`--allow-privileged-namespaces: "${n}" is not a namespace name (or *)`);
    }
  }
  if (privileged !== undefined && allowPrivilegedNamespaces.length === 0) {
    errors.push('--allow-privileged-namespaces names no namespace');
  }
  const selector = parseLabelSelector(
    str('prometheus-namespace-selector') ?? defaults.prometheusNamespaceSelector,
  );
  for (const e of selector.errors) errors.push(`--prometheus-namespace-selector: ${e}`);
  const config: OperatorConfig = Object.freeze({
    namespace: str('namespace'),
    metricsPort: int('metrics-port', defaults.metricsPort, 0, 65535),
    healthPort: int('health-port', defaults.healthPort, 0, 65535),
    bindAddress: str('bind-address') ?? defaults.bindAddress,
    leaderElect: values['leader-elect'] === true,
    leaderElectionNamespace: str('leader-election-namespace') ?? env.POD_NAMESPACE,
    leaseName: str('lease-name') ?? defaults.leaseName,
    adminKeySecret: str('admin-key-secret') ?? defaults.adminKeySecret,
    identity: str('identity') ?? env.POD_NAME,
    // Without the flag, main.ts loads as kubectl does: $KUBECONFIG (a path list), ~/.kube/config, in cluster.
    kubeconfig: str('kubeconfig'),
    workers: int('workers', defaults.workers, 1, 64),
    resyncSeconds: int('resync-seconds', defaults.resyncSeconds, 10, 86_400),
    firstStatusWaitMs: int('first-status-wait-ms', defaults.firstStatusWaitMs, 0, 10_000),
    logLevel,
    tuningIntervalSeconds: int('tuning-interval', defaults.tuningIntervalSeconds, 1, 3600),
    tuningWindowSeconds: values['tuning-window'] === undefined ? undefined : int('tuning-window', 0, 2, 3600),
    prometheusURL,
    prometheusBearerTokenFile,
    prometheusOrigins: prometheusOrigins && Object.freeze(prometheusOrigins),
    podCidrs,
    allowPrivilegedNamespaces: Object.freeze(allowPrivilegedNamespaces),
    networkPolicies: values['network-policies'] !== false,
    neuronClusterOwner: values['neuron-cluster-owner'] !== false,
    prometheusNamespaceSelector: Object.freeze(selector.labels),
  });
  // Two servers on one port: the second listen would fail at start-up with EADDRINUSE and no hint.
  if (config.metricsPort !== 0 && config.metricsPort === config.healthPort) {
    errors.push(`--metrics-port and --health-port must differ, both are ${config.metricsPort}`);
  }
  return errors.length > 0 ? { errors } : { config };
}
