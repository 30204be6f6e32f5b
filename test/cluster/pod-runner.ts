// The pod runner: a real runtime process for each Running pod the selector matches, bound to the
// pod's 127.x IP with the pod's mounted config, stopped when the pod goes. It plays the kubelet
// (containers) and kube-proxy (Service ClusterIPs) for the fake cluster, so operator tests reach pods
// through their IPs with no test seam. Gather (list pods, Services, ConfigMaps, Secrets) → decide
// (pod-runner-core.ts, pod-process-plan.ts) → apply (write files, spawn, stop, proxy).
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { BuiltImage, ImageCommand } from '../image/build-image.ts';
import { repoRoot } from './binaries.ts';
import { HarnessError, HarnessErrorCode } from './errors.ts';
import { isLoopbackIp } from './loopback.ts';
import { readOptional, readPodReferences, writePlannedFiles } from './pod-files.ts';
import {
  checkUpstream,
  endpointRefs,
  type PodProcessPlan,
  planPodProcess,
  resolveEndpoints,
} from './pod-process-plan.ts';
import {
  decide,
  type ProcessState,
  podKey,
  proxyRoutes,
  type RunnerEntry,
  readinessStatus,
  wantsProcess,
} from './pod-runner-core.ts';
import { describeExit, type ExitInfo, type ManagedProcess, startProcess, startReaper } from './processes.ts';
import { createServiceProxy } from './service-proxy.ts';
import { waitFor } from './wait.ts';

export const defaultRuntimeSelector = 'app.kubernetes.io/name=hal9-runtime';

export interface PodRunnerOptions {
  readonly kubeConfig: KubeConfig;
  /** Only pods (and Services) of this namespace (default: all namespaces). */
  readonly namespace?: string;
  /** Pods to run (default `app.kubernetes.io/name=hal9-runtime`, every Neuron pod). */
  readonly labelSelector?: string;
  /** Container whose ports, env and mounts are used (default `runtime`, else the first). */
  readonly container?: string;
  /** Live processes at most (default 16); pods beyond it wait and are reported by problems(). */
  readonly maxProcesses?: number;
  /** Env added after the pod's own, e.g. `{ ANTHROPIC_BASE_URL: fake.url }`. HOST and PORT always come from the pod. */
  readonly env?: Readonly<Record<string, string>> | ((pod: V1Pod) => Readonly<Record<string, string>>);
  /** SIGTERM → SIGKILL bound (default 10 s, and never more than the pod's terminationGracePeriodSeconds). */
  readonly stopGraceMs?: number;
  /** Time for a process to answer /healthz on its pod IP before it is stopped as failed (default 30 s). */
  readonly startTimeoutMs?: number;
  /** How often the pods are listed (default 200 ms). */
  readonly pollIntervalMs?: number;
  /**
   * Report each pod Ready only while its process answers /healthz, as a kubelet's readiness probe
   * would (default true). kwok alone marks pods Ready before anything runs.
   */
  readonly gateReadiness?: boolean;
  /** Forward each Service's ClusterIP:port to its ready processes (default true). */
  readonly serviceProxy?: boolean;
  /** Parent of the runner's temporary directory (default os.tmpdir()). */
  readonly baseDir?: string;
  /** Keep the directory (per-pod files and `<pod>.log`) after close. */
  readonly keepDir?: boolean;
  /**
   * The processes' NODE_COMPILE_CACHE, as the runtime image sets it (its cache is built into the
   * image; here it is filled by the first start). Default `$XDG_CACHE_HOME/hal9/node-compile-cache`
   * (else ~/.cache/...); `false` runs without one.
   */
  readonly compileCache?: string | false;
  /**
   * Run each pod from this runtime image (test/image's build of runtime/Dockerfile) as a kubelet
   * starts its container: the image's ENTRYPOINT with the pod's args, its WORKDIR, its ENV under the
   * pod's env, its USER (when this process is root) and its own compile cache. Default: the
   * repository's sources (`node runtime/src/main.ts`), with no image build.
   */
  readonly image?: BuiltImage;
  readonly log?: (line: string) => void;
}

