/** Latency and throughput summaries of a load point. */

export interface LatencyStats {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  mean: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function stats(latenciesMs: number[], seconds: number): LatencyStats {
  const sorted = Float64Array.from(latenciesMs).sort();
  const arr = Array.from(sorted);
  const mean = arr.reduce((a, b) => a + b, 0) / Math.max(1, arr.length);
  return { count: arr.length, seconds, perSecond: arr.length / seconds, p50: percentile(arr, 50), p99: percentile(arr, 99), mean };
}
