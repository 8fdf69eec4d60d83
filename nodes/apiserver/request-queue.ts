/**
 * Seats for workload requests, like kube-apiserver's `--max-requests-inflight` under API
 * Priority and Fairness: at most `seats` workload requests are in flight (decoded, dispatched,
 * waiting for their store write); the rest wait here in arrival order, up to `maxQueued`, and
 * are refused (429 TooManyRequests) beyond. Node-critical requests are exempt: they run at
 * once, never behind the queue, so a flood of pod creates cannot starve Lease renewals.
 */
import type { PriorityLevel } from './priority-level.js';

export interface RequestQueueOptions {
  /** Workload requests in flight at once (≥ 1). */
  seats: number;
  /** Workload requests waiting for a seat before new ones are refused (0: none wait). */
  maxQueued: number;
}

export interface QueueStats {
  inFlight: number;
  queued: number;
  /** Workload requests refused because the queue was full. */
  rejected: number;
  /** Node-critical requests run (never queued). */
  exempt: number;
}

export class RequestQueue {
  private inFlight = 0;
  /** A ring of waiting runs: `head` is the next to start (no O(n) shift under a flood). */
  private waiting: (() => Promise<void>)[] = [];
  private head = 0;
  private rejected = 0;
  private exempt = 0;

  constructor(private readonly opts: RequestQueueOptions) {
    if (!(opts.seats >= 1)) throw new Error(`request queue needs at least one seat, got ${opts.seats}`);
  }

  /**
   * Runs `run` now or when a seat frees (workload), or at once (node-high). False when the
   * queue is full: the caller answers TooManyRequests and `run` never runs.
   */
  submit(level: PriorityLevel, run: () => Promise<void>): boolean {
    if (level === 'node-high') {
      this.exempt++;
      void run();
      return true;
    }
    if (this.inFlight < this.opts.seats) {
      this.start(run);
      return true;
    }
    if (this.waiting.length - this.head >= this.opts.maxQueued) {
      this.rejected++;
      return false;
    }
    this.waiting.push(run);
    return true;
  }

  stats(): QueueStats {
    return { inFlight: this.inFlight, queued: this.waiting.length - this.head, rejected: this.rejected, exempt: this.exempt };
  }

  private start(run: () => Promise<void>): void {
    this.inFlight++;
    run()
      .catch(() => {}) // serve() answers its own failures; a seat is freed either way
      .finally(() => {
        this.inFlight--;
        this.next();
      });
  }

  private next(): void {
    if (this.head >= this.waiting.length) return;
    const run = this.waiting[this.head];
    this.waiting[this.head++] = undefined as never;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    this.start(run);
  }
}
