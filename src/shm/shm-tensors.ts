/**
 * Tensors that live in registered shared memory: the per-tensor parameters that name a region
 * (`shared_memory_region`, `shared_memory_offset`, `shared_memory_byte_size`), an input's bytes
 * read from it, and outputs written into it. Both frontends use these, so REST and gRPC accept
 * and refuse the same requests with the same words.
 */
import { InvalidInputError } from '../core/errors.js';
import type { InferRequest, InferResponse, Parameters } from '../core/inference.js';
import { encodeRaw, rawByteLength } from '../core/raw-tensor.js';
import type { SystemSharedMemory } from './system-shared-memory.js';

export interface ShmLocation {
  region: string;
  offset: number;
  byteSize: number;
}

export const SHM_REGION = 'shared_memory_region';
const SHM_OFFSET = 'shared_memory_offset';
const SHM_BYTE_SIZE = 'shared_memory_byte_size';

/** Where a tensor's parameters place it in shared memory, or undefined when they do not. */
export function shmLocation(parameters: Parameters | undefined, what: string): ShmLocation | undefined {
  const region = parameters?.[SHM_REGION];
  if (region === undefined) return undefined;
  if (typeof region !== 'string' || !region) throw new InvalidInputError(`${what}: '${SHM_REGION}' must be a non-empty string`);
  const byteSize = parameters![SHM_BYTE_SIZE];
  const offset = parameters![SHM_OFFSET] ?? 0;
  if (!Number.isSafeInteger(byteSize) || (byteSize as number) < 0) {
    throw new InvalidInputError(`${what}: '${SHM_BYTE_SIZE}' must be a non-negative integer when '${SHM_REGION}' is given`);
  }
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw new InvalidInputError(`${what}: '${SHM_OFFSET}' must be a non-negative integer`);
  }
  return { region, offset: offset as number, byteSize: byteSize as number };
}

/** The bytes of an input placed in shared memory, or undefined when the input is not. */
export function readShmInput(
  shm: SystemSharedMemory | undefined,
  parameters: Parameters | undefined,
  what: string,
): Uint8Array | undefined {
  const at = shmLocation(parameters, what);
  if (!at) return undefined;
  if (!shm) throw new InvalidInputError(`${what}: shared memory is not enabled on this server`);
  return shm.read(at.region, at.offset, at.byteSize);
}

/**
 * Writes every output the request asked to place in shared memory and returns their names;
 * the frontend then answers those outputs with their region and size instead of data.
 */
export function writeShmOutputs(
  shm: SystemSharedMemory | undefined,
  request: InferRequest,
  response: InferResponse,
): Map<string, ShmLocation> {
  const placed = new Map<string, ShmLocation>();
  for (const requested of request.outputs ?? []) {
    const what = `output '${requested.name}'`;
    const at = shmLocation(requested.parameters, what);
    if (!at) continue;
    if (!shm) throw new InvalidInputError(`${what}: shared memory is not enabled on this server`);
    const output = response.outputs.find((o) => o.name === requested.name);
    if (!output) continue;
    const size = rawByteLength(output.data);
    if (size > at.byteSize) {
      throw new InvalidInputError(
        `shared memory size specified with the request for output '${requested.name}' (${at.byteSize} bytes) should be at least ${size} bytes to hold the results`,
      );
    }
    shm.write(at.region, at.offset, size, [encodeRaw(output.data)]);
    placed.set(requested.name, { ...at, byteSize: size });
  }
  return placed;
}

/** The parameters an output placed in shared memory answers with, as Triton sends them. */
export function shmOutputParameters(at: ShmLocation): Parameters {
  return { [SHM_REGION]: at.region, [SHM_BYTE_SIZE]: at.byteSize, ...(at.offset ? { [SHM_OFFSET]: at.offset } : {}) };
}
