/**
 * What the server does, in protocol-neutral terms: health, metadata, config, statistics, the
 * repository extension and inference. The REST (v2 and V1), gRPC and OpenAI frontends are
 * codecs around it: they decode the wire into these calls and encode what comes back, so every
 * protocol gives the same answers and the same errors (MLServer's DataPlane is the model).
 */
import type { CancelSignal } from '../core/cancel.js';
import { InvalidInputError, ModelLoadError, ModelNotFoundError } from '../core/errors.js';
import { checkModelName } from '../core/model-name.js';
import { type ModelConfig, ModelConfigError, parseModelConfigJson } from '../model-config/model-config.js';
import { EXTENSIONS, SERVER_NAME } from '../core/extensions.js';
import type { InferRequest, InferResponse } from '../core/inference.js';
import type { ModelStats } from '../core/statistics.js';
import type { TensorSpec } from '../core/tensor.js';
import type { IndexEntry, LoadOutcome, ModelRegistry } from '../registry/model-registry.js';
import { SystemSharedMemory } from '../shm/system-shared-memory.js';
import type { ModelVersion } from '../registry/model-version.js';
import { type Readiness, notReadyError, serverReadiness, versionReadiness } from '../registry/readiness.js';
import {
  type EmbedResult,
  type GenerateChunk,
  type GenerateRequest,
  type GenerateResult,
  type TextModelInfo,
  isGenerative,
} from '../core/runtime.js';

export type { IndexEntry } from '../registry/model-registry.js';
export type { Readiness } from '../registry/readiness.js';

export interface DataPlaneOptions {
  registry: ModelRegistry;
  serverVersion: string;
  /** Triton's --strict-readiness: server ready only while every loaded model is ready. */
  strictReadiness: boolean;
  /** False while the initial models load and once shutdown has begun. */
  isStarted: () => boolean;
  /** Most prompts one generation request may carry (--max_prompts_per_request); 64 if unset. */
  maxPromptsPerRequest?: number;
}

/** Triton's load request overrides: a JSON model config, and model files by relative path. */
export interface LoadOptions {
  config?: object | string;
  files?: Map<string, Uint8Array>;
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: readonly string[];
}

export interface ModelDescription {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** A load request's JSON config, checked as config.pbtxt is; a bad one fails the load before anything changes. */
function overrideConfig(name: string, json: object | string): ModelConfig {
  try {
    return parseModelConfigJson(json);
  } catch (error) {
    if (error instanceof ModelConfigError) throw new ModelLoadError('INVALID_ARGUMENT', name, error.message);
    throw error;
  }
}

export const NAMED_REPOSITORY_ERROR = "'repository_name' specification is not supported";

export class DataPlane {
  private readonly registry: ModelRegistry;
  /** Shared-memory regions clients registered; inputs may be read from and outputs written to them. */
  readonly sharedMemory = new SystemSharedMemory();

  constructor(private readonly options: DataPlaneOptions) {
    this.registry = options.registry;
  }

  live(): boolean {
    return true;
  }

  ready(): Readiness {
    return serverReadiness(this.registry, { started: this.options.isStarted(), strict: this.options.strictReadiness });
  }

  /** Throws NOT_FOUND for an unknown model or version; a version not ready is an answer, not an error. */
  modelReady(name: string, version?: string): Readiness {
    checkModelName(name);
    return versionReadiness(this.registry.resolve(name, version));
  }

  serverMetadata(): ServerMetadata {
    return { name: SERVER_NAME, version: this.options.serverVersion, extensions: EXTENSIONS };
  }

  /** Names of the models asked to be loaded, ready or not. */
  modelNames(): string[] {
    return this.registry.names();
  }

  modelMetadata(name: string, version?: string): ModelDescription {
    const v = this.resolveReady(name, version);
    const { inputs, outputs } = v.specs();
    return { name, versions: [v.version], platform: v.metadata!.platform, inputs, outputs };
  }

  /** Inputs as requests are checked against (-1 for the batch dim); for decoders that need shapes. */
  inputSpecs(name: string, version?: string): TensorSpec[] {
    checkModelName(name);
    return this.registry.resolve(name, version).specs().inputs;
  }

