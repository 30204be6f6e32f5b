import {
  applyDefaults,
  checkAgainstSchema,
  type Hal9ClusterSpec,
  hal9ClusterSpecDefaults,
  hal9ClusterSpecSchema,
  type NeuronSpec,
  neuronSpecDefaults,
  neuronSpecSchema,
} from '@hal9/api';
import { clusterRules, neuronRules } from './spec-rules.ts';

/**
 * Every problem of a Hal9Cluster as the apiserver would see it: the structural schema first, then
 * (on a structurally valid spec, with the schema defaults applied) the CRD's CEL rules. Pure.
 */
export function hal9ClusterProblems(name: string, spec: Hal9ClusterSpec): string[] {
  const structural = checkAgainstSchema(spec, hal9ClusterSpecSchema, 'spec');
  if (structural.length > 0) return structural;
  return clusterRules(name, applyDefaults(hal9ClusterSpecDefaults, spec) as Hal9ClusterSpec);
}

/** Every problem of a Neuron (see hal9ClusterProblems). Pure. */
export function neuronProblems(name: string, spec: NeuronSpec): string[] {
  const structural = checkAgainstSchema(spec, neuronSpecSchema, 'spec');
  if (structural.length > 0) return structural;
  return neuronRules(name, applyDefaults(neuronSpecDefaults, spec) as NeuronSpec);
}
