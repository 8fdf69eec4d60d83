/**
 * A binary min-heap of store keys by expiry time: what the Event TTL sweeps (event-ttl.ts).
 * Each write of an object pushes an entry; an entry whose revision is no longer the stored one
 * is stale and skipped by the caller, so updates never search the heap.
 */
export interface Expiry {
  at: number;
  key: string;
  revision: number;
}

export class ExpiryHeap {
  private readonly items: Expiry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(e: Expiry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].at <= a[i].at) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  /** The earliest entry if it is due at `now`, removed from the heap. */
  popDue(now: number): Expiry | undefined {
    const a = this.items;
    if (!a.length || a[0].at > now) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].at < a[m].at) m = l;
        if (r < a.length && a[r].at < a[m].at) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
