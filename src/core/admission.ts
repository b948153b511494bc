/**
 * Admission before a request body is read: a request is let in only while the bytes and the
 * number of requests in flight stay within their limits, so memory is bounded by the limits,
 * not by connections x body size. Refusals are immediate (ResourceExhaustedError), as Triton
 * refuses a full queue, so a client can retry elsewhere instead of waiting on a stuck upload.
 * Protocol neutral: the HTTP frontend admits at the request line and headers, gRPC at each
 * message as it arrives.
 */
import { ResourceExhaustedError } from './errors.js';

export interface AdmissionLimits {
  /** Body bytes held across all requests in flight; 0 is unbounded. */
  maxBytes: number;
  /** Requests in flight; 0 is unbounded. */
  maxRequests: number;
}

/** One admitted request: what it holds until released. */
export class AdmissionTicket {
  private released = false;

  constructor(
    private readonly admission: Admission,
    private bytes: number,
  ) {}

  /** Counts `more` bytes received beyond what was declared; refuses past the limit. */
  grow(more: number): void {
    if (this.released) return;
    this.admission.take(more);
    this.bytes += more;
  }

  /** Gives back what the request held; safe to call more than once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.admission.giveBack(this.bytes);
  }
}

export class Admission {
  private bytes = 0;
  private requests = 0;

  constructor(readonly limits: AdmissionLimits) {}

  get bytesInFlight(): number {
    return this.bytes;
  }

  get requestsInFlight(): number {
    return this.requests;
  }

  /** Admits a request that declares `bytes` of body (0 when unknown), or throws at once. */
  admit(bytes: number): AdmissionTicket {
    const { maxRequests } = this.limits;
    if (maxRequests > 0 && this.requests >= maxRequests) {
      throw new ResourceExhaustedError(
        `server is at its limit of ${maxRequests} requests in flight (--max_inflight_requests); retry later`,
      );
    }
    this.take(bytes);
    this.requests++;
    return new AdmissionTicket(this, bytes);
  }

  /** @internal */
  take(bytes: number): void {
    const { maxBytes } = this.limits;
    if (maxBytes > 0 && this.bytes + bytes > maxBytes) {
      throw new ResourceExhaustedError(
        `server is at its limit of ${maxBytes} bytes of requests in flight (--max_inflight_bytes; ${this.bytes} held now, ` +
          `this request needs ${bytes}); retry later`,
      );
    }
    this.bytes += bytes;
  }

  /** @internal */
  giveBack(bytes: number): void {
    this.bytes -= bytes;
    this.requests--;
  }
}
