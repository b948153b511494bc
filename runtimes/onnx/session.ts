/**
 * Opening an onnxruntime session with the options every tsserve runtime uses, from a file or
 * from model bytes built at load. A model whose outputs are not all tensors (sklearn-onnx's
 * ZipMap) is opened a second time with the ZipMap turned into a tensor output.
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { stripZipMap } from '../onnx-ml/zipmap.js';
import type { RuntimeOptions } from '../runtime.js';

function sessionOptions(options: RuntimeOptions): ort.InferenceSession.SessionOptions {
  return {
    // CUDA first; onnxruntime places what CUDA cannot run (the ML tree ops) on the CPU.
    executionProviders: options.executionProvider === 'cuda' ? [{ name: 'cuda', deviceId: options.deviceId }, 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
  };
}

export function createSession(model: string | Uint8Array, options: RuntimeOptions): Promise<ort.InferenceSession> {
  const opts = sessionOptions(options);
  return typeof model === 'string' ? ort.InferenceSession.create(model, opts) : ort.InferenceSession.create(model, opts);
}

/** onnxruntime's "Load model from <path> failed:Protobuf parsing failed." as what the user must know. */
function notOnnx(modelPath: string, error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (!/Protobuf parsing failed/i.test(message)) return error;
  return new Error(`${modelPath} is not a valid ONNX file (onnxruntime: Protobuf parsing failed); check that the file is whole and is an ONNX model`);
}

/** Opens an ONNX file; ZipMap outputs come back as probability tensors [N, C]. */
export async function openOnnxFile(modelPath: string, options: RuntimeOptions): Promise<ort.InferenceSession> {
  const session = await createSession(modelPath, options).catch((error: unknown) => {
    throw notOnnx(modelPath, error);
  });
  if (session.outputMetadata.every((o) => o.isTensor)) return session;
  // Only models with non-tensor outputs are read into memory, which large models never have.
  const stripped = stripZipMap(new Uint8Array(await readFile(modelPath)));
  if (!stripped) return session;
  await session.release();
  return createSession(stripped, options);
}
