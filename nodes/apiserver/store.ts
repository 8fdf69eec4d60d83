/**
 * One JetStream KV bucket per kind, with an in-memory cache fed by the bucket's own watch
 * (like kube-apiserver's watch cache). Reads are served from the cache; writes go to KV
 * with compare-and-set and return once the cache has seen them, so a client reads its own
 * writes and the watch event has been published before the reply.
 * `metadata.resourceVersion` is the KV revision of the entry.
 */
import type { JetStreamClient, KV, KvEntry } from 'nats';
import { decode, encode } from '../../protocol/codec.js';
import { ApiError } from '../../protocol/errors.js';
import { KINDS, type Kind } from '../../protocol/kinds.js';
import type { KubeObject, WatchEvent } from '../../protocol/objects.js';
import { MAX_OBJECT_BYTES } from '../../protocol/validation/index.js';
import { SortedKeys } from './sorted-keys.js';

interface Cached {
  obj: KubeObject;
  revision: number;
  /** Size of the stored (msgpack) value: what the object weighs in a reply. */
  bytes: number;
}

/** `encoded`: the event's object as msgpack (with its resourceVersion), when the store encoded it already. */
export type ChangeListener = (ev: WatchEvent, encoded?: Uint8Array) => void;

/** KV keys: `<namespace>.<name>` for namespaced kinds, `<name>` otherwise (names may hold dots, namespaces may not). */
export function objectKey(kind: Kind, namespace: string | undefined, name: string): string {
  return KINDS[kind].namespaced ? `${namespace}.${name}` : name;
}

export function bucketName(kind: Kind): string {
  return `kubeact_${KINDS[kind].plural}`;
}

export class KindStore {
  readonly kind: Kind;
  private kv!: KV;
  private readonly cache = new Map<string, Cached>();
  /** The cache's keys in list order: `namespace/name` (`/name` for cluster-scoped kinds). */
  private readonly listKeys = new SortedKeys();
  private appliedRevision = 0;
  /** Writers waiting for the watch to apply a revision, in revision order. */
  private readonly waiters: { revision: number; resolve: () => void }[] = [];
  /**
   * Objects that changed in this event-loop turn, with their encoding: the watch event and the
   * reply to the write that made the change reuse one encoding. Forgotten at the end of the
   * turn, so the cache holds no second copy of each object.
   */
  private readonly fresh = new Map<KubeObject, Uint8Array>();
  private freshSweep = false;
  private readonly listeners: ChangeListener[] = [];
  private stopped = false;

  constructor(kind: Kind) {
    this.kind = kind;
  }

  /** Opens (or creates) the bucket and loads every object before resolving. */
  async open(js: JetStreamClient): Promise<void> {
    this.kv = await js.views.kv(bucketName(this.kind), { history: 1, maxValueSize: MAX_OBJECT_BYTES + 64 * 1024 });
    let initialized!: () => void;
    const ready = new Promise<void>((r) => (initialized = r));
    const iter = await this.kv.watch({ initializedFn: () => initialized() });
    let live = false;
    void ready.then(() => (live = true));
    (async () => {
      for await (const entry of iter) {
        if (this.stopped) break;
        this.apply(entry, live);
      }
    })().catch(() => {});
    await ready;
    live = true;
    this.stopIter = () => iter.stop();
  }

  private stopIter: () => void = () => {};

