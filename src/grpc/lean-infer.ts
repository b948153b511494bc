/**
 * Unary ModelInfer served on node:http2 directly, in front of grpc-js (stream-hook.ts): one
 * HEADERS, one DATA and the trailers per call. grpc-js's call pipeline (interceptors, a
 * stream decoder, a read queue, call objects and events) and its per-call allocations were
 * about twice fastify + node:http's share of a request's CPU (bench/README, "Hot path").
 *
 * It answers as the grpc-js path does: the same request decoding and admission (the
 * ModelInfer method definition of request-decoding.ts), the same handler, the same
 * serializer, the same statuses and messages, the same response headers, and the call is
 * cancelled when its stream closes early or its grpc-timeout passes. Calls with a compressed
 * message (grpc-encoding other than identity) are left to grpc-js, which has the codecs.
 */
import type * as http2 from 'node:http2';
import { type MethodDefinition, type Server, status } from '@grpc/grpc-js';
import { type CancelSignal, CancelSource } from '../core/cancel.js';
import type { DataPlane } from '../dataplane/data-plane.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { inferOverGrpc } from './inference-service.js';
import type { ModelInferRequest } from './messages.js';
import { type MalformedRequest, wellFormed } from './request-decoding.js';
import { toStatus } from './status.js';
import { type StreamTaker, takeStreams } from './stream-hook.js';
import { UnaryMessageReader } from './unary-message-reader.js';
import { encodeGrpcMessage, parseGrpcTimeout } from './wire-format.js';

export const MODEL_INFER_PATH = '/inference.GRPCInferenceService/ModelInfer';

export interface LeanInferOptions {
  /** ModelInfer's method definition, with the server's request decoding (withRequestDecoding). */
  method: MethodDefinition<unknown, unknown>;
  /** What grpc-js's ModelInfer handler runs for a decoded request. */
  infer: (request: unknown, signal: CancelSignal) => Promise<unknown>;
  /** -1 is no limit, as in grpc-js. */
  maxReceiveMessageLength: number;
  maxSendMessageLength: number;
  logger: Logger;
}

export interface LeanServeOptions {
  dataPlane: DataPlane;
  metrics?: Metrics;
  logger: Logger;
  maxReceiveMessageLength: number;
  maxSendMessageLength: number;
}

/**
 * Serves unary ModelInfer on the lean path on every port `server` binds later. Where this
 * grpc-js lacks what the hook needs, says so in one log line and leaves ModelInfer to grpc-js.
 */
export function serveLeanModelInfer(server: Server, method: MethodDefinition<unknown, unknown>, options: LeanServeOptions): boolean {
  const { dataPlane, metrics, logger } = options;
  const taker = leanModelInfer({
    ...options,
    method,
    // As grpc-js's ModelInfer handler (inference-service.ts): a refused message fails before it is timed.
    infer: (request, signal) => inferOverGrpc(dataPlane, wellFormed(request as ModelInferRequest | MalformedRequest), metrics, signal),
  });
  const unhooked = (what: string) =>
    logger.warn(
      { grpcJs: what },
      'gRPC: this @grpc/grpc-js has no hook for the lean ModelInfer path; ModelInfer is served by grpc-js (--grpc_lean_infer has no effect)',
    );
  if (takeStreams(server, taker, () => unhooked("no 'stream' listener on its http2 server"))) return true;
  unhooked('createHttp2Server/onStreamOpened not found');
  return false;
}

// The headers grpc-js answers with (server-interceptors.js), so clients see no difference.
const RESPONSE_HEADERS = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
});
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0', 'grpc-message': 'OK' });
const PREFIX = 5;
const ignore = () => {};

/** Takes the unary ModelInfer calls it can serve; leaves every other stream to grpc-js. */
export function leanModelInfer(options: LeanInferOptions): StreamTaker {
  return (stream, headers) => {
    if (headers[':path'] !== MODEL_INFER_PATH) return false;
    const type = headers['content-type'];
    if (typeof type !== 'string' || !type.startsWith('application/grpc')) return false;
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    new LeanCall(stream, headers, options);
    return true;
  };
}

class LeanCall {
  private readonly reader: UnaryMessageReader;
  private readonly cancel = new CancelSource();
  private timer: NodeJS.Timeout | undefined;
  /** A status was sent, or the stream is gone: nothing more is written. */
  private ended = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    private readonly options: LeanInferOptions,
  ) {
    this.reader = new UnaryMessageReader(options.maxReceiveMessageLength, MODEL_INFER_PATH);
    // Every stream error also closes the stream, which cancels the call.
    stream.on('error', ignore);
    stream.once('close', () => this.closed());
    stream.on('data', (chunk: Buffer) => this.data(chunk));
    stream.once('end', () => this.halfClosed());
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) this.startDeadline(String(timeout));
  }

  private startDeadline(value: string): void {
    const ms = parseGrpcTimeout(value);
    if (ms === undefined) {
      this.fail(status.INTERNAL, `Invalid grpc-timeout value "${value}"`);
      return;
    }
    this.timer = setTimeout(() => {
      this.fail(status.DEADLINE_EXCEEDED, 'Deadline exceeded');
      this.cancel.abort();
    }, ms);
  }

  private data(chunk: Buffer): void {
    if (this.ended) return;
    const refused = this.reader.push(chunk);
    if (refused) this.fail(refused.code, refused.details);
  }

  private halfClosed(): void {
    if (this.ended) return;
    const message = this.reader.message;
    if (message) void this.run(message);
    else this.fail(status.UNIMPLEMENTED, `Received no request message for server streaming method ${MODEL_INFER_PATH}`);
  }

  private closed(): void {
    if (this.ended) return;
    this.finish();
    this.cancel.abort();
  }

  private async run(message: Buffer): Promise<void> {
    let answer: unknown;
    try {
      answer = await this.options.infer(this.options.method.requestDeserialize(message), this.cancel);
    } catch (error) {
      const { code, details } = toStatus(error, this.options.logger);
      this.fail(code, details);
      return;
    }
    this.respond(answer);
  }

  private respond(answer: unknown): void {
    if (this.ended) return;
    let message: Uint8Array;
    try {
      message = this.options.method.responseSerialize(answer);
    } catch {
      this.fail(status.INTERNAL, 'Error serializing response');
      return;
    }
    const max = this.options.maxSendMessageLength;
    if (max !== -1 && message.byteLength > max) {
      this.fail(status.RESOURCE_EXHAUSTED, `Sent message larger than max (${message.byteLength + PREFIX} vs. ${max})`);
      return;
    }
    // The 5-byte prefix written beside the message, not copied in front of it: a large output's
    // bytes are not copied again; corked, end() flushes the two as one write.
    const prefix = Buffer.allocUnsafe(PREFIX);
    prefix[0] = 0;
    prefix.writeUInt32BE(message.byteLength, 1);
    this.finish();
    if (this.stream.destroyed) return;
    this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(OK_TRAILERS));
    this.stream.cork();
    this.stream.write(prefix);
    this.stream.end(message);
  }

  /** A trailers-only answer, as grpc-js gives every error before a message was sent. */
  private fail(code: status, details: string): void {
    if (this.ended) return;
    this.finish();
    if (this.stream.destroyed) return;
    this.stream.respond(
      { ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) },
      { endStream: true },
    );
  }

  private finish(): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
