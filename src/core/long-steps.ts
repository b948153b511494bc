/**
 * Long synchronous steps on the serving thread (the scan of a body of millions of BYTES
 * elements, the measuring pass of such an answer in JSON) take event-loop turns one at a time.
 * Several large requests can become ready in the same turn; run back to back, their steps
 * would make a liveness probe wait behind all of them. Taking turns, the sockets are polled
 * between any two, so a probe waits behind one at most.
 */

/** Bodies and answers from this size up take their turn; smaller ones cost nothing extra. */
export const LONG_STEP_BYTES = 1024 * 1024;

let last: Promise<void> = Promise.resolve();

/**
 * Resolves in an event-loop turn of its own: each call's turn comes after the previous call's,
 * and I/O is polled between them (an immediate queued during the check phase runs in the next
 * loop iteration).
 */
export function longStepTurn(): Promise<void> {
  const turn = last.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  last = turn;
  return turn;
}
