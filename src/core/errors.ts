/**
 * Every error a request can meet, as a class with a stable code. Frontends map the code to
 * their own status (HTTP status here, gRPC code in the gRPC frontend), so a message reads the
 * same whichever protocol carried the request.
 */

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'UNIMPLEMENTED'
  | 'PAYLOAD_TOO_LARGE'
  | 'ALREADY_EXISTS'
  | 'RESOURCE_EXHAUSTED'
  | 'CANCELLED';

export class ServingError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The request is malformed or does not fit the model: the caller must change it. */
export class InvalidInputError extends ServingError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

export class ModelNotFoundError extends ServingError {
  constructor(model: string, version?: string) {
    super(
      'NOT_FOUND',
      version === undefined
        ? `Request for unknown model: '${model}' is not found`
        : `Request for unknown model: '${model}' version ${version} is not found`,
    );
  }
}

export class ModelNotReadyError extends ServingError {
  constructor(model: string, detail?: string) {
    super('UNAVAILABLE', `Model '${model}' is not ready${detail ? `: ${detail}` : ''}`);
  }
}

/** The model ran and failed; the message is the runtime's own. */
export class InferenceError extends ServingError {
  constructor(message: string) {
    super('INTERNAL', message);
  }
}

export class NotImplementedError extends ServingError {
  constructor(message: string) {
    super('UNIMPLEMENTED', message);
  }
}

export class PayloadTooLargeError extends ServingError {
  /** `closeConnection`: the body was not read to its end, so the connection cannot be reused. */
  constructor(
    message: string,
    readonly closeConnection = false,
  ) {
    super('PAYLOAD_TOO_LARGE', message);
  }
}

/** The server is overloaded (a full queue, too many requests in flight): retry later. */
export class UnavailableError extends ServingError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

/**
 * Admission refused a request before its body was read (too many bytes or requests in
 * flight): 503 over HTTP, RESOURCE_EXHAUSTED over gRPC. Retry later.
 */
export class ResourceExhaustedError extends ServingError {
  constructor(message: string) {
    super('RESOURCE_EXHAUSTED', message);
  }
}

/** Something the request names (other than a model) does not exist, e.g. a shared-memory region. */
export class NotFoundError extends ServingError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The request would create something that exists already (Triton's ALREADY_EXISTS: HTTP 400). */
export class AlreadyExistsError extends ServingError {
  constructor(message: string) {
    super('ALREADY_EXISTS', message);
  }
}

/** A load request that failed, in Triton's words: "failed to load '<name>', <why>". */
export class ModelLoadError extends ServingError {
  constructor(code: ErrorCode, model: string, why: string) {
    super(code, `failed to load '${model}', ${why}`);
  }
}

/** The client went away (disconnect, gRPC cancel) before its answer: the work was dropped. */
export class CancelledError extends ServingError {
  constructor(message = 'the client cancelled the request') {
    super('CANCELLED', message);
  }
}
