#!/usr/bin/env node
/** The tsserve command: parse flags, start serving, stop cleanly on SIGTERM/SIGINT. */
import './no-telemetry.js'; // first: before onnxruntime loads
import { CliError } from './config/cli-args.js';
import { parseTsserveArgs, tsserveHelp } from './tsserve-flags.js';
import { VERSION, startServer } from './app.js';
import { type Logger, SECRET_NAME, createLogger } from './log.js';
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
    // Before the flags are read there is no log level: the default logs this one line.
    createLogger('info').fatal(`tsserve could not start: ${error.message} (tsserve --help lists the flags)`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${tsserveHelp()}\n`);
    return;
  }
  if (parsed.version) {
    process.stdout.write(`tsserve ${VERSION}\n`);
    return;
  }
  const logger = createLogger(parsed.options.log_level);
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
