import { ConfigError } from '../errors.ts';
import { claudeSections, parseClaude } from './claude.ts';
import { DEFAULT_CONFIG } from './defaults.ts';
import { applyEnv, type ConfigEnv, envSource } from './env.ts';
import { str } from './fields.ts';
import { checkFallbackModels, parseEntryNeuron, parseNeurons } from './neurons.ts';
import { parseCacheLayers, parsePerformance, performanceSections } from './performance.ts';
import { type Ctx, section } from './section.ts';
import { parseServer, serverSection } from './server.ts';
import type { Config } from './types.ts';
import { parseYamlText } from './yaml-text.ts';

export type { ConfigEnv } from './env.ts';

const deepFreeze = <T>(v: T): T => {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
};

/** Validates a parsed document (or nothing, for the embedded default) into a frozen Config. */
export function parseConfig(doc: unknown, env: ConfigEnv = {}): Config {
  const ctx: Ctx = { problems: [] };
  const root = applyEnv(
    section(ctx, doc ?? {}, '', ['cluster', 'server', 'entry_neuron', 'neurons', 'performance', 'claude']),
    env,
  );
  const d = DEFAULT_CONFIG;

  // Problems are listed in this order: every section's keys, then the cache layers and the
  // topology, then each section's values.
  const cl = section(ctx, root.cluster, 'cluster', ['name']);
  const sv = serverSection(ctx, root.server);
  const pf = performanceSections(ctx, root.performance);
  const cd = claudeSections(ctx, root.claude);
  const cacheLayers = parseCacheLayers(ctx, pf.performance);
  const neurons = parseNeurons(ctx, root.neurons);
  const entry = parseEntryNeuron(ctx, root, neurons);

  const server = parseServer(ctx, sv);
  const performance = parsePerformance(ctx, pf, cacheLayers);
  const config: Config = {
    cluster: { name: str(ctx, cl, 'cluster', 'name', d.cluster.name, 253) },
    server,
    entry_neuron: entry,
    neurons,
    performance: inFlightDefault(performance, server.body_limit_bytes, pf.performance),
    claude: parseClaude(ctx, cd),
  };
  checkFallbackModels(ctx, config.neurons, config.claude.model);
  if (ctx.problems.length > 0)
    // A value an environment variable set is that variable's, not the file's: say which.
    throw new ConfigError(
      ctx.problems.map((p) => {
        const from = envSource(p.field, env);
        return from
          ? { field: p.field, message: `${p.message} (set by the environment variable ${from})` }
          : p;
      }),
    );
  return deepFreeze(config);
}

/**
 * performance.max_in_flight_content_bytes when the file sets none: 128 MiB, or eight bodies of the
 * server's limit when that is more, so that a raised body limit still lets several bodies be held.
 */
function inFlightDefault(
  p: Config['performance'],
  bodyLimit: number,
  raw: Readonly<Record<string, unknown>>,
): Config['performance'] {
  if (raw.max_in_flight_content_bytes !== undefined && raw.max_in_flight_content_bytes !== null) return p;
  return { ...p, max_in_flight_content_bytes: Math.max(p.max_in_flight_content_bytes, 8 * bodyLimit) };
}

/** Parses YAML text; a syntax error is reported as a problem of the file itself. */
export function parseConfigText(text: string, env: ConfigEnv = {}, source = 'config'): Config {
  return parseConfig(parseYamlText(text, source), env);
}
