import type { Registry } from 'prom-client';

// Counters and histograms on the per-signal path. A series is resolved once (one Map lookup by its
// label values) and observing is an array write; prom-client's own metrics hash the label object on
// every call, which was a tenth of a zero-delay hop's CPU. They are exposed to the registry passed in,
// in prom-client's own value format, so /metrics and getMetricsAsJSON read them like any other metric.

type Labels = Readonly<Record<string, string>>;

interface Exported {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: unknown[] }>;
  reset(): void;
}

abstract class FixedMetric<S> implements Exported {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  protected readonly series = new Map<string, { labels: Labels; s: S }>();
  readonly labelNames: readonly string[];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    registry.registerMetric(this as never);
  }

  protected abstract create(): S;
  protected abstract values(labels: Labels, s: S): unknown[];

  /** The series of these label values (created at zero the first time). */
  labels(labels: Labels): S {
    let key = '';
    for (const n of this.labelNames) key += `${labels[n] ?? ''}\u0000`;
    let e = this.series.get(key);
    if (!e) {
      e = { labels: { ...labels }, s: this.create() };
      this.series.set(key, e);
    }
    return e.s;
  }

  async get() {
    const values: unknown[] = [];
    for (const { labels, s } of this.series.values()) values.push(...this.values(labels, s));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}

export interface CounterSeries {
  inc(by?: number): void;
}

export class FixedCounter extends FixedMetric<CounterSeries & { value: number }> {
  readonly type = 'counter' as const;
  protected create() {
    const s = {
      value: 0,
      inc(by = 1) {
        s.value += by;
      },
    };
    return s;
  }
  protected values(labels: Labels, s: { value: number }) {
    return [{ labels, value: s.value }];
  }
}

export interface HistogramSeries {
  observe(value: number): void;
}

export class FixedHistogram extends FixedMetric<HistogramSeries & { counts: Float64Array; sum: number }> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  constructor(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly string[],
    bounds: readonly number[],
  ) {
    super(registry, name, help, labelNames);
    this.#bounds = bounds;
  }

  protected create() {
    const bounds = this.#bounds;
    const s = {
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      observe(v: number) {
        let i = 0;
        while (i < bounds.length && v > bounds[i]!) i++;
        s.counts[i]!++;
        s.sum += v;
      },
    };
    return s;
  }

  protected values(labels: Labels, s: { counts: Float64Array; sum: number }) {
    const out: unknown[] = [];
    let acc = 0;
    this.#bounds.forEach((le, i) => {
      acc += s.counts[i]!;
      out.push({ labels: { ...labels, le }, value: acc, metricName: `${this.name}_bucket` });
    });
    acc += s.counts[this.#bounds.length]!;
    out.push({ labels: { ...labels, le: '+Inf' }, value: acc, metricName: `${this.name}_bucket` });
    out.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
    out.push({ labels, value: acc, metricName: `${this.name}_count` });
    return out;
  }
}
