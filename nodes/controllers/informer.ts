/**
 * A shared, cached watch of one kind (client-go's informer, in small): list + watch into a
 * map, handlers called on every change, and a periodic resync that re-delivers every object
 * (level-based: a handler that failed gets another go) and, over NATS, relists to remove what
 * vanished — so a lost event is repaired within one resync.
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

export type InformerHandler<T> = {
  upsert?(obj: T): void;
  delete?(obj: T): void;
};

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
  private readonly handlers: InformerHandler<T>[] = [];
  private watch?: Watch;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    readonly kind: Kind,
    private readonly opts: { namespace?: string; resyncMs?: number; logger?: Logger; source?: InformerSource } = {},
  ) {}

  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
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
      this.watch = await this.client.watch<T>(this.kind, { namespace: this.opts.namespace }, (ev) => {
        if (ev.type === 'DELETED') this.remove(ev.object);
        else this.put(ev.object);
      });
    }
    const resync = async () => {
      if (this.stopped) return;
      try {
        if (source) this.redeliver();
        else await this.relist();
      } catch (e) {
        this.opts.logger?.warn({ kind: this.kind, err: (e as Error).message }, 'resync failed');
      }
      if (!this.stopped) this.timer = setTimeout(resync, this.opts.resyncMs ?? 30_000);
    };
    this.timer = setTimeout(resync, this.opts.resyncMs ?? 30_000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
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
  private deliver(what: 'upsert' | 'delete', obj: T): void {
    for (const h of this.handlers) {
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

  /** Level-based resync of an in-process informer: every object again, nothing copied. */
  private redeliver(): void {
    for (const obj of this.list()) this.deliver('upsert', obj);
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<T>(this.kind, { namespace: this.opts.namespace });
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      // Unchanged: keep the copy we hold (the listed one dies young instead of replacing an old one).
      if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion && old.metadata?.uid === obj.metadata?.uid) this.deliver('upsert', old);
      else this.put(obj);
    }
    for (const [key, obj] of [...this.cache]) if (!seen.has(key)) this.remove(obj);
  }
}
