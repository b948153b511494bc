/**
 * Wires a server together: load the repository first, then open the ports, because KServe's
 * default readiness probe is a TCP connect and an open port must mean the models are loaded.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServerOptions } from './config/cli-args.js';
import { cpuLimit } from './config/cpu-limit.js';
import { buildHttpServer } from './http/server.js';
import { type Logger, createLogger } from './log.js';
import { ModelRepository } from './repository/model-repository.js';
import { runtimeByName, runtimeNames } from '../runtimes/index.js';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

export interface RunningServer {
  http: FastifyInstance;
  repository: ModelRepository;
  logger: Logger;
  /** The port actually bound (useful with --http_port 0). */
  httpPort: number;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions, logger = createLogger(options.log_level)): Promise<RunningServer> {
  const cpus = cpuLimit();
  if (options.framework && !runtimeByName(options.framework)) {
    throw new Error(`--framework '${options.framework}' is not one of ${runtimeNames().join(', ')}`);
  }
  const repository = new ModelRepository({
    modelDir: options.model_dir,
    modelName: options.model_name,
    instances: Math.max(1, options.workers),
    intraOpThreads: options.nthread,
    interOpThreads: Math.max(1, options.inter_op_threads),
    cpus,
    framework: options.framework,
    defaultParameters: options.predict_proba ? { predict_proba: 'true' } : {},
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
  logger.info({ modelDir: options.model_dir, cpus, workers: options.workers }, 'loading models');
  await repository.loadAll();
  await http.listen({ host: options.host, port: options.http_port });
  started = true;
  const httpPort = (http.server.address() as AddressInfo).port;
  logger.info({ httpPort, models: repository.index() }, 'tsserve is serving');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      started = false;
      await http.close(); // stops accepting, lets requests in flight finish
      await repository.close();
    })());
  return { http, repository, logger, httpPort, close };
}
