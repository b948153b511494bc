/**
 * The command line, compatible with KServe's model servers: `--flag value` and `--flag=value`,
 * dashes or underscores, unknown flags reported and ignored (KServe passes runtime-specific
 * ones). Each flag also reads an environment variable; a flag given on the command line wins.
 */
import { type FlagDeclaration, FlagError, type FlagValues, convertFlag } from '../core/flags.js';
import { LOG_LEVEL_NAMES } from '../log.js';
import { closestFlag } from './did-you-mean.js';

/** The server's own flags; each runtime declares its own next to its code (e.g. runtimes/huggingface/hf-flags.ts). */
export const SERVER_FLAGS = [
  {
    name: 'model_name',
    env: ['TSSERVE_MODEL_NAME'],
    type: 'string',
    default: 'model',
    help: 'Name of the model when model_dir holds a single model file',
  },
  {
    name: 'model_dir',
    env: ['TSSERVE_MODEL_DIR'],
    type: 'string',
    default: '/mnt/models',
    help: 'Model file, or repository of model folders; an s3://, gs://, hf:// or http(s):// URI is downloaded first',
  },
  {
    name: 'storage_uri',
    env: ['STORAGE_URI'],
    type: 'string',
    default: '',
    help: "A model URI to download into model_dir before serving (KServe's STORAGE_URI)",
  },
  {
    name: 'storage_dir',
    env: ['TSSERVE_STORAGE_DIR'],
    type: 'string',
    default: '',
    defaultText: '<tmpdir>/tsserve-models',
    help: 'Where a URI given as model_dir is downloaded (default: <tmpdir>/tsserve-models)',
  },
  {
    name: 'http_port',
    env: ['TSSERVE_HTTP_PORT'],
    type: 'int',
    default: 8080,
    max: 65535,
    aliases: ['port'],
    help: "HTTP port (v2 REST, V1, OpenAI); --port is vLLM's name, which KServe's LLMInferenceService template passes",
  },
  {
    name: 'grpc_port',
    env: ['TSSERVE_GRPC_PORT'],
    type: 'int',
    default: 8081,
    max: 65535,
    help: 'gRPC port (inference.GRPCInferenceService, health, reflection); 0 picks a free one',
  },
  { name: 'enable_grpc', env: ['TSSERVE_ENABLE_GRPC'], type: 'bool', default: true, help: 'Serve gRPC on --grpc_port' },
  {
    name: 'grpc_max_receive_message_length',
    env: ['TSSERVE_GRPC_MAX_RECEIVE_MESSAGE_LENGTH'],
    type: 'int',
    default: 64 * 1024 * 1024,
    help: 'Largest gRPC request message in bytes; larger gets RESOURCE_EXHAUSTED',
  },
  {
    name: 'grpc_max_send_message_length',
    env: ['TSSERVE_GRPC_MAX_SEND_MESSAGE_LENGTH'],
    type: 'int',
    default: 2 ** 31 - 1,
    help: 'Largest gRPC response message in bytes; larger gets RESOURCE_EXHAUSTED',
  },
  {
    name: 'grpc_lean_infer',
    env: ['TSSERVE_GRPC_LEAN_INFER'],
    type: 'bool',
    default: true,
    help: 'Serve unary ModelInfer on node:http2 directly instead of through grpc-js (same answers, less CPU per call); false sends it through grpc-js like every other method',
  },
  {
    name: 'grpc_stream_max_outstanding',
    env: ['TSSERVE_GRPC_STREAM_MAX_OUTSTANDING'],
    type: 'int',
    default: 16,
    help: 'Requests a ModelStreamInfer stream may have accepted but not yet answered; past that the server stops reading the stream until the client reads',
  },
  {
    name: 'grpc_stream_stall_timeout',
    env: ['TSSERVE_GRPC_STREAM_STALL_TIMEOUT'],
    type: 'int',
    default: 60,
    help: 'Seconds an answer on a ModelStreamInfer stream may wait for the client to read it before the stream is closed (DEADLINE_EXCEEDED)',
  },
  { name: 'host', env: ['TSSERVE_HOST'], type: 'string', default: '0.0.0.0', help: 'Address to bind' },
  {
    name: 'workers',
    env: ['TSSERVE_WORKERS'],
    type: 'int',
    default: 0,
    help: 'Worker threads (model instances) per model version, unless its config.pbtxt sets instance_group; 0 is min(2, CPU limit), as Triton gives onnxruntime models (1 for a large model, or one that runs inline)',
  },
  {
    name: 'single_instance_model_mb',
    env: ['TSSERVE_SINGLE_INSTANCE_MODEL_MB'],
    type: 'int',
    default: 64,
    help: 'Without --workers or an instance_group, a model whose files take this many MiB or more gets one instance (with every CPU as its threads) instead of min(2, CPU limit): a second copy of a large model costs its size again for little throughput; 0 gives every model one instance',
  },
  {
    name: 'nthread',
    env: ['TSSERVE_NTHREAD'],
    type: 'int',
    default: 0,
    help: 'Intra-op threads per model instance; 0 shares the CPU limit out among instances',
  },
  { name: 'inter_op_threads', env: ['TSSERVE_INTER_OP_THREADS'], type: 'int', default: 1, help: 'Inter-op threads per model instance' },
  {
    name: 'max_inflight_requests',
    env: ['TSSERVE_MAX_INFLIGHT_REQUESTS'],
    type: 'int',
    default: 1024,
    help: 'Requests in flight across all models before new ones get 503 at once; 0 is unbounded',
  },
  {
    name: 'max_inflight_bytes',
    env: ['TSSERVE_MAX_INFLIGHT_BYTES'],
    type: 'int',
    default: 0,
    help: 'Request bytes in flight (REST bodies by Content-Length before they are read, gRPC messages as received) before new requests get 503 / RESOURCE_EXHAUSTED at once; 0 is a quarter of the container memory limit (cgroup memory.max) or of the machine memory',
  },
  {
    name: 'max_prompts_per_request',
    env: ['TSSERVE_MAX_PROMPTS_PER_REQUEST'],
    type: 'int',
    default: 64,
    help: 'Most prompts one generation request may carry (v2/V1/gRPC text elements, OpenAI prompt lists); more gets 400',
  },
  {
    name: 'allow_model_dir_symlinks',
    env: ['TSSERVE_ALLOW_MODEL_DIR_SYMLINKS'],
    type: 'bool',
    default: false,
    help: 'Serve model files reached through symbolic links that point outside --model_dir (links inside it are always followed)',
  },
  {
    name: 'inline_max_us',
    env: ['TSSERVE_INLINE_MAX_US'],
    type: 'int',
    default: 100,
    min: 0,
    help: 'Run a small CPU model on the serving thread instead of a worker when its median run, timed at load, takes at most this many microseconds (the hop to a worker costs the serving thread 30-60 us; larger runs than timed still go to workers); 0 always uses workers',
  },
  {
    name: 'worker_max_heap_mb',
    env: ['TSSERVE_WORKER_MAX_HEAP_MB'],
    type: 'int',
    default: 0,
    help: "JavaScript heap limit of each worker thread in MiB (0: V8's default); a worker past it fails only its request and is replaced",
  },
  {
    name: 'execution_provider',
    env: ['TSSERVE_EXECUTION_PROVIDER'],
    type: 'string',
    default: 'auto',
    choices: ['cpu', 'cuda', 'auto'],
    help: 'cpu, cuda or auto (CUDA when onnxruntime-node has its CUDA libraries and a GPU is visible, else CPU)',
  },
  {
    name: 'http_max_input_size',
    env: ['TSSERVE_HTTP_MAX_INPUT_SIZE'],
    type: 'int',
    default: 64 * 1024 * 1024,
    help: 'Largest request body in bytes (after decompression); larger gets 413',
  },
  {
    name: 'strict_readiness',
    env: ['TSSERVE_STRICT_READINESS'],
    type: 'bool',
    default: true,
    help: 'Server ready only while every loaded model is ready',
  },
  {
    name: 'enable_latency_logging',
    env: ['TSSERVE_ENABLE_LATENCY_LOGGING'],
    type: 'bool',
    default: true,
    help: "One info line per inference request with its preprocess/predict/postprocess times (KServe's flag)",
  },
  {
    name: 'latency_log_rate',
    env: ['TSSERVE_LATENCY_LOG_RATE'],
    type: 'int',
    default: 10,
    help: 'Most latency lines per second (refused requests are always logged); 0 logs every request',
  },
  {
    name: 'grace_period',
    env: ['TSSERVE_GRACE_PERIOD'],
    type: 'int',
    default: 30,
    help: 'Seconds to let requests in flight finish after SIGTERM/SIGINT before closing their connections',
  },
  {
    name: 'enable_docs_url',
    env: ['TSSERVE_ENABLE_DOCS_URL'],
    type: 'bool',
    default: false,
    help: "Serve the OpenAPI document at /openapi.json and Swagger UI at /docs (KServe's flag)",
  },
  {
    name: 'framework',
    env: ['TSSERVE_FRAMEWORK'],
    type: 'string',
    default: '',
    help: "Runtime for models whose config.pbtxt names none: onnx, sklearn, xgboost, lightgbm or huggingface (KServe's modelFormat); empty: chosen by file",
  },
  {
    name: 'log_level',
    env: ['TSSERVE_LOG_LEVEL', 'KSERVE_LOGLEVEL'],
    type: 'string',
    default: 'info',
    choices: LOG_LEVEL_NAMES,
    anyCase: true,
    help: "trace, debug, info, warn, error or fatal, or Python's names as KServe passes them (warning, critical, notset), in any case",
  },
  {
    name: 'served_model_name',
    env: ['TSSERVE_SERVED_MODEL_NAME'],
    type: 'list',
    default: [],
    help: "Names the OpenAI routes answer to for the model (vLLM's flag: several after one flag, or the flag repeated; the environment variable takes them comma-separated); the first is also the default --model_name",
  },
  {
    name: 'ssl_certfile',
    env: ['TSSERVE_SSL_CERTFILE'],
    type: 'string',
    default: '',
    help: "PEM certificate (chain) file: serve HTTPS, and gRPC over TLS (vLLM's flag, as KServe passes it)",
  },
  { name: 'ssl_keyfile', env: ['TSSERVE_SSL_KEYFILE'], type: 'string', default: '', help: 'PEM private key file of --ssl_certfile' },
  {
    name: 'enable_ssl_refresh',
    env: ['TSSERVE_ENABLE_SSL_REFRESH'],
    type: 'bool',
    default: false,
    help: "Reload --ssl_certfile/--ssl_keyfile for new HTTPS connections when the files change (vLLM's flag)",
  },
  {
    name: 'openai_route_prefix',
    env: ['TSSERVE_OPENAI_ROUTE_PREFIX', 'KSERVE_OPENAI_ROUTE_PREFIX'],
    type: 'string',
    default: '/openai',
    help: 'Prefix of the OpenAI-compatible routes, which are served at the root (/v1/...) as well',
    emptyAllowed: true,
  },
] as const satisfies readonly FlagDeclaration[];