  close(): void {
    this.stopped = true;
    this.stopIter();
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** The msgpack encoding of a cached object changed in this turn (undefined otherwise: encode it). */
  encodedOf(obj: unknown): Uint8Array | undefined {
    return this.fresh.get(obj as KubeObject);
  }

  private remember(obj: KubeObject, encoded: Uint8Array): void {
    this.fresh.set(obj, encoded);
    if (this.freshSweep) return;
    this.freshSweep = true;
    setImmediate(() => {
      this.freshSweep = false;
      this.fresh.clear();
    });
  }

  /** Calls `listener` on every change applied from now on; returns the unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private apply(entry: KvEntry, live: boolean): void {
    const previous = this.cache.get(entry.key);
    let ev: WatchEvent | undefined;
    if (entry.operation === 'DEL' || entry.operation === 'PURGE') {
      if (previous) {
        this.cache.delete(entry.key);
        this.listKeys.delete(this.listKeyOf(entry.key));
        const obj = structuredClone(previous.obj);
        obj.metadata = { ...obj.metadata, resourceVersion: String(entry.revision) };
        ev = { type: 'DELETED', object: obj };
      }
    } else {
      let obj: KubeObject;
      try {
        obj = decode<KubeObject>(entry.value);
      } catch {
        obj = undefined as unknown as KubeObject;
      }
      if (obj && typeof obj === 'object') {
        obj.metadata = { ...obj.metadata, resourceVersion: String(entry.revision) };
        this.cache.set(entry.key, { obj, revision: entry.revision, bytes: entry.value.length });
        if (!previous) this.listKeys.add(this.listKeyOf(entry.key));
        ev = { type: previous ? 'MODIFIED' : 'ADDED', object: obj };
      }
    }
    this.appliedRevision = Math.max(this.appliedRevision, entry.revision);
    if (ev && live) {
      let encoded: Uint8Array | undefined;
      if (ev.type !== 'DELETED') {
        encoded = encode(ev.object);
        this.remember(ev.object, encoded);
      }
      for (const l of this.listeners) l(ev, encoded);
    }
    let done = 0;
    while (done < this.waiters.length && this.waiters[done].revision <= this.appliedRevision) this.waiters[done++].resolve();
    if (done) this.waiters.splice(0, done);
  }

  /** Resolves when the cache has applied `revision` (our own write came back through the watch). */
  waitFor(revision: number): Promise<void> {
    if (revision <= this.appliedRevision || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.wait(revision, resolve));
  }

  /** Queues a waiter in revision order (almost always at the end: revisions only grow). */
  private wait(revision: number, resolve: () => void): void {
    let i = this.waiters.length;
    while (i > 0 && this.waiters[i - 1].revision > revision) i--;
    this.waiters.splice(i, 0, { revision, resolve });
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    const c = this.cache.get(objectKey(this.kind, namespace, name));
    return c ? structuredClone(c.obj) : undefined;
  }

  /** The cached object itself, uncopied: callers must not mutate it (get() gives a copy). */
  peek(namespace: string | undefined, name: string): Readonly<KubeObject> | undefined {
    return this.cache.get(objectKey(this.kind, namespace, name))?.obj;
  }

  /** Every cached object, unfiltered and uncopied: callers must not mutate. */
  all(): Iterable<KubeObject> {
    const it = this.cache.values();
    return (function* () {
      for (const c of it) yield c.obj;
    })();
  }

  /**
   * Cached objects in list order (`namespace/name`) from the list key `start` on (after it when
   * `exclusive`), uncopied: callers must not mutate.
   */
  *listFrom(start: string, exclusive = false): Generator<{ key: string } & Readonly<Cached>> {
    for (const key of this.listKeys.from(start, exclusive)) {
      const c = this.cache.get(this.cacheKeyOf(key));
      if (c) yield { key, ...c };
    }
  }

  /** How many objects there are in list order from `start` on (after it when `exclusive`). */
  countFrom(start: string, exclusive = false): number {
    return this.listKeys.countFrom(start, exclusive);
  }

  private listKeyOf(kvKey: string): string {
    if (!KINDS[this.kind].namespaced) return `/${kvKey}`;
    const dot = kvKey.indexOf('.');
    return `${kvKey.slice(0, dot)}/${kvKey.slice(dot + 1)}`;
  }

  private cacheKeyOf(listKey: string): string {
    if (!KINDS[this.kind].namespaced) return listKey.slice(1);
    const slash = listKey.indexOf('/');
    return `${listKey.slice(0, slash)}.${listKey.slice(slash + 1)}`;
  }

  /** Every cached object with its encoded size, uncopied: callers must not mutate. */
  entries(): IterableIterator<Readonly<Cached>> {
    return this.cache.values();
  }

  get revision(): number {
    return this.appliedRevision;
  }

  get size(): number {
    return this.cache.size;
  }

  /**
   * Stores a new object; AlreadyExists when the key is taken. `stored`: the object already
   * encoded for the store (storedBytes). Resolves with the cached object: callers must not mutate it.
   */
  async create(obj: KubeObject, stored = storedBytes(obj)): Promise<KubeObject> {
    const { namespace, name } = obj.metadata!;
    const key = objectKey(this.kind, namespace, name!);
    let rev: number;
    try {
      rev = await this.kv.create(key, stored);
    } catch (e) {
      if (isWrongSequence(e)) throw ApiError.alreadyExists(this.kind, name!);
      throw e;
    }
    await this.waitFor(rev);
    return this.cachedAt(key, rev) ?? withVersion(obj, rev);
  }

  /** Compare-and-set write: Conflict when `expectedRevision` is no longer the stored one. Resolves as create does. */
  async update(obj: KubeObject, expectedRevision: number, stored = storedBytes(obj)): Promise<KubeObject> {
    const { namespace, name } = obj.metadata!;
    const key = objectKey(this.kind, namespace, name!);
    let rev: number;
    try {
      rev = await this.kv.update(key, stored, expectedRevision);
    } catch (e) {
      if (isWrongSequence(e)) throw ApiError.conflict(this.kind, name!);
      throw e;
    }
    await this.waitFor(rev);
    return this.cachedAt(key, rev) ?? withVersion(obj, rev);
  }

  /** The cached object at `key`, if the cache holds the version `revision` or a later one. */
  private cachedAt(key: string, revision: number): KubeObject | undefined {
    const c = this.cache.get(key);
    return c && c.revision >= revision ? c.obj : undefined;
  }

  /** Resolves once the cache holds another version of the object than `revision` (or none), at most `timeoutMs` later. */
  async untilChanged(namespace: string | undefined, name: string, revision: number, timeoutMs = 5000): Promise<void> {
    const key = objectKey(this.kind, namespace, name);
    const deadline = Date.now() + timeoutMs;
    while (this.cache.get(key)?.revision === revision && Date.now() < deadline && !this.stopped) {
      await new Promise<void>((resolve) => this.wait(this.appliedRevision + 1, resolve));
    }
  }

  /** Removes an object, only if it is still at `expectedRevision`. */
  async remove(namespace: string | undefined, name: string, expectedRevision: number): Promise<void> {
    const key = objectKey(this.kind, namespace, name);
    try {
      await this.kv.delete(key, { previousSeq: expectedRevision });
    } catch (e) {
      if (isWrongSequence(e)) throw ApiError.conflict(this.kind, name);
      throw e;
    }
    // The delete marker's revision is unknown here: wait until the cache no longer holds the key.
    const deadline = Date.now() + 5000;
    while (this.cache.get(key)?.revision === expectedRevision && Date.now() < deadline && !this.stopped) {
      await new Promise<void>((resolve) => this.wait(this.appliedRevision + 1, resolve));
    }
  }
}

/** What the store keeps of an object: its msgpack encoding without resourceVersion (the KV revision is that). */
export function storedBytes(obj: KubeObject): Uint8Array {
  return encode(stripVersion(obj));
}

function stripVersion(obj: KubeObject): KubeObject {
  if (!obj.metadata?.resourceVersion) return obj;
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function withVersion(obj: KubeObject, rev: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rev) } };
}

function isWrongSequence(e: unknown): boolean {
  const msg = String((e as Error)?.message ?? '');
  const code = (e as { api_error?: { err_code?: number } })?.api_error?.err_code;
  return code === 10071 || msg.includes('wrong last sequence') || msg.includes('10071');
}

