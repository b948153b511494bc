/**
 * The one internal inference request and response. Every frontend (v2 REST JSON and binary,
 * V1, gRPC) decodes into InferRequest and encodes from InferResponse; nothing past the
 * frontend knows which wire a request came from.
 */
import type { Tensor } from './tensor.js';

export type ParameterValue = string | number | boolean;
export type Parameters = Record<string, ParameterValue>;

export interface RequestedOutput {
  name: string;
  parameters: Parameters;
}

export interface InferRequest {
  model: string;
  /** Undefined means the model's default (highest ready) version. */
  version?: string;
  id?: string;
  parameters: Parameters;
  inputs: Tensor[];
  /** Undefined means every model output. */
  outputs?: RequestedOutput[];
}

/**
 * What a runtime is asked to run: validated inputs in the model's order, the outputs to
 * compute in the order to return them, and the request's parameters, passed through untouched.
 */
export interface RunRequest {
  inputs: Tensor[];
  outputNames: string[];
  parameters: Parameters;
}

/**
 * How KServe's V1 protocol answers an output whose last dimension is indexed by class (or token
 * id): 'map' one object per row, {"0": v0, "1": v1, ...}; 'entries' one object per element,
 * [{"0": v0}, {"1": v1}, ...]. Python dicts keyed by index print so in huggingfaceserver.
 */
export type IndexKeyed = 'map' | 'entries';

export interface InferResponse {
  modelName: string;
  modelVersion: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}
