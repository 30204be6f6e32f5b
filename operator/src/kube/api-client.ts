import {
  type Configuration,
  type ConfigurationOptions,
  createConfiguration,
  type KubeConfig,
  KubernetesObjectApi,
  Observable,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { yamlSafeJson } from './yaml-safe-json.ts';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

// One per KubeConfig, so every client and watch built from it shares one connection pool.
const sharedConfigs = new WeakMap<KubeConfig, KubeConfig>();

/**
 * The KubeConfig with one undici Agent per cluster/user pair. client-node 2.0.1 builds a new Agent
 * for every request (it caches only the https.Agent used for WebSockets), so each API call and
 * each watch opened its own TLS connection, which then idled for seconds before closing: with
 * 1,000 Neurons that was ~300 live connections, each with its own TLS context, and the native
 * memory they churned stayed in the process (RSS 650 MB with a 60 MB live heap). Authentication
 * still runs per request (tokens refresh), only the connection pool is reused.
 */
export function sharedConnections(kc: KubeConfig): KubeConfig {
  const known = sharedConfigs.get(kc);
  if (known) return known;
  const agents = new Map<string, Dispatcher>();
  // Delegates everything else to `kc` (a prototype link, so later kubeconfig loads are seen).
  const shared = Object.create(kc) as KubeConfig;
  shared.applySecurityAuthentication = async (ctx: RequestContext) => {
    await kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher();
    if (!fresh) return; // plain http: undici's global pool already shares connections
    // The same key as client-node's own agent cache; the unused fresh Agent has no sockets.
    const key = JSON.stringify([kc.getCurrentCluster()?.name, kc.getCurrentUser()?.name]);
    let agent = agents.get(key);
    if (!agent) {
      agent = fresh;
      agents.set(key, agent);
    }
    ctx.setDispatcher(agent);
  };
  sharedConfigs.set(kc, shared);
  return shared;
}

/**
 * API clients whose every request carries a deadline. client-node sets none: a request sent
 * while the apiserver restarts can hang forever, wedging a worker or an informer's list.
 */
export function apiConfiguration(kc: KubeConfig, timeoutMs: number): Configuration {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: sharedConnections(kc) },
    promiseMiddleware: [
      {
        pre: async (ctx: RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          ctx.setHeaderParam('User-Agent', 'hal9-operator');
          const body = ctx.getBody();
          if (typeof body === 'string') ctx.setBody(yamlSafeJson(body));
          return ctx;
        },
        post: async (res: ResponseContext) => res,
      },
    ],
  });
}

export function makeClient<T>(kc: KubeConfig, Api: new (c: Configuration) => T, timeoutMs = 30_000): T {
  return new Api(apiConfiguration(kc, timeoutMs));
}

export function makeObjectClient(kc: KubeConfig, timeoutMs = 30_000): KubernetesObjectApi {
  return new KubernetesObjectApi(apiConfiguration(kc, timeoutMs));
}

/**
 * Per-call options that also abort the request when `signal` does, on top of the client's own
 * deadline: for a caller whose time budget is shorter than the client's, or ends on an event.
 * (The object-parameter APIs take per-call middleware in its Observable form, not as promises.)
 */
export function abortedBy(signal: AbortSignal | undefined): ConfigurationOptions | undefined {
  if (!signal) return undefined;
  return {
    middlewareMergeStrategy: 'append',
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          const deadline = ctx.getSignal();
          ctx.setSignal(deadline ? AbortSignal.any([deadline, signal]) : signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
      },
    ],
  };
}
