/**
 * The models this server knows: discovered in --model_dir, loaded into worker pools, and
 * loaded or unloaded at run time through the repository extension. Lookups that frontends
 * make (metadata, ready, infer) all resolve a name and optional version here.
 */
import { join } from 'node:path';
import { ModelNotFoundError, ModelNotReadyError, UnavailableError } from '../core/errors.js';
import type { InferRequest, InferResponse } from '../core/inference.js';
import type { ModelStats } from '../core/statistics.js';
import type { Logger } from '../log.js';
import type { ProviderDecision } from '../config/execution-provider.js';
import type { ModelObserver } from '../metrics/metrics.js';
import { type ModelConfig, ModelConfigError } from './model-config.js';
import { type ModelSource, readLayout, readModelFolder, readSingleFile } from './layout.js';
import { type ModelState, ModelVersion } from './model-version.js';

export interface RepositoryOptions {
  modelDir: string;
  /** Name of the model when model_dir holds a single model file. */
  modelName: string;
  /** Worker threads per model version unless its config.pbtxt sets instance_group. */
  instances: number;
  /** When set, the instance count for a version's model file instead of `instances` (see src/config/instance-sizing.ts). */
  instancesFor?: (modelFile: string) => number;
  /** Threads per inference when the model's config does not say; 0 means share the CPUs out. */
  intraOpThreads: number;
  interOpThreads: number;
  cpus: number;
  /** The runtime of models whose config.pbtxt names none (KServe's --framework); empty: by file. */
  framework?: string;
  /** Requests in flight across all models before new ones get 503; 0 is unbounded. */
  maxInflight: number;
  /** JavaScript heap limit per worker thread in MiB; 0 is V8's default. */
  workerMaxHeapMb: number;
  observer?: ModelObserver;
  /** The provider the server resolved (--execution_provider), and why. */
  provider: ProviderDecision;
  /** Runtime settings from the server's flags; a model's config.pbtxt parameters override them. */
  runtimeParameters: Record<string, string>;
  logger: Logger;
}

export interface IndexEntry {
  name: string;
  version?: string;
  state: ModelState | 'UNLOADED';
  reason: string;
}

interface ModelEntry {
  name: string;
  versions: ModelVersion[];
  /** Set when the model was asked to be loaded; strict readiness counts only these. */
  wanted: boolean;
  /** Why the folder could not be read, when it could not. */
  reason: string;
  /** Serialises load and unload of this model. */
  busy: Promise<void>;
}

export class ModelRepository {
  private readonly models = new Map<string, ModelEntry>();
  private singleFile?: string;
  private inFlight = 0;

  constructor(private readonly options: RepositoryOptions) {}

  /** Discovers the models in model_dir and loads them all; load failures are kept, not thrown. */
  async loadAll(): Promise<void> {
    const layout = await readLayout(this.options.modelDir, this.options.framework);
    const names = layout.kind === 'single' ? [this.options.modelName] : layout.names;
    if (layout.kind === 'single') this.singleFile = layout.file;
    await Promise.all(names.map((name) => this.load(name)));
  }

  names(): string[] {
    return [...this.models.keys()].filter((n) => this.models.get(n)!.wanted).sort();
  }

