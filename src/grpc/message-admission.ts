/**
 * Admission of gRPC infer messages (src/core/admission.ts), counted by their size as each one
 * arrives, before it is decoded into tensors. A message over a limit becomes a refused request
 * that answers RESOURCE_EXHAUSTED at once; an admitted one holds its share until its answer
 * is built (releaseMessage).
 */
import type { Admission, AdmissionTicket } from '../core/admission.js';
import { ServingError } from '../core/errors.js';
import { MalformedRequest } from './request-decoding.js';

const tickets = new WeakMap<object, AdmissionTicket>();

export function admitMessage(admission: Admission, message: object, bytes: number): object {
  try {
    tickets.set(message, admission.admit(bytes));
    return message;
  } catch (error) {
    return new MalformedRequest(error as ServingError);
  }
}

/** Gives back what an admitted message held; nothing for one that was not. */
export function releaseMessage(message: object): void {
  tickets.get(message)?.release();
  tickets.delete(message);
}
