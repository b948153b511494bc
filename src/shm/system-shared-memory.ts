/**
 * Triton's system shared-memory extension: clients on the same host register POSIX
 * shared-memory objects (shm_open keys, which Linux keeps under /dev/shm) by name, then name a
 * region, offset and size in place of a tensor's bytes. The server reads inputs from the region
 * and writes outputs into it, so large tensors never cross the socket.
 *
 * Node cannot mmap, so regions are read and written with pread/pwrite on a descriptor kept open
 * while the region is registered: one copy, from the page cache the client's mapping shares.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyExistsError, InvalidInputError, NotFoundError, ServingError } from '../core/errors.js';

/** Where Linux keeps the objects shm_open creates (glibc maps key "/name" to /dev/shm/name). */
const SHM_DIR = '/dev/shm';

export const CUDA_SHM_UNSUPPORTED =
  'CUDA shared memory is not supported by this server: register a system (POSIX) shared memory region instead (systemsharedmemory)';

export interface RegionStatus {
  name: string;
  key: string;
  offset: number;
  byte_size: number;
}

interface Region extends RegionStatus {
  fd: number;
}

/** A key as shm_open takes it: one leading slash at most, and no other slash. */
function pathOfKey(key: string): string | undefined {
  const bare = key.startsWith('/') ? key.slice(1) : key;
  if (!bare || bare.includes('/') || bare.includes('\0') || bare === '.' || bare === '..') return undefined;
  return join(SHM_DIR, bare);
}

function nonNegativeInteger(value: unknown, field: string, region: string): number {
  if (typeof value === 'bigint') value = Number(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) value = Number(value);
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidInputError(
      `failed to register shared memory region '${region}': '${field}' must be a non-negative integer, got ${JSON.stringify(value)}`,
    );
  }
  return value as number;
}

export class SystemSharedMemory {
  private readonly regions = new Map<string, Region>();

  register(name: string, key: unknown, offset: unknown, byteSize: unknown): void {
    if (!name) throw new InvalidInputError(`a shared memory region needs a non-empty name`);
    if (typeof key !== 'string') throw new InvalidInputError(`failed to register shared memory region '${name}': 'key' must be a string`);
    const start = nonNegativeInteger(offset ?? 0, 'offset', name);
    const size = nonNegativeInteger(byteSize, 'byte_size', name);
    if (this.regions.has(name)) throw new AlreadyExistsError(`shared memory region '${name}' already in manager`);
    const path = pathOfKey(key);
    let fd: number;
    try {
      if (!path) throw new Error('not a shared memory key');
      fd = openSync(path, 'r+');
    } catch {
      throw new InvalidInputError(`Unable to open shared memory region: '${key}'`);
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new InvalidInputError(`Unable to open shared memory region: '${key}'`);
      if (start + size > stat.size) {
        throw new InvalidInputError(
          `failed to register shared memory region '${name}': invalid args (offset ${start} + byte_size ${size} is past the ${stat.size} bytes of '${key}')`,
        );
      }
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.regions.set(name, { name, key, offset: start, byte_size: size, fd });
  }

  /** Unregisters one region, or all of them when `name` is empty; an unknown name is no error (as Triton). */
  unregister(name?: string): void {
    const names = name ? [name] : [...this.regions.keys()];
    for (const n of names) {
      const region = this.regions.get(n);
      if (!region) continue;
      this.regions.delete(n);
      closeSync(region.fd);
    }
  }

  status(name?: string): RegionStatus[] {
    const list = name ? [this.regions.get(name)] : [...this.regions.values()];
    if (name && !list[0]) throw new NotFoundError(`Unable to find system shared memory region: '${name}'`);
    return list.map((r) => ({ name: r!.name, key: r!.key, offset: r!.offset, byte_size: r!.byte_size }));
  }

  /** A copy of `byteSize` bytes at `offset` within the region, in a buffer of its own. */
  read(name: string, offset: number, byteSize: number): Uint8Array {
    const region = this.within(name, offset, byteSize);
    const bytes = new Uint8Array(byteSize);
    let done = 0;
    while (done < byteSize) {
      const n = readSync(region.fd, bytes, done, byteSize - done, region.offset + offset + done);
      if (n === 0) throw new ServingError('INTERNAL', `shared memory region '${name}' is shorter than it was when registered`);
      done += n;
    }
    return bytes;
  }

  write(name: string, offset: number, byteSize: number, chunks: readonly Uint8Array[]): void {
    const region = this.within(name, offset, byteSize);
    let position = region.offset + offset;
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.byteLength) done += writeSync(region.fd, chunk, done, chunk.byteLength - done, position + done);
      position += chunk.byteLength;
    }
  }

  close(): void {
    this.unregister();
  }

  /** The region, once `offset` and `byteSize` are known to lie inside it (Triton's messages). */
  private within(name: string, offset: number, byteSize: number): Region {
    const region = this.regions.get(name);
    if (!region) throw new NotFoundError(`Unable to find shared memory region: '${name}'`);
    if (offset > Math.max(0, region.byte_size - 1)) throw new InvalidInputError(`Invalid offset for shared memory region: '${name}'`);
    if (offset + byteSize > region.byte_size) throw new InvalidInputError(`Invalid offset + byte size for shared memory region: '${name}'`);
    return region;
  }
}
