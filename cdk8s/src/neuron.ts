import { type NeuronSpec, neuronApiVersion, neuronKind } from '@hal9/api';
import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { neuronProblems } from './validate-spec.ts';

export interface NeuronProps {
  /**
   * Metadata of the object. The name is the neuron id (a DNS label) that connections refer to.
   * @default - a name generated from the construct path
   */
  readonly metadata?: ApiObjectMetadata;
  /** The neuron: its Hal9Cluster, layer, prompt, connections and per-neuron overrides, typed from the CRD. */
  readonly spec: NeuronSpec;
}

/**
 * A `hal9.ai/v1alpha1` Neuron: one hierarchical LLM neuron that the operator runs as a Deployment of
 * the Hal9 runtime.
 *
 * The constructor checks the spec against the CRD's schema and mirrors its validation rules (for
 * example a forward connection to the neuron itself), and throws one error listing every problem.
 * Whether connections name existing neurons is checked by Hal9Platform, which knows them all.
 *
 * @example
 * new Neuron(chart, 'impl-1', {
 *   metadata: { name: 'impl-1' },
 *   spec: { cluster: 'hal9-production', layer: 'L2', backwardConnections: ['design-1'] },
 * });
 */
export class Neuron extends ApiObject {
  static readonly apiVersion = neuronApiVersion;
  static readonly kind = neuronKind;

  /** The spec as given (the apiserver applies the schema's defaults). */
  readonly spec: NeuronSpec;

  constructor(scope: Construct, id: string, props: NeuronProps) {
    const spec = structuredClone(props.spec);
    super(scope, id, {
      apiVersion: Neuron.apiVersion,
      kind: Neuron.kind,
      ...(props.metadata ? { metadata: props.metadata } : {}),
      spec,
    });
    this.spec = spec;
    const problems = neuronProblems(this.name, spec);
    if (problems.length > 0) {
      throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidSpec, `Neuron "${this.name}" is invalid`, problems);
    }
  }
}
