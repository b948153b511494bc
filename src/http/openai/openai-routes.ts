/**
 * The OpenAI-compatible routes of KServe's huggingfaceserver, under a prefix (default
 * /openai): models, embeddings, completions and chat completions, with OpenAI's error shape.
 */
import type { FastifyInstance } from 'fastify';
import { ModelNotReadyError } from '../../core/errors.js';
import type { Logger } from '../../log.js';
import type { ModelRepository } from '../../repository/model-repository.js';
import { registerCompletionRoutes } from './completions.js';
import { registerEmbeddingRoutes } from './embeddings.js';
import { registerOpenAIErrors } from './openai-errors.js';
import { readyTextModels, textModelEntry } from './text-models.js';

export interface OpenAIOptions {
  repository: ModelRepository;
  logger: Logger;
  /** "/openai" by default; "" puts the routes at /v1/... */
  prefix: string;
}

export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/\/+$/, '');
  return trimmed && !trimmed.startsWith('/') ? `/${trimmed}` : trimmed;
}

export function registerOpenAIRoutes(app: FastifyInstance, options: OpenAIOptions): void {
  const { repository } = options;
  const prefix = normalizePrefix(options.prefix);
  const started = Math.floor(Date.now() / 1000);
  const modelObject = (id: string) => ({ id, object: 'model', created: started, owned_by: 'tsserve' });
  void app.register(async (scope) => {
    registerOpenAIErrors(scope);
    // Without a prefix these paths are KServe V1's (GET /v1/models lists every model there).
    if (prefix) {
      scope.get('/v1/models', async () => ({ object: 'list', data: readyTextModels(repository).map((m) => modelObject(m.name)) }));
      scope.get<{ Params: { name: string } }>('/v1/models/:name', async (request) => {
        const { name } = request.params;
        const v = textModelEntry(repository, name);
        if (v.state !== 'READY') throw new ModelNotReadyError(name, v.reason || v.state.toLowerCase());
        return modelObject(name);
      });
    }
    registerEmbeddingRoutes(scope, repository);
    registerCompletionRoutes(scope, repository, options.logger);
  }, { prefix });
}
