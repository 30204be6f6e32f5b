import { type Hal9ClusterSpec, hal9ClusterApiVersion, hal9ClusterKind } from '@hal9/api';
import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { hal9ClusterProblems } from './validate-spec.ts';

export interface Hal9ClusterProps {
  /**
   * Metadata of the object. The name must be a DNS label.
   * @default - a name generated from the construct path
   */
  readonly metadata?: ApiObjectMetadata;
  /**
   * The cluster-wide defaults of its neurons, typed from the CRD.
   * @default {} - every field takes the CRD's default (mock Claude, the guide's tuning)
   */
  readonly spec?: Hal9ClusterSpec;
}

/**
 * A `hal9.ai/v1alpha1` Hal9Cluster: the defaults (image, Claude, performance, resources, placement,
 * node tuning, autoscaling, monitoring) shared by the Neurons that name it.
 *
 * The constructor checks the spec against the CRD's schema and mirrors its validation rules, and
 * throws one error listing every problem with its field.
 *
 * @example
 * new Hal9Cluster(chart, 'cluster', {
 *   metadata: { name: 'hal9-production' },
 *   spec: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 10 } },
 * });
 */
export class Hal9Cluster extends ApiObject {
  static readonly apiVersion = hal9ClusterApiVersion;
  static readonly kind = hal9ClusterKind;

  /** The spec as given (the apiserver applies the schema's defaults). */
  readonly spec: Hal9ClusterSpec;

  constructor(scope: Construct, id: string, props: Hal9ClusterProps = {}) {
    const spec = structuredClone(props.spec ?? {});
    super(scope, id, {
      apiVersion: Hal9Cluster.apiVersion,
      kind: Hal9Cluster.kind,
      ...(props.metadata ? { metadata: props.metadata } : {}),
      spec,
    });
    this.spec = spec;
    const problems = hal9ClusterProblems(this.name, spec);
    if (problems.length > 0) {
      throw new Hal9Cdk8sError(
        Hal9Cdk8sErrorCode.InvalidSpec,
        `Hal9Cluster "${this.name}" is invalid`,
        problems,
      );
    }
  }
}
