/**
 * The inference messages as @grpc/proto-loader hands them over with LOADER_OPTIONS (proto.ts):
 * proto field names, every field present, 64-bit integers as decimal strings, bytes as
 * Buffers, and `parameter_choice` naming the member a oneof holds. Outgoing messages may also
 * give 64-bit integers as numbers and bytes as any Uint8Array.
 */

type Int64 = string;

export type ParameterChoice = 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';

export interface InferParameter {
  parameter_choice?: ParameterChoice;
  bool_param?: boolean;
  int64_param?: Int64 | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: Int64 | number;
}

export type InferParameters = Record<string, InferParameter>;

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: Int64[];
  uint_contents: number[];
  uint64_contents: Int64[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: Int64[];
  parameters: InferParameters;
  contents: InferTensorContents | null;
}

export interface InferRequestedOutputTensor {
  name: string;
  parameters: InferParameters;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: InferParameters;
  inputs: InferInputTensor[];
  outputs: InferRequestedOutputTensor[];
  raw_input_contents: Buffer[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  /** Left out when the request had none. */
  id?: string;
  parameters: InferParameters;
  outputs: InferOutputTensor[];
  raw_output_contents: Uint8Array[];
}

export interface ModelStreamInferResponse {
  error_message?: string;
  infer_response: Partial<ModelInferResponse>;
}

/** ModelReady, ModelMetadata, ModelConfig and ModelStatistics requests. */
export interface ModelRequest {
  name: string;
  version: string;
}

export interface RepositoryIndexRequest {
  repository_name: string;
  ready: boolean;
}

export interface RepositoryModelRequest {
  repository_name: string;
  model_name: string;
  parameters: Record<string, unknown>;
}

export interface HealthCheckRequest {
  service: string;
}

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
