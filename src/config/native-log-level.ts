/**
 * onnxruntime's own log severity, following --log_level. Its lines are plain text on stderr,
 * written by native code that our JSON logger cannot reformat, so at the default level (info)
 * only its errors pass (its warnings are mostly graph-optimizer notes about the model file);
 * --log_level debug shows its warnings, trace everything.
 * Severity numbers are onnxruntime's: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal.
 */
const SEVERITY: Record<string, number> = { trace: 0, debug: 2, info: 3, warn: 3, warning: 3, error: 3, fatal: 4, critical: 4, silent: 4 };

/** The runtime parameter that carries it to every onnxruntime session. */
export const ORT_LOG_SEVERITY = 'ort_log_severity';

export function ortLogSeverity(logLevel: string): number {
  return SEVERITY[logLevel.toLowerCase()] ?? 3;
}
