/**
 * The gRPC frontend: inference.GRPCInferenceService, grpc.health.v1.Health and server
 * reflection on one @grpc/grpc-js server, with KServe's message size limits.
 */
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DataPlane } from '../dataplane/data-plane.js';
import { HealthService } from './health-service.js';
import { routeGrpcLogs } from './library-log.js';
import { inferOverGrpc, inferenceService } from './inference-service.js';
import { withRequestDecoding } from './request-decoding.js';
import { HEALTH_SERVICE, INFERENCE_SERVICE, loadDefinitions } from './proto.js';
import { type StreamLimits, StreamInfer } from './stream-infer.js';
import type { Admission } from '../core/admission.js';
import { disableNagle } from './no-delay.js';
import { widenWindows } from './flow-control.js';
import { serveLeanModelInfer } from './lean-infer.js';

export interface GrpcOptions {
  dataPlane: DataPlane;
  logger: Logger;
  maxReceiveMessageLength: number;
  maxSendMessageLength: number;
  metrics?: Metrics;
  /** Bytes and requests in flight: infer messages are admitted as they arrive. */
  admission?: Admission;
  streamLimits?: StreamLimits;
  /** Serve over TLS with the HTTP port's certificate and key (--ssl_certfile, --ssl_keyfile). */
  tls?: { cert: Buffer; key: Buffer };
  /** Unary ModelInfer on node:http2 directly rather than through grpc-js (lean-infer.ts); --grpc_lean_infer. */
  leanInfer?: boolean;
}

export interface GrpcServer {
  /** Binds host:port (0 picks a free port); resolves with the port bound. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Stops taking calls, ends idle streams, lets calls in flight finish for up to `graceMs`,
   * then cancels whatever is left.
   */
  close(graceMs: number): Promise<void>;
}

function address(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function buildGrpcServer(options: GrpcOptions): GrpcServer {
  routeGrpcLogs(options.logger);
  const definitions = loadDefinitions();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageLength,
    'grpc.max_send_message_length': options.maxSendMessageLength,
    // Channelz keeps per-call bookkeeping that nothing here reads.
    'grpc.enable_channelz': 0,
  });
  disableNagle(server);
  widenWindows(server);
  const streams = new StreamInfer(
    (message, signal) => inferOverGrpc(options.dataPlane, message, options.metrics, signal),
    options.logger,
    options.streamLimits,
  );
  // The same readiness as GET /v2/health/ready.
  const health = new HealthService(() => options.dataPlane.ready().ready);
  // Only infer requests carry tensors worth moving to a worker without a copy.
  const inference = withRequestDecoding(
    definitions[INFERENCE_SERVICE] as grpc.ServiceDefinition,
    ['ModelInfer', 'ModelStreamInfer'],
    options.admission,
  );
  server.addService(inference, inferenceService({ ...options, streams }));
  if (options.leanInfer) serveLeanModelInfer(server, inference.ModelInfer!, options);
  server.addService(definitions[HEALTH_SERVICE] as grpc.ServiceDefinition, health.implementation());
  new ReflectionService(definitions).addToServer(server);

  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        const credentials = options.tls
          ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }], false)
          : grpc.ServerCredentials.createInsecure();
        server.bindAsync(address(host, port), credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
      }),
    close: (graceMs) => {
      streams.drain();
      health.close();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
