// A Prometheus histogram over one label with a few known values (the admission routes), counted in
// typed arrays and exposed through a prom-client Registry exactly as a prom-client Histogram of the
// same name, help, label and buckets would be (test/webhook/metrics-exposition.test.ts compares the
// two texts). Why not prom-client's own: its observe allocates, validates and hashes the labels and
// looks each bucket up by its bound turned into a string, about 1 µs per admission review on the
// hot path; this one finds the bucket in a Float64Array and adds.
import type { Metric, Registry } from 'prom-client';

interface ExposedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

export interface RouteHistogramOptions<V extends string> {
  name: string;
  help: string;
  labelName: string;
  /** Every value the label may take; observe() takes the value's index in this list. */
  labelValues: readonly V[];
  /** Upper bounds, ascending (as prom-client's `buckets`); `+Inf` is added. */
  buckets: readonly number[];
  registers: readonly Registry[];
}

export class RouteHistogram<V extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly labelName: string;
  private readonly labelValues: readonly V[];
  private readonly bounds: Float64Array;
  /** Per label value: observations per bucket (not cumulative), the last slot for above every bound. */
  private readonly counts: Float64Array[];
  private readonly sums: Float64Array;
  private readonly totals: Float64Array;
  /** Label values in the order they were first observed (prom-client lists its series so). */
  private order: number[] = [];

  constructor(opts: RouteHistogramOptions<V>) {
    for (let i = 1; i < opts.buckets.length; i++) {
      if (!(opts.buckets[i]! > opts.buckets[i - 1]!)) throw new RangeError(`${opts.name}: buckets must be ascending`);
    }
    this.name = opts.name;
    this.help = opts.help;
    this.labelName = opts.labelName;
    this.labelValues = [...opts.labelValues];
    this.bounds = Float64Array.from(opts.buckets);
    this.counts = this.labelValues.map(() => new Float64Array(opts.buckets.length + 1));
    this.sums = new Float64Array(this.labelValues.length);
    this.totals = new Float64Array(this.labelValues.length);
    // Registry reads name, help, type, aggregator and get() (and calls reset()); this has them.
    for (const registry of opts.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** Counts one observation for the label value at `index`. A value that is not a finite number is not counted. */
  observe(index: number, value: number): void {
    const counts = this.counts[index];
    if (counts === undefined || !Number.isFinite(value)) return;
    const bounds = this.bounds;
    let b = 0;
    while (b < bounds.length && value > bounds[b]!) b++;
    counts[b]!++;
    this.sums[index]! += value;
    if (this.totals[index]!++ === 0) this.order.push(index);
  }

  /** The series as prom-client's Registry reads a metric (`get()`), cumulative buckets then sum and count. */
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: ExposedValue[] }> {
    const values: ExposedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const index of this.order) {
      const label = this.labelValues[index]!;
      const counts = this.counts[index]!;
      let cumulative = 0;
      for (let b = 0; b < this.bounds.length; b++) {
        cumulative += counts[b]!;
        values.push({ value: cumulative, labels: { le: this.bounds[b]!, [this.labelName]: label }, metricName: bucket });
      }
      values.push({ value: this.totals[index]!, labels: { le: '+Inf', [this.labelName]: label }, metricName: bucket });
      values.push({ value: this.sums[index]!, labels: { [this.labelName]: label }, metricName: `${this.name}_sum` });
      values.push({ value: this.totals[index]!, labels: { [this.labelName]: label }, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Forgets every observation (Registry.resetMetrics). */
  reset(): void {
    for (const counts of this.counts) counts.fill(0);
    this.sums.fill(0);
    this.totals.fill(0);
    this.order = [];
  }
}
