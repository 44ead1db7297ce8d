/** How often and how long {@link pollUntil} asks. */
export interface PollOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between two questions. */
  intervalMs: number;
}

/**
 * Asks `probe` until it answers with a value (anything but undefined or false) and returns it;
 * after `timeoutMs` it fails with an error that says what it was waiting for. The CLI's own
 * helper, so the built CLI loads nothing but what its commands need.
 */
export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined | false>, { timeoutMs, intervalMs }: PollOptions): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
