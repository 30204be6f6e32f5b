import { parseArgs } from 'node:util';
import { type Cidr, parseCidrs } from './tuning/pod-cidrs.ts';

export interface OperatorConfig {
  /** Namespace to watch; undefined watches all. */
  readonly namespace: string | undefined;
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly bindAddress: string;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string | undefined;
  readonly leaseName: string;
  readonly identity: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly workers: number;
  readonly resyncSeconds: number;
  readonly logLevel: string;
  /** Seconds between passes of the parallelism tuner. */
  readonly tuningIntervalSeconds: number;
  /** Observation window of the tuner's queries; undefined: four scrape intervals of each Neuron. */
  readonly tuningWindowSeconds: number | undefined;
  /** Prometheus for Neurons whose spec names none. */
  readonly prometheusURL: string | undefined;
  /** --pod-cidrs: the only pod addresses the operator sends to; undefined allows any. */
  readonly podCidrs: readonly Cidr[] | undefined;
}

// Defaults, each with its reason.
const defaults = Object.freeze({
  metricsPort: 8080, // controller-runtime's metrics port
  healthPort: 8081, // controller-runtime's probe port
  bindAddress: '127.0.0.1', // loopback unless asked; the container image passes 0.0.0.0
  leaseName: 'hal9-operator-leader',
  workers: 4, // reconciles are I/O bound; a few in flight keep the apiserver busy without flooding it
  resyncSeconds: 600, // safety net only: level-triggered reconciles do not depend on it
  logLevel: 'info',
  tuningIntervalSeconds: 2, // Knative reads its pods every 2 s: a first reaction within a panic window
});

const options = {
  namespace: { type: 'string' },
  'metrics-port': { type: 'string' },
  'health-port': { type: 'string' },
  'bind-address': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  'leader-election-namespace': { type: 'string' },
  'lease-name': { type: 'string' },
  identity: { type: 'string' },
  kubeconfig: { type: 'string' },
  workers: { type: 'string' },
  'resync-seconds': { type: 'string' },
  'log-level': { type: 'string' },
  'tuning-interval': { type: 'string' },
  'tuning-window': { type: 'string' },
  'prometheus-url': { type: 'string' },
  'pod-cidrs': { type: 'string' },
} as const;

export type ParsedConfig = { readonly config: OperatorConfig } | { readonly errors: readonly string[] };

/** Parses the command line once; every error names its flag, all of them at once. */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return { errors: [err instanceof Error ? err.message : String(err)] };
  }
  const errors: string[] = [];
  const int = (flag: string, fallback: number, min: number, max: number): number => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
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
  if (prometheusURL !== undefined && !/^https?:\/\/[^\s]+$/.test(prometheusURL)) {
    errors.push(`--prometheus-url must be an http(s) URL, got "${prometheusURL}"`);
  }
  const cidrList = str('pod-cidrs');
  let podCidrs: Cidr[] | undefined;
  if (cidrList !== undefined) {
    const parsed = parseCidrs(cidrList);
    for (const e of parsed.errors) errors.push(`--pod-cidrs: ${e}`);
    if (parsed.errors.length === 0 && parsed.cidrs.length === 0) errors.push('--pod-cidrs names no CIDR');
    podCidrs = parsed.cidrs;
  }
  const config: OperatorConfig = Object.freeze({
    namespace: str('namespace'),
    metricsPort: int('metrics-port', defaults.metricsPort, 0, 65535),
    healthPort: int('health-port', defaults.healthPort, 0, 65535),
    bindAddress: str('bind-address') ?? defaults.bindAddress,
    leaderElect: values['leader-elect'] === true,
    leaderElectionNamespace: str('leader-election-namespace') ?? env.POD_NAMESPACE,
    leaseName: str('lease-name') ?? defaults.leaseName,
    identity: str('identity') ?? env.POD_NAME,
    kubeconfig: str('kubeconfig') ?? env.KUBECONFIG,
    workers: int('workers', defaults.workers, 1, 64),
    resyncSeconds: int('resync-seconds', defaults.resyncSeconds, 10, 86_400),
    logLevel,
    tuningIntervalSeconds: int('tuning-interval', defaults.tuningIntervalSeconds, 1, 3600),
    tuningWindowSeconds: values['tuning-window'] === undefined ? undefined : int('tuning-window', 0, 2, 3600),
    prometheusURL,
    podCidrs,
  });
  return errors.length > 0 ? { errors } : { config };
}
