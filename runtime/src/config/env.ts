import { isObj, type Obj } from './section.ts';

/** Environment variables that override single values (read by the composition root, passed in here). */
export interface ConfigEnv {
  readonly PORT?: string;
  readonly HOST?: string;
  readonly HAL9_MODE?: string;
  readonly HAL9_MAX_CONCURRENT_SIGNALS?: string;
  readonly ANTHROPIC_BASE_URL?: string;
  readonly HAL9_AUTH_TOKEN?: string;
  readonly HAL9_AUTH_TOKEN_FILE?: string;
  readonly HAL9_API_KEYS_FILE?: string;
  readonly HAL9_PEER_TOKEN_FILE?: string;
  readonly HAL9_API_KEY_FILE?: string;
  readonly KUBERNETES_SERVICE_HOST?: string;
}

/** Which environment variable sets which field (applyEnv; a problem with that field names the variable). */
export const ENV_FIELDS: Readonly<Record<string, keyof ConfigEnv>> = {
  'server.port': 'PORT',
  'server.host': 'HOST',
  'server.auth_token': 'HAL9_AUTH_TOKEN',
  'server.auth_token_file': 'HAL9_AUTH_TOKEN_FILE',
  'server.api_keys_file': 'HAL9_API_KEYS_FILE',
  'server.peer_token_file': 'HAL9_PEER_TOKEN_FILE',
  'claude.mode': 'HAL9_MODE',
  'claude.base_url': 'ANTHROPIC_BASE_URL',
  'claude.api_key_file': 'HAL9_API_KEY_FILE',
  'performance.max_concurrent_signals': 'HAL9_MAX_CONCURRENT_SIGNALS',
};

/** Variables whose value is a number (given as one, so the file's validation applies to it). */
const NUMERIC_ENV: ReadonlySet<keyof ConfigEnv> = new Set(['PORT', 'HAL9_MAX_CONCURRENT_SIGNALS']);

/** The variable that set `field`, when one did (a config file's value is then not what was read). */
export function envSource(field: string, env: ConfigEnv): keyof ConfigEnv | undefined {
  const name = ENV_FIELDS[field];
  return name && env[name] ? name : undefined;
}

export function applyEnv(doc: Obj, env: ConfigEnv): Obj {
  const out: Obj = structuredClone(doc);
  // An absent or empty section takes the override; a section of the wrong type keeps its value (so
  // section() reports it) and the override goes nowhere.
  const sub = (k: string): Obj => {
    if (out[k] === undefined || out[k] === null) out[k] = {};
    return isObj(out[k]) ? out[k] : {};
  };
  const asNumber = (v: string) => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);
  for (const [field, name] of Object.entries(ENV_FIELDS)) {
    const value = env[name];
    if (!value) continue;
    const [section, key] = field.split('.') as [string, string];
    sub(section)[key] = NUMERIC_ENV.has(name) ? asNumber(value) : value;
  }
  // In a pod the runtime must be reachable from the Service and the kubelet at the pod's IP, IPv4 or
  // IPv6 ("::" takes both; listenWildcard falls back to 0.0.0.0 on a kernel without IPv6); on a laptop
  // it stays on loopback.
  // An empty or null host is no host, as in the file (server.ts): the pod's default applies.
  const host = sub('server').host;
  if (!env.HOST && env.KUBERNETES_SERVICE_HOST && (host === undefined || host === null || host === ''))
    sub('server').host = '::';
  return out;
}
