import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { nonLoopbackAddresses } from './address-audit.ts';
import { kwokStagePaths } from './binaries.ts';
import { type ControlPlaneCerts, generateCertificates } from './certs.ts';
import {
  apiServerArgs,
  controllerManagerArgs,
  etcdArgs,
  kwokArgs,
  type Ports,
  schedulerArgs,
} from './component-args.ts';
import { installCrdsFromDir } from './crds.ts';
import { HarnessError, HarnessErrorCode } from './errors.ts';
import { isHealthy, type TlsClient } from './health.ts';
import { loadKubeConfig, writeKubeconfig } from './kubeconfig.ts';
import { assertLoopbackNetwork, type PodNetwork, pickPodNetwork } from './loopback.ts';
import { createFakeNodes, type FakeNodeSpec, waitForNodesSchedulable } from './nodes.ts';
import { freePorts } from './ports.ts';
import { describeExit, logExcerpt, type ManagedProcess, startProcess, startReaper } from './processes.ts';
import { waitFor } from './wait.ts';

export interface ControlPlaneOptions {
  /** Directory with etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (see ensureBinaries). */
  readonly binDir: string;
  /**
   * Also start kube-controller-manager, kube-scheduler and kwok, so workloads get scheduled and
   * "run" on fake nodes (default true). With false it is an API-only plane, like envtest.
   */
  readonly workloads?: boolean;
  /** Fake nodes to create and wait for (requires workloads). */
  readonly nodes?: readonly FakeNodeSpec[];
  /** Directories of CRD manifests to install once the apiserver is up. */
  readonly crdDirs?: readonly string[];
  /**
   * kube-controller-manager controllers to leave off (its `--controllers` names; default none).
   * The endpoint controllers can do nothing useful here: the apiserver refuses loopback pod IPs in
   * Endpoints and EndpointSlices (422), so they retry and record Events for every Ready pod's Service.
   */
  readonly disabledControllers?: readonly string[];
  /** Per-step readiness timeout (default 60 s: a shared 2-core machine can be slow). */
  readonly startTimeoutMs?: number;
  /** Parent of the temporary directory (default os.tmpdir()). */
  readonly baseDir?: string;
  /** Keep the temporary directory (logs, etcd data) after stop, for debugging. */
  readonly keepDir?: boolean;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /**
   * Pod, node and Service addresses, all inside 127.0.0.0/8 (default: a free 127.<n>.0.0/16 picked
   * at random, see loopback.ts). A non-loopback range is refused.
   */
  readonly podNetwork?: PodNetwork;
}

