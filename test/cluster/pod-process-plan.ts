// What the pod runner starts for one pod, as pure functions of the pod and the objects it refers to:
// the mounted files re-rooted under a per-pod directory, the environment the container would get,
// the runtime's config path, and the pod IP/port to bind. No I/O here; pod-runner.ts gathers and applies.
import { posix } from 'node:path';
import type {
  V1ConfigMap,
  V1Container,
  V1EnvVar,
  V1Pod,
  V1Secret,
  V1Service,
  V1Volume,
} from '@kubernetes/client-node';
import { isMap, isScalar, isSeq, parseDocument, visit } from 'yaml';
import { isLoopbackIp } from './loopback.ts';

/** The result of planning: a value, or a message naming the pod and the field at fault. */
export type Planned<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

export interface PodReferences {
  readonly configMaps: readonly string[];
  readonly secrets: readonly string[];
}

export interface PlannedFile {
  readonly path: string;
  readonly data: string | Uint8Array;
}

export interface PodProcessPlan {
  readonly ip: string;
  readonly port: number;
  /** Arguments after the runtime's entry (`runtime/src/main.ts` here): the re-rooted config path. */
  readonly args: readonly string[];
  /** The process environment: the container's env, then `extraEnv`, then HOST and PORT. */
  readonly env: Readonly<Record<string, string>>;
  readonly dirs: readonly string[];
  readonly files: readonly PlannedFile[];
  /** Local path of the runtime's YAML, when one is mounted (its text is in `files`). */
  readonly configPath: string | undefined;
}

