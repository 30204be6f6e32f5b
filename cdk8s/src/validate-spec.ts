import { applyDefaults } from './defaults.ts';
import { type Hal9ClusterSpec, hal9ClusterSpecDefaults } from './generated/hal9cluster.gen.ts';
import { hal9ClusterSpecSchema } from './generated/hal9cluster.schema.gen.ts';
import { type NeuronSpec, neuronSpecDefaults } from './generated/neuron.gen.ts';
import { neuronSpecSchema } from './generated/neuron.schema.gen.ts';
import { checkAgainstSchema } from './schema-check.ts';
import { clusterRules, neuronRules } from './spec-rules.ts';

/**
 * Every problem of a Hal9Cluster as the apiserver would see it: the structural schema first, then
 * (on a structurally valid spec, with the schema defaults applied) the CRD's CEL rules. Pure.
 */
export function hal9ClusterProblems(name: string, spec: Hal9ClusterSpec): string[] {
  const structural = checkAgainstSchema(spec, hal9ClusterSpecSchema, 'spec');
  if (structural.length > 0) return structural;
  return clusterRules(name, applyDefaults(spec, hal9ClusterSpecDefaults) as Hal9ClusterSpec);
}

/** Every problem of a Neuron (see hal9ClusterProblems). Pure. */
export function neuronProblems(name: string, spec: NeuronSpec): string[] {
  const structural = checkAgainstSchema(spec, neuronSpecSchema, 'spec');
  if (structural.length > 0) return structural;
  return neuronRules(name, applyDefaults(spec, neuronSpecDefaults) as NeuronSpec);
}