  /** The model configuration extension's `inference.ModelConfig`, in its JSON form. */
  modelConfig(name: string, version?: string): Record<string, unknown> {
    return this.resolveReady(name, version).completedConfig!;
  }

  statistics(name?: string, version?: string): ModelStats[] {
    if (name !== undefined) checkModelName(name);
    return this.registry.statistics(name, version);
  }

  repositoryIndex(ready = false): IndexEntry[] {
    return this.registry.index().filter((e) => !ready || e.state === 'READY');
  }

  /**
   * (Re)loads a model from model_dir, as Triton's repository extension does: `config` (JSON)
   * replaces its config.pbtxt for this load, and `files` (with a config) replace its folder.
   * Throws Triton's "failed to load '<name>', ..." when it did not become ready; a model that
   * was serving keeps serving then.
   */
  async load(name: string, options: LoadOptions = {}): Promise<void> {
    checkModelName(name);
    const config = options.config === undefined ? undefined : overrideConfig(name, options.config);
    if (options.files?.size && !config) {
      throw new ModelLoadError(
        'INVALID_ARGUMENT',
        name,
        "load parameters 'file:<version>/<name>' need the 'config' parameter too (the files replace the model's folder, config.pbtxt included)",
      );
    }
    let outcome: LoadOutcome;
    try {
      outcome = await this.registry.load(name, { config, files: options.files });
    } catch (error) {
      if (error instanceof ModelNotFoundError)
        throw new ModelLoadError('NOT_FOUND', name, 'failed to poll from model repository: it holds no model folder of that name');
      throw error;
    }
    if (!outcome.ok) throw new ModelLoadError('INVALID_ARGUMENT', name, outcome.reason);
  }

  /** `options` is reserved for Triton's unload_dependents; nothing here has dependents. */
  async unload(name: string, _options: Record<string, unknown> = {}): Promise<void> {
    checkModelName(name);
    await this.registry.unload(name);
  }

  /** Runs one request; an aborted `signal` takes it out of its model's queue. */
  async infer(name: string, version: string | undefined, request: InferRequest, signal?: CancelSignal): Promise<InferResponse> {
    checkModelName(name);
    const task = this.registry.resolve(name, version).text?.task;
    if (task && isGenerative(task)) this.checkPromptCount(request.inputs[0]?.shape.reduce((n, d) => n * d, 1) ?? 0);
    return this.registry.infer(name, version, request, signal);
  }

  /**
   * Refuses a generation request of more prompts than --max_prompts_per_request: each prompt
   * holds a worker for a whole generation, so one request could otherwise occupy it for minutes.
   */
  checkPromptCount(count: number, what = 'prompts'): void {
    const limit = this.options.maxPromptsPerRequest ?? 64;
    if (limit > 0 && count > limit) {
      throw new InvalidInputError(
        `the request carries ${count} ${what}; at most ${limit} are allowed per request (--max_prompts_per_request)`,
      );
    }
  }

  embed(name: string, texts: string[], signal?: CancelSignal): Promise<EmbedResult> {
    return this.resolveReady(name).embed(texts, signal);
  }

  generate(name: string, request: GenerateRequest, onChunk: (chunk: GenerateChunk) => void, signal: CancelSignal): Promise<GenerateResult> {
    return this.resolveReady(name).generate(request, onChunk, signal);
  }

  /** What a ready model offers the text routes; undefined for a tensor model. */
  textModel(name: string): TextModelInfo | undefined {
    return this.resolveReady(name).text;
  }

  /** The ready models that take text, by name. */
  textModels(): { name: string; text: TextModelInfo }[] {
    const out: { name: string; text: TextModelInfo }[] = [];
    for (const name of this.registry.names()) {
      try {
        const text = this.textModel(name);
        if (text) out.push({ name, text });
      } catch {
        // a model with no version ready is not listed
      }
    }
    return out;
  }

  /** The version a request addresses; ModelNotFoundError, or ModelNotReadyError while it cannot serve. */
  resolveReady(name: string, version?: string): ModelVersion {
    checkModelName(name);
    const v = this.registry.resolve(name, version);
    if (v.state !== 'READY' || !v.metadata) throw notReadyError(v);
    return v;
  }
}
