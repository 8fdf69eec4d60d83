/**
 * How late node heartbeats go out: each renewal's delay against the time its turn was due
 * (staggered-ticker.ts `onLate`), gathered over a window and logged once per window as one
 * `heartbeat lateness` line, which the scale benchmark reads from the host's log.
 */
import type { Logger } from '../shared/logger.js';

export const HEARTBEAT_LATENESS_MSG = 'heartbeat lateness';

export interface LatenessSummary {
  renewals: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Every sample of the window, whole ms (the benchmark merges windows for its own p99). */
  lateMs: number[];
}

/** The p-th percentile (0–100) of sorted values, nearest rank; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export class LatenessWindow {
  private samples: number[] = [];

  record(lateMs: number): void {
    this.samples.push(Math.round(lateMs));
  }

  /** The window's summary (undefined when nothing was renewed); starts the next window. */
  take(): LatenessSummary | undefined {
    if (!this.samples.length) return undefined;
    const lateMs = this.samples;
    this.samples = [];
    const sorted = [...lateMs].sort((a, b) => a - b);
    return { renewals: lateMs.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1], lateMs };
  }
}

/** Logs the window every `everyMs` (info: the line is data, not a warning); returns the stop. */
export function logLateness(window: LatenessWindow, log: Logger, everyMs = 5000): () => void {
  const timer = setInterval(() => {
    const s = window.take();
    if (s) log.info(s, HEARTBEAT_LATENESS_MSG);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
