import { ConfigError } from '../errors.ts';
import { parseYamlText } from './yaml-text.ts';

// The signal API's keys file (server.api_keys_file, a mounted Secret): a YAML mapping of client name
// → bearer key. Names appear in logs and metrics, so they are short and plain; keys are long.

const NAME = /^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/;
// A key travels in `Authorization: Bearer <key>`: visible ASCII only, so none can be accepted here that
// no client could send (a control character, a space the header parser trims, a YAML block's newline).
const KEY = /^[\x21-\x7e]{16,4096}$/;
export const MAX_API_KEYS = 1000;

export function parseApiKeys(text: string, field = 'server.api_keys_file'): Map<string, string> {
  const problems: { field: string; message: string }[] = [];
  const doc = parseYamlText(text, field);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError([{ field, message: 'must be a mapping of client name to key' }]);
  }
  const entries = Object.entries(doc);
  // Alone, before each entry is read: 60,000 of them would each be checked for nothing.
  if (entries.length === 0 || entries.length > MAX_API_KEYS) {
    throw new ConfigError([
      { field, message: `must name 1 to ${MAX_API_KEYS} clients (got ${entries.length})` },
    ]);
  }
  const keys = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, key] of entries) {
    if (name.length > 63 || !NAME.test(name)) {
      problems.push({
        field: `${field}.${name.slice(0, 63)}`,
        message: 'a client name is lower-case letters, digits, "-" or "_", at most 63',
      });
    } else if (typeof key !== 'string' || !KEY.test(key)) {
      problems.push({
        field: `${field}.${name}`,
        message: 'the key must be a string of 16 to 4096 visible ASCII characters (no spaces)',
      });
    } else if (seen.has(key)) {
      problems.push({ field: `${field}.${name}`, message: 'the same key is given to two clients' });
    } else {
      seen.add(key);
      keys.set(name, key);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}
