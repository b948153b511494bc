/** Finds the model an OpenAI request names, and checks it can do what the route asks. */
import { ModelNotFoundError } from '../../core/errors.js';
import { InvalidModelNameError } from '../../core/model-name.js';
import type { DataPlane } from '../../dataplane/data-plane.js';
import type { SamplingDefaults, TextModelInfo, TextTask } from '../../core/runtime.js';
import { OpenAIParamError } from './openai-errors.js';

/** What a ready model offers the text routes, if anything; 404 in OpenAI's words when there is no such model. */
export function textModelEntry(dataPlane: DataPlane, name: string): TextModelInfo | undefined {
  try {
    return dataPlane.textModel(name);
  } catch (error) {
    // OpenAI clients name models freely ("publishers/x/models/y"): a name no model can have is one that does not exist.
    if (error instanceof ModelNotFoundError || error instanceof InvalidModelNameError) throw new OpenAIModelNotFound(name);
    throw error;
  }
}

export function textModel(dataPlane: DataPlane, name: string, tasks: readonly TextTask[], route: string): TextModelInfo {
  const text = textModelEntry(dataPlane, name);
  if (!text) throw new OpenAIParamError('model', `model '${name}' is not a text model, so it cannot serve ${route}`);
  if (!tasks.includes(text.task))
    throw new OpenAIParamError('model', `model '${name}' serves ${text.task}; ${route} needs a ${tasks.join(' or ')} model`);
  return text;
}

/**
 * The sampling defaults of the model a request body names, read before the body is checked, so
 * that its absent fields take them; none when it names no ready text model (the route then says
 * what is wrong, after the body's own errors, as before).
 */
export function samplingDefaultsFor(dataPlane: DataPlane, name: string): SamplingDefaults {
  try {
    return dataPlane.textModel(name)?.samplingDefaults ?? {};
  } catch {
    return {};
  }
}

class OpenAIModelNotFound extends ModelNotFoundError {
  constructor(name: string) {
    super(name);
    this.message = `The model '${name}' does not exist.`;
  }
}
