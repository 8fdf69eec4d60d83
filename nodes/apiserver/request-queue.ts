/**
 * Seats for workload requests, like kube-apiserver's `--max-requests-inflight` under API
 * Priority and Fairness: at most `seats` workload requests are in flight (decoded, dispatched,
 * waiting for their store write); the rest wait here in arrival order, up to `maxQueued`, and
 * are refused (429 TooManyRequests) beyond. Node-critical requests are exempt: they run at
 * once, never behind the queue, so a flood of pod creates cannot starve Lease renewals.
 *
 * Workload requests never start inside the callback that received them: they start in a
 * later turn (setImmediate), a time budget at a time. nats.js hands over every message of a
 * socket read at once — thousands under a flood — and serving them there, or as each finished
 * request frees a seat, kept the event loop away from the priority connection's socket for
 * hundreds of ms (measured: Lease writes waited up to 0.9 s for their acknowledgement).
 *
 * A waiting request whose client has given up by the time it would get a seat is dropped
 * unserved (`expired`), as kube-apiserver ends a request with its context: serving it is wasted
 * work and its write turns the client's retry into a Conflict — at 100,000 pods that kept the
 * queue full of requests nobody waited for (a livelock). Node-critical requests never wait, so
 * never expire.
 */
import { Fifo } from '../shared/fifo.js';
import type { PriorityLevel } from './priority-level.js';

export interface RequestQueueOptions {
  /** Workload requests in flight at once (≥ 1). */
  seats: number;
  /** Workload requests waiting for a seat before new ones are refused (0: none wait). */
  maxQueued: number;
  /** CPU time (ms) spent starting workload requests before the event loop gets a turn (default 5). */
  budgetMs?: number;
}

export interface QueueStats {
  inFlight: number;
  queued: number;
  /** Workload requests refused because the queue was full. */
  rejected: number;
  /** Node-critical requests run (never queued). */
  exempt: number;
  /** Workload requests dropped unserved: their deadline passed while they waited for a seat. */
  expired: number;
}

/** A workload request waiting for a seat. */
export interface QueuedRequest {
  run: () => Promise<void>;
  /** performance.now() after which it is not served (its client has stopped listening); none: always served. */
  deadline?: number;
  /** Called instead of `run` when it expired (e.g. to answer Timeout); must not throw. */
  expire?: () => void;
}

export class RequestQueue {
  private inFlight = 0;
  /** Waiting runs, oldest first. */
  private readonly waiting = new Fifo<QueuedRequest>();
  private rejected = 0;
  private exempt = 0;
  private expired = 0;
  private drainScheduled = false;
  private readonly budgetMs: number;

  constructor(private readonly opts: RequestQueueOptions) {
    if (!(opts.seats >= 1)) throw new Error(`request queue needs at least one seat, got ${opts.seats}`);
    this.budgetMs = opts.budgetMs ?? 5;
  }

  /**
   * Runs `run` at once (node-high), or in a later turn once a seat is free (workload). False
   * when the queue is full: the caller answers TooManyRequests and `run` never runs.
   */
  submit(level: PriorityLevel, run: () => Promise<void>, deadline?: { at: number; expire?: () => void }): boolean {
    if (level === 'node-high') {
      this.exempt++;
      void run();
      return true;
    }
    // A full queue first sheds what nobody waits for any more: dead requests must not cause 429s.
    if (this.full()) this.dropExpiredHead(performance.now());
    if (this.full()) {
      this.rejected++;
      return false;
    }
    this.waiting.push({ run, deadline: deadline?.at, expire: deadline?.expire });
    this.scheduleDrain();
    return true;
  }

  stats(): QueueStats {
    return { inFlight: this.inFlight, queued: this.waiting.size, rejected: this.rejected, exempt: this.exempt, expired: this.expired };
  }

  private full(): boolean {
    return this.waiting.size >= this.opts.maxQueued + Math.max(0, this.opts.seats - this.inFlight);
  }

  /** Drops expired requests at the head of the queue (arrival order: the oldest are there). */
  private dropExpiredHead(now: number): void {
    for (let next = this.waiting.peek(); next; next = this.waiting.peek()) {
      if (next.deadline === undefined || next.deadline > now) return;
      this.dropExpired(this.waiting.shift()!);
    }
  }

  private dropExpired(req: QueuedRequest): void {
    this.expired++;
    try {
      req.expire?.();
    } catch {
      // answering a client that left must never break the queue
    }
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.inFlight >= this.opts.seats || this.waiting.size === 0) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  /** Starts waiting runs while seats are free, for at most the budget; then yields to I/O. */
  private drain(): void {
    this.drainScheduled = false;
    const until = performance.now() + this.budgetMs;
    let now = performance.now();
    while (this.inFlight < this.opts.seats && this.waiting.size > 0) {
      const req = this.waiting.shift()!;
      if (req.deadline !== undefined && req.deadline <= now) this.dropExpired(req); // costs no seat
      else this.start(req.run);
      now = performance.now();
      if (now >= until) break;
    }
    this.scheduleDrain();
  }

  private start(run: () => Promise<void>): void {
    this.inFlight++;
    let p: Promise<void>;
    try {
      p = run();
    } catch {
      p = Promise.resolve();
    }
    p.catch(() => {}) // serve() answers its own failures; a seat is freed either way
      .finally(() => {
        this.inFlight--;
        this.scheduleDrain();
      });
  }
}
