/**
 * Which onnxruntime execution provider serves the models: the CPU, or CUDA when onnxruntime-node
 * was installed with its CUDA libraries (`ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js` in its folder) and an NVIDIA GPU
 * is visible. `auto` takes CUDA when both are there; an explicit `cuda` without them is a
 * startup error, so a misbuilt GPU image fails loudly instead of quietly running on the CPU.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ProviderDecision } from '../../src/core/runtime.js';

export type ProviderChoice = 'cpu' | 'cuda' | 'auto';
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['cpu', 'cuda', 'auto'];

export interface CudaProbe {
  /** The onnxruntime CUDA provider library, if installed. */
  providerLibrary?: string;
  /** Whether a GPU device node is visible (/dev/nvidia0 ...). */
  gpuVisible: boolean;
}

export class ExecutionProviderError extends Error {
  override name = 'ExecutionProviderError';
}

/** Looks for the CUDA provider library next to onnxruntime-node's binding, and for a GPU. */
export function probeCuda(devDir = '/dev'): CudaProbe {
  let providerLibrary: string | undefined;
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const binRoot = join(pkg, 'bin');
    for (const napi of readdirSync(binRoot)) {
      const candidate = join(binRoot, napi, process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
      if (existsSync(candidate)) providerLibrary = candidate;
    }
  } catch {
    // no onnxruntime-node bin folder: no CUDA
  }
  let gpuVisible = false;
  try {
    gpuVisible = readdirSync(devDir).some((d) => /^nvidia\d+$/.test(d));
  } catch {
    gpuVisible = false;
  }
  return { providerLibrary, gpuVisible };
}

export function chooseProvider(choice: ProviderChoice, probe: CudaProbe): ProviderDecision {
  const missing = !probe.providerLibrary
    ? 'onnxruntime-node was installed without its CUDA libraries (install them: cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js)'
    : !probe.gpuVisible
      ? 'no NVIDIA GPU is visible (no /dev/nvidia* device; is the NVIDIA container runtime in use?)'
      : undefined;
  if (choice === 'cpu') return { provider: 'cpu', reason: '--execution_provider cpu' };
  if (choice === 'cuda') {
    if (missing) throw new ExecutionProviderError(`--execution_provider cuda, but ${missing}`);
    return { provider: 'cuda', reason: '--execution_provider cuda' };
  }
  if (missing) return { provider: 'cpu', reason: `auto: using the CPU because ${missing}` };
  return { provider: 'cuda', reason: `auto: CUDA provider at ${probe.providerLibrary} and a GPU are present` };
}
