import type { Hal9ClusterSpec } from './generated/hal9cluster.gen.ts';

// A Hal9Cluster without a `resources` section runs its pods with the Performance Tuning Guide's
// resources. The operator applies them, not the CRD's schema: a schema default would be stored with
// the object, owned by no field manager, and stay behind when the user later writes only limits
// (then refused as limits below requests the user never wrote). The CRD's description states them.

/** The runtime container's resources when the Hal9Cluster has no `resources` section. */
export const defaultClusterResources: NonNullable<Hal9ClusterSpec['resources']> = Object.freeze({
  requests: Object.freeze({ cpu: '2000m', memory: '2Gi' }),
  limits: Object.freeze({ cpu: '4000m', memory: '4Gi' }),
});

/** `spec` with the default resources when it has no `resources` section (a section present is kept as written). */
export function withDefaultResources<S extends Hal9ClusterSpec>(spec: S): S {
  return spec.resources === undefined ? { ...spec, resources: defaultClusterResources } : spec;
}
