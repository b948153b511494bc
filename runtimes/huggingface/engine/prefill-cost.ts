/**
 * How many prompts one prefill run should take when several wait. A run costs about a fixed
 * part (the weights pass once) plus a part per padded token. When the per-token part dominates,
 * as on CPU, one run over a burst of prompts makes every one of them wait for all of them;
 * back-to-back runs of a few each give the first ones their first token sooner at the price of
 * one more fixed part per run. When the fixed part dominates, as on a GPU, one run is best. The
 * two parts are fitted to the engine's own recent prefill runs.
 */

/** Runs remembered for the fit. */
const WINDOW = 32;

export interface RunCost {
  fixedMs: number;
  perTokenMs: number;
}

export class PrefillCost {
  private readonly runs: { tokens: number; ms: number }[] = [];

  record(tokens: number, ms: number): void {
    this.runs.push({ tokens, ms });
    if (this.runs.length > WINDOW) this.runs.shift();
  }

  /** A least-squares line through the recent runs; undefined until their sizes differ enough to tell the parts apart. */
  fit(): RunCost | undefined {
    const n = this.runs.length;
    if (n < 4) return undefined;
    const sizes = this.runs.map((r) => r.tokens);
    if (Math.max(...sizes) < 2 * Math.min(...sizes)) return undefined;
    const meanT = sizes.reduce((s, t) => s + t, 0) / n;
    const meanMs = this.runs.reduce((s, r) => s + r.ms, 0) / n;
    let cov = 0;
    let varT = 0;
    for (const r of this.runs) {
      cov += (r.tokens - meanT) * (r.ms - meanMs);
      varT += (r.tokens - meanT) ** 2;
    }
    const perTokenMs = cov / varT;
    const fixedMs = meanMs - perTokenMs * meanT;
    return perTokenMs > 0 && fixedMs >= 0 ? { fixedMs, perTokenMs } : undefined;
  }
}

/**
 * A burst takes the fewest runs whose mean time to first token is within this share of the
 * least: the mean is flat near its minimum, while every further run delays the last prompts (and
 * the running sequences' next step) by one more fixed part.
 */
const NEAR_LEAST = 1.05;

/**
 * Rows per run for `rows` prompts of `width` padded tokens each: one run unless smaller runs cut
 * the mean time to first token. The runs are about even (one size for all): for a given number
 * of runs the burst takes as long whatever their sizes, and even runs give the median prompt its
 * first token after about half of the burst (16 prompts on gpt2-small, 2 cores: runs of 8 and 8
 * rather than 12 and 4).
 */
export function rowsPerRun(rows: number, width: number, cost: RunCost | undefined): number {
  if (!cost) return rows;
  // means[size - 1]: the mean with runs of `size`.
  const means = Array.from({ length: rows }, (_, i) => meanFirstToken(rows, width, i + 1, cost));
  const least = Math.min(...means);
  let size = rows;
  while (means[size - 1]! > least * NEAR_LEAST) size--;
  return Math.ceil(rows / Math.ceil(rows / size));
}

/** The mean time to first token of `rows` prompts prefilled in back-to-back runs of `size`. */
function meanFirstToken(rows: number, width: number, size: number, cost: RunCost): number {
  let clock = 0;
  let total = 0;
  for (let left = rows; left > 0; left -= size) {
    const run = Math.min(size, left);
    clock += cost.fixedMs + cost.perTokenMs * run * width;
    total += clock * run;
  }
  return total / rows;
}
