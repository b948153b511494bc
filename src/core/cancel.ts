/**
 * Cancellation of one request as it travels from a frontend to a worker: the frontend aborts it
 * when its client leaves; the scheduler, the pool and a generation read it.
 *
 * Not the platform's AbortSignal: making one and adding and removing a listener cost about 10 us
 * in Node 20 (EventTarget), several times over on every request, which took a third off the
 * batch-1 throughput of a microsecond model (bench:quick). This is a list of callbacks.
 */

export interface CancelSignal {
  readonly aborted: boolean;
  /** What `abort` was given; undefined until then or when given nothing. */
  readonly reason: unknown;
  /** Calls `listener` once when aborted (now, if already); returns what takes it off again. */
  onAbort(listener: () => void): () => void;
}

const NOTHING = () => {};

export class CancelSource implements CancelSignal {
  private listeners: (() => void)[] | undefined;
  private done = false;
  private why: unknown;

  get aborted(): boolean {
    return this.done;
  }

  get reason(): unknown {
    return this.why;
  }

  get signal(): CancelSignal {
    return this;
  }

  onAbort(listener: () => void): () => void {
    if (this.done) {
      listener();
      return NOTHING;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const at = this.listeners?.indexOf(listener) ?? -1;
      if (at >= 0) this.listeners!.splice(at, 1);
    };
  }

  abort(reason?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.why = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    listeners?.forEach((listener) => listener());
  }

  /** A source already aborted (with `reason`). */
  static aborted(reason?: unknown): CancelSignal {
    const source = new CancelSource();
    source.abort(reason);
    return source;
  }
}

/** A platform AbortSignal as a CancelSignal, for callers that hold one (fetch-style APIs, tests). */
export function fromAbortSignal(signal: AbortSignal): CancelSignal {
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason as unknown;
    },
    onAbort(listener) {
      if (signal.aborted) {
        listener();
        return NOTHING;
      }
      signal.addEventListener('abort', listener, { once: true });
      return () => signal.removeEventListener('abort', listener);
    },
  };
}
