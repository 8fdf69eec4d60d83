/**
 * The kubelet's local-storage eviction for emptyDir `sizeLimit`: every `intervalMs` (the
 * kubelet's housekeeping, 10 s by default) the emptyDirs with a sizeLimit are measured
 * (dir-usage.ts, at most `budget` entries per tick across all pods, walks resumed next tick
 * where they stopped) and a pod whose emptyDir uses more than its limit is evicted: Failed,
 * reason Evicted, its containers killed. `medium: Memory` counts the same way (here it is a
 * directory too).
 */
import { parseQuantity } from '../../protocol/quantity.js';
import type { Logger } from '../shared/logger.js';
import { DirUsageWalk } from './dir-usage.js';

export interface LimitedEmptyDir {
  name: string;
  /** The emptyDir's directory on the node. */
  path: string;
  /** `sizeLimit` as written in the pod (a quantity). */
  sizeLimit: string;
}

/** What the eviction check needs of a pod worker. */
export interface EvictionTarget {
  readonly uid: string;
  /** False once the pod is being deleted, evicted or finished. */
  readonly evictable: boolean;
  limitedEmptyDirs(): LimitedEmptyDir[];
  evict(reason: string, message: string): void;
}

export interface EmptyDirEvictionOptions {
  pods: () => Iterable<EvictionTarget>;
  intervalMs: number;
  /** Entries looked at per tick, over all pods. */
  budget?: number;
  logger: Logger;
}

/** The kubelet's message for an emptyDir over its limit (eviction_manager's emptyDirMessageFmt). */
export function emptyDirEvictionMessage(volume: string, sizeLimit: string): string {
  return `Usage of EmptyDir volume "${volume}" exceeds the limit "${sizeLimit}".`;
}

/** The emptyDir over its limit, if any (usage in bytes, as counted so far: a lower bound). */
export function overLimit(usage: number, sizeLimit: string): boolean {
  const limit = parseQuantity(sizeLimit);
  return limit !== undefined && usage > limit;
}

export class EmptyDirEviction {
  /** `<uid>/<volume>` → its walk, kept across ticks until it is done. */
  private readonly walks = new Map<string, DirUsageWalk>();
  /** Where the last tick ran out of budget: the next one starts there (no pod starves). */
  private cursor = '';
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly opts: EmptyDirEvictionOptions) {}

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    const loop = () => {
      this.running = this.tick()
        .catch((e) => this.opts.logger.warn({ err: (e as Error).message }, 'measuring emptyDir usage failed'))
        .finally(() => {
          this.running = undefined;
          if (this.timer) this.timer = setTimeout(loop, this.opts.intervalMs);
        });
    };
    this.timer = setTimeout(loop, this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round: measures within the budget and evicts the pods over a limit. */
  async tick(): Promise<void> {
    const dirs: { key: string; pod: EvictionTarget; dir: LimitedEmptyDir }[] = [];
    for (const pod of this.opts.pods()) {
      if (!pod.evictable) continue;
      for (const dir of pod.limitedEmptyDirs()) dirs.push({ key: `${pod.uid}/${dir.name}`, pod, dir });
    }
    const live = new Set(dirs.map((d) => d.key));
    for (const key of this.walks.keys()) if (!live.has(key)) this.walks.delete(key);
    // Resume after the one that was interrupted last time.
    const at = Math.max(0, dirs.findIndex((d) => d.key === this.cursor));
    const order = [...dirs.slice(at), ...dirs.slice(0, at)];
    let budget = this.opts.budget ?? 10_000;
    const evicted = new Set<string>();
    for (const { key, pod, dir } of order) {
      if (evicted.has(pod.uid)) continue;
      if (budget <= 0) {
        this.cursor = key;
        return;
      }
      let walk = this.walks.get(key);
      if (!walk) this.walks.set(key, (walk = new DirUsageWalk(dir.path)));
      const progress = await walk.step(budget);
      budget -= progress.visited;
      if (overLimit(progress.bytes, dir.sizeLimit)) {
        const message = emptyDirEvictionMessage(dir.name, dir.sizeLimit);
        this.opts.logger.info({ pod: pod.uid, volume: dir.name, bytes: progress.bytes, sizeLimit: dir.sizeLimit }, 'evicting pod: emptyDir over its sizeLimit');
        pod.evict('Evicted', message);
        evicted.add(pod.uid);
        this.walks.delete(key);
      } else if (progress.done) {
        this.walks.delete(key); // measured afresh next tick
      }
    }
    this.cursor = '';
  }
}
