import type {
  V1Container,
  V1ResourceRequirements,
  V1Sysctl,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { EffectiveNeuronSpec } from '../spec/effective-spec.ts';
import { Reason } from '../status/reasons.ts';
import { runtimePort } from './labels.ts';
import {
  cpuRoundedToMilli,
  memoryRoundedToBytes,
  milliCpu,
  parseQuantity,
  type Quantity,
  quantityString,
  sameQuantity,
  wholeQuantityValue,
} from './quantity.ts';
import { RenderRefusedError } from './render-refused.ts';
import { isSafeSysctl } from './sysctls.ts';

export interface PodTuning {
  readonly resources: V1ResourceRequirements;
  /**
   * Memory limit in bytes, for the Node.js heap size; undefined without a limit. A request is not a
   * bound: a Burstable pod may use the node's free memory, and a heap cut to 75 % of its request
   * would run out under a load the pod could carry.
   */
  readonly memoryBytes: number | undefined;
  readonly sysctls: V1Sysctl[];
  readonly initContainers: V1Container[];
  readonly volumes: V1Volume[];
  readonly runtimeMounts: V1VolumeMount[];
  readonly warnings: string[];
  /** Set when the spec asks for privileged init containers the policy does not allow (none are rendered). */
  readonly denied?: { readonly reason: string; readonly message: string };
}

/**
 * Whether privileged init containers may be rendered for a Neuron, and what to tell the user when not.
 * The operator decides it per namespace from --allow-privileged-namespaces (a cluster admin's choice):
 * a Hal9Cluster's author alone cannot make the operator create privileged, root, hostPath containers.
 */
export interface PrivilegedPolicy {
  readonly allowed: boolean;
  /** Appended to the Degraded message: how a cluster admin allows it. */
  readonly howToAllow: string;
}

export const privilegedNotAllowedReason = Reason.PrivilegedNotAllowed;

/** The policy for one namespace, from the operator's allow-list ('*' allows every namespace). */
export function privilegedPolicy(allowList: readonly string[], namespace: string): PrivilegedPolicy {
  return {
    allowed: allowList.includes('*') || allowList.includes(namespace),
    howToAllow: `a cluster admin allows them by starting the operator with --allow-privileged-namespaces=${namespace} (chart value privileged.allowedNamespaces), or turn nodeTuning.privilegedSysctlInitContainer and nodeTuning.thpInitContainer off`,
  };
}

// Sysctls a kernel namespace holds (Kubernetes' list: kernel.shm*, kernel.msg*, kernel.sem in the IPC
// namespace, fs.mqueue.* too, net.* in the network namespace); any other is the node's own.
const namespaced = /^(kernel\.(shm|msg|sem)|fs\.mqueue\.|net\.)/;
// Most of net.core is global: only the node's network namespace has it (netdev_max_backlog on every
// kernel, rmem_max, wmem_max and their defaults until recent ones), not the pod's, where the init
// container runs. somaxconn and the xfrm ones have been per namespace for long.
const netCoreNamespaced = /^net\.core\.(somaxconn|xfrm_[a-z_]+)$/;

/**
 * What the privileged init container's sysctls do beyond the pod: the node-level ones are written for
 * the whole node and stay after the pod; the global net.core ones are not in the pod's network
 * namespace, so `sysctl -w` fails on them and the pod never starts.
 */
function sysctlScopeWarnings(names: readonly string[]): string {
  const nodeWide = names.filter((n) => !namespaced.test(n));
  const global = names.filter((n) => n.startsWith('net.core.') && !netCoreNamespaced.test(n));
  return [
    ...(nodeWide.length > 0
      ? [
          `${nodeWide.join(', ')} ${nodeWide.length === 1 ? 'is' : 'are'} written node-wide: every pod on the node gets ${nodeWide.length === 1 ? 'it' : 'them'}, and ${nodeWide.length === 1 ? 'it outlives' : 'they outlive'} the pod`,
        ]
      : []),
    ...(global.length > 0
      ? [
          `${global.join(', ')}: net.core sysctls other than somaxconn are global on most kernels and do not exist in the pod's network namespace, so the init container fails (sysctl: cannot stat /proc/sys/net/core/…) and the pod never starts (Init:CrashLoopBackOff); set them on the node instead`,
        ]
      : []),
  ]
    .map((w) => `; ${w}`)
    .join('');
}

const hugepagesMountPath = '/hugepages';
const hostSysMountPath = '/host/sys';

// Privileged init containers are small and have requests = limits so that they keep Guaranteed QoS.
const initResources: V1ResourceRequirements = {
  requests: { cpu: '100m', memory: '32Mi' },
  limits: { cpu: '100m', memory: '32Mi' },
};

function privilegedContainer(
  name: string,
  image: string,
  command: string[],
  mounts: V1VolumeMount[],
): V1Container {
  return {
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    command,
    resources: initResources,
    securityContext: {
      privileged: true,
      allowPrivilegeEscalation: true,
      runAsNonRoot: false,
      runAsUser: 0,
      readOnlyRootFilesystem: true,
    },
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
  };
}

// A quantity the spec wrote as a number (`cpu: 2`, `memory: 1073741824`) goes into the Pod as the
// same quantity in a string ("2", "1073741824"), as Kubernetes writes them.
function quantityStrings(
  q: { readonly cpu?: Quantity; readonly memory?: Quantity } = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = quantityString(v);
  return out;
}

/**
 * CPU finer than a millicore and memory with a fraction of a byte go in rounded up, with a warning:
 * the apiserver keeps a container's quantities to a thousandth, so a value finer than that never
 * matched the Deployment it held, and every pass that looked at it applied it again.
 */
function roundedQuantities(q: Record<string, string>, field: string, warnings: string[]): void {
  const cpu = q.cpu === undefined ? undefined : cpuRoundedToMilli(q.cpu);
  if (cpu !== undefined) {
    warnings.push(
      `${field}.cpu ${q.cpu} is finer than a millicore, the least a container's CPU is counted in: ${cpu} is set (write it so in the Neuron or its Hal9Cluster)`,
    );
    q.cpu = cpu;
  }
  const memory = q.memory === undefined ? undefined : memoryRoundedToBytes(q.memory);
  if (memory !== undefined) {
    warnings.push(
      `${field}.memory ${q.memory} holds a fraction of a byte: ${memory} (bytes) is set (write it so in the Neuron or its Hal9Cluster)`,
    );
    q.memory = memory;
  }
}

function cpuAndMemory(
  spec: EffectiveNeuronSpec,
  warnings: string[],
): { requests: Record<string, string>; limits: Record<string, string> } {
  const requests = quantityStrings(spec.resources.requests);
  const limits = quantityStrings(spec.resources.limits);
  roundedQuantities(requests, 'resources.requests', warnings);
  roundedQuantities(limits, 'resources.limits', warnings);
  if (!spec.nodeTuning.cpuPinning) return { requests, limits };
  const cpu = limits.cpu ?? requests.cpu;
  const memory = limits.memory ?? requests.memory;
  const milli = milliCpu(cpu);
  if (cpu === undefined || milli === undefined || milli <= 0 || milli % 1000 !== 0 || memory === undefined) {
    warnings.push(
      `nodeTuning.cpuPinning was not applied: it needs a whole number of CPUs and a memory limit, but the merged resources have cpu ${cpu ?? 'unset'} and memory ${memory ?? 'unset'}`,
    );
    return { requests, limits };
  }
  if (!sameQuantity(requests.cpu ?? cpu, cpu) || !sameQuantity(requests.memory ?? memory, memory)) {
    warnings.push('nodeTuning.cpuPinning raised resources.requests to resources.limits for Guaranteed QoS');
  }
  return { requests: { cpu, memory }, limits: { cpu, memory } };
}

const pageBytes = { '2Mi': 2n ** 21n, '1Gi': 2n ** 30n } as const;

/**
 * Each object's CEL rule checks its own hugepages quantity against its own page size (2Mi when unset),
 * so only the merge leaves part of a page (a Neuron's "1536Mi" with its cluster's 1Gi pages), which
 * the apiserver refuses in a pod: the quantity is rounded up to whole pages, with a warning.
 */
function wholePages(q: Quantity, size: '2Mi' | '1Gi', warnings: string[]): string {
  const bytes = wholeQuantityValue(q);
  const page = pageBytes[size];
  if (bytes === undefined || bytes % page === 0n) return quantityString(q);
  const pages = (bytes + page - 1n) / page;
  const rounded = size === '1Gi' ? `${pages}Gi` : `${pages * 2n}Mi`;
  warnings.push(
    `nodeTuning.hugepages.quantity ${q} is not a whole number of ${size} pages after merging the Neuron with its Hal9Cluster (each passes its own check alone): ${rounded} (${pages} pages) is requested; set nodeTuning.hugepages.size and quantity together on the Neuron`,
  );
  return rounded;
}

/**
 * Resources, sysctls, hugepages and the privileged init containers the spec asks for. Without a
 * policy (pure rendering, no operator) they are rendered; with one that denies them, none are and
 * `denied` says why.
 */
export function renderTuning(spec: EffectiveNeuronSpec, policy?: PrivilegedPolicy): PodTuning {
  const warnings: string[] = [];
  const t = spec.nodeTuning;
  const { requests, limits } = cpuAndMemory(spec, warnings);
  const volumes: V1Volume[] = [];
  const runtimeMounts: V1VolumeMount[] = [];
  const initContainers: V1Container[] = [];

  if (t.hugepages) {
    const size = t.hugepages.size ?? '2Mi';
    const key = `hugepages-${size}`;
    const quantity = wholePages(t.hugepages.quantity, size, warnings);
    // The apiserver refuses a pod with hugepages and no CPU or memory to account them against
    // ("HugePages require cpu or memory"): say so here rather than by an apply that fails every pass.
    if ([requests.cpu, requests.memory, limits.cpu, limits.memory].every((q) => q === undefined)) {
      throw new RenderRefusedError(
        "nodeTuning.hugepages needs a memory request, and the merged resources of the Neuron and its Hal9Cluster have no CPU or memory at all: set resources.requests.memory (or leave the Hal9Cluster's resources out for the defaults)",
      );
    }
    requests[key] = quantity;
    limits[key] = quantity;
    if (requests.memory === undefined && limits.memory === undefined) {
      warnings.push('nodeTuning.hugepages needs a memory request: set resources.requests.memory');
    }
    volumes.push({ name: 'hugepages', emptyDir: { medium: 'HugePages' } });
    runtimeMounts.push({ name: 'hugepages', mountPath: hugepagesMountPath });
  }

  // A slash name (net/ipv4/…) stored before the CRDs refused it: rendered as the dotted name it is, which
  // the safe set, the scope rule and Pod Security Admission compare as written.
  const slashed = (t.sysctls ?? []).filter((s) => s.name.includes('/'));
  if (slashed.length > 0)
    warnings.push(
      `nodeTuning.sysctls: ${slashed.map((s) => `${s.name} is set as ${s.name.replaceAll('/', '.')}`).join(', ')}; write the dotted names in the spec (the CRDs now refuse slashes on a change of that list)`,
    );
  const written = (t.sysctls ?? [])
    .map((s) => (s.name.includes('/') ? { ...s, name: s.name.replaceAll('/', '.') } : s))
    .sort((a, b) => a.name.localeCompare(b.name));
  // An unprivileged port start above the runtime's port, stored before the CRDs refused it: the
  // runtime (no root, no capabilities) could not listen on its port, and no pod would become ready.
  const portBlocking = (s: { name: string; value: string }) =>
    s.name === 'net.ipv4.ip_unprivileged_port_start' &&
    /^[0-9]+$/.test(s.value) &&
    Number(s.value) > runtimePort;
  for (const s of written.filter(portBlocking))
    warnings.push(
      `nodeTuning.sysctls: net.ipv4.ip_unprivileged_port_start ${s.value} was not applied: above ${runtimePort}, the runtime's port, the runtime (no root, no capabilities) could not listen; lower it to ${runtimePort} or less`,
    );
  const sysctls = written.filter((s) => !portBlocking(s));
  const safe = sysctls.filter((s) => isSafeSysctl(s.name));
  const unsafe = sysctls.filter((s) => !isSafeSysctl(s.name));
  if (unsafe.length > 0) {
    const names = unsafe.map((s) => s.name).join(', ');
    if (t.privilegedSysctlInitContainer) {
      initContainers.push(
        privilegedContainer(
          'sysctl-tuning',
          t.initImage,
          ['sysctl', '-w', ...unsafe.map((s) => `${s.name}=${s.value}`)],
          [],
        ),
      );
      warnings.push(
        `a privileged init container sets the sysctls ${names} (nodeTuning.privilegedSysctlInitContainer)${sysctlScopeWarnings(unsafe.map((s) => s.name))}`,
      );
    } else {
      warnings.push(
        `sysctls ${names} were not applied: they are outside the safe set and nodeTuning.privilegedSysctlInitContainer is false`,
      );
    }
  }

  const thp = t.transparentHugepages;
  if (thp !== 'unset' && t.thpInitContainer) {
    volumes.push({ name: 'host-sys', hostPath: { path: '/sys', type: 'Directory' } });
    initContainers.push(
      privilegedContainer(
        'thp-tuning',
        t.initImage,
        ['sh', '-c', `echo ${thp} > ${hostSysMountPath}/kernel/mm/transparent_hugepage/enabled`],
        [{ name: 'host-sys', mountPath: hostSysMountPath }],
      ),
    );
    warnings.push(
      `a privileged init container writes transparent hugepages = ${thp} on the node (nodeTuning.thpInitContainer); this is node-wide and outlives the pod`,
    );
  } else if (thp !== 'unset') {
    warnings.push(
      `nodeTuning.transparentHugepages ${thp} was not applied: nodeTuning.thpInitContainer is false`,
    );
  }

  const memoryBytes = parseQuantity(limits.memory);
  let denied: PodTuning['denied'];
  if (initContainers.length > 0 && policy && !policy.allowed) {
    const asked = initContainers.map((c) => c.name).join(', ');
    denied = {
      reason: privilegedNotAllowedReason,
      message: `nodeTuning asks for privileged init containers (${asked}), which this operator does not create in this namespace: ${policy.howToAllow}`,
    };
    initContainers.length = 0;
    const hostSys = volumes.findIndex((v) => v.name === 'host-sys');
    if (hostSys >= 0) volumes.splice(hostSys, 1);
    // The warnings that announced them are replaced by the denial.
    for (let i = warnings.length - 1; i >= 0; i--) {
      if (warnings[i]!.startsWith('a privileged init container')) warnings.splice(i, 1);
    }
  }
  return {
    resources: {
      ...(Object.keys(requests).length > 0 ? { requests } : {}),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
    },
    memoryBytes,
    sysctls: safe.map((s) => ({ name: s.name, value: s.value })),
    initContainers,
    volumes,
    runtimeMounts,
    warnings,
    ...(denied ? { denied } : {}),
  };
}
