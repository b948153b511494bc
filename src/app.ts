/**
 * Wires a server together: load the models first, then open the ports, because KServe's
 * default readiness probe is a TCP connect and an open port must mean the models are loaded.
 */
import './no-telemetry.js'; // first: before onnxruntime loads
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { defaultInstances, modelBytes } from './config/instance-sizing.js';
import { cpuLimit } from './config/cpu-limit.js';
import { inflightBytesLimit } from './config/memory-limit.js';
import { Admission } from './core/admission.js';
import { type GrpcServer, buildGrpcServer } from './grpc/server.js';
import type { StreamLimits } from './grpc/stream-infer.js';
import { buildHttpServer } from './http/server.js';
import { type Logger, createLogger } from './log.js';
import { Metrics } from './metrics/metrics.js';
import { DataPlane } from './dataplane/data-plane.js';
import { type IndexEntry, ModelRegistry } from './registry/model-registry.js';
import { SHIPPED_RUNTIMES, runtimeByName, runtimeNames, workerRuntime } from '../runtimes/index.js';
import { type ProviderChoice, chooseProvider, probeCuda } from '../runtimes/onnx/execution-provider.js';
import { type TsserveOptions, runtimeParameters } from './tsserve-flags.js';
import { prepareModelDir } from './storage/model-source.js';
import { type PortFlag, checkModelDir, checkPortNumbers, checkPortsFree, listenOn } from './startup/preflight.js';
import { StartupError } from './startup/startup-error.js';
import { readTlsFiles } from './config/tls.js';
import { refreshTlsOnChange } from './http/tls-refresh.js';
import type { Server as HttpsServer } from 'node:https';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

export interface RunningServer {
  http: FastifyInstance;
  metrics: Metrics;
  registry: ModelRegistry;
  dataPlane: DataPlane;
  logger: Logger;
  /** The port actually bound (useful with --http_port 0). */
  httpPort: number;
  /** The gRPC port bound, unless --enable_grpc is false. */
  grpcPort?: number;
  close(): Promise<void>;
}

