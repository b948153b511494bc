/**
 * ONNX models on onnxruntime-node's CPU execution provider. `session.run` blocks the thread
 * that calls it, which is why this adapter only ever runs inside a pool worker.
 */
import * as ort from 'onnxruntime-node';
import type { DataType, NumericData, Tensor, TensorSpec } from '../../src/core/tensor.js';
import { bytesFromStrings } from '../../src/core/tensor.js';
import { InvalidInputError } from '../../src/core/errors.js';
import type { RunRequest } from '../../src/core/inference.js';
import { markOwned } from '../../src/core/transfer.js';
import type { LoadedModel, ModelMetadata, Runtime, RuntimeOptions } from '../runtime.js';

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

function toSpec(meta: ort.InferenceSession.ValueMetadata): TensorSpec | undefined {
  if (!meta.isTensor) return undefined;
  const datatype = FROM_ORT[meta.type];
  if (datatype === undefined) return undefined;
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function toOrtTensor(t: Tensor): ort.Tensor {
  if (Array.isArray(t.data)) {
    // onnxruntime holds C strings, not bytes: only UTF-8 without NUL survives the trip.
    const strings = t.data.map((e, i) => {
      let s: string;
      try {
        s = strictUtf8.decode(e);
      } catch {
        throw new InvalidInputError(`input '${t.name}': BYTES element ${i} is not valid UTF-8, which the model's string input requires`);
      }
      if (s.includes('\0')) throw new InvalidInputError(`input '${t.name}': BYTES element ${i} contains a NUL byte, which onnxruntime string tensors cannot hold`);
      return s;
    });
    return new ort.Tensor('string', strings, t.shape);
  }
  return new ort.Tensor(TO_ORT[t.datatype], t.data as never, t.shape);
}

function fromOrtTensor(name: string, value: ort.Tensor): Tensor {
  const datatype = FROM_ORT[value.type];
  if (datatype === undefined) throw new Error(`output '${name}' has type ${value.type}, which tsserve cannot return`);
  const shape = [...value.dims];
  if (datatype === 'BYTES') return { name, datatype, shape, data: bytesFromStrings(value.data as string[]) };
  const data = value.data as NumericData;
  // Outputs arrive in fresh buffers of their own; marking them lets them move to the main thread.
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) markOwned(data.buffer);
  return { name, datatype, shape, data };
}

class OnnxModel implements LoadedModel {
  readonly metadata: ModelMetadata;

  constructor(private readonly session: ort.InferenceSession) {
    const specs = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
      list.map(toSpec).filter((s): s is TensorSpec => s !== undefined);
    this.metadata = {
      platform: 'onnxruntime_onnx',
      inputs: specs(session.inputMetadata),
      outputs: specs(session.outputMetadata),
    };
  }

  async infer({ inputs, outputNames }: RunRequest): Promise<Tensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) feeds[t.name] = toOrtTensor(t);
    const results = await this.session.run(feeds, outputNames);
    return outputNames.map((name) => fromOrtTensor(name, results[name]!));
  }

  async unload(): Promise<void> {
    await this.session.release();
  }
}

export const onnxRuntime: Runtime = {
  async load(modelPath: string, options: RuntimeOptions): Promise<LoadedModel> {
    const session = await ort.InferenceSession.create(modelPath, {
      // CUDA first; onnxruntime places what CUDA cannot run on the CPU.
      executionProviders: options.executionProvider === 'cuda' ? [{ name: 'cuda', deviceId: options.deviceId }, 'cpu'] : ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: options.interOpThreads,
    });
    return new OnnxModel(session);
  },
};
