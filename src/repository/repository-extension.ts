/** The model repository extension (index, load, unload) as both frontends serve it. */
import { ModelNotReadyError, NotImplementedError } from '../core/errors.js';
import type { IndexEntry, ModelRepository } from './model-repository.js';

export const NAMED_REPOSITORY_ERROR = "'repository_name' specification is not supported";

export function repositoryIndex(repository: ModelRepository, readyOnly: boolean): IndexEntry[] {
  return repository.index().filter((e) => !readyOnly || e.state === 'READY');
}

/**
 * (Re)loads a model from model_dir. `parameterNames` are the load request's parameters:
 * Triton's `config` and `file:<path>` overrides are refused, as load always reads model_dir.
 */
export async function loadModel(repository: ModelRepository, name: string, parameterNames: readonly string[]): Promise<void> {
  const overrides = parameterNames.filter((k) => k === 'config' || k.startsWith('file:'));
  if (overrides.length) throw new NotImplementedError(`load parameters ${overrides.join(', ')} are not supported; load reads the model from model_dir`);
  await repository.load(name);
  const v = repository.resolve(name);
  if (v.state !== 'READY') throw new ModelNotReadyError(name, v.reason);
}
