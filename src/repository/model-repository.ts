/**
 * The models on disk under --model_dir: which names there are and, for one name, its config and
 * the version files to serve. It reads and never loads; src/registry/ decides what runs.
 */
import { join } from 'node:path';
import { ModelNotFoundError } from '../core/errors.js';
import { type ModelSource, readLayout, readModelFolder, readSingleFile } from './layout.js';
import { refuseOutsideLinks } from './symlink-policy.js';

export interface RepositoryLocation {
  modelDir: string;
  /** Name of the model when model_dir holds a single model file. */
  modelName: string;
  /** The runtime of models whose config.pbtxt names none (KServe's --framework); empty: by file. */
  framework?: string;
  /** Follow symbolic links that point outside modelDir (--allow_model_dir_symlinks). */
  allowSymlinks?: boolean;
}

export class ModelRepository {
  /** Set once discover() finds one model file (or Hugging Face folder) at the top of model_dir. */
  private singleFile?: string;

  constructor(private readonly location: RepositoryLocation) {}

  /** The names of the models in model_dir. */
  async discover(): Promise<string[]> {
    const layout = await readLayout(this.location.modelDir, this.location.framework);
    if (layout.kind === 'folders') return layout.names;
    this.singleFile = layout.file;
    return [this.location.modelName];
  }

  /** One model's config and versions; ModelNotFoundError (or ENOENT) when there is no such model. */
  async read(name: string): Promise<ModelSource> {
    const { modelDir, modelName, framework, allowSymlinks } = this.location;
    if (this.singleFile === undefined) {
      if (!allowSymlinks) await refuseOutsideLinks(modelDir, join(modelDir, name));
      return readModelFolder(name, join(modelDir, name), framework);
    }
    if (name !== modelName) throw new ModelNotFoundError(name);
    if (!allowSymlinks) await refuseOutsideLinks(modelDir, join(modelDir, this.singleFile));
    return readSingleFile(name, modelDir, this.singleFile, framework);
  }
}