export interface PodProcess {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly ip: string;
  readonly port: number;
  /** `http://<podIP>:<port>` */
  readonly url: string;
  readonly pid: number;
  readonly state: ProcessState;
  /** stdout and stderr of the runtime. */
  readonly logPath: string;
  /** The re-rooted config file the process was started with. */
  readonly configPath: string | undefined;
  /** Why the process is exited/failed (with the log tail), if it is. */
  readonly error?: string;
  readonly exit?: ExitInfo;
  /** When the runner saw the pod Running and began to prepare its process (ms since the epoch). */
  readonly seenAt: number;
  /** When the process was spawned. */
  readonly spawnedAt: number;
  /** When the process first answered /healthz on its pod IP. */
  readonly readyAt?: number;
}

export interface PodRunner {
  /** The runner's directory: `<pod>.log` per process, `pods/<pod>/root/...` for the mounted files. */
  readonly dir: string;
  /** Every process the runner knows, live or finished. */
  processes(): PodProcess[];
  get(namespace: string, name: string): PodProcess | undefined;
  /**
   * Waits until the pod's process answers /healthz on its pod IP and is behind its Services' routes
   * (a failed start rejects at once).
   */
  waitForReady(namespace: string, name: string, timeoutMs?: number): Promise<PodProcess>;
  /** Waits until the pod has no live process any more (stopped after the pod went away). */
  waitForStopped(namespace: string, name: string, timeoutMs?: number): Promise<void>;
  /** Pods that are not running and why (missing ConfigMap, non-loopback address, limit reached, ...). */
  problems(): ReadonlyMap<string, string>;
  /** Number of processes ever started (restarts included), for tests that count starts. */
  starts(): number;
  /** `clusterIP:port` → `podIP:port` backends of the Service proxy. */
  serviceRoutes(): ReadonlyMap<string, readonly string[]>;
  /** One pass now (list, decide, apply); passes also run every pollIntervalMs. */
  sync(): Promise<void>;
  /** Stops every process and the Service proxy, removes the directory. Idempotent. */
  close(): Promise<void>;
}

interface Entry extends RunnerEntry {
  state: ProcessState;
  readonly namespace: string;
  readonly name: string;
  readonly logPath: string;
  readonly configPath: string | undefined;
  readonly graceMs: number;
  proc?: ManagedProcess;
  error?: string;
  exit?: ExitInfo;
  readonly seenAt: number;
  readonly spawnedAt: number;
  readyAt?: number;
  /** Ready and in its Services' proxy routes. */
  routed?: boolean;
}

// The image's ENTRYPOINT runs the bundle of these sources (runtime/Dockerfile); by default the
// runner runs the sources themselves, so a test sees the working tree without an image build
// (`image` runs the bundle, as the autoscaling bench does).
const mainPath = join(repoRoot, 'runtime', 'src', 'main.ts');
const defaultCompileCache = (): string =>
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hal9', 'node-compile-cache');
const nodeBinary = (): string => {
  const local = join(repoRoot, 'node_modules', '.bin', 'node');
  return existsSync(local) ? local : process.execPath;
};

