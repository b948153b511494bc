/**
 * How many CPUs this process may really use: the container's cgroup quota when it has one
 * (v2 `cpu.max`, v1 `cpu.cfs_quota_us`), otherwise what the OS reports. Sizing thread pools
 * from os.availableParallelism() alone oversubscribes a pod limited to fewer cores than its node.
 */
import { availableParallelism } from 'node:os';
import { readCgroupFile } from './cgroup-file.js';

/** CPUs allowed by the cgroup quota, or undefined when none is set. */
export function cgroupCpuQuota(root = '/sys/fs/cgroup'): number | undefined {
  const v2 = readCgroupFile(root, 'cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    if (quota === 'max' || !quota || !period) return undefined;
    return Number(quota) / Number(period);
  }
  for (const dir of ['cpu,cpuacct', 'cpu']) {
    const quota = Number(readCgroupFile(root, dir, 'cpu.cfs_quota_us'));
    const period = Number(readCgroupFile(root, dir, 'cpu.cfs_period_us'));
    if (quota > 0 && period > 0) return quota / period;
  }
  return undefined;
}

/** Whole CPUs available to this process: at least 1. */
export function cpuLimit(root?: string): number {
  const cpus = availableParallelism();
  const quota = cgroupCpuQuota(root);
  if (quota === undefined || !Number.isFinite(quota)) return cpus;
  return Math.max(1, Math.min(cpus, Math.floor(quota)));
}
