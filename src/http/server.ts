/**
 * The HTTP frontend: fastify with every body read as bytes (so binary and JSON share one
 * path), errors as `{"error": ...}`, and the v2 and V1 routes.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from '../log.js';
import type { ModelRepository } from '../repository/model-repository.js';
import { readBody } from './body.js';
import { registerErrorHandling } from './errors.js';
import { registerOpenAIRoutes } from './openai/openai-routes.js';
import { registerV1Routes } from './v1-routes.js';
import { registerV2Routes } from './v2-routes.js';

export interface HttpOptions {
  repository: ModelRepository;
  logger: Logger;
  serverVersion: string;
  maxInputSize: number;
  strictReadiness: boolean;
  isStarted: () => boolean;
  /** Prefix of the OpenAI-compatible routes. */
  openaiPrefix: string;
}

export function buildHttpServer(options: HttpOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request at info level costs more than a small inference; metrics count them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxInputSize,
    // Keep-alive beyond typical proxy idle timeouts (Envoy/Istio), as KServe advises.
    keepAliveTimeout: 65_000,
    // A client that declares more body than it sends is cut off (Node's own default; fastify's is none).
    requestTimeout: 300_000,
    return503OnClosing: true,
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
  app.get('/', async () => ({ status: 'alive' }));
  registerV2Routes(app, options);
  registerV1Routes(app, options.repository);
  registerOpenAIRoutes(app, { repository: options.repository, logger: options.logger, prefix: options.openaiPrefix });
  return app;
}
