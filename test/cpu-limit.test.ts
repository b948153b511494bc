/** Thread sizing reads the container's CPU quota (cgroup v2 and v1), not only the host's cores. */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { cgroupCpuQuota, cpuLimit } from '../src/config/cpu-limit.js';
import { tempRepo } from './helpers/model-dir.js';

describe('CPU limit', () => {
  it('reads a cgroup v2 cpu.max quota', async () => {
    const root = await tempRepo();
    await root.write('cpu.max', '150000 100000\n');
    assert.equal(cgroupCpuQuota(root.dir), 1.5);
    assert.equal(cpuLimit(root.dir), 1);
    await root.write('cpu.max', 'max 100000\n');
    assert.equal(cgroupCpuQuota(root.dir), undefined);
    assert.equal(cpuLimit(root.dir), availableParallelism());
    await root.remove();
  });

  it('reads a cgroup v1 CFS quota', async () => {
    const root = await tempRepo();
    await root.write('cpu,cpuacct/cpu.cfs_quota_us', '100000');
    await root.write('cpu,cpuacct/cpu.cfs_period_us', '100000');
    assert.equal(cgroupCpuQuota(root.dir), 1);
    await root.write('cpu,cpuacct/cpu.cfs_quota_us', '-1');
    assert.equal(cgroupCpuQuota(root.dir), undefined);
    await root.remove();
  });

  it('never exceeds the cores the OS offers', async () => {
    const root = await tempRepo();
    await root.write('cpu.max', `${(availableParallelism() + 8) * 100000} 100000`);
    assert.equal(cpuLimit(root.dir), availableParallelism());
    await root.remove();
  });
});
