/** Conversions between tsserve's tensors and onnxruntime-node's. */
import * as ort from 'onnxruntime-node';
import type { DataType, NumericData, Tensor, TensorSpec } from '../../src/core/tensor.js';
import { BytesData, bytesFromStrings } from '../../src/core/tensor.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { markOwned } from '../../src/core/transfer.js';

const FROM_ORT: Partial<Record<string, DataType>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

const TO_ORT: Record<DataType, ort.Tensor.Type> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

/** The spec of a tensor input or output; undefined for non-tensor values and unknown types. */
export function toSpec(meta: ort.InferenceSession.ValueMetadata): TensorSpec | undefined {
  if (!meta.isTensor) return undefined;
  const datatype = FROM_ORT[meta.type];
  if (datatype === undefined) return undefined;
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function toOrtTensor(t: Tensor): ort.Tensor {
  if (t.data instanceof BytesData) {
    // onnxruntime holds C strings, not bytes: only UTF-8 without NUL survives the trip.
    const strings = t.data.strings((e, i) => {
      let s: string;
      try {
        s = strictUtf8.decode(e);
      } catch {
        throw new InvalidInputError(`input '${t.name}': BYTES element ${i} is not valid UTF-8, which the model's string input requires`);
      }
      if (s.includes('\0'))
        throw new InvalidInputError(
          `input '${t.name}': BYTES element ${i} contains a NUL byte, which onnxruntime string tensors cannot hold`,
        );
      return s;
    });
    return new ort.Tensor('string', strings, t.shape);
  }
  return new ort.Tensor(TO_ORT[t.datatype], t.data as never, t.shape);
}

export function fromOrtTensor(name: string, value: ort.Tensor): Tensor {
  const datatype = FROM_ORT[value.type];
  if (datatype === undefined) throw new Error(`output '${name}' has type ${value.type}, which tsserve cannot return`);
  const shape = [...value.dims];
  if (datatype === 'BYTES') return { name, datatype, shape, data: bytesFromStrings(value.data as string[]) };
  const data = value.data as NumericData;
  // Outputs arrive in fresh buffers of their own; marking them lets them move to the main thread.
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) markOwned(data.buffer);
  return { name, datatype, shape, data };
}
