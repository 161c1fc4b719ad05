/**
 * A counter or histogram family for the per-request series, formatted by prom-client's
 * Registry like its own metrics (it calls getForPromString, or get for JSON). An observation
 * is a Map lookup and a few additions; prom-client's labelled children validate and hash the
 * labels on every call. metrics.test.ts checks the exposition lines (buckets, +Inf, sum, count).
 */
interface Series {
  /** The label values by name, in the family's label order. */
  labels: Record<string, string>;
  /** A counter's value; a histogram's count. */
  value: number;
  sum: number;
  /** A histogram's observations per bucket (not cumulative); the last is above every bound. */
  counts: number[];
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

/**
 * A counter or histogram family that prom-client's Registry formats like its own (it calls
 * getForPromString, or get for JSON): same names, label order and bucket lines.
 */
export class Family {
  readonly aggregator = 'sum';
  readonly #series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {}

  inc(v: number, ...values: string[]): void {
    if (Number.isFinite(v) && v > 0) this.#at(values).value += v;
  }

  observe(v: number, ...values: string[]): void {
    if (!Number.isFinite(v)) return;
    const s = this.#at(values);
    s.value += 1;
    s.sum += v;
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]) i++;
    s.counts[i]++;
  }

  #at(values: string[]): Series {
    const key = values.length === 1 ? values[0] : values.join('\u0001');
    let s = this.#series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]));
      s = { labels, value: 0, sum: 0, counts: new Array<number>(this.buckets.length + 1).fill(0) };
      this.#series.set(key, s);
    }
    return s;
  }

  getForPromString(): { name: string; help: string; type: string; values: ExportedValue[]; aggregator: string } {
    const values: ExportedValue[] = [];
    for (const s of this.#series.values()) {
      if (this.type === 'counter') {
        values.push({ labels: s.labels, value: s.value });
        continue;
      }
      let acc = 0;
      const bucket = `${this.name}_bucket`;
      this.buckets.forEach((le, i) => values.push({ labels: { le }, sharedLabels: s.labels, value: (acc += s.counts[i]), metricName: bucket }));
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.value, metricName: bucket });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.value, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The JSON form (Registry.getMetricsAsJSON): every value's labels in one object. */
  async get(): Promise<ReturnType<Family['getForPromString']>> {
    const data = this.getForPromString();
    data.values = data.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...v.labels, ...sharedLabels } }));
    return data;
  }

  reset(): void {
    this.#series.clear();
  }
}
