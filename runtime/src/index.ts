export { DEFAULT_CONFIG } from './config/defaults.ts';
export { loadConfig } from './config/load.ts';
export { parseConfig, parseConfigText } from './config/parse.ts';
export type { Config, Layer, NeuronConfig } from './config/types.ts';
export { ConfigError, ErrorCodes, Hal9Error } from './errors.ts';
export { RUNTIME_V8_FLAGS } from './node-options.ts';
export { parseAnswer } from './pipeline/protocol.ts';
export { createRuntime, type Runtime, type RuntimeOptions } from './runtime.ts';
