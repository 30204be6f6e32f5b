import {
  AppsV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObjectApi,
  NetworkingV1Api,
  PolicyV1Api,
  Watch,
} from '@kubernetes/client-node';
import { makeClient, makeObjectClient, sharedConnections } from './api-client.ts';

/**
 * The API clients of one KubeConfig, every request with the same deadline. Only the composition
 * roots (operator.ts, tuning/start-tuning.ts) create them; every other module takes the clients it
 * needs. All of them share the KubeConfig's connection pool (api-client.ts sharedConnections).
 */
export interface KubeClients {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly autoscaling: AutoscalingV2Api;
  readonly policy: PolicyV1Api;
  readonly networking: NetworkingV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  readonly objects: KubernetesObjectApi;
  /** Watches (informers), over the same connections, each ended after watchIdleTimeoutMs without data. */
  readonly watch: Watch;
}

/** The deadline of a request whose module names none: writes, mostly. */
export const defaultTimeoutMs = 30_000;

/** The deadline of a single read on a reconcile's or the tuner's path (a live object, a pod list, discovery). */
export const readTimeoutMs = 15_000;

/**
 * How long a watch may deliver nothing before client-node aborts it and its informer resumes it
 * from the last resourceVersion. In client-node 2.0.1 `requestTimeoutMs` is an idle timer re-armed
 * on every chunk, 30 s by default: shorter than the apiserver's bookmark interval (about 60 s), so
 * a quiet watch never got a bookmark and reconnected twice a minute from an ever older
 * resourceVersion. Above that interval, and below the informers' staleness watchdog (2 min), so a
 * watch served without bookmarks still reconnects before it is taken for stuck.
 */
export const watchIdleTimeoutMs = 90_000;

/** The one place that builds API clients from a KubeConfig (through api-client.ts). */
export function createKubeClients(
  kc: KubeConfig,
  timeoutMs = defaultTimeoutMs,
  watchIdleMs = watchIdleTimeoutMs,
): KubeClients {
  return {
    core: makeClient(kc, CoreV1Api, timeoutMs),
    apps: makeClient(kc, AppsV1Api, timeoutMs),
    autoscaling: makeClient(kc, AutoscalingV2Api, timeoutMs),
    policy: makeClient(kc, PolicyV1Api, timeoutMs),
    networking: makeClient(kc, NetworkingV1Api, timeoutMs),
    custom: makeClient(kc, CustomObjectsApi, timeoutMs),
    coordination: makeClient(kc, CoordinationV1Api, timeoutMs),
    objects: makeObjectClient(kc, timeoutMs),
    watch: idleTimeout(new Watch(sharedConnections(kc)), watchIdleMs),
  };
}

/** `watch` with its idle timeout set: client-node declares the field private and offers no option. */
function idleTimeout(watch: Watch, ms: number): Watch {
  // A client-node that renamed it, or made it read-only, would leave watches on its 30 s default:
  // fail loudly instead.
  if (
    typeof Reflect.get(watch, 'requestTimeoutMs') !== 'number' ||
    !Reflect.set(watch, 'requestTimeoutMs', ms) ||
    Reflect.get(watch, 'requestTimeoutMs') !== ms
  ) {
    throw new Error(
      "@kubernetes/client-node's Watch has no settable requestTimeoutMs: see clients.ts watchIdleTimeoutMs",
    );
  }
  return watch;
}