export interface PlanInputs {
  readonly pod: V1Pod;
  /** Container to run (default: the one named `runtime`, else the first). */
  readonly containerName?: string;
  /** The pod's namespace's ConfigMaps and Secrets by name (only those podReferences names are needed). */
  readonly configMaps: ReadonlyMap<string, V1ConfigMap>;
  readonly secrets: ReadonlyMap<string, V1Secret>;
  /** Directory the container's mount paths are re-rooted under. */
  readonly rootDir: string;
  /** Added after the container's env (e.g. ANTHROPIC_BASE_URL of a local fake upstream). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

const podName = (pod: V1Pod) => `pod ${pod.metadata?.namespace}/${pod.metadata?.name}`;
const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

export function selectContainer(pod: V1Pod, name?: string): V1Container | undefined {
  const containers = pod.spec?.containers ?? [];
  if (name) return containers.find((c) => c.name === name);
  return containers.find((c) => c.name === 'runtime') ?? containers[0];
}

/** ConfigMaps and Secrets the container reads through its mounts, env and envFrom. */
export function podReferences(pod: V1Pod, containerName?: string): PodReferences {
  const container = selectContainer(pod, containerName);
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  for (const m of container?.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (v?.configMap?.name) configMaps.add(v.configMap.name);
    if (v?.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v?.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  for (const e of container?.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  for (const e of container?.envFrom ?? []) {
    if (e.configMapRef?.name) configMaps.add(e.configMapRef.name);
    if (e.secretRef?.name) secrets.add(e.secretRef.name);
  }
  return { configMaps: [...configMaps].sort(), secrets: [...secrets].sort() };
}

/** Maps container paths under a mount to the re-rooted local path; other paths are returned unchanged. */
export function rerooter(rootDir: string, mountPaths: readonly string[]): (path: string) => string {
  const mounts = [...mountPaths].map((m) => posix.normalize(m).replace(/\/+$/, '')).filter((m) => m !== '');
  return (path) => {
    if (!path.startsWith('/')) return path;
    const normal = posix.normalize(path);
    const under = mounts.some((m) => normal === m || normal.startsWith(`${m}/`));
    return under ? posix.join(rootDir, normal) : path;
  };
}

const decodeSecret = (b64: string): Uint8Array => Buffer.from(b64, 'base64');

/** Key → contents of a ConfigMap (data and binaryData) or Secret (data, stringData). */
function entriesOf(
  source: { kind: 'configMap'; obj: V1ConfigMap } | { kind: 'secret'; obj: V1Secret },
): Map<string, string | Uint8Array> {
  const out = new Map<string, string | Uint8Array>();
  if (source.kind === 'configMap') {
    for (const [k, v] of Object.entries(source.obj.data ?? {})) out.set(k, v);
    for (const [k, v] of Object.entries(source.obj.binaryData ?? {})) out.set(k, decodeSecret(v));
  } else {
    for (const [k, v] of Object.entries(source.obj.data ?? {})) out.set(k, decodeSecret(v));
    for (const [k, v] of Object.entries(source.obj.stringData ?? {})) out.set(k, v);
  }
  return out;
}

function volumeFiles(pod: V1Pod, volume: V1Volume, dir: string, inputs: PlanInputs): Planned<PlannedFile[]> {
  const files: PlannedFile[] = [];
  const project = (
    what: string,
    entries: Map<string, string | Uint8Array> | undefined,
    optional: boolean | undefined,
    items: readonly { key: string; path: string }[] | undefined,
  ): string | undefined => {
    if (!entries) return optional ? undefined : `${podName(pod)}: volume ${volume.name}: ${what} not found`;
    const wanted = items?.length ? items : [...entries.keys()].map((key) => ({ key, path: key }));
    for (const { key, path } of wanted) {
      const data = entries.get(key);
      if (data === undefined) {
        if (optional) continue;
        return `${podName(pod)}: volume ${volume.name}: ${what} has no key "${key}"`;
      }
      const local = posix.normalize(posix.join(dir, path));
      if (!local.startsWith(`${dir}/`))
        return `${podName(pod)}: volume ${volume.name}: item path "${path}" escapes the mount`;
      files.push({ path: local, data });
    }
    return undefined;
  };
  const cm = (name: string) => {
    const obj = inputs.configMaps.get(name);
    return obj ? entriesOf({ kind: 'configMap', obj }) : undefined;
  };
  const secret = (name: string) => {
    const obj = inputs.secrets.get(name);
    return obj ? entriesOf({ kind: 'secret', obj }) : undefined;
  };
  let error: string | undefined;
  if (volume.configMap) {
    const v = volume.configMap;
    error = project(`ConfigMap ${v.name}`, cm(v.name ?? ''), v.optional, v.items);
  } else if (volume.secret) {
    const v = volume.secret;
    error = project(`Secret ${v.secretName}`, secret(v.secretName ?? ''), v.optional, v.items);
  } else if (volume.projected) {
    for (const s of volume.projected.sources ?? []) {
      if (s.configMap)
        error ??= project(
          `ConfigMap ${s.configMap.name}`,
          cm(s.configMap.name ?? ''),
          s.configMap.optional,
          s.configMap.items,
        );
      if (s.secret)
        error ??= project(
          `Secret ${s.secret.name}`,
          secret(s.secret.name ?? ''),
          s.secret.optional,
          s.secret.items,
        );
    }
  }
  // emptyDir, hostPath and other kinds become an empty directory: nothing of the host is exposed.
  return error ? fail(error) : { ok: true, value: files };
}

function envValue(pod: V1Pod, e: V1EnvVar, inputs: PlanInputs): Planned<string | undefined> {
  if (e.value !== undefined) return { ok: true, value: e.value };
  const from = e.valueFrom;
  if (!from) return { ok: true, value: '' };
  const missing = (what: string, optional: boolean | undefined): Planned<string | undefined> =>
    optional ? { ok: true, value: undefined } : fail(`${podName(pod)}: env ${e.name}: ${what} not found`);
  if (from.secretKeyRef) {
    const { name = '', key, optional } = from.secretKeyRef;
    const obj = inputs.secrets.get(name);
    if (!obj) return missing(`Secret ${name}`, optional);
    const data = entriesOf({ kind: 'secret', obj }).get(key);
    if (data === undefined) return missing(`key "${key}" of Secret ${name}`, optional);
    return { ok: true, value: typeof data === 'string' ? data : Buffer.from(data).toString('utf8') };
  }
  if (from.configMapKeyRef) {
    const { name = '', key, optional } = from.configMapKeyRef;
    const obj = inputs.configMaps.get(name);
    if (!obj) return missing(`ConfigMap ${name}`, optional);
    const data = obj.data?.[key];
    if (data === undefined) return missing(`key "${key}" of ConfigMap ${name}`, optional);
    return { ok: true, value: data };
  }
  if (from.fieldRef) {
    const fields: Record<string, string | undefined> = {
      'metadata.name': pod.metadata?.name,
      'metadata.namespace': pod.metadata?.namespace,
      'metadata.uid': pod.metadata?.uid,
      'spec.nodeName': pod.spec?.nodeName,
      'spec.serviceAccountName': pod.spec?.serviceAccountName,
      'status.podIP': pod.status?.podIP,
      'status.hostIP': pod.status?.hostIP,
    };
    const path = from.fieldRef.fieldPath;
    if (!(path in fields))
      return fail(`${podName(pod)}: env ${e.name}: fieldRef ${path} is not supported by the pod runner`);
    return { ok: true, value: fields[path] ?? '' };
  }
  // resourceFieldRef (limits as numbers): the runtime reads none of them.
  return { ok: true, value: undefined };
}

function containerEnv(
  pod: V1Pod,
  container: V1Container,
  inputs: PlanInputs,
): Planned<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const src of container.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    if (src.configMapRef) {
      const obj = inputs.configMaps.get(src.configMapRef.name ?? '');
      if (!obj && !src.configMapRef.optional)
        return fail(`${podName(pod)}: envFrom ConfigMap ${src.configMapRef.name} not found`);
      for (const [k, v] of Object.entries(obj?.data ?? {})) env[prefix + k] = v;
    }
    if (src.secretRef) {
      const obj = inputs.secrets.get(src.secretRef.name ?? '');
      if (!obj && !src.secretRef.optional)
        return fail(`${podName(pod)}: envFrom Secret ${src.secretRef.name} not found`);
      if (obj)
        for (const [k, v] of entriesOf({ kind: 'secret', obj }))
          env[prefix + k] = typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
    }
  }
  for (const e of container.env ?? []) {
    const v = envValue(pod, e, inputs);
    if (!v.ok) return v;
    // The kubelet expands $(VAR) in a literal value only, from what is defined before it.
    if (v.value !== undefined) env[e.name] = e.value !== undefined ? expandEnv(v.value, env) : v.value;
  }
  return { ok: true, value: env };
}

/**
 * The kubelet's expansion of an env value: `$(NAME)` becomes the variable defined before it, or stays
 * as written when there is none; `$$` is one `$`, so `$$(NAME)` stays `$(NAME)`.
 */
export function expandEnv(value: string, defined: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== '$' || i + 1 === value.length) {
      out += c;
      continue;
    }
    const next = value[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = value.indexOf(')', i + 2);
      if (end < 0) {
        out += '$(';
        i++;
        continue;
      }
      const name = value.slice(i + 2, end);
      out += Object.hasOwn(defined, name) ? defined[name] : `$(${name})`;
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * The runtime's config path (a container path): the argument after `main.ts`/`main.js` when the
 * container names a command; else its first arg, since the image's ENTRYPOINT (`node
 * runtime/dist/main.js`) is the command then; else HAL9_CONFIG.
 */
export function configArgument(
  container: V1Container,
  env: Readonly<Record<string, string>>,
): string | undefined {
  if (!container.command) return container.args?.[0] ?? env.HAL9_CONFIG;
  const argv = [...container.command, ...(container.args ?? [])];
  const main = argv.findIndex((a) => a.endsWith('main.ts') || a.endsWith('main.js'));
  const fromArgs = main >= 0 ? argv[main + 1] : undefined;
  return fromArgs ?? env.HAL9_CONFIG;
}

/** The port to bind: the container's first TCP port (the runtime's `http` port in a Neuron's pod). */
export function containerPort(container: V1Container): number | undefined {
  const ports = (container.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
  return (ports.find((p) => p.name === 'http') ?? ports[0])?.containerPort;
}

/** Plans the runtime process of a Running pod; every error names the pod and what is missing. */
export function planPodProcess(inputs: PlanInputs): Planned<PodProcessPlan> {
  const { pod, rootDir } = inputs;
  const ip = pod.status?.podIP ?? '';
  if (!isLoopbackIp(ip)) {
    return fail(
      `HAL9_TEST_NON_LOOPBACK: ${podName(pod)} status.podIP is "${ip}", outside 127.0.0.0/8: not started`,
    );
  }
  const container = selectContainer(pod, inputs.containerName);
  if (!container) return fail(`${podName(pod)}: no container ${inputs.containerName ?? ''} to run`);
  const port = containerPort(container);
  if (port === undefined)
    return fail(`${podName(pod)}: container ${container.name} declares no TCP containerPort`);

  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  const mounts = container.volumeMounts ?? [];
  const reroot = rerooter(
    rootDir,
    mounts.map((m) => m.mountPath),
  );
  const dirs: string[] = [];
  const files: PlannedFile[] = [];
  for (const m of mounts) {
    const volume = volumes.get(m.name);
    if (!volume) return fail(`${podName(pod)}: volumeMount ${m.name} names no volume`);
    const dir = reroot(m.mountPath);
    dirs.push(dir);
    if (m.subPath)
      return fail(
        `${podName(pod)}: volumeMount ${m.name} uses subPath, which the pod runner does not support`,
      );
    const planned = volumeFiles(pod, volume, dir, inputs);
    if (!planned.ok) return planned;
    files.push(...planned.value);
  }

  const env = containerEnv(pod, container, inputs);
  if (!env.ok) return env;
  const containerConfig = configArgument(container, env.value);
  const configPath = containerConfig ? reroot(containerConfig) : undefined;
  // Paths in env values (HAL9_CONFIG, token files) point into the re-rooted mounts.
  const rerootedEnv = Object.fromEntries(Object.entries(env.value).map(([k, v]) => [k, reroot(v)]));
  // The config file names other mounted files (auth_token_file, api_key_file): re-root those too.
  const rewritten = files.map((f) =>
    f.path === configPath && typeof f.data === 'string' ? { ...f, data: rerootYamlPaths(f.data, reroot) } : f,
  );
  if (configPath && !rewritten.some((f) => f.path === configPath)) {
    return fail(
      `${podName(pod)}: config ${containerConfig} is not a file of any mounted ConfigMap or Secret`,
    );
  }
  return {
    ok: true,
    value: {
      ip,
      port,
      args: configPath ? [configPath] : [],
      env: { ...rerootedEnv, ...inputs.extraEnv, HOST: ip, PORT: String(port) },
      dirs,
      files: rewritten,
      configPath,
    },
  };
}

/** Rewrites every absolute-path string scalar of a YAML document through `reroot`, keeping the rest as written. */
export function rerootYamlPaths(text: string, reroot: (path: string) => string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return text; // the runtime reports the parse error itself
  let changed = false;
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && node.value.startsWith('/')) {
        const next = reroot(node.value);
        if (next !== node.value) {
          node.value = next;
          changed = true;
        }
      }
    },
  });
  return changed ? doc.toString() : text;
}

// ---- peers and upstreams: keep every destination of the runtime on loopback ----

export interface EndpointRef {
  readonly neuron: string;
  readonly endpoint: string;
  /** Service namespace/name when the host is a cluster DNS name. */
  readonly service?: { readonly namespace: string; readonly name: string };
}

/** `<svc>.<ns>.svc[.cluster.local]` or `<svc>` → the Service it names (else undefined: not a cluster name). */
export function serviceOfHost(
  host: string,
  podNamespace: string,
): { namespace: string; name: string } | undefined {
  const parts = host.replace(/\.$/, '').split('.');
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (!parts.every((p) => label.test(p))) return undefined;
  const [name, namespace, svc, ...rest] = parts;
  if (!name) return undefined;
  if (parts.length === 1) return { namespace: podNamespace, name };
  if (svc === 'svc' && (rest.length === 0 || rest.join('.') === 'cluster.local')) {
    return { namespace: namespace ?? podNamespace, name };
  }
  return undefined;
}

/** The remote neurons' endpoints in the runtime's YAML, with the Service each DNS name refers to. */
export function endpointRefs(configText: string, podNamespace: string): EndpointRef[] {
  const doc = parseDocument(configText);
  const neurons = doc.get('neurons');
  if (!isSeq(neurons)) return [];
  const out: EndpointRef[] = [];
  for (const item of neurons.items) {
    if (!isMap(item)) continue;
    const endpoint = item.get('endpoint');
    const id = item.get('id');
    if (typeof endpoint !== 'string' || endpoint === '') continue;
    let host: string;
    try {
      host = new URL(endpoint).hostname;
    } catch {
      continue; // the runtime refuses the URL itself
    }
    const service = isLoopbackIp(host) ? undefined : serviceOfHost(host, podNamespace);
    out.push({ neuron: String(id), endpoint, ...(service ? { service } : {}) });
  }
  return out;
}

/**
 * Rewrites each remote neuron's endpoint host to its Service's ClusterIP (the pod runner's Service
 * proxy listens there), so the runtime never asks DNS. Refuses any destination outside loopback.
 */
export function resolveEndpoints(
  configText: string,
  podNamespace: string,
  services: ReadonlyMap<string, V1Service>,
): Planned<string> {
  const refs = endpointRefs(configText, podNamespace);
  if (refs.length === 0) return { ok: true, value: configText };
  const doc = parseDocument(configText);
  const neurons = doc.get('neurons');
  if (!isSeq(neurons)) return { ok: true, value: configText };
  for (const item of neurons.items) {
    if (!isMap(item)) continue;
    const endpoint = item.get('endpoint');
    const ref = refs.find((r) => r.endpoint === endpoint);
    if (!ref) continue;
    const url = new URL(ref.endpoint);
    if (isLoopbackIp(url.hostname)) continue;
    if (!ref.service) {
      return fail(
        `HAL9_TEST_NON_LOOPBACK: neuron ${ref.neuron} endpoint ${ref.endpoint} is neither a 127.x address nor a cluster Service name`,
      );
    }
    const key = `${ref.service.namespace}/${ref.service.name}`;
    const svc = services.get(key);
    const clusterIP = svc?.spec?.clusterIP;
    if (!svc) return fail(`neuron ${ref.neuron} endpoint ${ref.endpoint}: Service ${key} not found (yet)`);
    if (!clusterIP || !isLoopbackIp(clusterIP)) {
      return fail(
        `HAL9_TEST_NON_LOOPBACK: Service ${key} clusterIP "${clusterIP ?? ''}" is not a 127.x address`,
      );
    }
    url.hostname = clusterIP;
    const node = item.get('endpoint', true);
    const text = url.toString().replace(/\/$/, ref.endpoint.endsWith('/') ? '/' : '');
    if (isScalar(node)) node.value = text;
    else item.set('endpoint', text);
  }
  return { ok: true, value: doc.toString() };
}

/**
 * In api mode the runtime calls the Messages API at claude.base_url (ANTHROPIC_BASE_URL overrides;
 * empty means the public API). Only a loopback base URL is allowed here.
 */
export function checkUpstream(configText: string, env: Readonly<Record<string, string>>): string | undefined {
  const doc = parseDocument(configText);
  const mode = env.HAL9_MODE || String(doc.getIn(['claude', 'mode']) ?? 'mock');
  if (mode !== 'api') return undefined;
  const base = env.ANTHROPIC_BASE_URL || String(doc.getIn(['claude', 'base_url']) ?? '');
  let host = '';
  try {
    host = base ? new URL(base).hostname : '';
  } catch {
    return `HAL9_TEST_NON_LOOPBACK: claude.base_url "${base}" is not a URL`;
  }
  if (!isLoopbackIp(host)) {
    return `HAL9_TEST_NON_LOOPBACK: claude.mode is api but the Messages API base URL is "${base || 'the public API'}": give the runner env ANTHROPIC_BASE_URL of a 127.x fake upstream`;
  }
  return undefined;
}
