/**
 * One timer for many periodic jobs of the same period (a simulated-nodes host: 1,000 lease
 * renewals, metrics samples): the period is cut into slots, each job sits in one slot (dealt
 * round-robin, so the jobs spread evenly over the period whenever they were added) and runs once
 * per period when its slot comes round. A job still running from its previous turn skips the
 * turn, so a slow API server never piles renewals up. Without it 1,000 kubelets started in
 * batches renew in bursts of the batch size.
 *
 * The slots keep a fixed rate: a timer that fires late (a busy event loop) runs every slot that
 * has come due since, rather than shifting all later turns back, and each job's lateness (when it
 * ran against when its slot was due) is reported (`onLate`): a simulated host's renewal lateness.
 */
export type TickerJob = () => unknown;

/** Calls `fn` every `ms` until the returned function is called (injectable for tests). */
export type Every = (fn: () => void, ms: number) => () => void;

const realEvery: Every = (fn, ms) => {
  const timer = setInterval(fn, ms);
  return () => clearInterval(timer);
};

export interface StaggeredTickerOptions {
  periodMs: number;
  /** Slot length (default: period / 100, at least 10 ms): the jobs of one slot run together. */
  slotMs?: number;
  every?: Every;
  /** A job threw or rejected (the ticker carries on). */
  onError?: (err: unknown) => void;
  /**
   * Clock, ms (default: the real one with the real timer; with an injected `every`, the
   * intervals it fired: a hand-driven timer drives the clock too).
   */
  now?: () => number;
  /** Each job run from its slot: how late, ms, against its slot's due time. */
  onLate?: (lateMs: number) => void;
}

interface Member {
  job: TickerJob;
  running: boolean;
}

export class StaggeredTicker {
  readonly periodMs: number;
  readonly slotMs: number;
  private readonly slots: Set<Member>[];
  private readonly order: number[];
  private nextSlot = 0;
  private dealt = 0;
  private cancel?: () => void;
  private readonly now: () => number;
  /** Fired intervals (the clock of a hand-driven timer). */
  private fired = 0;
  /** When the next slot is due (set when the timer starts). */
  private due = 0;

  constructor(private readonly opts: StaggeredTickerOptions) {
    if (!(opts.periodMs > 0)) throw new RangeError(`periodMs must be positive, got ${opts.periodMs}`);
    this.periodMs = opts.periodMs;
    this.slotMs = Math.min(this.periodMs, Math.max(1, opts.slotMs ?? Math.max(10, Math.floor(this.periodMs / 100))));
    this.slots = Array.from({ length: Math.max(1, Math.round(this.periodMs / this.slotMs)) }, () => new Set<Member>());
    this.order = spreadOrder(this.slots.length);
    this.now = opts.now ?? (opts.every ? () => this.fired * this.slotMs : () => performance.now());
  }

  /** Jobs registered. */
  get size(): number {
    return this.slots.reduce((n, s) => n + s.size, 0);
  }

  /**
   * Adds a job (with `runNow`, it also runs at once, e.g. a first heartbeat); returns its removal.
   * The ticker's timer runs while it has jobs.
   */
  add(job: TickerJob, opts: { runNow?: boolean } = {}): () => void {
    const member: Member = { job, running: false };
    // Dealt half a period away from the previous job, then into the gaps: jobs added one by one
    // end up evenly spread, not bunched in the slots after the current one.
    const slot = this.slots[this.order[this.dealt++ % this.order.length]];
    slot.add(member);
    if (!this.cancel) {
      this.due = this.now() + this.slotMs;
      this.cancel = (this.opts.every ?? realEvery)(() => this.onTimer(), this.slotMs);
    }
    if (opts.runNow) this.run(member);
    return () => {
      slot.delete(member);
      if (this.size === 0) this.stop();
    };
  }

  /** The timer fired: the turn of every slot due by now (1 ms of timer rounding allowed). */
  private onTimer(): void {
    this.fired++;
    const now = this.now();
    while (this.due <= now + 1 && this.cancel) {
      this.tick(Math.max(0, now - this.due));
      this.due += this.slotMs;
    }
  }

  /** One slot's turn (the timer calls it; tests may too), `lateMs` after it was due. */
  tick(lateMs = 0): void {
    const slot = this.slots[this.nextSlot];
    this.nextSlot = (this.nextSlot + 1) % this.slots.length;
    for (const m of slot) {
      if (!m.running) this.opts.onLate?.(lateMs);
      this.run(m);
    }
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  private run(m: Member): void {
    if (m.running) return;
    m.running = true;
    let result: unknown;
    try {
      result = m.job();
    } catch (e) {
      m.running = false;
      this.opts.onError?.(e);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => (m.running = false),
        (e) => {
          m.running = false;
          this.opts.onError?.(e);
        },
      );
    } else m.running = false;
  }
}

/**
 * Every slot index once, in bit-reversal order (0, ½, ¼, ¾, …, scaled to the count): any prefix
 * of it is spread nearly evenly over the period.
 */
export function spreadOrder(slots: number): number[] {
  let bits = 0;
  while (1 << bits < slots) bits++;
  const order: number[] = [];
  for (let k = 0; k < 1 << bits; k++) {
    let r = 0;
    for (let b = 0; b < bits; b++) if (k & (1 << b)) r |= 1 << (bits - 1 - b);
    if (r < slots) order.push(r);
  }
  return order;
}
