import type { Config } from './types.ts';

/**
 * The models a request's calls may end on (claude.model, the hosted neurons' fallback_models) that
 * claude.prices does not price, when performance.request_budget.max_cost_usd bounds requests in api
 * mode: their calls cost nothing by the runtime's count, so the budget does not bound them. Pure.
 */
export function unpricedModels(config: Config): string[] {
  if (config.claude.mode !== 'api' || config.performance.request_budget.max_cost_usd === 0) return [];
  return unpricedOf(config, modelsInUse(config));
}

const unpricedOf = (config: Config, models: Set<string>): string[] =>
  [...models].filter((m) => !Object.hasOwn(config.claude.prices, m));

/** claude.model and the hosted neurons' fallback_models: what this runtime's calls may end on. */
function modelsInUse(config: Config): Set<string> {
  const models = new Set([config.claude.model]);
  for (const n of config.neurons) if (!n.endpoint) for (const m of n.fallback_models) models.add(m);
  return models;
}

/**
 * The claude.prices entries no call of this runtime can end on, in api mode: a misspelt model (the
 * one meant stays unpriced, and hal9_cost_usd_total and the answers' costUsd stay empty without a
 * word) or one no longer used. Pure.
 */
export function strayPrices(config: Config): { stray: string[]; unpriced: string[] } {
  if (config.claude.mode !== 'api') return { stray: [], unpriced: [] };
  const models = modelsInUse(config);
  const stray = Object.keys(config.claude.prices).filter((k) => !models.has(k));
  return { stray, unpriced: unpricedOf(config, models) };
}

/** The warning the runtime logs at start for strayPrices. */
export const strayPricesWarning = ({ stray, unpriced }: ReturnType<typeof strayPrices>): string =>
  `claude.prices names ${stray.join(', ')}, which no call of this runtime uses (claude.model and the neurons' fallback_models)` +
  (unpriced.length > 0
    ? `, and has no price for ${unpriced.join(', ')}: check the spelling; calls of an unpriced model count no cost`
    : '');

/** The warning the runtime logs at start for unpricedModels. */
export const unpricedWarning = (models: readonly string[]): string =>
  `performance.request_budget.max_cost_usd bounds only priced models, and claude.prices has no price for ${models.join(', ')}: their calls count nothing toward it`;
