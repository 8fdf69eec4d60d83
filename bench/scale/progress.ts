/**
 * Progress lines of a long scale run, and its stall detector: every `everyMs` one line with the
 * phase, the counters and their rates; when none of the counters moved for `stallMs` while a
 * phase waits on them, `stalled` rejects (the run then stops and keeps its logs instead of
 * waiting out hour-long deadlines).
 */
import os from 'node:os';

export type Counters = Record<string, number>;

export class Progress {
  /** Rejects when the run stalls; never resolves. */
  readonly stalled: Promise<never>;
  private phase = 'starting';
  private waiting = false;
  private last: Counters = {};
  private lastAt = 0;
  private movedAt = 0;
  private timer?: NodeJS.Timeout;
  private fail!: (e: Error) => void;

  constructor(
    private readonly say: (line: string) => void,
    private readonly read: () => Counters,
    /** Extra text for each line (RSS of the processes). */
    private readonly extra: () => string,
    private readonly everyMs = 30_000,
    private readonly stallMs = 300_000,
    private readonly clock: () => number = Date.now,
  ) {
    this.stalled = new Promise<never>((_, reject) => (this.fail = reject));
    this.stalled.catch(() => {});
  }

  start(): void {
    this.last = this.read();
    this.lastAt = this.movedAt = this.clock();
    this.timer = setInterval(() => this.tick(), this.everyMs);
  }

  /** A new phase; `waiting`: it waits on the counters, so a long standstill is a stall. */
  enter(phase: string, waiting: boolean): void {
    this.phase = phase;
    this.waiting = waiting;
    this.movedAt = this.clock();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One progress line; a stall when the counters stood still too long. Public for tests. */
  tick(): void {
    const now = this.clock();
    const cur = this.read();
    const dt = (now - this.lastAt) / 1000;
    const parts = Object.entries(cur).map(([k, v]) => {
      const d = v - (this.last[k] ?? 0);
      return d > 0 && dt > 0 ? `${k} ${v} (+${(d / dt).toFixed(0)}/s)` : `${k} ${v}`;
    });
    if (Object.entries(cur).some(([k, v]) => v !== this.last[k])) this.movedAt = now;
    this.last = cur;
    this.lastAt = now;
    this.say(`  [${this.phase}] ${parts.join(', ')}; ${this.extra()}; load ${os.loadavg()[0].toFixed(1)}`);
    if (this.waiting && now - this.movedAt >= this.stallMs) {
      this.fail(new Error(`stalled: nothing moved for ${((now - this.movedAt) / 1000).toFixed(0)} s during ${this.phase} (${parts.join(', ')})`));
    }
  }
}
