/** Clock and pacing helpers shared by the benchmark phases. */

/** Epoch milliseconds with sub-millisecond resolution (monotonic within the run; comparable with other processes' Date.now()). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export class Aborted extends Error {
  override readonly name = 'Aborted';
  constructor() {
    super('benchmark interrupted');
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new Aborted();
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Aborted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Starts `fn(i)` for i = 0..count-1 at a fixed pace: call i is due at start + i·intervalMs on an
 * absolute schedule (a late tick does not delay the next ones), and no call waits for the
 * previous one to finish. Resolves with every call's outcome once all have settled.
 */
export async function paced<T>(
  count: number,
  intervalMs: number,
  fn: (i: number) => Promise<T>,
  signal?: AbortSignal,
): Promise<PromiseSettledResult<T>[]> {
  const started: Promise<T>[] = [];
  const t0 = now();
  try {
    for (let i = 0; i < count; i++) {
      const wait = t0 + i * intervalMs - now();
      if (wait > 0) await sleep(wait, signal);
      throwIfAborted(signal);
      started.push((async () => fn(i))()); // runs synchronously up to fn's first await
    }
  } finally {
    // Even when interrupted, let what was started settle so nothing is left dangling.
    if (signal?.aborted) await Promise.allSettled(started);
  }
  return Promise.allSettled(started);
}
