/** KServe's V1 protocol routes: model list, model status, `:predict` (and `:explain`, refused). */
import type { FastifyInstance } from 'fastify';
import { InvalidInputError, NotImplementedError } from '../core/errors.js';
import type { DataPlane } from '../dataplane/data-plane.js';
import { clientSignal, traceInference } from './observability.js';
import type { ServedModels } from './openai/served-models.js';
import { decodeV1Request, encodeV1Response } from './v1-codec.js';
import { parseExactJsonBody } from './v2-request.js';
import { stringifyJson } from './json-numbers.js';

/**
 * GET /v1/models and /v1/models/{name} are OpenAI's paths too (vLLM serves them at the root): the
 * answers carry both shapes, KServe's `models` / `name, ready` and OpenAI's `object, data` / `id, ...`.
 */
export function registerV1Routes(app: FastifyInstance, dataPlane: DataPlane, openai: ServedModels): void {
  app.get('/v1/models', async () => ({ models: dataPlane.modelNames(), ...openai.list() }));

  app.get<{ Params: { name: string } }>('/v1/models/:name', async (request) => {
    const name = request.params.name;
    const v = dataPlane.resolveReady(openai.canonical(name));
    return { name, ready: true, ...(v.text ? openai.modelObject(name, v.text) : {}) };
  });

  // The verb shares the path segment with the name ("iris:predict"), so split it here.
  app.post<{ Params: { name: string } }>('/v1/models/:name', async (request, reply) => {
    const target = request.params.name;
    const colon = target.lastIndexOf(':');
    const model = target.slice(0, colon);
    const verb = target.slice(colon + 1);
    if (colon < 0 || (verb !== 'predict' && verb !== 'explain')) {
      throw new InvalidInputError(`unknown V1 verb in '${target}'; use /v1/models/<name>:predict`);
    }
    const trace = traceInference(request, model, 'v1');
    // An unknown model is 404 before an explain is 501, as KServe answers.
    dataPlane.modelReady(model);
    if (verb === 'explain') throw new NotImplementedError(`model '${model}' has no explainer`);
    const indexKeyed = dataPlane.resolveReady(model).metadata?.v1IndexKeyed;
    const inputs = dataPlane.inputSpecs(model);
    const body = request.body as Uint8Array | undefined;
    if (!body?.byteLength) throw new InvalidInputError('the request body must be a JSON object with "instances" or "inputs"');
    const inferRequest = decodeV1Request(model, parseExactJsonBody(body), inputs);
    trace.mark('preprocess');
    const response = await dataPlane.infer(model, undefined, inferRequest, clientSignal(request, reply));
    trace.mark('predict');
    const encoded = stringifyJson(encodeV1Response(response, indexKeyed));
    trace.mark('postprocess');
    return reply.header('content-type', 'application/json').send(encoded);
  });
}
