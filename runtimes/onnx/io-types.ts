/**
 * Refusing models whose inputs or outputs are not tensors (sequences, maps, optionals...), as
 * Triton's onnxruntime backend does at load: the v2 protocol carries only tensors, so such a
 * model could never answer a request. onnxruntime-node only says "not a tensor"; the kind is
 * read from the graph's value infos, so the message names it as Triton does.
 */
import type * as ort from 'onnxruntime-node';
import { readFields, stringOf } from '../onnx-ml/protobuf.js';

/** TypeProto's `value` oneof field numbers (onnx.proto), as onnxruntime's ONNXType names them. */
const ONNX_TYPES: Record<number, string> = {
  1: 'ONNX_TYPE_TENSOR',
  4: 'ONNX_TYPE_SEQUENCE',
  5: 'ONNX_TYPE_MAP',
  7: 'ONNX_TYPE_OPAQUE',
  8: 'ONNX_TYPE_SPARSETENSOR',
  9: 'ONNX_TYPE_OPTIONAL',
};

export class UnsupportedOnnxTypeError extends Error {
  override name = 'UnsupportedOnnxTypeError';
}

/** Graph input/output name -> ONNX type name, from the model's bytes. */
function graphIoTypes(modelBytes: Uint8Array): Map<string, string> {
  const types = new Map<string, string>();
  const graph = readFields(modelBytes).find((f) => f.field === 7 && f.payload);
  if (!graph) return types;
  for (const f of readFields(graph.payload!)) {
    if ((f.field !== 11 && f.field !== 12) || !f.payload) continue; // GraphProto.input / output
    const info = readFields(f.payload);
    const name = stringOf(info, 1);
    const type = info.find((i) => i.field === 2 && i.payload);
    const kind = type ? readFields(type.payload!).find((k) => ONNX_TYPES[k.field]) : undefined;
    if (name !== undefined) types.set(name, kind ? ONNX_TYPES[kind.field]! : 'ONNX_TYPE_UNKNOWN');
  }
  return types;
}

/** Names of the session's inputs and outputs that are not tensors. */
export function nonTensorIo(session: ort.InferenceSession): string[] {
  return [...session.inputMetadata, ...session.outputMetadata].filter((m) => !m.isTensor).map((m) => m.name);
}

/** Triton's refusal for the first non-tensor input or output (`names` from nonTensorIo). */
export function unsupportedIoError(names: readonly string[], modelBytes: Uint8Array): UnsupportedOnnxTypeError {
  const name = names[0]!;
  const type = graphIoTypes(modelBytes).get(name) ?? 'ONNX_TYPE_UNKNOWN';
  return new UnsupportedOnnxTypeError(`Unsupported ONNX Type '${type}' for I/O '${name}', expected 'ONNX_TYPE_TENSOR'.`);
}
