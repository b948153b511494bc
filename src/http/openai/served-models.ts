/**
 * The names the OpenAI routes know models by. vLLM's --served-model-name gives one model several
 * (KServe's LLMInferenceService template passes its name and `publishers/<ns>/models/<name>`):
 * every one of them answers, and /v1/models lists them all. Other models answer to their own name.
 */
import { isGenerative, type TextModelInfo } from '../../core/runtime.js';
import type { DataPlane } from '../../dataplane/data-plane.js';
import { textModelEntry } from './text-models.js';

/** OpenAI's model object, with vLLM's `root` (the model behind a served name) and `max_model_len` (generative models). */
export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  root: string;
  max_model_len?: number;
}

export class ServedModels {
  private readonly created = Math.floor(Date.now() / 1000);

  /** `servedNames` name the model that --model_name names; empty: every model its own name. */
  constructor(
    private readonly dataPlane: DataPlane,
    private readonly model: string,
    private readonly servedNames: readonly string[],
  ) {}

  /** The repository's name for the model a request's `model` field names. */
  canonical(name: string): string {
    return this.servedNames.includes(name) ? this.model : name;
  }

  /** The names /v1/models lists for a model. */
  namesOf(model: string): readonly string[] {
    return model === this.model && this.servedNames.length > 0 ? this.servedNames : [model];
  }

  /** The object for `id`, one of the names of the text model `text` describes. */
  modelObject(id: string, text?: TextModelInfo): ModelObject {
    const object: ModelObject = { id, object: 'model', created: this.created, owned_by: 'tsserve', root: this.canonical(id) };
    if (text && isGenerative(text.task)) object.max_model_len = text.maxModelLen;
    return object;
  }

  /** GET /v1/models: every name of every ready text model. */
  list(): { object: 'list'; data: ModelObject[] } {
    const data = this.dataPlane.textModels().flatMap((m) => this.namesOf(m.name).map((id) => this.modelObject(id, m.text)));
    return { object: 'list', data };
  }

  /** GET /v1/models/{name}: 404 for an unknown name, 503 while the model is not ready. */
  retrieve(name: string): ModelObject {
    return this.modelObject(name, textModelEntry(this.dataPlane, this.canonical(name)));
  }
}
