/**
 * When a watcher relists (a safety net for watch events lost over NATS): every `periodMs`, at
 * once after a NATS reconnect (events sent while the connection was down are lost) and when an
 * API server starts (a write its killed predecessor made has no event), and after a failed
 * relist sooner — from 5 s, backing off to the period.
 */
import type { NatsConnection, Subscription } from 'nats';
import { subjects } from '../../protocol/subjects.js';

export interface RelistScheduleOptions {
  nc: NatsConnection;
  periodMs: number;
  relist: () => Promise<void>;
  /** Told of each failed relist and when it is retried. */
  onError: (e: Error, retryInMs: number) => void;
}

export class RelistSchedule {
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;
  private readonly statuses: AsyncIterable<{ type: string }> & { stop?(): void };
  private readonly restarts: Subscription;

  constructor(private readonly opts: RelistScheduleOptions) {
    const statuses = (this.statuses = opts.nc.status());
    void (async () => {
      for await (const s of statuses) if (s.type === 'reconnect') this.schedule(0);
    })().catch(() => {});
    this.restarts = opts.nc.subscribe(subjects.apiServerStarted(), { callback: () => this.schedule(0) });
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.statuses.stop?.();
    this.restarts.unsubscribe();
  }

  private schedule(delayMs = this.opts.periodMs): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      try {
        await this.opts.relist();
        this.failures = 0;
        this.schedule();
      } catch (e) {
        const retryInMs = Math.min(this.opts.periodMs, 5000 * 2 ** this.failures++);
        this.opts.onError(e as Error, retryInMs);
        this.schedule(retryInMs);
      }
    }, delayMs);
  }
}
