/**
 * The Open Inference Protocol (v2) REST routes: health, server and model metadata, infer
 * (JSON and binary), and the model repository extension.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotImplementedError } from '../core/errors.js';
import { type DataPlane, NAMED_REPOSITORY_ERROR } from '../dataplane/data-plane.js';
import { loadOptions } from './load-options.js';
import { decodeInferBody, parseJsonBody } from './v2-request.js';
import { clientSignal, traceInference } from './observability.js';
import { encodeInferResponse, responseBytes } from './v2-response.js';
import { LONG_STEP_BYTES, longStepTurn } from '../core/long-steps.js';
import { writeShmOutputs } from '../shm/shm-tensors.js';

type ModelParams = { model: string; version?: string };

export function registerV2Routes(app: FastifyInstance, dataPlane: DataPlane): void {
  app.get('/v2/health/live', async () => ({ live: dataPlane.live() }));

  app.get('/v2/health/ready', async (_request, reply) => {
    const readiness = dataPlane.ready();
    if (!readiness.ready) return reply.status(503).send({ error: readiness.reason });
    return { ready: true };
  });

  const serverMetadata = async () => dataPlane.serverMetadata();
  app.get('/v2', serverMetadata);
  app.get('/v2/', serverMetadata);

  app.get('/v2/models', async () => ({ models: dataPlane.modelNames() }));

  const modelMetadata = async (request: { params: ModelParams }) => dataPlane.modelMetadata(request.params.model, request.params.version);
  app.get<{ Params: ModelParams }>('/v2/models/:model', modelMetadata);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version', modelMetadata);

  const modelReady = async (request: { params: ModelParams }, reply: FastifyReply) => {
    const { model, version } = request.params;
    const readiness = dataPlane.modelReady(model, version);
    if (readiness.ready) return { name: model, ready: true };
    return reply.status(503).send({ name: model, ready: false, error: readiness.reason });
  };

  // Triton's model configuration extension; perf_analyzer reads max_batch_size and inputs here.
  const modelConfig = async (request: { params: ModelParams }) => dataPlane.modelConfig(request.params.model, request.params.version);
  app.get<{ Params: ModelParams }>('/v2/models/:model/config', modelConfig);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/config', modelConfig);
  app.get<{ Params: ModelParams }>('/v2/models/:model/ready', modelReady);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/ready', modelReady);

  const infer = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const { model, version } = request.params;
    const trace = traceInference(request, model, 'v2');
    const body = (request.body as Uint8Array | undefined) ?? new Uint8Array(0);
    const header = request.headers['inference-header-content-length'] as string | undefined;
    if (body.byteLength >= LONG_STEP_BYTES) await longStepTurn();
    const decoded = decodeInferBody(body, header, {
      model,
      version,
      inputSpecs: () => dataPlane.inputSpecs(model, version),
      sharedMemory: dataPlane.sharedMemory,
    });
    trace.mark('preprocess');
    const response = await dataPlane.infer(model, version, decoded.request, clientSignal(request, reply));
    trace.mark('predict');
    if (responseBytes(response) >= LONG_STEP_BYTES) await longStepTurn();
    const encoded = encodeInferResponse(response, decoded.isBinary, writeShmOutputs(dataPlane.sharedMemory, decoded.request, response));
    trace.mark('postprocess');
    reply.header('content-type', encoded.contentType);
    if (encoded.headerLength !== undefined) reply.header('inference-header-content-length', encoded.headerLength);
    if (typeof encoded.body === 'string' || Buffer.isBuffer(encoded.body)) return reply.send(encoded.body);
    reply.header('content-length', encoded.contentLength);
    return reply.send(Readable.from(encoded.body, { objectMode: false }));
  };
  app.post<{ Params: ModelParams }>('/v2/models/:model/infer', infer);
  app.post<{ Params: ModelParams }>('/v2/models/:model/versions/:version/infer', infer);

  // Triton's statistics extension; perf_analyzer reads it when "statistics" is advertised.
  const stats = async (request: { params: Partial<ModelParams> }) => ({
    model_stats: dataPlane.statistics(request.params.model, request.params.version),
  });
  app.get<{ Params: Partial<ModelParams> }>('/v2/models/stats', stats);
  app.get<{ Params: ModelParams }>('/v2/models/:model/stats', stats);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/stats', stats);

  app.post('/v2/repository/index', async (request) => {
    const body = request.body as Uint8Array | undefined;
    const filter = body?.byteLength ? (parseJsonBody(body) as { ready?: unknown } | null) : null;
    return dataPlane.repositoryIndex(filter?.ready === true);
  });

  app.post<{ Params: { model: string } }>('/v2/repository/models/:model/load', async (request) => {
    const { model } = request.params;
    const body = request.body as Uint8Array | undefined;
    const json = body?.byteLength ? (parseJsonBody(body) as { parameters?: Record<string, unknown> } | null) : null;
    await dataPlane.load(model, loadOptions(json?.parameters ?? {}));
    return { name: model, load: true };
  });

  app.post<{ Params: { model: string } }>('/v2/repository/models/:model/unload', async (request) => {
    await dataPlane.unload(request.params.model);
    return { name: request.params.model, unload: true };
  });

  const namedRepository = async () => {
    throw new NotImplementedError(NAMED_REPOSITORY_ERROR);
  };
  app.post('/v2/repository/:repository/index', namedRepository);
  app.post('/v2/repository/:repository/models/:model/load', namedRepository);
  app.post('/v2/repository/:repository/models/:model/unload', namedRepository);
}
