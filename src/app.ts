/**
 * Wires a server together: load the repository first, then open the ports, because KServe's
 * default readiness probe is a TCP connect and an open port must mean the models are loaded.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServerOptions } from './config/cli-args.js';
import { cpuLimit } from './config/cpu-limit.js';
import { type GrpcServer, buildGrpcServer } from './grpc/server.js';
import { buildHttpServer } from './http/server.js';
import { type Logger, createLogger } from './log.js';
import { ModelRepository } from './repository/model-repository.js';
import { serverReadiness } from './repository/status.js';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

export interface RunningServer {
  http: FastifyInstance;
  repository: ModelRepository;
  logger: Logger;
  /** The port actually bound (useful with --http_port 0). */
  httpPort: number;
  /** The gRPC port bound, unless --enable_grpc is false. */
  grpcPort?: number;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions, logger = createLogger(options.log_level)): Promise<RunningServer> {
  const cpus = cpuLimit();
  const repository = new ModelRepository({
    modelDir: options.model_dir,
    modelName: options.model_name,
    instances: Math.max(1, options.workers),
    intraOpThreads: options.nthread,
    interOpThreads: Math.max(1, options.inter_op_threads),
    cpus,
    logger,
  });
  let started = false;
  const http = buildHttpServer({
    repository,
    logger,
    serverVersion: VERSION,
    maxInputSize: options.http_max_input_size,
    strictReadiness: options.strict_readiness,
    isStarted: () => started,
  });
  const grpc = options.enable_grpc
    ? buildGrpcServer({
        repository,
        logger,
        serverVersion: VERSION,
        isReady: () => serverReadiness(repository, { started, strict: options.strict_readiness }).ready,
        maxReceiveMessageLength: options.grpc_max_receive_message_length,
        maxSendMessageLength: options.grpc_max_send_message_length,
      })
    : undefined;
  logger.info({ modelDir: options.model_dir, cpus, workers: options.workers }, 'loading models');
  await repository.loadAll();
  let grpcPort: number | undefined;
  try {
    grpcPort = await grpc?.listen(options.host, options.grpc_port);
    await http.listen({ host: options.host, port: options.http_port });
  } catch (error) {
    await stopServers(http, grpc);
    await repository.close();
    throw error;
  }
  started = true;
  const httpPort = (http.server.address() as AddressInfo).port;
  logger.info({ httpPort, grpcPort, models: repository.index() }, 'tsserve is serving');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      started = false;
      await stopServers(http, grpc);
      await repository.close();
    })());
  return { http, repository, logger, httpPort, grpcPort, close };
}

/** How long gRPC calls in flight (and streams a client keeps open) may take to finish on close. */
const GRPC_GRACE_MS = 10_000;

/** Both stop accepting and let requests in flight finish; gRPC then cancels what outlives its grace. */
async function stopServers(http: FastifyInstance, grpc: GrpcServer | undefined): Promise<void> {
  await Promise.all([http.close(), grpc?.close(GRPC_GRACE_MS)]);
}
