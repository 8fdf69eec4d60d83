/**
 * Events expire like kube-apiserver's `--event-ttl` (default 1 h): an Event is deleted once its
 * last occurrence (lastTimestamp, eventTime, series.lastObservedTime; else creation) is older
 * than the TTL. The Event store indexes each written Event by that time (store.expireBy), so a
 * sweep only looks at what is due — no scan of every Event. Deletes are compare-and-set on the
 * revision the sweep saw: an Event bumped meanwhile (count + 1) is kept for another TTL.
 */
import type { KubeObject } from '../../protocol/objects.js';
import type { Logger } from '../shared/logger.js';
import type { KindStore } from './store.js';

export const DEFAULT_EVENT_TTL_MS = 3_600_000;
/** Deletes in flight per sweep; what is left is taken by the next sweep, started at once. */
const BATCH = 256;
const IN_FLIGHT = 32;

/** When an Event last happened, in ms since the epoch (NaN-safe: creation, else 0 = expires at once). */
export function lastOccurrence(ev: KubeObject): number {
  const e = ev as Record<string, any>;
  let last = 0;
  for (const t of [e.lastTimestamp, e.eventTime, e.series?.lastObservedTime, e.firstTimestamp, e.metadata?.creationTimestamp]) {
    const ms = typeof t === 'string' ? Date.parse(t) : NaN;
    if (Number.isFinite(ms) && ms > last) last = ms;
  }
  return last;
}

export class EventTtl {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Events deleted for their age since start (logs, tests). */
  expired = 0;

  constructor(
    private readonly store: KindStore,
    private readonly opts: { ttlMs: number; now?: () => number; logger?: Logger },
  ) {
    store.expireBy((ev) => lastOccurrence(ev) + opts.ttlMs);
  }

  /** A tenth of the TTL between sweeps, between 100 ms and 10 s. */
  get intervalMs(): number {
    return Math.min(10_000, Math.max(100, this.opts.ttlMs / 10));
  }

  start(): void {
    this.schedule(this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (!this.stopped) this.timer = setTimeout(() => void this.sweep(), ms);
  }

  private async sweep(): Promise<void> {
    const due = this.store.takeExpired((this.opts.now ?? Date.now)(), BATCH);
    let next = 0;
    let deleted = 0;
    await Promise.all(
      Array.from({ length: Math.min(IN_FLIGHT, due.length) }, async () => {
        while (next < due.length && !this.stopped) {
          const e = due[next++];
          try {
            await this.store.remove(e.namespace, e.name, e.revision);
            deleted++;
          } catch (err) {
            // Conflict: bumped since, and indexed again with its new time. Anything else: try again next sweep.
            this.store.expireAgain(e, (this.opts.now ?? Date.now)() + this.intervalMs);
            this.opts.logger?.debug({ event: `${e.namespace}/${e.name}`, err: (err as Error).message }, 'event not expired');
          }
        }
      }),
    );
    this.expired += deleted;
    if (deleted) this.opts.logger?.debug({ deleted, ttlMs: this.opts.ttlMs }, 'expired events deleted');
    this.schedule(due.length === BATCH ? 0 : this.intervalMs);
  }
}
