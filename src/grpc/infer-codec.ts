/**
 * ModelInferRequest into the internal InferRequest, and InferResponse into ModelInferResponse.
 * Raw contents go through the same raw tensor codec as the REST binary extension; typed
 * contents become the same owned typed arrays as JSON data. Outputs always return as
 * raw_output_contents, the only form tritonclient reads.
 */
import { InvalidInputError } from '../core/errors.js';
import type { InferRequest, InferResponse, RequestedOutput } from '../core/inference.js';
import { decodeRaw, encodeRaw } from '../core/raw-tensor.js';
import { type Tensor, type TensorSpec, inOwnedBuffers } from '../core/tensor.js';
import { inputHeaderCheck } from '../core/validate.js';
import { parseDatatype, parseShape } from '../core/tensor-header.js';
import type { InferInputTensor, ModelInferRequest, ModelInferResponse } from './messages.js';
import { fromInferParameters, toInferParameters } from './parameters.js';
import { decodeContents, filledFields } from './typed-contents.js';
import { SHM_REGION, type ShmLocation, readShmInput, shmOutputParameters } from '../shm/shm-tensors.js';
import type { SystemSharedMemory } from '../shm/system-shared-memory.js';

type HeaderCheck = ReturnType<typeof inputHeaderCheck>;

function decodeInput(
  input: InferInputTensor,
  index: number,
  raw: Buffer | undefined,
  shm: SystemSharedMemory | undefined,
  checkHeader: HeaderCheck,
): Tensor {
  const { name } = input;
  if (!name) throw new InvalidInputError(`'inputs[${index}].name' must be a non-empty string`);
  const what = `input '${name}'`;
  const datatype = parseDatatype(input.datatype, what);
  const shape = parseShape(input.shape.map(Number), what);
  const parameters = fromInferParameters(input.parameters, `inputs[${index}].parameters`);
  checkHeader(name, datatype, shape);
  if (raw !== undefined && filledFields(input.contents).length) {
    throw new InvalidInputError(`${what}: 'contents' must not be given when raw_input_contents carries the inputs`);
  }
  // An input in shared memory has an empty raw_input_contents entry (tritonclient sends one per input).
  const shmBytes = readShmInput(shm, parameters, what);
  if (shmBytes && (raw?.byteLength || filledFields(input.contents).length)) {
    throw new InvalidInputError(`${what}: give its data in shared memory or in the message, not both`);
  }
  const data = shmBytes
    ? decodeRaw(datatype, shape, shmBytes, what)
    : raw === undefined
      ? decodeContents(datatype, shape, input.contents, what)
      : decodeRaw(datatype, shape, raw, what);
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

/**
 * The raw_input_contents entry of each input. tritonclient sends none for an input placed in
 * shared memory, so entries belong, in order, to the inputs that are not; a client that sends
 * one entry per input (empty for shared memory) is taken as well.
 */
function rawEntries(message: ModelInferRequest): (Buffer | undefined)[] {
  const raw = message.raw_input_contents;
  if (!raw.length) return message.inputs.map(() => undefined);
  if (raw.length === message.inputs.length) return raw;
  const inMessage = message.inputs.map((input) => !input.parameters?.[SHM_REGION]);
  const expected = inMessage.filter(Boolean).length;
  if (raw.length !== expected) {
    throw new InvalidInputError(
      `raw_input_contents has ${raw.length} entries for ${expected} inputs; give one entry per input, in 'inputs' order`,
    );
  }
  let next = 0;
  return inMessage.map((carried) => (carried ? raw[next++] : undefined));
}

/** `inputSpecs`: the addressed model's inputs, to refuse a wrong datatype or shape before decoding its data. */
export function decodeInferRequest(
  message: ModelInferRequest,
  shm?: SystemSharedMemory,
  inputSpecs: () => readonly TensorSpec[] = () => [],
): InferRequest {
  const raw = rawEntries(message);
  const parameters = fromInferParameters(message.parameters, 'parameters');
  const checkHeader = inputHeaderCheck(message.model_name, inputSpecs, parameters);
  return {
    model: message.model_name,
    version: message.model_version || undefined,
    id: message.id || undefined,
    parameters,
    inputs: message.inputs.map((input, i) => decodeInput(input, i, raw[i], shm, checkHeader)),
    outputs: decodeOutputs(message),
  };
}

/** Outputs in `inSharedMemory` were written there: they answer with their region and an empty raw entry, as Triton. */
export function encodeInferResponse(response: InferResponse, inSharedMemory?: ReadonlyMap<string, ShmLocation>): ModelInferResponse {
  const shmOf = (name: string) => inSharedMemory?.get(name);
  return {
    model_name: response.modelName,
    model_version: response.modelVersion,
    id: response.id,
    parameters: toInferParameters(response.parameters),
    outputs: response.outputs.map((o) => {
      const shm = shmOf(o.name);
      return {
        name: o.name,
        datatype: o.datatype,
        shape: o.shape,
        ...(shm ? { parameters: toInferParameters(shmOutputParameters(shm)) } : {}),
      };
    }),
    raw_output_contents: response.outputs.map((o) => (shmOf(o.name) ? Buffer.alloc(0) : encodeRaw(o.data))),
  };
}
