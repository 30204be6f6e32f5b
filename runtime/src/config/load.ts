import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import { type ConfigEnv, parseConfig, parseConfigText } from './parse.ts';
import type { Config } from './types.ts';

/** Reads the config file when a path is given, else validates the embedded default. */
export async function loadConfig(path: string | undefined, env: ConfigEnv): Promise<Config> {
  if (!path) return parseConfig(undefined, env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError([{ field: path, message: `cannot be read: ${(e as Error).message}` }]);
  }
  return parseConfigText(text, env, path);
}
