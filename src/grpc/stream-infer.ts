/**
 * ModelStreamInfer, Triton's bidirectional form of infer: every request on the stream runs as
 * soon as it arrives, and its answer is written in request order, either `infer_response` or
 * `error_message` (with the failed request's model and id), so one bad request does not end
 * the stream. A client that sends the header `triton_grpc_error: true` asks for Triton's
 * other mode: the first error ends the stream with its gRPC status.
 *
 * Flow control: at most `maxOutstanding` requests per stream are accepted but not yet answered
 * and written; past that the stream stops reading (HTTP/2 flow control then holds the client
 * back), so a client that sends but never reads cannot make the server buffer answers without
 * bound. An answer the client does not take within `stallTimeoutMs` ends the stream.
 */
import type { CancelSignal } from '../core/cancel.js';
import * as http2 from 'node:http2';
import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { ModelInferRequest, ModelInferResponse, ModelStreamInferResponse } from './messages.js';
import { releaseMessage } from './message-admission.js';
import { MalformedRequest } from './request-decoding.js';
import { type ErrorStatus, toStatus } from './status.js';
import { cancelSignal } from './call-signal.js';

type StreamRequest = ModelInferRequest | MalformedRequest;
type StreamCall = ServerDuplexStream<StreamRequest, ModelStreamInferResponse>;

interface Answer {
  message: ModelStreamInferResponse;
  error?: ErrorStatus;
}

const SHUTTING_DOWN: ErrorStatus = { code: status.UNAVAILABLE, details: 'the server is shutting down' };

export interface StreamLimits {
  /** Requests per stream accepted but not yet answered and written. */
  maxOutstanding: number;
  /** How long an answer may wait for the client to read before the stream ends. */
  stallTimeoutMs: number;
}

/**
 * Ends a stream whose client stopped reading. A status cannot reach it: trailers queue behind
 * the answers HTTP/2 flow control holds back, and so would the answers' memory. So the
 * HTTP/2 stream is reset (RST_STREAM CANCEL), which frees them. grpc-js has no public call for
 * this; its call object holds the stream, and without it the status is tried anyway.
 */
function resetStalled(call: StreamCall, error: ErrorStatus): void {
  const stream = (call as unknown as { call?: { stream?: { close?: (code: number) => void } } }).call?.stream;
  if (typeof stream?.close === 'function') stream.close(http2.constants.NGHTTP2_CANCEL);
  else call.emit('error', error);
}

/** Resolves true once `call` can take writes again, false if it closed or the wait timed out. */
function drained(call: StreamCall, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      call.off('drain', onDrain);
      call.off('close', onClose);
      call.off('cancelled', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    call.on('drain', onDrain);
    call.once('close', onClose);
    call.once('cancelled', onClose);
  });
}

export class StreamInfer {
  private closing = false;
  /** Open streams, each ending itself once idle when the server closes. */
  private readonly open = new Set<() => void>();

  constructor(
    /** `signal` aborts when the stream is cancelled: every request it carries is dropped. */
    private readonly infer: (request: StreamRequest, signal: CancelSignal) => Promise<ModelInferResponse>,
    private readonly logger: Logger,
    private readonly limits: StreamLimits = { maxOutstanding: 16, stallTimeoutMs: 60_000 },
  ) {}

  serve(call: StreamCall): void {
    const grpcErrors = call.metadata.get('triton_grpc_error').some((v) => String(v).toLowerCase() === 'true');
    let pending = 0;
    let clientDone = false;
    let finished = false;
    let tail = Promise.resolve();
    const signal = cancelSignal(call);
    const finish = (error?: ErrorStatus) => {
      if (finished) return;
      finished = true;
      this.open.delete(finishIfIdle);
      if (error) call.emit('error', error);
      else call.end();
    };
    const finishIfIdle = () => {
      if (pending === 0 && (clientDone || this.closing)) finish();
    };
    this.open.add(finishIfIdle);

    call.on('data', (request: StreamRequest) => {
      if (finished || this.closing) releaseMessage(request);
      if (finished) return;
      pending++;
      if (pending >= this.limits.maxOutstanding) call.pause();
      const answer = this.closing ? Promise.resolve(this.failure(request, SHUTTING_DOWN)) : this.answer(request, signal);
      tail = tail
        .then(async () => {
          const { message, error } = await answer;
          if (finished || call.cancelled) return void pending--;
          if (error && grpcErrors) return finish(error);
          if (!call.write(message) && !(await drained(call, this.limits.stallTimeoutMs)) && !finished && !call.cancelled) {
            const seconds = this.limits.stallTimeoutMs / 1000;
            const details = `the client read no answer on this ModelStreamInfer stream for ${seconds} s (--grpc_stream_stall_timeout); the stream is reset`;
            this.logger.warn({ stallTimeout: seconds }, details);
            finished = true;
            this.open.delete(finishIfIdle);
            return resetStalled(call, { code: status.DEADLINE_EXCEEDED, details });
          }
          pending--;
          if (pending < this.limits.maxOutstanding && call.isPaused()) call.resume();
          finishIfIdle();
        })
        // A write to a stream the client has just torn down must not become an unhandled rejection.
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not answer on a ModelStreamInfer stream'));
    });
    call.on('end', () => {
      clientDone = true;
      finishIfIdle();
    });
    call.on('cancelled', () => {
      finished = true;
      this.open.delete(finishIfIdle);
    });
  }

  /** Refuses new requests and ends every stream once the requests it carries are answered. */
  drain(): void {
    this.closing = true;
    for (const finishIfIdle of [...this.open]) finishIfIdle();
  }

  private async answer(request: StreamRequest, signal: CancelSignal): Promise<Answer> {
    try {
      // proto3 leaves empty strings off the wire, but protobufjs writes any field that is set.
      return { message: { infer_response: await this.infer(request, signal) } };
    } catch (error) {
      return this.failure(request, toStatus(error, this.logger));
    }
  }

  private failure(request: StreamRequest, error: ErrorStatus): Answer {
    const echo =
      request instanceof MalformedRequest ? {} : { model_name: request.model_name, model_version: request.model_version, id: request.id };
    return { message: { error_message: error.details, infer_response: echo }, error };
  }
}
