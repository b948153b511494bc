/**
 * The handlers of inference.GRPCInferenceService. Each one answers from the same functions the
 * REST routes use (src/repository/status.ts, repository-extension.ts, model-config-report.ts),
 * so both protocols give the same answers and the same error messages.
 */
import type { ServerUnaryCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { NotImplementedError } from '../core/errors.js';
import { EXTENSIONS, SERVER_NAME } from '../core/extensions.js';
import type { Logger } from '../log.js';
import { modelConfigReport } from '../repository/model-config-report.js';
import type { ModelRepository } from '../repository/model-repository.js';
import { NAMED_REPOSITORY_ERROR, loadModel, repositoryIndex } from '../repository/repository-extension.js';
import { describeModel, modelReadiness } from '../repository/status.js';
import { decodeInferRequest, encodeInferResponse } from './infer-codec.js';
import type { ModelInferRequest, ModelInferResponse, ModelRequest, RepositoryIndexRequest, RepositoryModelRequest } from './messages.js';
import { type MalformedRequest, wellFormed } from './request-decoding.js';
import { statusName, toStatus } from './status.js';
import { InferenceTrace, recordTrace } from '../metrics/inference-trace.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StreamInfer } from './stream-infer.js';
import { releaseMessage } from './message-admission.js';

export interface InferenceServiceOptions {
  repository: ModelRepository;
  logger: Logger;
  serverVersion: string;
  isReady: () => boolean;
  streams: StreamInfer;
  metrics?: Metrics;
}

/** One ModelInfer, unary or on a stream, timed and counted like the REST routes. */
export async function inferOverGrpc(repository: ModelRepository, message: ModelInferRequest | MalformedRequest, metrics?: Metrics): Promise<ModelInferResponse> {
  const model = (message as Partial<ModelInferRequest>).model_name ?? '';
  const trace = new InferenceTrace(model, 'grpc');
  let statusLabel = 'OK';
  try {
    const request = decodeInferRequest(wellFormed(message));
    trace.mark('preprocess');
    const response = await repository.infer(request);
    trace.mark('predict');
    const encoded = encodeInferResponse(response);
    trace.mark('postprocess');
    return encoded;
  } catch (error) {
    statusLabel = statusName(error);
    throw error;
  } finally {
    releaseMessage(message);
    if (metrics) recordTrace(metrics, trace, statusLabel === 'NOT_FOUND' ? '_unknown' : model, statusLabel);
  }
}

function noNamedRepository(request: { repository_name: string }): void {
  if (request.repository_name) throw new NotImplementedError(NAMED_REPOSITORY_ERROR);
}

export function inferenceService(options: InferenceServiceOptions): UntypedServiceImplementation {
  const { repository, logger } = options;
  const unary =
    <Req, Res>(handle: (request: Req) => Res | Promise<Res>) =>
    async (call: ServerUnaryCall<Req | MalformedRequest, Res>, callback: sendUnaryData<Res>) => {
      try {
        callback(null, await handle(wellFormed(call.request)));
      } catch (error) {
        callback(toStatus(error, logger));
      }
    };

  return {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: options.isReady() })),
    ModelReady: unary((r: ModelRequest) => ({ ready: modelReadiness(repository, r.name, r.version).ready })),
    ServerMetadata: unary(() => ({ name: SERVER_NAME, version: options.serverVersion, extensions: EXTENSIONS })),
    ModelMetadata: unary((r: ModelRequest) => describeModel(repository, r.name, r.version)),
    ModelInfer: unary((r: ModelInferRequest) => inferOverGrpc(repository, r, options.metrics)),
    ModelStreamInfer: options.streams.serve.bind(options.streams),
    ModelConfig: unary((r: ModelRequest) => ({ config: modelConfigReport(repository, r.name, r.version) })),
    ModelStatistics: unary((r: ModelRequest) => ({ model_stats: repository.statistics(r.name || undefined, r.version || undefined) })),
    RepositoryIndex: unary((r: RepositoryIndexRequest) => {
      noNamedRepository(r);
      return { models: repositoryIndex(repository, r.ready).map((e) => ({ ...e, version: e.version ?? '' })) };
    }),
    RepositoryModelLoad: unary(async (r: RepositoryModelRequest) => {
      noNamedRepository(r);
      await loadModel(repository, r.model_name, Object.keys(r.parameters));
      return {};
    }),
    RepositoryModelUnload: unary(async (r: RepositoryModelRequest) => {
      noNamedRepository(r);
      await repository.unload(r.model_name);
      return {};
    }),
  };
}
