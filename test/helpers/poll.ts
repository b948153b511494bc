/** Waits by polling, so a test holds on a slow machine instead of guessing a sleep. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, deadlineMs = 10_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
