/**
 * How long the event loop of a busy process stood still: the longest delay of the loop and the
 * longest GC pause of each window, logged once per window as one `event loop` line (info: data).
 * A loop that stands still reads no socket: nats-server drops a client that has not taken its
 * pending bytes within the write deadline (a slow consumer), whatever its average CPU.
 */
import { monitorEventLoopDelay, PerformanceObserver, constants } from 'node:perf_hooks';
import type { Logger } from './logger.js';

export const EVENT_LOOP_MSG = 'event loop';

/** Starts logging every `everyMs` (with the fields of `extra`); returns the stop. */
export function logEventLoopStalls(log: Logger, everyMs = 5000, extra: () => Record<string, unknown> = () => ({})): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let gcMaxMs = 0;
  let gcMs = 0;
  let majorGcs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if (e.duration > gcMaxMs) gcMaxMs = e.duration;
      if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const timer = setInterval(() => {
    log.info(
      {
        delayMaxMs: Math.round(delay.max / 1e6),
        delayP99Ms: Math.round(delay.percentile(99) / 1e6),
        gcMaxMs: Math.round(gcMaxMs),
        gcMs: Math.round(gcMs),
        majorGcs,
        heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
        ...extra(),
      },
      EVENT_LOOP_MSG,
    );
    delay.reset();
    gcMaxMs = gcMs = majorGcs = 0;
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    delay.disable();
    gc.disconnect();
  };
}
