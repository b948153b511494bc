/**
 * How request messages are decoded before a handler sees them. A message that is not valid
 * protobuf for its type becomes a MalformedRequest rather than an exception: grpc-js would
 * answer an exception with INTERNAL "Error deserializing request" (and end a whole stream),
 * while this is the client's error, INVALID_ARGUMENT, and on a stream only that one request's.
 * The infer methods also adopt the message's buffer (owned-messages.ts).
 */
import type * as grpc from '@grpc/grpc-js';
import type { Admission } from '../core/admission.js';
import { InvalidInputError, type ServingError } from '../core/errors.js';
import { admitMessage } from './message-admission.js';
import { adoptMessageBuffer } from './owned-messages.js';

/** A request refused as it was decoded: not valid protobuf, or not admitted (message-admission.ts). */
export class MalformedRequest {
  constructor(readonly error: ServingError) {}
}

/** Throws the malformed request's INVALID_ARGUMENT; returns any other request as is. */
export function wellFormed<T>(request: T | MalformedRequest): T {
  if (request instanceof MalformedRequest) throw request.error;
  return request;
}

function decodingMethod(
  method: grpc.MethodDefinition<unknown, unknown>,
  adopt: boolean,
  admission?: Admission,
): grpc.MethodDefinition<unknown, unknown> {
  const deserialize = method.requestDeserialize;
  const type = method.path.slice(method.path.lastIndexOf('/') + 1);
  return {
    ...method,
    requestDeserialize: (bytes: Buffer) => {
      let message: unknown;
      try {
        if (adopt) adoptMessageBuffer(bytes);
        message = deserialize(bytes);
      } catch (error) {
        return new MalformedRequest(
          new InvalidInputError(`the ${type} request is not a valid protobuf message: ${(error as Error).message}`),
        );
      }
      return admission ? admitMessage(admission, message as object, bytes.byteLength) : message;
    },
  };
}

/** The service definition with every request decoded as above. */
export function withRequestDecoding(
  definition: grpc.ServiceDefinition,
  adopting: readonly string[],
  admission?: Admission,
): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => {
      const infer = adopting.includes(name);
      return [name, decodingMethod(method, infer, infer ? admission : undefined)];
    }),
  );
}
