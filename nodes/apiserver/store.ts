/**
 * One JetStream KV bucket per kind, with an in-memory cache fed by the bucket's own watch
 * (like kube-apiserver's watch cache). Reads are served from the cache; writes go to KV
 * with compare-and-set and return once the cache has seen them, so a client reads its own
 * writes and the watch event has been published before the reply.
 * `metadata.resourceVersion` is the KV revision of the entry.
 */
import type { JetStreamClient, KV, KvEntry, NatsConnection } from 'nats';
import { decode, encode, withFieldEntry } from '../../protocol/codec.js';
import { ApiError } from '../../protocol/errors.js';
import { KINDS, type Kind } from '../../protocol/kinds.js';
import type { KubeObject, WatchEvent } from '../../protocol/objects.js';
import { MAX_OBJECT_BYTES } from '../../protocol/validation/index.js';
import { SortedKeys } from './sorted-keys.js';
import { ExpiryHeap } from './expiry-heap.js';
import { KvWriteError, KvWrites, WRONG_LAST_SEQUENCE } from './kv-writes.js';

interface Cached {
  readonly obj: KubeObject;
  revision: number;
  /** Size of the stored (msgpack) value: what the object weighs in a reply. */
  bytes: number;
}

/**
 * A cached object kept as its stored bytes (a latin1 string: on the V8 heap, one byte per
 * byte), decoded on each read: an Event is 0.6 KB this way against 1.7 KB decoded. For kinds
 * that are many and rarely read (Events); every read gets its own copy.
 */
class PackedCached implements Cached {
  private readonly packed: string;
  constructor(
    value: Uint8Array,
    readonly revision: number,
  ) {
    this.packed = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  }
  get bytes(): number {
    return this.packed.length;
  }
  contains(strings: readonly string[]): boolean {
    return strings.every((v) => this.packed.includes(v));
  }
  get obj(): KubeObject {
    const obj = decode<KubeObject>(Buffer.from(this.packed, 'latin1'));
    obj.metadata = { ...obj.metadata, resourceVersion: String(this.revision) };
    return obj;
  }
}

/** A write in flight (see KindStore.written); `applied`: the cached version it became. */
interface Written {
  readonly obj: KubeObject;
  readonly stored: Uint8Array;
  applied?: KubeObject;
}

export interface ExpiredObject {
  key: string;
  namespace?: string;
  name: string;
  revision: number;
}

