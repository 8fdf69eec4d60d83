/**
 * client-go's EventCorrelator, pure (time passed in): decides, for each Event a component is
 * about to record, whether it is spam (dropped), one of many similar Events (folded into one
 * "(combined from similar events)" Event) and under which key repeats bump one Event's count.
 *  - spam filter: a token bucket per source + object + type + reason, 25 Events at once and
 *    then one per 5 minutes (EventSourceObjectSpamFilter's defaults);
 *  - aggregation: the 10th distinct message for the same source + object + type + reason within
 *    10 minutes, and every one after, becomes the combined Event (EventAggregator's defaults);
 *  - dedup key: source + object + type + reason + message (getEventKey).
 * Each cache is an LRU of `cacheSize` keys, as client-go's.
 */
export interface CorrelatorOptions {
  burst?: number;
  /** Tokens per ms refilled in the spam filter's bucket (default one per 300 s). */
  refillPerMs?: number;
  maxSimilar?: number;
  similarWindowMs?: number;
  cacheSize?: number;
}

export interface CorrelatorInput {
  /** Who records: component and host (source). */
  source: string;
  /** The involved object: kind, namespace, name, uid. */
  object: string;
  type: string;
  reason: string;
  message: string;
}

export type Correlation = { drop: true } | { drop: false; key: string; message: string };

export const COMBINED_PREFIX = '(combined from similar events): ';

class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
}

export class EventCorrelator {
  private readonly burst: number;
  private readonly refillPerMs: number;
  private readonly maxSimilar: number;
  private readonly similarWindowMs: number;
  private readonly buckets: Lru<{ tokens: number; at: number }>;
  /** Distinct messages per group, as 32-bit hashes (a kubelet keeps one per pod and reason). */
  private readonly similar: Lru<{ messages: Set<number>; at: number }>;

  constructor(opts: CorrelatorOptions = {}) {
    this.burst = opts.burst ?? 25;
    this.refillPerMs = opts.refillPerMs ?? 1 / 300_000;
    this.maxSimilar = opts.maxSimilar ?? 10;
    this.similarWindowMs = opts.similarWindowMs ?? 600_000;
    this.buckets = new Lru(opts.cacheSize ?? 4096);
    this.similar = new Lru(opts.cacheSize ?? 4096);
  }

  correlate(e: CorrelatorInput, now: number): Correlation {
    const group = `${e.source}|${e.object}|${e.type}|${e.reason}`;
    // Spam filter first, as client-go: a dropped Event neither bumps nor aggregates.
    const b = this.buckets.get(group) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * this.refillPerMs);
    b.at = now;
    this.buckets.set(group, b);
    if (b.tokens < 1) return { drop: true };
    b.tokens -= 1;

    let s = this.similar.get(group);
    if (!s || now - s.at > this.similarWindowMs) s = { messages: new Set(), at: now };
    s.at = now;
    s.messages.add(fnv1a(e.message));
    this.similar.set(group, s);
    if (s.messages.size < this.maxSimilar) return { drop: false, key: `${group}|${e.message}`, message: e.message };
    return { drop: false, key: group, message: COMBINED_PREFIX + e.message };
  }
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
