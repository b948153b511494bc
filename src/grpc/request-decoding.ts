/**
 * How request messages are decoded before a handler sees them. A message that is not valid
 * protobuf for its type becomes a MalformedRequest rather than an exception: grpc-js would
 * answer an exception with INTERNAL "Error deserializing request" (and end a whole stream),
 * while this is the client's error, INVALID_ARGUMENT, and on a stream only that one request's.
 * The infer methods also adopt the message's buffer (owned-messages.ts).
 */
import type * as grpc from '@grpc/grpc-js';
import { InvalidInputError } from '../core/errors.js';
import { adoptMessageBuffer } from './owned-messages.js';

export class MalformedRequest {
  constructor(readonly error: InvalidInputError) {}
}

/** Throws the malformed request's INVALID_ARGUMENT; returns any other request as is. */
export function wellFormed<T>(request: T | MalformedRequest): T {
  if (request instanceof MalformedRequest) throw request.error;
  return request;
}

function decodingMethod(method: grpc.MethodDefinition<unknown, unknown>, adopt: boolean): grpc.MethodDefinition<unknown, unknown> {
  const deserialize = method.requestDeserialize;
  const type = method.path.slice(method.path.lastIndexOf('/') + 1);
  return {
    ...method,
    requestDeserialize: (bytes: Buffer) => {
      try {
        if (adopt) adoptMessageBuffer(bytes);
        return deserialize(bytes);
      } catch (error) {
        return new MalformedRequest(new InvalidInputError(`the ${type} request is not a valid protobuf message: ${(error as Error).message}`));
      }
    },
  };
}

/** The service definition with every request decoded as above. */
export function withRequestDecoding(definition: grpc.ServiceDefinition, adopting: readonly string[]): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [name, decodingMethod(method, adopting.includes(name))]),
  );
}
