export { renderHpa, renderPdb, replicaBounds } from './autoscaling.ts';
export { configKey, renderConfigMap } from './config-map.ts';
export {
  configFile,
  heapMiB,
  metricsAnnotations,
  renderDeployment,
  terminationGraceSeconds,
} from './deployment.ts';
export {
  childNames,
  configHashAnnotation,
  fieldManager,
  neuronEndpoint,
  neuronLabels,
  neuronOwnerReference,
  runtimePort,
  runtimePortName,
  selectorLabels,
  selectorString,
} from './labels.ts';
export { milliCpu, parseQuantity, type Quantity, quantityString, sameQuantity } from './quantity.ts';
export {
  type RenderNeuronInput,
  type RenderNeuronOutput,
  renderNeuron,
  startingParallelism,
} from './render-neuron.ts';
export { renderRuntimeConfig } from './runtime-config.ts';
export { renderService } from './service.ts';
export { renderServiceMonitor } from './service-monitor.ts';
export { sortKeys } from './sort-keys.ts';
export { isSafeSysctl, safeSysctls } from './sysctls.ts';
export { renderTuning } from './tuning.ts';
