// Synth-time mirrors of the CRDs' CEL rules (x-kubernetes-validations), with the same messages, so a
// mistake fails `npm run synth` instead of an Argo CD sync. A rule that only matches a pattern
// (`self.matches('…')`) is checked with the structural schema instead (api/src/generated, its message kept). The apiserver stays the authority: the
// integration tests dry-run the synthesized objects against it.
import type { Hal9ClusterSpec, NeuronSpec } from '@hal9/api';
import {
  compareAnyQuantities,
  compareQuantities,
  hal9ClusterSpecDefaults,
  isQuantity,
  isWholeQuantity,
  type Quantity,
  quantityString,
  runeLength,
  runtimeMemoryProblem,
  safeSysctls,
  wholeQuantityValue,
} from '@hal9/api';
import { goURL, isGoURL } from './go-url.ts';
import { isLabelKey } from './label-key.ts';

// The safe sysctl set is part of the Hal9 API (the CRDs' CEL rule lists the same names).
export { safeSysctls };

const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The Hal9Cluster's default claude.model, from its CRD. */
const defaultModel = hal9ClusterSpecDefaults.properties.claude.properties.model.default;

/** The sections a Neuron may override; both kinds share their shape and rules. */
type Sections = Pick<
  Hal9ClusterSpec,
  | 'claude'
  | 'performance'
  | 'resources'
  | 'placement'
  | 'nodeTuning'
  | 'autoscaling'
  | 'monitoring'
  | 'tracing'
>;

// The CRDs' CEL rules read URLs with Go's net/url (isURL, url().getScheme/getHostname/getPort), which
// WHATWG's URL parser contradicts both ways (see go-url.ts): the rules are mirrored on goURL.
const printable = /^[!-~]+$/;
const credentials = /^https?:\/\/[^/]*@/i;
// The rules' port bound: at most 5 digits (int() of more could overflow), from 1 to 65535 (port 0 connects
// nowhere).
const portInRange = (port: string): boolean =>
  port === '' || (port.length <= 5 && Number(port) >= 1 && Number(port) <= 65535);

// The CRD's CEL test of tracing.endpoint: an absolute http(s) URL with a host, a port from 1 to 65535 and
// no credentials (they would be in the Deployment's environment), query or fragment.
function isCollectorURL(v: string): boolean {
  const u = goURL(v);
  return (
    u !== undefined &&
    (u.scheme === 'http' || u.scheme === 'https') &&
    u.hostname !== '' &&
    portInRange(u.port) &&
    !credentials.test(v) &&
    !v.includes('?') &&
    !v.includes('#')
  );
}
// The CRD's CEL test of autoscaling.parallelism.prometheusURL: the same, with the scheme in lower case and
// in printable ASCII as the rule asks (Go's URL parser, the apiserver's, takes a non-ASCII host as it is).
const isPrometheusURL = (v: string): boolean =>
  v === '' || (/^https?:\/\/[!-~]+$/.test(v) && isCollectorURL(v));

// The CRDs' second rule on each URL field, on the text as CEL reads it (the same expressions): hosts
// Go's parser takes but the runtime's and the operator's WHATWG parser refuses. The host is what follows
// :// and the userinfo, up to / or ? or the end.
const hostAt = (part: string) => new RegExp(`^[^:]*://([^/?]*@)?${part}([/?]|$)`);
// A zone or an escape (%), < or >, a ] outside brackets, a character outside printable ASCII.
const unreadableHost = hostAt('([^/?@]*[%<>]|[^[/?@][^/?@]*]|[^/?@]*[^!-~])[^/?@]*');
// A host whose last label is a number (decimal, or 0x hex), a trailing dot aside: an IPv4 address to WHATWG.
const numericHost = hostAt('([^[/?@:]*[.])?([0-9]+|0[xX][0-9A-Fa-f]*)[.]?(:[0-9]*)?');
const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const ipv4Host = hostAt(`${octet}([.]${octet}){3}(:[0-9]*)?`);
const unreadable = (v: string): boolean =>
  v !== '' &&
  isGoURL(v) &&
  !v.includes('#') &&
  (unreadableHost.test(v) || (numericHost.test(v) && !ipv4Host.test(v)));
const hostHow =
  'write a DNS name (an internationalized one in its xn-- form), an IPv4 address as four numbers from 0 to 255 without leading zeros such as 10.0.0.1, or an IPv6 address in brackets without a zone such as [fd00::1]; the runtime reads a host that ends in a number as an IPv4 address, so it refuses 256.1.1.1, 1.2.3.4.5 or 127.1, and it refuses an IPv6 zone (%25eth0), < > ] and characters outside ASCII';
