/**
 * Encodes an InferResponse as a v2 body: plain JSON, or a JSON header followed by the binary
 * outputs, with Inference-Header-Content-Length telling where the header ends.
 */
import type { InferResponse } from '../core/inference.js';
import { encodeRaw, rawByteLength, writeRaw } from '../core/raw-tensor.js';
import { encodeJsonData } from './json-tensor.js';
import { type BytesJson, bytesJson } from './json-bytes.js';
import { BytesData, type Tensor } from '../core/tensor.js';
import { type ShmLocation, shmOutputParameters } from '../shm/shm-tensors.js';

/** Above this many bytes binary tensors and BYTES JSON data go out as their own chunks instead of one copy. */
const CHUNKED_ABOVE = 64 * 1024;

export interface EncodedBody {
  /** A string or buffer, or for large outputs the body as chunks, produced as the socket takes them. */
  body: string | Buffer | Iterable<Uint8Array>;
  contentLength?: number;
  contentType: string;
  /** Set when binary data follows the JSON header. */
  headerLength?: number;
}

/** The JSON header as text, with large BYTES data held as chunks still to write (json-bytes.ts). */
type JsonParts = (string | BytesJson)[];

function jsonData(o: Tensor): string | BytesJson {
  return o.data instanceof BytesData && o.data.raw.byteLength > CHUNKED_ABOVE ? bytesJson(o.data, o.name) : encodeJsonData(o);
}

function jsonParts(response: InferResponse, binary: readonly Tensor[], inSharedMemory?: ReadonlyMap<string, ShmLocation>): JsonParts {
  let text = `{"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)}`;
  if (response.id !== undefined) text += `,"id":${JSON.stringify(response.id)}`;
  if (response.parameters && Object.keys(response.parameters).length) text += `,"parameters":${JSON.stringify(response.parameters)}`;
  text += ',"outputs":[';
  const parts: JsonParts = [];
  response.outputs.forEach((o, i) => {
    text += `${i ? ',' : ''}{"name":${JSON.stringify(o.name)},"datatype":"${o.datatype}","shape":[${o.shape.join(',')}]`;
    const shm = inSharedMemory?.get(o.name);
    if (shm) text += `,"parameters":${JSON.stringify(shmOutputParameters(shm))}}`;
    else if (binary.includes(o)) text += `,"parameters":{"binary_data_size":${rawByteLength(o.data)}}}`;
    else {
      const data = jsonData(o);
      if (typeof data === 'string') text += `,"data":${data}}`;
      else {
        parts.push(`${text},"data":`, data);
        text = '}';
      }
    }
  });
  parts.push(`${text}]}`);
  return parts;
}

function* chunksOf(parts: JsonParts, binary: readonly Tensor[]): Generator<Uint8Array> {
  for (const part of parts) {
    if (typeof part === 'string') yield Buffer.from(part);
    else yield* part.chunks();
  }
  for (const o of binary) yield encodeRaw(o.data);
}

/** The bytes of an answer's output data, as the binary extension carries it. */
export function responseBytes(response: InferResponse): number {
  return response.outputs.reduce((n, o) => n + rawByteLength(o.data), 0);
}

/** `inSharedMemory`: outputs already written to shared memory, answered with their region instead of data. */
export function encodeInferResponse(
  response: InferResponse,
  isBinary: (output: string) => boolean,
  inSharedMemory?: ReadonlyMap<string, ShmLocation>,
): EncodedBody {
  const binary = response.outputs.filter((o) => isBinary(o.name) && !inSharedMemory?.has(o.name));
  const parts = jsonParts(response, binary, inSharedMemory);
  const contentType = binary.length ? 'application/octet-stream' : 'application/json';
  if (parts.length > 1) {
    const headerLength = parts.reduce((n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength), 0);
    const contentLength = binary.reduce((n, o) => n + rawByteLength(o.data), headerLength);
    return { body: chunksOf(parts, binary), contentLength, contentType, headerLength: binary.length ? headerLength : undefined };
  }
  const json = parts[0] as string;
  if (!binary.length) return { body: json, contentType };

  const headerLength = Buffer.byteLength(json);
  const total = binary.reduce((n, o) => n + rawByteLength(o.data), headerLength);
  if (total - headerLength > CHUNKED_ABOVE) {
    const chunks = [Buffer.from(json), ...binary.map((o) => encodeRaw(o.data))];
    return { body: chunks, contentLength: total, contentType, headerLength };
  }
  const body = Buffer.allocUnsafe(total);
  body.write(json, 0, 'utf8');
  let offset = headerLength;
  for (const o of binary) offset = writeRaw(o.data, body, offset);
  return { body, contentType, headerLength };
}
