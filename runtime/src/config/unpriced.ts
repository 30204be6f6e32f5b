import type { Config } from './types.ts';

/**
 * The models a request's calls may end on (claude.model, the hosted neurons' fallback_models) that
 * claude.prices does not price, when performance.request_budget.max_cost_usd bounds requests in api
 * mode: their calls cost nothing by the runtime's count, so the budget does not bound them. Pure.
 */
export function unpricedModels(config: Config): string[] {
  if (config.claude.mode !== 'api' || config.performance.request_budget.max_cost_usd === 0) return [];
  const models = new Set([config.claude.model]);
  for (const n of config.neurons) if (!n.endpoint) for (const m of n.fallback_models) models.add(m);
  return [...models].filter((m) => !Object.hasOwn(config.claude.prices, m));
}

/** The warning the runtime logs at start for unpricedModels. */
export const unpricedWarning = (models: readonly string[]): string =>
  `performance.request_budget.max_cost_usd bounds only priced models, and claude.prices has no price for ${models.join(', ')}: their calls count nothing toward it`;
