/**
 * Persisted actor snapshots (XState `getPersistedSnapshot()`), kept in a JetStream KV
 * bucket of their own, so a control plane killed mid-rollout resumes its actors where
 * they were. Writes are coalesced per actor: only the latest snapshot is ever written, and
 * at most one per `minIntervalMs` (longer for a snapshot slow to encode) per actor — a
 * ReplicaSet actor filling 1,000 pods changes on every pod event, and persisting its context
 * each time took half the control plane's CPU.
 * A snapshot up to that old is safe to restore: the actors reconcile it against the store.
 */
import type { JetStreamClient, KV } from 'nats';
import { decode, encode } from '../../protocol/codec.js';
import type { Logger } from '../shared/logger.js';

export const SNAPSHOT_BUCKET = 'kubeact_actor_snapshots';

export class SnapshotStore {
  private kv!: KV;
  private readonly pending = new Map<string, unknown>();
  private readonly writing = new Set<string>();
  /** Ends the pauses between writes of one key (flush: write everything now). */
  private readonly wakers = new Set<() => void>();
  private hurry = false;

  constructor(
    private readonly log: Logger,
    private readonly minIntervalMs = 1000,
  ) {}

  async open(js: JetStreamClient): Promise<void> {
    this.kv = await js.views.kv(SNAPSHOT_BUCKET, { history: 1 });
  }

  /** `kind.namespace.name` with characters KV keys do not allow replaced. */
  static key(kind: string, namespace: string | undefined, name: string): string {
    return [kind, namespace ?? '_', name].join('.').replace(/[^-/_=.a-zA-Z0-9]/g, '_');
  }

  async load<T = unknown>(key: string): Promise<T | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT' || !entry.value.length) return undefined;
    try {
      return decode<T>(entry.value);
    } catch {
      return undefined;
    }
  }

  /**
   * Queues the snapshot for `key`. A function is called only when the write happens: an actor
   * saves on every transition, and persisting (a copy of its whole context) only the one
   * written keeps a pod event from costing a copy of every pod the actor holds.
   */
  save(key: string, snapshot: unknown | (() => unknown)): void {
    this.pending.set(key, snapshot);
    if (!this.writing.has(key)) void this.flushKey(key);
  }

  async remove(key: string): Promise<void> {
    this.pending.delete(key);
    await this.kv.delete(key).catch(() => {});
  }

  private async flushKey(key: string): Promise<void> {
    this.writing.add(key);
    try {
      while (this.pending.has(key)) {
        const queued = this.pending.get(key);
        this.pending.delete(key);
        const started = Date.now();
        let encodingMs = 0;
        try {
          // JSON first: snapshots hold plain data only (no functions, no actor refs).
          const snap = typeof queued === 'function' ? queued() : queued;
          const bytes = encode(JSON.parse(JSON.stringify(snap)));
          encodingMs = Date.now() - started;
          await this.kv.put(key, bytes);
        } catch (e) {
          this.log.warn({ key, err: (e as Error).message }, 'snapshot not saved');
        }
        // A big snapshot waits longer: its writes take at most ~2% of the CPU.
        if (this.pending.has(key)) await this.pause(started + Math.max(this.minIntervalMs, 50 * encodingMs) - Date.now());
      }
    } finally {
      this.writing.delete(key);
    }
  }

  /** Waits `ms` before the next write of a key, unless flush() asks for everything now. */
  private pause(ms: number): Promise<void> {
    if (ms <= 0 || this.hurry) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** Resolves when every queued snapshot has been written (without the pauses between writes). */
  async flush(): Promise<void> {
    this.hurry = true;
    try {
      for (const wake of [...this.wakers]) wake();
      while (this.writing.size) await new Promise((r) => setTimeout(r, 5));
    } finally {
      this.hurry = false;
    }
  }
}
