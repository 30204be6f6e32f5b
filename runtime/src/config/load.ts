import { ConfigError } from '../errors.ts';
import { FileRefused, readBoundedFile } from './bounded-file.ts';
import { type ConfigEnv, parseConfig, parseConfigText } from './parse.ts';
import type { Config } from './types.ts';

/**
 * The most a config file may hold: sixteen times what a ConfigMap can (the operator's configs are
 * ConfigMaps); a larger file is a wrong path, not a config.
 */
export const MAX_CONFIG_FILE_BYTES = 16 * 1024 * 1024;

/** Reads the config file when a path is given, else validates the embedded default. */
export async function loadConfig(
  path: string | undefined,
  env: ConfigEnv,
  maxBytes = MAX_CONFIG_FILE_BYTES,
): Promise<Config> {
  if (!path) return parseConfig(undefined, env);
  let text: string;
  try {
    text = await readBoundedFile(path, maxBytes);
  } catch (e) {
    const message = e instanceof FileRefused ? e.reason : `cannot be read: ${(e as Error).message}`;
    throw new ConfigError([{ field: path, message }]);
  }
  return parseConfigText(text, env, path);
}
