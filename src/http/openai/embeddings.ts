/** POST /v1/embeddings: every input text of a request runs as one padded batch. */
import type { FastifyInstance } from 'fastify';
import { traceInference } from '../observability.js';
import type { DataPlane } from '../../dataplane/data-plane.js';
import { parseJsonBody } from '../v2-request.js';
import { OpenAIParamError } from './openai-errors.js';
import { parseEmbedding } from './openai-requests.js';
import type { ServedModels } from './served-models.js';
import { textModel } from './text-models.js';

/** OpenAI's base64 form: the float32 values' little-endian bytes. */
function base64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function registerEmbeddingRoutes(scope: FastifyInstance, dataPlane: DataPlane, models: ServedModels): void {
  scope.post('/v1/embeddings', async (request) => {
    const req = parseEmbedding(parseJsonBody((request.body as Uint8Array | undefined) ?? new Uint8Array(0)));
    const model = models.canonical(req.model);
    traceInference(request, model, 'openai');
    textModel(dataPlane, model, ['text_embedding'], 'embeddings');
    const { embeddings, dim, tokenCounts } = await dataPlane.embed(model, req.input);
    if (req.dimensions !== undefined && req.dimensions !== dim) {
      throw new OpenAIParamError(
        'dimensions',
        `model '${req.model}' makes embeddings of ${dim} dimensions; 'dimensions' ${req.dimensions} is not supported`,
      );
    }
    const data = req.input.map((_, index) => {
      const row = embeddings.subarray(index * dim, (index + 1) * dim);
      return { object: 'embedding', index, embedding: req.encoding === 'base64' ? base64(row) : Array.from(row) };
    });
    const prompt = tokenCounts.reduce((a, b) => a + b, 0);
    return { object: 'list', data, model: req.model, usage: { prompt_tokens: prompt, total_tokens: prompt } };
  });
}
