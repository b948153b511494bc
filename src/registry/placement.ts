/**
 * Where and how wide a model version runs: its device (config.pbtxt's instance_group kind, else
 * the server's execution provider), its instance count and its threads per run.
 */
import type { ProviderDecision } from '../core/runtime.js';
import type { Placement } from '../model-config/complete-config.js';
import { type ModelConfig, ModelConfigError } from '../model-config/model-config.js';
import type { WorkerRuntime } from '../core/runtime.js';
import type { VersionSource } from '../repository/layout.js';
import type { VersionSpec } from './model-version.js';

export interface PlacementDefaults {
  /** Worker threads per model version unless its config.pbtxt sets instance_group. */
  instances: number;
  /** When set, the instance count for a version's model file instead of `instances` (src/config/instance-sizing.ts). */
  instancesFor?: (modelFile: string) => number;
  /** Threads per inference when the model's config does not say; 0 means share the CPUs out. */
  intraOpThreads: number;
  interOpThreads: number;
  cpus: number;
  /** JavaScript heap limit per worker thread in MiB; 0 is V8's default. */
  workerMaxHeapMb: number;
  /** Runs a CPU model on the serving thread when calibration shows runs of at most this many us (0: never). */
  inlineMaxUs: number;
  /** The provider the server resolved (--execution_provider), and why. */
  provider: ProviderDecision;
  /** Runtime settings from the server's flags; a model's config.pbtxt parameters override them. */
  runtimeParameters: Record<string, string>;
  /** The module a worker imports to run the runtime `name` (the composition root knows them). */
  workerRuntime: (name: string) => WorkerRuntime;
}

/** The model's instance_group kind, else the server's provider; KIND_GPU on a CPU server is refused. */
export function placement(config: ModelConfig, provider: ProviderDecision): Placement {
  const device = config.device;
  if (device?.kind === 'cpu') return { executionProvider: 'cpu', deviceId: 0 };
  if (device?.kind === 'gpu') {
    if (provider.provider !== 'cuda')
      throw new ModelConfigError(`instance_group asks for KIND_GPU, but the server runs on the CPU (${provider.reason})`);
    return { executionProvider: 'cuda', deviceId: device.deviceId };
  }
  return { executionProvider: provider.provider, deviceId: 0 };
}

export function versionSpec(config: ModelConfig, version: VersionSource, defaults: PlacementDefaults): VersionSpec {
  // An instance count the user chose (config.pbtxt, --workers) holds whether or not the model runs inline.
  const chosen = config.instanceCount ?? (defaults.instancesFor ? undefined : defaults.instances);
  const instances = chosen ?? defaults.instancesFor?.(version.file) ?? defaults.instances;
  const threads = (n: number) => config.intraOpThreads ?? (defaults.intraOpThreads || Math.max(1, Math.floor(defaults.cpus / n)));
  return {
    runtime: version.runtime,
    ...defaults.workerRuntime(version.runtime),
    modelPath: version.file,
    instances,
    maxHeapMb: defaults.workerMaxHeapMb,
    inline: { maxUs: defaults.inlineMaxUs, instances: chosen ?? 1, intraOpThreads: threads(chosen ?? 1) },
    options: {
      intraOpThreads: threads(instances),
      interOpThreads: config.interOpThreads ?? defaults.interOpThreads,
      ...placement(config, defaults.provider),
      parameters: { ...defaults.runtimeParameters, ...config.parameters },
    },
  };
}
