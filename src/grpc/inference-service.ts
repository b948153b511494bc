/**
 * The handlers of inference.GRPCInferenceService. Each one answers from the data plane the REST
 * routes use, so both protocols give the same answers and the same error messages.
 */
import type { CancelSignal } from '../core/cancel.js';
import type { ServerUnaryCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { NotImplementedError } from '../core/errors.js';
import { type DataPlane, NAMED_REPOSITORY_ERROR } from '../dataplane/data-plane.js';
import type { Logger } from '../log.js';
import { decodeInferRequest, encodeInferResponse } from './infer-codec.js';
import { loadOptions } from './load-options.js';
import type { ModelInferRequest, ModelInferResponse, ModelRequest, RepositoryIndexRequest, RepositoryModelRequest } from './messages.js';
import { type MalformedRequest, wellFormed } from './request-decoding.js';
import { statusName, toStatus } from './status.js';
import { InferenceTrace, recordTrace } from '../metrics/inference-trace.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StreamInfer } from './stream-infer.js';
import { sharedMemoryHandlers } from './shm-service.js';
import { cancelSignal } from './call-signal.js';
import { writeShmOutputs } from '../shm/shm-tensors.js';
import { releaseMessage } from './message-admission.js';

export interface InferenceServiceOptions {
  dataPlane: DataPlane;
  logger: Logger;
  streams: StreamInfer;
  metrics?: Metrics;
}

/** One ModelInfer, unary or on a stream, timed and counted like the REST routes. */
export async function inferOverGrpc(
  dataPlane: DataPlane,
  message: ModelInferRequest | MalformedRequest,
  metrics?: Metrics,
  signal?: CancelSignal,
): Promise<ModelInferResponse> {
  const shm = dataPlane.sharedMemory;
  const model = (message as Partial<ModelInferRequest>).model_name ?? '';
  const trace = new InferenceTrace(model, 'grpc');
  let statusLabel = 'OK';
  try {
    const given = wellFormed(message);
    const request = decodeInferRequest(given, shm, () => dataPlane.inputSpecs(given.model_name, given.model_version || undefined));
    trace.mark('preprocess');
    const response = await dataPlane.infer(request.model, request.version, request, signal);
    trace.mark('predict');
    const encoded = encodeInferResponse(response, writeShmOutputs(shm, request, response));
    trace.mark('postprocess');
    return encoded;
  } catch (error) {
    statusLabel = statusName(error);
    throw error;
  } finally {
    releaseMessage(message);
    if (signal?.aborted) statusLabel = 'CANCELLED';
    const label = statusLabel === 'NOT_FOUND' || (signal?.aborted && !dataPlane.modelNames().includes(model)) ? '_unknown' : model;
    if (metrics) recordTrace(metrics, trace, label, statusLabel);
    if (metrics && signal?.aborted) metrics.requestCancelled(label, 'grpc');
  }
}

function noNamedRepository(request: { repository_name: string }): void {
  if (request.repository_name) throw new NotImplementedError(NAMED_REPOSITORY_ERROR);
}

export function inferenceService(options: InferenceServiceOptions): UntypedServiceImplementation {
  const { dataPlane, logger } = options;
  const unary =
    <Req, Res>(handle: (request: Req, call: ServerUnaryCall<Req | MalformedRequest, Res>) => Res | Promise<Res>) =>
    async (call: ServerUnaryCall<Req | MalformedRequest, Res>, callback: sendUnaryData<Res>) => {
      try {
        callback(null, await handle(wellFormed(call.request), call));
      } catch (error) {
        callback(toStatus(error, logger));
      }
    };

  return {
    ServerLive: unary(() => ({ live: dataPlane.live() })),
    ServerReady: unary(() => ({ ready: dataPlane.ready().ready })),
    ModelReady: unary((r: ModelRequest) => ({ ready: dataPlane.modelReady(r.name, r.version).ready })),
    ServerMetadata: unary(() => dataPlane.serverMetadata()),
    ModelMetadata: unary((r: ModelRequest) => dataPlane.modelMetadata(r.name, r.version)),
    ModelInfer: unary((r: ModelInferRequest, call) => inferOverGrpc(dataPlane, r, options.metrics, cancelSignal(call))),
    ModelStreamInfer: options.streams.serve.bind(options.streams),
    ModelConfig: unary((r: ModelRequest) => ({ config: dataPlane.modelConfig(r.name, r.version) })),
    ModelStatistics: unary((r: ModelRequest) => ({ model_stats: dataPlane.statistics(r.name || undefined, r.version || undefined) })),
    RepositoryIndex: unary((r: RepositoryIndexRequest) => {
      noNamedRepository(r);
      return { models: dataPlane.repositoryIndex(r.ready).map((e) => ({ ...e, version: e.version ?? '' })) };
    }),
    RepositoryModelLoad: unary(async (r: RepositoryModelRequest) => {
      noNamedRepository(r);
      await dataPlane.load(r.model_name, loadOptions(r.parameters));
      return {};
    }),
    ...Object.fromEntries(Object.entries(sharedMemoryHandlers(dataPlane.sharedMemory)).map(([rpc, handle]) => [rpc, unary(handle)])),
    RepositoryModelUnload: unary(async (r: RepositoryModelRequest) => {
      noNamedRepository(r);
      await dataPlane.unload(r.model_name);
      return {};
    }),
  };
}
