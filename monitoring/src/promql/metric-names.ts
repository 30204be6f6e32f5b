// A small lexical scan of PromQL, enough to find metric names and the series given to rate().
// It is not a parser: validity is Prometheus' job (promtool and the real-server test).

const keywords = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/** Removes strings, Grafana variables, label matchers, grouping clauses and range/subquery brackets. */
export function stripNonMetricTokens(expr: string): string {
  return expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{?\w+\}?/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
}

/** Blanks the contents of quoted strings, keeping offsets, so brackets inside them are not counted. */
function maskStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, (s) => `"${' '.repeat(s.length - 2)}"`);
}

/** Metric (or recorded series) names referenced by an expression, sorted and unique. */
export function metricNames(expr: string): string[] {
  const text = stripNonMetricTokens(expr);
  const names = new Set<string>();
  for (const m of text.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?/g)) {
    const [, name, call] = m;
    if (name === undefined || call !== undefined || keywords.has(name.toLowerCase())) continue;
    // `1e3` style numbers never start with a letter; a name followed by `(` is a function.
    names.add(name);
  }
  return [...names].sort();
}

/** For each `rate(`, `irate(` or `increase(` call, the metric names inside its argument. */
export function rateArguments(source: string): string[][] {
  const expr = maskStrings(source);
  const out: string[][] = [];
  for (const m of expr.matchAll(/\b(rate|irate|increase)\s*\(/g)) {
    const start = (m.index ?? 0) + m[0].length;
    let depth = 1;
    let i = start;
    for (; i < expr.length && depth > 0; i++) {
      if (expr[i] === '(') depth++;
      else if (expr[i] === ')') depth--;
    }
    out.push(metricNames(expr.slice(start, i - 1)));
  }
  return out;
}

/** Counter-like names (`_total`) used outside rate/irate/increase (dashboard-linter target-counter-agg). */
export function bareCounters(expr: string): string[] {
  const withoutRates = maskStrings(expr).replace(/\b(rate|irate|increase)\s*\(([^()]|\([^()]*\))*\)/g, ' ');
  return metricNames(withoutRates).filter((n) => n.endsWith('_total'));
}

/**
 * Each reference to a series in an expression, with its label matchers ('' when it has none). Names
 * that are not series (functions, labels, keywords) come back too: look them up before use.
 */
export function seriesSelectors(expr: string): { name: string; matchers: string }[] {
  return [...expr.matchAll(/(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?/g)].map((m) => ({
    name: m[1] ?? '',
    matchers: m[2] ?? '',
  }));
}
