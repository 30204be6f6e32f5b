// The "Tokens and cost" row of hal9-performance: tokens per neuron, the prompt-cache hit ratio, cost per
// neuron and model, spend against the cost limit, model calls the budgets refused, and the estimated
// savings of both caches.
import * as units from '@grafana/grafana-foundation-sdk/units';
import { timeSeriesPanel } from './panels.ts';
import {
  byCluster,
  byNeuron,
  clusterLegend,
  neuronLegend,
  rate,
  ratio,
  sel,
  selNeuron,
  sumRate,
} from './queries.ts';

/**
 * Anthropic's list-price ratios to the input price of the same model: output 5×, cache read 0.1×, cache
 * write 1.25× (the runtime's price parser uses the same cache defaults). Prices are not metrics, so the
 * prompt-cache estimate recovers a neuron's input price from its cost and tokens with these ratios.
 */
export const listPriceRatios = Object.freeze({ output: 5, cacheRead: 0.1, cacheWrite: 1.25 });

const tokens = (type: string) =>
  sumRate('hal9_neuron_tokens_total', `${selNeuron}, type="${type}"`, byNeuron);
const cost = sumRate('hal9_cost_usd_total', selNeuron, byNeuron);
const hits = sumRate('hal9_cache_hits_total', selNeuron, byNeuron);
// Model calls that were paid: answered signals minus the answers that came from the response cache.
const paidCalls = `(${sumRate('hal9_signals_total', `${selNeuron}, outcome="ok"`, byNeuron)} - ${hits})`;
const onNeuron = `on (${byNeuron.join(', ')})`;

/** Response cache: each hit saved one call at the neuron's mean cost per paid call. USD/h. */
export const responseCacheSavings = `3600 * ${hits} * ${onNeuron} (${cost} / (${paidCalls} > 0))`;

/**
 * Prompt cache: reads cost (1 − 0.1) × the input price less than input tokens would, and writes cost
 * 0.25 × more; the input price is the neuron's cost ÷ its tokens weighted by the list-price ratios. USD/h.
 */
export const promptCacheSavings = (() => {
  const r = listPriceRatios;
  const saved = `(${1 - r.cacheRead} * ${tokens('cache_read')} - ${r.cacheWrite - 1} * ${tokens('cache_creation')})`;
  const inputEquivalents = `(${tokens('input')} + ${r.output} * ${tokens('output')} + ${r.cacheRead} * ${tokens('cache_read')} + ${r.cacheWrite} * ${tokens('cache_creation')})`;
  return `3600 * ${cost} * ${onNeuron} (${saved} / (${inputEquivalents} > 0))`;
})();

export const tokensAndCost = [
  timeSeriesPanel({
    title: 'Tokens per second by neuron and type',
    description:
      'Model tokens each neuron used per second, by type: input, output, cache_read (prompt read from the prompt cache) and cache_creation (prompt written to it) (hal9_neuron_tokens_total). Response-cache hits use none.',
    unit: units.CountsPerSecond,
    min: 0,
    targets: [
      {
        expr: sumRate('hal9_neuron_tokens_total', selNeuron, [...byNeuron, 'type']),
        legend: `${neuronLegend} {{type}}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Prompt-cache hit ratio by neuron',
    description:
      'Share of each neuron’s prompt tokens read from the prompt cache: cache_read ÷ (input + cache_read + cache_creation) of hal9_neuron_tokens_total. Output tokens are not prompt tokens.',
    unit: units.PercentUnit,
    min: 0,
    max: 1,
    targets: [
      {
        expr: ratio(
          rate('hal9_neuron_tokens_total', `${selNeuron}, type="cache_read"`),
          rate('hal9_neuron_tokens_total', `${selNeuron}, type=~"input|cache_read|cache_creation"`),
          byNeuron,
        ),
        legend: neuronLegend,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Cost per neuron and model (USD/h)',
    description:
      'Model spend per neuron and model, projected to an hour from the rate interval (hal9_cost_usd_total × 3600). Only models with a price in claude.prices have a cost; a fallback model shows as its own line.',
    unit: units.Dollars,
    min: 0,
    targets: [
      {
        expr: `3600 * ${sumRate('hal9_cost_usd_total', selNeuron, [...byNeuron, 'model'])}`,
        legend: `${neuronLegend} {{model}}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Spend and cost limit per Hal9Cluster (USD/h)',
    description:
      'Model spend per Hal9Cluster projected to an hour, and the hourly limit Hal9CostBurnRateHigh compares it with (cluster:hal9_cost_limit_usd_per_hour:effective: the default or the Hal9Cluster’s override). The alert fires when both the last hour and the last 5 minutes are above the limit.',
    unit: units.Dollars,
    min: 0,
    targets: [
      {
        expr: `3600 * ${sumRate('hal9_cost_usd_total', sel, byCluster)}`,
        legend: `spend ${clusterLegend}`,
      },
      {
        expr: `max by (${byCluster.join(', ')}) (cluster:hal9_cost_limit_usd_per_hour:effective{${sel}})`,
        legend: `limit ${clusterLegend}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Mean cost per request',
    description:
      'Model spend per finished request (completed, failed, timed out or cancelled: every request admitted; the ones refused at the door spent nothing) per Hal9Cluster: cost of every neuron of the cluster, whichever pod ran it, over the requests its entry pods finished.',
    unit: units.Dollars,
    min: 0,
    targets: [
      {
        expr: `${sumRate('hal9_cost_usd_total', sel, byCluster)} / (${sumRate('hal9_requests_total', `${sel}, outcome!="rejected"`, byCluster)} > 0)`,
        legend: clusterLegend,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Model calls refused by request budgets',
    description:
      'Model calls per second that a request’s budget refused before they were made (BUDGET_EXCEEDED), by neuron and budget: max_model_calls, max_tokens or max_cost_usd of performance.request_budget (hal9_model_calls_refused_total). On a pod a request was forwarded to, max_tokens and max_cost_usd include what the request had left where it came from.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: sumRate('hal9_model_calls_refused_total', selNeuron, [...byNeuron, 'budget']),
        legend: `${neuronLegend} {{budget}}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Cache savings per neuron (USD/h, estimate)',
    description:
      'An estimate, not a bill. Response cache: hits × the neuron’s mean cost per paid call (cost ÷ (answered signals − hits)). Prompt cache: 0.9 × the input price per token read from it, less 0.25 × per token written to it; the input price is the neuron’s cost ÷ its tokens weighted by Anthropic’s list-price ratios (output 5×, cache read 0.1×, cache write 1.25×), so it is off where claude.prices uses other ratios. Neurons without a priced model show nothing.',
    unit: units.Dollars,
    targets: [
      { expr: responseCacheSavings, legend: `response cache ${neuronLegend}` },
      { expr: promptCacheSavings, legend: `prompt cache ${neuronLegend}` },
    ],
  }),
];
