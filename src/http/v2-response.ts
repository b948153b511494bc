/**
 * Encodes an InferResponse as a v2 body: plain JSON, or a JSON header followed by the binary
 * outputs, with Inference-Header-Content-Length telling where the header ends.
 */
import type { InferResponse } from '../core/inference.js';
import { encodeRaw, rawByteLength, writeRaw } from '../core/raw-tensor.js';
import { encodeJsonData } from './json-tensor.js';
import { type ShmLocation, shmOutputParameters } from '../shm/shm-tensors.js';

/** Above this many binary bytes the tensors go out as their own chunks instead of one copy. */
const CHUNKED_ABOVE = 64 * 1024;

export interface EncodedBody {
  /** A string or buffer, or for large binary outputs the header and each tensor as chunks. */
  body: string | Buffer | Uint8Array[];
  contentLength?: number;
  contentType: string;
  /** Set when binary data follows the JSON header. */
  headerLength?: number;
}

/** `inSharedMemory`: outputs already written to shared memory, answered with their region instead of data. */
export function encodeInferResponse(
  response: InferResponse,
  isBinary: (output: string) => boolean,
  inSharedMemory?: ReadonlyMap<string, ShmLocation>,
): EncodedBody {
  const binary = response.outputs.filter((o) => isBinary(o.name) && !inSharedMemory?.has(o.name));
  const outputs = response.outputs.map((o) => {
    const head = `{"name":${JSON.stringify(o.name)},"datatype":"${o.datatype}","shape":[${o.shape.join(',')}]`;
    const shm = inSharedMemory?.get(o.name);
    if (shm) return `${head},"parameters":${JSON.stringify(shmOutputParameters(shm))}}`;
    return binary.includes(o)
      ? `${head},"parameters":{"binary_data_size":${rawByteLength(o.data)}}}`
      : `${head},"data":${encodeJsonData(o)}}`;
  });
  let json = `{"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)}`;
  if (response.id !== undefined) json += `,"id":${JSON.stringify(response.id)}`;
  if (response.parameters && Object.keys(response.parameters).length) json += `,"parameters":${JSON.stringify(response.parameters)}`;
  json += `,"outputs":[${outputs.join(',')}]}`;
  if (!binary.length) return { body: json, contentType: 'application/json' };

  const headerLength = Buffer.byteLength(json);
  const total = binary.reduce((n, o) => n + rawByteLength(o.data), headerLength);
  if (total - headerLength > CHUNKED_ABOVE) {
    const chunks = [Buffer.from(json), ...binary.map((o) => encodeRaw(o.data))];
    return { body: chunks, contentLength: total, contentType: 'application/octet-stream', headerLength };
  }
  const body = Buffer.allocUnsafe(total);
  body.write(json, 0, 'utf8');
  let offset = headerLength;
  for (const o of binary) offset = writeRaw(o.data, body, offset);
  return { body, contentType: 'application/octet-stream', headerLength };
}
