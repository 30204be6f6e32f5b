// The Hal9 API: one source for the operator and cdk8s (and, types only, the runtime's load report). The types, defaults, constants and spec schemas
// under generated/ come from crds/ (npm run gen:types; api/src/crd.test.ts is the drift check).
export { applyDefaults, type DefaultsNode } from './apply-defaults.ts';
export { defaultClusterResources, withDefaultResources } from './default-resources.ts';
export * from './generated/hal9cluster.gen.ts';
export * from './generated/hal9cluster.schema.gen.ts';
export * from './generated/neuron.gen.ts';
export * from './generated/neuron.schema.gen.ts';
export type { LatencyHistogram, LoadReport, NeuronLoad } from './load-report.ts';
export {
  compareAnyQuantities,
  compareQuantities,
  cpuRoundedToMilli,
  isQuantity,
  isWholeQuantity,
  memoryRoundedToBytes,
  milliCpu,
  parseQuantity,
  type Quantity,
  quantityString,
  sameQuantity,
  wholeQuantityValue,
} from './quantity.ts';
export { runeLength } from './rune-length.ts';
export { runtimeMemoryFloor, runtimeMemoryProblem } from './runtime-memory.ts';
export { checkAgainstSchema, type SchemaNode } from './schema-check.ts';
export { isSafeSysctl, safeSysctls } from './sysctls.ts';

/** The API group and version of both kinds. */
export const group = 'hal9.ai';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;
