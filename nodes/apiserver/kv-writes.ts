/**
 * Compare-and-set puts to one KV bucket, as nats.js' kv.create/kv.update send them (a publish to
 * `$KV.<bucket>.<key>` with the `Nats-Expected-Last-Subject-Sequence` header; JetStream answers
 * with a PubAck), without nats.js' per-request machinery: nc.request() builds a NatsError
 * (`Cancelled`, with its stack) for every answered request and a timer per request — 3% of the
 * control plane's CPU in the scale benchmark. Here every put of the bucket shares one reply
 * subscription and one timeout sweep. Works with nats-server 2.9 (no 2.10+ features).
 */
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from 'nats';
import { ApiError, Reason } from '../../protocol/errors.js';

/** JetStream's error code for "wrong last sequence": the compare-and-set found another revision. */
export const WRONG_LAST_SEQUENCE = 10071;

/** A put JetStream refused (or never answered): `errCode` is JetStream's err_code when it gave one. */
export class KvWriteError extends Error {
  constructor(
    message: string,
    readonly errCode?: number,
  ) {
    super(message);
  }
}

/** How long a put waits for its PubAck (nats.js' JetStream default). */
const PUT_TIMEOUT_MS = 5000;

/** Keys that are one valid subject suffix as they are (nats.js' kv key rule); others go through nats.js. */
const PLAIN_KEY = /^[-/=.\w]+$/;

interface Pending {
  resolve: (revision: number) => void;
  reject: (e: Error) => void;
  deadline: number;
  key: string;
}

export class KvWrites {
  private readonly inbox = createInbox();
  private readonly sub: Subscription;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private sweep?: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    readonly bucket: string,
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => err || this.answered(msg) });
  }

  /** Whether `key` can be put here (else use nats.js' kv, which encodes or refuses it). */
  static accepts(key: string): boolean {
    return PLAIN_KEY.test(key) && !key.startsWith('.') && !key.endsWith('.');
  }

  /**
   * Puts `data` at `key` only if the key's last revision is `expected` (0: the key has no
   * entry at all); resolves with the new revision.
   */
  put(key: string, data: Uint8Array, expected: number): Promise<number> {
    const token = String(this.next++);
    const h = headers();
    h.set('Nats-Expected-Last-Subject-Sequence', String(expected));
    return new Promise<number>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadline: Date.now() + PUT_TIMEOUT_MS, key });
      this.sweep ??= setInterval(() => this.expire(), 1000).unref();
      try {
        this.nc.publish(`$KV.${this.bucket}.${key}`, data, { reply: `${this.inbox}.${token}`, headers: h });
      } catch (e) {
        this.pending.delete(token);
        reject(e as Error);
      }
    });
  }

  /** Rejects every waiting put and stops listening. */
  close(): void {
    this.sub.unsubscribe();
    if (this.sweep) clearInterval(this.sweep);
    for (const p of this.pending.values()) p.reject(new ApiError(Reason.ServiceUnavailable, `the write of ${p.key} was cut off: the API server is stopping`));
    this.pending.clear();
  }

  private answered(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length + 1);
    const p = this.pending.get(token);
    if (!p) return; // timed out already, or not ours
    this.pending.delete(token);
    if (this.pending.size === 0 && this.sweep) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
    if (msg.headers?.code === 503) return p.reject(new KvWriteError(`no JetStream stream takes writes to bucket ${this.bucket}`));
    let ack: { seq?: unknown; error?: { err_code?: number; description?: string } };
    try {
      ack = JSON.parse(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('latin1'));
    } catch {
      return p.reject(new KvWriteError(`JetStream answered a write of ${p.key} with an unreadable acknowledgement`));
    }
    if (ack?.error) return p.reject(new KvWriteError(ack.error.description ?? 'JetStream refused the write', ack.error.err_code));
    if (typeof ack?.seq !== 'number') return p.reject(new KvWriteError(`JetStream acknowledged a write of ${p.key} without a sequence`));
    p.resolve(ack.seq);
  }

  private expire(): void {
    const now = Date.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(token);
      p.reject(new ApiError(Reason.Timeout, `the store did not acknowledge the write of ${p.key} within ${PUT_TIMEOUT_MS / 1000} s`));
    }
  }
}
