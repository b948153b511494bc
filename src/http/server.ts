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
import { registerBodyAdmission, undeclaredBytes } from './body-admission.js';
import { registerJsonContentType } from './content-type.js';
import type { Admission } from '../core/admission.js';
import { registerOpenAIRoutes } from './openai/openai-routes.js';
import { ServedModels } from './openai/served-models.js';
import { registerHealthRoute } from './health-route.js';
import type { TlsFiles } from '../config/tls.js';
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
  /** Bytes and requests in flight, admitted before a body is read. */
  admission: Admission;
  metrics: Metrics;
  latencyLogging: boolean;
  /** Most latency lines per second; 0: every request. */
  latencyLogRate?: number;
  /** Serve /openapi.json and Swagger UI at /docs. */
  docs: boolean;
  /** Prefix of the OpenAI-compatible routes (served at the root too). */
  openaiPrefix: string;
  /** The model --model_name names, and the OpenAI names it also answers to (--served_model_name). */
  modelName: string;
  servedModelNames: readonly string[];
  /** Serve HTTPS with this certificate and key. */
  tls?: TlsFiles;
}

export async function buildHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // An https.Server serves requests as an http.Server does; the instance type stays the same.
    ...(options.tls ? ({ https: options.tls } as object) : {}),
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
    readBody(payload, request.headers, options.maxInputSize, headerLength, undeclaredBytes(request.raw)).then(
      (body) => done(null, body),
      (error: Error) => done(error, undefined),
    );
  });
  registerErrorHandling(app);
  registerDrain(app);
  registerJsonContentType(app);
  registerBodyAdmission(app, options.admission, options.maxInputSize);
  registerObservability(app, options);
  app.get('/', async () => ({ status: 'alive' }));
  registerHealthRoute(app, options.dataPlane);
  registerV2Routes(app, options.dataPlane);
  registerSharedMemoryRoutes(app, options.dataPlane.sharedMemory);
  const models = new ServedModels(options.dataPlane, options.modelName, options.servedModelNames);
  registerV1Routes(app, options.dataPlane, models);
  if (options.docs) await registerDocs(app, options.dataPlane.serverMetadata().version, normalizePrefix(options.openaiPrefix));
  // At the root as well, where vLLM serves them and llm-d's gateway sends requests.
  for (const prefix of new Set([normalizePrefix(options.openaiPrefix), ''])) {
    registerOpenAIRoutes(app, { dataPlane: options.dataPlane, logger: options.logger, prefix, models });
  }
  return app;
}
