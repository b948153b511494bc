/**
 * Counters, gauges and histograms for the per-request path, registered in a prom-client
 * Registry and exposed in the same text format as prom-client's own. prom-client validates and
 * hashes the label object on every observe (about 1-2 us each, and a request makes about ten);
 * here a label set's series is looked up once by its joined values and kept, so an
 * observation is a Map hit and a few additions.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
  /** Histograms: count per bucket (not cumulative) and the sum. */
  buckets?: Float64Array;
  sum: number;
}

abstract class LabelledMetric {
  private readonly series = new Map<string, Series>();
  readonly aggregator = 'sum';

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly labelNames: readonly string[],
    protected readonly upperBounds: readonly number[] = [],
  ) {
    registry.registerMetric(this as never);
  }

  /** The series of these label values, given in labelNames order. */
  protected at(values: readonly string[]): Series {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      s = { labels, value: 0, sum: 0, buckets: this.type === 'histogram' ? new Float64Array(this.upperBounds.length) : undefined };
      this.series.set(key, s);
    }
    return s;
  }

  reset(): void {
    this.series.clear();
  }

  /** prom-client's metric shape, which its Registry formats. */
  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { labels: object; value: number; metricName?: string }[];
  } {
    const values: { labels: object; value: number; metricName?: string }[] = [];
    for (const s of this.series.values()) {
      if (!s.buckets) {
        values.push({ labels: s.labels, value: s.value });
        continue;
      }
      let acc = 0;
      this.upperBounds.forEach((le, i) => {
        acc += s.buckets![i]!;
        values.push({ labels: { le, ...s.labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.value, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.value, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class LabelledCounter extends LabelledMetric {
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    super(registry, name, help, 'counter', labelNames);
  }

  inc(...values: string[]): void {
    this.at(values).value++;
  }
}

export class LabelledGauge extends LabelledMetric {
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    super(registry, name, help, 'gauge', labelNames);
  }

  add(delta: number, ...values: string[]): void {
    this.at(values).value += delta;
  }
}

export class LabelledHistogram extends LabelledMetric {
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], upperBounds: readonly number[]) {
    super(registry, name, help, 'histogram', labelNames, upperBounds);
  }

  observe(value: number, ...values: string[]): void {
    if (!Number.isFinite(value)) return;
    const s = this.at(values);
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) s.buckets![i]!++;
    s.sum += value;
    s.value++;
  }
}