/** Starts the runner; its first pass has completed when this resolves. */
export async function startPodRunner(options: PodRunnerOptions): Promise<PodRunner> {
  const log = options.log ?? (() => {});
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const selector = options.labelSelector ?? defaultRuntimeSelector;
  const maxProcesses = options.maxProcesses ?? 16;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const proxy = options.serviceProxy === false ? undefined : createServiceProxy();
  const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), 'hal9-pod-runner-'));
  await mkdir(join(dir, 'pids'));
  const reaper = startReaper(dir, { keepDir: options.keepDir });
  const node = nodeBinary();
  const compileCache = options.compileCache ?? defaultCompileCache();

  // What a pod's container runs: the image's entrypoint as a kubelet starts it, or the sources.
  const launchOf = (planned: PodProcessPlan): ImageCommand =>
    options.image
      ? options.image.command(planned.args, planned.env)
      : {
          file: node,
          args: [mainPath, ...planned.args],
          cwd: repoRoot,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            ...(compileCache ? { NODE_COMPILE_CACHE: compileCache } : {}),
            ...planned.env,
          },
        };
  // Another user (the image's) must reach the per-pod files under this directory.
  if (options.image?.command().uid !== undefined) await chmod(dir, 0o755);

  const entries = new Map<string, Entry>();
  const problems = new Map<string, string>();
  const retryAt = new Map<string, number>();
  let started = 0;
  let closed = false;
  let lastServices: V1Service[] = [];

  const report = (key: string, message: string | undefined) => {
    if (message === undefined) {
      problems.delete(key);
    } else if (problems.get(key) !== message) {
      problems.set(key, message);
      log(`${key}: ${message}`);
    }
  };

  const listPods = async (): Promise<V1Pod[]> =>
    (options.namespace
      ? await core.listNamespacedPod({ namespace: options.namespace, labelSelector: selector })
      : await core.listPodForAllNamespaces({ labelSelector: selector })
    ).items;
  const listServices = async (): Promise<V1Service[]> =>
    (options.namespace
      ? await core.listNamespacedService({ namespace: options.namespace })
      : await core.listServiceForAllNamespaces()
    ).items;

  const plan = async (pod: V1Pod, rootDir: string): Promise<PodProcessPlan | string> => {
    const namespace = pod.metadata?.namespace ?? 'default';
    const { configMaps, secrets } = await readPodReferences(core, pod, options.container);
    const extraEnv = typeof options.env === 'function' ? options.env(pod) : options.env;
    const planned = planPodProcess({
      pod,
      containerName: options.container,
      configMaps,
      secrets,
      rootDir,
      extraEnv,
    });
    if (!planned.ok) return planned.error;
    const p = planned.value;
    const config = p.files.find((f) => f.path === p.configPath);
    if (!config || typeof config.data !== 'string') return p;
    const services = new Map<string, V1Service>();
    for (const ref of endpointRefs(config.data, namespace)) {
      if (!ref.service) continue;
      const key = `${ref.service.namespace}/${ref.service.name}`;
      const known = lastServices.find((s) => `${s.metadata?.namespace}/${s.metadata?.name}` === key);
      const svc = known ?? (await readOptional(() => core.readNamespacedService(ref.service!)));
      if (svc) services.set(key, svc);
    }
    const resolved = resolveEndpoints(config.data, namespace, services);
    if (!resolved.ok) return resolved.error;
    const upstream = checkUpstream(resolved.value, p.env);
    if (upstream) return upstream;
    return {
      ...p,
      files: p.files.map((f) => (f.path === p.configPath ? { ...f, data: resolved.value } : f)),
    };
  };

  /** The Service proxy's routes from the state now (each ready process behind its Services). */
  const applyRoutes = async (): Promise<void> => {
    if (!proxy) return;
    const routes = proxyRoutes(lastServices, [...entries.values()], isLoopbackIp);
    for (const err of await proxy.apply(routes)) log(err);
  };

  const probeHealthy = (url: string): Promise<boolean> =>
    new Promise((resolve) => {
      const req = get(`${url}/healthz`, { timeout: 2_000, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });

  const watchStart = async (e: Entry, proc: ManagedProcess) => {
    const url = `http://${e.ip}:${e.port}`;
    const deadline = Date.now() + startTimeoutMs;
    while (e.state === 'starting' && !proc.exitInfo()) {
      if (await probeHealthy(url)) {
        if (e.state === 'starting') {
          e.state = 'ready';
          e.readyAt = Date.now();
        }
        // Into its Services' routes now, not at the next pass: a caller told the pod is ready may
        // go through its Service at once (a route still without it resets the connection).
        await applyRoutes().catch((err: Error) => log(`routes: ${err.message}`));
        e.routed = true;
        log(`${e.key}: runtime ready at ${url} (pid ${proc.pid})`);
        void sync().catch(() => {});
        return;
      }
      if (Date.now() > deadline) {
        e.error = `HAL9_TEST_POD_RUNNER: ${e.key}: no answer on ${url}/healthz within ${startTimeoutMs} ms\n${proc.tail(20)}`;
        e.state = 'stopping';
        await proc.stop(e.graceMs);
        e.state = 'failed';
        return;
      }
      await sleep(100);
    }
  };

  const start = async (pod: V1Pod): Promise<void> => {
    const key = podKey(pod);
    const seenAt = Date.now();
    const uid = pod.metadata?.uid ?? '';
    const name = `${pod.metadata?.namespace}_${pod.metadata?.name}_${uid.slice(0, 8)}`;
    const rootDir = join(dir, 'pods', name, 'root');
    const planned = await plan(pod, rootDir);
    if (typeof planned === 'string') {
      // Missing objects may appear later (a Secret created after the pod): retry, but not every pass.
      retryAt.set(key, Date.now() + 1_000);
      report(key, planned);
      return;
    }
    retryAt.delete(key);
    if (!isLoopbackIp(planned.ip) || !isLoopbackIp(planned.env.HOST ?? '')) {
      report(key, `HAL9_TEST_NON_LOOPBACK: ${key} would bind ${planned.env.HOST}`);
      return;
    }
    report(key, undefined);
    const launch = launchOf(planned);
    await writePlannedFiles(
      planned,
      launch.uid === undefined ? undefined : { uid: launch.uid, gid: launch.gid ?? launch.uid },
    );
    const podGrace = pod.spec?.terminationGracePeriodSeconds;
    const e: Entry = {
      key,
      uid,
      ip: planned.ip,
      port: planned.port,
      state: 'starting',
      labels: { ...pod.metadata?.labels },
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      logPath: join(dir, `${name}.log`),
      configPath: planned.configPath,
      graceMs: podGrace === undefined ? stopGraceMs : Math.min(stopGraceMs, podGrace * 1000),
      seenAt,
      spawnedAt: Date.now(),
    };
    entries.set(key, e);
    const proc = startProcess({
      name,
      command: launch.file,
      args: launch.args,
      dir,
      cwd: launch.cwd,
      env: launch.env,
      inheritEnv: false,
      ...(launch.uid === undefined ? {} : { uid: launch.uid, gid: launch.gid ?? launch.uid }),
    });
    e.proc = proc;
    started++;
    log(`${key}: started pid ${proc.pid} on ${planned.ip}:${planned.port}`);
    void proc.exited.then((info) => {
      e.exit = info;
      if (e.state === 'starting' || e.state === 'ready') {
        e.error = `${key}: runtime ${describeExit(info)}\n${proc.tail(20)}`;
        e.state = info.code === 0 ? 'exited' : 'failed';
        log(e.error);
      }
    });
    void watchStart(e, proc);
  };

  const stop = async (e: Entry): Promise<void> => {
    e.state = 'stopping';
    const info = await e.proc?.stop(e.graceMs);
    e.exit = info;
    e.state = 'exited';
    log(`${e.key}: stopped (${info ? describeExit(info) : 'not started'})`);
  };

  const syncReadiness = async (pods: readonly V1Pod[]): Promise<void> => {
    for (const pod of pods.filter(wantsProcess)) {
      const e = entries.get(podKey(pod));
      const ready = e?.state === 'ready' && e.uid === pod.metadata?.uid;
      const status = readinessStatus(pod, ready, new Date());
      if (!status) continue;
      try {
        await core.replaceNamespacedPodStatus({
          namespace: pod.metadata?.namespace ?? '',
          name: pod.metadata?.name ?? '',
          body: { ...pod, status },
        });
      } catch (err) {
        // Changed or gone since the list: the next pass decides again.
        const code = (err as { code?: number }).code;
        if (code !== 409 && code !== 404) throw err;
      }
    }
  };

  let pass: Promise<void> | undefined;
  const runPass = async (): Promise<void> => {
    const pods = await listPods();
    if (proxy) lastServices = await listServices();
    const d = decide(pods, entries, maxProcesses);
    for (const key of d.forget) entries.delete(key);
    const stops = d.stop.map((key) => entries.get(key)).filter((e): e is Entry => !!e);
    // Stops run in the background: a new pod on the same address waits for the exit (decide reports it).
    for (const e of stops) void stop(e);
    const seen = new Set(pods.map(podKey));
    for (const key of problems.keys()) if (!seen.has(key)) problems.delete(key);
    for (const key of retryAt.keys()) if (!seen.has(key)) retryAt.delete(key);
    for (const w of d.waiting) report(podKey(w.pod), w.reason);
    const now = Date.now();
    await Promise.all(
      d.start.filter((pod) => (retryAt.get(podKey(pod)) ?? 0) <= now).map((pod) => start(pod)),
    );
    if (options.gateReadiness !== false) await syncReadiness(pods);
    await applyRoutes();
  };
  const sync = (): Promise<void> => {
    if (closed) return Promise.resolve();
    pass ??= runPass().finally(() => {
      pass = undefined;
    });
    return pass;
  };

  let loop: Promise<void> | undefined;
  const poll = async () => {
    while (!closed) {
      try {
        await sync();
      } catch (err) {
        log(`pass failed: ${(err as Error).message}`);
      }
      await sleep(options.pollIntervalMs ?? 200);
    }
  };

  const view = (e: Entry): PodProcess => ({
    namespace: e.namespace,
    name: e.name,
    uid: e.uid,
    ip: e.ip,
    port: e.port,
    url: `http://${e.ip}:${e.port}`,
    pid: e.proc?.pid ?? -1,
    state: e.state,
    logPath: e.logPath,
    configPath: e.configPath,
    ...(e.error ? { error: e.error } : {}),
    ...(e.exit ? { exit: e.exit } : {}),
    seenAt: e.seenAt,
    spawnedAt: e.spawnedAt,
    ...(e.readyAt === undefined ? {} : { readyAt: e.readyAt }),
  });

  let closing: Promise<void> | undefined;
  const runner: PodRunner = {
    dir,
    processes: () => [...entries.values()].map(view),
    get: (namespace, name) => {
      const e = entries.get(`${namespace}/${name}`);
      return e ? view(e) : undefined;
    },
    waitForReady: (namespace, name, timeoutMs = 60_000) => {
      const key = `${namespace}/${name}`;
      return waitFor(
        `runtime of pod ${key} to answer on its pod IP`,
        async () => {
          const e = entries.get(key);
          return e?.state === 'ready' && e.routed ? view(e) : undefined;
        },
        {
          timeoutMs,
          intervalMs: 50,
          abortReason: () => {
            const e = entries.get(key);
            return e && (e.state === 'failed' || e.state === 'exited') ? (e.error ?? e.state) : undefined;
          },
          describe: () => problems.get(key) ?? '',
        },
      );
    },
    waitForStopped: async (namespace, name, timeoutMs = 60_000) => {
      const key = `${namespace}/${name}`;
      await waitFor(
        `runtime of pod ${key} to stop`,
        async () => {
          const e = entries.get(key);
          return !e || e.state === 'exited' || e.state === 'failed' ? true : undefined;
        },
        { timeoutMs, intervalMs: 50 },
      );
    },
    problems: () => new Map(problems),
    starts: () => started,
    serviceRoutes: () => proxy?.routes() ?? new Map(),
    sync,
    close: () => {
      closing ??= (async () => {
        closed = true;
        await pass?.catch(() => {});
        await loop;
        await proxy?.close();
        await Promise.all(
          [...entries.values()]
            .filter((e) => e.state === 'starting' || e.state === 'ready')
            .map((e) => stop(e)),
        );
        await Promise.all([...entries.values()].map((e) => e.proc?.exited));
        await reaper.stop(1_000);
        if (!options.keepDir) await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };

  try {
    await sync();
  } catch (err) {
    await runner.close();
    throw new HarnessError(
      HarnessErrorCode.PodRunner,
      `pod runner's first pass failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  loop = poll();
  return runner;
}
