/**
 * ModelStreamInfer, Triton's bidirectional form of infer: every request on the stream runs as
 * soon as it arrives, and its answer is written in request order, either `infer_response` or
 * `error_message` (with the failed request's model and id), so one bad request does not end
 * the stream. A client that sends the header `triton_grpc_error: true` asks for Triton's
 * other mode: the first error ends the stream with its gRPC status.
 */
import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { ModelInferRequest, ModelInferResponse, ModelStreamInferResponse } from './messages.js';
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

export class StreamInfer {
  private closing = false;
  /** Open streams, each ending itself once idle when the server closes. */
  private readonly open = new Set<() => void>();

  constructor(
    /** `signal` aborts when the stream is cancelled: every request it carries is dropped. */
    private readonly infer: (request: StreamRequest, signal: AbortSignal) => Promise<ModelInferResponse>,
    private readonly logger: Logger,
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
      if (finished) return;
      pending++;
      const answer = this.closing ? Promise.resolve(this.failure(request, SHUTTING_DOWN)) : this.answer(request, signal);
      tail = tail
        .then(async () => {
          const { message, error } = await answer;
          pending--;
          if (finished || call.cancelled) return;
          if (error && grpcErrors) return finish(error);
          call.write(message);
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

  private async answer(request: StreamRequest, signal: AbortSignal): Promise<Answer> {
    try {
      // proto3 leaves empty strings off the wire, but protobufjs writes any field that is set.
      return { message: { infer_response: await this.infer(request, signal) } };
    } catch (error) {
      return this.failure(request, toStatus(error, this.logger));
    }
  }

  private failure(request: StreamRequest, error: ErrorStatus): Answer {
    const echo = request instanceof MalformedRequest ? {} : { model_name: request.model_name, model_version: request.model_version, id: request.id };
    return { message: { error_message: error.details, infer_response: echo }, error };
  }
}
