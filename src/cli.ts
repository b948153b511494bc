#!/usr/bin/env node
/** The tsserve command: parse flags, start serving, stop cleanly on SIGTERM/SIGINT. */
import { CliError, helpText, parseArgs } from './config/cli-args.js';
import { startServer } from './app.js';
import { createLogger } from './log.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    process.stderr.write(`tsserve: ${error.message}\n\n${helpText()}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const logger = createLogger(parsed.options.log_level);
  if (parsed.ignored.length) logger.warn({ flags: parsed.ignored }, 'ignoring unknown arguments');
  let server;
  try {
    server = await startServer(parsed.options, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'tsserve could not start');
    process.exit(1);
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
