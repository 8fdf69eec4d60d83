/**
 * Event creates of one process, coalesced: every Event any recorder of a client creates in an
 * event-loop turn goes in one `createMany` request (up to MAX_EVENTS_PER_REQUEST). A pod's
 * start makes four Events; sent one request each they were 4 of the API server's 6 requests
 * per pod, each with its reply carrying the whole Event back (docs/BENCHMARKS.md, cpthru2).
 * The Events stored, their watch events and what `kubeact get events` shows are the same.
 */
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject } from '../../protocol/objects.js';

/** Events per request: well under MAX_CREATES_PER_REQUEST and, at ~1 KB each, under NATS' payload limit. */
export const MAX_EVENTS_PER_REQUEST = 64;

interface Pending {
  obj: KubeObject;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class EventCreates {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly client: ApiClient) {}

  /** Resolves once the Event is stored; rejects with the error its create would have thrown. */
  create(obj: KubeObject): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ obj, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_EVENTS_PER_REQUEST) void this.send(all.slice(i, i + MAX_EVENTS_PER_REQUEST));
  }

  private async send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.sendOne(batch[0]);
    let results: (ApiError | undefined)[];
    try {
      results = await this.client.createMany('Event', batch.map((p) => p.obj));
    } catch (e) {
      // Long messages can outgrow one NATS message together: each goes on its own then.
      if (e instanceof ApiError && e.reason === Reason.RequestEntityTooLarge) return void (await Promise.all(batch.map((p) => this.sendOne(p))));
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => (results[i] ? p.reject(results[i]) : p.resolve()));
  }

  private async sendOne(p: Pending): Promise<void> {
    try {
      await this.client.create(p.obj);
      p.resolve();
    } catch (e) {
      p.reject(e);
    }
  }
}

const byClient = new WeakMap<ApiClient, EventCreates>();

/** The coalescer of a client's Event creates (one per client: recorders sharing a client share its requests). */
export function eventCreatesOf(client: ApiClient): EventCreates {
  let c = byClient.get(client);
  if (!c) byClient.set(client, (c = new EventCreates(client)));
  return c;
}
