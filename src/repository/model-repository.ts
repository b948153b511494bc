/**
 * The models on disk under --model_dir: which names there are and, for one name, its config and
 * the version files to serve. It reads and never loads; src/registry/ decides what runs.
 * --model_dir may also name one model file, or one model's folder, served as a repository of one.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ModelNotFoundError } from '../core/errors.js';
import type { RuntimeCatalogue } from '../core/runtime-catalogue.js';
import type { ModelConfig } from '../model-config/model-config.js';
import { type ModelSource, readLayout, readModelFolder, readSingleFile } from './layout.js';
import { refuseOutsideLinks } from './symlink-policy.js';

export interface RepositoryLocation {
  modelDir: string;
  /** Name of the model when model_dir holds a single model file. */
  modelName: string;
  /** The runtime of models whose config.pbtxt names none (KServe's --framework); empty: by file. */
  framework?: string;
  /** The runtimes the server was composed with (src/app.ts), to recognise model files. */
  runtimes: RuntimeCatalogue;
  /** Follow symbolic links that point outside modelDir (--allow_model_dir_symlinks). */
  allowSymlinks?: boolean;
}

/** What discover() found: model folders under model_dir, or one model served alone. */
type Found = { kind: 'folders' } | { kind: 'file'; name: string; dir: string; file: string } | { kind: 'model'; name: string; dir: string };

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

export class ModelRepository {
  private found: Found = { kind: 'folders' };

  constructor(private readonly location: RepositoryLocation) {}

  /** The names of the models in model_dir. */
  async discover(): Promise<string[]> {
    const { modelDir, modelName } = this.location;
    if (await isFile(modelDir)) {
      // KServe's single-file form: --model_dir=/mnt/models/model.onnx, served as --model_name.
      this.found = { kind: 'file', name: modelName, dir: dirname(modelDir), file: basename(modelDir) };
      return [modelName];
    }
    const layout = await readLayout(modelDir, this.location);
    if (layout.kind === 'folders') return layout.names;
    this.found =
      layout.kind === 'single'
        ? { kind: 'file', name: modelName, dir: modelDir, file: layout.file }
        : { kind: 'model', name: basename(resolve(modelDir)), dir: modelDir };
    return [this.found.name];
  }

  /** True when model_dir is one model (a file, or one model's folder) rather than a repository of folders. */
  get servesOneModel(): boolean {
    return this.found.kind !== 'folders';
  }

  /**
   * One model's config (or `config`, replacing its config.pbtxt) and versions. ModelNotFoundError
   * when model_dir holds no model folder of that name: a file, a hidden folder, nothing.
   */
  async read(name: string, config?: ModelConfig): Promise<ModelSource> {
    const { modelDir, allowSymlinks } = this.location;
    const found = this.found;
    if (found.kind === 'file') {
      if (name !== found.name) throw new ModelNotFoundError(name);
      if (!allowSymlinks) await refuseOutsideLinks(found.dir, join(found.dir, found.file));
      return readSingleFile(name, found.dir, found.file, this.location, config);
    }
    if (found.kind === 'model') {
      if (name !== found.name) throw new ModelNotFoundError(name);
      if (!allowSymlinks) await refuseOutsideLinks(found.dir, found.dir);
      return readModelFolder(name, found.dir, this.location, config);
    }
    const dir = join(modelDir, name);
    if (name.startsWith('.') || !(await isDirectory(dir))) throw new ModelNotFoundError(name);
    if (!allowSymlinks) await refuseOutsideLinks(modelDir, dir);
    return readModelFolder(name, dir, this.location, config);
  }

  /** A model a client sent as files (Triton's `file:` load parameters), from the folder they were written to. */
  readUploaded(name: string, dir: string, config: ModelConfig): Promise<ModelSource> {
    return readModelFolder(name, dir, this.location, config);
  }
}
