/**
 * A shared, cached watch of one kind (client-go's informer, in small): list + watch into a
 * map, handlers called on every change, and two periodic safety nets, level-based:
 *  - resync (`resyncMs`): the cache is re-delivered, as client-go's resync does, to the
 *    handlers that want it (a handler that failed gets another go); a handler registered with
 *    `{ resync: false }` hears only changes (holding 100,000 pods, a re-delivery of every pod
 *    every 30 s to handlers that ignore unchanged objects is most of an idle control plane);
 *  - relist (over NATS, `relistMs`, and at once after a NATS reconnect, when watch events may
 *    have been lost): a paged list that delivers only what changed and removes what vanished —
 *    so a lost event is repaired within one relist.
 *
 * In the control-plane process the informers can read the API server's own cache instead
 * (`source`): no second decoded copy of every object, no relist, and events that cannot be
 * lost (they are delivered in the same process, in store order). Objects are then shared:
 * handlers and callers must not mutate what they get (write through the client instead).
 */
import type { ApiClient, Watch } from '../../protocol/client.js';
import type { Kind } from '../../protocol/kinds.js';
import type { KubeObject, WatchEvent } from '../../protocol/objects.js';
import type { Logger } from '../shared/logger.js';
import { RelistSchedule } from '../shared/relist-schedule.js';

export type InformerHandler<T> = {
  upsert?(obj: T): void;
  delete?(obj: T): void;
};

export interface InformerHandlerOptions {
  /** Re-delivered every object at each resync (default true); false: changes only. */
  resync?: boolean;
}

export interface InformerOptions {
  namespace?: string;
  /** Re-delivery of the cache to resync handlers, ms (default 30 s). */
  resyncMs?: number;
  /** Over NATS: a full (paged) relist this often, ms (default 5 min), besides one after each reconnect. */
  relistMs?: number;
  logger?: Logger;
  source?: InformerSource;
}

/** Objects per page of a relist: the API server answers a page without holding up other requests for long. */
const RELIST_PAGE = 500;

/** The API server's cache of one kind, read in-process (see nodes/controlplane/local-sources.ts). */
export interface InformerSource {
  peek(namespace: string | undefined, name: string): KubeObject | undefined;
  all(): Iterable<KubeObject>;
  /** Every change from now on, in store order; returns the unsubscribe. */
  subscribe(listener: (ev: WatchEvent) => void): () => void;
}

