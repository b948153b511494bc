/**
 * Structured JSON logs (pino, the logger fastify itself uses), one line per event on stdout.
 * The level comes from --log_level, or KServe's KSERVE_LOGLEVEL. Credentials never reach a log
 * line: known secret fields are redacted wherever they appear.
 */
import { type Logger as PinoLogger, destination, pino } from 'pino';

export type Logger = PinoLogger;

const SECRET_FIELDS = [
  'authorization',
  'password',
  'token',
  'secret',
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'apiKey',
  'api_key',
];

/** Secret-looking names: flags, environment variables, config keys. */
export const SECRET_NAME = /(key|token|secret|password|passwd|credential|authorization)/i;

/**
 * Log level names as pino knows them, plus Python's as KServe's KSERVE_LOGLEVEL spells them
 * (WARNING, CRITICAL, NOTSET), in any case. `silent` turns logging off.
 */
const LEVELS: Readonly<Record<string, Level | 'silent'>> = {
  trace: 'trace',
  notset: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'fatal',
  critical: 'fatal',
  silent: 'silent',
};

export const LOG_LEVEL_NAMES: readonly string[] = Object.keys(LEVELS);

/** The pino level `name` stands for; undefined when it names none. */
export function logLevel(name: string): Level | 'silent' | undefined {
  return LEVELS[name.trim().toLowerCase()];
}

/** A logger at `level` (any name logLevel takes); an unknown name logs at info. */
export function createLogger(level: string): Logger {
  // Synchronous writes: a line logged just before a crash or a kill is not lost in a buffer.
  return pino(
    {
      level: logLevel(level) ?? 'info',
      base: { service: 'tsserve' },
      redact: {
        paths: [
          ...SECRET_FIELDS,
          ...SECRET_FIELDS.map((f) => `*.${f}`),
          'req.headers.authorization',
          'headers.authorization',
          'headers.cookie',
        ],
        censor: '[redacted]',
      },
    },
    destination({ dest: 1, sync: true }),
  );
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * A request's logger whose pino child (bound to the request id) is made only when a line is
 * actually written. pino's child() serialises and redacts its bindings at once, about 3-7 us a
 * request, for a logger that at the default level is used only on a 5xx.
 */
class LazyChildLogger {
  private real: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: object,
  ) {}

  private get target(): Logger {
    return (this.real ??= this.parent.child(this.bindings, this.options));
  }

  private write(level: Level, args: unknown[]): void {
    if ((this.real ?? this.parent).isLevelEnabled(level)) (this.target[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return (this.real ?? this.parent).level;
  }

  set level(level: string) {
    this.target.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.real ?? this.parent).isLevelEnabled(level);
  }

  child(bindings: Record<string, unknown>, options?: object): Logger {
    return this.target.child(bindings, options);
  }

  silent(): void {}
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
}

/** fastify's childLoggerFactory: see LazyChildLogger. */
export function lazyChildLogger(this: unknown, parent: Logger, bindings: Record<string, unknown>, options: object): Logger {
  return new LazyChildLogger(parent, bindings, options) as unknown as Logger;
}
