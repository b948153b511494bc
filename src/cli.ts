#!/usr/bin/env node
/** The tsserve command: parse flags, start serving, stop cleanly on SIGTERM/SIGINT. */
import './no-telemetry.js'; // first: before onnxruntime loads
import { CliError } from './config/cli-args.js';
import { parseTsserveArgs, tsserveHelp } from './tsserve-flags.js';
import { startServer } from './app.js';
import { LOG_LEVEL_NAMES, type Logger, SECRET_NAME, createLogger, logLevel } from './log.js';
import { StartupError } from './startup/startup-error.js';
import { routeProcessWarnings } from './process-warnings.js';

/** `--aws_secret_key=abc` is logged as `--aws_secret_key=[redacted]`. */
function redactFlag(flag: string): string {
  const eq = flag.indexOf('=');
  return eq > 0 && SECRET_NAME.test(flag.slice(0, eq)) ? `${flag.slice(0, eq)}=[redacted]` : flag;
}

/**
 * One fatal line and exit 1. A StartupError's message says what to change; anything else is
 * logged by its message too, as a stack trace tells a user nothing they can act on.
 */
function startupFailed(logger: Logger, error: unknown): never {
  if (error instanceof StartupError) logger.fatal(`tsserve could not start: ${error.message}`);
  else logger.fatal({ err: error instanceof Error ? error.message : String(error) }, 'tsserve could not start');
  process.exit(1);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseTsserveArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    process.stderr.write(`tsserve: ${error.message}\n\n${tsserveHelp()}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${tsserveHelp()}\n`);
    return;
  }
  const logger = createLogger(parsed.options.log_level);
  if (!logLevel(parsed.options.log_level)) {
    startupFailed(logger, new StartupError(`--log_level '${parsed.options.log_level}' is not a log level: use one of ${LOG_LEVEL_NAMES.join(', ')} (any case)`));
  }
  routeProcessWarnings(logger);
  if (parsed.ignored.length) logger.warn({ flags: parsed.ignored.map(redactFlag) }, 'ignoring unknown arguments');
  let server;
  try {
    server = await startServer(parsed.options, logger);
  } catch (error) {
    startupFailed(logger, error);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once');
      // process.exit() would first stop the worker threads, and onnxruntime aborts the whole
      // process when a thread stops mid-run: kill outright instead.
      process.kill(process.pid, 'SIGKILL');
    }
    stopping = true;
    logger.info({ signal, gracePeriod: parsed.options.grace_period }, 'shutting down: draining requests in flight');
    server.close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
