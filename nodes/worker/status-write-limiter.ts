/**
 * A bound on the pod status writes in flight at once, shared by every kubelet of a process (the
 * simulated-nodes host: all its nodes' pods). kubelet's `--kube-api-qps`/`--kube-api-burst` limit
 * a rate; this limits concurrency instead, which follows the API server's speed by itself: N
 * writes in flight at a latency L is N/L writes a second, so a slow server gets fewer, and this
 * host never has more than N of its writes waiting in the server's queue — where, unbounded,
 * 100,000 pods' writes sat past their 5 s timeout and were sent again (a livelock). A rate limit
 * would keep sending at its rate however slow the server got.
 *
 * Waiters get slots in arrival order. A pod waits for a slot before it picks the status to write
 * (pod-worker.ts), so what it published meanwhile collapses into its latest status.
 */
import { Fifo } from '../shared/fifo.js';

export interface StatusWriteStats {
  inFlight: number;
  waiting: number;
  /** The most writes ever in flight at once. */
  peak: number;
}

export class StatusWriteLimiter {
  private inFlight = 0;
  private peak = 0;
  /** Waiters, the next to get a slot first. */
  private readonly waiters = new Fifo<() => void>();

  /** `limit` writes in flight at once (≥ 1). */
  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`status writes in flight must be a whole number ≥ 1, got ${limit}`);
  }

  /** Resolves with a release function once a slot is free; call it exactly once when the write is answered. */
  acquire(): Promise<() => void> {
    if (this.inFlight < this.limit && this.waiters.size === 0) return Promise.resolve(this.grant());
    return new Promise((resolve) => this.waiters.push(() => resolve(this.grant())));
  }

  stats(): StatusWriteStats {
    return { inFlight: this.inFlight, waiting: this.waiters.size, peak: this.peak };
  }

  private grant(): () => void {
    this.inFlight++;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.next();
    };
  }

  private next(): void {
    if (this.inFlight >= this.limit) return;
    this.waiters.shift()?.();
  }
}
