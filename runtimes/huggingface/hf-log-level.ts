/**
 * transformers.js logs in three ways, and all three follow --log_level here: its own console
 * warnings and errors (plain text), the severity of the onnxruntime sessions it opens itself
 * (its default is errors only, whatever --log_level says), and onnxruntime's process-wide level,
 * which it sets from its own when it loads. Its errors are also thrown, and tsserve logs those as
 * JSON, so at errors-only and above it prints nothing; as with onnxruntime, --log_level debug
 * shows its warnings and trace everything.
 */
import { LogLevel, env } from '@huggingface/transformers';
import { type OrtSeverity, setOrtEnvLogLevel } from '../onnx/log-severity.js';

const CONSOLE_LEVEL: Record<OrtSeverity, number> = {
  0: LogLevel.DEBUG,
  1: LogLevel.INFO,
  2: LogLevel.WARNING,
  3: LogLevel.NONE,
  4: LogLevel.NONE,
};

/** Sets transformers.js's level, then onnxruntime's (its setter maps onto onnxruntime's own way). */
export function followLogLevel(severity: OrtSeverity): void {
  env.logLevel = CONSOLE_LEVEL[severity];
  setOrtEnvLogLevel(severity);
}
