/**
 * What the HTTP frontend records about each inference request: the request id (a client's
 * x-request-id, or one we make) echoed back, KServe's pre/predict/post-process histograms,
 * counts by model, protocol and status, body sizes, and one latency log line per request
 * (KServe's --enable_latency_logging). A request refused before its handler ran (413, a body
 * that cannot be read) is counted too. Every 4xx gets one log line that says why. Also serves
 * /metrics.
 */
import type { CancelSignal } from '../core/cancel.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InferenceTrace, recordTrace } from '../metrics/inference-trace.js';
import type { Metrics, Protocol } from '../metrics/metrics.js';
import { disconnectSignal } from './client-disconnect.js';

declare module 'fastify' {
  interface FastifyRequest {
    inference: InferenceTrace | null;
  }
  interface FastifyInstance {
    /** Counts an inference whose client left before its answer. */
    requestCancelled(request: FastifyRequest): void;
  }
}

/**
 * The signal an inference route hands the data plane: it aborts when the client disconnects
 * before the answer, and the cancellation is counted (tsserve_requests_cancelled_total).
 */
export function clientSignal(request: FastifyRequest, reply: FastifyReply): CancelSignal {
  return disconnectSignal(reply.raw, () => request.server.requestCancelled(request));
}

export function traceInference(request: FastifyRequest, model: string, protocol: Protocol): InferenceTrace {
  request.inference = new InferenceTrace(model, protocol);
  return request.inference;
}

export interface ObservabilityOptions {
  metrics: Metrics;
  latencyLogging: boolean;
  /** Most latency lines per second (0: every request); refused requests are always logged. */
  latencyLogRate?: number;
  dataPlane: { modelNames(): string[] };
}

function size(header: unknown): number | undefined {
  const n = Number(header);
  return Number.isFinite(n) && header !== undefined ? n : undefined;
}

/** Milliseconds to the microsecond: finer digits are noise and cost log bytes. */
function ms(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 1000) / 1000;
}

/** The inference a request was addressed to when its handler never ran (body refused while read). */
function unhandledInference(request: FastifyRequest): InferenceTrace | null {
  const route = request.routeOptions.url ?? '';
  const params = request.params as Record<string, string | undefined> | undefined;
  if (route.startsWith('/v2/') && route.endsWith('/infer') && params?.model) return new InferenceTrace(params.model, 'v2');
  if (route === '/v1/models/:name' && params?.name) return new InferenceTrace(params.name.replace(/:(predict|explain)$/, ''), 'v1');
  return null;
}

/**
 * Admits at most `perSecond` lines in each one-second window (0: all). One line per request at
 * thousands of requests a second is gigabytes an hour of what the histograms already hold; a
 * capped stream keeps every request of a quiet server and a steady sample of a busy one.
 */
function rateLimit(perSecond: number): () => boolean {
  if (perSecond <= 0) return () => true;
  let windowStart = 0;
  let count = 0;
  return () => {
    const now = performance.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      count = 0;
    }
    return ++count <= perSecond;
  };
}

export function registerObservability(
  app: FastifyInstance,
  { metrics, latencyLogging, latencyLogRate = 0, dataPlane }: ObservabilityOptions,
): void {
  app.decorateRequest('inference', null);
  const admit = rateLimit(latencyLogRate);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const trace = request.inference ?? unhandledInference(request);
    let logged = false;
    if (trace) {
      // Label values come only from loaded models: a client's text never becomes one. An answer
      // below 400 came from a model; a refusal may name one that does not exist.
      const status = reply.statusCode;
      const known = status < 400 || (status !== 404 && dataPlane.modelNames().includes(trace.model));
      const model = known ? trace.model : '_unknown';
      recordTrace(
        metrics,
        trace,
        model,
        reply.statusCode,
        size(request.headers['content-length']),
        size(reply.getHeader('content-length')),
      );
      if (latencyLogging && (request.refusal || admit())) {
        logged = true;
        logLatency(request, reply, trace, model);
      }
    }
    if (!logged && request.refusal && reply.statusCode < 500) {
      request.log.info(
        { status: reply.statusCode, method: request.method, route: request.routeOptions.url, error: request.refusal },
        'request refused',
      );
    }
  });
  app.decorate('requestCancelled', (request: FastifyRequest) => {
    const trace = request.inference;
    if (trace) metrics.requestCancelled(dataPlane.modelNames().includes(trace.model) ? trace.model : '_unknown', trace.protocol);
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

function logLatency(request: FastifyRequest, reply: FastifyReply, trace: InferenceTrace, model: string): void {
  request.log.info(
    {
      model,
      protocol: trace.protocol,
      status: reply.statusCode,
      preprocess_ms: ms(trace.ms.preprocess),
      predict_ms: ms(trace.ms.predict),
      postprocess_ms: ms(trace.ms.postprocess),
      total_ms: ms(reply.elapsedTime),
      ...(request.refusal ? { error: request.refusal } : {}),
    },
    'inference',
  );
}
