/**
 * ModelInferRequest into the internal InferRequest, and InferResponse into ModelInferResponse.
 * Raw contents go through the same raw tensor codec as the REST binary extension; typed
 * contents become the same owned typed arrays as JSON data. Outputs always return as
 * raw_output_contents, the only form tritonclient reads.
 */
import { InvalidInputError } from '../core/errors.js';
import type { InferRequest, InferResponse, RequestedOutput } from '../core/inference.js';
import { decodeRaw, encodeRaw } from '../core/raw-tensor.js';
import { type Tensor, inOwnedBuffers } from '../core/tensor.js';
import { parseDatatype, parseShape } from '../core/tensor-header.js';
import type { InferInputTensor, ModelInferRequest, ModelInferResponse } from './messages.js';
import { fromInferParameters, toInferParameters } from './parameters.js';
import { decodeContents, filledFields } from './typed-contents.js';

function decodeInput(input: InferInputTensor, index: number, raw: Buffer | undefined): Tensor {
  const { name } = input;
  if (!name) throw new InvalidInputError(`'inputs[${index}].name' must be a non-empty string`);
  const what = `input '${name}'`;
  const datatype = parseDatatype(input.datatype, what);
  const shape = parseShape(input.shape.map(Number), what);
  // Checked like every parameter map, though no per-input parameter means anything over gRPC.
  fromInferParameters(input.parameters, `inputs[${index}].parameters`);
  if (raw !== undefined && filledFields(input.contents).length) {
    throw new InvalidInputError(`${what}: 'contents' must not be given when raw_input_contents carries the inputs`);
  }
  const data = raw === undefined ? decodeContents(datatype, shape, input.contents, what) : decodeRaw(datatype, shape, raw, what);
  // Views over the received message stay views only when the message has a buffer of its own (owned-messages.ts).
  return { name, datatype, shape, data: inOwnedBuffers(data) };
}

function decodeOutputs(message: ModelInferRequest): RequestedOutput[] | undefined {
  if (!message.outputs.length) return undefined;
  return message.outputs.map((o, i) => {
    if (!o.name) throw new InvalidInputError(`'outputs[${i}].name' must be a non-empty string`);
    return { name: o.name, parameters: fromInferParameters(o.parameters, `outputs[${i}].parameters`) };
  });
}

export function decodeInferRequest(message: ModelInferRequest): InferRequest {
  const raw = message.raw_input_contents;
  if (raw.length && raw.length !== message.inputs.length) {
    throw new InvalidInputError(
      `raw_input_contents has ${raw.length} entries for ${message.inputs.length} inputs; give one entry per input, in 'inputs' order`,
    );
  }
  return {
    model: message.model_name,
    version: message.model_version || undefined,
    id: message.id || undefined,
    parameters: fromInferParameters(message.parameters, 'parameters'),
    inputs: message.inputs.map((input, i) => decodeInput(input, i, raw.length ? raw[i] : undefined)),
    outputs: decodeOutputs(message),
  };
}

export function encodeInferResponse(response: InferResponse): ModelInferResponse {
  return {
    model_name: response.modelName,
    model_version: response.modelVersion,
    id: response.id,
    parameters: toInferParameters(response.parameters),
    outputs: response.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
    raw_output_contents: response.outputs.map((o) => encodeRaw(o.data)),
  };
}