export function objectKey(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: (InformerHandler<T> & { resync: boolean })[] = [];
  private watch?: Watch;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private relisting?: Promise<void>;
  /** Over NATS: the periodic relist, and one after each reconnect. */
  private relists?: RelistSchedule;
  /** Keys the watch changed while a relist runs: its pages may be older than them (or miss them, behind the cursor). */
  private touched?: Set<string>;
  private stopped = false;
  /** Objects by namespace, kept from the first byNamespace() call on. */
  private nsIndex?: Map<string, Map<string, T>>;

  constructor(
    private readonly client: ApiClient,
    readonly kind: Kind,
    private readonly opts: InformerOptions = {},
  ) {}

  on(handler: InformerHandler<T>, opts: InformerHandlerOptions = {}): this {
    this.handlers.push({ upsert: handler.upsert?.bind(handler), delete: handler.delete?.bind(handler), resync: opts.resync ?? true });
    return this;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    const { source } = this.opts;
    if (source) return this.inScope(namespace) ? (source.peek(namespace, name) as T | undefined) : undefined;
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  list(filter?: (obj: T) => boolean): T[] {
    const out: T[] = [];
    for (const obj of this.objects()) if (!filter || filter(obj)) out.push(obj);
    return out;
  }

  /**
   * The objects of one namespace (uncopied), from an index kept once this is first called: a
   * handler that looks up, on every pod event, the Services or ReplicaSets of the pod's
   * namespace reads them without walking every object of the kind.
   */
  byNamespace(namespace: string | undefined): Iterable<T> {
    if (!this.nsIndex) {
      this.nsIndex = new Map();
      for (const obj of this.objects()) this.index('upsert', obj);
    }
    return this.nsIndex.get(namespace ?? '')?.values() ?? [];
  }

  private index(what: 'upsert' | 'delete', obj: T): void {
    const ns = obj.metadata?.namespace ?? '';
    let objs = this.nsIndex!.get(ns);
    if (what === 'upsert') {
      if (!objs) this.nsIndex!.set(ns, (objs = new Map()));
      objs.set(objectKey(obj), obj);
      return;
    }
    const key = objectKey(obj);
    const indexed = objs?.get(key);
    // A delete of an older object of the same name (its replacement indexed already) changes nothing.
    if (!indexed || (obj.metadata?.uid && indexed.metadata?.uid && indexed.metadata.uid !== obj.metadata.uid)) return;
    objs!.delete(key);
    if (objs!.size === 0) this.nsIndex!.delete(ns);
  }

  async start(): Promise<void> {
    const { source } = this.opts;
    if (source) {
      // Subscribe and read the cache in one turn: nothing can change in between.
      this.unsubscribe = source.subscribe((ev) => {
        if (!this.inScope(ev.object.metadata?.namespace)) return;
        this.deliver(ev.type === 'DELETED' ? 'delete' : 'upsert', ev.object as T);
      });
      for (const obj of this.objects()) this.deliver('upsert', obj);
    } else {
      // Its own relist (RelistSchedule) repairs what an API server restart lost.
      this.watch = await this.client.watch<T>(this.kind, { namespace: this.opts.namespace, relistOnApiServerStart: false }, (ev) => {
        this.touched?.add(objectKey(ev.object));
        if (ev.type === 'DELETED') this.remove(ev.object);
        else this.put(ev.object);
      });
      this.relists = new RelistSchedule({
        nc: this.client.nc,
        periodMs: this.opts.relistMs ?? 300_000,
        relist: () => this.relist(),
        onError: (e, retryInMs) => this.opts.logger?.warn({ kind: this.kind, err: e.message, retryInMs }, 'relist failed'),
      });
    }
    const resync = () => {
      if (this.stopped) return;
      this.redeliver();
      this.timer = setTimeout(resync, this.opts.resyncMs ?? 30_000);
    };
    this.timer = setTimeout(resync, this.opts.resyncMs ?? 30_000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.relists?.stop();
    this.watch?.stop();
    this.unsubscribe?.();
  }

  private *objects(): Iterable<T> {
    const { source } = this.opts;
    if (!source) return yield* this.cache.values();
    for (const obj of source.all()) if (this.inScope(obj.metadata?.namespace)) yield obj as T;
  }

  private inScope(namespace: string | undefined): boolean {
    return !this.opts.namespace || namespace === this.opts.namespace;
  }

  /** A handler that throws must not stop the others (nor, in-process, the API server's store). */
  private deliver(what: 'upsert' | 'delete', obj: T, resyncOnly = false): void {
    if (this.nsIndex && !resyncOnly) this.index(what, obj);
    for (const h of this.handlers) {
      if (resyncOnly && !h.resync) continue;
      try {
        h[what]?.(obj);
      } catch (e) {
        this.opts.logger?.error({ kind: this.kind, err: e }, `informer ${what} handler failed`);
      }
    }
  }

  private put(obj: T): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (old && Number(old.metadata?.resourceVersion) > Number(obj.metadata?.resourceVersion)) return; // an older copy
    this.cache.set(key, obj);
    this.deliver('upsert', obj);
  }

  private remove(obj: T): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (old && old.metadata?.uid !== obj.metadata?.uid) return; // a newer object of the same name replaced it
    this.cache.delete(key);
    this.deliver('delete', old ?? obj);
  }

  /** Level-based resync: every object again to the handlers that want it, nothing copied. */
  private redeliver(): void {
    if (!this.handlers.some((h) => h.resync)) return;
    for (const obj of this.list()) this.deliver('upsert', obj, true);
  }

  /** One relist at a time (a reconnect during the periodic one joins it). */
  private relist(): Promise<void> {
    this.relisting ??= this.relistPages().finally(() => (this.relisting = undefined));
    return this.relisting;
  }

  /** Delivers what changed since the cache saw it and removes what is gone; unchanged objects are left alone. */
  private async relistPages(): Promise<void> {
    const seen = new Set<string>();
    const touched = (this.touched = new Set<string>());
    try {
      let cont: string | undefined;
      do {
        const page = await this.client.list<T>(this.kind, { namespace: this.opts.namespace, limit: RELIST_PAGE, continue: cont });
        for (const obj of page.items) {
          const key = objectKey(obj);
          seen.add(key);
          if (touched.has(key)) continue;
          const old = this.cache.get(key);
          if (!(old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion && old.metadata?.uid === obj.metadata?.uid)) this.put(obj);
        }
        cont = page.metadata?.continue;
      } while (cont && !this.stopped);
      if (this.stopped) return;
      for (const [key, obj] of [...this.cache]) if (!seen.has(key) && !touched.has(key)) this.remove(obj);
    } finally {
      this.touched = undefined;
    }
  }
}
