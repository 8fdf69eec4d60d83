/**
 * The two deadline loops the tests wait with: `until` polls a condition until it is truthy,
 * `retry` calls an operation until it stops throwing. Both fail with what they waited for.
 */

/** Polls `cond` every 50 ms until it returns a truthy value, failing after `ms`. */
export async function until<T>(what: string, cond: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval of a deadline loop
  }
}

/** Retries `fn` until it resolves, every `intervalMs`, failing with the last error after `timeoutMs`. */
export async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last error: ${(last as Error)?.message ?? last}`);
    await new Promise((r) => setTimeout(r, intervalMs)); // retry interval of a deadline loop
  }
}
