/**
 * A two-panel SVG chart of a concurrency sweep: throughput (rows/s) with the in-process ceiling
 * drawn, and p50/p99 latency, each against concurrency on a log2 axis and with a log10 value
 * axis: batch-1 throughput is a few thousand rows/s next to a ceiling of hundreds of thousands,
 * and on a linear axis it lay flat on zero. Tick labels are compact (10k, 1M) so they stay clear
 * of the axis title. Written by hand: a charting library would be a large dependency for a few
 * polylines.
 */

export interface ChartPoint {
  kind: string;
  c: number;
  rowsPerSecond: number;
  p50: number;
  p99: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 460;
const H = 320;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The decade range [10^a, 10^b] that holds every positive value. */
function decades(values: number[]): [number, number] {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return [1, 10];
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  const hi = Math.ceil(Math.log10(Math.max(...positive)));
  return [10 ** lo, 10 ** Math.max(hi, lo + 1)];
}

function compact(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

interface Panel {
  x0: number;
  title: string;
  yLabel: string;
  /** Value range, a whole number of decades (log axis). */
  yRange: [number, number];
  series: { color: string; dashed: boolean; points: [number, number][] }[];
  hline?: { y: number; label: string };
}

function panel(p: Panel, concurrencies: number[]): string {
  const cx = (c: number) =>
    p.x0 +
    M.left +
    ((Math.log2(c) - Math.log2(concurrencies[0]!)) / (Math.log2(concurrencies.at(-1)!) - Math.log2(concurrencies[0]!))) *
      (W - M.left - M.right);
  const [lo, hi] = p.yRange.map(Math.log10) as [number, number];
  const cy = (v: number) =>
    M.top + (1 - (Math.log10(Math.min(Math.max(v, p.yRange[0]), p.yRange[1])) - lo) / (hi - lo)) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<text x="${p.x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">${escape(p.title)}</text>`);
  parts.push(`<line x1="${p.x0 + M.left}" y1="${H - M.bottom}" x2="${p.x0 + W - M.right}" y2="${H - M.bottom}" stroke="#000"/>`);
  parts.push(`<line x1="${p.x0 + M.left}" y1="${M.top}" x2="${p.x0 + M.left}" y2="${H - M.bottom}" stroke="#000"/>`);
  for (const c of concurrencies) {
    parts.push(`<text x="${cx(c)}" y="${H - M.bottom + 16}" text-anchor="middle">${c}</text>`);
  }
  parts.push(`<text x="${p.x0 + W / 2}" y="${H - 12}" text-anchor="middle">concurrency</text>`);
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    parts.push(`<text x="${p.x0 + M.left - 6}" y="${cy(v) + 4}" text-anchor="end">${compact(v)}</text>`);
    parts.push(`<line x1="${p.x0 + M.left}" y1="${cy(v)}" x2="${p.x0 + W - M.right}" y2="${cy(v)}" stroke="#eee"/>`);
  }
  parts.push(`<text transform="translate(${p.x0 + 16},${H / 2}) rotate(-90)" text-anchor="middle">${escape(p.yLabel)}</text>`);
  if (p.hline) {
    parts.push(
      `<line x1="${p.x0 + M.left}" y1="${cy(p.hline.y)}" x2="${p.x0 + W - M.right}" y2="${cy(p.hline.y)}" stroke="#000" stroke-dasharray="6 4"/>`,
    );
    parts.push(`<text x="${p.x0 + W - M.right}" y="${cy(p.hline.y) - 5}" text-anchor="end">${escape(p.hline.label)}</text>`);
  }
  for (const s of p.series) {
    const pts = s.points
      .filter(([, v]) => Number.isFinite(v))
      .map(([c, v]) => `${cx(c).toFixed(1)},${cy(v).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''} points="${pts}"/>`);
  }
  return parts.join('\n');
}

/** What the panels are titled and measured in; the defaults are the batching sweep's. */
export interface ChartLabels {
  throughput: string;
  throughputUnit: string;
  latency: string;
  ceiling: string;
}

const BATCHING_LABELS: ChartLabels = {
  throughput: 'Throughput',
  throughputUnit: 'rows/s',
  latency: 'Latency: p50 solid, p99 dashed',
  ceiling: 'in-process onnxruntime (best batch)',
};

export function renderChart(points: ChartPoint[], ceilingRowsPerSecond: number, labels: ChartLabels = BATCHING_LABELS): string {
  const kinds = [...new Set(points.map((p) => p.kind))];
  const concurrencies = [...new Set(points.map((p) => p.c))].sort((a, b) => a - b);
  const of = (kind: string) => points.filter((p) => p.kind === kind).sort((a, b) => a.c - b.c);
  const throughput = panel(
    {
      x0: 0,
      title: labels.throughput,
      yLabel: 'rows/s (log scale)',
      yRange: decades([ceilingRowsPerSecond, ...points.map((p) => p.rowsPerSecond)]),
      series: kinds.map((k, i) => ({
        color: COLORS[i % COLORS.length]!,
        dashed: false,
        points: of(k).map((p) => [p.c, p.rowsPerSecond] as [number, number]),
      })),
      hline: { y: ceilingRowsPerSecond, label: labels.ceiling },
    },
    concurrencies,
  );
  const latency = panel(
    {
      x0: W,
      title: labels.latency,
      yLabel: 'ms (log scale)',
      yRange: decades(points.flatMap((p) => [p.p50, p.p99])),
      series: kinds.flatMap((k, i) => [
        { color: COLORS[i % COLORS.length]!, dashed: false, points: of(k).map((p) => [p.c, p.p50] as [number, number]) },
        { color: COLORS[i % COLORS.length]!, dashed: true, points: of(k).map((p) => [p.c, p.p99] as [number, number]) },
      ]),
    },
    concurrencies,
  );
  const legend = kinds
    .map(
      (k, i) =>
        `<rect x="${M.left + (i % 3) * 290}" y="${H + 8 + Math.floor(i / 3) * 20}" width="14" height="4" fill="${COLORS[i % COLORS.length]}"/><text x="${M.left + 20 + (i % 3) * 290}" y="${H + 14 + Math.floor(i / 3) * 20}">${escape(k)}</text>`,
    )
    .join('\n');
  const height = H + 20 + Math.ceil(kinds.length / 3) * 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
${throughput}
${latency}
${legend}
</svg>
`;
}