/** String fields whose selected value appears verbatim in an object's msgpack bytes (printable ASCII). */
const STRING_FIELDS = new Set(['metadata.name', 'metadata.namespace', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid', 'involvedObject.kind', 'reason', 'type', 'source.component']);

/** The values of a field selector that a packed object's bytes must contain to match (see entries()). */
export function packedHints(fields: readonly { path: string; value: string; negate: boolean }[]): string[] {
  return fields.filter((f) => !f.negate && f.value && STRING_FIELDS.has(f.path) && /^[\x20-\x7e]+$/.test(f.value)).map((f) => f.value);
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
  /** Creates and updates without nats.js' per-request cost (kv-writes.ts), when opened with the connection. */
  private writes?: KvWrites;
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
  /**
   * What this server is writing, by key: the object and its stored bytes. When the watch brings
   * back an entry with these very bytes, the cache takes the object instead of decoding them.
   */
  private readonly written = new Map<string, Written>();
  private readonly listeners: ChangeListener[] = [];
  private stopped = false;
  private expiry?: { heap: ExpiryHeap; at: (obj: KubeObject) => number };

  /** `packed`: keep objects as their stored bytes, decoded on read (PackedCached). */
  constructor(
    kind: Kind,
    private readonly opts: { packed?: boolean } = {},
  ) {
    this.kind = kind;
  }

  /** Opens (or creates) the bucket and loads every object before resolving; `nc`: the connection `js` is of, for kv-writes.ts. */
  async open(js: JetStreamClient, nc?: NatsConnection): Promise<void> {
    this.kv = await js.views.kv(bucketName(this.kind), { history: 1, maxValueSize: MAX_OBJECT_BYTES + 64 * 1024 });
    if (nc) this.writes = new KvWrites(nc, bucketName(this.kind));
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
    this.writes?.close();
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

  /**
   * Index every object written from now on (and those loaded at open) by `at(obj)`, for
   * takeExpired(). Set before open() so the objects already stored are indexed too.
   */
  expireBy(at: (obj: KubeObject) => number): void {
    this.expiry = { heap: new ExpiryHeap(), at };
  }

  /** Up to `max` objects whose expiry time has come, at their current revision (stale index entries skipped). */
  takeExpired(now: number, max: number): ExpiredObject[] {
    const out: ExpiredObject[] = [];
    const heap = this.expiry?.heap;
    while (heap && out.length < max) {
      const e = heap.popDue(now);
      if (!e) break;
      if (this.cache.get(e.key)?.revision !== e.revision) continue; // rewritten since (re-indexed) or gone
      const dot = e.key.indexOf('.');
      out.push(KINDS[this.kind].namespaced ? { ...e, namespace: e.key.slice(0, dot), name: e.key.slice(dot + 1) } : { ...e, name: e.key });
    }
    return out;
  }

  /** Puts a taken object back into the expiry index (its delete failed), due at `at`. */
  expireAgain(e: ExpiredObject, at: number): void {
    if (this.cache.get(e.key)?.revision === e.revision) this.expiry?.heap.push({ at, key: e.key, revision: e.revision });
  }

  private apply(entry: KvEntry, live: boolean): void {
    const previous = this.cache.get(entry.key);
    let ev: WatchEvent | undefined;
    let encoded: Uint8Array | undefined;
    if (entry.operation === 'DEL' || entry.operation === 'PURGE') {
      if (previous) {
        this.cache.delete(entry.key);
        this.listKeys.delete(this.listKeyOf(entry.key));
        const obj = previous instanceof PackedCached ? previous.obj : structuredClone(previous.obj);
        obj.metadata = { ...obj.metadata, resourceVersion: String(entry.revision) };
        ev = { type: 'DELETED', object: obj };
      }
    } else {
      const obj = this.objectOf(entry);
      if (obj) {
        this.cache.set(entry.key, this.opts.packed ? new PackedCached(entry.value, entry.revision) : { obj, revision: entry.revision, bytes: entry.value.length });
        this.expiry?.heap.push({ at: this.expiry.at(obj), key: entry.key, revision: entry.revision });
        if (!previous) this.listKeys.add(this.listKeyOf(entry.key));
        ev = { type: previous ? 'MODIFIED' : 'ADDED', object: obj };
        if (live) {
          // The stored bytes with the resourceVersion spliced in: the event and the reply need no encode.
          encoded = withFieldEntry(entry.value, 'metadata', 'resourceVersion', obj.metadata!.resourceVersion!) ?? encode(obj);
          this.remember(obj, encoded);
        }
      }
    }
    this.appliedRevision = Math.max(this.appliedRevision, entry.revision);
    if (ev && live) {
      for (const l of this.listeners) {
        try {
          l(ev, encoded);
        } catch {
          // A listener's failure must not end this watch: every later write would wait for it forever.
        }
      }
    }
    let done = 0;
    while (done < this.waiters.length && this.waiters[done].revision <= this.appliedRevision) this.waiters[done++].resolve();
    if (done) this.waiters.splice(0, done);
  }

  /**
   * The object an entry holds, with its resourceVersion: the one this server wrote when the
   * bytes are the ones it wrote (no decode), else decoded; undefined for garbage (which leaves
   * the cache as it was).
   */
  private objectOf(entry: KvEntry): KubeObject | undefined {
    const mine = this.written.get(entry.key);
    if (mine && Buffer.compare(mine.stored, entry.value) === 0) {
      this.written.delete(entry.key);
      return (mine.applied = withVersion(mine.obj, entry.revision));
    }
    let obj: KubeObject;
    try {
      obj = decode<KubeObject>(entry.value);
    } catch {
      return undefined;
    }
    // Garbage (not an object stored under its own key) is not an object of this kind.
    const meta = obj?.metadata;
    if (!meta || typeof meta !== 'object' || typeof meta.name !== 'string' || objectKey(this.kind, meta.namespace, meta.name) !== entry.key) return undefined;
    obj.metadata = { ...meta, resourceVersion: String(entry.revision) };
    return obj;
  }

  /**
   * Runs a write (`put`) of `obj` as `stored` to `key`, remembered (see `written`) while in
   * flight; resolves once the cache has applied it, with the written version as cached (a
   * packed kind's cache would decode it again).
   */
  private async writing(key: string, obj: KubeObject, stored: Uint8Array, put: () => Promise<number>): Promise<KubeObject> {
    const mine: Written = { obj, stored };
    this.written.set(key, mine);
    let rev: number;
    try {
      rev = await put();
    } catch (e) {
      if (this.written.get(key) === mine) this.written.delete(key);
      throw e;
    }
    await this.waitFor(rev);
    if (mine.applied?.metadata?.resourceVersion === String(rev)) return mine.applied;
    return this.cachedAt(key, rev) ?? withVersion(obj, rev);
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
    if (!c) return undefined;
    return c instanceof PackedCached ? c.obj : structuredClone(c.obj);
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
  *listFrom(start: string, exclusive = false, mustContain: readonly string[] = []): Generator<{ key: string; cached: Readonly<Cached> }> {
    const hints = this.opts.packed && mustContain.length > 0;
    for (const key of this.listKeys.from(start, exclusive)) {
      const c = this.cache.get(this.cacheKeyOf(key));
      if (!c) continue;
      // A packed object whose bytes lack a selected value cannot match: skipped undecoded (see entries()).
      if (hints && c instanceof PackedCached && !c.contains(mustContain)) continue;
      yield { key, cached: c };
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

  /**
   * Every cached object with its encoded size, uncopied: callers must not mutate. `mustContain`
   * (packedHints) skips packed objects whose bytes lack one of these strings, without decoding
   * them: a superset of the matches, which the caller still filters.
   */
  entries(mustContain: readonly string[] = []): Iterable<Readonly<Cached>> {
    if (!this.opts.packed || !mustContain.length) return this.cache.values();
    const it = this.cache.values();
    return (function* () {
      for (const c of it) if (!(c instanceof PackedCached) || c.contains(mustContain)) yield c;
    })();
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
    try {
      return await this.writing(key, obj, stored, () => this.putNew(key, stored));
    } catch (e) {
      if (isWrongSequence(e)) throw ApiError.alreadyExists(this.kind, name!);
      throw e;
    }
  }

  /** Compare-and-set write: Conflict when `expectedRevision` is no longer the stored one. Resolves as create does. */
  async update(obj: KubeObject, expectedRevision: number, stored = storedBytes(obj)): Promise<KubeObject> {
    const { namespace, name } = obj.metadata!;
    const key = objectKey(this.kind, namespace, name!);
    try {
      return await this.writing(key, obj, stored, () => (this.writes && KvWrites.accepts(key) ? this.writes.put(key, stored, expectedRevision) : this.kv.update(key, stored, expectedRevision)));
    } catch (e) {
      if (isWrongSequence(e)) throw ApiError.conflict(this.kind, name!);
      throw e;
    }
  }

  /** Puts a key that has no value: a wrong sequence is a taken key, or a deleted one's marker (nats.js' kv.create then updates it). */
  private async putNew(key: string, data: Uint8Array): Promise<number> {
    if (!this.writes || !KvWrites.accepts(key)) return this.kv.create(key, data);
    try {
      return await this.writes.put(key, data, 0);
    } catch (e) {
      if (isWrongSequence(e)) return this.kv.create(key, data);
      throw e;
    }
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
    // The delete marker's revision is unknown here: wait until the cache no longer holds that version.
    await this.untilChanged(namespace, name, expectedRevision);
  }
}

/** What the store keeps of an object: its msgpack encoding without resourceVersion (the KV revision is that). */
export function storedBytes(obj: KubeObject): Uint8Array {
  return encode(stripVersion(obj));
}

function stripVersion(obj: KubeObject): KubeObject {
  if (!obj.metadata || !('resourceVersion' in obj.metadata)) return obj;
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** `obj` at revision `rev`: resourceVersion last in metadata, as an object decoded from the store gets it. */
function withVersion(obj: KubeObject, rev: number): KubeObject {
  const { resourceVersion: _rv, ...rest } = obj.metadata ?? {};
  const metadata: NonNullable<KubeObject['metadata']> = rest;
  metadata.resourceVersion = String(rev);
  return { ...obj, metadata };
}

function isWrongSequence(e: unknown): boolean {
  if (e instanceof KvWriteError) return e.errCode === WRONG_LAST_SEQUENCE;
  const msg = String((e as Error)?.message ?? '');
  const code = (e as { api_error?: { err_code?: number } })?.api_error?.err_code;
  return code === 10071 || msg.includes('wrong last sequence') || msg.includes('10071');
}

