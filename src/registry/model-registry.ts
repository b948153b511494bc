/**
 * The models this server serves: each name's versions, loaded into worker pools from what the
 * repository (src/repository/) finds on disk, loaded or unloaded at run time through the
 * repository extension, drained before they stop. Lookups (metadata, ready, infer) all
 * resolve a name and optional version here.
 */
import type { CancelSignal } from '../core/cancel.js';
import { ModelNotFoundError, ModelNotReadyError, UnavailableError } from '../core/errors.js';
import type { InferRequest, InferResponse } from '../core/inference.js';
import type { ModelStats } from '../core/statistics.js';
import type { Logger } from '../log.js';
import type { ModelObserver } from '../metrics/metrics.js';
import type { EngineView } from '../metrics/vllm-metrics.js';
import type { ModelSource } from '../repository/layout.js';
import { ModelRepository, type RepositoryLocation } from '../repository/model-repository.js';
import { removeUploadedModel, writeUploadedModel } from '../repository/uploaded-model.js';
import type { ModelConfig } from '../model-config/model-config.js';
import { type ModelState, ModelVersion } from './model-version.js';
import { type PlacementDefaults, versionSpec } from './placement.js';

export interface RegistryOptions extends RepositoryLocation, PlacementDefaults {
  /** Requests in flight across all models before new ones get 503; 0 is unbounded. */
  maxInflight: number;
  observer?: ModelObserver;
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
  /** The server's temporary folder holding files a client loaded this model from. */
  uploadedDir?: string;
}

/** Triton's load overrides: a config replacing config.pbtxt; model files (by relative path) replacing the repository's folder. */
export interface LoadOverride {
  config?: ModelConfig;
  files?: ReadonlyMap<string, Uint8Array>;
}

/** How a load ended: its versions serve, or why not (the versions serving before, if any, still do). */
export type LoadOutcome = { ok: true } | { ok: false; reason: string };

export class ModelRegistry {
  private readonly models = new Map<string, ModelEntry>();
  private readonly repository: ModelRepository;
  private inFlight = 0;

  constructor(private readonly options: RegistryOptions) {
    this.repository = new ModelRepository(options);
  }

  /** Discovers the models in model_dir and loads them all; load failures are kept, not thrown. */
  async loadAll(): Promise<void> {
    const names = await this.repository.discover();
    await Promise.all(names.map((name) => this.load(name)));
  }

