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
import { textModelEntry } from './text-models.js';

export interface OpenAIOptions {
  dataPlane: DataPlane;
  logger: Logger;
  /** "/openai" by default; "" puts the routes at /v1/... */
  prefix: string;
}

export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/\/+$/, '');
  return trimmed && !trimmed.startsWith('/') ? `/${trimmed}` : trimmed;
}

export function registerOpenAIRoutes(app: FastifyInstance, options: OpenAIOptions): void {
  const { dataPlane } = options;
  const prefix = normalizePrefix(options.prefix);
  const started = Math.floor(Date.now() / 1000);
  const modelObject = (id: string) => ({ id, object: 'model', created: started, owned_by: 'tsserve' });
  void app.register(async (scope) => {
    registerOpenAIErrors(scope);
    // Without a prefix these paths are KServe V1's (GET /v1/models lists every model there).
    if (prefix) {
      scope.get('/v1/models', async () => ({ object: 'list', data: dataPlane.textModels().map((m) => modelObject(m.name)) }));
      scope.get<{ Params: { name: string } }>('/v1/models/:name', async (request) => {
        const { name } = request.params;
        textModelEntry(dataPlane, name);
        return modelObject(name);
      });
    }
    registerEmbeddingRoutes(scope, dataPlane);
    registerCompletionRoutes(scope, dataPlane, options.logger);
  }, { prefix });
}