export interface ControlPlane {
  /** Temporary directory: certificates, kubeconfig, etcd data, one `<component>.log` per process. */
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly binDir: string;
  readonly certs: ControlPlaneCerts;
  /** The plane's loopback pod CIDR, node IP and Service CIDR. */
  readonly podNetwork: PodNetwork;
  /** A fresh client-node KubeConfig with admin (system:masters) credentials. */
  kubeConfig(): KubeConfig;
  /** Stops kube-apiserver only (etcd keeps the data), e.g. to test watch reconnects. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port and waits until it is healthy. */
  startApiServer(): Promise<void>;
  /**
   * Stops etcd for `downMs` and starts it again on the same ports and data directory (a storage
   * outage under a running apiserver), then waits until etcd and the apiserver are healthy again.
   */
  restartEtcd(downMs: number): Promise<void>;
  installCrds(dir: string): Promise<string[]>;
  /** Creates fake nodes and waits until they are Ready and untainted. */
  createNodes(specs: readonly FakeNodeSpec[]): Promise<void>;
  /** Stops every process (reverse start order) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

interface Running {
  etcd?: ManagedProcess;
  apiServer?: ManagedProcess;
  controllerManager?: ManagedProcess;
  scheduler?: ManagedProcess;
  kwok?: ManagedProcess;
}

/**
 * Starts etcd → kube-apiserver → (kube-controller-manager, kube-scheduler, kwok) on 127.0.0.1,
 * writes an admin kubeconfig, creates nodes and installs CRDs. On any failure everything started
 * so far is stopped and the error carries the failing component's log tail.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  // Free ports are picked before the components bind them, so another process can take one
  // in between (several planes start in parallel in a test run): retry those starts.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      const portTaken = err instanceof HarnessError && /address already in use/i.test(err.message);
      if (!portTaken || attempt >= 3) throw err;
      options.log?.(`a port was taken before use; retrying (attempt ${attempt + 1})`);
    }
  }
}

async function startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const workloads = options.workloads ?? true;
  const bin = (name: string) => join(options.binDir, name);
  const podNetwork = assertLoopbackNetwork(options.podNetwork ?? pickPodNetwork());

  const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), 'hal9-control-plane-'));
  await mkdir(join(dir, 'pids'));
  const reaper = startReaper(dir, { keepDir: options.keepDir });
  const running: Running = {};
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all([
        running.kwok?.stop(5_000),
        running.scheduler?.stop(5_000),
        running.controllerManager?.stop(5_000),
      ]);
      await running.apiServer?.stop(20_000);
      await running.etcd?.stop(10_000);
      await reaper.stop(1_000);
      if (!options.keepDir) await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const certDir = join(dir, 'certs');
    await mkdir(certDir);
    const certs = await generateCertificates(certDir, '127.0.0.1');
    const [etcdClient, etcdPeer, apiServer, scheduler] = await freePorts(4);
    const ports: Ports = {
      etcdClient: etcdClient!,
      etcdPeer: etcdPeer!,
      apiServer: apiServer!,
      scheduler: scheduler!,
    };
    const server = `https://127.0.0.1:${ports.apiServer}`;
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, {
      server,
      caFile: certs.servingCa,
      certFile: certs.adminCert,
      keyFile: certs.adminKey,
    });
    const adminTls: TlsClient = {
      ca: await readFile(certs.servingCa, 'utf8'),
      cert: await readFile(certs.adminCert, 'utf8'),
      key: await readFile(certs.adminKey, 'utf8'),
    };

    const stepTimer = () => {
      const t = Date.now();
      return () => `${((Date.now() - t) / 1000).toFixed(1)} s`;
    };
    const waitHealthy = (proc: ManagedProcess, url: string, tls: TlsClient) =>
      waitFor(`${proc.name} at ${url}`, () => isHealthy(url, tls), {
        timeoutMs,
        intervalMs: 100,
        abortReason: () => exitReason(proc),
        describe: () => logExcerpt(proc),
      });

    let t = stepTimer();
    const startEtcd = async () => {
      running.etcd = startProcess({ name: 'etcd', command: bin('etcd'), args: etcdArgs(dir, ports), dir });
      await waitHealthy(running.etcd, `http://127.0.0.1:${ports.etcdClient}/health`, {});
    };
    await startEtcd();
    log(`etcd ready (${t()})`);

    const startApiServer = async (): Promise<void> => {
      const t = stepTimer();
      running.apiServer = startProcess({
        name: 'kube-apiserver',
        command: bin('kube-apiserver'),
        args: apiServerArgs(certs, ports, podNetwork),
        dir,
      });
      await waitHealthy(running.apiServer, `${server}/healthz`, adminTls);
      log(`kube-apiserver ready (${t()})`);
    };
    await startApiServer();

    const kubeConfig = () => loadKubeConfig(kubeconfigPath);
    const core = kubeConfig().makeApiClient(CoreV1Api);
    await waitFor('namespace default', () => core.readNamespace({ name: 'default' }).then(() => true), {
      timeoutMs,
      intervalMs: 50,
    });

    if (workloads) {
      t = stepTimer();
      const stages = await kwokStagePaths();
      running.controllerManager = startProcess({
        name: 'kube-controller-manager',
        command: bin('kube-controller-manager'),
        args: controllerManagerArgs(kubeconfigPath, certs, options.disabledControllers),
        dir,
      });
      running.scheduler = startProcess({
        name: 'kube-scheduler',
        command: bin('kube-scheduler'),
        args: schedulerArgs(dir, kubeconfigPath, ports),
        dir,
      });
      running.kwok = startProcess({
        name: 'kwok',
        command: bin('kwok'),
        args: kwokArgs(kubeconfigPath, stages, podNetwork),
        dir,
      });
      await waitHealthy(running.scheduler, `https://127.0.0.1:${ports.scheduler}/healthz`, {
        insecure: true,
      });
      log(`kube-scheduler ready, kube-controller-manager and kwok started (${t()})`);
    }

    const workloadProcesses = () =>
      [running.controllerManager, running.scheduler, running.kwok].filter((p): p is ManagedProcess => !!p);

    const createNodes = async (specs: readonly FakeNodeSpec[]): Promise<void> => {
      if (!workloads) {
        throw new HarnessError(
          HarnessErrorCode.NotProvided,
          'fake nodes need the workloads components (kcm, scheduler, kwok)',
        );
      }
      const t = stepTimer();
      const kc = kubeConfig();
      await createFakeNodes(kc, specs);
      await waitForNodesSchedulable(
        kc,
        specs.map((s) => s.name),
        {
          timeoutMs,
          describe: () =>
            workloadProcesses()
              .map((p) => logExcerpt(p, 10))
              .join('\n'),
        },
      );
      // kwok's --node-ip is loopback; a node that reports anything else would be a harness bug.
      const nodes = await kc.makeApiClient(CoreV1Api).listNode();
      const bad = nonLoopbackAddresses([], nodes.items, []);
      if (bad.length > 0) {
        throw new HarnessError(
          HarnessErrorCode.NonLoopback,
          `node addresses outside 127.0.0.0/8: ${bad.join('; ')}`,
        );
      }
      log(`${specs.length} fake node(s) ready (${t()})`);
    };

    const installCrds = async (crdDir: string): Promise<string[]> => {
      const t = stepTimer();
      const names = await installCrdsFromDir(kubeConfig(), crdDir, timeoutMs);
      log(`${names.length} CRD(s) from ${crdDir} served (${t()})`);
      return names;
    };

    if (options.nodes?.length) await createNodes(options.nodes);
    for (const crdDir of options.crdDirs ?? []) await installCrds(crdDir);
    log(`control plane up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${server} (logs in ${dir})`);

    return {
      dir,
      kubeconfigPath,
      server,
      binDir: options.binDir,
      certs,
      podNetwork,
      kubeConfig,
      stopApiServer: async () => {
        await running.apiServer?.stop(20_000);
      },
      startApiServer: async () => {
        if (running.apiServer && !running.apiServer.exitInfo()) return;
        await startApiServer();
      },
      restartEtcd: async (downMs: number) => {
        await running.etcd?.stop(20_000);
        await new Promise((r) => setTimeout(r, downMs));
        await startEtcd();
        if (running.apiServer) await waitHealthy(running.apiServer, `${server}/readyz`, adminTls);
        log('etcd restarted');
      },
      installCrds,
      createNodes,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function exitReason(proc: ManagedProcess): string | undefined {
  const info = proc.exitInfo();
  return info ? `${proc.name} ${describeExit(info)}` : undefined;
}