export type ServerOptions = FlagValues<typeof SERVER_FLAGS>;

export interface ParsedArgs<V> {
  options: V;
  /** Flags we do not know, as given: reported and ignored. */
  ignored: string[];
  help: boolean;
  /** --version was given. */
  version: boolean;
}

/** A bad flag or environment value: the message says which and what was expected. */
export class CliError extends FlagError {
  override name = 'CliError';
}

function convert(flag: FlagDeclaration, raw: string, source: string): string | number | boolean | string[] {
  try {
    return convertFlag(flag, raw, source);
  } catch (error) {
    throw error instanceof FlagError ? new CliError(error.message) : error;
  }
}

/** Parses `argv` and `env` against `flags` (the server's, plus those of the runtimes composed in). */
export function parseArgs<F extends readonly FlagDeclaration[] = typeof SERVER_FLAGS>(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  flags: F = SERVER_FLAGS as unknown as F,
): ParsedArgs<FlagValues<F>> {
  const values = new Map<string, string | number | boolean | readonly string[]>();
  const given = new Set<string>();
  const onCommandLine = new Set<string>();
  for (const spec of flags) {
    const name = spec.env.find((e) => env[e] !== undefined && (env[e] !== '' || spec.emptyAllowed));
    values.set(spec.name, name ? convert(spec, env[name]!, `environment variable ${name}`) : spec.default);
    if (name) given.add(spec.name);
  }
  const ignored: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version') {
      version = true;
      continue;
    }
    // What a template leaves for an option it left out ({{ if ... }}--flag{{ end }}).
    if (arg === '') continue;
    if (!arg.startsWith('--')) {
      ignored.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)).replace(/-/g, '_');
    const spec = flags.find((f) => f.name === name || f.aliases?.includes(name));
    let raw = eq < 0 ? undefined : arg.slice(eq + 1);
    if (!spec) {
      const meant = closestFlag(
        name,
        flags.flatMap((f) => [f.name, ...(f.aliases ?? [])]),
      );
      if (meant) throw new CliError(`unknown flag --${name}: did you mean --${meant}?`);
      // Unknown flags may take a value; swallow it so it is not read as a stray argument.
      if (raw === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) raw = argv[++i];
      ignored.push(raw === undefined ? arg : `${arg.split('=')[0]}=${raw}`);
      continue;
    }
    if (spec.type === 'list') {
      // vLLM's nargs='+': every value up to the next flag, and a repeated flag adds to the list.
      const list = onCommandLine.has(spec.name) ? [...(values.get(spec.name) as string[])] : [];
      if (raw !== undefined) list.push(...(convert(spec, raw, `--${name}`) as string[]));
      while (raw === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) list.push(argv[++i]!);
      if (list.length === 0) throw new CliError(`--${name} needs a value`);
      values.set(spec.name, list);
      given.add(spec.name);
      onCommandLine.add(spec.name);
      continue;
    }
    if (raw === undefined) {
      const next = argv[i + 1];
      if (spec.type === 'bool' && (next === undefined || next.startsWith('--'))) raw = 'true';
      else if (next === undefined) throw new CliError(`--${name} needs a value`);
      else raw = argv[++i]!;
    }
    values.set(spec.name, convert(spec, raw, `--${name}`));
    given.add(spec.name);
  }
  // As in vLLM, the first served name is the model's name (metrics, v2 routes) unless one is given.
  const served = values.get('served_model_name') as string[] | undefined;
  if (served?.length && !given.has('model_name')) values.set('model_name', served[0]!);
  return { options: Object.fromEntries(values) as FlagValues<F>, ignored, help, version };
}

export function helpText(flags: readonly FlagDeclaration[] = SERVER_FLAGS): string {
  const lines = [
    'Usage: tsserve [--flag value | --flag=value ...]',
    '',
    'Serves models over the Open Inference Protocol (v2, REST and gRPC) and KServe V1.',
    '',
  ];
  for (const f of flags) {
    lines.push(`  --${f.name} <${f.type}>  (env ${f.env.join(', ')}; default ${JSON.stringify(f.default)})`);
    lines.push(`      ${f.help}`);
    for (const alias of f.aliases ?? []) lines.push(`  --${alias} <${f.type}>  (the same as --${f.name})`);
  }
  lines.push(
    '',
    '  --version  print the version',
    '',
    'Unknown flags are logged and ignored, as KServe runtimes pass their own; one a small edit away from a flag above is refused as a typo.',
  );
  return lines.join('\n');
}
