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
  /** Watches (informers), over the same connections; a watch has client-node's own idle timeout. */
  readonly watch: Watch;
}

/** The deadline of a request whose module names none: writes, mostly. */
export const defaultTimeoutMs = 30_000;

/** The deadline of a single read on a reconcile's or the tuner's path (a live object, a pod list, discovery). */
export const readTimeoutMs = 15_000;

/** The one place that builds API clients from a KubeConfig (through api-client.ts). */
export function createKubeClients(kc: KubeConfig, timeoutMs = defaultTimeoutMs): KubeClients {
  return {
    core: makeClient(kc, CoreV1Api, timeoutMs),
    apps: makeClient(kc, AppsV1Api, timeoutMs),
    autoscaling: makeClient(kc, AutoscalingV2Api, timeoutMs),
    policy: makeClient(kc, PolicyV1Api, timeoutMs),
    networking: makeClient(kc, NetworkingV1Api, timeoutMs),
    custom: makeClient(kc, CustomObjectsApi, timeoutMs),
    coordination: makeClient(kc, CoordinationV1Api, timeoutMs),
    objects: makeObjectClient(kc, timeoutMs),
    watch: new Watch(sharedConnections(kc)),
  };
}
