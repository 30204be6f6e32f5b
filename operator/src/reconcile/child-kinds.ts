import type { KubernetesObject } from '@kubernetes/client-node';
import type { ApiState } from '../controller/api-gated-informer.ts';
import type { OwnedReader } from '../controller/object-reader.ts';
import type { ApiResource } from '../kube/discovery.ts';

/**
 * Kinds a Neuron owns; each has an informer (selected by the hal9.ai/neuron label) whose events map
 * back to the owning Neuron, so each is re-applied when changed or deleted and deleted when no
 * longer rendered.
 */
export const childKinds = [
  'ConfigMap',
  'Deployment',
  'Service',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'ServiceMonitor',
] as const;
export type ChildKind = (typeof childKinds)[number];

/** The apiVersion each kind is written with (listed items carry none). */
export const childApiVersions: Readonly<Record<ChildKind, string>> = {
  ConfigMap: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  PodDisruptionBudget: 'policy/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
};

/** The Prometheus Operator's ServiceMonitor API, rendered when spec.monitoring.serviceMonitor is on. */
export const serviceMonitorApi: ApiResource = {
  group: 'monitoring.coreos.com',
  version: 'v1',
  plural: 'servicemonitors',
};

/**
 * Kinds whose API a cluster may not serve: their informer runs only while discovery lists the
 * resource (controller/api-gated-informer.ts), and the reconciler skips them while it does not.
 */
export const optionalChildApis: Readonly<Partial<Record<ChildKind, ApiResource>>> = {
  ServiceMonitor: serviceMonitorApi,
};

/**
 * The cache of one child kind, indexed by owner (a reconcile reads its own children, not every
 * object of the namespace); an optional kind also says whether its API is served.
 */
export interface ChildReader extends OwnedReader<KubernetesObject> {
  /** Absent: always served. */
  apiState?(): ApiState;
}
