/**
 * Composition root of the command line: the server's flags plus those of the runtimes it
 * ships. cli.ts, --help and the README's flag tables (checked by test/readme-flags.test.ts)
 * read this list, so a runtime's new flag is declared once, next to the runtime.
 */
import { RUNTIME_FLAGS } from '../runtimes/index.js';
import { type FlagDeclaration, type FlagValues, flagParameters } from './core/flags.js';
import { type ParsedArgs, SERVER_FLAGS, helpText, parseArgs } from './config/cli-args.js';
import { ORT_LOG_SEVERITY, ortLogSeverity } from './config/native-log-level.js';

export const TSSERVE_FLAGS = [...SERVER_FLAGS, ...RUNTIME_FLAGS] as const satisfies readonly FlagDeclaration[];

/** Everything startServer needs: server options and the runtimes' flags. */
export type TsserveOptions = FlagValues<typeof TSSERVE_FLAGS>;

export function parseTsserveArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs<TsserveOptions> {
  return parseArgs(argv, env, TSSERVE_FLAGS);
}

export function tsserveHelp(): string {
  return helpText(TSSERVE_FLAGS);
}

/** The runtime flags given away from their defaults, as every runtime's free-form parameters. */
export function runtimeParameters(options: TsserveOptions): Record<string, string> {
  // onnxruntime's own log severity follows --log_level, so its warnings stay out of an info log.
  return { [ORT_LOG_SEVERITY]: String(ortLogSeverity(options.log_level)), ...flagParameters(RUNTIME_FLAGS, options) };
}
