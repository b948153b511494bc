/**
 * The memory this process may use: the container's cgroup limit (v2 `memory.max`, v1
 * `memory.limit_in_bytes`) when it has one, otherwise the machine's memory. Admission
 * (--max_inflight_bytes) defaults to a share of it, so a pod limited to 2 GiB is not sized
 * as if it had its node's memory.
 */
import { totalmem } from 'node:os';
import { readCgroupFile } from './cgroup-file.js';

/** Bytes allowed by the cgroup, or undefined when unlimited or not in a cgroup. */
export function cgroupMemoryLimit(root = '/sys/fs/cgroup'): number | undefined {
  const v2 = readCgroupFile(root, 'memory.max');
  if (v2 !== undefined) return /^\d+$/.test(v2) ? Number(v2) : undefined;
  const v1 = Number(readCgroupFile(root, 'memory', 'memory.limit_in_bytes'));
  // cgroup v1 writes "unlimited" as a number near 2^63.
  return Number.isFinite(v1) && v1 > 0 && v1 < 2 ** 60 ? v1 : undefined;
}

export function memoryLimit(root?: string): number {
  const limit = cgroupMemoryLimit(root);
  return limit === undefined ? totalmem() : Math.min(limit, totalmem());
}

/**
 * --max_inflight_bytes when given (non-zero), else a quarter of the memory limit: room for
 * the bodies in flight plus their decoded tensors, the workers' copies and the models.
 */
export function inflightBytesLimit(flag: number, root?: string): number {
  return flag > 0 ? flag : Math.floor(memoryLimit(root) / 4);
}
