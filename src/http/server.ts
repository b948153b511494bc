/**
 * The HTTP frontend: fastify with every body read as bytes (so binary and JSON share one
 * path), errors as `{"error": ...}`, and the v2 and V1 routes.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import { type Logger, lazyChildLogger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { registerObservability } from './observability.js';
import { registerDocs } from './openapi.js';
import { normalizePrefix } from './openai/openai-routes.js';
import type { DataPlane } from '../dataplane/data-plane.js';
import { readBody } from './body.js';
import { registerErrorHandling } from './errors.js';
import { registerDrain } from './drain.js';
import { registerOpenAIRoutes } from './openai/openai-routes.js';
import { registerV1Routes } from './v1-routes.js';
import { registerV2Routes } from './v2-routes.js';
import { registerSharedMemoryRoutes } from './shm-routes.js';

export interface RouteEntry {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeList: RouteEntry[];
  }
}

export interface HttpOptions {
  dataPlane: DataPlane;
  logger: Logger;
  maxInputSize: number;
  metrics: Metrics;
  latencyLogging: boolean;
  /** Most latency lines per second; 0: every request. */
  latencyLogRate?: number;
  /** Serve /openapi.json and Swagger UI at /docs. */
  docs: boolean;
  /** Prefix of the OpenAI-compatible routes. */
  openaiPrefix: string;
}

export async function buildHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request at info level costs more than a small inference; metrics count them.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger as never,
    bodyLimit: options.maxInputSize,
    // Keep-alive beyond typical proxy idle timeouts (Envoy/Istio), as KServe advises.
    keepAliveTimeout: 65_000,
    // A client that declares more body than it sends is cut off (Node's own default; fastify's is none).
    requestTimeout: 300_000,
    return503OnClosing: true,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });
  // Every route as registered, so the docs test can hold the OpenAPI document to it.
  const routes: RouteEntry[] = [];
  app.decorate('routeList', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const headerLength = Number(request.headers['inference-header-content-length']) || 0;
    readBody(payload, request.headers, options.maxInputSize, headerLength).then(
      (body) => done(null, body),
      (error: Error) => done(error, undefined),
    );
  });
  registerErrorHandling(app);
  registerDrain(app);
  registerObservability(app, options);
  app.get('/', async () => ({ status: 'alive' }));
  registerV2Routes(app, options.dataPlane);
  registerSharedMemoryRoutes(app, options.dataPlane.sharedMemory);
  registerV1Routes(app, options.dataPlane);
  if (options.docs) await registerDocs(app, options.dataPlane.serverMetadata().version, normalizePrefix(options.openaiPrefix));
  registerOpenAIRoutes(app, { dataPlane: options.dataPlane, logger: options.logger, prefix: options.openaiPrefix });
  return app;
}
