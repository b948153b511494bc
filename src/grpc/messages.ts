/**
 * The gRPC messages, under the names the frontend uses, from the types `npm run gen:proto`
 * generates out of proto/*.proto (src/grpc/generated, not edited by hand). Received messages
 * are the generated `__Output` types: what @grpc/proto-loader hands over with LOADER_OPTIONS
 * (proto.ts): proto field names, every field present, 64-bit integers as decimal strings,
 * bytes as Buffers, `parameter_choice` naming the member a oneof holds. Sent messages are the
 * permissive types: 64-bit integers may be numbers and bytes any Uint8Array.
 */
import type { HealthCheckRequest__Output } from './generated/grpc/health/v1/HealthCheckRequest.js';
import type { _grpc_health_v1_HealthCheckResponse_ServingStatus__Output } from './generated/grpc/health/v1/HealthCheckResponse.js';
import type { InferParameter as SentInferParameter, InferParameter__Output } from './generated/inference/InferParameter.js';
import type { InferTensorContents__Output } from './generated/inference/InferTensorContents.js';
import type {
  ModelInferRequest__Output,
  _inference_ModelInferRequest_InferInputTensor__Output,
  _inference_ModelInferRequest_InferRequestedOutputTensor__Output,
} from './generated/inference/ModelInferRequest.js';
import type { ModelInferResponse as SentModelInferResponse } from './generated/inference/ModelInferResponse.js';
import type { ModelMetadataRequest__Output } from './generated/inference/ModelMetadataRequest.js';
import type { ModelStreamInferResponse as SentModelStreamInferResponse } from './generated/inference/ModelStreamInferResponse.js';
import type { RepositoryIndexRequest__Output } from './generated/inference/RepositoryIndexRequest.js';
import type { RepositoryModelLoadRequest__Output } from './generated/inference/RepositoryModelLoadRequest.js';

export type ParameterChoice = NonNullable<InferParameter__Output['parameter_choice']>;

/** A parameter as received, or as sent (the int64 members may then be numbers). */
export type InferParameter = InferParameter__Output | SentInferParameter;
export type InferParameters = Record<string, InferParameter>;

export type InferTensorContents = InferTensorContents__Output;
export type InferInputTensor = _inference_ModelInferRequest_InferInputTensor__Output;
export type InferRequestedOutputTensor = _inference_ModelInferRequest_InferRequestedOutputTensor__Output;
export type ModelInferRequest = ModelInferRequest__Output;

export type ModelInferResponse = SentModelInferResponse;
export type ModelStreamInferResponse = SentModelStreamInferResponse;

/** ModelReady, ModelMetadata, ModelConfig and ModelStatistics requests (all `name` and `version`). */
export type ModelRequest = ModelMetadataRequest__Output;
export type RepositoryIndexRequest = RepositoryIndexRequest__Output;
/** RepositoryModelLoad and RepositoryModelUnload requests. */
export type RepositoryModelRequest = RepositoryModelLoadRequest__Output;

export type HealthCheckRequest = HealthCheckRequest__Output;
export type ServingStatus = _grpc_health_v1_HealthCheckResponse_ServingStatus__Output;
