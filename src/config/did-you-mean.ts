/**
 * "Did you mean --http_port?" for a flag given with a typo. KServe passes its runtimes flags of
 * its own, which tsserve ignores; only an unknown flag that is a small edit away from one of ours
 * (and is not one of KServe's) is taken for a typo. Edit distance is a dozen lines here, smaller
 * than a dependency.
 */

/** Flags KServe's model servers take that tsserve does not: passed through by KServe, never typos. */
const KSERVE_FLAGS = new Set([
  'max_threads',
  'max_asyncio_workers',
  'configure_logging',
  'log_config_file',
  'access_log_format',
  'predictor_host',
  'predictor_protocol',
  'predictor_use_ssl',
  'predictor_request_timeout_seconds',
  'predictor_request_retries',
  'enable_predictor_health_check',
  'protocol',
  'model_id',
  'model_revision',
  'tokenizer_revision',
  'trust_remote_code',
  'max_length',
  'disable_lower_case',
  'disable_special_tokens',
  'tensor_input_names',
  'return_token_type_ids',
  'backend',
  'disable_log_requests',
  'max_log_len',
]);

/** Levenshtein distance: insertions, deletions and substitutions. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/** The known flag `name` (underscored, without dashes) is probably a typo of, if any. */
export function closestFlag(name: string, known: readonly string[]): string | undefined {
  if (KSERVE_FLAGS.has(name)) return undefined;
  // Two edits for names of 6 characters and more, one below, so short names stay apart.
  const limit = name.length >= 6 ? 2 : 1;
  let best: { flag: string; d: number } | undefined;
  for (const flag of known) {
    const d = distance(name, flag);
    if (d <= limit && (!best || d < best.d)) best = { flag, d };
  }
  return best?.flag;
}
