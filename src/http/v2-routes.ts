/**
 * The Open Inference Protocol (v2) REST routes: health, server and model metadata, infer
 * (JSON and binary), and the model repository extension.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ModelNotReadyError, NotImplementedError } from '../core/errors.js';
import type { ModelRepository } from '../repository/model-repository.js';
import { decodeInferBody, parseJsonBody } from './v2-request.js';
import { traceInference } from './observability.js';
import { encodeInferResponse } from './v2-response.js';

export interface V2Options {
  repository: ModelRepository;
  serverVersion: string;
  /** Triton's --strict-readiness: server ready only while every loaded model is ready. */
  strictReadiness: boolean;
  isStarted: () => boolean;
}

export const EXTENSIONS = ['binary_tensor_data', 'model_repository', 'parameters', 'statistics'];

type ModelParams = { model: string; version?: string };

export function registerV2Routes(app: FastifyInstance, options: V2Options): void {
  const { repository } = options;

  app.get('/v2/health/live', async () => ({ live: true }));

  app.get('/v2/health/ready', async (_request, reply) => {
    if (!options.isStarted()) return reply.status(503).send({ error: 'Server is not ready: models are still loading' });
    if (options.strictReadiness && !repository.allReady()) {
      const notReady = repository.index().filter((e) => e.state !== 'READY' && e.state !== 'UNLOADED').map((e) => e.name);
      return reply.status(503).send({ error: `Server is not ready: model(s) not ready: ${[...new Set(notReady)].join(', ')}` });
    }
    return { ready: true };
  });

  const serverMetadata = async () => ({ name: 'tsserve', version: options.serverVersion, extensions: EXTENSIONS });
  app.get('/v2', serverMetadata);
  app.get('/v2/', serverMetadata);

  app.get('/v2/models', async () => ({ models: repository.names() }));

  const modelMetadata = async (request: { params: ModelParams }) => {
    const { model, version } = request.params;
    const v = repository.resolve(model, version);
    if (v.state !== 'READY') throw new ModelNotReadyError(model, v.reason || v.state.toLowerCase());
    const { inputs, outputs } = v.specs();
    return { name: model, versions: [v.version], platform: v.metadata!.platform, inputs, outputs };
  };
  app.get<{ Params: ModelParams }>('/v2/models/:model', modelMetadata);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version', modelMetadata);

  const modelReady = async (request: { params: ModelParams }, reply: FastifyReply) => {
    const { model, version } = request.params;
    const v = repository.resolve(model, version);
    if (v.state === 'READY') return { name: model, ready: true };
    return reply.status(503).send({ name: model, ready: false, error: new ModelNotReadyError(model, v.reason || v.state.toLowerCase()).message });
  };
  app.get<{ Params: ModelParams }>('/v2/models/:model/ready', modelReady);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/ready', modelReady);

  const infer = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const { model, version } = request.params;
    const trace = traceInference(request, model, 'v2');
    const body = (request.body as Uint8Array | undefined) ?? new Uint8Array(0);
    const header = request.headers['inference-header-content-length'] as string | undefined;
    const decoded = decodeInferBody(body, header, {
      model,
      version,
      inputSpecs: () => repository.resolve(model, version).specs().inputs,
    });
    trace.mark('preprocess');
    const response = await repository.infer(decoded.request);
    trace.mark('predict');
    const encoded = encodeInferResponse(response, decoded.isBinary);
    trace.mark('postprocess');
    reply.header('content-type', encoded.contentType);
    if (encoded.headerLength !== undefined) reply.header('inference-header-content-length', encoded.headerLength);
    if (!Array.isArray(encoded.body)) return reply.send(encoded.body);
    reply.header('content-length', encoded.contentLength);
    return reply.send(Readable.from(encoded.body, { objectMode: false }));
  };
  app.post<{ Params: ModelParams }>('/v2/models/:model/infer', infer);
  app.post<{ Params: ModelParams }>('/v2/models/:model/versions/:version/infer', infer);

  // Triton's statistics extension; perf_analyzer reads it when "statistics" is advertised.
  const stats = async (request: { params: Partial<ModelParams> }) => ({
    model_stats: repository.statistics(request.params.model, request.params.version),
  });
  app.get<{ Params: Partial<ModelParams> }>('/v2/models/stats', stats);
  app.get<{ Params: ModelParams }>('/v2/models/:model/stats', stats);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/stats', stats);

  app.post('/v2/repository/index', async (request) => {
    const body = request.body as Uint8Array | undefined;
    const filter = body?.byteLength ? (parseJsonBody(body) as { ready?: unknown } | null) : null;
    const readyOnly = filter?.ready === true;
    return repository.index().filter((e) => !readyOnly || e.state === 'READY');
  });

  app.post<{ Params: { model: string } }>('/v2/repository/models/:model/load', async (request) => {
    const { model } = request.params;
    const body = request.body as Uint8Array | undefined;
    if (body?.byteLength) {
      const json = parseJsonBody(body) as { parameters?: Record<string, unknown> } | null;
      const overrides = Object.keys(json?.parameters ?? {}).filter((k) => k === 'config' || k.startsWith('file:'));
      if (overrides.length) throw new NotImplementedError(`load parameters ${overrides.join(', ')} are not supported; load reads the model from model_dir`);
    }
    await repository.load(model);
    const v = repository.resolve(model);
    if (v.state !== 'READY') throw new ModelNotReadyError(model, v.reason);
    return { name: model, load: true };
  });

  app.post<{ Params: { model: string } }>('/v2/repository/models/:model/unload', async (request) => {
    await repository.unload(request.params.model);
    return { name: request.params.model, unload: true };
  });

  const namedRepository = async () => {
    throw new NotImplementedError("'repository_name' specification is not supported");
  };
  app.post('/v2/repository/:repository/index', namedRepository);
  app.post('/v2/repository/:repository/models/:model/load', namedRepository);
  app.post('/v2/repository/:repository/models/:model/unload', namedRepository);
}
