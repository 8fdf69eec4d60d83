/**
 * Sends the scheduler's binds in batches: every bind handed over within one turn of the event
 * loop (the machine hands over all the binds it decided in a step at once, and steps several
 * times per turn) goes out as one `bindMany` request, at most `maxBatch` per request. Each
 * reply is delivered as ONE list of results (each bind's success or error), which the host
 * sends to the machine as one `BIND_RESULTS` event: one request, one reply and one machine
 * step per batch instead of one each per pod.
 */
import type { BindPodInput, BindResult } from '../../actors/scheduler/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { MAX_BINDINGS_PER_REQUEST } from '../../protocol/messages.js';

/** The results of one request, in the order the binds were handed over; `seconds` from send to reply. */
export type DeliverResults = (results: BindResult[], seconds: number) => void;

export class BindBatcher {
  private waiting: BindPodInput[] = [];
  private flushScheduled = false;
  private readonly maxBatch: number;

  constructor(
    private readonly client: ApiClient,
    private readonly deliver: DeliverResults,
    maxBatch = 250,
  ) {
    this.maxBatch = Math.max(1, Math.min(MAX_BINDINGS_PER_REQUEST, Math.floor(maxBatch)));
  }

  /** Queues binds; their results come back through `deliver`, never thrown. */
  add(binds: readonly BindPodInput[]): void {
    for (const b of binds) this.waiting.push(b);
    if (this.waiting.length >= this.maxBatch) this.flush();
    else if (!this.flushScheduled && this.waiting.length) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.waiting.length) void this.send(this.waiting.splice(0, this.maxBatch));
  }

  private async send(batch: BindPodInput[]): Promise<void> {
    const started = performance.now();
    let errors: (unknown | undefined)[];
    try {
      errors = await this.client.bindMany(batch.map((b) => ({ namespace: b.namespace, name: b.name, uid: b.uid, nodeName: b.nodeName })));
    } catch (e) {
      errors = batch.map(() => e); // the whole request failed (timeout, no server): each bind is retried as a failed one
    }
    const seconds = (performance.now() - started) / 1000;
    this.deliver(
      batch.map((b, i) => (errors[i] === undefined ? b : { ...b, error: errors[i] })),
      seconds,
    );
  }
}
