/**
 * The per-request cost of the metrics and request-logger work, old against new, in one
 * process (so a busy machine slows both alike): what one batch-1 inference records
 * (src/metrics: three phase histograms, the answered counter, body sizes, in-flight gauge,
 * queue/compute time, batch size) and the per-request logger fastify makes.
 *
 *   node dist/bench/hot-path-micro.js [BEFORE_DIST]   # e.g. a build of an older commit
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type MetricsModule = typeof import('../src/metrics/metrics.js');
type TraceModule = typeof import('../src/metrics/inference-trace.js');
type LogModule = typeof import('../src/log.js');

async function load(dist: string) {
  const url = (p: string) => pathToFileURL(resolve(dist, p)).href;
  return {
    metrics: (await import(url('src/metrics/metrics.js'))) as MetricsModule,
    trace: (await import(url('src/metrics/inference-trace.js'))) as TraceModule,
    log: (await import(url('src/log.js'))) as LogModule,
  };
}

function time(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < 5000; i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / n / 1000;
}

async function measure(dist: string): Promise<{ metrics: number; logger: number }> {
  const m = await load(dist);
  const metrics = new m.metrics.Metrics();
  const timing = { queueNs: 20_000, inputNs: 1_000, inferNs: 10_000, outputNs: 1_000 };
  const perRequest = () => {
    metrics.requestStarted('classifier');
    const trace = new m.trace.InferenceTrace('classifier', 'v2');
    trace.mark('preprocess');
    metrics.execution('classifier', 1, timing);
    metrics.requestFinished('classifier', true, timing);
    trace.mark('predict');
    trace.mark('postprocess');
    m.trace.recordTrace(metrics, trace, 'classifier', 200, 120, 180);
  };
  const logger = m.log.createLogger('warn');
  const lazy = (m.log as { lazyChildLogger?: (p: unknown, b: object, o: object) => unknown }).lazyChildLogger;
  const child = lazy ? (i: number) => lazy(logger, { reqId: `req-${i}` }, {}) : (i: number) => logger.child({ reqId: `req-${i}` }, {});
  return { metrics: time(200_000, perRequest), logger: time(100_000, child) };
}

const before = process.argv[2];
const rounds = 3;
for (let r = 0; r < rounds; r++) {
  const after = await measure('dist');
  const old = before ? await measure(before) : undefined;
  process.stdout.write(
    `round ${r + 1}: metrics per request ${old ? `${old.metrics.toFixed(2)} us -> ` : ''}${after.metrics.toFixed(2)} us; request logger ${old ? `${old.logger.toFixed(2)} us -> ` : ''}${after.logger.toFixed(2)} us\n`,
  );
}
