/**
 * @module io/histogram
 * A latency histogram in the style of HdrHistogram: log-linear buckets with 128 sub-buckets per
 * power of two, so every recorded value lands in a bucket whose width is at most 1/128 of its
 * lower bound. Percentiles are reported as the bucket's upper bound (clamped to the exact min
 * and max), so a reported percentile is never below the true one and at most 0.79 % above it.
 * min, max, mean and stdev are exact. Values are integers in nanoseconds, 0 .. 2^53.
 * Memory is fixed (a few thousand counters), whatever the number of samples.
 *
 * @example
 * const h = new LatencyHistogram();
 * h.record(12_345);
 * h.percentile(99); // ns
 */

/** 2^SUB_BITS sub-buckets per power of two above the linear range. */
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;           // 128
const LINEAR = SUB * 2;              // values < 256 have a bucket each
/** Largest relative error of a percentile (bucket width / bucket lower bound). */
export const HISTOGRAM_PRECISION = 1 / SUB;

function msb(v: number): number {
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  return 32 + 31 - Math.clz32(Math.floor(v / 2 ** 32));
}

function indexOf(v: number): number {
  if (v < LINEAR) return v;
  const shift = msb(v) - SUB_BITS;                 // >= 1
  const sub = Math.floor(v / 2 ** shift);          // SUB .. 2*SUB-1
  return LINEAR + (shift - 1) * SUB + (sub - SUB);
}

/** Highest value that maps to bucket `i`. */
function upperOf(i: number): number {
  if (i < LINEAR) return i;
  const shift = Math.floor((i - LINEAR) / SUB) + 1;
  const sub = ((i - LINEAR) % SUB) + SUB;
  return (sub + 1) * 2 ** shift - 1;
}

export interface LatencySummary {
  /** Samples recorded. */
  count: number;
  /** In microseconds (the histogram records nanoseconds). */
  min: number;
  max: number;
  mean: number;
  stdev: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export class LatencyHistogram {
  /** Covers every value up to 2^53 (msb 52 → shift 45): 6144 counters, 48 KiB. */
  private readonly counts = new Float64Array(LINEAR + SUB * 46);
  count = 0;
  min = Infinity;
  max = 0;
  private sum = 0;
  private sumSq = 0;

  /** Records one value in nanoseconds (negative and fractional values are rounded into range). */
  record(ns: number): void {
    const v = Math.max(0, Math.min(Math.round(ns), Number.MAX_SAFE_INTEGER));
    this.counts[indexOf(v)]!++;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sum += v;
    this.sumSq += v * v;
  }

  /** Adds every sample of `other`. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.sum += other.sum;
    this.sumSq += other.sumSq;
  }

  get mean(): number { return this.count === 0 ? 0 : this.sum / this.count; }

  get stdev(): number {
    if (this.count < 2) return 0;
    const m = this.mean;
    return Math.sqrt(Math.max(0, this.sumSq / this.count - m * m));
  }

  /** The value (ns) at or below which `p` percent of the samples fall; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, upperOf(i)));
    }
    return this.max;
  }

  /** The summary in microseconds (three decimals). */
  summary(): LatencySummary {
    const us = (ns: number) => Math.round(ns) / 1000;
    return {
      count: this.count,
      min: this.count === 0 ? 0 : us(this.min),
      max: us(this.max),
      mean: us(this.mean),
      stdev: us(this.stdev),
      p50: us(this.percentile(50)),
      p90: us(this.percentile(90)),
      p99: us(this.percentile(99)),
      p999: us(this.percentile(99.9)),
    };
  }
}
