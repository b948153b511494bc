/**
 * Opening an onnxruntime session with the options every tsserve runtime uses, from a file or
 * from model bytes built at load. A model whose outputs are not all tensors (sklearn-onnx's
 * ZipMap) is opened a second time with the ZipMap turned into a tensor output; one with
 * other non-tensor inputs or outputs is refused.
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { stripZipMap } from '../onnx-ml/zipmap.js';
import { nonTensorIo, unsupportedIoError } from './io-types.js';
import { ortSeverity, setOrtEnvLogLevel } from './log-severity.js';
import type { RuntimeOptions } from '../../src/core/runtime.js';

function sessionOptions(options: RuntimeOptions): ort.InferenceSession.SessionOptions {
  const severity = ortSeverity(options.parameters);
  setOrtEnvLogLevel(severity);
  return {
    // CUDA first; onnxruntime places what CUDA cannot run (the ML tree ops) on the CPU.
    executionProviders: options.executionProvider === 'cuda' ? [{ name: 'cuda', deviceId: options.deviceId }, 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
    // Follows --log_level (src/config/native-log-level.ts); onnxruntime's default prints warnings.
    logSeverityLevel: severity,
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
  return new Error(
    `${modelPath} is not a valid ONNX file (onnxruntime: Protobuf parsing failed); check that the file is whole and is an ONNX model`,
  );
}

/**
 * Opens an ONNX file; ZipMap outputs come back as probability tensors [N, C]. A model with
 * other non-tensor inputs or outputs is refused, with Triton's message.
 */
export async function openOnnxFile(modelPath: string, options: RuntimeOptions): Promise<ort.InferenceSession> {
  let session = await createSession(modelPath, options).catch((error: unknown) => {
    throw notOnnx(modelPath, error);
  });
  if (!nonTensorIo(session).length) return session;
  // Only models with non-tensor I/O are read into memory, which large models never have.
  let bytes: Uint8Array = new Uint8Array(await readFile(modelPath));
  const stripped = stripZipMap(bytes);
  if (stripped) {
    await session.release();
    session = await createSession((bytes = stripped), options);
  }
  const unsupported = nonTensorIo(session);
  if (!unsupported.length) return session;
  await session.release();
  throw unsupportedIoError(unsupported, bytes);
}
