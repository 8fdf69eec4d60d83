/**
 * Work run in time slices: tasks queue in order and run a slice at a time (`sliceMs` of work,
 * then back to the event loop), so a process that receives more than it can handle at once keeps
 * reading its socket. A simulated-nodes host handling a burst of pod watch events in the NATS
 * callbacks read its socket only as fast as it created pod actors: nats-server's backlog for it
 * grew until a flush took longer than the write deadline, and it was dropped as a slow consumer
 * (then relisted everything, adding load). Queued here, the backlog waits in the host instead,
 * and status-write replies are read as they arrive rather than behind it.
 */
import { Fifo } from './fifo.js';

export interface SlicedQueueOptions {
  /** Work per slice, ms (default 10). */
  sliceMs?: number;
  /** A task threw (the queue carries on). */
  onError?: (err: unknown) => void;
  /** Clock, ms (tests). */
  now?: () => number;
  /** Runs `fn` after pending I/O (tests may pass their own). */
  later?: (fn: () => void) => void;
}

export class SlicedQueue {
  private readonly tasks = new Fifo<() => void>();
  private scheduled = false;
  private stopped = false;
  private readonly sliceMs: number;
  private readonly now: () => number;
  private readonly later: (fn: () => void) => void;
  /** Most tasks waiting at once since the last takeMaxWaiting(). */
  maxWaiting = 0;

  /** The most tasks waiting at once since the last call (the host logs it per window). */
  takeMaxWaiting(): number {
    const max = this.maxWaiting;
    this.maxWaiting = this.waiting;
    return max;
  }

  constructor(private readonly opts: SlicedQueueOptions = {}) {
    this.sliceMs = opts.sliceMs ?? 10;
    this.now = opts.now ?? performance.now.bind(performance);
    // setImmediate: the poll phase (socket reads) runs before the next slice.
    this.later = opts.later ?? ((fn) => void setImmediate(fn));
  }

  /** Tasks not run yet. */
  get waiting(): number {
    return this.tasks.size;
  }

  push(task: () => void): void {
    if (this.stopped) return;
    this.tasks.push(task);
    if (this.waiting > this.maxWaiting) this.maxWaiting = this.waiting;
    if (!this.scheduled) {
      this.scheduled = true;
      this.later(() => this.runSlice());
    }
  }

  /** Drops what is queued; later pushes are ignored. */
  stop(): void {
    this.stopped = true;
    this.tasks.clear();
  }

  private runSlice(): void {
    this.scheduled = false;
    const until = this.now() + this.sliceMs;
    for (let task = this.tasks.shift(); task; task = this.tasks.shift()) {
      try {
        task();
      } catch (e) {
        this.opts.onError?.(e);
      }
      if (this.now() >= until) break;
    }
    if (this.tasks.size > 0) {
      this.scheduled = true;
      this.later(() => this.runSlice());
    }
  }
}
