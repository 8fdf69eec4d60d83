/**
 * When a watcher relists (a safety net for watch events lost over NATS): every `periodMs`, at
 * once after a NATS reconnect (events sent while the connection was down are lost), and after a
 * failed relist sooner — from 5 s, backing off to the period.
 */
import type { NatsConnection } from 'nats';

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

  constructor(private readonly opts: RelistScheduleOptions) {
    const statuses = (this.statuses = opts.nc.status());
    void (async () => {
      for await (const s of statuses) if (s.type === 'reconnect') this.schedule(0);
    })().catch(() => {});
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.statuses.stop?.();
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
