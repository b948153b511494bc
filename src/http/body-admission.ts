/**
 * Admission of HTTP requests before their bodies are read (src/core/admission.ts): a request
 * that carries a body is counted, with the bytes its Content-Length declares, at its headers;
 * over a limit it gets 503 at once and its body is never buffered. A body sent without
 * Content-Length (chunked) is counted as it arrives. What a request holds is given back when
 * its response ends or its connection closes.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Admission, AdmissionTicket } from '../core/admission.js';

const tickets = new WeakMap<IncomingMessage, AdmissionTicket>();

function carriesBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
}

export function registerBodyAdmission(app: FastifyInstance, admission: Admission, maxInputSize: number): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!carriesBody(request.raw)) return done();
    // An oversized body is read and dropped, never held (body.ts), so it holds no more than the limit.
    const declared = Math.min(Number(request.headers['content-length']) || 0, maxInputSize);
    let ticket: AdmissionTicket;
    try {
      ticket = admission.admit(declared);
    } catch (error) {
      return done(error as Error);
    }
    tickets.set(request.raw, ticket);
    reply.raw.once('close', () => ticket.release());
    done();
  });
}

/** Counts bytes of a body without Content-Length as they arrive; throws past the limit. */
export function undeclaredBytes(raw: IncomingMessage): ((bytes: number) => void) | undefined {
  const ticket = tickets.get(raw);
  return ticket && ((bytes) => ticket.grow(bytes));
}
