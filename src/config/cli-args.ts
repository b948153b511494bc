/**
 * The command line, compatible with KServe's model servers: `--flag value` and `--flag=value`,
 * dashes or underscores, unknown flags reported and ignored (KServe passes runtime-specific
 * ones). Each flag also reads an environment variable; a flag given on the command line wins.
 */

type FlagType = 'string' | 'int' | 'bool';

interface FlagSpec {
  name: string;
  env: string[];
  type: FlagType;
  default: string | number | boolean;
  help: string;
}

export const FLAGS = [
  { name: 'model_name', env: ['TSSERVE_MODEL_NAME'], type: 'string', default: 'model', help: 'Name of the model when model_dir holds a single model file' },
  { name: 'model_dir', env: ['TSSERVE_MODEL_DIR'], type: 'string', default: '/mnt/models', help: 'Model file, or repository of model folders' },
  { name: 'http_port', env: ['TSSERVE_HTTP_PORT'], type: 'int', default: 8080, help: 'HTTP port (v2 REST, V1)' },
  { name: 'grpc_port', env: ['TSSERVE_GRPC_PORT'], type: 'int', default: 8081, help: 'gRPC port (reserved: the gRPC frontend is not built yet)' },
  { name: 'host', env: ['TSSERVE_HOST'], type: 'string', default: '0.0.0.0', help: 'Address to bind' },
  { name: 'workers', env: ['TSSERVE_WORKERS'], type: 'int', default: 1, help: 'Worker threads (model instances) per model version, unless its config.pbtxt sets instance_group' },
  { name: 'nthread', env: ['TSSERVE_NTHREAD'], type: 'int', default: 0, help: 'Intra-op threads per model instance; 0 shares the CPU limit out among instances' },
  { name: 'inter_op_threads', env: ['TSSERVE_INTER_OP_THREADS'], type: 'int', default: 1, help: 'Inter-op threads per model instance' },
  { name: 'http_max_input_size', env: ['TSSERVE_HTTP_MAX_INPUT_SIZE'], type: 'int', default: 64 * 1024 * 1024, help: 'Largest request body in bytes (after decompression); larger gets 413' },
  { name: 'strict_readiness', env: ['TSSERVE_STRICT_READINESS'], type: 'bool', default: true, help: 'Server ready only while every loaded model is ready' },
  { name: 'framework', env: ['TSSERVE_FRAMEWORK'], type: 'string', default: '', help: "Runtime for models whose config.pbtxt names none: onnx, sklearn, xgboost or lightgbm (KServe's modelFormat); empty: chosen by file" },
  { name: 'predict_proba', env: ['TSSERVE_PREDICT_PROBA', 'PREDICT_PROBA'], type: 'bool', default: false, help: 'Classifiers answer probabilities instead of labels unless a request or model says otherwise (KServe sklearnserver\'s PREDICT_PROBA)' },
  { name: 'log_level', env: ['TSSERVE_LOG_LEVEL', 'KSERVE_LOGLEVEL'], type: 'string', default: 'info', help: 'trace, debug, info, warn, error or fatal' },
] as const satisfies readonly FlagSpec[];

type FlagName = (typeof FLAGS)[number]['name'];
type ValueOf<T extends FlagType> = T extends 'int' ? number : T extends 'bool' ? boolean : string;

export type ServerOptions = { [F in (typeof FLAGS)[number] as F['name']]: ValueOf<F['type']> };

export interface ParsedArgs {
  options: ServerOptions;
  /** Flags we do not know, as given: reported and ignored. */
  ignored: string[];
  help: boolean;
}

export class CliError extends Error {
  override name = 'CliError';
}

const TRUE = ['y', 'yes', 't', 'true', 'on', '1'];
const FALSE = ['n', 'no', 'f', 'false', 'off', '0'];

function convert(spec: FlagSpec, raw: string, source: string): string | number | boolean {
  if (spec.type === 'int') {
    if (!/^\d+$/.test(raw.trim())) throw new CliError(`${source} expects a non-negative integer, got '${raw}'`);
    return Number(raw);
  }
  if (spec.type === 'bool') {
    const v = raw.trim().toLowerCase();
    if (TRUE.includes(v)) return true;
    if (FALSE.includes(v)) return false;
    throw new CliError(`${source} expects true or false, got '${raw}'`);
  }
  return raw;
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const values = new Map<FlagName, string | number | boolean>();
  for (const spec of FLAGS as readonly FlagSpec[]) {
    const name = spec.env.find((e) => env[e] !== undefined && env[e] !== '');
    values.set(spec.name as FlagName, name ? convert(spec, env[name]!, `environment variable ${name}`) : spec.default);
  }
  const ignored: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      ignored.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)).replace(/-/g, '_');
    const spec = (FLAGS as readonly FlagSpec[]).find((f) => f.name === name);
    let raw = eq < 0 ? undefined : arg.slice(eq + 1);
    if (!spec) {
      // Unknown flags may take a value; swallow it so it is not read as a stray argument.
      if (raw === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) raw = argv[++i];
      ignored.push(raw === undefined ? arg : `${arg.split('=')[0]}=${raw}`);
      continue;
    }
    if (raw === undefined) {
      const next = argv[i + 1];
      if (spec.type === 'bool' && (next === undefined || next.startsWith('--'))) raw = 'true';
      else if (next === undefined) throw new CliError(`--${name} needs a value`);
      else raw = argv[++i]!;
    }
    values.set(name as FlagName, convert(spec, raw, `--${name}`));
  }
  return { options: Object.fromEntries(values) as ServerOptions, ignored, help };
}

export function helpText(): string {
  const lines = ['Usage: tsserve [--flag value | --flag=value ...]', '', 'Serves models over the Open Inference Protocol (v2) and KServe V1.', ''];
  for (const f of FLAGS as readonly FlagSpec[]) {
    lines.push(`  --${f.name} <${f.type}>  (env ${f.env.join(', ')}; default ${JSON.stringify(f.default)})`);
    lines.push(`      ${f.help}`);
  }
  lines.push('', 'Unknown flags are logged and ignored, as KServe runtimes pass their own.');
  return lines.join('\n');
}
