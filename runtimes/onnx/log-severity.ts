/**
 * onnxruntime's log severity in a worker, from the ort_log_severity runtime parameter that
 * --log_level sets (src/config/native-log-level.ts). onnxruntime logs in two places: each
 * session's own logger (session options), and the process-wide environment's, which carries the
 * thread-pool and platform warnings. The environment is created once per process, by the first
 * session any thread opens, at the level `ort.env.logLevel` holds then (onnxruntime-node's
 * default is warning): so every runtime sets it before opening a session, whichever comes first.
 */
import * as ort from 'onnxruntime-node';

/** onnxruntime's severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal. */
export type OrtSeverity = 0 | 1 | 2 | 3 | 4;

const ENV_LEVEL = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/** The severity the parameter names; errors only where it is missing or not 0-4. */
export function ortSeverity(parameters: Readonly<Record<string, string | undefined>>): OrtSeverity {
  const n = Number(parameters.ort_log_severity ?? 3);
  return (Number.isInteger(n) && n >= 0 && n <= 4 ? n : 3) as OrtSeverity;
}

/** Sets the environment's level (used when this process opens its first session). */
export function setOrtEnvLogLevel(severity: OrtSeverity): void {
  ort.env.logLevel = ENV_LEVEL[severity];
}
