/**
 * The one format every setting is declared in, server and runtime alike: the command line,
 * `--help`, the environment variables and the README's flag tables are all read from these
 * declarations, so a flag is added in one place (its owner's declaration list).
 */

export type FlagType = 'string' | 'int' | 'bool' | 'list';

export interface FlagDeclaration {
  /** `--name` on the command line; for a runtime flag also the key of its model parameter. */
  readonly name: string;
  /** Environment variables read, first set wins; the flag on the command line wins over all. */
  readonly env: readonly string[];
  readonly type: FlagType;
  readonly default: string | number | boolean | readonly string[];
  readonly help: string;
  /** Other names of the flag (vLLM's, where a KServe template passes them). */
  readonly aliases?: readonly string[];
  readonly choices?: readonly string[];
  /** `choices` match in any case (KServe's log levels: WARNING, warning). */
  readonly anyCase?: boolean;
  /** Bounds of an int flag, inclusive (a port: 0 to 65535). */
  readonly min?: number;
  readonly max?: number;
  /** An empty environment value counts (KServe's KSERVE_OPENAI_ROUTE_PREFIX="" drops the prefix). */
  readonly emptyAllowed?: boolean;
  /** How the README and --help show the default when the value alone would mislead (e.g. computed at startup). */
  readonly defaultText?: string;
}

type ValueOf<T extends FlagType> = T extends 'int' ? number : T extends 'bool' ? boolean : T extends 'list' ? string[] : string;

/** The parsed values of a declaration list, typed by each flag's name and type. */
export type FlagValues<F extends readonly FlagDeclaration[]> = { -readonly [D in F[number] as D['name']]: ValueOf<D['type']> };

export class FlagError extends Error {
  override name = 'FlagError';
}

const TRUE = ['y', 'yes', 't', 'true', 'on', '1'];
const FALSE = ['n', 'no', 'f', 'false', 'off', '0'];

/** A boolean as KServe's servers spell it (strtobool), or undefined when `raw` is none of them. */
export function parseBoolean(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  return undefined;
}

/** Converts a flag's text to its type; `source` names where it came from for the error. */
export function convertFlag(flag: FlagDeclaration, raw: string, source: string): string | number | boolean | string[] {
  if (flag.type === 'list')
    return raw
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
  if (flag.type === 'int') {
    const n = Number(raw);
    const { min = 0, max = Number.MAX_SAFE_INTEGER } = flag;
    if (!/^\d+$/.test(raw.trim())) throw new FlagError(`${source} expects a non-negative integer, got '${raw}'`);
    if (n < min || n > max) throw new FlagError(`${source} expects an integer from ${min} to ${max}, got '${raw}'`);
    return n;
  }
  if (flag.type === 'bool') {
    const value = parseBoolean(raw);
    if (value === undefined) throw new FlagError(`${source} expects true or false, got '${raw}'`);
    return value;
  }
  const given = flag.anyCase ? raw.trim().toLowerCase() : raw;
  if (flag.choices && !flag.choices.includes(given)) {
    throw new FlagError(`${source} expects one of ${flag.choices.join(', ')}${flag.anyCase ? ' (any case)' : ''}, got '${raw}'`);
  }
  return raw;
}

/** The declaration of `name` in `flags`; throws when a runtime asks for one it did not declare. */
export function declared(flags: readonly FlagDeclaration[], name: string): FlagDeclaration {
  const flag = flags.find((f) => f.name === name);
  if (!flag) throw new Error(`flag '${name}' is not declared`);
  return flag;
}

/** The default as --help and the README show it. */
export function shownDefault(flag: FlagDeclaration): string {
  if (Array.isArray(flag.default)) return flag.defaultText ?? (flag.default.length ? flag.default.join(',') : '(empty)');
  return flag.defaultText ?? (flag.default === '' ? '(empty)' : String(flag.default));
}

/**
 * Runtime flags set away from their defaults, as the free-form string parameters a runtime
 * receives: a runtime can then tell "not given" (infer it from the model) from a value, and a
 * model's config.pbtxt `parameters` entry of the same name overrides them.
 */
export function flagParameters(flags: readonly FlagDeclaration[], values: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const value = values[flag.name];
    if (value !== undefined && value !== flag.default) out[flag.name] = String(value);
  }
  return out;
}
