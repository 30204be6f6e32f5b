import { parse as parseYaml } from 'yaml';

// The block form the renderer writes: `  max_concurrent_signals: N` inside the top-level
// `performance:` map. Reading it from there skips parsing the whole document on every reconcile
// (a full YAML parse was ~7 % of the operator's CPU with 1,000 Neurons); other forms are parsed.
const blockForm = /^performance:\n(?: .*\n)*? {2}max_concurrent_signals: (\d+)$/m;

/** performance.max_concurrent_signals from the rendered runtime config (runtime-contract.md). */
export function maxConcurrentSignals(runtimeConfig: string): number | undefined {
  const fast = blockForm.exec(runtimeConfig);
  if (fast) return Number(fast[1]);
  try {
    const doc = parseYaml(runtimeConfig) as { performance?: { max_concurrent_signals?: unknown } } | null;
    const v = doc?.performance?.max_concurrent_signals;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
