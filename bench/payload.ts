/** The 4 MiB FP32 tensor and binary-extension body shared by bench/run.ts and bench/post-loop.ts. */

export const TENSOR_SHAPE = [1024, 1024];
export const TENSOR_BYTES = 1024 * 1024 * 4;

/** 1M FP32 values, a repeating ramp (real numbers, not zeros). */
export function bigTensor(): Float32Array {
  const data = new Float32Array(TENSOR_BYTES / 4);
  for (let i = 0; i < data.length; i++) data[i] = (i % 1000) * 0.5;
  return data;
}

export interface BinaryRequest {
  body: Buffer;
  headers: Record<string, string>;
}

/** The binary extension: JSON header (input as binary, every output as binary) then the raw tensor bytes. */
export function binaryRequest(input: { name: string; datatype: string }, shape: number[], data: Float32Array): BinaryRequest {
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: input.name, datatype: input.datatype, shape, parameters: { binary_data_size: raw.byteLength } }],
      parameters: { binary_data_output: true },
    }),
  );
  return {
    body: Buffer.concat([header, raw]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
  };
}