  index(): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const entry of [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.versions.length) out.push({ name: entry.name, state: entry.wanted ? 'UNAVAILABLE' : 'UNLOADED', reason: entry.reason });
      for (const v of entry.versions) out.push({ name: entry.name, version: v.version, state: v.state, reason: v.reason });
    }
    return out;
  }

  /** True when every model asked to be loaded has all its versions ready. */
  allReady(): boolean {
    for (const entry of this.models.values()) {
      if (!entry.wanted) continue;
      if (!entry.versions.length || entry.versions.some((v) => v.state !== 'READY')) return false;
    }
    return true;
  }

  /** Loads (or reloads) a model from model_dir; resolves when done, whatever the outcome. */
  async load(name: string): Promise<void> {
    const entry = this.entry(name);
    entry.wanted = true;
    return this.serialise(entry, async () => {
      let source: ModelSource;
      let specs: ReturnType<ModelRepository['poolSpec']>[];
      try {
        source = await this.readSource(name);
        specs = source.versions.map((_, i) => this.poolSpec(source, i));
        entry.reason = '';
      } catch (error) {
        if (error instanceof ModelNotFoundError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
          if (!entry.versions.length) this.models.delete(name);
          throw new ModelNotFoundError(name);
        }
        entry.reason = error instanceof Error ? error.message : String(error);
        this.options.logger.error({ model: name, err: entry.reason }, 'model failed to load');
        await this.unloadVersions(entry);
        return;
      }
      const previous = entry.versions;
      const next = source.versions.map((v) => new ModelVersion(name, v.version, source.config, this.options.observer));
      await Promise.all(next.map((v, i) => v.load(specs[i]!)));
      entry.versions = next;
      await Promise.all(previous.map((v) => v.unload()));
      for (const v of next) {
        if (v.state === 'READY') this.options.logger.info({ model: name, version: v.version }, 'model loaded');
        else this.options.logger.error({ model: name, version: v.version, err: v.reason }, 'model failed to load');
      }
    });
  }

  async unload(name: string): Promise<void> {
    const entry = this.models.get(name);
    if (!entry) throw new ModelNotFoundError(name);
    entry.wanted = false;
    await this.serialise(entry, () => this.unloadVersions(entry));
    this.options.logger.info({ model: name }, 'model unloaded');
  }

  /** The version a request addresses: the named one, or the highest ready one. */
  resolve(name: string, version?: string): ModelVersion {
    const entry = this.models.get(name);
    if (!entry) throw new ModelNotFoundError(name);
    if (version !== undefined && version !== '') {
      const v = entry.versions.find((x) => x.version === version);
      if (!v) throw new ModelNotFoundError(name, version);
      return v;
    }
    const ready = entry.versions.filter((v) => v.state === 'READY');
    const chosen = ready.at(-1) ?? entry.versions.at(-1);
    if (!chosen) throw new ModelNotReadyError(name, entry.reason || (entry.wanted ? 'no version loaded' : 'unloaded'));
    return chosen;
  }

  /** Requests waiting in each model's batcher, for the queue-depth gauge. */
  *queueDepths(): Iterable<[string, number]> {
    for (const entry of this.models.values()) yield [entry.name, entry.versions.reduce((n, v) => n + v.queueLength, 0)];
  }

  /** Statistics of every loaded version, of one model's versions, or of one version. */
  statistics(name?: string, version?: string): ModelStats[] {
    if (name === undefined) {
      return [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name)).flatMap((e) => e.versions.map((v) => v.stats()));
    }
    const entry = this.models.get(name);
    if (!entry) throw new ModelNotFoundError(name);
    if (version === undefined || version === '') return entry.versions.map((v) => v.stats());
    return [this.resolve(name, version).stats()];
  }

  /** Runs a request; beyond the in-flight limit it fails fast rather than queueing memory. */
  async infer(request: InferRequest): Promise<InferResponse> {
    const version = this.resolve(request.model, request.version);
    const limit = this.options.maxInflight;
    if (limit > 0 && this.inFlight >= limit) {
      throw new UnavailableError(`server is at its limit of ${limit} requests in flight (--max_inflight_requests); retry later`);
    }
    this.inFlight++;
    try {
      return await version.infer(request);
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((e) => this.serialise(e, () => this.unloadVersions(e))));
  }

  private entry(name: string): ModelEntry {
    if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') throw new ModelNotFoundError(name);
    let entry = this.models.get(name);
    if (!entry) {
      entry = { name, versions: [], wanted: false, reason: '', busy: Promise.resolve() };
      this.models.set(name, entry);
    }
    return entry;
  }

  private async readSource(name: string): Promise<ModelSource> {
    if (this.singleFile !== undefined) {
      if (name !== this.options.modelName) {
        throw new ModelNotFoundError(name);
      }
      return readSingleFile(name, this.options.modelDir, this.singleFile, this.options.framework);
    }
    return readModelFolder(name, join(this.options.modelDir, name), this.options.framework);
  }

  /** Where a model runs: its instance_group kind, else the server's provider. */
  private placement(config: ModelConfig): { executionProvider: 'cpu' | 'cuda'; deviceId: number } {
    const device = config.device;
    if (device?.kind === 'cpu') return { executionProvider: 'cpu', deviceId: 0 };
    if (device?.kind === 'gpu') {
      if (this.options.provider.provider !== 'cuda') throw new ModelConfigError(`instance_group asks for KIND_GPU, but the server runs on the CPU (${this.options.provider.reason})`);
      return { executionProvider: 'cuda', deviceId: device.deviceId };
    }
    return { executionProvider: this.options.provider.provider, deviceId: 0 };
  }

  private poolSpec(source: ModelSource, index: number) {
    const { config } = source;
    const v = source.versions[index]!;
    const placement = this.placement(config);
    const instances = config.instanceCount ?? this.options.instancesFor?.(v.file) ?? this.options.instances;
    const intra = config.intraOpThreads ?? (this.options.intraOpThreads || Math.max(1, Math.floor(this.options.cpus / instances)));
    return {
      runtime: v.runtime,
      modelPath: v.file,
      instances,
      maxHeapMb: this.options.workerMaxHeapMb,
      options: {
        intraOpThreads: intra,
        interOpThreads: config.interOpThreads ?? this.options.interOpThreads,
        ...placement,
        parameters: { ...this.options.runtimeParameters, ...config.parameters },
      },
    };
  }

  private async unloadVersions(entry: ModelEntry): Promise<void> {
    const versions = entry.versions;
    await Promise.all(versions.map((v) => v.unload()));
  }

  private serialise<T>(entry: ModelEntry, task: () => Promise<T>): Promise<T> {
    const run = entry.busy.then(task);
    entry.busy = run.then(() => undefined, () => undefined);
    return run;
  }
}
