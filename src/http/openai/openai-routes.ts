/**
 * The OpenAI-compatible routes of KServe's huggingfaceserver, under a prefix (default
 * /openai): models, embeddings, completions and chat completions, with OpenAI's error shape.
 */
import type { FastifyInstance } from 'fastify';
import type { DataPlane } from '../../dataplane/data-plane.js';
import type { Logger } from '../../log.js';
import { registerCompletionRoutes } from './completions.js';
import { registerEmbeddingRoutes } from './embeddings.js';
import { registerOpenAIErrors } from './openai-errors.js';
import type { ServedModels } from './served-models.js';

export interface OpenAIOptions {
  dataPlane: DataPlane;
  logger: Logger;
  /** "/openai" by default; "" puts the routes at /v1/... */
  prefix: string;
  models: ServedModels;
}

export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/\/+$/, '');
  return trimmed && !trimmed.startsWith('/') ? `/${trimmed}` : trimmed;
}

export function registerOpenAIRoutes(app: FastifyInstance, options: OpenAIOptions): void {
  const { dataPlane } = options;
  const prefix = normalizePrefix(options.prefix);
  const { models } = options;
  void app.register(
    async (scope) => {
      registerOpenAIErrors(scope);
      // Without a prefix these paths are KServe V1's (GET /v1/models lists every model there).
      if (prefix) {
        scope.get('/v1/models', async () => models.list());
        scope.get<{ Params: { name: string } }>('/v1/models/:name', async (request) => models.retrieve(request.params.name));
      }
      registerEmbeddingRoutes(scope, dataPlane, models);
      registerCompletionRoutes(scope, dataPlane, options.logger, models);
    },
    { prefix },
  );
}