// The CRD's CEL test of claude.baseURL: an http:// or https:// URL with a host, a port from 1 to 65535 if
// any, and no credentials before it.
function isBaseURL(v: string): boolean {
  const u = goURL(v);
  return (
    /^https?:\/\//.test(v) &&
    printable.test(v) &&
    u !== undefined &&
    u.hostname !== '' &&
    portInRange(u.port) &&
    !credentials.test(v) &&
    !/[?#]/.test(v)
  );
}
const attributeKey = /^[A-Za-z0-9][-A-Za-z0-9_./]{0,127}$/;

const modelId = /^[A-Za-z0-9][-A-Za-z0-9._:@]*$/;
/** The characters of triggers and responses one layer of claude.mockResponses may hold (the CRDs' rule). */
const mockLayerChars = 96_000;
const cacheOffPerformance =
  "the runtime refuses 0 and negative values. To turn the cache off, remove the layer from performance.cacheLayers (or set a Neuron's cache.enabled: false)";
const cacheOffNeuron =
  'the runtime refuses 0 and negative values. To turn the cache off, set cache.enabled: false';

// The values the safe sysctls take (the CRDs' rules on nodeTuning.sysctls items, same messages).
const sysctlValueShapes: readonly { names: readonly string[]; pattern: RegExp; message: string }[] = [
  {
    names: [
      'kernel.shm_rmid_forced',
      'net.ipv4.ip_unprivileged_port_start',
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
      'net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_syncookies',
    ],
    pattern: /^[0-9]+$/,
    message: 'this sysctl takes one whole number, for example "600"',
  },
  {
    names: ['net.ipv4.ip_local_port_range', 'net.ipv4.ping_group_range'],
    pattern: /^[0-9]+ +[0-9]+$/,
    message:
      'this sysctl takes two whole numbers, the first and the last of a range, for example "1024 65000"',
  },
  {
    names: ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'],
    pattern: /^[0-9]+ +[0-9]+ +[0-9]+$/,
    message: 'this sysctl takes three whole numbers (min, default, max), for example "4096 131072 6291456"',
  },
  {
    names: ['net.ipv4.ip_local_reserved_ports'],
    pattern: /^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/,
    message:
      'net.ipv4.ip_local_reserved_ports takes ports and ranges separated by commas, for example "8080,9000-9100"',
  },
];

// The kernel's bounds on the safe sysctls (the CRDs' rules after the shapes above, same messages; the
// apiserver names the sysctl where a message says "this sysctl"). Each applies once the shape holds.
const fits = (v: string, digits: number, min: number, max: number) =>
  (v.match(/[0-9]+/g) ?? []).every((n) => n.length <= digits && Number(n) >= min && Number(n) <= max);
const firstPort = (v: string) => Number(v.match(/^[0-9]+/)?.[0]);
const lastPort = (v: string) => Number(v.match(/[0-9]+$/)?.[0]);
const safeNames = [...safeSysctls];
const sysctlValueBounds: readonly {
  names: readonly string[];
  ok: (v: string) => boolean;
  message: string;
}[] = [
  {
    names: safeNames,
    ok: (v) => !/(^|[^0-9])0[0-9]/.test(v),
    message:
      'this sysctl takes numbers without leading zeros (the kernel reads 010 as octal 8 and refuses 08): remove them',
  },
  {
    names: ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_time'],
    ok: (v) => fits(v, 7, 0, 2147483),
    message:
      'this sysctl is a number of seconds, at most 2147483 (a kernel with HZ 1000 refuses more): lower it',
  },
  {
    names: ['net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_syncookies'],
    ok: (v) => fits(v, 3, 0, 255),
    message: 'this sysctl is at most 255 (the kernel keeps it in one byte): lower it',
  },
  {
    names: ['kernel.shm_rmid_forced'],
    ok: (v) => v === '0' || v === '1',
    message: 'kernel.shm_rmid_forced takes 0 or 1',
  },
  {
    names: ['net.ipv4.ip_unprivileged_port_start'],
    ok: (v) => fits(v, 5, 0, 8080),
    message:
      'net.ipv4.ip_unprivileged_port_start must be at most 8080: the runtime runs as a user without root or capabilities and listens on port 8080, which a higher start makes privileged (its listen fails with EACCES, and no pod becomes ready); lower it',
  },
  {
    names: ['net.ipv4.ip_local_port_range'],
    ok: (v) => fits(v, 5, 0, 65535),
    message: 'net.ipv4.ip_local_port_range takes ports, at most 65535: lower the one above',
  },
  {
    names: ['net.ipv4.ip_local_port_range'],
    ok: (v) => (v.match(/^[0-9]+/)?.[0].length ?? 0) > 4 || firstPort(v) >= 1024,
    message:
      "net.ipv4.ip_local_port_range must start at 1024 or above: the kernel refuses a range that starts below net.ipv4.ip_unprivileged_port_start, which is 1024 until that is written (the container runtime writes a pod's sysctls in no fixed order); raise the first port",
  },
  {
    names: ['net.ipv4.ip_local_port_range'],
    ok: (v) => !/^[0-9]{1,5} +[0-9]{1,5}$/.test(v) || firstPort(v) <= lastPort(v),
    message:
      'net.ipv4.ip_local_port_range is the first and the last port, the first not above the last: swap them, for example "1024 65000"',
  },
  {
    names: ['net.ipv4.ping_group_range'],
    ok: (v) => fits(v, 10, 0, 4294967294),
    message:
      'net.ipv4.ping_group_range takes group IDs from 0 to 4294967294: lower the one above (a first above the last, as in the default "1 0", turns ping sockets off)',
  },
  {
    names: ['net.ipv4.tcp_rmem'],
    ok: (v) => fits(v, 10, 4096, 2147483647),
    message:
      'net.ipv4.tcp_rmem takes three sizes in bytes, each from 4096 to 2147483647 (recent kernels refuse less than 4096), for example "4096 131072 6291456"',
  },
  {
    names: ['net.ipv4.tcp_wmem'],
    ok: (v) => fits(v, 10, 1, 2147483647),
    message:
      'net.ipv4.tcp_wmem takes three sizes in bytes, each from 1 to 2147483647, for example "4096 16384 4194304"',
  },
  {
    names: ['net.ipv4.ip_local_reserved_ports'],
    ok: (v) => fits(v, 5, 0, 65535),
    message: 'net.ipv4.ip_local_reserved_ports takes ports, at most 65535: lower the ones above',
  },
  {
    names: ['net.ipv4.ip_local_reserved_ports'],
    ok: (v) =>
      !/^[0-9]{1,5}(-[0-9]{1,5})?(,[0-9]{1,5}(-[0-9]{1,5})?)*$/.test(v) ||
      (v.match(/[0-9]+-[0-9]+/g) ?? []).every((r) => firstPort(r) <= lastPort(r)),
    message:
      'net.ipv4.ip_local_reserved_ports ranges go from the lower port to the higher: swap them, for example "9000-9100"',
  },
];

interface NodeLabel {
  readonly key: string;
  readonly operator?: string;
  readonly values?: readonly string[];
}

function nodeLabelRules(list: readonly NodeLabel[] | undefined, path: string): string[] {
  const problems: string[] = [];
  (list ?? []).forEach((l, i) => {
    if (!isLabelKey(l.key)) {
      problems.push(
        `${path}[${i}].key: key must be a node label key: an optional prefix and / (a DNS subdomain: lower-case parts of letters, digits and -, joined by single dots, at most 253 characters), then at most 63 letters, digits and -_., starting and ending with a letter or digit`,
      );
    }
    // A missing operator is In, as the renderer writes it into the pod's node affinity.
    const op = l.operator ?? 'In';
    const n = l.values?.length ?? 0;
    if ((op === 'In' || op === 'NotIn') && n === 0) {
      problems.push(
        `${path}[${i}].values: operator In and NotIn need at least one entry in values (a missing operator is In): list the label values to match, or use operator Exists or DoesNotExist`,
      );
    }
    if ((op === 'Exists' || op === 'DoesNotExist') && n > 0) {
      problems.push(
        `${path}[${i}].values: operator Exists and DoesNotExist take no values: remove values or use In/NotIn`,
      );
    }
  });
  return problems;
}

// Exact, as CEL's quantity().compareTo: "0.7" is not lower than "700m". As in the CRDs, a malformed
// quantity is not compared (its own rule reports it).
const lower = (a: Quantity | undefined, b: Quantity | undefined): boolean =>
  a !== undefined && b !== undefined && isQuantity(a) && isQuantity(b) && (compareQuantities(a, b) ?? 0) < 0;

// The CRDs' rule on each quantity field (int-or-string): a non-negative integer or a quantity string.
const quantityMessages = {
  requests: {
    cpu: 'resources.requests.cpu must be a non-negative CPU quantity: cores (2, "0.5") or millicores ("1500m")',
    memory:
      'resources.requests.memory must be a non-negative memory quantity such as "512Mi" or "2Gi" (Ki, Mi, Gi, Ti: powers of 1024; k, M, G, T: powers of 1000); "GB" and "MiB" are not units',
  },
  limits: {
    cpu: 'resources.limits.cpu must be a non-negative CPU quantity: cores (2, "0.5") or millicores ("1500m")',
    memory:
      'resources.limits.memory must be a non-negative memory quantity such as "512Mi" or "2Gi" (Ki, Mi, Gi, Ti: powers of 1024; k, M, G, T: powers of 1000); "GB" and "MiB" are not units',
  },
  hugepages:
    'nodeTuning.hugepages.quantity must be a non-negative memory quantity such as "512Mi" or "1Gi" (Ki, Mi, Gi, Ti: powers of 1024; k, M, G, T: powers of 1000); "GB" and "MiB" are not units',
};

// The CRDs' upper bounds on CPU and memory: more than any node has, and a memory limit beyond them made a
// heap flag node refuses (--max-old-space-size=Infinity, or a number in exponent notation).
const quantityBounds = {
  cpu: '8192',
  memory: '1Pi',
} as const;
const aboveBoundMessages = {
  requests: {
    cpu: 'resources.requests.cpu must be at most 8192 cores, more than any node has (Linux runs at most 8192 CPUs): write cores (2, "0.5") or millicores ("1500m")',
    memory:
      'resources.requests.memory must be at most 1Pi, more than any node has: write the amount in Mi, Gi or Ti, for example "4Gi"',
  },
  limits: {
    cpu: 'resources.limits.cpu must be at most 8192 cores, more than any node has (Linux runs at most 8192 CPUs): write cores (2, "0.5") or millicores ("1500m")',
    memory:
      'resources.limits.memory must be at most 1Pi, more than any node has: write the amount in Mi, Gi or Ti, for example "4Gi"',
  },
};
/** Whether a well-formed quantity is above 0 (CEL's isGreaterThan(quantity('0'))): a digit other than 0. */
const positive = (q: Quantity): boolean =>
  /[1-9]/.test(/^\+?(\d+(?:\.\d*)?|\.\d+)/.exec(quantityString(q))?.[1] ?? '');

const hugepageBytes = { '2Mi': 2n ** 21n, '1Gi': 2n ** 30n } as const;

/**
 * The CRDs' rule on nodeTuning.hugepages: a positive whole number of pages (of 2Mi when size is unset),
 * compared by value as CEL does ("1.5Gi" is 768 pages of 2Mi), below the rule's bound of 10^15 bytes.
 * A malformed quantity is its own rule's problem.
 */
function wholePages(q: Quantity, size: '2Mi' | '1Gi' | undefined): boolean {
  if (!isQuantity(q)) return true;
  const bytes = wholeQuantityValue(q);
  return (
    bytes !== undefined && bytes > 0n && bytes < 10n ** 15n && bytes % hugepageBytes[size ?? '2Mi'] === 0n
  );
}

/** Rules of the sections shared by Hal9Cluster and Neuron; `p` is the path of the spec. */
export function sectionRules(s: Sections, p: string, model = s.claude?.model): string[] {
  const problems: string[] = [];
  const c = s.claude;
  for (const key of Object.keys(c?.mockResponses ?? {})) {
    if (!/^L[1-9]$/.test(key)) {
      problems.push(
        `${p}.claude.mockResponses.${key}: claude.mockResponses keys must be layers L1 to L9; rename or remove the other keys`,
      );
    }
  }
  if (c?.baseURL !== undefined && c.baseURL !== '' && !isBaseURL(c.baseURL)) {
    problems.push(
      `${p}.claude.baseURL: claude.baseURL must be an http:// or https:// URL with a host, a port from 1 to 65535 if any, and without credentials (user:password@), a query (?) or a fragment (#), in printable ASCII: the runtime refuses a secret in a URL, which it logs, and appends /v1/messages to it; the API key goes in the Secret claude.apiKeySecretRef names`,
    );
  }
  if (c?.baseURL !== undefined && unreadable(c.baseURL)) {
    problems.push(
      `${p}.claude.baseURL (${JSON.stringify(c.baseURL)}): claude.baseURL has a host the runtime cannot read: ${hostHow}`,
    );
  }
  // Only one layer's answers go into a runtime's configuration, beside its system prompt: the CRDs bound
  // each layer so that the largest configuration fits a ConfigMap (CEL's size() counts code points).
  for (const [layer, answers] of Object.entries(c?.mockResponses ?? {})) {
    const chars = answers.reduce((n, a) => n + runeLength(a.trigger) + runeLength(a.response), 0);
    if (chars > mockLayerChars) {
      problems.push(
        `${p}.claude.mockResponses.${layer} (${chars} characters): claude.mockResponses holds more than 96000 characters of triggers and responses in one layer, more than the runtime configuration holds beside its system prompt (a ConfigMap holds 1 MiB): shorten or remove answers of that layer`,
      );
    }
  }
  const rt = c?.retry;
  if (rt?.baseDelayMs !== undefined && rt.maxDelayMs !== undefined && rt.baseDelayMs > rt.maxDelayMs) {
    problems.push(
      `${p}.claude.retry.baseDelayMs (${rt.baseDelayMs}): claude.retry.baseDelayMs must not exceed claude.retry.maxDelayMs (${rt.maxDelayMs}): lower baseDelayMs or raise maxDelayMs`,
    );
  }
  if (model !== undefined && c?.fallbackModels?.includes(model)) {
    problems.push(
      `${p}.claude.fallbackModels (${JSON.stringify(model)}): claude.fallbackModels must not contain claude.model: a fallback stands in for claude.model when it is overloaded, so remove claude.model from claude.fallbackModels`,
    );
  }
  for (const model of Object.keys(c?.prices ?? {})) {
    // CEL's size() on a string counts code points, as runeLength does.
    if (runeLength(model) > 128 || !modelId.test(model)) {
      problems.push(
        `${p}.claude.prices.${JSON.stringify(model)}: claude.prices keys must be model ids (at most 128 letters, digits and -._:@, starting with a letter or digit); rename the other keys`,
      );
    }
  }
  const cacheBounds = {
    cacheTtlSeconds: 'performance.cacheTtlSeconds must be at least 1',
    cacheMaxEntries: 'performance.cacheMaxEntries must be at least 1',
  };
  for (const [key, message] of Object.entries(cacheBounds) as [keyof typeof cacheBounds, string][]) {
    const v = s.performance?.[key];
    if (v !== undefined && v < 1)
      problems.push(`${p}.performance.${key} (${v}): ${message}: ${cacheOffPerformance}`);
  }
  const r = s.resources;
  const limitBelowRequest = {
    cpu: 'resources.limits.cpu is lower than resources.requests.cpu: raise the limit or lower the request',
    memory:
      'resources.limits.memory is lower than resources.requests.memory: raise the limit or lower the request',
  };
  for (const res of ['cpu', 'memory'] as const) {
    if (lower(r?.limits?.[res], r?.requests?.[res])) {
      problems.push(`${p}.resources.limits.${res}: ${limitBelowRequest[res]}`);
    }
    for (const side of ['requests', 'limits'] as const) {
      const v = r?.[side]?.[res];
      if (v !== undefined && !isQuantity(v)) {
        problems.push(`${p}.resources.${side}.${res} (${JSON.stringify(v)}): ${quantityMessages[side][res]}`);
      }
      // The CRDs' floor on memory (64Mi requested, 128Mi limit), with their message.
      const tooLittle = res === 'memory' && v !== undefined ? runtimeMemoryProblem(side, v) : undefined;
      if (tooLittle) problems.push(`${p}.resources.${side}.memory (${JSON.stringify(v)}): ${tooLittle}`);
      if (v !== undefined && isQuantity(v) && compareAnyQuantities(v, quantityBounds[res]) > 0) {
        problems.push(
          `${p}.resources.${side}.${res} (${JSON.stringify(v)}): ${aboveBoundMessages[side][res]}`,
        );
      }
    }
  }
  for (const key of Object.keys(s.placement?.nodeSelector ?? {})) {
    if (!isLabelKey(key)) {
      problems.push(
        `${p}.placement.nodeSelector: each nodeSelector key must be a node label key: an optional prefix and / (a DNS subdomain: lower-case parts of letters, digits and -, joined by single dots, at most 253 characters), then at most 63 letters, digits and -_., starting and ending with a letter or digit`,
      );
    }
  }
  problems.push(...nodeLabelRules(s.placement?.requiredNodeLabels, `${p}.placement.requiredNodeLabels`));
  problems.push(...nodeLabelRules(s.placement?.preferredNodeLabels, `${p}.placement.preferredNodeLabels`));
  const topologyKey = s.placement?.topologySpread?.topologyKey;
  if (topologyKey !== undefined && !isLabelKey(topologyKey)) {
    problems.push(
      `${p}.placement.topologySpread.topologyKey (${JSON.stringify(topologyKey)}): placement.topologySpread.topologyKey must be a node label key such as kubernetes.io/hostname or topology.kubernetes.io/zone: an optional prefix and / (a DNS subdomain: lower-case parts of letters, digits and -, joined by single dots, at most 253 characters), then at most 63 letters, digits and -_., starting and ending with a letter or digit`,
    );
  }
  (s.placement?.tolerations ?? []).forEach((t, i) => {
    // A missing operator is Equal, as in a pod's tolerations.
    const op = t.operator ?? 'Equal';
    if (t.key && !isLabelKey(t.key)) {
      problems.push(
        `${p}.placement.tolerations[${i}].key: key must be a taint key: an optional prefix and / (a DNS subdomain: lower-case parts of letters, digits and -, joined by single dots, at most 253 characters), then at most 63 letters, digits and -_., starting and ending with a letter or digit`,
      );
    }
    if (op === 'Exists' && t.value) {
      problems.push(
        `${p}.placement.tolerations[${i}].value: a toleration with operator Exists takes no value: remove value or use Equal`,
      );
    }
    if (op !== 'Exists' && !t.key) {
      problems.push(
        `${p}.placement.tolerations[${i}].key: a toleration with operator Equal needs a key; use operator: Exists to tolerate every taint`,
      );
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      problems.push(
        `${p}.placement.tolerations[${i}].tolerationSeconds: tolerationSeconds applies only to effect NoExecute: set effect: NoExecute or remove tolerationSeconds`,
      );
    }
  });
  const nt = s.nodeTuning;
  const hugepages = nt?.hugepages?.quantity;
  if (hugepages !== undefined && !isQuantity(hugepages)) {
    problems.push(
      `${p}.nodeTuning.hugepages.quantity (${JSON.stringify(hugepages)}): ${quantityMessages.hugepages}`,
    );
  }
  if (hugepages !== undefined && !wholePages(hugepages, nt?.hugepages?.size)) {
    problems.push(
      `${p}.nodeTuning.hugepages.quantity (${JSON.stringify(hugepages)}): nodeTuning.hugepages.quantity must be a positive whole number of pages of nodeTuning.hugepages.size (2Mi unless set to 1Gi): round it to a multiple of the page size, for example "512Mi" of 2Mi pages or "2Gi" of 1Gi pages`,
    );
  }
  (nt?.sysctls ?? []).forEach((x, i) => {
    if (x.name.includes('/')) {
      problems.push(
        `${p}.nodeTuning.sysctls[${i}].name (${JSON.stringify(x.name)}): write the sysctl name with dots (net.ipv4.tcp_keepalive_time, not net/ipv4/tcp_keepalive_time): the safe set and Pod Security Admission compare names as written`,
      );
    }
    const shape = sysctlValueShapes.find((v) => v.names.includes(x.name));
    const at = `${p}.nodeTuning.sysctls[${i}].value (${JSON.stringify(x.value)})`;
    const shapeOk = !shape || shape.pattern.test(x.value);
    if (!shapeOk) problems.push(`${at}: ${shape.message}`);
    // Leading zeros are refused whatever the shape; the bounds apply once it holds.
    for (const [j, bound] of sysctlValueBounds.entries()) {
      if ((j === 0 || shapeOk) && bound.names.includes(x.name) && !bound.ok(x.value))
        problems.push(`${at}: ${bound.message.replace('this sysctl', x.name)}`);
    }
  });
  // The container runtime writes a pod's sysctls in no fixed order: each rule above also holds
  // against the other's default; this one, when both are set, against each other.
  const sysctlValue = (name: string) => nt?.sysctls?.find((x) => x.name === name)?.value;
  const start = sysctlValue('net.ipv4.ip_unprivileged_port_start');
  const range = sysctlValue('net.ipv4.ip_local_port_range');
  if (
    start !== undefined &&
    range !== undefined &&
    /^[0-9]{1,5}$/.test(start) &&
    /^[0-9]{1,5} +[0-9]{1,5}$/.test(range) &&
    Number(start) > firstPort(range)
  ) {
    problems.push(
      `${p}.nodeTuning.sysctls (net.ipv4.ip_unprivileged_port_start ${start}, net.ipv4.ip_local_port_range ${JSON.stringify(range)}): net.ipv4.ip_unprivileged_port_start must not be above the first port of net.ipv4.ip_local_port_range (the kernel refuses it): lower the start or raise the range's first port`,
    );
  }
  const unsafe = (nt?.sysctls ?? [])
    .map((x) => x.name)
    .filter((n) => !n.includes('/') && !safeSysctls.has(n));
  if (unsafe.length > 0 && !nt?.privilegedSysctlInitContainer) {
    problems.push(
      `${p}.nodeTuning.sysctls (${unsafe.join(', ')}): nodeTuning.sysctls has a sysctl outside the safe set: set nodeTuning.privilegedSysctlInitContainer: true (privileged init container) or remove it`,
    );
  }
  const thp = nt?.transparentHugepages;
  if (thp !== undefined && thp !== 'unset' && !nt?.thpInitContainer) {
    problems.push(
      `${p}.nodeTuning.transparentHugepages: nodeTuning.transparentHugepages needs nodeTuning.thpInitContainer: true (a privileged init container writes it on the node), or set it to unset`,
    );
  }
  if (nt?.thpInitContainer && (thp === undefined || thp === 'unset')) {
    problems.push(
      `${p}.nodeTuning.thpInitContainer: nodeTuning.thpInitContainer is true but transparentHugepages is unset: choose always, madvise or never, or turn the init container off`,
    );
  }
  const a = s.autoscaling;
  if (a?.minReplicas !== undefined && a.maxReplicas !== undefined && a.minReplicas > a.maxReplicas) {
    problems.push(
      `${p}.autoscaling.minReplicas (${a.minReplicas}): autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas (${a.maxReplicas}): lower minReplicas or raise maxReplicas`,
    );
  }
  if (
    a?.panicWindowSeconds !== undefined &&
    a.stableWindowSeconds !== undefined &&
    a.panicWindowSeconds > a.stableWindowSeconds
  ) {
    problems.push(
      `${p}.autoscaling.panicWindowSeconds (${a.panicWindowSeconds}): autoscaling.panicWindowSeconds must not exceed autoscaling.stableWindowSeconds (${a.stableWindowSeconds}): shorten the panic window or lengthen the stable window`,
    );
  }
  const si = s.monitoring?.scrapeInterval;
  const sd = si === undefined ? null : /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(si);
  if (si !== undefined && !(sd && /[1-9]/.test(si))) {
    problems.push(
      `${p}.monitoring.scrapeInterval (${JSON.stringify(si)}): monitoring.scrapeInterval must be a positive duration in h, m, s and ms, in that order, such as 15s, 30s or 1m (as Prometheus writes them)`,
    );
  } else if (sd) {
    const ms =
      Number(sd[1] ?? 0) * 3_600_000 +
      Number(sd[2] ?? 0) * 60_000 +
      Number(sd[3] ?? 0) * 1000 +
      Number(sd[4] ?? 0);
    if (ms < 1000 || ms > 60_000) {
      problems.push(
        `${p}.monitoring.scrapeInterval (${JSON.stringify(si)}): monitoring.scrapeInterval must be between 1s and 1m, such as 15s or 30s (the shipped alerts read 2m windows)`,
      );
    }
  }
  for (const key of Object.keys(s.monitoring?.serviceMonitorLabels ?? {})) {
    if (!isLabelKey(key)) {
      problems.push(
        `${p}.monitoring.serviceMonitorLabels: each serviceMonitorLabels key must be a label key: an optional prefix and / (a DNS subdomain: lower-case parts of letters, digits and -, joined by single dots, at most 253 characters), then at most 63 letters, digits and -_., starting and ending with a letter or digit`,
      );
    }
  }
  const t = s.tracing;
  if (t?.endpoint !== undefined && !isCollectorURL(t.endpoint)) {
    problems.push(
      `${p}.tracing.endpoint (${JSON.stringify(t.endpoint)}): tracing.endpoint must be the http:// or https:// base URL of an OTLP/HTTP collector, with a host, a port from 1 to 65535, and no credentials (user:password@), query or fragment, for example http://otel-collector.observability:4318: a password in it would be in the Deployment's environment; the collector's credentials go in the Secret tracing.headersSecretRef names`,
    );
  }
  if (t?.endpoint !== undefined && unreadable(t.endpoint)) {
    problems.push(
      `${p}.tracing.endpoint (${JSON.stringify(t.endpoint)}): tracing.endpoint has a host the runtime cannot read: ${hostHow}`,
    );
  }
  const timeout = t?.timeout;
  if (timeout !== undefined) {
    const d = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(timeout);
    if (!d || !/[1-9]/.test(timeout)) {
      problems.push(
        `${p}.tracing.timeout (${JSON.stringify(timeout)}): tracing.timeout must be a duration above 0 in h, m, s and ms, in that order, such as 10s, 2s500ms or 500ms`,
      );
    } else if (
      // As the CRD's rule, which refuses a number of 7 significant digits or more (at least 1000 s in any
      // unit) before duration() reads it; leading zeros do not count.
      /[1-9][0-9]{6,}/.test(timeout) ||
      Number(d[1] ?? 0) * 3_600_000 +
        Number(d[2] ?? 0) * 60_000 +
        Number(d[3] ?? 0) * 1000 +
        Number(d[4] ?? 0) >
        30_000
    ) {
      problems.push(
        `${p}.tracing.timeout (${JSON.stringify(timeout)}): tracing.timeout must be at most 30s (the batch span processor gives up on an export after 30s): write a shorter duration such as 10s`,
      );
    }
  }
  const https = t?.endpoint === undefined || t.endpoint.toLowerCase().startsWith('https://');
  if (t?.caSecretRef && !https) {
    problems.push(
      `${p}.tracing.caSecretRef: tracing.caSecretRef is the CA of a collector behind TLS, but tracing.endpoint is not https://: write the endpoint as https://<host>:<port>, or remove caSecretRef`,
    );
  }
  if (t?.clientCertSecretRef && !https) {
    problems.push(
      `${p}.tracing.clientCertSecretRef: tracing.clientCertSecretRef is a client certificate for a collector behind TLS, but tracing.endpoint is not https://: write the endpoint as https://<host>:<port>, or remove clientCertSecretRef`,
    );
  }
  for (const key of Object.keys(t?.resourceAttributes ?? {})) {
    if (!attributeKey.test(key)) {
      problems.push(
        `${p}.tracing.resourceAttributes: each tracing.resourceAttributes key must be at most 128 letters, digits and -_./, starting with a letter or digit, for example deployment.environment.name`,
      );
    }
  }
  const par = a?.parallelism;
  if (par?.min !== undefined && par.max !== undefined && par.min > par.max) {
    problems.push(
      `${p}.autoscaling.parallelism.min (${par.min}): autoscaling.parallelism.min must be less than or equal to autoscaling.parallelism.max (${par.max}): lower min or raise max`,
    );
  }
  if (par?.prometheusURL !== undefined && !isPrometheusURL(par.prometheusURL)) {
    problems.push(
      `${p}.autoscaling.parallelism.prometheusURL (${JSON.stringify(par.prometheusURL)}): autoscaling.parallelism.prometheusURL must be the http:// or https:// base URL of the Prometheus API, with a host, a port from 1 to 65535 and no credentials (user:password@), query or fragment, in printable ASCII, for example http://prometheus.monitoring.svc:9090; for a Prometheus behind auth, start the operator with --prometheus-bearer-token-file`,
    );
  }
  if (par?.prometheusURL !== undefined && unreadable(par.prometheusURL)) {
    problems.push(
      `${p}.autoscaling.parallelism.prometheusURL (${JSON.stringify(par.prometheusURL)}): autoscaling.parallelism.prometheusURL has a host the runtime cannot read: ${hostHow}`,
    );
  }
  return problems;
}

/** Rules of a Hal9Cluster; `spec` has the schema defaults applied, as the apiserver validates it. */
export function clusterRules(name: string, spec: Hal9ClusterSpec): string[] {
  const problems: string[] = [];
  if (!dnsLabel.test(name) || runeLength(name) > 63) {
    problems.push(
      `metadata.name (${JSON.stringify(name)}): Hal9Cluster names must be DNS labels: at most 63 lowercase letters, digits and '-', starting with a letter (the name is used as a label value)`,
    );
  }
  // The apiserver defaults claude.model before the rules run: the rule on fallbackModels sees it.
  problems.push(...sectionRules(spec, 'spec', spec.claude?.model ?? defaultModel));
  if (spec.tracing && spec.tracing.endpoint === undefined) {
    problems.push(
      "spec.tracing.endpoint: tracing needs an endpoint: set tracing.endpoint to the collector's OTLP/HTTP URL, for example http://otel-collector.observability:4318, or remove the tracing section",
    );
  }
  // A rule across the cluster's sections: a Neuron may take its key from its Hal9Cluster, which
  // Hal9Platform checks on the merged pair (the operator refuses to render the pair otherwise).
  const c = spec.claude;
  if (c?.mode === 'api' && !c.apiKeySecretRef) {
    problems.push(
      'spec.claude: claude.mode is api but claude.apiKeySecretRef is missing: set apiKeySecretRef.name (and key) to the Secret holding the Anthropic API key, or use mode mock',
    );
  }
  const r = spec.resources;
  const nt = spec.nodeTuning;
  // Absent resources are the defaults the operator applies, which request CPU and memory.
  if (
    nt?.hugepages &&
    r !== undefined &&
    r.requests?.memory === undefined &&
    r.limits?.memory === undefined
  ) {
    problems.push(
      'spec.resources: nodeTuning.hugepages needs a memory request: set resources.requests.memory (or resources.limits.memory, which is then the request), or leave resources out for the defaults',
    );
  }
  const a = spec.autoscaling;
  if (
    a?.enabled &&
    a.mode === 'hpa' &&
    r !== undefined &&
    r.requests?.cpu === undefined &&
    r.limits?.cpu === undefined
  ) {
    problems.push(
      'spec.resources: autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request, and an HPA without one never scales: set resources.requests.cpu (or resources.limits.cpu, which is then the request), or use autoscaling.mode: operator',
    );
  }
  // A request of 0 is none to the HPA. A CPU limit alone is the request; a malformed one is its own rule's.
  const hpaCpu = r?.requests?.cpu ?? r?.limits?.cpu;
  if (a?.enabled && a.mode === 'hpa' && hpaCpu !== undefined && isQuantity(hpaCpu) && !positive(hpaCpu)) {
    problems.push(
      `spec.resources (cpu ${JSON.stringify(hpaCpu)}): autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request, and the CPU request is 0: set resources.requests.cpu (or resources.limits.cpu, which is then the request) above 0, or use autoscaling.mode: operator`,
    );
  }
  if (nt?.cpuPinning) {
    // A malformed limit is reported by its own rule, not as a fraction of a CPU; 0 CPUs pin no core.
    const cpu = r?.limits?.cpu;
    if (
      cpu === undefined ||
      (isQuantity(cpu) && (isWholeQuantity(cpu) === false || compareAnyQuantities(cpu, 1) < 0))
    ) {
      problems.push(
        'spec.resources.limits: nodeTuning.cpuPinning needs an integer CPU limit of at least 1 (for example "2", not "1500m" or 0): set resources.limits.cpu to whole cores',
      );
    }
    if (r?.limits?.memory === undefined) {
      problems.push(
        'spec.resources.limits: nodeTuning.cpuPinning needs a memory limit for Guaranteed QoS: set resources.limits.memory (and resources.requests.memory, if you set it, to the same value)',
      );
    }
    const same = (res: 'cpu' | 'memory') => {
      const request = r?.requests?.[res];
      const limit = r?.limits?.[res];
      return (
        request === undefined ||
        (limit !== undefined &&
          (!isQuantity(request) || !isQuantity(limit) || compareQuantities(request, limit) === 0))
      );
    };
    if (r?.requests && !(same('cpu') && same('memory'))) {
      problems.push(
        'spec.resources.requests: nodeTuning.cpuPinning needs Guaranteed QoS: make resources.requests equal resources.limits for cpu and memory',
      );
    }
  }
  return problems;
}

/** Rules of a Neuron. */
export function neuronRules(name: string, spec: NeuronSpec): string[] {
  const problems: string[] = [];
  if (!dnsLabel.test(name) || runeLength(name) > 63) {
    problems.push(
      `metadata.name (${JSON.stringify(name)}): Neuron names must be DNS labels: at most 63 lowercase letters, digits and '-', starting with a letter (the name is the neuron id and the name of its Service)`,
    );
  }
  if (spec.forwardConnections?.includes(name)) {
    problems.push(
      'spec.forwardConnections: spec.forwardConnections must not contain the neuron itself: remove its own name from the list',
    );
  }
  if (spec.backwardConnections?.includes(name)) {
    problems.push(
      'spec.backwardConnections: spec.backwardConnections must not contain the neuron itself: remove its own name from the list',
    );
  }
  const cacheBounds = {
    ttlSeconds: 'cache.ttlSeconds must be at least 1',
    maxEntries: 'cache.maxEntries must be at least 1',
  };
  for (const [key, message] of Object.entries(cacheBounds) as [keyof typeof cacheBounds, string][]) {
    const v = spec.cache?.[key];
    if (v !== undefined && v < 1) problems.push(`spec.cache.${key} (${v}): ${message}: ${cacheOffNeuron}`);
  }
  // The runtime answers with its layer's entries only. (The apiserver keeps another layer a Neuron stored
  // before this rule held, unchanged; a definition in code is new.)
  const others = Object.keys(spec.claude?.mockResponses ?? {}).filter((k) => k !== spec.layer);
  if (others.length > 0) {
    problems.push(
      `spec.claude.mockResponses (${others.join(', ')}): claude.mockResponses may hold only the answers of spec.layer, ${spec.layer}: remove the other layers (the runtime never uses them), or set them on the Hal9Cluster or on a Neuron of their layer`,
    );
  }
  // The runtime sends its API key to claude.baseURL: a Neuron that sets one names its own key, never
  // taking its Hal9Cluster's (the platform's) to a server the Neuron's author chose.
  if (spec.claude?.baseURL !== undefined && !spec.claude.apiKeySecretRef) {
    problems.push(
      "spec.claude.apiKeySecretRef: claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef: the Hal9Cluster's API key goes only to the Hal9Cluster's URL, never to one a Neuron chooses; name a Secret of the Neuron's namespace in claude.apiKeySecretRef, or remove claude.baseURL",
    );
  }
  // The privileged init containers run it as root on the node: the Hal9Cluster's to choose. (The
  // apiserver keeps one a Neuron stored before this rule held, unchanged; a definition in code is new.)
  if (spec.nodeTuning?.initImage !== undefined) {
    problems.push(
      `spec.nodeTuning.initImage (${JSON.stringify(spec.nodeTuning.initImage)}): nodeTuning.initImage may be set only on the Hal9Cluster: the privileged init containers run it as root on the node, so a Neuron may not choose it; remove it from the Neuron, and set it on the Hal9Cluster`,
    );
  }
  if (spec.nodeTuning?.neuronSysctls !== undefined) {
    problems.push(
      'spec.nodeTuning.neuronSysctls: nodeTuning.neuronSysctls may be set only on the Hal9Cluster: it says which sysctls the privileged init container may write for its Neurons; remove it from the Neuron, and set it on the Hal9Cluster',
    );
  }
  problems.push(...sectionRules(spec, 'spec'));
  return problems;
}
