/**
 * Server flags that are runtime settings, as the free-form parameters every runtime receives.
 * Only flags set away from their defaults are passed, so a runtime can tell "not given" (infer
 * it from the model) from a value; a model's config.pbtxt `parameters` entry overrides them.
 */
import { FLAGS, type ServerOptions } from './cli-args.js';
import { ORT_LOG_SEVERITY, ortLogSeverity } from './native-log-level.js';

const RUNTIME_FLAGS = ['task', 'max_model_len', 'dtype', 'return_probabilities', 'return_raw_logits', 'hf_rich_outputs', 'pooling', 'normalize', 'predict_proba'] as const;

export function runtimeParameters(options: ServerOptions): Record<string, string> {
  const out: Record<string, string> = { [ORT_LOG_SEVERITY]: String(ortLogSeverity(options.log_level)) };
  for (const name of RUNTIME_FLAGS) {
    const spec = FLAGS.find((f) => f.name === name)!;
    if (options[name] !== spec.default) out[name] = String(options[name]);
  }
  return out;
}
