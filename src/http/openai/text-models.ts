/** Finds the model an OpenAI request names, and checks it can do what the route asks. */
import { ModelNotFoundError, ModelNotReadyError } from '../../core/errors.js';
import type { ModelRepository } from '../../repository/model-repository.js';
import type { ModelVersion } from '../../repository/model-version.js';
import type { TextTask } from '../../core/runtime.js';
import { OpenAIParamError } from './openai-errors.js';

/** The model version `name` resolves to; 404 in OpenAI's words when there is none or it takes no text. */
export function textModelEntry(repository: ModelRepository, name: string): ModelVersion {
  let v: ModelVersion;
  try {
    v = repository.resolve(name);
  } catch (error) {
    if (error instanceof ModelNotFoundError) throw new OpenAIModelNotFound(name);
    throw error;
  }
  return v;
}

export function textModel(repository: ModelRepository, name: string, tasks: readonly TextTask[], route: string): ModelVersion {
  const v = textModelEntry(repository, name);
  if (v.state !== 'READY') throw new ModelNotReadyError(name, v.reason || v.state.toLowerCase());
  const text = v.text;
  if (!text) throw new OpenAIParamError('model', `model '${name}' is not a text model, so it cannot serve ${route}`);
  if (!tasks.includes(text.task)) throw new OpenAIParamError('model', `model '${name}' serves ${text.task}; ${route} needs a ${tasks.join(' or ')} model`);
  return v;
}

class OpenAIModelNotFound extends ModelNotFoundError {
  constructor(name: string) {
    super(name);
    this.message = `The model '${name}' does not exist.`;
  }
}

/** Every ready model that takes text, as GET /v1/models lists them. */
export function readyTextModels(repository: ModelRepository): { name: string; version: ModelVersion }[] {
  const out: { name: string; version: ModelVersion }[] = [];
  for (const name of repository.names()) {
    try {
      const version = repository.resolve(name);
      if (version.state === 'READY' && version.text) out.push({ name, version });
    } catch {
      // a model with no version loaded is not listed
    }
  }
  return out;
}

