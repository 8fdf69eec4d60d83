/**
 * Sends the scheduler's binds in batches: every bind asked for within one turn of the event
 * loop (the scheduler decides many pods per turn) goes out as one `bindMany` request, at most
 * `maxBatch` per request, and each caller gets its own binding's result. One request per
 * batch instead of one per pod: fewer messages, fewer replies, fewer NATS flushes.
 */
import type { ApiClient } from '../../protocol/client.js';
import type { BindRequest } from '../../protocol/messages.js';
import { MAX_BINDINGS_PER_REQUEST } from '../../protocol/messages.js';

interface Waiting {
  binding: BindRequest;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class BindBatcher {
  private waiting: Waiting[] = [];
  private flushScheduled = false;
  private readonly maxBatch: number;

  constructor(
    private readonly client: ApiClient,
    maxBatch = 250,
  ) {
    this.maxBatch = Math.max(1, Math.min(MAX_BINDINGS_PER_REQUEST, Math.floor(maxBatch)));
  }

  /** Resolves once the pod is bound; rejects with the ApiError `bind` would have thrown. */
  bind(binding: BindRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ binding, resolve, reject });
      if (this.waiting.length >= this.maxBatch) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.waiting.length) void this.send(this.waiting.splice(0, this.maxBatch));
  }

  private async send(batch: Waiting[]): Promise<void> {
    let errors: Awaited<ReturnType<ApiClient['bindMany']>>;
    try {
      errors = await this.client.bindMany(batch.map((w) => w.binding));
    } catch (e) {
      for (const w of batch) w.reject(e); // the whole request failed (timeout, no server): each bind is retried as a failed one
      return;
    }
    batch.forEach((w, i) => (errors[i] ? w.reject(errors[i]) : w.resolve()));
  }
}