  /** model_dir is one model rather than a repository (known once loadAll has run). */
  get servesOneModel(): boolean {
    return this.repository.servesOneModel;
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

  /**
   * Loads (or reloads) a model from model_dir, or as `override` says. A name model_dir holds no
   * folder for throws ModelNotFoundError and leaves no trace. A reload that fails keeps the
   * versions that were serving; a first load that fails stays listed as UNAVAILABLE with why.
   */
  async load(name: string, override: LoadOverride = {}): Promise<LoadOutcome> {
    const uploadedDir = override.files?.size ? await writeUploadedModel(override.files) : undefined;
    const entry = this.entry(name);
    return this.serialise(entry, async () => {
      try {
        return await this.loadNow(entry, override.config, uploadedDir);
      } finally {
        // Uploaded files a failed load did not take are not kept.
        if (uploadedDir && entry.uploadedDir !== uploadedDir) await removeUploadedModel(uploadedDir);
      }
    });
  }

  private async loadNow(entry: ModelEntry, config: ModelConfig | undefined, uploadedDir: string | undefined): Promise<LoadOutcome> {
    const name = entry.name;
    let source: ModelSource;
    try {
      source =
        uploadedDir && config ? await this.repository.readUploaded(name, uploadedDir, config) : await this.repository.read(name, config);
    } catch (error) {
      if (error instanceof ModelNotFoundError) {
        if (!entry.versions.length && !entry.wanted) this.models.delete(name);
        throw error;
      }
      return this.failed(entry, error instanceof Error ? error.message : String(error));
    }
    entry.wanted = true;
    let next: ModelVersion[];
    try {
      const specs = source.versions.map((v) => ({
        ...versionSpec(source.config, v, this.options),
        onInlineDemoted: (runUs: number) =>
          this.options.logger.warn(
            { model: name, version: v.version, run_us: Math.round(runUs) },
            'an inline run held the serving thread over 100 ms; this version now runs only in its workers',
          ),
      }));
      next = source.versions.map((v) => new ModelVersion(name, v.version, source.config, this.options.observer));
      await Promise.all(next.map((v, i) => v.load(specs[i]!)));
    } catch (error) {
      return this.failed(entry, error instanceof Error ? error.message : String(error));
    }
    const failed = next.find((v) => v.state !== 'READY');
    if (failed && entry.versions.some((v) => v.state === 'READY')) {
      // Triton keeps serving what was loaded when a reload fails.
      await Promise.all(next.map((v) => v.unload()));
      this.options.logger.error(
        { model: name, version: failed.version, err: failed.reason },
        'model failed to reload; the loaded versions keep serving',
      );
      return { ok: false, reason: `version ${failed.version} is at UNAVAILABLE state: ${failed.reason}` };
    }
    const previous = entry.versions;
    entry.versions = next;
    entry.reason = '';
    await Promise.all(previous.map((v) => v.unload()));
    await this.replaceUploadedDir(entry, uploadedDir);
    for (const v of next) {
      if (v.state === 'READY') this.options.logger.info({ model: name, version: v.version, ...v.placementLog() }, 'model loaded');
      else this.options.logger.error({ model: name, version: v.version, err: v.reason }, 'model failed to load');
    }
    return failed ? { ok: false, reason: `version ${failed.version} is at UNAVAILABLE state: ${failed.reason}` } : { ok: true };
  }

  /** A load that could not start (bad config or layout): a model not serving yet shows why. */
  private async failed(entry: ModelEntry, reason: string): Promise<LoadOutcome> {
    this.options.logger.error({ model: entry.name, err: reason }, 'model failed to load');
    if (!entry.versions.some((v) => v.state === 'READY')) {
      const stale = entry.versions;
      entry.versions = [];
      entry.wanted = true;
      entry.reason = reason;
      await Promise.all(stale.map((v) => v.unload()));
    }
    return { ok: false, reason };
  }

  /** The uploaded folder the model now loads from (if any) replaces the one before, which is removed. */
  private async replaceUploadedDir(entry: ModelEntry, dir: string | undefined): Promise<void> {
    const old = entry.uploadedDir;
    entry.uploadedDir = dir;
    if (old && old !== dir) await removeUploadedModel(old);
  }

  async unload(name: string): Promise<void> {
    const entry = this.models.get(name);
    if (!entry) throw new ModelNotFoundError(name);
    entry.wanted = false;
    await this.serialise(entry, async () => {
      await this.unloadVersions(entry);
      await this.replaceUploadedDir(entry, undefined);
    });
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

  /** Each loaded generative version's engines, for vLLM's gauges. */
  *engines(): Iterable<EngineView> {
    for (const entry of this.models.values()) {
      for (const v of entry.versions) {
        const engine = v.engine;
        if (engine) yield { model: entry.name, ...engine };
      }
    }
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
  async infer(name: string, versionName: string | undefined, request: InferRequest, signal?: CancelSignal): Promise<InferResponse> {
    const version = this.resolve(name, versionName);
    const limit = this.options.maxInflight;
    if (limit > 0 && this.inFlight >= limit) {
      throw new UnavailableError(`server is at its limit of ${limit} requests in flight (--max_inflight_requests); retry later`);
    }
    this.inFlight++;
    try {
      return await version.infer(request, signal);
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.models.values()].map((e) =>
        this.serialise(e, async () => {
          await this.unloadVersions(e);
          await this.replaceUploadedDir(e, undefined);
        }),
      ),
    );
  }

  private entry(name: string): ModelEntry {
    let entry = this.models.get(name);
    if (!entry) {
      entry = { name, versions: [], wanted: false, reason: '', busy: Promise.resolve() };
      this.models.set(name, entry);
    }
    return entry;
  }

  private async unloadVersions(entry: ModelEntry): Promise<void> {
    const versions = entry.versions;
    await Promise.all(versions.map((v) => v.unload()));
  }

  private serialise<T>(entry: ModelEntry, task: () => Promise<T>): Promise<T> {
    const run = entry.busy.then(task);
    entry.busy = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
