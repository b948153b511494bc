/**
 * The models this server knows: discovered in --model_dir, loaded into worker pools, and
 * loaded or unloaded at run time through the repository extension. Lookups that frontends
 * make (metadata, ready, infer) all resolve a name and optional version here.
 */
import { join } from 'node:path';
import { ModelNotFoundError, ModelNotReadyError } from '../core/errors.js';
import type { InferRequest, InferResponse } from '../core/inference.js';
import type { Logger } from '../log.js';
import { type ModelSource, readLayout, readModelFolder, readSingleFile } from './layout.js';
import { type ModelState, ModelVersion } from './model-version.js';

export interface RepositoryOptions {
  modelDir: string;
  /** Name of the model when model_dir holds a single model file. */
  modelName: string;
  /** Worker threads per model version unless its config.pbtxt sets instance_group. */
  instances: number;
  /** Threads per inference when the model's config does not say; 0 means share the CPUs out. */
  intraOpThreads: number;
  interOpThreads: number;
  cpus: number;
  /** The runtime of models whose config.pbtxt names none (KServe's --framework); empty: by file. */
  framework?: string;
  /** Model parameters every model gets unless its config.pbtxt sets them (e.g. predict_proba). */
  defaultParameters?: Record<string, string>;
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
      try {
        source = await this.readSource(name);
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
      const next = source.versions.map((v) => new ModelVersion(name, v.version, source.config));
      await Promise.all(next.map((v, i) => v.load(this.poolSpec(source, i))));
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

  infer(request: InferRequest): Promise<InferResponse> {
    return this.resolve(request.model, request.version).infer(request);
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

  private poolSpec(source: ModelSource, index: number) {
    const { config } = source;
    const v = source.versions[index]!;
    const instances = config.instanceCount ?? this.options.instances;
    const intra = config.intraOpThreads ?? (this.options.intraOpThreads || Math.max(1, Math.floor(this.options.cpus / instances)));
    return {
      runtime: v.runtime,
      modelPath: v.file,
      instances,
      options: {
        intraOpThreads: intra,
        interOpThreads: config.interOpThreads ?? this.options.interOpThreads,
        parameters: { ...this.options.defaultParameters, ...config.parameters },
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