export async function startServer(options: TsserveOptions, logger = createLogger(options.log_level)): Promise<RunningServer> {
  const cpus = cpuLimit();
  const tls = readTlsFiles(options);
  if (options.framework && !runtimeByName(options.framework)) {
    throw new StartupError(`--framework '${options.framework}' is not one of ${runtimeNames().join(', ')}`);
  }
  const provider = chooseProvider(options.execution_provider as ProviderChoice, probeCuda());
  logger.info({ provider: provider.provider, reason: provider.reason }, 'execution provider');
  const ports = listeners(options);
  checkPortNumbers(ports);
  await checkPortsFree(options.host, ports);
  const metrics = new Metrics();
  const modelDir = await prepareModelDir(options, logger);
  await checkModelDir(modelDir);
  // Measured on 2 cores (README, "Worker sizing"): two single-threaded instances serve unbatched
  // requests 1.5x faster than one instance with two threads, and batched ones as fast.
  const instances = options.workers > 0 ? options.workers : Math.min(2, cpus);
  const registry = new ModelRegistry({
    modelDir,
    modelName: options.model_name,
    instances,
    instancesFor: options.workers > 0 ? undefined : (file) => defaultInstances(cpus, modelBytes(file), options.single_instance_model_mb),
    intraOpThreads: options.nthread,
    interOpThreads: Math.max(1, options.inter_op_threads),
    cpus,
    framework: options.framework,
    allowSymlinks: options.allow_model_dir_symlinks,
    maxInflight: options.max_inflight_requests,
    workerMaxHeapMb: options.worker_max_heap_mb,
    inlineMaxUs: options.inline_max_us,
    observer: metrics,
    provider,
    runtimeParameters: runtimeParameters(options),
    workerRuntime,
    runtimes: SHIPPED_RUNTIMES,
    logger,
  });
  const admission = new Admission({ maxBytes: inflightBytesLimit(options.max_inflight_bytes), maxRequests: options.max_inflight_requests });
  let started = false;
  const dataPlane = new DataPlane({
    registry,
    serverVersion: VERSION,
    strictReadiness: options.strict_readiness,
    isStarted: () => started,
    maxPromptsPerRequest: options.max_prompts_per_request,
  });
  const http = await buildHttpServer({
    dataPlane,
    admission,
    logger,
    maxInputSize: options.http_max_input_size,
    metrics,
    latencyLogging: options.enable_latency_logging,
    latencyLogRate: options.latency_log_rate,
    docs: options.enable_docs_url,
    openaiPrefix: options.openai_route_prefix,
    modelName: options.model_name,
    servedModelNames: options.served_model_name,
    tls,
  });
  metrics.watchQueues(() => registry.queueDepths());
  metrics.vllm.watchEngines(() => registry.engines());
  const grpc = options.enable_grpc
    ? buildGrpcServer({
        dataPlane,
        logger,
        maxReceiveMessageLength: options.grpc_max_receive_message_length,
        maxSendMessageLength: options.grpc_max_send_message_length,
        leanInfer: options.grpc_lean_infer,
        metrics,
        admission,
        streamLimits: streamLimits(options),
        tls,
      })
    : undefined;
  logger.info({ modelDir, cpus, instances }, 'loading models');
  let grpcPort: number | undefined;
  try {
    await registry.loadAll();
    if (registry.servesOneModel) checkModelLoaded(registry.index());
    if (grpc) grpcPort = await listenOn(options.host, ports[1]!, () => grpc.listen(options.host, options.grpc_port));
    await listenOn(options.host, ports[0]!, () => http.listen({ host: options.host, port: options.http_port }));
  } catch (error) {
    await stopServers(http, grpc, 0);
    await registry.close();
    throw error;
  }
  started = true;
  const stopTlsRefresh =
    tls && options.enable_ssl_refresh ? refreshTlsOnChange(http.server as unknown as HttpsServer, options, logger) : undefined;
  const httpPort = (http.server.address() as AddressInfo).port;
  logger.info({ httpPort, grpcPort, models: registry.index() }, 'tsserve is serving');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      started = false; // readiness turns false first
      stopTlsRefresh?.();
      // Stop accepting and let requests in flight finish, for at most the grace period.
      const graceMs = options.grace_period * 1000;
      const cutOff = setTimeout(() => {
        logger.warn({ gracePeriod: options.grace_period }, 'grace period over: closing connections still open');
        http.server.closeAllConnections();
      }, graceMs);
      try {
        await stopServers(http, grpc, graceMs);
      } finally {
        clearTimeout(cutOff);
      }
      await registry.close();
      dataPlane.sharedMemory.close();
      logger.info('tsserve stopped');
    })());
  return { http, metrics, registry, dataPlane, logger, httpPort, grpcPort, close };
}

/** The ports to open, with the flags that set them: HTTP first, then gRPC when enabled. */
function listeners(options: TsserveOptions): PortFlag[] {
  const http = { flag: '--http_port', port: options.http_port };
  return options.enable_grpc
    ? [http, { flag: '--grpc_port', port: options.grpc_port, alternative: 'turn gRPC off with --enable_grpc false' }]
    : [http];
}

/**
 * A server of one model (KServe's form) whose model failed would never be ready: exit saying why.
 * A repository keeps serving the models that loaded, the others listed with their reasons.
 */
function checkModelLoaded(index: readonly IndexEntry[]): void {
  if (index.some((e) => e.state === 'READY')) return;
  const reasons = index.map((e) => `model '${e.name}'${e.version ? ` version ${e.version}` : ''}: ${e.reason}`);
  throw new StartupError(`the model could not be loaded: ${reasons.join('; ')}`);
}

function streamLimits(options: TsserveOptions): StreamLimits {
  return {
    maxOutstanding: Math.max(1, options.grpc_stream_max_outstanding),
    stallTimeoutMs: Math.max(1, options.grpc_stream_stall_timeout) * 1000,
  };
}

/** Both stop accepting and let requests in flight finish; gRPC cancels what outlives the grace period. */
async function stopServers(http: FastifyInstance, grpc: GrpcServer | undefined, graceMs: number): Promise<void> {
  await Promise.all([http.close(), grpc?.close(graceMs)]);
}
