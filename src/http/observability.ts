/**
 * What the HTTP frontend records about each inference request: the request id (a client's
 * x-request-id, or one we make) echoed back, KServe's pre/predict/post-process histograms,
 * counts by model, protocol and status, body sizes, and one latency log line per request
 * (KServe's --enable_latency_logging). Also serves /metrics.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InferenceTrace, recordTrace } from '../metrics/inference-trace.js';
import type { Metrics, Protocol } from '../metrics/metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    inference: InferenceTrace | null;
  }
}

export function traceInference(request: FastifyRequest, model: string, protocol: Protocol): InferenceTrace {
  request.inference = new InferenceTrace(model, protocol);
  return request.inference;
}

export interface ObservabilityOptions {
  metrics: Metrics;
  latencyLogging: boolean;
}

function size(header: unknown): number | undefined {
  const n = Number(header);
  return Number.isFinite(n) && header !== undefined ? n : undefined;
}

export function registerObservability(app: FastifyInstance, { metrics, latencyLogging }: ObservabilityOptions): void {
  app.decorateRequest('inference', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const trace = request.inference;
    if (!trace) return;
    // An unknown model name is the client's text: keep it out of label values.
    const model = reply.statusCode === 404 ? '_unknown' : metrics.modelLabel(trace.model);
    recordTrace(metrics, trace, model, reply.statusCode, size(request.headers['content-length']), size(reply.getHeader('content-length')));
    if (latencyLogging) {
      request.log.info({
        model,
        protocol: trace.protocol,
        status: reply.statusCode,
        preprocess_ms: trace.ms.preprocess,
        predict_ms: trace.ms.predict,
        postprocess_ms: trace.ms.postprocess,
        total_ms: reply.elapsedTime,
      }, 'inference');
    }
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
