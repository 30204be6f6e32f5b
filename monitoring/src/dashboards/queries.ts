// PromQL pieces shared by the runtime panels: Grafana's variables as selectors, rates over
// $__rate_interval, and ratios that are 0 (not empty) before the numerator's first series.

export const ri = '$__rate_interval';
export const sel = 'namespace=~"$namespace", hal9_cluster=~"$hal9_cluster"';
export const selNeuron = `${sel}, neuron=~"$neuron"`;
/**
 * Per-pod series (no neuron label: executor, queue, upstreams, process) of the selected neurons' pods. The
 * operator's ServiceMonitor gives every series of a pod its Neuron as `hal9_ai_neuron`; a runtime scraped
 * without it (standalone, several neurons in one process) has no such label and is always shown, whole.
 */
export const selPod = `${sel}, hal9_ai_neuron=~"$neuron|"`;

/**
 * The labels that name one neuron. Neuron ids repeat across Hal9Clusters (the default topology's
 * strategic-1, design-1, impl-1 in each), so with the variables at "All" a per-neuron line keeps its
 * namespace and Hal9Cluster, or two clusters' neurons add up into one.
 */
export const byNeuron = ['namespace', 'hal9_cluster', 'neuron'] as const;
export const neuronLegend = '{{namespace}}/{{hal9_cluster}}/{{neuron}}';
/** The labels that name one Hal9Cluster: its name is unique in its namespace only. */
export const byCluster = ['namespace', 'hal9_cluster'] as const;
export const clusterLegend = '{{namespace}}/{{hal9_cluster}}';

export const rate = (series: string, selector: string) => `rate(${series}{${selector}}[${ri}])`;

/** `sum by (…) (rate(series{selector}))`; `by` empty: a plain sum. */
export const sumRate = (series: string, selector: string, by: readonly string[] = []) =>
  `sum ${by.length > 0 ? `by (${by.join(', ')}) ` : ''}(${rate(series, selector)})`;

/** A ratio of summed rates that is 0, not empty, when the numerator's series do not exist yet. */
export const ratio = (num: string, den: string, by: readonly string[] = []) => {
  const b = by.length > 0 ? `by (${by.join(', ')}) ` : '';
  return `(sum ${b}(${num}) or 0 * sum ${b}(${den})) / (sum ${b}(${den}) > 0)`;
};
