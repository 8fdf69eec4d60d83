/**
 * A shared, cached watch of one kind (client-go's informer, in small): list + watch into a
 * map, handlers called on every change, and a periodic relist that re-delivers every
 * object and removes what vanished — so a lost event is repaired within one resync.
 */
import type { ApiClient, Watch } from '../../protocol/client.js';
import type { Kind } from '../../protocol/kinds.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { Logger } from '../shared/logger.js';

export type InformerHandler<T> = {
  upsert?(obj: T): void;
  delete?(obj: T): void;
};

export function objectKey(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private watch?: Watch;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    readonly kind: Kind,
    private readonly opts: { namespace?: string; resyncMs?: number; logger?: Logger } = {},
  ) {}

  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  list(filter?: (obj: T) => boolean): T[] {
    const out: T[] = [];
    for (const obj of this.cache.values()) if (!filter || filter(obj)) out.push(obj);
    return out;
  }

  async start(): Promise<void> {
    this.watch = await this.client.watch<T>(this.kind, { namespace: this.opts.namespace }, (ev) => {
      if (ev.type === 'DELETED') this.remove(ev.object);
      else this.put(ev.object);
    });
    const resync = async () => {
      if (this.stopped) return;
      try {
        await this.relist();
      } catch (e) {
        this.opts.logger?.warn({ kind: this.kind, err: (e as Error).message }, 'relist failed');
      }
      if (!this.stopped) this.timer = setTimeout(resync, this.opts.resyncMs ?? 30_000);
    };
    this.timer = setTimeout(resync, this.opts.resyncMs ?? 30_000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watch?.stop();
  }

  private put(obj: T): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (old && Number(old.metadata?.resourceVersion) > Number(obj.metadata?.resourceVersion)) return; // an older copy
    this.cache.set(key, obj);
    for (const h of this.handlers) h.upsert?.(obj);
  }

  private remove(obj: T): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (old && old.metadata?.uid !== obj.metadata?.uid) return; // a newer object of the same name replaced it
    this.cache.delete(key);
    for (const h of this.handlers) h.delete?.(old ?? obj);
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<T>(this.kind, { namespace: this.opts.namespace });
    const seen = new Set<string>();
    for (const obj of list.items) {
      seen.add(objectKey(obj));
      this.put(obj);
    }
    for (const [key, obj] of [...this.cache]) if (!seen.has(key)) this.remove(obj);
  }
}
